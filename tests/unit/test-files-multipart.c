/* SPDX-License-Identifier: MIT */
/* POST /receive's field rules (src/files/multipart.c), fed pieces as
 * libmicrohttpd's post processor hands them, without MHD: path before file,
 * one of each, the path in pieces and at most PATH_MAX, other fields
 * ignored. tests/fuzz/fuzz-multipart.c drives the real post processor. */

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>

#include "macro.h"
#include "multipart.h"
#include "tests.h"

/* What the sinks were handed. */
typedef struct Sink {
        unsigned n_begin;
        char path[PATH_MAX + 1];
        size_t path_len;
        char file[256];
        size_t file_size;
        int begin_ret, data_ret;
} Sink;

static int on_begin(void *userdata, const char *path, size_t len) {
        Sink *s = userdata;

        s->n_begin++;
        ASSERT_TRUE(len <= PATH_MAX);
        ASSERT_INT_EQ(path[len], 0);
        memcpy(s->path, path, len + 1);
        s->path_len = len;
        return s->begin_ret;
}

static int on_data(void *userdata, const char *data, size_t size) {
        Sink *s = userdata;

        ASSERT_INT_EQ(s->n_begin, 1);
        ASSERT_TRUE(size <= sizeof(s->file) - s->file_size);
        memcpy(s->file + s->file_size, data, size);
        s->file_size += size;
        return s->data_ret;
}

static MultipartState m;
static Sink s;
static MultipartSink sink = { .begin = on_begin, .data = on_data, .userdata = &s };

static void reset(void) {
        multipart_state_done(&m);
        m = (MultipartState) {};
        s = (Sink) {};
}

static int piece(const char *key, uint64_t off, const char *data) {
        return multipart_field(&m, key, off, data, strlen(data), &sink);
}

static void assert_refused(int r, const char *error) {
        ASSERT_INT_EQ(r, -EBADMSG);
        ASSERT_INT_EQ(m.error_status, MHD_HTTP_BAD_REQUEST);
        ASSERT_STREQ(m.error, error);
        /* Nothing after a refusal is taken. */
        ASSERT_INT_EQ(piece("file", 0, "more"), -ECANCELED);
        ASSERT_INT_EQ(piece("other", 0, "x"), -ECANCELED);
}

TEST(path_then_file) {
        reset();
        ASSERT_OK(piece("path", 0, "/srv/app/x"));
        ASSERT_OK(piece("file", 0, "hello "));
        ASSERT_OK(piece("file", 6, "world"));
        ASSERT_INT_EQ(s.n_begin, 1);
        ASSERT_STREQ(s.path, "/srv/app/x");
        ASSERT_INT_EQ(s.path_len, 10);
        ASSERT_INT_EQ(s.file_size, 11);
        ASSERT_TRUE(memcmp(s.file, "hello world", 11) == 0);
        ASSERT_TRUE(m.file_seen);
        ASSERT_INT_EQ(m.file_size, 11);
        ASSERT_INT_EQ(m.error_status, 0);

        /* An empty file: one piece of 0 bytes. */
        reset();
        ASSERT_OK(piece("path", 0, "/srv/app/empty"));
        ASSERT_OK(piece("file", 0, ""));
        ASSERT_INT_EQ(s.n_begin, 1);
        ASSERT_INT_EQ(s.file_size, 0);
}

TEST(path_in_three_pieces) {
        reset();
        ASSERT_OK(piece("path", 0, "/srv"));
        ASSERT_OK(piece("path", 4, "/app"));
        ASSERT_OK(piece("path", 8, "/x.bin"));
        ASSERT_INT_EQ(s.n_begin, 0);
        ASSERT_OK(piece("file", 0, "data"));
        ASSERT_STREQ(s.path, "/srv/app/x.bin");
        ASSERT_INT_EQ(s.path_len, 14);
}

/* The post processor hands a field's first piece with 0 bytes when a read
 * ended just after the part's headers, then the bytes again at off 0 (found
 * by fuzz-multipart: "more than one file field" for a good upload). */
TEST(empty_first_piece) {
        reset();
        ASSERT_OK(piece("path", 0, ""));
        ASSERT_OK(piece("path", 0, "/srv"));
        ASSERT_OK(piece("path", 4, "/a"));
        ASSERT_OK(piece("file", 0, ""));
        ASSERT_OK(piece("file", 0, "ab"));
        ASSERT_OK(piece("file", 2, "c"));
        ASSERT_INT_EQ(s.n_begin, 1);
        ASSERT_STREQ(s.path, "/srv/a");
        ASSERT_INT_EQ(s.file_size, 3);
        ASSERT_TRUE(memcmp(s.file, "abc", 3) == 0);
        ASSERT_INT_EQ(m.error_status, 0);
}

TEST(file_before_path) {
        reset();
        ASSERT_OK(piece("comment", 0, "x"));
        assert_refused(piece("file", 0, "data"), "the path field is missing");
        ASSERT_STREQ(m.hint, "send a path field (the destination) before the file field");
        ASSERT_INT_EQ(s.n_begin, 0);
        ASSERT_TRUE(m.file_seen);
        ASSERT_NULL(m.path);

        reset();
        ASSERT_OK(piece("path", 0, "/srv/a"));
        ASSERT_OK(piece("file", 0, "data"));
        assert_refused(piece("path", 0, "/srv/b"), "the path field came after the file");
        ASSERT_STREQ(m.hint, "send the path field before the file field");
}

TEST(duplicate_path) {
        reset();
        ASSERT_OK(piece("path", 0, "/srv/a"));
        assert_refused(piece("path", 0, "/srv/b"), "more than one path field");
        ASSERT_NULL(m.hint);
        ASSERT_STREQ(m.path, "/srv/a");

        /* Another field between them: even an empty first path counts. */
        reset();
        ASSERT_OK(piece("path", 0, ""));
        ASSERT_OK(piece("comment", 0, "x"));
        assert_refused(piece("path", 0, "/srv/b"), "more than one path field");
        ASSERT_INT_EQ(s.n_begin, 0);
}

TEST(duplicate_file) {
        reset();
        ASSERT_OK(piece("path", 0, "/srv/a"));
        ASSERT_OK(piece("file", 0, "one"));
        assert_refused(piece("file", 0, "two"), "more than one file field");
        ASSERT_INT_EQ(s.n_begin, 1);
        ASSERT_INT_EQ(s.file_size, 3);

        reset();
        ASSERT_OK(piece("path", 0, "/srv/a"));
        ASSERT_OK(piece("file", 0, "one"));
        ASSERT_OK(piece("submit", 0, "Upload"));
        assert_refused(piece("file", 0, ""), "more than one file field");
        ASSERT_INT_EQ(s.n_begin, 1);
}

TEST(path_max) {
        static char big[PATH_MAX + 2];

        /* PATH_MAX bytes in two pieces are taken (files_write_begin()
         * judges them), one more byte is not. */
        reset();
        memset(big, 'a', PATH_MAX);
        big[0] = '/';
        ASSERT_OK(multipart_field(&m, "path", 0, big, PATH_MAX - 1, &sink));
        ASSERT_OK(multipart_field(&m, "path", PATH_MAX - 1, big, 1, &sink));
        ASSERT_INT_EQ(m.path_len, PATH_MAX);
        ASSERT_OK(piece("file", 0, "x"));
        ASSERT_INT_EQ(s.path_len, PATH_MAX);

        reset();
        ASSERT_OK(multipart_field(&m, "path", 0, big, PATH_MAX, &sink));
        assert_refused(multipart_field(&m, "path", PATH_MAX, "b", 1, &sink), "invalid path: longer than PATH_MAX");

        reset();
        assert_refused(multipart_field(&m, "path", 0, big, PATH_MAX + 1, &sink), "invalid path: longer than PATH_MAX");
        ASSERT_NULL(m.path);
}

TEST(ignored_fields) {
        reset();
        ASSERT_OK(piece("comment", 0, "before"));
        ASSERT_OK(piece("comment", 6, " and more"));
        /* A part without a name: key NULL (found by fuzz-multipart: a
         * strcmp() of NULL that killed the worker). */
        ASSERT_OK(piece(NULL, 0, "nameless"));
        ASSERT_OK(piece("path", 0, "/srv/app/x"));
        ASSERT_OK(piece(NULL, 0, ""));
        ASSERT_OK(piece("Path", 0, "/srv/other"));     /* names are case-sensitive */
        ASSERT_OK(piece("file", 0, "data"));
        ASSERT_OK(piece("after", 0, "ignored"));
        ASSERT_OK(piece(NULL, 0, "nameless"));
        ASSERT_INT_EQ(s.n_begin, 1);
        ASSERT_STREQ(s.path, "/srv/app/x");
        ASSERT_INT_EQ(s.file_size, 4);
        ASSERT_INT_EQ(m.error_status, 0);

        /* Only other fields: nothing begins, nothing is refused here
         * (receive.c answers "the path and file fields are missing"). */
        reset();
        ASSERT_OK(piece(NULL, 0, "x"));
        ASSERT_OK(piece("submit", 0, "Upload"));
        ASSERT_FALSE(m.file_seen);
        ASSERT_NULL(m.path);
}

TEST(sink_failures) {
        /* A sink's failure stops the body without a refusal of ours: the
         * sink recorded its own answer. */
        reset();
        s.begin_ret = -1;
        ASSERT_OK(piece("path", 0, "/srv/a"));
        ASSERT_INT_EQ(piece("file", 0, "data"), -1);
        ASSERT_INT_EQ(m.error_status, 0);
        ASSERT_INT_EQ(s.file_size, 0);
        ASSERT_INT_EQ(piece("file", 4, "more"), -ECANCELED);

        reset();
        s.data_ret = -1;
        ASSERT_OK(piece("path", 0, "/srv/a"));
        ASSERT_INT_EQ(piece("file", 0, "data"), -1);
        ASSERT_INT_EQ(m.error_status, 0);
        ASSERT_INT_EQ(piece("file", 4, "more"), -ECANCELED);
        ASSERT_INT_EQ(s.n_begin, 1);
        ASSERT_INT_EQ(s.file_size, 4);
        reset();
}

int main(void) {
        RUN(path_then_file);
        RUN(path_in_three_pieces);
        RUN(empty_first_piece);
        RUN(file_before_path);
        RUN(duplicate_path);
        RUN(duplicate_file);
        RUN(path_max);
        RUN(ignored_fields);
        RUN(sink_failures);
        return 0;
}
