/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Length of the valid sequence at s[0..len), 0 if invalid. */
static size_t valid_sequence(const unsigned char *p, size_t len) {
        unsigned c = p[0], cp;
        size_t n;

        if (c < 0x80)
                return 1;
        if ((c & 0xE0) == 0xC0) {
                n = 1;
                cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
                n = 2;
                cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
                n = 3;
                cp = c & 0x07;
        } else
                return 0;
        if (n >= len)
                return 0;
        for (size_t k = 1; k <= n; k++) {
                if ((p[k] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                return 0;
        return n + 1;
}

bool utf8_is_valid(const char *s, size_t len, bool allow_nul) {
        const unsigned char *p = (const unsigned char *) s;

        for (size_t i = 0; i < len;) {
                size_t n;

                if (p[i] == 0 && !allow_nul)
                        return false;
                n = valid_sequence(p + i, len - i);
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

char *utf8_sanitize(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        char *out = malloc(len * 3 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                size_t n = valid_sequence(p + i, len - i);
                if (n == 0) {
                        memcpy(o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        i++;
                } else {
                        memcpy(o, p + i, n);
                        o += n;
                        i += n;
                }
        }
        *o = 0;
        return out;
}

size_t utf8_encode(uint32_t cp, char out[static 4]) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xC0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xE0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
                out[2] = (char) (0x80 | (cp & 0x3F));
                return 3;
        }
        out[0] = (char) (0xF0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char) (0x80 | (cp & 0x3F));
        return 4;
}
