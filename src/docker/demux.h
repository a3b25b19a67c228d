/* SPDX-License-Identifier: MIT */
#pragma once

/* The Engine's multiplexed log stream (containers without a TTY): frames of
 * an 8-byte header {stream: 0 stdin, 1 stdout, 2 stderr, 3 systemerr; 0 0 0;
 * size: uint32 big-endian} then size bytes. Fed in pieces of any size. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Demux {
        unsigned char header[8];
        size_t header_have;
        uint32_t left;          /* payload bytes still due in this frame */
} Demux;

/* Called with payload bytes in stream order; a negative return stops. */
typedef int (*DemuxSink)(void *userdata, unsigned stream, const char *data, size_t size);

/* 0, -EBADMSG on a malformed header, or the sink's negative return. */
int demux_feed(Demux *d, const char *data, size_t size, DemuxSink sink, void *userdata);
/* Whether the stream may end here (not inside a header or a frame). */
bool demux_complete(const Demux *d);
