/* SPDX-License-Identifier: MIT */
/* journal-gatewayd's Range header (src/systemd/journal-range.c). */
#include <errno.h>
#include <string.h>

#include "journal-range.h"
#include "tests.h"

TEST(forms) {
        JournalRange rg;

        ASSERT_OK(journal_range_parse(NULL, &rg));
        ASSERT_FALSE(rg.set);
        ASSERT_OK(journal_range_parse("bytes=0-10", &rg));      /* not ours: ignored */
        ASSERT_FALSE(rg.set);

        ASSERT_OK(journal_range_parse("entries=:-20:20", &rg));
        ASSERT_TRUE(rg.set);
        ASSERT_STREQ(rg.cursor, "");
        ASSERT_TRUE(rg.skip == -20 && rg.n_entries == 20);

        ASSERT_OK(journal_range_parse("entries=s=ab;i=1f;b=cd;m=2;t=3;x=4", &rg));
        ASSERT_STREQ(rg.cursor, "s=ab;i=1f;b=cd;m=2;t=3;x=4");
        ASSERT_TRUE(rg.skip == 0 && rg.n_entries == 0);

        ASSERT_OK(journal_range_parse("  entries= s=ab;i=1:5 ", &rg));
        ASSERT_STREQ(rg.cursor, "s=ab;i=1");
        ASSERT_TRUE(rg.skip == 0 && rg.n_entries == 5);

        ASSERT_OK(journal_range_parse("entries=s=ab:+3:", &rg));   /* count left out */
        ASSERT_TRUE(rg.skip == 3 && rg.n_entries == 0);
}

TEST(refused) {
        static const char *const bad[] = {
                "entries=:x:5", "entries=:-5:0", "entries=bad cursor:1", "entries=:1:2:3", "entries=:1:-2",
                "entries=:--1:2", "entries=:-1000001:5", "entries=:1:99999999999999999999999",
                "entries=s=1\n:1", "entries=s=zz",
        };
        char big[JOURNAL_RANGE_MAX + 20] = "entries=";
        JournalRange rg;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ASSERT_INT_EQ(journal_range_parse(bad[i], &rg), -EINVAL);
        memset(big + 8, 'a', sizeof(big) - 9);
        big[sizeof(big) - 1] = 0;
        ASSERT_INT_EQ(journal_range_parse(big, &rg), -EINVAL);
}

int main(void) {
        RUN(forms);
        RUN(refused);
        return 0;
}
