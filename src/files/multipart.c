/* SPDX-License-Identifier: MIT */
/* POST /receive's fields, piece by piece as the post processor hands them
 * over: "path" must come first, since the file goes to disk as it arrives.
 *
 * A piece at off 0 does not always start a field: when the buffer holds only
 * the first bytes of a value (a network read ended there), the post
 * processor hands a field's first piece with size 0 and the next bytes again
 * at off 0. So a piece continues the field of the piece before it when its
 * off is the bytes that field has had so far; otherwise it starts a field.
 * An empty field followed at once by one of the same name reads as one
 * field: the iterator's calls are the same. */

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
        bool next = m->last == MULTIPART_PATH && off == m->path_len;

        if (m->file_seen)
                return refuse(m, MHD_HTTP_BAD_REQUEST, "send the path field before the file field",
                              "the path field came after the file");
        if (!next && m->path)
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
        bool next = m->last == MULTIPART_FILE && off == m->file_size;
        int e;

        if (!next) {
                if (m->file_seen)
                        return refuse(m, MHD_HTTP_BAD_REQUEST, NULL, "more than one file field");
                m->file_seen = true;
                if (!m->path)
                        return refuse(m, MHD_HTTP_BAD_REQUEST,
                                      "send a path field (the destination) before the file field",
                                      "the path field is missing");
                e = sink->begin(sink->userdata, m->path, m->path_len);
                if (e < 0)
                        return e;
        }
        e = sink->data(sink->userdata, data, size);
        if (e < 0)
                return e;
        m->file_size += size;
        return 0;
}

int multipart_field(MultipartState *m, const char *key, uint64_t off, const char *data, size_t size,
                    const MultipartSink *sink) {
        MultipartField field;
        int e;

        if (m->stopped)
                return -ECANCELED;
        /* A part without a name comes with key NULL, though microhttpd.h
         * promises a string: it is ignored like any other field. */
        field = !key ? MULTIPART_OTHER : streq(key, "path") ? MULTIPART_PATH :
                streq(key, "file") ? MULTIPART_FILE : MULTIPART_OTHER;
        if (field == MULTIPART_PATH)
                e = path_piece(m, off, data, size);
        else if (field == MULTIPART_FILE)
                e = file_piece(m, off, data, size, sink);
        else
                e = 0;  /* other fields are ignored, as HTML forms send them */
        if (e < 0) {
                m->stopped = true;
                return e;
        }
        m->last = field;
        return 0;
}

void multipart_state_done(MultipartState *m) {
        free(m->path);
        m->path = NULL;
        m->path_len = 0;
}
