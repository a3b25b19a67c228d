/* SPDX-License-Identifier: MIT */
/* POST /receive's body: libmicrohttpd's own post processor, on a real MHD
 * connection, cutting a multipart/form-data body into fields, and
 * src/files/multipart.c's rules taking them, wired as receive.c wires them.
 *
 * Input: a first line, then the body. The line is what follows
 * "multipart/form-data" in the Content-Type ("; boundary=b"), then
 * optionally a TAB and the sizes of the pieces the body arrives in
 * ("\t3,1,7", cycled; without them, a fixed mix of small and large ones).
 *
 * The body goes through twice, in one piece and in those pieces, and the
 * answer must be the same: where the network cut the body must not matter.
 * Checked on the way (abort() on a violation): the post processor hands a
 * field's pieces in order (off is the bytes before them); begin() comes at
 * most once, after a path field, with exactly its bytes, NUL-terminated and
 * at most PATH_MAX; data() only after a begin() that succeeded, never more
 * bytes than the body has.
 *
 * MHD_create_post_processor() takes the Content-Type from a connection, so
 * one MHD daemon (no listening socket, no thread: MHD_run() here) lives for
 * the whole run, and each input is a request written into a socketpair whose
 * other end MHD_add_connection() hands it; the access handler does the work
 * and refuses the request, which closes the connection.
 * FUZZ_MULTIPART_TRACE=1 prints each input's answer (to check a seed). */

#include <limits.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "files-path.h"
#include "fuzz.h"
#include "macro.h"
#include "multipart.h"

#define CT_MAX 1024             /* the first line: longer inputs are skipped */
#define PIECES_MAX 16
/* The sink refuses a file past this, as upload_write() does past max_size. */
#define FILE_MAX 4096

typedef struct Input {
        char content_type[STRLEN("multipart/form-data") + CT_MAX + 1];
        size_t pieces[PIECES_MAX], n_pieces;   /* the second pass's, cycled */
        const char *body;
        size_t body_size;
} Input;

/* One pass of the body through a post processor, and what came out. */
typedef struct Run {
        const Input *in;
        bool in_pieces;
        MultipartState m;
        /* The answer files_receive() would give: 0 for a file written. */
        unsigned status;
        const char *error;
        /* What the sinks were handed. */
        bool begun, begin_ok;
        char *path;
        size_t path_len;
        char *file;
        size_t file_size;
        /* The path field's bytes as the iterator saw them, and the last
         * piece, for the checks. */
        char *field_path;
        size_t field_path_len;
        bool field_path_seen;
        char *last_key;
        bool last_key_null;
        uint64_t last_end;
        bool any_piece;
} Run;

static const Input *current;
static bool handled, closed, trace;

_noreturn_ _printf_(2, 3) static void violation(const Run *run, const char *format, ...) {
        va_list ap;

        fprintf(stderr, "fuzz-multipart: %s", run ? run->in_pieces ? "pieces pass: " : "one-piece pass: " : "");
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}

/* The first failure is the answer, as files_fail() keeps it. */
static int fail(Run *run, unsigned status, const char *error) {
        if (run->status == 0) {
                run->status = status;
                run->error = error;
        }
        return -1;
}

static int sink_begin(void *userdata, const char *path, size_t len) {
        Run *run = userdata;
        const char *why;

        if (run->begun)
                violation(run, "begin() called twice");
        run->begun = true;
        if (!run->field_path_seen)
                violation(run, "begin() without a path field");
        if (len > PATH_MAX || path[len] != 0)
                violation(run, "begin() got a path of %zu bytes, or one not NUL-terminated", len);
        if (len != run->field_path_len || memcmp(path, run->field_path, len) != 0)
                violation(run, "begin() got a path that is not the path field's bytes (%zu, %zu bytes)", len,
                          run->field_path_len);
        run->path = memdup_str(path, len);
        if (!run->path)
                abort();
        run->path_len = len;
        /* files_write_begin() starts with this check, then rules and disk. */
        if (files_path_check(path, len, &why) < 0)
                return fail(run, MHD_HTTP_BAD_REQUEST, "invalid path");
        run->begin_ok = true;
        return 0;
}

static int sink_data(void *userdata, const char *data, size_t size) {
        Run *run = userdata;

        if (!run->begin_ok)
                violation(run, "data() without a begin() that succeeded");
        if (size > run->in->body_size - run->file_size)
                violation(run, "data() was handed %zu bytes more than the body has", size);
        if (size > 0)
                memcpy(run->file + run->file_size, data, size);
        run->file_size += size;
        if (run->file_size > FILE_MAX)
                return fail(run, MHD_HTTP_CONTENT_TOO_LARGE, "file too large");
        return 0;
}

/* What our code takes from the post processor: a field's pieces in order,
 * at the offset of the bytes before them. */
static void check_piece(Run *run, const char *key, uint64_t off, size_t size) {
        bool same = run->any_piece && (key ? !run->last_key_null && run->last_key && streq(key, run->last_key)
                                           : run->last_key_null);

        if (off != 0 && (!same || off != run->last_end))
                violation(run, "a piece of field \"%s\" at offset %llu, after %llu bytes of \"%s\"", strna(key),
                          (unsigned long long) off, (unsigned long long) run->last_end, strna(run->last_key));
        if (!same) {
                free(run->last_key);
                run->last_key = key ? strdup(key) : NULL;
                if (key && !run->last_key)
                        abort();
                run->last_key_null = !key;
        }
        run->any_piece = true;
        run->last_end = off + size;
}

/* receive.c's on_field(), with the harness's sinks and checks. */
static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                const char *content_type, const char *transfer_encoding, const char *data,
                                uint64_t off, size_t size) {
        Run *run = cls;
        const MultipartSink sink = { .begin = sink_begin, .data = sink_data, .userdata = run };

        check_piece(run, key, off, size);
        if (run->status != 0)
                return MHD_NO;
        if (key && streq(key, "path") && !run->m.file_seen) {
                run->field_path_seen = true;
                if (size <= PATH_MAX - MIN(run->field_path_len, (size_t) PATH_MAX)) {
                        memcpy(run->field_path + run->field_path_len, data, size);
                        run->field_path_len += size;
                }
        }
        if (multipart_field(&run->m, key, off, data, size, &sink) < 0) {
                if (run->m.error_status != 0)
                        fail(run, run->m.error_status, run->m.error);
                return MHD_NO;
        }
        return MHD_YES;
}

/* files_receive_body() then files_receive(), on one pass. */
static void receive(struct MHD_Connection *c, Run *run) {
        const Input *in = run->in;
        struct MHD_PostProcessor *pp;
        enum MHD_Result ok;

        run->file = malloc(in->body_size + 1);
        run->field_path = malloc(PATH_MAX + 1);
        if (!run->file || !run->field_path)
                abort();
        pp = MHD_create_post_processor(c, MULTIPART_BUFFER_SIZE, on_field, run);
        if (!pp) {
                fail(run, MHD_HTTP_BAD_REQUEST, "invalid multipart/form-data request");
                return;
        }
        for (size_t at = 0, i = 0; at < in->body_size; i++) {
                size_t n = in->body_size - at;

                if (run->in_pieces)
                        n = MIN(n, in->pieces[i % in->n_pieces]);
                if (MHD_post_process(pp, in->body + at, n) != MHD_YES) {
                        fail(run, MHD_HTTP_BAD_REQUEST, "invalid multipart/form-data body");
                        break;
                }
                at += n;
                if (run->status != 0)
                        break;  /* files_receive_body() takes no more */
        }
        ok = MHD_destroy_post_processor(pp);
        if (ok != MHD_YES)
                fail(run, MHD_HTTP_BAD_REQUEST, "the multipart/form-data body ended early");
        if (!run->m.file_seen)
                fail(run, MHD_HTTP_BAD_REQUEST, run->m.path ? "the file field is missing" :
                                                              "the path and file fields are missing");
}

static void run_done(Run *run) {
        multipart_state_done(&run->m);
        free(run->path);
        free(run->file);
        free(run->field_path);
        free(run->last_key);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        Run one = { .in = current }, pieces = { .in = current, .in_pieces = true };

        handled = true;
        receive(c, &one);
        receive(c, &pieces);
        if (one.status != pieces.status || !streq_ptr(one.error, pieces.error))
                violation(NULL, "in one piece: %u %s; in pieces: %u %s", one.status, strna(one.error), pieces.status,
                          strna(pieces.error));
        if (one.status == 0 && (one.file_size != pieces.file_size ||
                                memcmp(one.file, pieces.file, one.file_size) != 0 ||
                                one.path_len != pieces.path_len || memcmp(one.path, pieces.path, one.path_len) != 0))
                violation(NULL, "a file of %zu bytes in one piece, %zu in pieces, or another path", one.file_size,
                          pieces.file_size);
        if (trace)
                fprintf(stderr, "fuzz-multipart: %u %s, path \"%s\", %zu bytes of file\n", one.status,
                        strna(one.error), strna(one.path), one.file_size);
        run_done(&one);
        run_done(&pieces);
        return MHD_NO;          /* closes the connection: no answer to send */
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        if (code == MHD_CONNECTION_NOTIFY_CLOSED)
                closed = true;
}

static struct MHD_Daemon *daemon_get(void) {
        static struct MHD_Daemon *d;

        if (!d) {
                trace = getenv("FUZZ_MULTIPART_TRACE");
                d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
                                     MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
                                     MHD_OPTION_END);
                if (!d)
                        abort();
        }
        return d;
}

/* The first line: the Content-Type's tail, then the pieces' sizes. */
static bool parse_input(const uint8_t *data, size_t size, Input *in) {
        static const size_t mix[] = { 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987 };
        const uint8_t *nl = memchr(data, '\n', size);
        size_t line = nl ? (size_t) (nl - data) : size, ct = STRLEN("multipart/form-data");
        const uint8_t *tab;

        if (line > CT_MAX)
                return false;
        tab = memchr(data, '\t', line);
        memcpy(in->content_type, "multipart/form-data", ct);
        /* A header value holds no CR, LF or NUL. */
        for (const uint8_t *p = data; p < (tab ?: data + line); p++)
                if (*p != '\r' && *p != 0)
                        in->content_type[ct++] = (char) *p;
        in->content_type[ct] = 0;

        in->n_pieces = 0;
        for (const uint8_t *p = tab; p && p < data + line && in->n_pieces < PIECES_MAX;) {
                size_t n = 0;

                if (*p < '0' || *p > '9') {
                        p++;
                        continue;
                }
                for (; p < data + line && *p >= '0' && *p <= '9'; p++)
                        n = MIN(n * 10 + (size_t) (*p - '0'), (size_t) 65536);
                if (n > 0)
                        in->pieces[in->n_pieces++] = n;
        }
        if (in->n_pieces == 0) {
                memcpy(in->pieces, mix, sizeof(mix));
                in->n_pieces = ELEMENTSOF(mix);
        }
        in->body = nl ? (const char *) nl + 1 : "";
        in->body_size = nl ? size - line - 1 : 0;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct MHD_Daemon *d = daemon_get();
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *req = NULL;
        _cleanup_close_ int fd = -1;
        static Input in;
        int sv[2], n;

        if (!parse_input(data, size, &in))
                return 0;
        n = asprintf(&req, "POST /receive HTTP/1.1\r\nHost: fuzz\r\nContent-Type: %s\r\nContent-Length: 0\r\n\r\n",
                     in.content_type);
        if (n < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        fd = sv[0];
        /* A socketpair's buffer holds the whole request. */
        if (write(fd, req, (size_t) n) != n)
                abort();
        current = &in;
        handled = closed = false;
        if (MHD_add_connection(d, sv[1], (struct sockaddr *) &sa, sizeof(sa)) != MHD_YES)
                abort();
        for (unsigned i = 0; !closed; i++) {
                /* A request MHD still waits on (a header it takes as
                 * unfinished) ends when the client hangs up. */
                if (i == 100)
                        shutdown(fd, SHUT_WR);
                if (i == 1000)
                        violation(NULL, "MHD did not close the connection");
                MHD_run(d);
        }
        if (trace && !handled)
                fprintf(stderr, "fuzz-multipart: MHD refused the request\n");
        current = NULL;
        return 0;
}
