/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Accept: application/octet-stream listed before application/json → raw
 * bytes (JSON is the default). */
bool files_accept_raw(const char *accept);

/* A "Range: bytes=…" header against size: 1 and [*start, *start + *len),
 * 0 to send the whole file (absent, malformed or several ranges: RFC 9110
 * lets a server ignore them), -ERANGE for 416. */
int files_parse_range(const char *header, uint64_t size, uint64_t *start, uint64_t *len);

/* Go's FileMode.String() of a st_mode ("-rw-r--r--", "drwxr-xr-x", "Lrwxrwxrwx", "Dcrw-rw-rw-"). */
void files_mode_string(mode_t mode, char buf[16]);

/* Go's time.RFC3339Nano in local time ("Z" at UTC, trailing zeros trimmed). */
void files_format_time(const struct timespec *ts, char buf[64]);
