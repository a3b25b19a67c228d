/* SPDX-License-Identifier: MIT */
#pragma once

/* The Docker Engine API over its unix socket, with libcurl. A call is driven
 * from the thread that reads it: engine_open() returns once the status line
 * and headers are in, engine_read() hands the body over as the caller takes
 * it (at most ENGINE_PENDING_MAX bytes wait in memory; the transfer pauses
 * meanwhile), so a response of any size passes through in bounded memory and
 * every call ends within its timeout. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ENGINE_VERSION_MAX 16
#define ENGINE_CONNECT_TIMEOUT_MS 2000
#define ENGINE_PING_TIMEOUT_MS 2000
#define ENGINE_PENDING_MAX (64 * 1024)
/* The API versions this worker speaks: 1.24 (Engine 1.12) up to 1.45. */
#define ENGINE_API_MIN_MINOR 24
#define ENGINE_API_MAX_MINOR 45

typedef struct EngineCall EngineCall;

typedef struct EngineRequest {
        const char *socket;
        const char *method;           /* GET, POST, DELETE */
        const char *version;          /* "1.41"; NULL: unversioned (/_ping) */
        const char *path;             /* "/containers/json?all=1", already escaped */
        const char *body;             /* JSON; NULL: none */
        size_t body_size;
        uint64_t timeout_ms;          /* the whole call, headers and body */
} EngineRequest;

/* Starts the call and runs it until the response headers are in.
 * -ENOENT/-ECONNREFUSED/-EACCES: cannot connect; -ETIMEDOUT; -EPROTO: no
 * valid answer. *detail (owned by the caller, may stay NULL) says what went
 * wrong in words. */
int engine_open(const EngineRequest *req, EngineCall **ret, char **detail);
EngineCall *engine_call_free(EngineCall *c);
static inline void engine_call_freep(EngineCall **c) {
        if (*c)
                engine_call_free(*c);
}

long engine_call_status(const EngineCall *c);
/* The response's Content-Type, "" when none. */
const char *engine_call_content_type(const EngineCall *c);
/* Content-Length, or -1 when the body is chunked. */
int64_t engine_call_content_length(const EngineCall *c);

/* Up to max bytes of the body: > 0 bytes, 0 at its end, negative errno when
 * the transfer failed (-ETIMEDOUT, -EPROTO). */
ssize_t engine_read(EngineCall *c, void *buf, size_t max);
/* The whole body, NUL-terminated; -EFBIG when it is larger than max. */
int engine_read_all(EngineCall *c, size_t max, char **ret, size_t *ret_size);

/* The API version to speak with the Engine on socket: negotiated with
 * GET /_ping once and kept, until engine_forget() (after the Engine could
 * not be reached) makes the next call ask again. Errors as engine_open(),
 * plus -EPROTONOSUPPORT for an Engine older than API 1.24. */
int engine_version(const char *socket, char ret[ENGINE_VERSION_MAX], char **detail);
void engine_forget(const char *socket);

/* Whether e is one of engine_open()'s cannot-reach-the-Engine errors. */
static inline bool engine_unreachable(int e) {
        return e == -ENOENT || e == -ECONNREFUSED || e == -EACCES || e == -ETIMEDOUT;
}

/* Picks the version to speak from the Engine's API-Version header (NULL or
 * empty: 1.24, what Engines before the header spoke). */
int engine_pick_version(const char *server, char ret[ENGINE_VERSION_MAX]);
