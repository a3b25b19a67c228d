/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "jstring.h"
#include "macro.h"
#include "utf8.h"

enum {
        S_CHAR,         /* between characters, or inside a raw UTF-8 sequence */
        S_ESCAPE,       /* after "\" */
        S_HEX,          /* inside \uXXXX */
        S_LOW_SLASH,    /* a high surrogate read: "\" of its pair due */
        S_LOW_U,        /* ... then "u" */
        S_DONE,
};

/* A raw byte of the string: strict UTF-8, checked as it streams by. */
static int feed_raw(JStrDecoder *d, unsigned char c, char out[static 4]) {
        if (d->utf8_need > 0) {
                if ((c & 0xC0) != 0x80)
                        return -EBADMSG;
                d->utf8_cp = (d->utf8_cp << 6) | (c & 0x3F);
                if (--d->utf8_need == 0 &&
                    (d->utf8_cp < d->utf8_min || (d->utf8_cp >= 0xD800 && d->utf8_cp <= 0xDFFF) ||
                     d->utf8_cp > 0x10FFFF))
                        return -EBADMSG;
        } else if (c < 0x20)
                return -EBADMSG;
        else if (c >= 0xC2 && c <= 0xDF) {
                d->utf8_need = 1, d->utf8_cp = c & 0x1F, d->utf8_min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
                d->utf8_need = 2, d->utf8_cp = c & 0x0F, d->utf8_min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
                d->utf8_need = 3, d->utf8_cp = c & 0x07, d->utf8_min = 0x10000;
        } else if (c >= 0x80)
                return -EBADMSG;
        out[0] = (char) c;
        return 1;
}

static int end_hex(JStrDecoder *d, char out[static 4]) {
        uint32_t u = d->acc;

        if (d->high) {
                uint32_t cp;

                if (u < 0xDC00 || u > 0xDFFF)
                        return -EBADMSG;
                cp = 0x10000 + ((d->high - 0xD800) << 10) + (u - 0xDC00);
                d->high = 0;
                d->state = S_CHAR;
                return (int) utf8_encode(cp, out);
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
                d->high = u;
                d->state = S_LOW_SLASH;
                return 0;
        }
        if (u == 0 || (u >= 0xDC00 && u <= 0xDFFF))
                return -EBADMSG;
        d->state = S_CHAR;
        return (int) utf8_encode(u, out);
}

int jstr_feed(JStrDecoder *d, unsigned char c, char out[static 4]) {
        int h;

        switch (d->state) {
        case S_CHAR:
                if (d->utf8_need == 0 && c == '"') {
                        d->state = S_DONE;
                        return JSTR_END;
                }
                if (d->utf8_need == 0 && c == '\\') {
                        d->state = S_ESCAPE;
                        return 0;
                }
                return feed_raw(d, c, out);
        case S_ESCAPE:
                d->state = S_CHAR;
                switch (c) {
                case '"': case '\\': case '/':
                        out[0] = (char) c;
                        return 1;
                case 'b': out[0] = '\b'; return 1;
                case 'f': out[0] = '\f'; return 1;
                case 'n': out[0] = '\n'; return 1;
                case 'r': out[0] = '\r'; return 1;
                case 't': out[0] = '\t'; return 1;
                case 'u':
                        d->state = S_HEX, d->n_hex = 0, d->acc = 0;
                        return 0;
                }
                return -EBADMSG;
        case S_HEX:
                h = unhexchar((char) c);
                if (h < 0)
                        return -EBADMSG;
                d->acc = (d->acc << 4) | (uint32_t) h;
                if (++d->n_hex < 4)
                        return 0;
                return end_hex(d, out);
        case S_LOW_SLASH:
                if (c != '\\')
                        return -EBADMSG;
                d->state = S_LOW_U;
                return 0;
        case S_LOW_U:
                if (c != 'u')
                        return -EBADMSG;
                d->state = S_HEX, d->n_hex = 0, d->acc = 0;
                return 0;
        }
        return -EBADMSG;        /* fed past the end */
}

int jstr_at_boundary(const JStrDecoder *d) {
        return d->state == S_CHAR && d->utf8_need == 0;
}

size_t jstr_escape_byte(unsigned char c, char *out) {
        static const char hex[] = "0123456789abcdef";

        switch (c) {
        case '"': case '\\':
                out[0] = '\\', out[1] = (char) c;
                return 2;
        case '\b': out[0] = '\\', out[1] = 'b'; return 2;
        case '\f': out[0] = '\\', out[1] = 'f'; return 2;
        case '\n': out[0] = '\\', out[1] = 'n'; return 2;
        case '\r': out[0] = '\\', out[1] = 'r'; return 2;
        case '\t': out[0] = '\\', out[1] = 't'; return 2;
        }
        if (c < 0x20) {
                out[0] = '\\', out[1] = 'u', out[2] = '0', out[3] = '0';
                out[4] = hex[c >> 4], out[5] = hex[c & 0xF];
                return 6;
        }
        out[0] = (char) c;
        return 1;
}

size_t jstr_escaped_len(const char *s, size_t n) {
        char tmp[JSTR_ESCAPE_MAX];
        size_t len = 0;

        for (size_t i = 0; i < n; i++)
                len += jstr_escape_byte((unsigned char) s[i], tmp);
        return len;
}

size_t jstr_escape(const char *s, size_t n, char *out) {
        size_t len = 0;

        for (size_t i = 0; i < n; i++)
                len += jstr_escape_byte((unsigned char) s[i], out + len);
        return len;
}
