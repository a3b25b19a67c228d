/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* ULIDs: 48-bit millisecond time + 80 random bits, 26 characters of
 * Crockford base32; they sort by creation time. */
#define ULID_LEN 26

int ulid_new(char ret[ULID_LEN + 1]);
bool ulid_is_valid(const char *s);
