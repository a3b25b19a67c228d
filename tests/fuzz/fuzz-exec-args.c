/* SPDX-License-Identifier: MIT */
/* A caller's exec arguments against a command's declared args: the input is
 * "<pattern>\n<exec part>\n<args JSON>"; the pattern and template come from
 * an operator's tool file, the JSON from any caller with exec write. */
#include <json-c/json.h>

#include "fuzz.h"
#include "registry.h"
#include "toolfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size), *pattern = s, *part, *args, *error = NULL;
        char *parts[] = { (char *) "/bin/echo", NULL, (char *) "{{.b}}" };
        ToolArg declared[] = {
                { .name = (char *) "a", .type = TOOL_ARG_STRING, .required = true, .pattern = pattern },
                { .name = (char *) "b", .type = TOOL_ARG_INT },
                { .name = (char *) "c", .type = TOOL_ARG_BOOL },
        };
        ToolCommand c = { .name = (char *) "cmd", .exec_parts = parts, .n_exec_parts = 3,
                          .timeout_ns = 1000000000, .args = declared, .n_args = 3 };
        json_object *j;
        char **argv = NULL;

        part = strchr(pattern, '\n');
        args = part ? strchr(part + 1, '\n') : NULL;
        if (!args) {
                free(s);
                return 0;
        }
        *part++ = 0;
        *args++ = 0;
        parts[1] = part;
        if (*pattern == 0)
                declared[0].pattern = NULL;
        if (command_check(&c, &error) >= 0) {
                j = json_tokener_parse(args);
                if (j && command_build_argv(&c, j, &argv, &error) >= 0) {
                        size_t n = 0;
                        while (argv[n])
                                n++;
                        if (n != 3)
                                abort();        /* one argv element per part, never split */
                        strv_free_null(argv);
                }
                json_object_put(j);
        }
        free(error);
        free(s);
        return 0;
}
