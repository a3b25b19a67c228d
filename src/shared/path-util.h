/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/openat2.h>
#include <stdint.h>
#include <sys/types.h>

/* openat2() under dir_fd: the result is refused (-EXDEV) unless it stays
 * beneath dir_fd; "..", absolute paths and magic links never escape.
 * resolve adds RESOLVE_* flags (e.g. RESOLVE_NO_SYMLINKS). */
int open_beneath(int dir_fd, const char *path, int flags, mode_t mode, uint64_t resolve);

/* mkdirat() that accepts an existing directory. */
int mkdirat_exist_ok(int dir_fd, const char *name, mode_t mode);
