/* SPDX-License-Identifier: MIT */
/* A tool file (tools/<name>.json, written by any installer) as the tools and exec
 * workers load it: parse, install checks, each command's exec check. */
#include "fuzz.h"
#include "macro.h"
#include "registry.h"
#include "toolfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(tool_freep) Tool *t = NULL;
        char *error = NULL;

        if (size > TOOL_FILE_MAX)
                return 0;
        if (tool_parse((const char *) data, size, &t, &error) >= 0) {
                free(error);
                error = NULL;
                (void) tool_check_install(t, &error);
                for (size_t i = 0; i < t->n_commands; i++) {
                        free(error);
                        error = NULL;
                        (void) command_check(&t->commands[i], &error);
                }
                json_object_put(tool_to_json(t));
        }
        free(error);
        return 0;
}
