/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The dispatcher only looks at the request line ("GET /tools HTTP/1.1"),
 * peeked from the socket without consuming it, so the worker reads the
 * untouched request. */

#define REQUEST_LINE_MAX 8192

typedef enum RequestLineResult {
        REQUEST_LINE_INCOMPLETE,   /* valid so far, need more bytes */
        REQUEST_LINE_OK,
        REQUEST_LINE_BAD,          /* 400 */
        REQUEST_LINE_TOO_LONG,     /* 414 */
} RequestLineResult;

typedef struct RequestLine {
        const char *method;
        size_t method_len;
        const char *path;          /* target without query or fragment */
        size_t path_len;
} RequestLine;

/* Parses the first line of buf[0..len). len may exceed REQUEST_LINE_MAX only
 * when the caller peeked more; nothing beyond REQUEST_LINE_MAX is looked at. */
RequestLineResult request_line_parse(const char *buf, size_t len, RequestLine *ret);
