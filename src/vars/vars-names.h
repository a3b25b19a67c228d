/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define VARS_KEY_RULE "^[A-Z][A-Z0-9_]*$"
#define VARS_NAME_RULE "^[a-z0-9][a-z0-9_-]*$"
#define VARS_KEY_MAX 256
#define VARS_NAME_MAX 64

/* Project and environment names: they become directory and file names. */
bool vars_name_is_valid(const char *s);
/* "_"-prefixed keys hold tailkitd's metadata. */
bool vars_key_is_reserved(const char *s);
bool vars_key_is_valid(const char *s);
/* Valid UTF-8 without NUL: anything else cannot round-trip through an env file. */
bool vars_value_is_valid(const char *s, size_t len);
