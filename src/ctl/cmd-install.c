/* SPDX-License-Identifier: MIT */
/* tailkitctl install-tool FILE.json / uninstall-tool NAME (local, no node). */

#include <fcntl.h>
#include <time.h>

#include "api.h"
#include "args.h"
#include "fileio.h"
#include "json-util.h"
#include "macro.h"
#include "paths.h"
#include "tool-install.h"

static char *tools_dir(const char *dir) {
        char *d = NULL;
        if (dir)
                return strdup(dir);
        return asprintf(&d, "%s/tools", config_dir()) < 0 ? NULL : d;
}

int cmd_install_tool(Ctx *c, int argc, char **argv) {
        _cleanup_free_ char *data = NULL, *error = NULL, *dir = NULL;
        _cleanup_(tool_freep) Tool *tool = NULL;
        _cleanup_close_ int fd = -1;
        const char *dir_arg = NULL;
        size_t size = 0;
        Args a;
        int r;

        r = args_parse(c, "install-tool", argc, argv, (const Flag[]) { { "--dir", NULL, &dir_arg, NULL } }, 1, &a);
        if (r != 0)
                return r;
        if (a.n != 1)
                return command_usage_error(c, "install-tool", "one tool file is needed");
        fd = streq(a.pos[0], "-") ? dup(STDIN_FILENO) : open(a.pos[0], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(c->err, "error: %s: %m\n", a.pos[0]);
                return EXIT_FAILURE_LOCAL;
        }
        r = read_full_fd(fd, TOOL_FILE_MAX, &data, &size);
        if (r < 0) {
                fprintf(c->err, "error: %s: %s\n", a.pos[0], r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
                return EXIT_FAILURE_LOCAL;
        }
        r = tool_parse(data, size, &tool, &error);
        if (r >= 0)
                r = tool_check_installable(tool, &error);
        if (r < 0) {
                fprintf(c->err, "error: %s: %s\n", a.pos[0], error ?: strerror(-r));
                fprintf(c->err, "hint: nothing was written; tailkitctl(1) lists the rules a tool file follows\n");
                return EXIT_FAILURE_LOCAL;
        }
        dir = tools_dir(dir_arg);
        if (!dir)
                return EXIT_FAILURE_LOCAL;
        srandom((unsigned) time(NULL) ^ (unsigned) getpid());
        r = tool_write_atomic(dir, tool->name, data, size);
        if (r < 0) {
                fprintf(c->err, "error: writing %s/%s.json: %s\n", dir, tool->name, strerror(-r));
                return EXIT_FAILURE_LOCAL;
        }
        if (c->opt->json) {
                /* json-c, not printf: --dir may hold quotes, backslashes, control characters. */
                _cleanup_(json_object_putp_) json_object *o = json_object_new_object();
                _cleanup_free_ char *path = NULL;
                if (!o || asprintf(&path, "%s/%s.json", dir, tool->name) < 0)
                        return EXIT_FAILURE_LOCAL;
                json_object_object_add(o, "installed", json_object_new_string(path));
                json_object_object_add(o, "name", json_object_new_string(tool->name));
                json_object_object_add(o, "commands", json_object_new_int64((int64_t) tool->n_commands));
                print_json(c, o);
        } else
                fprintf(c->out, "installed %s %s (%zu command%s) as %s/%s.json\n", tool->name, tool->version,
                        tool->n_commands, tool->n_commands == 1 ? "" : "s", dir, tool->name);
        return 0;
}

int cmd_uninstall_tool(Ctx *c, int argc, char **argv) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        const char *dir_arg = NULL;
        bool existed = true;
        Args a;
        int r;

        r = args_parse(c, "uninstall-tool", argc, argv, (const Flag[]) { { "--dir", NULL, &dir_arg, NULL } }, 1, &a);
        if (r != 0)
                return r;
        if (a.n != 1)
                return command_usage_error(c, "uninstall-tool", "one tool name is needed");
        if (!tool_name_is_valid(a.pos[0]))
                return command_usage_error(c, "uninstall-tool", "a tool name matches ^[a-zA-Z0-9_-]+$");
        dir = tools_dir(dir_arg);
        if (!dir || asprintf(&path, "%s/%s.json", dir, a.pos[0]) < 0)
                return EXIT_FAILURE_LOCAL;
        /* As Uninstall(): a missing file is not an error. */
        if (unlink(path) < 0) {
                if (errno != ENOENT) {
                        fprintf(c->err, "error: removing %s: %m\n", path);
                        return EXIT_FAILURE_LOCAL;
                }
                existed = false;
        }
        if (c->opt->json) {
                _cleanup_(json_object_putp_) json_object *o = json_object_new_object();
                if (!o)
                        return EXIT_FAILURE_LOCAL;
                json_object_object_add(o, "removed", json_object_new_boolean(existed));
                json_object_object_add(o, "path", json_object_new_string(path));
                print_json(c, o);
        } else
                fprintf(c->out, "%s %s\n", existed ? "removed" : "not installed:", path);
        return 0;
}
