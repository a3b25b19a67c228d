/* SPDX-License-Identifier: MIT */
#include "vars-names.h"

bool vars_name_is_valid(const char *s) {
        size_t n = 0;

        if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (; s[n]; n++)
                if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
                        return false;
        return n <= VARS_NAME_MAX;
}

bool vars_key_is_reserved(const char *s) {
        return s && s[0] == '_';
}

bool vars_key_is_valid(const char *s) {
        size_t n = 0;

        if (!s || !(s[0] >= 'A' && s[0] <= 'Z'))
                return false;
        for (; s[n]; n++)
                if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
                        return false;
        return n <= VARS_KEY_MAX;
}

bool vars_value_is_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;

        for (size_t i = 0; i < len;) {
                unsigned c = p[i];
                size_t n;
                unsigned cp;

                if (c == 0)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
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
                        return false;
                for (size_t k = 1; k <= n; k++) {
                        if (i + k >= len || (p[i + k] & 0xC0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i + k] & 0x3F);
                }
                /* Overlong forms, surrogates and values past U+10FFFF. */
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                        return false;
                i += n + 1;
        }
        return true;
}
