/* SPDX-License-Identifier: MIT */
/* tailkitctl metrics [SECTION]: /integrations/metrics/<section>. */

#include <inttypes.h>

#include "api.h"
#include "args.h"
#include "json-util.h"
#include "macro.h"
#include "progress.h"
#include "table.h"

static const char *const sections[] = { "host", "cpu", "memory", "disk", "network", "processes" };

static const char *bytes(json_object *o, const char *key, char *buf, size_t size) {
        json_object *v = json_get(o, key);
        if (!v)
                return NULL;
        format_bytes((uint64_t) json_object_get_int64(v), buf, size);
        return buf;
}

static const char *pct(json_object *o, const char *key, char *buf, size_t size) {
        json_object *v = json_get(o, key);
        if (!v)
                return NULL;
        snprintf(buf, size, "%.1f%%", json_object_get_double(v));
        return buf;
}

static void print_host(Ctx *c, json_object *o) {
        _cleanup_(table_freep) Table *t = table_new("HOST", "", NULL);
        static const char *keys[] = { "hostname", "os", "platform", "platformVersion", "kernelVersion",
                                      "kernelArch", "virtualizationSystem", "uptime", "procs" };
        if (!t)
                return;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                json_object *v = json_get(o, keys[i]);
                if (v)
                        table_add(t, keys[i], json_object_get_string(v));
        }
        table_print(t, c->out);
}

static void print_cpu(Ctx *c, json_object *o) {
        _cleanup_(table_freep) Table *t = table_new("CPU", "BUSY", "MODEL", NULL);
        json_object *per = json_get(o, "percent_per_cpu"), *info = json_get(o, "info");
        char buf[32];

        if (!t)
                return;
        for (size_t i = 0; per && json_object_is_type(per, json_type_array) && i < json_object_array_length(per); i++) {
                char name[24];
                json_object *in = info && json_object_is_type(info, json_type_array) ? json_object_array_get_idx(info, i) : NULL;
                snprintf(name, sizeof name, "%zu", i);
                snprintf(buf, sizeof buf, "%.1f%%", json_object_get_double(json_object_array_get_idx(per, i)));
                table_add(t, name, buf, json_str(in, "modelName"));
        }
        table_add(t, "total", pct(o, "percent_total", buf, sizeof buf), NULL);
        table_print(t, c->out);
}

static void print_memory(Ctx *c, json_object *o) {
        _cleanup_(table_freep) Table *t = table_new("MEMORY", "TOTAL", "USED", "AVAILABLE", "USE%", NULL);
        json_object *v = json_get(o, "virtual"), *s = json_get(o, "swap");
        char a[32], b[32], d[32], e[32];

        if (!t)
                return;
        table_add(t, "ram", bytes(v, "total", a, sizeof a), bytes(v, "used", b, sizeof b),
                  bytes(v, "available", d, sizeof d), pct(v, "usedPercent", e, sizeof e));
        if (s && json_object_is_type(s, json_type_object))
                table_add(t, "swap", bytes(s, "total", a, sizeof a), bytes(s, "used", b, sizeof b),
                          bytes(s, "free", d, sizeof d), pct(s, "usedPercent", e, sizeof e));
        table_print(t, c->out);
}

static void print_disk(Ctx *c, json_object *o) {
        _cleanup_(table_freep) Table *t = table_new("PATH", "FSTYPE", "SIZE", "USED", "FREE", "USE%", NULL);
        char a[32], b[32], d[32], e[32];

        if (!t || !json_object_is_type(o, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *u = json_object_array_get_idx(o, i);
                if (json_str(u, "error"))
                        table_add(t, json_str(u, "path"), "-", "-", "-", "-", json_str(u, "error"));
                else
                        table_add(t, json_str(u, "path"), json_str(u, "fstype"), bytes(u, "total", a, sizeof a),
                                  bytes(u, "used", b, sizeof b), bytes(u, "free", d, sizeof d),
                                  pct(u, "usedPercent", e, sizeof e));
        }
        table_print(t, c->out);
}

static void print_network(Ctx *c, json_object *o) {
        _cleanup_(table_freep) Table *t = table_new("INTERFACE", "RECEIVED", "SENT", "ERRORS IN/OUT", NULL);
        char a[32], b[32], e[64];

        if (!t || !json_object_is_type(o, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *n = json_object_array_get_idx(o, i);
                snprintf(e, sizeof e, "%" PRId64 "/%" PRId64, json_int(n, "errin", 0), json_int(n, "errout", 0));
                table_add(t, json_str(n, "name"), bytes(n, "bytesRecv", a, sizeof a), bytes(n, "bytesSent", b, sizeof b), e);
        }
        table_print(t, c->out);
}

static void print_processes(Ctx *c, json_object *o) {
        _cleanup_(table_freep) Table *t = table_new("PID", "NAME", "STATUS", "CPU%", "RSS", NULL);
        char pid[24], cpu[32], rss[32];

        if (!t || !json_object_is_type(o, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *p = json_object_array_get_idx(o, i);
                snprintf(pid, sizeof pid, "%" PRId64, json_int(p, "pid", 0));
                table_add(t, pid, json_str(p, "name"), json_str(p, "status"), pct(p, "cpu_percent", cpu, sizeof cpu),
                          bytes(p, "memory_rss_bytes", rss, sizeof rss));
        }
        table_print(t, c->out);
}

static void print_section(Ctx *c, const char *section, json_object *o) {
        void (*const printers[])(Ctx *, json_object *) = {
                print_host, print_cpu, print_memory, print_disk, print_network, print_processes,
        };
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (streq(sections[i], section))
                        printers[i](c, o);
}

int cmd_metrics(Ctx *c, int argc, char **argv) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_free_ char *path = NULL;
        const char *section;
        bool known = false;
        Args a;
        int r;

        r = args_parse(c, "metrics", argc, argv, NULL, 0, &a);
        if (r != 0)
                return r;
        if (a.n > 1)
                return command_usage_error(c, "metrics", "at most one section");
        section = a.n ? a.pos[0] : "all";
        known = streq(section, "all");
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                known = known || streq(section, sections[i]);
        if (!known)
                return command_usage_error(c, "metrics", "unknown section \"%s\"", section);
        if (asprintf(&path, "/integrations/metrics/%s", section) < 0)
                return EXIT_FAILURE_LOCAL;
        r = api_get_json(c, path, &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        if (!streq(section, "all")) {
                print_section(c, section, o);
                return 0;
        }
        for (size_t i = 0, shown = 0; i < ELEMENTSOF(sections); i++) {
                json_object *s = json_get(o, sections[i]);
                if (!s)
                        continue;
                if (shown++)
                        fputc('\n', c->out);
                print_section(c, sections[i], s);
        }
        return 0;
}
