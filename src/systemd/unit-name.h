/* SPDX-License-Identifier: MIT */
#pragma once

/* Unit names as they arrive in request paths: checked against systemd's
 * grammar (unit_name_is_valid() in systemd's unit-name.c) before any of them
 * reaches the bus or the journal, and against systemd.toml's allow list. */

#include <stdbool.h>
#include <stddef.h>

#define UNIT_NAME_MAX 255

/* "prefix[@instance].type": at most 255 characters from [A-Za-z0-9:_.\-@],
 * one '@' at most (not first), a known unit type as suffix. A template
 * ("foo@.service") is valid. No '/', no blanks, no control characters. */
bool unit_name_is_valid(const char *s);

/* The name a caller means: "nginx" → "nginx.service" (as systemctl does for
 * a name without a type); otherwise a copy. NULL (errno EINVAL) when the
 * result is not a valid unit name, or ENOMEM. */
char *unit_name_normalize(const char *s);

/* "service" for "a@b.service"; the name must be valid. */
const char *unit_name_type(const char *name);

/* Whether name matches one of the glob patterns (fnmatch(3), no flags);
 * an empty list allows every unit. */
bool unit_name_allowed(const char *name, char *const *patterns, size_t n_patterns);
