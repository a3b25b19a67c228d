/* SPDX-License-Identifier: MIT */
/* POST /receive's fields, piece by piece as the post processor hands them
 * over: "path" must come first, since the file goes to disk as it arrives. */

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>

#include "macro.h"
#include "multipart.h"

static int refuse(MultipartState *m, unsigned status, const char *hint, const char *error) {
        m->error_status = status;
        m->error = error;
        m->hint = hint;
        return -EBADMSG;
}

static int path_piece(MultipartState *m, uint64_t off, const char *data, size_t size) {
        if (m->file_seen)
                return refuse(m, MHD_HTTP_BAD_REQUEST, "send the path field before the file field",
                              "the path field came after the file");
        if (off == 0 && m->path_len > 0)
                return refuse(m, MHD_HTTP_BAD_REQUEST, NULL, "more than one path field");
        if (size > PATH_MAX - m->path_len)
                return refuse(m, MHD_HTTP_BAD_REQUEST, NULL, "invalid path: longer than PATH_MAX");
        if (!m->path) {
                m->path = malloc(PATH_MAX + 1);
                if (!m->path) {
                        refuse(m, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
                        return -ENOMEM;
                }
        }
        memcpy(m->path + m->path_len, data, size);
        m->path_len += size;
        m->path[m->path_len] = 0;
        return 0;
}

static int file_piece(MultipartState *m, uint64_t off, const char *data, size_t size, const MultipartSink *sink) {
        int e;

        if (off == 0 && !m->file_seen) {
                m->file_seen = true;
                if (!m->path)
                        return refuse(m, MHD_HTTP_BAD_REQUEST,
                                      "send a path field (the destination) before the file field",
                                      "the path field is missing");
                e = sink->begin(sink->userdata, m->path, m->path_len);
                if (e < 0)
                        return e;
        } else if (off == 0)
                return refuse(m, MHD_HTTP_BAD_REQUEST, NULL, "more than one file field");
        return sink->data(sink->userdata, data, size);
}

int multipart_field(MultipartState *m, const char *key, uint64_t off, const char *data, size_t size,
                    const MultipartSink *sink) {
        int e;

        if (m->stopped)
                return -ECANCELED;
        if (streq(key, "path"))
                e = path_piece(m, off, data, size);
        else if (streq(key, "file"))
                e = file_piece(m, off, data, size, sink);
        else
                e = 0;  /* other fields are ignored, as HTML forms send them */
        if (e < 0)
                m->stopped = true;
        return e;
}

void multipart_state_done(MultipartState *m) {
        free(m->path);
        m->path = NULL;
        m->path_len = 0;
}
