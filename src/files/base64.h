/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* RFC 4648 base64 with padding, NUL-terminated; NULL when out of memory. */
char *base64_encode(const void *data, size_t len);
