/* SPDX-License-Identifier: MIT */
#pragma once

/* files.toml (SPEC §3, README "Files"): which directories a caller may read
 * and write, how large a received file may be, and the commands to run once
 * one is written. Linked by the files worker, its sandbox generator and
 * `tailkitd --check-config`. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define FILES_MAX_SIZE_DEFAULT (UINT64_C(1) << 30)   /* 1 GiB */
#define FILES_MAX_SIZE_MAX (UINT64_C(1) << 40)       /* 1 TiB: what max_size may say */

typedef struct FilesRule {
        char *dir;                   /* absolute, ends with "/" */
        bool read, write;
        uint64_t max_size;           /* bytes a received file may hold */
        char **post_recv;            /* "command" or "tool/command" */
        size_t n_post_recv;
        unsigned line;
} FilesRule;

typedef struct FilesConfig {
        FilesRule *rules;
        size_t n_rules;
} FilesConfig;

int files_config_load(const char *config_dir, FilesConfig *ret, ConfigErrors *errors);
void files_config_done(FilesConfig *c);

/* The rule whose directory is the longest prefix of path (an absolute path;
 * a directory given without its trailing "/" matches its own rule), or NULL.
 * Only picks the rule: what path names is decided by resolving it beneath
 * the rule's directory (files-resolve.h). */
const FilesRule *files_config_match(const FilesConfig *c, const char *path);

/* For --check-config: 1 when files.toml is invalid or unreadable, or a
 * post_recv entry names no installed command (tools_dir: the tools/ folder),
 * 0 when it is fine or absent, -ENOMEM. */
int files_config_check(const char *config_dir, ConfigErrors *errors);
