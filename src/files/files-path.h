/* SPDX-License-Identifier: MIT */
#pragma once

/* Paths as callers send them, checked before a rule or a file is looked at,
 * and resolved beneath the matched rule's directory with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, src/shared/path-util.h): the
 * string checks here only refuse what no honest caller sends; what a path
 * names on disk is decided by the kernel, relative to the rule's directory
 * opened once. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "files-config.h"

/* Absolute; at most PATH_MAX - 1 bytes and NAME_MAX per component; no NUL
 * (len must be strlen), no "%00" (the URL decoder leaves an encoded NUL
 * encoded), no control character, no empty, "." or ".." segment. A trailing
 * "/" is allowed (directories). 0, or -EINVAL with *why. */
int files_path_check(const char *path, size_t len, const char **why);

/* The part of path beneath rule->dir ("." for the directory itself), as a
 * pointer into path or to a static ".". path must match rule. */
const char *files_path_relative(const FilesRule *rule, const char *path);

/* Splits rel ("a/b/name") into its directory ("a/b", or "." ) and name:
 * -EISDIR when rel names a directory ("." or ends with "/"), -ENOMEM. */
int files_path_split(const char *rel, char **ret_dir, const char **ret_name);

/* The rule's directory, opened once: the root every lookup of the
 * request resolves beneath. */
int files_open_rule_dir(const FilesRule *rule);

/* A regular file beneath rule_fd, opened for reading. Symlinks inside the
 * rule's directory are followed; anything leaving it fails with -EXDEV
 * (or -ELOOP for magic links); a directory gives -EISDIR; a device, FIFO
 * or socket -ENODEV (checked on an O_PATH handle first, so a FIFO is never
 * opened). st receives its stat. */
int files_open_regular(int rule_fd, const char *rel, struct stat *st);

/* A directory beneath rule_fd, opened for reading (listing, fsync):
 * -ENOTDIR when rel is something else. */
int files_open_directory(int rule_fd, const char *rel);

/* Like files_open_directory(), creating missing directories (0755) one
 * component at a time beneath rule_fd. */
int files_make_directory(int rule_fd, const char *rel);
