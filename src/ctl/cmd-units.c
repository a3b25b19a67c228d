/* SPDX-License-Identifier: MIT */
/* tailkitctl units: /integrations/systemd/units[/NAME[/file|/ACTION]]. */

#include "api.h"
#include "args.h"
#include "job.h"
#include "json-util.h"
#include "macro.h"
#include "table.h"

static const char *const actions[] = { "start", "stop", "restart", "reload", "enable", "disable" };

static int units_list(Ctx *c) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_(table_freep) Table *t = table_new("UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION", NULL);
        int r;

        r = api_get_json(c, "/integrations/systemd/units", &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        if (!t || !json_object_is_type(o, json_type_array))
                return EXIT_PROTOCOL;
        for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *u = json_object_array_get_idx(o, i);
                table_add(t, json_str(u, "Name"), json_str(u, "LoadState"), json_str(u, "ActiveState"),
                          json_str(u, "SubState"), json_str(u, "Description"));
        }
        table_print(t, c->out);
        return 0;
}

static int units_status(Ctx *c, const char *path) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_(table_freep) Table *t = table_new("PROPERTY", "VALUE", NULL);
        int r;

        r = api_get_json(c, path, &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        if (!t || !json_object_is_type(o, json_type_object))
                return EXIT_PROTOCOL;
        json_object_object_foreach(o, k, v) {
                /* Scalars only: arrays of D-Bus structs do not fit a line. */
                if (!v || json_object_is_type(v, json_type_array) || json_object_is_type(v, json_type_object))
                        continue;
                table_add(t, k, json_object_get_string(v));
        }
        table_print(t, c->out);
        return 0;
}

static int units_file(Ctx *c, const char *path) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        const char *content;
        int r;

        r = api_get_json(c, path, &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        content = strempty(json_str(o, "content"));
        fprintf(c->out, "# %s\n%s%s", strna(json_str(o, "path")), content,
                !*content || endswith(content, "\n") ? "" : "\n");
        return 0;
}

int cmd_units(Ctx *c, int argc, char **argv) {
        _cleanup_(json_object_putp_) json_object *accepted = NULL;
        _cleanup_free_ char *unit = NULL, *path = NULL;
        bool wait = false;
        const char *verb;
        Args a;
        int r;

        r = args_parse(c, "units", argc, argv, (const Flag[]) { { "--wait", "-w", NULL, &wait } }, 1, &a);
        if (r != 0)
                return r;
        verb = a.n ? a.pos[0] : "list";
        if (streq(verb, "list")) {
                if (a.n > 1)
                        return command_usage_error(c, "units", "list takes no arguments");
                return units_list(c);
        }
        if (a.n != 2)
                return command_usage_error(c, "units", "%s needs one UNIT", verb);
        unit = http_escape(a.pos[1]);
        if (!unit || asprintf(&path, "/integrations/systemd/units/%s", unit) < 0)
                return EXIT_FAILURE_LOCAL;
        if (streq(verb, "status") || streq(verb, "show"))
                return units_status(c, path);
        if (streq(verb, "file")) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/file", path) < 0)
                        return EXIT_FAILURE_LOCAL;
                return units_file(c, p);
        }
        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                _cleanup_free_ char *p = NULL;
                if (!streq(verb, actions[i]))
                        continue;
                if (asprintf(&p, "%s/%s", path, verb) < 0)
                        return EXIT_FAILURE_LOCAL;
                r = api_json(c, &(HttpRequest) { .method = "POST", .path = p }, &accepted);
                if (r != 0)
                        return r;
                return job_accepted(c, accepted, wait);
        }
        return command_usage_error(c, "units", "unknown action \"%s\"", verb);
}
