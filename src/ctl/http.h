/* SPDX-License-Identifier: MIT */
#pragma once

/* One HTTP exchange with a node's tailkitd over libcurl: the URL from the
 * target, --proxy, --source, the deadline. Bodies sent are in memory or
 * streamed from a file; bodies received are buffered up to a bound, or (2xx
 * only) streamed to a sink or a callback. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl.h"

#define HTTP_BODY_MAX_DEFAULT (64u * 1024 * 1024)
#define HTTP_ERROR_BODY_MAX (64u * 1024)

typedef struct HttpRequest {
        const char *method;
        const char *path;               /* absolute, escaped, may hold a query */
        const char *content_type;
        const char *accept;             /* default application/json */
        const char *extra_header;       /* one "Name: value" or NULL */
        const char *body;               /* in-memory body */
        size_t body_size;
        FILE *upload;                   /* or a streamed body of upload_size bytes */
        uint64_t upload_size;
        FILE *sink;                     /* a 2xx body goes here instead of memory */
        int (*on_data)(const char *data, size_t n, void *userdata);  /* or here */
        void *userdata;
        size_t max_body;                /* 0: HTTP_BODY_MAX_DEFAULT */
        const char *progress_label;     /* non-NULL: a progress bar on a TTY */
        bool no_timeout;                /* streams (journal -f) outlive --timeout */
} HttpRequest;

typedef struct HttpResponse {
        long status;
        char *body;                     /* NUL-terminated, for buffered bodies */
        size_t size;
        char *content_type;
} HttpResponse;

void http_response_done(HttpResponse *r);

/* 0 when the node answered (any status); otherwise the error is printed on
 * c->err and an exit code returned (EXIT_UNREACHABLE, EXIT_PROTOCOL, …). */
int http_do(Ctx *c, const HttpRequest *req, HttpResponse *resp);

/* Percent-encodes s for a path segment or a query value into a new string. */
char *http_escape(const char *s);

/* Once per process, before threads. */
int http_global_init(void);
