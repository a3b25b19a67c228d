/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "request-line.h"

#define METHOD_MAX 16

static int is_tchar(char c) {
        return (c >= 'A' && c <= 'Z');
}

static int is_target_char(char c) {
        return c > 0x20 && c < 0x7f;
}

/* Checks buf[0..len) (no line end in it) is a prefix of a valid request line. */
static RequestLineResult check_prefix(const char *buf, size_t len) {
        static const char version[] = "HTTP/1.";
        size_t i = 0;

        while (i < len && is_tchar(buf[i]))
                i++;
        if (i > METHOD_MAX)
                return REQUEST_LINE_BAD;
        if (i == len)
                return REQUEST_LINE_INCOMPLETE;
        if (i == 0 || buf[i] != ' ')
                return REQUEST_LINE_BAD;
        i++;
        if (i == len)
                return REQUEST_LINE_INCOMPLETE;
        if (buf[i] != '/')
                return REQUEST_LINE_BAD;
        while (i < len && is_target_char(buf[i]))
                i++;
        if (i == len)
                return REQUEST_LINE_INCOMPLETE;
        if (buf[i] != ' ')
                return REQUEST_LINE_BAD;
        i++;
        for (size_t k = 0; i < len; i++, k++) {
                if (k < sizeof(version) - 1) {
                        if (buf[i] != version[k])
                                return REQUEST_LINE_BAD;
                } else if (k == sizeof(version) - 1) {
                        if (buf[i] != '0' && buf[i] != '1')
                                return REQUEST_LINE_BAD;
                } else if (k == sizeof(version) && buf[i] == '\r') {
                        continue;
                } else
                        return REQUEST_LINE_BAD;
        }
        return REQUEST_LINE_INCOMPLETE;
}

RequestLineResult request_line_parse(const char *buf, size_t len, RequestLine *ret) {
        const char *nl, *sp1, *sp2, *end;
        size_t line_len;
        RequestLineResult r;

        if (len > REQUEST_LINE_MAX)
                len = REQUEST_LINE_MAX;

        nl = memchr(buf, '\n', len);
        if (!nl) {
                r = check_prefix(buf, len);
                if (r == REQUEST_LINE_INCOMPLETE && len >= REQUEST_LINE_MAX)
                        return REQUEST_LINE_TOO_LONG;
                return r;
        }

        line_len = (size_t) (nl - buf);
        if (line_len > 0 && buf[line_len - 1] == '\r')
                line_len--;
        /* The complete line must be exactly METHOD SP TARGET SP HTTP/1.x */
        if (check_prefix(buf, line_len) != REQUEST_LINE_INCOMPLETE)
                return REQUEST_LINE_BAD;
        sp1 = memchr(buf, ' ', line_len);
        if (!sp1)
                return REQUEST_LINE_BAD;
        sp2 = memchr(sp1 + 1, ' ', line_len - (size_t) (sp1 + 1 - buf));
        if (!sp2 || (size_t) (buf + line_len - (sp2 + 1)) != strlen("HTTP/1.1"))
                return REQUEST_LINE_BAD;

        end = sp1 + 1;
        while (end < sp2 && *end != '?' && *end != '#')
                end++;

        *ret = (RequestLine) {
                .method = buf,
                .method_len = (size_t) (sp1 - buf),
                .path = sp1 + 1,
                .path_len = (size_t) (end - (sp1 + 1)),
        };
        return REQUEST_LINE_OK;
}
