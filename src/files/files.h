/* SPDX-License-Identifier: MIT */
#pragma once

/* The files worker (README "Files", SPEC §4): POST /receive (multipart),
 * POST /files (X-Dest-Path, raw body), GET /files?path= and ?dir=. */

#include "files-config.h"
#include "files-errors.h"
#include "multipart.h"
#include "upload.h"
#include "worker.h"

/* Inline (JSON) reads hold the file in memory: at most this much each, and
 * at most FILES_INLINE_READS_MAX of them at once. */
#define FILES_INLINE_MAX (1024 * 1024)
#define FILES_INLINE_READS_MAX 16
/* Entries one listing may hold. */
#define FILES_LIST_MAX 10000
/* A multipart body's framing on top of the file: the path field, headers. */
#define FILES_MULTIPART_SLACK (64 * 1024)

/* What a request keeps from its admission to its end (r->userdata). */
typedef struct FilesRequest {
        FilesConfig cfg;
        const FilesRule *rule;          /* the rule a write goes under */
        char *dest;                     /* the path asked for */
        Upload upload;
        bool upload_started;
        /* The first thing that went wrong while the body streamed in: the
         * handler answers it once the body is in. */
        unsigned error_status;
        char *error, *hint;
        struct MHD_PostProcessor *pp;   /* POST /receive */
        MultipartState multipart;
} FilesRequest;

int files_available(Request *r, const char **error, const char **hint);
static inline FilesRequest *files_request(Request *r) {
        return r->userdata;
}

/* Records the first failure of a streamed request (always returns -1, to
 * stop the upload). */
int files_fail(FilesRequest *f, unsigned status, const char *hint, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
/* Answers with the recorded failure. */
int files_reply_failure(Request *r);

/* Picks the write rule for path and starts the upload beneath it: every
 * refusal is recorded with files_fail() (-1 returned). */
int files_write_begin(Request *r, const char *path, size_t path_len, uint64_t declared_size);
/* Finishes the upload and answers {"written_to","bytes_written","status"}
 * (plus "job_id" when post_recv hooks run). */
int files_write_finish(Request *r);
/* Writes a piece of the file (after files_write_begin succeeded): -1 when it
 * failed (recorded) or an earlier failure stopped the upload. */
int files_write_data(Request *r, const char *data, size_t size);

/* Checks path and its rule for reading (or listing) and opens the rule's
 * directory: its fd, or -1 once a refusal was answered. */
int files_lookup(Request *r, const char *path, FilesOp op, const FilesRule **ret_rule);
/* Answers a failed lookup, read or listing. */
int files_reply_errno(Request *r, int e, FilesOp op, const FilesRule *rule);

int files_get(Request *r);

int files_read(Request *r, const char *path);
int files_list(Request *r, const char *path);
int files_post_raw_body(Request *r, const char *data, size_t size);
int files_post_raw(Request *r);
int files_receive_body(Request *r, const char *data, size_t size);
int files_receive(Request *r);
int files_body(Request *r, const char *data, size_t size);

extern const Route files_routes[];
extern const size_t files_n_routes;
