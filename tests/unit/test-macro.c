/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>

#include "macro.h"
#include "tests.h"

TEST(parse_uint) {
        unsigned long v = 99;

        ASSERT_INT_EQ(parse_uint("0", 5, &v), 0);
        ASSERT_INT_EQ(v, 0);
        ASSERT_INT_EQ(parse_uint("5", 5, &v), 0);
        ASSERT_INT_EQ(v, 5);
        ASSERT_INT_EQ(parse_uint("007", 10, &v), 0);
        ASSERT_INT_EQ(v, 7);
        /* Above max, with a single digit too (max - digit must not wrap). */
        ASSERT_INT_EQ(parse_uint("6", 5, &v), -ERANGE);
        ASSERT_INT_EQ(parse_uint("9", 0, &v), -ERANGE);
        ASSERT_INT_EQ(parse_uint("61", 60, &v), -ERANGE);
        ASSERT_INT_EQ(parse_uint("60", 60, &v), 0);
        ASSERT_INT_EQ(parse_uint("99999999999", 100000, &v), -ERANGE);
        ASSERT_INT_EQ(parse_uint("4294967295", UINT_MAX, &v), 0);
        ASSERT_INT_EQ(v, UINT_MAX);
        ASSERT_INT_EQ(parse_uint("4294967296", UINT_MAX, &v), -ERANGE);
        ASSERT_INT_EQ(parse_uint("18446744073709551616", ULONG_MAX, &v), -ERANGE);
        ASSERT_INT_EQ(parse_uint("18446744073709551615", ULONG_MAX, &v), 0);
        ASSERT_TRUE(v == ULONG_MAX);
        /* Digits only. */
        v = 42;
        ASSERT_INT_EQ(parse_uint(NULL, 5, &v), -EINVAL);
        ASSERT_INT_EQ(parse_uint("", 5, &v), -EINVAL);
        ASSERT_INT_EQ(parse_uint("-1", 5, &v), -EINVAL);
        ASSERT_INT_EQ(parse_uint("+1", 5, &v), -EINVAL);
        ASSERT_INT_EQ(parse_uint(" 1", 5, &v), -EINVAL);
        ASSERT_INT_EQ(parse_uint("1 ", 5, &v), -EINVAL);
        ASSERT_INT_EQ(parse_uint("1.5", 5, &v), -EINVAL);
        ASSERT_INT_EQ(parse_uint("0x1", 5, &v), -EINVAL);
        ASSERT_INT_EQ(v, 42);   /* untouched on failure */
}

int main(void) {
        RUN(parse_uint);
        return 0;
}
