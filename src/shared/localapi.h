/* SPDX-License-Identifier: MIT */
#pragma once

/* One GET to tailscaled's LocalAPI over its unix socket with libcurl: Host
 * local-tailscaled.sock (the only Host it answers, reference §1.2), http
 * only, no redirects, no proxy, a deadline for connect and transfer, and a
 * bounded body. whois.c and tailkitctl's peer list share it. */

#include <stddef.h>

typedef struct LocalApiReply {
        long status;    /* the HTTP status */
        char *body;     /* NUL-terminated (NULL when empty); owned */
        size_t size;
} LocalApiReply;

void localapi_reply_done(LocalApiReply *r);

/* GETs path ("/localapi/v0/…", already escaped) within timeout_ms, keeping
 * at most body_max bytes. 0 and *ret on any HTTP answer (the caller judges
 * the status). Otherwise, with *detail saying why (caller frees; NULL only
 * on -ENOMEM):
 *   -EFBIG        the body is larger than body_max
 *   -ETIMEDOUT    no answer within timeout_ms
 *   -ENOENT       no socket at socket_path (tailscaled not running)
 *   -ECONNREFUSED nobody listens on it (a stale socket)
 *   -EPROTO       any other transport error */
int localapi_get(const char *socket_path, const char *path, long timeout_ms, size_t body_max,
                 LocalApiReply *ret, char **detail);
