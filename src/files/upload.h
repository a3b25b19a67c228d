/* SPDX-License-Identifier: MIT */
#pragma once

/* A received file on its way to disk: streamed into an unnamed O_TMPFILE
 * in the destination's directory (a hidden ".tailkitd-recv-*" file where
 * the filesystem has no O_TMPFILE), fsynced, then linked or renamed over the
 * destination, and the directory fsynced. A reader sees the old file or the
 * whole new one; an upload that fails or is abandoned leaves nothing. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Upload {
        int dir_fd;                  /* the destination's directory */
        char *name;                  /* the destination's name in it */
        int fd;                      /* the file being written */
        char *tmp_name;              /* the hidden file's name, when not O_TMPFILE */
        uint64_t size, max_size;
        bool committed;
} Upload;

#define UPLOAD_NULL ((Upload) { .dir_fd = -1, .fd = -1 })

/* Starts writing rel beneath rule_fd, creating missing parent directories:
 * -EISDIR when rel names a directory (or an existing one), -EMLINK when the
 * destination itself is a symlink, -ENODEV when it is not a regular file,
 * and the lookup errors of files-path.h. */
int upload_begin(Upload *u, int rule_fd, const char *rel, uint64_t max_size);

/* -ENOSPC when the file system holding the file has fewer than size bytes
 * free for it (the upload's Content-Length), so that a disk too full for a
 * body is answered before the body is read, not after gigabytes of it. A
 * look, not a reservation (fallocate would charge a tmpfs's pages to the
 * worker's MemoryMax= at once): a write that meets a disk filled meanwhile
 * still fails with -ENOSPC. 0 where the file system cannot tell. */
int upload_check_space(Upload *u, uint64_t size);

/* -EFBIG past max_size (nothing more is written). */
int upload_write(Upload *u, const void *data, size_t size);

/* Gives the file its mode and owner (an existing destination's, else 0644
 * and the worker's), fsyncs it and puts it in place. */
int upload_commit(Upload *u);

/* Closes what is open; an upload not committed leaves nothing behind. */
void upload_done(Upload *u);
