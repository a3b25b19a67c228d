/* SPDX-License-Identifier: MIT */
#include <strings.h>
#include <sys/un.h>

#include "config-reader.h"
#include "macro.h"

/* tailkitd.conf: optional; every key has a default. */

#define sizeof_field(type, member) sizeof(((type *) NULL)->member)

#define DEFAULT_MEMORY_MAX (UINT64_C(512) << 20)
#define DEFAULT_TASKS_MAX 64
#define DEFAULT_CPU_QUOTA_PERCENT 100
#define DEFAULT_MAX_JOBS 16
#define DEFAULT_OUTPUT_MAX (UINT64_C(1) << 20)

/* Sane ceilings for the job limits: beyond them a typo, not a decision. */
#define MAX_JOBS_MAX 4096
#define OUTPUT_MAX_MAX (UINT64_C(1) << 30)

static const ConfigKey tailscale_keys[] = {
        { "socket", CONFIG_STRING },
        {},
};

static const ConfigKey caps_keys[] = {
        { "domains", CONFIG_STRV },
        {},
};

static const ConfigKey server_keys[] = {
        { "idle_timeout", CONFIG_INT },
        { "request_timeout", CONFIG_INT },
        { "min_upload_rate", CONFIG_SIZE },
        {},
};

static const ConfigKey exec_keys[] = {
        { "memory_max", CONFIG_SIZE },
        { "tasks_max", CONFIG_INT },
        { "cpu_quota", CONFIG_PERCENT },
        { "max_jobs", CONFIG_INT },
        { "output_max", CONFIG_SIZE },
        {},
};

static const ConfigTableSchema daemon_schema[] = {
        { "tailscale", CONFIG_TABLE_SECTION, tailscale_keys },
        { "caps", CONFIG_TABLE_SECTION, caps_keys },
        { "server", CONFIG_TABLE_SECTION, server_keys },
        { "exec", CONFIG_TABLE_SECTION, exec_keys },
        {},
};

void daemon_config_done(DaemonConfig *c) {
        free(c->tailscale_socket);
        strv_free(c->cap_domains, c->n_cap_domains);
        *c = (DaemonConfig) {};
}

static int daemon_config_defaults(DaemonConfig *c) {
        *c = (DaemonConfig) {
                .idle_timeout_sec = DEFAULT_IDLE_TIMEOUT_SEC,
                .request_timeout_sec = DEFAULT_REQUEST_TIMEOUT_SEC,
                .min_upload_rate = DEFAULT_MIN_UPLOAD_RATE,
                .exec = {
                        .memory_max = DEFAULT_MEMORY_MAX,
                        .tasks_max = DEFAULT_TASKS_MAX,
                        .cpu_quota_percent = DEFAULT_CPU_QUOTA_PERCENT,
                        .max_jobs = DEFAULT_MAX_JOBS,
                        .output_max = DEFAULT_OUTPUT_MAX,
                },
        };
        c->tailscale_socket = strdup(DEFAULT_TAILSCALE_SOCKET);
        if (!c->tailscale_socket)
                return -ENOMEM;
        return strv_push(&c->cap_domains, &c->n_cap_domains, "tailscale.com");
}

/* A plain domain name (example.com): labels of letters, digits and dashes. */
static bool domain_is_valid(const char *s) {
        size_t label = 0, n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        for (; *s; s++) {
                if (*s == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                        continue;
                }
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0;
}

static bool strv_contains_case(char *const *v, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(v[i], s) == 0)
                        return true;
        return false;
}

static int apply_tailscale(DaemonConfig *c, ConfigDocument *doc, ConfigErrors *errors) {
        const ConfigEntry *e = config_table_get(config_document_section(doc, "tailscale"), "socket");
        char *s;

        if (!e)
                return 0;
        if (e->string[0] != '/') {
                config_document_error(doc, errors, e->line, "'socket' must be an absolute path");
                return 0;
        }
        if (strlen(e->string) >= sizeof_field(struct sockaddr_un, sun_path)) {
                config_document_error(doc, errors, e->line, "'socket' is too long for a unix socket path (at most %zu characters)",
                                      sizeof_field(struct sockaddr_un, sun_path) - 1);
                return 0;
        }
        s = strdup(e->string);
        if (!s)
                return -ENOMEM;
        free(c->tailscale_socket);
        c->tailscale_socket = s;
        return 0;
}

static int apply_caps(DaemonConfig *c, ConfigDocument *doc, ConfigErrors *errors) {
        const ConfigEntry *e = config_table_get(config_document_section(doc, "caps"), "domains");
        int r;

        if (!e)
                return 0;
        for (size_t i = 0; i < e->n_strv; i++) {
                const char *d = e->strv[i];

                if (!domain_is_valid(d)) {
                        config_document_error(doc, errors, e->line,
                                              "'domains' entry \"%s\" is not a plain domain name like example.com "
                                              "(letters, digits, dots and dashes; no scheme, no slash)", d);
                        continue;
                }
                /* tailscale.com is always first; the rest keep their order. */
                if (strv_contains_case(c->cap_domains, c->n_cap_domains, d))
                        continue;
                r = strv_push(&c->cap_domains, &c->n_cap_domains, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void apply_server(DaemonConfig *c, ConfigDocument *doc, ConfigErrors *errors) {
        const ConfigTable *t = config_document_section(doc, "server");
        const ConfigEntry *e;

        e = config_table_get(t, "idle_timeout");
        if (e) {
                if (e->integer < 0)
                        config_document_error(doc, errors, e->line,
                                              "'idle_timeout' must be a number of seconds, or 0 to never exit when idle");
                else
                        c->idle_timeout_sec = (uint64_t) e->integer;
        }

        e = config_table_get(t, "request_timeout");
        if (e) {
                if (e->integer < 1 || e->integer > 3600)
                        config_document_error(doc, errors, e->line,
                                              "'request_timeout' must be a number of seconds from 1 to 3600");
                else
                        c->request_timeout_sec = (uint64_t) e->integer;
        }

        e = config_table_get(t, "min_upload_rate");
        if (e) {
                if (e->size == 0)
                        config_document_error(doc, errors, e->line,
                                              "'min_upload_rate' must be a positive number of bytes per second (\"16K\")");
                else
                        c->min_upload_rate = e->size;
        }
}

static void apply_exec(DaemonConfig *c, ConfigDocument *doc, ConfigErrors *errors) {
        const ConfigTable *t = config_document_section(doc, "exec");
        const ConfigEntry *e;

        e = config_table_get(t, "memory_max");
        if (e) {
                if (e->size == 0)
                        config_document_error(doc, errors, e->line, "'memory_max' must be greater than 0");
                else
                        c->exec.memory_max = e->size;
        }

        e = config_table_get(t, "tasks_max");
        if (e) {
                if (e->integer <= 0)
                        config_document_error(doc, errors, e->line, "'tasks_max' must be a positive integer");
                else
                        c->exec.tasks_max = (uint64_t) e->integer;
        }

        e = config_table_get(t, "cpu_quota");
        if (e) {
                if (e->percent == 0)
                        config_document_error(doc, errors, e->line, "'cpu_quota' must be greater than 0%%");
                else
                        c->exec.cpu_quota_percent = e->percent;
        }

        e = config_table_get(t, "max_jobs");
        if (e) {
                if (e->integer <= 0 || e->integer > MAX_JOBS_MAX)
                        config_document_error(doc, errors, e->line, "'max_jobs' must be between 1 and %d", MAX_JOBS_MAX);
                else
                        c->exec.max_jobs = (unsigned) e->integer;
        }

        e = config_table_get(t, "output_max");
        if (e) {
                if (e->size == 0 || e->size > OUTPUT_MAX_MAX)
                        config_document_error(doc, errors, e->line, "'output_max' must be between 1 and 1G");
                else
                        c->exec.output_max = e->size;
        }
}

static int daemon_config_parse(const char *config_dir, DaemonConfig *c, ConfigErrors *errors) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_free_ char *path = NULL;
        int r;

        r = config_file_path(config_dir, "tailkitd.conf", &path);
        if (r < 0)
                return r;
        r = config_document_load(path, daemon_schema, &doc, errors);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = apply_tailscale(c, &doc, errors);
        if (r < 0)
                return r;
        r = apply_caps(c, &doc, errors);
        if (r < 0)
                return r;
        apply_server(c, &doc, errors);
        apply_exec(c, &doc, errors);
        return doc.n_errors > 0 ? -EINVAL : 0;
}

int daemon_config_load(const char *config_dir, DaemonConfig *ret, ConfigErrors *errors) {
        _cleanup_(daemon_config_done) DaemonConfig c = {};
        int r, k;

        r = daemon_config_defaults(&c);
        if (r < 0)
                return r;
        r = daemon_config_parse(config_dir, &c, errors);
        if (r < 0) {
                /* Callers keep running on the defaults and report the errors. */
                daemon_config_done(&c);
                k = daemon_config_defaults(&c);
                if (k < 0)
                        return k;
        }
        *ret = c;
        c = (DaemonConfig) {};
        return r;
}
