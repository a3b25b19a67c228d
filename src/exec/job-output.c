/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "job-output.h"

#define REPLACEMENT "\xEF\xBF\xBD"

/* Continuation bytes a lead byte announces, or -1 when it cannot start a
 * sequence. */
static int continuation_bytes(unsigned char c) {
        if (c < 0x80)
                return 0;
        if ((c & 0xE0) == 0xC0)
                return 1;
        if ((c & 0xF0) == 0xE0)
                return 2;
        if ((c & 0xF8) == 0xF0)
                return 3;
        return -1;
}

/* Length of the valid sequence at p[0..len) (n + 1 bytes available), or 0. */
static size_t valid_sequence(const unsigned char *p, int n) {
        unsigned cp = n == 1 ? p[0] & 0x1F : n == 2 ? p[0] & 0x0F : p[0] & 0x07;

        for (int k = 1; k <= n; k++) {
                if ((p[k] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                return 0;
        return (size_t) n + 1;
}

/* Whether p[0..avail) could still become a valid sequence with more bytes. */
static bool is_cut_prefix(const unsigned char *p, size_t avail) {
        for (size_t k = 1; k < avail; k++)
                if ((p[k] & 0xC0) != 0x80)
                        return false;
        return true;
}

static char *escape_control(char *o, unsigned char c) {
        static const char hex[] = "0123456789abcdef";

        *o++ = '\\';
        switch (c) {
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
                memcpy(o, "u00", 3);
                o += 3;
                *o++ = hex[c >> 4];
                *o++ = hex[c & 0xF];
        }
        return o;
}

size_t output_escape(const unsigned char *in, size_t len, bool eof, char *out, size_t *ret_consumed) {
        char *o = out;
        size_t i = 0;

        while (i < len) {
                unsigned char c = in[i];
                int n = continuation_bytes(c);
                size_t k;

                if (n == 0) {
                        if (c == 0) {
                                memcpy(o, REPLACEMENT, 3);
                                o += 3;
                        } else if (c < 0x20)
                                o = escape_control(o, c);
                        else if (c == '"' || c == '\\') {
                                *o++ = '\\';
                                *o++ = (char) c;
                        } else
                                *o++ = (char) c;
                        i++;
                        continue;
                }
                if (n > 0 && len - i <= (size_t) n && !eof && is_cut_prefix(in + i, len - i))
                        break;          /* the rest comes with the next block */
                k = n > 0 && len - i > (size_t) n ? valid_sequence(in + i, n) : 0;
                if (k == 0) {
                        memcpy(o, REPLACEMENT, 3);
                        o += 3;
                        i++;
                } else {
                        memcpy(o, in + i, k);
                        o += k;
                        i += k;
                }
        }
        *ret_consumed = i;
        return (size_t) (o - out);
}
