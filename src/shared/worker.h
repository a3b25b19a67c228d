/* SPDX-License-Identifier: MIT */
#pragma once

/* The worker core every integration binary is built on (DESIGN.md):
 * connection fds arrive over the activated seqpacket socket and are handed to
 * libmicrohttpd; each request then goes through identity (401/503), route
 * (404/405), availability (503), Tailscale cap (403), body bounds (413), the
 * integration's handler, and one audit line in the journal. The process exits
 * after the idle timeout once no connection is open and the integration says
 * it is not busy. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "caps.h"
#include "time-util.h"
#include "config.h"
#include "whois.h"

#define ROUTE_MAX_ARGS 4

typedef struct Request Request;
typedef int (*RouteHandler)(Request *r);

typedef struct Route {
        const char *method;          /* "GET", "PUT", ... */
        /* Segments; "*" matches one non-empty segment, captured in args[];
         * a trailing "**" captures the rest of the path (possibly empty). */
        const char *pattern;
        CapAccess access;            /* which cap the feature needs; CAP_NONE: identity only */
        size_t max_body;             /* bytes; 0: no body accepted */
        bool skip_available;         /* answer even when the integration is unavailable */
        RouteHandler handler;        /* runs once the whole body is in */
} Route;

typedef struct WorkerDefinition {
        const char *name;            /* component, socket and cap feature: "tools" */
        const Route *routes;
        size_t n_routes;
        /* Optional: 0 when the integration can serve; else a 503 with error
         * and hint (static strings or strings owned by the integration). It
         * may keep what it loaded (its config) in r->userdata for the
         * handler, so the request reads it once. */
        int (*available)(Request *r, const char **error, const char **hint);
        int (*init)(void);
        void (*done)(void);
        bool (*busy)(void);          /* e.g. running jobs keep the worker up */
        /* Optional: the bodies of this worker's routes (those with a
         * max_body) are handed over piece by piece as they arrive instead
         * of collected in r->body (max_body still bounds their size): once
         * with data NULL when the request passed every check, before a byte
         * of body is read (it may reply; the body is then not taken), then
         * once per piece. A negative return stops the upload: the rest is
         * dropped (a bounded amount, then the connection is closed) and the
         * route's handler still runs to answer. A client that goes away
         * mid-body never reaches the handler: clean up in userdata_free.
         * The request deadline ([server] request_timeout plus one second per
         * min_upload_rate bytes) applies. */
        int (*body)(Request *r, const char *data, size_t size);
} WorkerDefinition;

struct Request {
        struct MHD_Connection *connection;
        const Route *route;
        const char *method;
        char *path;                  /* decoded path, as MHD gives it */
        char *raw_path;              /* as sent, before percent-decoding */
        const char *args[ROUTE_MAX_ARGS];
        char *args_buf;
        char peer[64];               /* ip:port as sent to whois */
        Whois *caller;
        char *body;                  /* NULL when the worker streams bodies */
        size_t body_size;            /* bytes received so far */
        size_t body_alloc;
        bool body_too_large;
        bool body_failed;            /* the worker's body callback stopped the upload */
        size_t body_discarded;
        bool replied;
        bool close_connection;       /* send Connection: close with the reply */
        bool answering;              /* counted until completed (a stop waits for it) */
        bool malformed_cap_logged;   /* one warning per request (caps.h) */
        unsigned status;
        unsigned retry_after_sec;    /* set before a 429/503: sent as Retry-After */
        uint64_t start_usec;
        struct ConnTrack *track;     /* the worker core's deadline record */
        void *userdata;              /* the handler's, freed with userdata_free */
        void (*userdata_free)(void *);
};

/* Runs the worker; returns the process exit code. */
int worker_main(int argc, char *argv[], const WorkerDefinition *def);

/* Whether the worker was told to stop (SIGTERM): a handler that waits
 * (a long poll) ends its wait. */
bool worker_terminating(void);

/* The loaded tailkitd.conf. */
const DaemonConfig *worker_daemon_config(void);

/* Query argument (decoded) or NULL. */
const char *request_query(Request *r, const char *key);
/* A small unsigned query argument, digits only and at most max: 1 and
 * *ret when given, 0 and *ret = def when absent; otherwise answers 400
 * naming it and returns -EINVAL. */
int request_query_uint(Request *r, const char *key, unsigned max, unsigned def, unsigned *ret);
const char *request_header(Request *r, const char *key);
const char *request_caller_name(Request *r);

/* Whether the caller holds this worker's tailkitd-<feature> cap for access
 * (for handlers whose route is CAP_NONE and decide themselves). */
bool request_has_cap(Request *r, CapAccess access);
/* Whether the caller holds tailkitd-<feature> for access (another
 * integration's cap: exec serves every integration's jobs). */
bool request_has_feature_cap(Request *r, const char *feature, CapAccess access);
/* Whether the caller's CapMap has the named capability at all. */
bool request_has_named_cap(Request *r, const char *name);

/* Replies; each returns 0 (or -errno when the reply could not be queued).
 * reply_json takes ownership of obj. Bodies end with "\n". */
int reply_json(Request *r, unsigned status, json_object *obj);
int reply_error(Request *r, unsigned status, const char *error, const char *hint);
int reply_errorf(Request *r, unsigned status, const char *hint, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
int reply_data(Request *r, unsigned status, const char *content_type, const void *data, size_t size);
/* A body produced piece by piece while it is sent, so that its size never
 * sits in memory: MHD calls reader(cls, pos, buf, max) from the connection's
 * thread until it returns MHD_CONTENT_READER_END_OF_STREAM (or
 * END_WITH_ERROR, which cuts the connection); free_cls(cls) runs when the
 * response is done, also when the reply could not be queued. size may be
 * MHD_SIZE_UNKNOWN (the body is then sent chunked). */
int reply_stream(Request *r, unsigned status, const char *content_type, uint64_t size,
                 MHD_ContentReaderCallback reader, void *cls, MHD_ContentReaderFreeCallback free_cls);

/* Any response built with libmicrohttpd (an fd response, extra headers),
 * queued like the others (Connection: close, Content-Type when not NULL);
 * takes ownership of resp (NULL: -ENOMEM). */
int reply_response(Request *r, unsigned status, struct MHD_Response *resp, const char *content_type);

/* Whether the request's Content-Type is application/json (parameters such
 * as "; charset=utf-8" allowed, nothing else). */
bool request_is_json(Request *r);
/* The body as one JSON value (json_parse_strict: no trailing bytes).
 * -ENODATA: no body; -EMEDIUMTYPE: Content-Type is not application/json;
 * -EBADMSG: not valid JSON. */
int request_json_body(Request *r, json_object **ret);
