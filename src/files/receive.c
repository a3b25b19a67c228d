/* SPDX-License-Identifier: MIT */
/* POST /receive: multipart/form-data with a "path" field and a "file" field
 * (README). libmicrohttpd's post processor parses the body as it streams
 * in; "path" must come first, since the file goes to disk as it arrives. */

#include <limits.h>
#include <strings.h>

#include "files.h"
#include "macro.h"

#define POST_BUFFER_SIZE (16 * 1024)

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                const char *content_type, const char *transfer_encoding, const char *data,
                                uint64_t off, size_t size) {
        Request *r = cls;
        FilesRequest *f = files_request(r);

        if (f->error_status != 0)
                return MHD_NO;

        if (streq(key, "path")) {
                if (f->file_seen) {
                        files_fail(f, MHD_HTTP_BAD_REQUEST, "send the path field before the file field",
                                   "the path field came after the file");
                        return MHD_NO;
                }
                if (off == 0 && f->field_path_len > 0) {
                        files_fail(f, MHD_HTTP_BAD_REQUEST, NULL, "more than one path field");
                        return MHD_NO;
                }
                if (size > PATH_MAX - f->field_path_len) {
                        files_fail(f, MHD_HTTP_BAD_REQUEST, NULL, "invalid path: longer than PATH_MAX");
                        return MHD_NO;
                }
                if (!f->field_path) {
                        f->field_path = malloc(PATH_MAX + 1);
                        if (!f->field_path) {
                                files_fail(f, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
                                return MHD_NO;
                        }
                }
                memcpy(f->field_path + f->field_path_len, data, size);
                f->field_path_len += size;
                f->field_path[f->field_path_len] = 0;
                return MHD_YES;
        }

        if (streq(key, "file")) {
                if (off == 0 && !f->file_seen) {
                        f->file_seen = true;
                        if (!f->field_path) {
                                files_fail(f, MHD_HTTP_BAD_REQUEST,
                                           "send a path field (the destination) before the file field",
                                           "the path field is missing");
                                return MHD_NO;
                        }
                        if (files_write_begin(r, f->field_path, f->field_path_len, UINT64_MAX) < 0)
                                return MHD_NO;
                } else if (off == 0) {
                        files_fail(f, MHD_HTTP_BAD_REQUEST, NULL, "more than one file field");
                        return MHD_NO;
                }
                return files_write_data(r, data, size) < 0 ? MHD_NO : MHD_YES;
        }

        /* Other fields are ignored, as HTML forms send them. */
        return MHD_YES;
}

static bool is_multipart(Request *r) {
        const char *ct = request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);

        return ct && strncasecmp(ct, "multipart/form-data", STRLEN("multipart/form-data")) == 0;
}

int files_receive_body(Request *r, const char *data, size_t size) {
        FilesRequest *f = files_request(r);

        if (!data) {
                if (!is_multipart(r))
                        return reply_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "the body must be multipart/form-data",
                                           "send the fields path and file, e.g. curl -F path=/dir/name -F file=@name");
                f->pp = MHD_create_post_processor(r->connection, POST_BUFFER_SIZE, on_field, r);
                if (!f->pp)
                        return reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid multipart/form-data request",
                                           "the Content-Type needs a boundary");
                return 0;
        }
        if (f->error_status != 0)
                return -1;
        if (MHD_post_process(f->pp, data, size) != MHD_YES) {
                if (f->error_status == 0)
                        files_fail(f, MHD_HTTP_BAD_REQUEST, NULL, "invalid multipart/form-data body");
                return -1;
        }
        return 0;
}

int files_receive(Request *r) {
        FilesRequest *f = files_request(r);

        if (f->error_status != 0)
                return files_reply_failure(r);
        /* The end of the body flushes what the processor still holds. */
        if (f->pp) {
                enum MHD_Result ok = MHD_destroy_post_processor(f->pp);

                f->pp = NULL;
                if (f->error_status != 0)
                        return files_reply_failure(r);
                if (ok != MHD_YES)
                        files_fail(f, MHD_HTTP_BAD_REQUEST, NULL, "the multipart/form-data body ended early");
        }
        if (f->error_status == 0 && !f->file_seen)
                files_fail(f, MHD_HTTP_BAD_REQUEST, "send the fields path and file (curl -F path=/dir/name -F file=@name)",
                           f->field_path ? "the file field is missing" : "the path and file fields are missing");
        if (f->error_status != 0)
                return files_reply_failure(r);
        return files_write_finish(r);
}
