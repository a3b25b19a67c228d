/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "tests.h"
#include "macro.h"
#include "utf8.h"

TEST(valid) {
        ASSERT_TRUE(utf8_is_valid("", 0, false));
        ASSERT_TRUE(utf8_is_valid("abc", 3, false));
        ASSERT_TRUE(utf8_is_valid("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 9, false));
        ASSERT_FALSE(utf8_is_valid("a\0b", 3, false));
        ASSERT_TRUE(utf8_is_valid("a\0b", 3, true));
        ASSERT_FALSE(utf8_is_valid("\xc3", 1, false));
        ASSERT_FALSE(utf8_is_valid("\xc0\xaf", 2, false));
        ASSERT_FALSE(utf8_is_valid("\xed\xa0\x80", 3, false));
        ASSERT_FALSE(utf8_is_valid("\xf4\x90\x80\x80", 4, false));
        ASSERT_FALSE(utf8_is_valid("\x80", 1, false));
        ASSERT_FALSE(utf8_is_valid("\xff", 1, false));
}

TEST(sanitize) {
        char *s = utf8_sanitize("ok\xff\xc3\xa9\xe4\xb8", 7);
        ASSERT_STREQ(s, "ok\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
        free(s);
        s = utf8_sanitize("", 0);
        ASSERT_STREQ(s, "");
        free(s);
}

TEST(encode) {
        static const struct { uint32_t cp; const char *utf8; } cases[] = {
                { 0x24, "$" }, { 0x7f, "\x7f" }, { 0x80, "\xc2\x80" }, { 0x7ff, "\xdf\xbf" },
                { 0x800, "\xe0\xa0\x80" }, { 0x20ac, "\xe2\x82\xac" }, { 0xfffd, "\xef\xbf\xbd" },
                { 0x10000, "\xf0\x90\x80\x80" }, { 0x10ffff, "\xf4\x8f\xbf\xbf" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char out[4];
                size_t n = utf8_encode(cases[i].cp, out);
                ASSERT_INT_EQ(n, strlen(cases[i].utf8));
                ASSERT_TRUE(memcmp(out, cases[i].utf8, n) == 0);
                ASSERT_TRUE(utf8_is_valid(out, n, false));
        }
}

int main(void) {
        RUN(valid);
        RUN(sanitize);
        RUN(encode);
        return 0;
}
