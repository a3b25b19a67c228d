/* SPDX-License-Identifier: MIT */
/* GET /files?path= — JSON {path, content, size} (base64 when the content is
 * not UTF-8) up to FILES_INLINE_MAX, or the raw bytes for Accept:
 * application/octet-stream, sent from the file descriptor (sendfile) with
 * Range support. GET /files?dir= is in list.c. */

#include <stdatomic.h>
#include <sys/stat.h>

#include "base64.h"
#include "fileio.h"
#include "files-path.h"
#include "files.h"
#include "macro.h"
#include "utf8.h"
#include "wire.h"

static atomic_uint inline_reads;

static int reply_raw(Request *r, int fd, const struct stat *st) {
        uint64_t size = (uint64_t) st->st_size, start = 0, len = size;
        struct MHD_Response *resp;
        char range[96];
        int k;

        k = files_parse_range(request_header(r, MHD_HTTP_HEADER_RANGE), size, &start, &len);
        if (k == -ERANGE) {
                close(fd);
                resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
                if (resp) {
                        snprintf(range, sizeof(range), "bytes */%llu", (unsigned long long) size);
                        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range);
                }
                return reply_response(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, NULL);
        }
        /* MHD owns fd from here: it is sent with sendfile and closed after. */
        resp = MHD_create_response_from_fd_at_offset64(len, fd, start);
        if (!resp) {
                close(fd);
                return -ENOMEM;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        if (k > 0) {
                snprintf(range, sizeof(range), "bytes %llu-%llu/%llu", (unsigned long long) start,
                         (unsigned long long) (start + len - 1), (unsigned long long) size);
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range);
        }
        return reply_response(r, k > 0 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp, "application/octet-stream");
}

static int reply_inline(Request *r, const char *path, int fd, const struct stat *st) {
        _cleanup_free_ char *data = NULL, *b64 = NULL;
        json_object *o;
        size_t len;
        int e;

        if (st->st_size > FILES_INLINE_MAX)
                return reply_errorf(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                    "send Accept: application/octet-stream to download it",
                                    "file too large to return as JSON (%lld bytes, at most %d)",
                                    (long long) st->st_size, FILES_INLINE_MAX);
        e = read_full_fd(fd, FILES_INLINE_MAX, &data, &len);
        if (e == -EFBIG)
                return reply_errorf(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                    "send Accept: application/octet-stream to download it",
                                    "file too large to return as JSON (at most %d bytes)", FILES_INLINE_MAX);
        if (e < 0)
                return files_reply_errno(r, e, FILES_OP_READ, NULL);

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "path", json_object_new_string(path));
        if (utf8_is_valid(data, len, false))
                json_object_object_add(o, "content", json_object_new_string_len(data, (int) len));
        else {
                b64 = base64_encode(data, len);
                if (!b64) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                json_object_object_add(o, "content", json_object_new_string(b64));
                json_object_object_add(o, "encoding", json_object_new_string("base64"));
        }
        json_object_object_add(o, "size", json_object_new_int64((int64_t) len));
        return reply_json(r, MHD_HTTP_OK, o);
}

int files_read(Request *r, const char *path) {
        _cleanup_close_ int rule_fd = -1, fd = -1;
        const FilesRule *rule = NULL;
        struct stat st;
        int e;

        rule_fd = files_lookup(r, path, FILES_OP_READ, &rule);
        if (rule_fd < 0)
                return r->replied ? 0 : rule_fd;
        if (endswith(path, "/"))
                return files_reply_errno(r, -EISDIR, FILES_OP_READ, rule);
        fd = files_open_regular(rule_fd, files_path_relative(rule, path), &st);
        if (fd < 0)
                return files_reply_errno(r, fd, FILES_OP_READ, rule);

        if (files_accept_raw(request_header(r, MHD_HTTP_HEADER_ACCEPT)))
                return reply_raw(r, TAKE_FD(fd), &st);

        /* Inline reads sit in memory: a bounded number at once. */
        if (atomic_fetch_add(&inline_reads, 1) >= FILES_INLINE_READS_MAX) {
                atomic_fetch_sub(&inline_reads, 1);
                return reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "too many JSON reads in progress",
                                   "retry in a moment, or send Accept: application/octet-stream");
        }
        e = reply_inline(r, path, fd, &st);
        atomic_fetch_sub(&inline_reads, 1);
        return e;
}

int files_get(Request *r) {
        const char *path = request_query(r, "path"), *dir = request_query(r, "dir");

        /* ?path= wins when both are sent, as in the Go tailkitd. */
        if (path)
                return files_read(r, path);
        if (dir)
                return files_list(r, dir);
        return reply_error(r, MHD_HTTP_BAD_REQUEST, "missing query parameter",
                           "use ?path=/absolute/file or ?dir=/absolute/dir/");
}
