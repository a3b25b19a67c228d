/* SPDX-License-Identifier: MIT */
#include "utf8.h"
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
        return utf8_is_valid(s, len, false);
}
