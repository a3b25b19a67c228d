/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/openat2.h>
#include <stdint.h>
#include <sys/types.h>

/* openat2() under dir_fd: the result is refused (-EXDEV) unless it stays
 * beneath dir_fd; "..", absolute paths and magic links never escape.
 * resolve adds RESOLVE_* flags (e.g. RESOLVE_NO_SYMLINKS).
 *
 * Where openat2 is unavailable (-ENOSYS: kernels before 5.6, or systemd's
 * RestrictSUIDSGID=, which blocks openat2 because seccomp cannot see its
 * flags), the path is walked one component at a time with O_NOFOLLOW:
 * stricter, since no symlink is followed at all. */
int open_beneath(int dir_fd, const char *path, int flags, mode_t mode, uint64_t resolve);

/* The component walk on its own (for tests). */
int open_beneath_walk(int dir_fd, const char *path, int flags, mode_t mode);

/* mkdirat() that accepts an existing directory. */
int mkdirat_exist_ok(int dir_fd, const char *name, mode_t mode);
