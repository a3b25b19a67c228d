/* SPDX-License-Identifier: MIT */
#pragma once

/* The var store: one JSON object per scope in
 * <state>/vars/<project>/<env>.json, keys plus "_updated_at"/"_updated_by".
 *
 * Readers open the file without locking: every write replaces it whole with
 * rename(), so a reader sees the old or the new content, never a mix.
 * Writers serialise per scope with flock() on .<env>.lock, which holds across
 * threads (each opens its own file description) and across processes (a
 * worker restarted while the old one still finishes a write); a writer that
 * creates a scope also holds the project's .lock while it counts the envs.
 * A write is durable when it returns: temp file fsynced, renamed, directory
 * fsynced (and the parent of a directory it created).
 *
 * No operation holds a value or a scope in memory whole: a write copies the
 * other values from the old file to the new one (see scopefile.h). */

#include <stddef.h>

#include "scopefile.h"

#define VARS_VALUE_MAX (1024 * 1024)
#define VARS_KEYS_MAX 10000
#define VARS_ENVS_MAX 100
#define VARS_SCOPE_FILE_MAX (32 * 1024 * 1024)

/* The scope for reading (an empty one when nothing is stored). */
int store_open(const char *project, const char *env, ScopeFile **ret);

/* Sets key. -EOVERFLOW: the scope holds VARS_KEYS_MAX keys already; -EMLINK:
 * the project holds VARS_ENVS_MAX envs already; -EFBIG: the file would
 * exceed VARS_SCOPE_FILE_MAX. Those limits use errnos that writing a small
 * file never returns, so a -ENOSPC or -EDQUOT is the disk's (a full file
 * system, a quota) and the caller can tell the two apart. */
int store_put(const char *project, const char *env, const char *caller, const char *key,
              const char *value, size_t len);

/* Removes key; when it is not there, nothing is written (nor created). */
int store_unset(const char *project, const char *env, const char *caller, const char *key);

/* Removes the scope's data (its lock file stays, so waiting writers still
 * exclude each other). Missing data is fine, and then nothing is written. */
int store_delete(const char *project, const char *env);

/* The environments of a project that hold data, sorted; *ret NULL-terminated. */
int store_list_envs(const char *project, char ***ret);
