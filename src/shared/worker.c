/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <netinet/in.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <systemd/sd-login.h>

#include "conn-limit.h"
#include "fdpass.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "prefix-routes.h"
#include "raw-reply.h"
#include "sd-protocol.h"
#include "worker.h"
#include "worker-stats.h"

/* Bounds on what one client can make a worker hold (SPEC §2); the number
 * of connections is conn-limit.h's. libmicrohttpd 0.9.75 (Debian 12) must
 * never reach its own connection limit: a connection added from outside its
 * thread is queued, and when the queue is processed at the limit, MHD
 * returns from its "firm check" with cleanup_connection_mutex still held;
 * its thread then deadlocks on that mutex and the worker serves nothing
 * until killed. The worker counts what it hands over and refuses past
 * CONN_LIMIT_TOTAL itself, and MHD's limit sits above that by this much
 * (its count trails ours by at most one). */
#define MHD_LIMIT_SLACK 64
#define CONNECTION_MEMORY_LIMIT (32 * 1024)     /* request line + headers */
#define CONNECTION_IDLE_TIMEOUT_SEC 15
#define HEADER_DEADLINE_USEC (10ULL * 1000000ULL) /* whole header block, at most */
#define THREAD_STACK_SIZE (512 * 1024)
/* How long a stopping worker lets the requests it is answering finish (a
 * long poll ends within a second of the stop; streams are cut after it). */
#define STOP_DRAIN_USEC (2 * 1000 * 1000ULL)
#define WHOIS_REUSE_USEC (2ULL * 1000000ULL)        /* a kept-alive connection's identity */
#define BODY_DRAIN_MAX (2 * 1024 * 1024)           /* read and dropped past a body cap */

/* One per open connection, to enforce the request deadline that MHD's
 * per-read idle timeout cannot: every byte resets that one, so a client
 * sending one byte every few seconds would otherwise hold a thread for
 * weeks. Headers must arrive within HEADER_DEADLINE_USEC (or the request
 * timeout, if shorter), headers and body within request_timeout plus one
 * second per min_upload_rate bytes of body received. On a kept-alive
 * connection the clock restarts when a response completes, so an idle one
 * is closed after the header deadline. It also keeps the caller's identity:
 * the peer of a TCP connection cannot change, so whois is not asked again
 * for WHOIS_REUSE_USEC — but the peer's caps can (a policy change), so a
 * long-lived connection (a Prometheus scraping every 15 s) is looked up
 * again after that: a revoked cap stops working within it. */
typedef struct ConnTrack ConnTrack;
struct ConnTrack {
        int fd;
        struct sockaddr_storage peer;   /* to know fd still is this connection */
        socklen_t peer_len;
        uint64_t start;
        atomic_bool headers_done;
        atomic_bool request_done;       /* the whole body is in (or none is read) */
        _Atomic uint64_t body_bytes;
        bool reaped;
        bool between_requests;          /* kept alive, waiting for the next one */
        unsigned requests;              /* begun on this connection */
        const char *integration;        /* the first request's prefix owner */
        Whois *caller;                  /* resolved by an earlier request */
        uint64_t caller_usec;           /* when */
        struct ConnTrack *prev, *next;
};

static struct {
        const WorkerDefinition *def;
        DaemonConfig cfg;
        char *cfg_error;             /* first error of an invalid tailkitd.conf */
        struct MHD_Daemon *mhd;
        int listen_fd;
        const char *listen_path;
        uint64_t idle_timeout_usec;
        atomic_uint active;
        ConnLimit limit;             /* connections given to MHD, not yet closed */
        uint64_t refused, refused_logged;   /* past the limits, for the log */
        atomic_uint answering;       /* requests past their handler's start, not yet completed */
        _Atomic uint64_t last_activity;
        pthread_mutex_t tracks_lock;
        ConnTrack *tracks;
        bool under_systemd;          /* only tailkitd.service may pass connections */
        bool peers_hidden;           /* hidepid= hides the peer: socket permissions decide */
        bool init_failed;            /* the integration could not start: 503 */
} w = {
        .listen_fd = -1,
        .tracks_lock = PTHREAD_MUTEX_INITIALIZER,
        .limit = CONN_LIMIT_INIT,
};

static volatile sig_atomic_t terminating;

const DaemonConfig *worker_daemon_config(void) {
        return &w.cfg;
}

/* ---- replies ---- */

static int queue(Request *r, unsigned status, struct MHD_Response *resp, const char *content_type) {
        enum MHD_Result ok;

        if (!resp)
                return -ENOMEM;
        if (r->replied) {
                MHD_destroy_response(resp);
                return -EALREADY;
        }
        if (content_type)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        /* A connection may stay open for further requests to this worker
         * (SPEC §2), except after a refused body (413), a misdirected
         * request (421), or when no deadline record guards it. */
        if (!r->track || status == MHD_HTTP_CONTENT_TOO_LARGE || status == MHD_HTTP_MISDIRECTED_REQUEST ||
            r->close_connection)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
        if (r->retry_after_sec > 0 && (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)) {
                char v[16];
                snprintf(v, sizeof(v), "%u", r->retry_after_sec);
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
        }
        ok = MHD_queue_response(r->connection, status, resp);
        MHD_destroy_response(resp);
        if (ok != MHD_YES)
                return -EIO;
        r->replied = true;
        r->status = status;
        return 0;
}

int reply_data(Request *r, unsigned status, const char *content_type, const void *data, size_t size) {
        return queue(r, status,
                     MHD_create_response_from_buffer(size, (void *) data, MHD_RESPMEM_MUST_COPY),
                     content_type);
}

int reply_stream(Request *r, unsigned status, const char *content_type, uint64_t size,
                 MHD_ContentReaderCallback reader, void *cls, MHD_ContentReaderFreeCallback free_cls) {
        /* 32 KiB blocks: the thread's buffer, not the body, bounds memory. */
        struct MHD_Response *resp = MHD_create_response_from_callback(size, 32 * 1024, reader, cls, free_cls);

        if (!resp) {
                if (free_cls)
                        free_cls(cls);
                return -ENOMEM;
        }
        /* A body of unknown length ends with the connection, as before:
         * no chunked framing for streams (journal follow, Engine logs). */
        if (size == MHD_SIZE_UNKNOWN)
                r->close_connection = true;
        return queue(r, status, resp, content_type);
}

int reply_response(Request *r, unsigned status, struct MHD_Response *resp, const char *content_type) {
        return queue(r, status, resp, content_type);
}

bool request_is_json(Request *r) {
        const char *ct = request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        size_t n = STRLEN("application/json");

        if (!ct || strncasecmp(ct, "application/json", n) != 0)
                return false;
        ct += n;
        ct += strspn(ct, " \t");
        return *ct == 0 || *ct == ';';
}

int request_json_body(Request *r, json_object **ret) {
        *ret = NULL;
        if (r->body_size == 0)
                return -ENODATA;
        if (!request_is_json(r))
                return -EMEDIUMTYPE;
        return json_parse_strict(r->body, r->body_size, ret);
}

/* A response whose body is obj as JSON plus "\n"; takes ownership of obj. */
static struct MHD_Response *json_response(json_object *obj) {
        const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        struct MHD_Response *resp = NULL;
        size_t len;
        char *buf;

        if (s) {
                len = strlen(s);
                buf = malloc(len + 1);
                if (buf) {
                        memcpy(buf, s, len);
                        buf[len] = '\n';
                        resp = MHD_create_response_from_buffer(len + 1, buf, MHD_RESPMEM_MUST_FREE);
                        if (!resp)
                                free(buf);
                }
        }
        json_object_put(obj);
        return resp;
}

int reply_json(Request *r, unsigned status, json_object *obj) {
        return queue(r, status, json_response(obj), "application/json");
}

int reply_error(Request *r, unsigned status, const char *error, const char *hint) {
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "error", json_object_new_string(error));
        if (!isempty(hint))
                json_object_object_add(o, "hint", json_object_new_string(hint));
        return reply_json(r, status, o);
}

int reply_errorf(Request *r, unsigned status, const char *hint, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(&msg, format, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return reply_error(r, status, msg, hint);
}

const char *request_query(Request *r, const char *key) {
        return MHD_lookup_connection_value(r->connection, MHD_GET_ARGUMENT_KIND, key);
}

int request_query_uint(Request *r, const char *key, unsigned max, unsigned def, unsigned *ret) {
        const char *v = request_query(r, key);
        unsigned long n;

        if (!v) {
                *ret = def;
                return 0;
        }
        if (parse_uint(v, max, &n) < 0) {
                reply_errorf(r, 400, NULL, "'%s' must be an integer from 0 to %u", key, max);
                return -EINVAL;
        }
        *ret = (unsigned) n;
        return 1;
}

const char *request_header(Request *r, const char *key) {
        return MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, key);
}

const char *request_caller_name(Request *r) {
        return r->caller ? r->caller->name : NULL;
}

/* Every cap check of a request goes through here: a malformed cap is
 * logged once per request, however many features and domains it checks. */
static bool request_caps_allow(Request *r, const char *feature, CapAccess access) {
        _cleanup_free_ char *malformed = NULL;
        bool allowed;

        if (!r->caller)
                return false;
        allowed = caps_allow(r->caller->capmap, w.cfg.cap_domains, w.cfg.n_cap_domains, feature, access,
                             r->malformed_cap_logged ? NULL : &malformed);
        if (malformed) {
                r->malformed_cap_logged = true;
                log_struct(LOG_WARNING,
                           ((LogField[]) { { "CALLER", r->caller->name }, { "CAPABILITY", malformed }, {} }),
                           "Capability %s of the caller is malformed; denying it", malformed);
        }
        return allowed;
}

bool request_has_cap(Request *r, CapAccess access) {
        return request_caps_allow(r, w.def->name, access);
}

bool request_has_feature_cap(Request *r, const char *feature, CapAccess access) {
        return request_caps_allow(r, feature, access);
}

bool request_has_named_cap(Request *r, const char *name) {
        return r->caller && caps_has(r->caller->capmap, name);
}

/* ---- routing ---- */

/* The path as sent must not encode "/": decoded, it would change how the
 * path splits into segments. (%00 is never decoded, see unescape().) */
static bool raw_path_is_acceptable(const char *raw) {
        for (const char *p = raw; p && (p = strchr(p, '%')); p++)
                if (p[1] == '2' && (p[2] == 'f' || p[2] == 'F'))
                        return false;
        return raw != NULL;
}

static bool path_is_clean(const char *path) {
        if (path[0] != '/')
                return false;
        for (const char *p = path; *p; p++) {
                if (*p != '/')
                        continue;
                if (p[1] == '/' ||
                    (p[1] == '.' && (p[2] == '/' || p[2] == 0)) ||
                    (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == 0)))
                        return false;
        }
        return true;
}

/* Matches path against pattern. With args_buf (strlen(path) + ROUTE_MAX_ARGS
 * + 1 bytes), copies each captured segment there and points args at it. */
static bool route_match(const char *pattern, const char *path, char *args_buf, const char **args) {
        const char *pp = pattern, *bp = path;
        size_t n = 0;

        while (*pp == '/' && *bp == '/') {
                size_t pl, bl;
                bool capture;

                pp++;
                bp++;
                pl = strcspn(pp, "/");
                bl = strcspn(bp, "/");
                if (pl == 2 && pp[0] == '*' && pp[1] == '*') {
                        bl = strlen(bp);        /* the rest, slashes included */
                        capture = true;
                } else if (pl == 1 && pp[0] == '*') {
                        if (bl == 0)
                                return false;
                        capture = true;
                } else {
                        if (pl != bl || memcmp(pp, bp, pl) != 0)
                                return false;
                        capture = false;
                }
                if (capture) {
                        if (n >= ROUTE_MAX_ARGS)
                                return false;
                        if (args_buf) {
                                memcpy(args_buf, bp, bl);
                                args_buf[bl] = 0;
                                args[n] = args_buf;
                                args_buf += bl + 1;
                        }
                        n++;
                }
                pp += pl;
                bp += bl;
        }
        return *pp == 0 && *bp == 0;
}

static void allow_add(char *allow, size_t size, const char *method) {
        if (strstr(allow, method) || strlen(allow) + strlen(method) + 3 >= size)
                return;
        if (allow[0])
                strcat(allow, ", ");
        strcat(allow, method);
}

static const Route *find_route(Request *r, char *allow, size_t allow_size, bool *path_known) {
        const Route *found = NULL;

        *path_known = false;
        allow[0] = 0;
        for (size_t i = 0; i < w.def->n_routes; i++) {
                const Route *rt = &w.def->routes[i];
                if (!route_match(rt->pattern, r->path, NULL, NULL))
                        continue;
                *path_known = true;
                /* HEAD is served for every GET resource (RFC 9110): MHD
                 * sends the GET answer's headers without its body. */
                if (streq(rt->method, r->method) || (streq(r->method, "HEAD") && streq(rt->method, "GET"))) {
                        if (!found)
                                found = rt;
                        continue;
                }
                allow_add(allow, allow_size, rt->method);
                if (streq(rt->method, "GET"))
                        allow_add(allow, allow_size, "HEAD");
        }
        return found;
}

/* ---- the request pipeline ---- */

static void request_free(Request *r) {
        if (!r)
                return;
        if (r->userdata_free)
                r->userdata_free(r->userdata);
        if (!r->track || r->track->caller != r->caller)
                whois_free(r->caller);
        free(r->path);
        free(r->raw_path);
        free(r->args_buf);
        free(r->body);
        free(r);
}

static int reply_identity_error(Request *r, int e, const char *detail) {
        char hint[1024];

        if (e == -ENXIO) {
                log_struct(LOG_NOTICE, ((LogField[]) { { "PEER", r->peer }, {} }),
                           "Caller %s is not a tailnet peer", r->peer);
                return reply_error(r, MHD_HTTP_UNAUTHORIZED, "caller identity could not be resolved",
                                   "the connection's source address is not a peer known to tailscaled");
        }
        snprintf(hint, sizeof(hint),
                 "tailscaled's LocalAPI at %s did not answer (%s); is tailscaled running? "
                 "Set [tailscale] socket in %s/tailkitd.conf if it listens elsewhere",
                 w.cfg.tailscale_socket, strna(detail), config_dir());
        log_struct(LOG_WARNING, ((LogField[]) { { "PEER", r->peer }, {} }),
                   "Cannot resolve caller %s through %s: %s", r->peer, w.cfg.tailscale_socket, strna(detail));
        return reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "caller identity unavailable: LocalAPI unreachable", hint);
}

static bool streams_body(Request *r) {
        return w.def->body && r->route->max_body > 0;
}

/* Runs once the headers are in: everything that does not need the body. */
static void request_begin(Request *r) {
        _cleanup_free_ char *detail = NULL;
        const char *cl, *error = NULL, *hint = NULL;
        char allow[128];
        bool path_known;
        int e;

        if (r->track && r->track->requests++ == 0)
                r->track->integration = route_integration(r->raw_path, strlen(r->raw_path));
        else if (r->track && route_integration(r->raw_path, strlen(r->raw_path)) != r->track->integration) {
                /* The dispatcher chose this worker for the connection's first
                 * request; another prefix must go through it again. */
                reply_errorf(r, MHD_HTTP_MISDIRECTED_REQUEST, "open a new connection for this path",
                             "%s is not served on this connection", r->path);
                return;
        }

        if (r->track && r->track->caller && now_usec() - r->track->caller_usec < WHOIS_REUSE_USEC)
                r->caller = r->track->caller;
        else {
                e = whois_lookup(w.cfg.tailscale_socket, r->peer, &r->caller, &detail);
                if (e < 0) {
                        reply_identity_error(r, e, detail);
                        return;
                }
                if (r->track) {
                        /* Requests on a connection run one after another: the
                         * one that used the old identity has ended. */
                        whois_free(r->track->caller);
                        r->track->caller = r->caller;
                        r->track->caller_usec = now_usec();
                }
        }

        if (!raw_path_is_acceptable(r->raw_path) || !path_is_clean(r->path)) {
                reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid path",
                            "paths must not contain empty, '.' or '..' segments, or an encoded '/'");
                return;
        }

        r->route = find_route(r, allow, sizeof(allow), &path_known);
        if (!r->route) {
                if (path_known) {
                        json_object *o = json_object_new_object();
                        struct MHD_Response *resp;

                        json_object_object_add(o, "error", json_object_new_string("method not allowed"));
                        json_object_object_add(o, "hint", json_object_new_string(allow));
                        resp = json_response(o);
                        if (resp)
                                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
                        queue(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp, "application/json");
                } else
                        reply_errorf(r, MHD_HTTP_NOT_FOUND, NULL, "no such endpoint: %s", r->path);
                return;
        }
        r->args_buf = malloc(strlen(r->path) + ROUTE_MAX_ARGS + 1);
        if (!r->args_buf || !route_match(r->route->pattern, r->path, r->args_buf, r->args)) {
                reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error", NULL);
                return;
        }

        if (!r->route->skip_available) {
                if (w.init_failed) {
                        char h[256];
                        snprintf(h, sizeof(h), "the %s worker failed to start; see journalctl -u tailkitd@%s.service",
                                 w.def->name, w.def->name);
                        reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "integration failed to start", h);
                        return;
                }
                if (w.cfg_error) {
                        reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "tailkitd.conf is invalid", w.cfg_error);
                        return;
                }
                if (w.def->available && w.def->available(r, &error, &hint) < 0) {
                        reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, error, hint);
                        return;
                }
        }

        if (!request_caps_allow(r, w.def->name, r->route->access)) {
                const char *need = r->route->access == CAP_WRITE ? "write" : "read";
                char h[512];

                log_struct(LOG_WARNING,
                           ((LogField[]) { { "CALLER", r->caller->name }, { "ENDPOINT", r->path },
                                           { "REASON", "missing acl cap" }, {} }),
                           "permission denied");
                snprintf(h, sizeof(h),
                         "grant the caller \"%s/cap/tailkitd-%s\": [{\"%s\": true}] in the tailnet policy",
                         w.cfg.n_cap_domains > 1 ? w.cfg.cap_domains[1] : w.cfg.cap_domains[0],
                         w.def->name, need);
                reply_errorf(r, MHD_HTTP_FORBIDDEN, h, "caller lacks the tailkitd-%s %s capability",
                             w.def->name, need);
                return;
        }

        /* A route that takes no body refuses one at once rather than drain
         * it: a trickled body must not hold the connection. */
        if (r->route->max_body == 0 && request_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
                reply_errorf(r, MHD_HTTP_CONTENT_TOO_LARGE, "send the request without a body",
                             "%s %s takes no request body", r->method, r->path);
                return;
        }
        cl = request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
                char *end;
                unsigned long long v;

                errno = 0;
                v = strtoull(cl, &end, 10);
                if (errno != 0 || *end || end == cl) {
                        reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid Content-Length", NULL);
                        return;
                }
                if (v > 0 && r->route->max_body == 0) {
                        reply_errorf(r, MHD_HTTP_CONTENT_TOO_LARGE, "send the request without a body",
                                     "%s %s takes no request body", r->method, r->path);
                        return;
                }
                if (v > r->route->max_body) {
                        reply_errorf(r, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                                     "request body too large (at most %zu bytes)", r->route->max_body);
                        return;
                }
                /* Content-Length is bounded by max_body: allocate once. */
                if (v > 0 && !streams_body(r)) {
                        r->body_alloc = (size_t) v + 1;
                        r->body = malloc(r->body_alloc);
                        if (!r->body) {
                                reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
                                return;
                        }
                }
        }

        /* A worker that streams bodies sees the request before its body. */
        if (streams_body(r) && w.def->body(r, NULL, 0) < 0 && !r->replied)
                reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error",
                            "see journalctl TAILKITD_COMPONENT=<integration> on the node");
}

/* Hands a piece of body to the worker's body callback, within max_body. */
static void request_stream_body(Request *r, const char *data, size_t size) {
        if (size > r->route->max_body - r->body_size) {
                r->body_too_large = true;
                return;
        }
        r->body_size += size;
        if (w.def->body(r, data, size) < 0)
                r->body_failed = true;
}

static int request_append_body(Request *r, const char *data, size_t size) {
        size_t want = r->body_size + size;

        if (want > r->route->max_body) {
                r->body_too_large = true;
                return -E2BIG;
        }
        if (want + 1 > r->body_alloc) {
                /* Chunked bodies grow by doubling, never past max_body + 1. */
                size_t a = MAX(want + 1, MIN(r->body_alloc * 2, r->route->max_body + 1));
                char *p = realloc(r->body, a);
                if (!p)
                        return -ENOMEM;
                r->body = p;
                r->body_alloc = a;
        }
        memcpy(r->body + r->body_size, data, size);
        r->body_size = want;
        r->body[r->body_size] = 0;
        return 0;
}

/* Runs before MHD decodes the URI: keeps the raw path, so that an encoded
 * "/" (%2F) cannot pass for a segment separator after decoding. The result
 * becomes the request's context. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection) {
        const union MHD_ConnectionInfo *ci;
        Request *r = calloc(1, sizeof(Request));

        if (!r)
                return NULL;
        r->raw_path = strndup(uri, strcspn(uri, "?#"));
        r->start_usec = now_usec();
        ci = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (ci && ci->socket_context) {
                ConnTrack *t = ci->socket_context;

                pthread_mutex_lock(&w.tracks_lock);
                t->between_requests = false;
                pthread_mutex_unlock(&w.tracks_lock);
        }
        if (!r->raw_path) {
                free(r);
                return NULL;
        }
        return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls) {
        Request *r = *con_cls;

        if (!r)
                return MHD_NO;  /* on_uri could not allocate */
        if (!r->connection) {
                const union MHD_ConnectionInfo *ci;
                ConnTrack *t = NULL;

                ci = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
                if (ci && ci->socket_context)
                        t = ci->socket_context;
                if (t)
                        atomic_store(&t->headers_done, true);
                r->track = t;

                r->connection = connection;
                r->method = method;
                r->path = strdup(url);
                ci = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
                if (!r->path || !ci || !ci->client_addr ||
                    whois_format_addr(ci->client_addr,
                                      ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                             : sizeof(struct sockaddr_in),
                                      r->peer, sizeof(r->peer)) < 0)
                        return MHD_NO;   /* on_completed frees r */
                request_begin(r);
                return MHD_YES;
        }

        if (*upload_data_size > 0) {
                if (r->track)
                        atomic_fetch_add(&r->track->body_bytes, *upload_data_size);
                if (r->body_too_large || r->body_failed) {
                        /* A chunked body ran past the cap (or the route gave
                         * up on it): MHD cannot answer mid-upload, so drain a
                         * bounded amount to reply at the end, and close on
                         * anything longer. */
                        r->body_discarded += *upload_data_size;
                        if (r->body_discarded > BODY_DRAIN_MAX)
                                return MHD_NO;
                } else if (!r->replied && streams_body(r))
                        request_stream_body(r, upload_data, *upload_data_size);
                else if (!r->replied) {
                        int e = request_append_body(r, upload_data, *upload_data_size);
                        if (e == -ENOMEM)
                                return MHD_NO;
                }
                *upload_data_size = 0;
                return MHD_YES;
        }

        if (r->track)
                atomic_store(&r->track->request_done, true);
        if (r->replied)
                return MHD_YES;
        if (r->body_too_large)
                return reply_errorf(r, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                                    "request body too large (at most %zu bytes)", r->route->max_body) < 0 ? MHD_NO : MHD_YES;

        r->answering = true;
        atomic_fetch_add(&w.answering, 1);
        if (r->route->handler(r) < 0 && !r->replied)
                reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error",
                            "see journalctl TAILKITD_COMPONENT=<integration> on the node");
        if (!r->replied)
                reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error: no reply", NULL);
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        Request *r = *con_cls;
        char status[16], duration[32];

        if (!r)
                return;
        if (r->answering)
                atomic_fetch_sub(&w.answering, 1);
        /* MHD may refuse a request (oversized headers) before on_request. */
        const char *method = r->method ?: "-", *path = r->path ?: strna(r->raw_path);
        static const char *const termination[] = {
                [MHD_REQUEST_TERMINATED_COMPLETED_OK] = "completed",
                [MHD_REQUEST_TERMINATED_WITH_ERROR] = "error",
                [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = "timeout",
                [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = "shutdown",
                [MHD_REQUEST_TERMINATED_READ_ERROR] = "read-error",
                [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = "client-abort",
        };
        const char *how = (unsigned) toe < ELEMENTSOF(termination) ? termination[toe] : "unknown";

        snprintf(status, sizeof(status), "%u", r->replied ? r->status : 0);
        if (!r->replied)
                /* Closing without an answer should only ever be the client's
                 * doing, or libmicrohttpd refusing a malformed or oversized
                 * header block itself (with its own 4xx) before on_request. */
                log_struct(toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT || toe == MHD_REQUEST_TERMINATED_READ_ERROR ||
                           !r->connection ? LOG_INFO : LOG_WARNING,
                           ((LogField[]) { { "PEER", r->peer }, { "TERMINATION", how }, {} }),
                           "Connection from %s closed without a response (%s)", r->peer, how);
        snprintf(duration, sizeof(duration), "%llu",
                 (unsigned long long) ((now_usec() - r->start_usec) / 1000));
        /* The audit line: one per request, never with bodies or var values. */
        log_struct(LOG_INFO,
                   ((LogField[]) {
                           { "CALLER", r->caller ? r->caller->name : NULL },
                           { "CALLER_LOGIN", r->caller ? r->caller->login : NULL },
                           { "PEER", r->peer },
                           { "METHOD", method },
                           { "PATH", path },
                           { "STATUS", status },
                           { "DURATION_MS", duration },
                           {},
                   }),
                   "%s %s %s", method, path, r->replied ? status : "closed");
        worker_stats_request(r->replied ? r->status : 0);
        if (r->track) {
                ConnTrack *t = r->track;

                /* The next request on a kept-alive connection has its own deadline. */
                pthread_mutex_lock(&w.tracks_lock);
                t->start = now_usec();
                atomic_store(&t->headers_done, false);
                atomic_store(&t->request_done, false);
                atomic_store(&t->body_bytes, 0);
                t->between_requests = true;
                pthread_mutex_unlock(&w.tracks_lock);
        }
        request_free(r);
        *con_cls = NULL;
        atomic_store(&w.last_activity, now_usec());
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
                ConnTrack *t = calloc(1, sizeof(ConnTrack));

                atomic_fetch_add(&w.active, 1);
                if (!t)
                        return;
                t->fd = ci ? ci->connect_fd : -1;
                t->peer_len = sizeof(t->peer);
                if (t->fd < 0 || getpeername(t->fd, (struct sockaddr *) &t->peer, &t->peer_len) < 0)
                        t->fd = -1;
                t->start = now_usec();
                pthread_mutex_lock(&w.tracks_lock);
                t->next = w.tracks;
                if (w.tracks)
                        w.tracks->prev = t;
                w.tracks = t;
                pthread_mutex_unlock(&w.tracks_lock);
                *socket_context = t;
        } else {
                ConnTrack *t = *socket_context;

                if (t) {
                        pthread_mutex_lock(&w.tracks_lock);
                        if (t->prev)
                                t->prev->next = t->next;
                        else
                                w.tracks = t->next;
                        if (t->next)
                                t->next->prev = t->prev;
                        pthread_mutex_unlock(&w.tracks_lock);
                        whois_free(t->caller);
                        free(t);
                        *socket_context = NULL;
                }
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

                if (ci && ci->client_addr)
                        conn_limit_release(&w.limit, ci->client_addr);
                atomic_store(&w.last_activity, now_usec());
                atomic_fetch_sub(&w.active, 1);
        }
}

static uint64_t track_deadline(const ConnTrack *t) {
        uint64_t timeout = w.cfg.request_timeout_sec * USEC_PER_SEC;

        if (!atomic_load(&t->headers_done))
                return t->start + MIN(timeout, HEADER_DEADLINE_USEC);
        /* Each min_upload_rate bytes received buys one more second. */
        return t->start + timeout + atomic_load(&t->body_bytes) * USEC_PER_SEC / w.cfg.min_upload_rate;
}

/* Closes connections whose request did not arrive in time. shutdown() wakes
 * the connection's thread, which then closes it through MHD. */
static void reap_stalled_requests(void) {
        uint64_t now;

        pthread_mutex_lock(&w.tracks_lock);
        /* Read the clock under the lock: a connection added just before we
         * took it must not look (unsigned) ages old. */
        now = now_usec();
        for (ConnTrack *t = w.tracks; t; t = t->next) {
                char peer[64] = "?";

                if (t->reaped || atomic_load(&t->request_done) || t->fd < 0)
                        continue;
                if (t->start > now || now < track_deadline(t))
                        continue;
                /* MHD may have closed the fd and its number been reused
                 * before the close notification removes this record. */
                struct sockaddr_storage ss;
                socklen_t sl = sizeof(ss);
                if (getpeername(t->fd, (struct sockaddr *) &ss, &sl) < 0 || sl != t->peer_len ||
                    memcmp(&ss, &t->peer, sl) != 0) {
                        t->reaped = true;
                        continue;
                }
                (void) shutdown(t->fd, SHUT_RDWR);
                t->reaped = true;
                if (t->between_requests)
                        continue;       /* an idle kept-alive connection: nothing was late */
                (void) whois_format_addr((struct sockaddr *) &t->peer, t->peer_len, peer, sizeof(peer));
                log_struct(LOG_NOTICE, ((LogField[]) { { "PEER", peer }, {} }),
                           "Closed the connection from %s: its request %s did not arrive within the deadline",
                           peer, atomic_load(&t->headers_done) ? "body" : "headers");
        }
        pthread_mutex_unlock(&w.tracks_lock);
}

/* ---- the activation socket ---- */

/* Past a connection limit: an answer rather than a reset, 429 to the peer
 * that holds its share, 503 when the worker is full. What the client has
 * sent is read first, so that closing does not turn into a RST that discards
 * the answer before the client reads it. */
static void refuse_connection(int fd, int reason) {
        char sink[4096];

        for (size_t drained = 0; drained < 64 * 1024;) {
                ssize_t k = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
                if (k <= 0)
                        break;
                drained += (size_t) k;
        }
        if (reason == -EUSERS)
                raw_reply_error(fd, 429, "too many connections from this peer",
                                "one peer may hold at most " STRINGIFY(CONN_LIMIT_PER_PEER) " of a worker's "
                                STRINGIFY(CONN_LIMIT_TOTAL) " connections; retry later", 1);
        else
                raw_reply_error(fd, 503, "worker busy: too many open connections",
                                "a worker serves at most " STRINGIFY(CONN_LIMIT_TOTAL) " connections at once; retry later", 1);
        (void) shutdown(fd, SHUT_WR);
        close(fd);
        w.refused++;
        if (now_usec() - w.refused_logged >= USEC_PER_SEC) {
                /* At most one line a second, however many are refused. */
                log_warning("Refused %" PRIu64 " connection(s) in the last second: at most %u at once, "
                            "%u from one peer", w.refused, (unsigned) CONN_LIMIT_TOTAL, (unsigned) CONN_LIMIT_PER_PEER);
                w.refused = 0;
                w.refused_logged = now_usec();
        }
}

static void add_connection(int fd) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int r;

        if (!fd_is_tcp_stream(fd) || getpeername(fd, (struct sockaddr *) &ss, &sl) < 0) {
                /* Only TCP connections from the tailnet have an identity. */
                log_warning("Dropping a passed connection that is not a TCP stream socket");
                close(fd);
                return;
        }
        atomic_store(&w.last_activity, now_usec());
        /* A connection MHD drops before announcing it (no memory for its
         * pool) is never released: counted until this worker exits, which
         * errs on the side of refusing, never of MHD's deadlock. */
        r = conn_limit_take(&w.limit, (struct sockaddr *) &ss);
        if (r < 0) {
                refuse_connection(fd, r);
                return;
        }
        if (MHD_add_connection(w.mhd, fd, (struct sockaddr *) &ss, sl) != MHD_YES) {
                log_warning_errno(errno, "Cannot serve a passed connection: %m");
                conn_limit_release(&w.limit, (struct sockaddr *) &ss);
        }
}

/* Whether conn (a connection on the worker socket) comes from the
 * dispatcher. Anyone who can connect to the socket could otherwise hand this
 * worker a socket of their choosing. Under systemd, when this worker can see
 * other processes (exec: root, no ProtectProc=), the peer must run in
 * tailkitd.service; a worker whose own sandbox hides its peers relies on the
 * socket's permissions (group tailkitd-sockets, which only the dispatcher
 * has). Run by hand: the peer must be root or this worker's own user. */
static bool sender_is_dispatcher(int conn) {
        struct ucred uc;
        socklen_t l = sizeof(uc);

        if (w.under_systemd) {
                _cleanup_free_ char *unit = NULL;
                int r = sd_peer_get_unit(conn, &unit);

                if (r >= 0 && streq(unit, "tailkitd.service"))
                        return true;
                if (r < 0 && w.peers_hidden)
                        return true;    /* the socket's group decided */
                log_struct(LOG_WARNING, ((LogField[]) { { "PEER_UNIT", unit }, {} }),
                           "Refusing connections passed by %s: only tailkitd.service may pass connections",
                           r < 0 ? "a process outside any unit" : unit);
                return false;
        }
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &uc, &l) < 0)
                return false;
        if (uc.uid == 0 || uc.uid == getuid())
                return true;
        log_warning("Refusing connections passed by uid %u: only the dispatcher may pass connections",
                    (unsigned) uc.uid);
        return false;
}

/* Whether /proc is mounted with hidepid= (ProtectProc=invisible and the
 * like): other users' processes, the dispatcher among them, are then hidden. */
static bool proc_hides_pids(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        bool hidden = false;

        if (!f)
                return true;
        while (fgets(line, sizeof(line), f)) {
                /* "... mount-point options - fstype source super-options" */
                char *sep = strstr(line, " - proc ");
                char *fields[5];
                char *p = line;

                if (!sep)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                        fields[i] = p;
                        p = strchr(p, ' ');
                        if (!p)
                                break;
                        p++;
                }
                if (!p || strncmp(fields[4], "/proc ", 6) != 0)
                        continue;
                hidden = strstr(sep, "hidepid=") && !strstr(sep, "hidepid=0") && !strstr(sep, "hidepid=off");
        }
        return hidden;
}

static void setup_sender_check(void) {
        /* systemd sets INVOCATION_ID for the services it starts. */
        if (w.listen_path || isempty(getenv("INVOCATION_ID")))
                return;         /* run by hand or by a test harness */
        w.under_systemd = true;
        w.peers_hidden = proc_hides_pids();
}

static void receive_connections(void) {
        for (;;) {
                _cleanup_close_ int conn = accept4(w.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (conn < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "accept() on the worker socket failed: %m");
                        return;
                }
                if (!sender_is_dispatcher(conn))
                        continue;
                /* The dispatcher sends its fd right after connecting; do not let a
                 * silent peer block this loop. */
                for (;;) {
                        struct pollfd p = { .fd = conn, .events = POLLIN };
                        int fd, k;

                        if (poll(&p, 1, 1000) <= 0)
                                break;
                        k = fd_recv(conn, &fd);
                        if (k <= 0) {
                                if (k < 0 && k != -EAGAIN)
                                        log_warning_errno(k, "Bad message on the worker socket: %m");
                                break;
                        }
                        add_connection(fd);
                }
        }
}

static int bind_seqpacket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "Socket path too long: %s", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "socket() failed: %m");
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return log_error_errno(errno, "Cannot bind %s: %m", path);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "listen() on %s failed: %m", path);
        return TAKE_FD(fd);
}

static int setup_listen_fd(void) {
        int n, flags;

        if (w.listen_path) {
                w.listen_fd = bind_seqpacket(w.listen_path);
                return w.listen_fd < 0 ? w.listen_fd : 0;
        }
        n = listen_fds_take();
        if (n < 0)
                return log_error_errno(n, "Failed to read the sockets passed by systemd: %m");
        if (n != 1)
                return log_error_errno(EINVAL, "Expected exactly one socket from systemd, got %d "
                                       "(use --listen PATH to run by hand)", n);
        w.listen_fd = LISTEN_FDS_START;
        if (socket_is_listening(w.listen_fd, AF_UNIX, SOCK_SEQPACKET) <= 0)
                return log_error_errno(EINVAL, "The socket passed by systemd is not a listening "
                                       "SOCK_SEQPACKET socket (ListenSequentialPacket=)");
        flags = fcntl(w.listen_fd, F_GETFL);
        if (flags >= 0)
                (void) fcntl(w.listen_fd, F_SETFL, flags | O_NONBLOCK);
        return 0;
}

static void load_daemon_config(void) {
        ConfigErrors errors = {};

        /* An invalid tailkitd.conf leaves the defaults in w.cfg: identity and
         * errors still work, every other request answers 503 with the error. */
        if (daemon_config_load(config_dir(), &w.cfg, &errors) < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        log_error("%s", errors.messages[i]);
                w.cfg_error = strdup(errors.n > 0 ? errors.messages[0] : "tailkitd.conf is invalid");
        }
        config_errors_done(&errors);
        w.idle_timeout_usec = idle_timeout_usec(w.cfg.idle_timeout_sec);
}

static void help(const char *name) {
        printf("tailkitd-%s [OPTIONS]\n\n"
               "The tailkitd %s worker. Normally started by tailkitd@%s.socket, which passes\n"
               "a SOCK_SEQPACKET socket the dispatcher sends client connections to.\n\n"
               "  -h --help           Show this help\n"
               "     --version        Show the version\n"
               "     --listen PATH    Bind this seqpacket socket instead of socket activation\n\n"
               "Environment: TAILKITD_CONFIG_DIR (default %s), TAILKITD_IDLE_TIMEOUT\n"
               "(seconds, 0 = never exit), TAILKITD_ENV=development, TAILKITD_LOG=json|console|journal.\n",
               name, name, name, TAILKITD_CONFIG_DIR);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LISTEN };
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h'         },
                { "version", no_argument,       NULL, ARG_VERSION },
                { "listen",  required_argument, NULL, ARG_LISTEN  },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(w.def->name);
                        return 0;
                case ARG_VERSION:
                        printf("tailkitd-%s %s\n", w.def->name, TAILKITD_VERSION);
                        return 0;
                case ARG_LISTEN:
                        w.listen_path = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'", argv[optind]);
        return 1;
}

/* Percent-decoding for paths and query values, in place. "%00" stays as it
 * is: a decoded NUL would cut the string short, so "/vars/p/e/A%00B" would
 * otherwise reach the handler as key "A". Left encoded, it fails validation. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s) {
        char *out = s;

        /* MHD hands us raw components: a literal '#' can only start the
         * fragment, which is the client's and is dropped, as the dispatcher
         * does ("/health#x" is /health; "?a=1#x" gives a = "1"). */
        for (const char *in = s; *in && *in != '#'; in++) {
                int hi, lo;

                if (in[0] == '%' && (hi = unhexchar(in[1])) >= 0 && (lo = unhexchar(in[2])) >= 0 && (hi | lo) != 0) {
                        *out++ = (char) (hi * 16 + lo);
                        in += 2;
                } else
                        *out++ = *in;
        }
        *out = 0;
        return (size_t) (out - s);
}

bool worker_terminating(void) {
        return terminating;
}

static void on_terminate(int sig) {
        terminating = 1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char buf[512];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        buf[strcspn(buf, "\n")] = 0;
        log_debug("microhttpd: %s", buf);
}

static bool idle(void) {
        /* Asked every second, connections or not: it is also the
         * integration's housekeeping tick. */
        bool busy = !w.init_failed && w.def->busy && w.def->busy();
        uint64_t last, now;

        if (w.idle_timeout_usec == 0 || atomic_load(&w.active) > 0 || busy)
                return false;
        /* busy() may take a while and a connection may have closed meanwhile. */
        now = now_usec();
        last = atomic_load(&w.last_activity);
        if (last > now)
                return false;
        return now - last >= w.idle_timeout_usec;
}

int worker_main(int argc, char *argv[], const WorkerDefinition *def) {
        struct sigaction sa = { .sa_handler = on_terminate };
        struct rlimit rl;
        int r;

        w.def = def;
        log_setup(def->name);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 1 : 0;

        /* One thread per connection: without a cap, glibc gives each its own
         * malloc arena and RSS grows with the peak connection count. */
        (void) mallopt(M_ARENA_MAX, 2);
        signal(SIGPIPE, SIG_IGN);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = MIN(rl.rlim_max, (rlim_t) 65536);
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        load_daemon_config();
        if (setup_listen_fd() < 0)
                return 1;
        if (whois_global_init() < 0) {
                log_error("Cannot initialise libcurl");
                return 1;
        }
        setup_sender_check();
        worker_stats_open(def->name);
        if (def->init && def->init() < 0) {
                /* Exiting would have systemd start us again on the queued
                 * connection, and again, until the socket's trigger limit
                 * takes it down. Serve 503s naming the journal instead. */
                log_error("The %s integration could not start; answering 503 until restarted", def->name);
                w.init_failed = true;
        }

        w.mhd = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | MHD_USE_ERROR_LOG,
                0, NULL, NULL, on_request, NULL,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned) (CONN_LIMIT_TOTAL + MHD_LIMIT_SLACK),
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY_LIMIT,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) CONNECTION_IDLE_TIMEOUT_SEC,
                MHD_OPTION_THREAD_STACK_SIZE, (size_t) THREAD_STACK_SIZE,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                MHD_OPTION_END);
        if (!w.mhd) {
                log_error("Cannot start the HTTP engine");
                return 1;
        }

        atomic_store(&w.last_activity, now_usec());
        (void) notify_send("READY=1");
        bool busy_since_trim = false;

        while (!terminating) {
                struct pollfd p = { .fd = w.listen_fd, .events = POLLIN };
                int n = poll(&p, 1, 1000);

                if (n < 0 && errno != EINTR) {
                        log_error_errno(errno, "poll() failed: %m");
                        break;
                }
                if (n > 0)
                        receive_connections();
                reap_stalled_requests();

                /* After a burst, hand freed heap back: a worker that served 200
                 * connections should not keep their memory while idle. */
                unsigned active = atomic_load(&w.active);
                if (active == 0 && busy_since_trim) {
                        (void) malloc_trim(0);
                        busy_since_trim = false;
                } else if (active > 0)
                        busy_since_trim = true;

                if (idle()) {
                        /* Connections queued meanwhile stay in systemd's socket and
                         * re-activate us; serve what is already here first. */
                        if (poll(&p, 1, 0) > 0)
                                continue;
                        log_debug("Idle, exiting");
                        break;
                }
        }

        (void) notify_send("STOPPING=1");
        /* Told to stop: let the requests being answered finish, for a while
         * (a handler that waits sees worker_terminating() and answers);
         * stopping the daemon cuts every connection at once. */
        for (uint64_t until = now_usec() + STOP_DRAIN_USEC;
             terminating && atomic_load(&w.answering) > 0 && now_usec() < until;)
                (void) usleep(20 * 1000);
        MHD_stop_daemon(w.mhd);
        if (def->done && !w.init_failed)
                def->done();
        if (w.listen_path)
                (void) unlink(w.listen_path);
        daemon_config_done(&w.cfg);
        free(w.cfg_error);
        return 0;
}
