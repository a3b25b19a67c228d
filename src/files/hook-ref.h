/* SPDX-License-Identifier: MIT */
#pragma once

/* A post_recv entry names a registered command: "tool/command", or a bare
 * "command" that exactly one installed tool has (SPEC §3). */

#include "toolfile.h"

/* 0 and the tool and command (either pointer may be NULL), or -ENOENT
 * (nothing by that name) / -ENOTUNIQ (a bare name several tools have) with
 * *error saying so for a hint (caller frees). */
int files_hook_resolve(const ToolList *l, const char *ref, const Tool **ret_tool, const ToolCommand **ret_cmd,
                       char **error);
