/* SPDX-License-Identifier: MIT */
#pragma once

/* The field rules of POST /receive (README "Files"), apart from the
 * libmicrohttpd post processor that cuts the multipart body into fields: a
 * "path" field (the destination, at most PATH_MAX bytes), then one "file"
 * field that goes to disk as it arrives; other fields are ignored. Pure, so
 * that the unit tests and tests/fuzz/fuzz-multipart.c drive it directly. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The post processor's buffer: a part's header line or boundary must fit. */
#define MULTIPART_BUFFER_SIZE (16 * 1024)

/* Where the file goes: begin() when the file field starts, with the path
 * (len bytes, NUL-terminated; files_write_begin() judges it), then data()
 * for every piece of the file. Each returns < 0 to stop the body, having
 * recorded why itself. */
typedef struct MultipartSink {
        int (*begin)(void *userdata, const char *path, size_t len);
        int (*data)(void *userdata, const char *data, size_t size);
        void *userdata;
} MultipartSink;

typedef enum MultipartField {
        MULTIPART_NONE,
        MULTIPART_PATH,
        MULTIPART_FILE,
        MULTIPART_OTHER,
} MultipartField;

typedef struct MultipartState {
        char *path;                     /* the "path" field as it arrives (PATH_MAX + 1 bytes) */
        size_t path_len;
        bool file_seen;
        uint64_t file_size;             /* bytes of the file handed to data() */
        MultipartField last;            /* the field of the last piece */
        bool stopped;                   /* a refusal or a sink ended the body */
        /* The refusal, when the fields broke a rule (static strings; hint
         * may be NULL): 0 when none, or when a sink stopped the body. */
        unsigned error_status;
        const char *error, *hint;
} MultipartState;

/* Takes one piece of a field, as the post processor's iterator gets it (key
 * NULL for a part without a name): 0 to go on; < 0 to stop: -EBADMSG or
 * -ENOMEM when a rule refused the body (error_status says how to answer),
 * else what a sink returned. Every piece after a stop is refused. */
int multipart_field(MultipartState *m, const char *key, uint64_t off, const char *data, size_t size,
                    const MultipartSink *sink);

void multipart_state_done(MultipartState *m);
