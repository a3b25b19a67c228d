/* SPDX-License-Identifier: MIT */
/* POST /receive: multipart/form-data with a "path" field and a "file" field
 * (README). libmicrohttpd's post processor parses the body as it streams
 * in; "path" must come first, since the file goes to disk as it arrives. */

#include <strings.h>

#include "files.h"
#include "macro.h"
#include "multipart.h"

static int sink_begin(void *userdata, const char *path, size_t len) {
        return files_write_begin(userdata, path, len, UINT64_MAX);
}

static int sink_data(void *userdata, const char *data, size_t size) {
        return files_write_data(userdata, data, size);
}

/* The post processor's iterator: the field rules are multipart.c's; a
 * refusal of theirs is recorded here, a sink records its own. */
static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                const char *content_type, const char *transfer_encoding, const char *data,
                                uint64_t off, size_t size) {
        Request *r = cls;
        FilesRequest *f = files_request(r);
        const MultipartSink sink = { .begin = sink_begin, .data = sink_data, .userdata = r };

        if (f->error_status != 0)
                return MHD_NO;
        if (multipart_field(&f->multipart, key, off, data, size, &sink) < 0) {
                if (f->multipart.error_status != 0)
                        files_fail(f, f->multipart.error_status, f->multipart.hint, "%s", f->multipart.error);
                return MHD_NO;
        }
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
                f->pp = MHD_create_post_processor(r->connection, MULTIPART_BUFFER_SIZE, on_field, r);
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
        if (f->error_status == 0 && !f->multipart.file_seen)
                files_fail(f, MHD_HTTP_BAD_REQUEST, "send the fields path and file (curl -F path=/dir/name -F file=@name)",
                           f->multipart.path ? "the file field is missing" : "the path and file fields are missing");
        if (f->error_status != 0)
                return files_reply_failure(r);
        return files_write_finish(r);
}
