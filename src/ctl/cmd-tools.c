/* SPDX-License-Identifier: MIT */
/* tailkitctl tools [NAME]: GET /tools, GET /tools/NAME. */

#include <inttypes.h>

#include "api.h"
#include "args.h"
#include "json-util.h"
#include "macro.h"
#include "table.h"

static void print_tools(Ctx *c, json_object *tools) {
        _cleanup_(table_freep) Table *t = table_new("TOOL", "VERSION", "COMMANDS", NULL);

        if (!t || !json_object_is_type(tools, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(tools); i++) {
                json_object *tool = json_object_array_get_idx(tools, i), *cmds = json_get(tool, "commands");
                _cleanup_free_ char *names = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&names, &size);

                if (!f)
                        return;
                for (size_t j = 0; cmds && json_object_is_type(cmds, json_type_array) &&
                                   j < json_object_array_length(cmds); j++)
                        fprintf(f, "%s%s", j ? " " : "", strna(json_str(json_object_array_get_idx(cmds, j), "name")));
                fclose(f);
                table_add(t, json_str(tool, "name"), json_str(tool, "version"), size ? names : "-");
        }
        table_print(t, c->out);
}

static void print_tool(Ctx *c, json_object *tool) {
        _cleanup_(table_freep) Table *t = table_new("COMMAND", "ARGS", "TIMEOUT", "DESCRIPTION", NULL);
        json_object *cmds = json_get(tool, "commands");

        fprintf(c->out, "%s %s (tsnet_host %s)\n", strna(json_str(tool, "name")), strna(json_str(tool, "version")),
                strna(json_str(tool, "tsnet_host")));
        if (!t || !cmds || !json_object_is_type(cmds, json_type_array))
                return;
        for (size_t j = 0; j < json_object_array_length(cmds); j++) {
                json_object *cmd = json_object_array_get_idx(cmds, j), *args = json_get(cmd, "args");
                _cleanup_free_ char *arglist = NULL;
                char timeout[32];
                size_t size = 0;
                FILE *f = open_memstream(&arglist, &size);

                if (!f)
                        return;
                for (size_t k = 0; args && json_object_is_type(args, json_type_array) &&
                                   k < json_object_array_length(args); k++) {
                        json_object *arg = json_object_array_get_idx(args, k);
                        fprintf(f, "%s%s%s%s", k ? " " : "", json_true(arg, "required") ? "" : "[",
                                strna(json_str(arg, "name")), json_true(arg, "required") ? "" : "]");
                }
                fclose(f);
                snprintf(timeout, sizeof timeout, "%" PRId64 "s", json_int(cmd, "timeout", 0) / 1000000000);
                table_add(t, json_str(cmd, "name"), size ? arglist : "-", timeout, json_str(cmd, "description"));
        }
        table_print(t, c->out);
}

int cmd_tools(Ctx *c, int argc, char **argv) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_free_ char *path = NULL, *name = NULL;
        Args a;
        int r;

        r = args_parse(c, "tools", argc, argv, NULL, 0, &a);
        if (r != 0)
                return r;
        if (a.n > 1)
                return command_usage_error(c, "tools", "at most one tool name");
        if (a.n == 1) {
                name = http_escape(a.pos[0]);
                if (!name || asprintf(&path, "/tools/%s", name) < 0)
                        return EXIT_FAILURE_LOCAL;
        }
        r = api_get_json(c, path ?: "/tools", &o);
        if (r != 0)
                return r;
        if (c->opt->json)
                print_json(c, o);
        else if (a.n == 1)
                print_tool(c, o);
        else
                print_tools(c, o);
        return 0;
}
