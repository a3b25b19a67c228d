/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "localapi.h"
#include "macro.h"
#include "pool.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);

void localapi_reply_done(LocalApiReply *r) {
        free(r->body);
        *r = (LocalApiReply) {};
}

typedef struct Body {
        char *data;
        size_t size, max;
        bool overflow;
} Body;

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Body *b = userdata;
        size_t n = size * nmemb;
        char *p;

        if (n > b->max - b->size) {
                b->overflow = true;
                return 0;   /* aborts the transfer */
        }
        p = realloc(b->data, b->size + n + 1);
        if (!p)
                return 0;
        memcpy(p + b->size, ptr, n);
        b->data = p;
        b->size += n;
        b->data[b->size] = 0;
        return n;
}

static int fail(char **detail, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **detail, int r, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(detail, fmt, ap);
        va_end(ap);
        if (n < 0) {
                *detail = NULL;
                return -ENOMEM;
        }
        return r;
}

/* Idle handles kept for the next lookup: each keeps its connection to
 * tailscaled open (HTTP keep-alive), so a lookup is one request on an open
 * socket rather than a connect, a new handle and a request. */
static Pool handles = POOL_INIT;

static CURL *handle_take(void) {
        CURL *c = pool_take(&handles);

        if (c)
                curl_easy_reset(c);     /* options go; the open connection stays */
        return c ?: curl_easy_init();
}

/* Only a handle whose last transfer went well goes back. */
static void handle_give_back(CURL *c) {
        if (!pool_give(&handles, c))
                curl_easy_cleanup(c);
}

/* The kept connection must not leak into the processes a worker starts. */
static curl_socket_t open_cloexec(void *clientp, curlsocktype purpose, struct curl_sockaddr *a) {
        return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int localapi_get(const char *socket_path, const char *path, long timeout_ms, size_t body_max,
                 LocalApiReply *ret, char **detail) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_free_ char *url = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        Body body = { .max = body_max };
        long os_errno = 0;
        CURLcode cc;

        *detail = NULL;
        *ret = (LocalApiReply) {};
        if (asprintf(&url, "http://local-tailscaled.sock%s", path) < 0)
                return -ENOMEM;
        curl = handle_take();
        if (!curl)
                return -ENOMEM;
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_cloexec);
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(curl, CURLOPT_PROXY, "");   /* never $http_proxy for a unix socket */
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

        cc = curl_easy_perform(curl);
        if (cc != CURLE_OK) {
                free(body.data);
                if (body.overflow)
                        return fail(detail, -EFBIG, "response larger than %zu bytes", body_max);
                if (cc == CURLE_OPERATION_TIMEDOUT)
                        return fail(detail, -ETIMEDOUT, "no answer within %.3g s", (double) timeout_ms / 1000.0);
                if (cc == CURLE_COULDNT_CONNECT) {
                        /* Tell a missing socket (not running) from a stale one. */
                        curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
                        if (os_errno > 0)
                                return fail(detail, os_errno == ENOENT ? -ENOENT : -ECONNREFUSED,
                                            "cannot connect: %s", strerror((int) os_errno));
                        return fail(detail, -ECONNREFUSED, "cannot connect");
                }
                return fail(detail, -EPROTO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);
        ret->body = body.data;
        ret->size = body.size;
        handle_give_back(TAKE_PTR(curl));
        return 0;
}
