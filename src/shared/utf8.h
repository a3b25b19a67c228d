/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
 * NUL bytes are refused unless allow_nul. */
bool utf8_is_valid(const char *s, size_t len, bool allow_nul);

/* A copy with each invalid sequence replaced by U+FFFD (as Go's JSON
 * encoder does), for command output of unknown encoding. */
char *utf8_sanitize(const char *s, size_t len);

/* Writes code point cp (at most U+10FFFF) as UTF-8; returns its length. */
size_t utf8_encode(uint32_t cp, char out[static 4]);
