/* SPDX-License-Identifier: MIT */
#pragma once

/* Strict JSON parsing for what arrives from the network or from disk. */

#include <stddef.h>

#include <json-c/json.h>

/* Parses exactly one JSON value from data[0..len): strict mode, and nothing
 * but whitespace after it ("{} x" and "{}{}" are refused). Returns 0 and
 * *ret (owned by the caller), -EBADMSG on invalid or trailing input, -ENOMEM. */
int json_parse_strict(const char *data, size_t len, json_object **ret);

static inline void json_object_putp_(json_object **o) {
        if (*o)
                json_object_put(*o);
}
