/* SPDX-License-Identifier: MIT */
/* POST /files with X-Dest-Path: the raw body is the file (the Go client's
 * form). Everything about the destination is decided from the headers,
 * before a byte of body is read. */

#include <stdlib.h>

#include "files.h"
#include "macro.h"

/* Content-Length when sent (the worker core checked its syntax), else UINT64_MAX. */
static uint64_t declared_length(Request *r) {
        const char *cl = request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);

        return cl ? strtoull(cl, NULL, 10) : UINT64_MAX;
}

int files_post_raw_body(Request *r, const char *data, size_t size) {
        FilesRequest *f = files_request(r);

        if (data)
                return files_write_data(r, data, size);

        const char *dest = request_header(r, "X-Dest-Path");
        if (!dest) {
                files_fail(f, MHD_HTTP_BAD_REQUEST, "send the destination in an X-Dest-Path header, "
                           "or use POST /receive (multipart: path, file)", "X-Dest-Path header is required");
                return files_reply_failure(r);
        }
        if (files_write_begin(r, dest, strlen(dest), declared_length(r)) < 0)
                return files_reply_failure(r);
        return 0;
}

int files_post_raw(Request *r) {
        return files_write_finish(r);
}
