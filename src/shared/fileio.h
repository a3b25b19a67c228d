/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Reads fd to its end into a NUL-terminated buffer: -EFBIG when it holds
 * more than max bytes (nothing returned then). */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);

/* write() until done, retrying on EINTR. */
int write_all(int fd, const void *data, size_t len);
