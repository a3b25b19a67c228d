/* SPDX-License-Identifier: MIT */
#pragma once

/* The equivalent of tailkit.Install()/Uninstall() for tool authors who do
 * not write Go: a tool file is checked by the rules Install() applies
 * (seed-code-digest §4) and by the exec worker's own load-time check
 * (command_check() from src/exec, the very code that refuses files there),
 * then written atomically as <dir>/<name>.json. */

#include <stddef.h>

#include "toolfile.h"

/* Install()'s rules on top of tool_parse(): version, tsnet_host, acl_cap
 * non-empty, timeout > 0, exec_parts[0] exists; then command_check(). 0, or
 * -EBADMSG with *error (caller frees). */
int tool_check_install(const Tool *t, char **error);

/* Writes data as dir/<name>.json: temp file in dir, fsync, 0644, rename,
 * fsync dir. The directory is created (0755) if missing. */
int tool_write_atomic(const char *dir, const char *name, const char *data, size_t size);
