/* SPDX-License-Identifier: MIT */
#include <unistd.h>

#include "tests.h"
#include "ulid.h"

TEST(format_and_order) {
        char a[ULID_LEN + 1], b[ULID_LEN + 1];

        ASSERT_OK(ulid_new(a));
        ASSERT_INT_EQ(strlen(a), ULID_LEN);
        ASSERT_TRUE(ulid_is_valid(a));
        for (const char *p = a; *p; p++)
                ASSERT_TRUE(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p) != NULL);
        usleep(2000);
        ASSERT_OK(ulid_new(b));
        ASSERT_TRUE(strcmp(a, b) < 0);          /* time-sortable */
        ASSERT_TRUE(memcmp(a, b, 10) <= 0);
}

TEST(validation) {
        ASSERT_FALSE(ulid_is_valid(NULL));
        ASSERT_FALSE(ulid_is_valid(""));
        ASSERT_FALSE(ulid_is_valid("01M8JMRFZ9AQ6YS7D91XSWA6J"));    /* 25 */
        ASSERT_FALSE(ulid_is_valid("01M8JMRFZ9AQ6YS7D91XSWA6JGG"));  /* 27 */
        ASSERT_FALSE(ulid_is_valid("01M8JMRFZ9AQ6YS7D91XSWA6JI"));   /* I is not Crockford */
        ASSERT_FALSE(ulid_is_valid("01m8jmrfz9aq6ys7d91xswa6jg"));
        ASSERT_FALSE(ulid_is_valid("81M8JMRFZ9AQ6YS7D91XSWA6JG"));   /* overflows 128 bits */
        ASSERT_FALSE(ulid_is_valid("../../../../etc/passwd....."));
        ASSERT_TRUE(ulid_is_valid("01M8JMRFZ9AQ6YS7D91XSWA6JG"));
}

int main(void) {
        RUN(format_and_order);
        RUN(validation);
        return 0;
}
