/* SPDX-License-Identifier: MIT */
#pragma once

/* The equivalent of tailkit.Install()/Uninstall() for tool authors who do
 * not write Go: a tool file is checked by the rules Install() applies
 * (seed-code-digest §4) and by the exec worker's own load-time check
 * (command_check() from src/exec, the very code that refuses files there),
 * then written atomically as <dir>/<name>.json. */

#include <stddef.h>

#include "toolfile.h"

/* tool_check_install() (Install()'s rules, toolfile.c), then per command
 * the exec worker's command_check() and that exec_parts[0] exists. 0, or
 * -EBADMSG with *error (caller frees). */
int tool_check_installable(const Tool *t, char **error);

/* Writes data as dir/<name>.json: temp file in dir, fsync, 0644, rename,
 * fsync dir. The directory is created (0755) if missing. */
int tool_write_atomic(const char *dir, const char *name, const char *data, size_t size);
