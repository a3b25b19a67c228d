/* SPDX-License-Identifier: MIT */
#pragma once

/* The var store: one JSON object per scope in
 * <state>/vars/<project>/<env>.json, keys plus "_updated_at"/"_updated_by".
 *
 * Readers open the file without locking: every write replaces it whole with
 * rename(), so a reader sees the old or the new content, never a mix.
 * Writers serialise per scope with flock() on .<env>.lock, which holds across
 * threads (each opens its own file description) and across processes (a
 * worker restarted while the old one still finishes a write). A write is
 * durable when it returns: temp file fsynced, renamed, directory fsynced. */

#include <stddef.h>

#include <json-c/json.h>

#define VARS_VALUE_MAX (1024 * 1024)
#define VARS_KEYS_MAX 10000
#define VARS_SCOPE_FILE_MAX (32 * 1024 * 1024)

/* *ret is the scope object; an empty object when nothing is stored. */
int store_read(const char *project, const char *env, json_object **ret);

/* Edits the scope under its lock and writes it back. edit returns < 0 to
 * abort without writing (that value is returned), STORE_UNCHANGED when there
 * is nothing to write; -ENOSPC from the store itself means the scope would
 * exceed VARS_SCOPE_FILE_MAX. */
#define STORE_UNCHANGED 1
typedef int (*StoreEdit)(json_object *scope, void *userdata);
int store_update(const char *project, const char *env, const char *caller, StoreEdit edit, void *userdata);

/* Removes the scope's data (its lock file stays, so waiting writers still
 * exclude each other). Missing data is fine. */
int store_delete(const char *project, const char *env);

/* The environments of a project that hold data, sorted; *ret NULL-terminated. */
int store_list_envs(const char *project, char ***ret);
