/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* ULIDs: 48-bit millisecond time + 80 random bits, 26 characters of
 * Crockford base32; they sort by creation time. */
#define ULID_LEN 26

int ulid_new(char ret[ULID_LEN + 1]);
bool ulid_is_valid(const char *s);

#define ULID_TIME_LEN 10
/* The first ULID_TIME_LEN characters of the ULIDs made at ms (milliseconds
 * since the epoch): ULIDs compare as strings in time order. */
void ulid_time_prefix(uint64_t ms, char ret[ULID_TIME_LEN + 1]);
