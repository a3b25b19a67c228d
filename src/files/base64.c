/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"

char *base64_encode(const void *data, size_t len) {
        static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const uint8_t *in = data;
        char *out, *p;

        if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;
        out = p = malloc((len + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16;

                if (i + 1 < len)
                        v |= (uint32_t) in[i + 1] << 8;
                if (i + 2 < len)
                        v |= in[i + 2];
                *p++ = table[(v >> 18) & 63];
                *p++ = table[(v >> 12) & 63];
                *p++ = i + 1 < len ? table[(v >> 6) & 63] : '=';
                *p++ = i + 2 < len ? table[v & 63] : '=';
        }
        *p = 0;
        return out;
}
