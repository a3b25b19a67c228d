/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>

#include "job-output.h"
#include "tests.h"

/* Escapes in, fed in blocks of `block` bytes with the unconsumed tail carried
 * over, as the poll's stream does. */
static char *escape_blocks(const char *in, size_t len, size_t block) {
        char *out = calloc(1, len * OUTPUT_ESCAPE_MAX + 1), *o = out;
        unsigned char buf[OUTPUT_CARRY_MAX + 64];
        size_t carry = 0, pos = 0;

        ASSERT_TRUE(out && block <= 64);
        for (;;) {
                size_t n = len - pos < block ? len - pos : block, consumed;
                bool eof = pos + n == len;

                memcpy(buf + carry, in + pos, n);
                pos += n;
                o += output_escape(buf, carry + n, eof, o, &consumed);
                ASSERT_TRUE(carry + n - consumed <= (eof ? 0 : OUTPUT_CARRY_MAX));
                memmove(buf, buf + consumed, carry + n - consumed);
                carry = carry + n - consumed;
                if (eof)
                        break;
        }
        *o = 0;
        return out;
}

static void check(const char *in, size_t len, const char *expected) {
        for (size_t block = 1; block <= 64; block++) {
                char *s = escape_blocks(in, len, block);
                if (strcmp(s, expected) != 0)
                        FAIL_AT("block %zu: \"%s\" != \"%s\"", block, s, expected);
                free(s);
        }
}

#define CHECK(in, expected) check(in, sizeof(in) - 1, expected)

TEST(plain) {
        CHECK("", "");
        CHECK("hello /world/", "hello /world/");
        CHECK("quote \" backslash \\", "quote \\\" backslash \\\\");
}

TEST(control_characters) {
        CHECK("a\nb\tc\rd\be\ff", "a\\nb\\tc\\rd\\be\\ff");
        CHECK("\x01\x1f\x7f", "\\u0001\\u001f\x7f");
}

TEST(nul_is_replaced_not_cut) {
        CHECK("before\0after", "before\xEF\xBF\xBD" "after");
        CHECK("\0\0", "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(valid_utf8_across_blocks) {
        CHECK("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
        CHECK("a\xf0\x9f\x98\x80" "b\xc3\xa9", "a\xf0\x9f\x98\x80" "b\xc3\xa9");
}

TEST(invalid_utf8_one_replacement_per_byte) {
        CHECK("ok\xff", "ok\xEF\xBF\xBD");
        CHECK("\xe4\xb8", "\xEF\xBF\xBD\xEF\xBF\xBD");                 /* cut at the end */
        CHECK("\xe4\xb8x", "\xEF\xBF\xBD\xEF\xBF\xBDx");               /* cut in the middle */
        CHECK("\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD");                 /* overlong */
        CHECK("\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
        CHECK("\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
        CHECK("\x80\"", "\xEF\xBF\xBD\\\"");
}

TEST(worst_case_fits) {
        char in[64], out[64 * OUTPUT_ESCAPE_MAX];
        size_t consumed;

        memset(in, 0x01, sizeof(in));
        ASSERT_INT_EQ(output_escape((unsigned char *) in, sizeof(in), true, out, &consumed), sizeof(out));
        ASSERT_INT_EQ(consumed, sizeof(in));
}

int main(void) {
        RUN(plain);
        RUN(control_characters);
        RUN(nul_is_replaced_not_cut);
        RUN(valid_utf8_across_blocks);
        RUN(invalid_utf8_one_replacement_per_byte);
        RUN(worst_case_fits);
        return 0;
}
