/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <strings.h>

#include <curl/curl.h>

#include "engine.h"
#include "macro.h"

struct EngineCall {
        CURLM *multi;
        CURL *easy;
        bool attached;                /* easy is in multi */
        struct curl_slist *headers;
        char *url;
        char errbuf[CURL_ERROR_SIZE];
        /* Body bytes received and not yet read. */
        char *pending;
        size_t pending_off, pending_size, pending_alloc;
        bool paused;
        bool headers_done;
        bool done;
        CURLcode result;
        long status;
        char content_type[128];
        char api_version[ENGINE_VERSION_MAX];
        const char *socket;
};

/* Copies a header's value (trimmed) into buf; longer values are cut. */
static void header_value(const char *p, size_t len, char *buf, size_t size) {
        size_t n;

        while (len > 0 && (*p == ' ' || *p == '\t')) {
                p++;
                len--;
        }
        while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
                len--;
        n = MIN(len, size - 1);
        memcpy(buf, p, n);
        buf[n] = 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata) {
        EngineCall *c = userdata;
        size_t len = size * nmemb;

        if (len >= 12 && strncmp(p, "HTTP/", 5) == 0) {
                const char *sp = memchr(p, ' ', len);
                /* A new status line (after 100 Continue): forget the last one's headers. */
                c->status = sp && (size_t) (sp - p) + 4 <= len ? strtol(sp + 1, NULL, 10) : 0;
                c->content_type[0] = 0;
                c->api_version[0] = 0;
        } else if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
                if (c->status >= 200)
                        c->headers_done = true;
        } else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0)
                header_value(p + 13, len - 13, c->content_type, sizeof(c->content_type));
        else if (len > 12 && strncasecmp(p, "Api-Version:", 12) == 0)
                header_value(p + 12, len - 12, c->api_version, sizeof(c->api_version));
        return len;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata) {
        EngineCall *c = userdata;
        size_t len = size * nmemb, have = c->pending_size - c->pending_off;

        /* Hold the transfer while the reader has not taken what is here. */
        if (have > 0 && have + len > ENGINE_PENDING_MAX) {
                c->paused = true;
                return CURL_WRITEFUNC_PAUSE;
        }
        if (c->pending_off > 0) {
                memmove(c->pending, c->pending + c->pending_off, have);
                c->pending_off = 0;
                c->pending_size = have;
        }
        if (have + len > c->pending_alloc) {
                char *n = realloc(c->pending, have + len);
                if (!n)
                        return 0;       /* aborts the transfer: CURLE_WRITE_ERROR */
                c->pending = n;
                c->pending_alloc = have + len;
        }
        memcpy(c->pending + have, p, len);
        c->pending_size = have + len;
        return len;
}

static bool has_pending(const EngineCall *c) {
        return c->pending_size > c->pending_off;
}

static bool has_headers(const EngineCall *c) {
        return c->headers_done;
}

/* Runs the transfer until until(c) holds or it ends. */
static int drive(EngineCall *c, bool (*until)(const EngineCall *)) {
        while (!c->done && !until(c)) {
                CURLMcode m;
                CURLMsg *msg;
                int running = 0, queued;

                m = curl_multi_perform(c->multi, &running);
                if (m != CURLM_OK)
                        return -EIO;
                while ((msg = curl_multi_info_read(c->multi, &queued)))
                        if (msg->msg == CURLMSG_DONE) {
                                c->done = true;
                                c->result = msg->data.result;
                        }
                if (c->done || until(c))
                        break;
                m = curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
                if (m != CURLM_OK)
                        return -EIO;
        }
        return 0;
}

/* The errno for a failed transfer, and words for it. */
static int transfer_error(EngineCall *c, char **detail) {
        long os_errno = 0;
        int e;

        switch (c->result) {
        case CURLE_COULDNT_CONNECT:
                curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &os_errno);
                e = os_errno == ENOENT ? -ENOENT : os_errno == EACCES || os_errno == EPERM ? -EACCES : -ECONNREFUSED;
                if (detail && asprintf(detail, "cannot connect to %s: %s", c->socket,
                                       strerror(os_errno > 0 ? (int) os_errno : ECONNREFUSED)) < 0)
                        *detail = NULL;
                return e;
        case CURLE_OPERATION_TIMEDOUT:
                if (detail && asprintf(detail, "no answer from %s in time", c->socket) < 0)
                        *detail = NULL;
                return -ETIMEDOUT;
        case CURLE_WRITE_ERROR:
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                if (detail && asprintf(detail, "bad answer from %s: %s", c->socket,
                                       c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->result)) < 0)
                        *detail = NULL;
                return -EPROTO;
        }
}

EngineCall *engine_call_free(EngineCall *c) {
        if (!c)
                return NULL;
        if (c->attached)
                curl_multi_remove_handle(c->multi, c->easy);
        if (c->easy)
                curl_easy_cleanup(c->easy);
        if (c->multi)
                curl_multi_cleanup(c->multi);
        curl_slist_free_all(c->headers);
        free(c->url);
        free(c->pending);
        free(c);
        return NULL;
}

int engine_open(const EngineRequest *req, EngineCall **ret, char **detail) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        struct curl_slist *h;
        int r;

        *detail = NULL;
        c = calloc(1, sizeof(EngineCall));
        if (!c)
                return -ENOMEM;
        c->socket = req->socket;
        c->multi = curl_multi_init();
        c->easy = curl_easy_init();
        if (!c->multi || !c->easy)
                return -ENOMEM;
        if (req->version)
                r = asprintf(&c->url, "http://docker/v%s%s", req->version, req->path);
        else
                r = asprintf(&c->url, "http://docker%s", req->path);
        if (r < 0)
                return -ENOMEM;

        /* No "Expect: 100-continue" round trip for bodies. */
        h = curl_slist_append(NULL, "Expect:");
        if (!h)
                return -ENOMEM;
        c->headers = h;
        if (req->body) {
                h = curl_slist_append(c->headers, "Content-Type: application/json");
                if (!h)
                        return -ENOMEM;
                c->headers = h;
        }

        curl_easy_setopt(c->easy, CURLOPT_UNIX_SOCKET_PATH, req->socket);
        curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
        curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long) ENGINE_CONNECT_TIMEOUT_MS);
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long) req->timeout_ms);
        curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
        if (streq(req->method, "POST")) {
                curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
                curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, req->body ?: "");
                curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long) (req->body ? req->body_size : 0));
        } else if (!streq(req->method, "GET"))
                curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, req->method);

        if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK)
                return -ENOMEM;
        c->attached = true;

        r = drive(c, has_headers);
        if (r < 0)
                return r;
        if (!c->headers_done) {
                if (c->done && c->result != CURLE_OK)
                        return transfer_error(c, detail);
                if (asprintf(detail, "no HTTP answer from %s", req->socket) < 0)
                        *detail = NULL;
                return -EPROTO;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

long engine_call_status(const EngineCall *c) {
        return c->status;
}

const char *engine_call_content_type(const EngineCall *c) {
        return c->content_type;
}

int64_t engine_call_content_length(const EngineCall *c) {
        curl_off_t n = -1;

        if (curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &n) != CURLE_OK)
                return -1;
        return n;
}

ssize_t engine_read(EngineCall *c, void *buf, size_t max) {
        size_t n;
        int r;

        if (!has_pending(c) && c->paused) {
                c->paused = false;
                /* May deliver the held data at once, through on_data. */
                curl_easy_pause(c->easy, CURLPAUSE_CONT);
        }
        r = drive(c, has_pending);
        if (r < 0)
                return r;
        if (has_pending(c)) {
                n = MIN(max, c->pending_size - c->pending_off);
                memcpy(buf, c->pending + c->pending_off, n);
                c->pending_off += n;
                return (ssize_t) n;
        }
        if (c->result != CURLE_OK)
                return transfer_error(c, NULL);
        return 0;
}

int engine_read_all(EngineCall *c, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        for (;;) {
                char chunk[16 * 1024];
                ssize_t n = engine_read(c, chunk, sizeof(chunk));

                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                if (size + (size_t) n > max)
                        return -EFBIG;
                if (size + (size_t) n + 1 > alloc) {
                        size_t a = MIN(MAX(alloc * 2, size + (size_t) n + 1), max + 1);
                        char *p = realloc(buf, a);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = a;
                }
                memcpy(buf + size, chunk, (size_t) n);
                size += (size_t) n;
        }
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        } else
                buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* ---- API version ---- */

int engine_pick_version(const char *server, char ret[ENGINE_VERSION_MAX]) {
        unsigned long major, minor;
        char *end;

        if (isempty(server)) {
                snprintf(ret, ENGINE_VERSION_MAX, "1.%d", ENGINE_API_MIN_MINOR);
                return 0;
        }
        if (strspn(server, "0123456789.") != strlen(server) || strlen(server) > 10)
                return -EPROTO;
        major = strtoul(server, &end, 10);
        if (end == server || *end != '.' || !end[1])
                return -EPROTO;
        minor = strtoul(end + 1, &end, 10);
        if (*end)
                return -EPROTO;
        if (major < 1 || (major == 1 && minor < ENGINE_API_MIN_MINOR))
                return -EPROTONOSUPPORT;
        /* A newer Engine still speaks the older versions we know. */
        if (major > 1 || minor > ENGINE_API_MAX_MINOR)
                minor = ENGINE_API_MAX_MINOR;
        snprintf(ret, ENGINE_VERSION_MAX, "1.%lu", minor);
        return 0;
}

static pthread_mutex_t version_lock = PTHREAD_MUTEX_INITIALIZER;
static char version_socket[128];
static char version_known[ENGINE_VERSION_MAX];

int engine_version(const char *socket, char ret[ENGINE_VERSION_MAX], char **detail) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        EngineRequest req = {
                .socket = socket,
                .method = "GET",
                .path = "/_ping",
                .timeout_ms = ENGINE_PING_TIMEOUT_MS,
        };
        bool known;
        int r;

        *detail = NULL;
        pthread_mutex_lock(&version_lock);
        known = version_known[0] && streq(version_socket, socket);
        if (known)
                memcpy(ret, version_known, ENGINE_VERSION_MAX);
        pthread_mutex_unlock(&version_lock);
        if (known)
                return 0;

        r = engine_open(&req, &c, detail);
        if (r < 0)
                return r;
        if (c->status != 200) {
                if (asprintf(detail, "%s answered GET /_ping with HTTP %ld", socket, c->status) < 0)
                        *detail = NULL;
                return -EPROTO;
        }
        r = engine_pick_version(c->api_version, ret);
        if (r < 0) {
                if (asprintf(detail, "the Engine on %s speaks API %s; tailkitd needs 1.%d or newer",
                             socket, c->api_version, ENGINE_API_MIN_MINOR) < 0)
                        *detail = NULL;
                return r;
        }
        pthread_mutex_lock(&version_lock);
        if (strlen(socket) < sizeof(version_socket)) {
                strcpy(version_socket, socket);
                memcpy(version_known, ret, ENGINE_VERSION_MAX);
        }
        pthread_mutex_unlock(&version_lock);
        return 0;
}

void engine_forget(const char *socket) {
        pthread_mutex_lock(&version_lock);
        if (streq(version_socket, socket))
                version_known[0] = 0;
        pthread_mutex_unlock(&version_lock);
}
