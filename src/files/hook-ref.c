/* SPDX-License-Identifier: MIT */
#include "hook-ref.h"
#include "macro.h"

static const ToolCommand *tool_command(const Tool *t, const char *name, size_t len) {
        for (size_t i = 0; t && i < t->n_commands; i++)
                if (strlen(t->commands[i].name) == len && memcmp(t->commands[i].name, name, len) == 0)
                        return &t->commands[i];
        return NULL;
}

int files_hook_resolve(const ToolList *l, const char *ref, const Tool **ret_tool, const ToolCommand **ret_cmd,
                       char **error) {
        const char *slash = strchr(ref, '/');
        const Tool *tool = NULL;
        const ToolCommand *cmd = NULL;

        if (error)
                *error = NULL;
        if (slash) {
                _cleanup_free_ char *name = memdup_str(ref, (size_t) (slash - ref));

                if (!name)
                        return -ENOMEM;
                tool = tool_list_find(l, name);
                cmd = tool_command(tool, slash + 1, strlen(slash + 1));
                if (!cmd) {
                        if (error && asprintf(error, tool ? "tool \"%s\" has no command \"%s\"" :
                                                     "no tool \"%s\" is installed (command \"%s\")",
                                              name, slash + 1) < 0)
                                *error = NULL;
                        return -ENOENT;
                }
        } else {
                size_t n = 0;

                for (size_t i = 0; i < l->n; i++) {
                        const ToolCommand *c = tool_command(l->tools[i], ref, strlen(ref));
                        /* A later file with the same tool name replaces an earlier one. */
                        if (!c || tool_list_find(l, l->tools[i]->name) != l->tools[i])
                                continue;
                        if (n++ == 0) {
                                tool = l->tools[i];
                                cmd = c;
                        }
                }
                if (n == 0) {
                        if (error && asprintf(error, "no installed tool has a command \"%s\"", ref) < 0)
                                *error = NULL;
                        return -ENOENT;
                }
                if (n > 1) {
                        if (error && asprintf(error, "%zu installed tools have a command \"%s\"; write \"tool/%s\"",
                                              n, ref, ref) < 0)
                                *error = NULL;
                        return -ENOTUNIQ;
                }
        }
        if (ret_tool)
                *ret_tool = tool;
        if (ret_cmd)
                *ret_cmd = cmd;
        return 0;
}
