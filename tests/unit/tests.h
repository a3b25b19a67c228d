/* SPDX-License-Identifier: MIT */
#pragma once

/* A minimal assertion header for tailkitd's C unit tests. Each test file has
 * TEST(name) functions and a main() that runs them with RUN(name); a failing
 * assertion prints file:line and the expression and aborts the binary.
 * Exit 77 means "skipped" to meson. */

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                      \
        do {                                                           \
                fprintf(stderr, "== %s\n", #name);                     \
                test_##name();                                         \
        } while (0)

#define FAIL_AT(...)                                                   \
        do {                                                           \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);        \
                fprintf(stderr, __VA_ARGS__);                          \
                fputc('\n', stderr);                                   \
                abort();                                               \
        } while (0)

#define ASSERT_TRUE(expr)                                              \
        do {                                                           \
                if (!(expr))                                           \
                        FAIL_AT("assertion failed: %s", #expr);        \
        } while (0)
#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))

#define ASSERT_INT_EQ(a, b)                                            \
        do {                                                           \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);     \
                if (_a != _b)                                          \
                        FAIL_AT("%s == %s: %jd != %jd", #a, #b, _a, _b); \
        } while (0)

#define ASSERT_OK(expr)                                                \
        do {                                                           \
                intmax_t _r = (intmax_t) (expr);                       \
                if (_r < 0)                                            \
                        FAIL_AT("%s failed: %jd (%s)", #expr, _r, strerror((int) -_r)); \
        } while (0)

#define ASSERT_STREQ(a, b)                                             \
        do {                                                           \
                const char *_a = (a), *_b = (b);                       \
                if (!_a || !_b || strcmp(_a, _b) != 0)                 \
                        FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b,  \
                                _a ? _a : "(null)", _b ? _b : "(null)"); \
        } while (0)

#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)

#define ASSERT_CONTAINS(haystack, needle)                              \
        do {                                                           \
                const char *_h = (haystack), *_n = (needle);           \
                if (!_h || !strstr(_h, _n))                            \
                        FAIL_AT("\"%s\" does not contain \"%s\"",      \
                                _h ? _h : "(null)", _n);               \
        } while (0)

/* Open file descriptors of this process: a test compares them before and
 * after to catch a leak. */
static inline int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        ASSERT_NOT_NULL(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}
