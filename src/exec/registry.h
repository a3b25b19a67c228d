/* SPDX-License-Identifier: MIT */
#pragma once

/* The exec registry: every command of every tool file under
 * <config>/tools/, validated for execution (SPEC §4, issue #4). It is
 * re-read when the directory changes (mtime, or the directory appearing or
 * disappearing), so installed, changed and removed tools take effect without
 * a restart. A tool file whose command cannot be run safely is refused at load
 * with a warning: exec_parts[0] not absolute, a template other than
 * {{.name}} / {{ .name }}, a template naming an undeclared arg, a pattern that
 * PCRE2 cannot compile. */

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "toolfile.h"

#define EXEC_ARG_VALUE_MAX 4096

typedef struct Registry Registry;

Registry *registry_new(const char *tools_dir);
Registry *registry_free(Registry *r);

/* Re-reads the directory if it changed since the last call. Thread-safe. */
int registry_refresh(Registry *r);

/* Looks up tool/command and returns a private copy (the registry may be
 * re-read meanwhile): 0, -ENOENT when the tool or command is not there. */
int registry_find(Registry *r, const char *tool, const char *command, ToolCommand **ret);
void tool_command_free(ToolCommand *c);

/* Validates args (a JSON object of name → string|number|bool) against the
 * command's declared args and builds the argv: each exec_parts element with
 * {{.name}} / {{ .name }} replaced by the value (never a shell). Unknown arg,
 * missing required arg, a value of the wrong type (int: ^-?[0-9]+$, bool:
 * true/false), over EXEC_ARG_VALUE_MAX bytes, with a NUL byte, or not
 * matching the pattern (PCRE2, unanchored unless the pattern anchors itself,
 * with match and depth limits) → -EINVAL with *error naming the arg. An
 * optional arg that is absent substitutes as the empty string.
 * *ret_argv is NULL-terminated. */
int command_build_argv(const ToolCommand *c, json_object *args, char ***ret_argv, char **error);

void strv_free_null(char **v);

/* The load-time check behind the refusals above, for one command: 0, or
 * -EBADMSG with *error saying why (caller frees). registry_refresh() runs it
 * on every command and refuses the whole tool file when one fails.
 * (registry_refresh() returns 1 when it re-read the directory, 0 when nothing
 * changed, a negative errno when the directory cannot be read; the index is
 * then empty until a later call succeeds.) */
int command_check(const ToolCommand *c, char **error);
