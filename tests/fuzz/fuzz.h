/* SPDX-License-Identifier: MIT */
#pragma once

/* What every libFuzzer target here shares: the entry point's prototype and a
 * NUL-terminated copy of the input for parsers that take C strings. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}
