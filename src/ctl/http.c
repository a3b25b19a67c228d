/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <stdarg.h>
#include <time.h>

#include "http.h"
#include "macro.h"
#include "progress.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);

#define CONNECT_TIMEOUT_MS 10000L

int http_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_response_done(HttpResponse *r) {
        free(r->body);
        free(r->content_type);
        *r = (HttpResponse) {};
}

char *http_escape(const char *s) {
        static const char safe[] = "-._~";
        size_t n = strlen(s);
        char *out = malloc(n * 3 + 1), *p = out;

        if (!out)
                return NULL;
        for (const unsigned char *q = (const unsigned char *) s; *q; q++) {
                if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                    strchr(safe, *q))
                        *p++ = (char) *q;
                else
                        p += sprintf(p, "%%%02X", *q);
        }
        *p = 0;
        return out;
}

typedef struct Transfer {
        Ctx *ctx;
        CURL *curl;
        const HttpRequest *req;
        char *buf;
        size_t size, max;
        bool too_large, sink_failed, callback_failed;
        int streaming;                  /* -1: undecided, 0: buffer, 1: sink/callback */
        Progress progress;
} Transfer;

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;

        if (t->streaming < 0) {
                long status = 0;
                curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
                /* Error bodies are always buffered, to print the API's error. */
                t->streaming = (t->req->sink || t->req->on_data) && status >= 200 && status < 300;
                if (!t->streaming && status >= 300)
                        t->max = MIN(t->max, (size_t) HTTP_ERROR_BODY_MAX);
        }
        if (t->streaming) {
                if (t->req->sink && fwrite(data, 1, n, t->req->sink) != n) {
                        t->sink_failed = true;
                        return 0;
                }
                if (t->req->on_data && t->req->on_data(data, n, t->req->userdata) < 0) {
                        t->callback_failed = true;
                        return 0;
                }
                return n;
        }
        if (n > t->max - t->size) {
                t->too_large = true;
                return 0;
        }
        char *nb = realloc(t->buf, t->size + n + 1);
        if (!nb)
                return 0;
        t->buf = nb;
        memcpy(t->buf + t->size, data, n);
        t->size += n;
        t->buf[t->size] = 0;
        return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        Transfer *t = userdata;

        if (t->req->upload)
                progress_update(&t->progress, (uint64_t) ulnow, (uint64_t) ultotal);
        else
                progress_update(&t->progress, (uint64_t) dlnow, (uint64_t) dltotal);
        return 0;
}

static char *build_url(const Target *target, const char *path) {
        char *url = NULL;
        bool v6 = strchr(target->host, ':') != NULL;

        if (asprintf(&url, "http://%s%s%s:%u%s", v6 ? "[" : "", target->host, v6 ? "]" : "",
                     target->port, path) < 0)
                return NULL;
        return url;
}

static int transport_error(Ctx *c, CURLcode code, const char *detail) {
        const char *what = *detail ? detail : curl_easy_strerror(code);

        fprintf(c->err, "error: %s:%u: %s\n", c->target->name, c->target->port, what);
        switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_INTERFACE_FAILED:
                fprintf(c->err, "hint: is tailkitd.socket running on %s and reachable%s?\n",
                        c->target->name, c->opt->proxy ? " through the proxy" : "");
                return EXIT_UNREACHABLE;
        default:
                return EXIT_PROTOCOL;
        }
}

int http_do(Ctx *c, const HttpRequest *req, HttpResponse *resp) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL, *accept = NULL, *ctype = NULL, *iface = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        Transfer t = { .ctx = c, .req = req, .streaming = -1,
                       .max = req->max_body ?: HTTP_BODY_MAX_DEFAULT };
        CURLcode code;
        char *ct = NULL;

        *resp = (HttpResponse) {};
        curl = curl_easy_init();
        url = build_url(c->target, req->path);
        if (!curl || !url)
                return fprintf(c->err, "error: out of memory\n"), EXIT_FAILURE_LOCAL;
        t.curl = curl;

        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
        /* Never a proxy from the environment: only --proxy decides. */
        curl_easy_setopt(curl, CURLOPT_PROXY, c->opt->proxy ?: "");
        if (c->opt->source) {
                if (asprintf(&iface, "host!%s", c->opt->source) < 0)
                        return EXIT_FAILURE_LOCAL;
                curl_easy_setopt(curl, CURLOPT_INTERFACE, iface);
        }
        if (!req->no_timeout) {
                long timeout = c->opt->timeout_ms;
                if (c->deadline_ms) {
                        uint64_t now = now_ms();
                        timeout = now >= c->deadline_ms ? 1 : (long) (c->deadline_ms - now);
                }
                if (timeout > 0) {
                        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
                        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, MIN(timeout, CONNECT_TIMEOUT_MS));
                }
        }

        if (asprintf(&accept, "Accept: %s", req->accept ?: "application/json") < 0)
                return EXIT_FAILURE_LOCAL;
        headers = curl_slist_append(headers, accept);
        if (req->content_type) {
                if (asprintf(&ctype, "Content-Type: %s", req->content_type) < 0)
                        return EXIT_FAILURE_LOCAL;
                headers = curl_slist_append(headers, ctype);
        }
        if (req->extra_header)
                headers = curl_slist_append(headers, req->extra_header);
        headers = curl_slist_append(headers, "Expect:");
        if (!headers)
                return EXIT_FAILURE_LOCAL;
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

        if (req->upload) {
                curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(curl, CURLOPT_READDATA, req->upload);
                curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->upload_size);
                curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
        } else if (req->body) {
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_size);
        }
        /* After UPLOAD (which implies PUT) so POST/DELETE/HEAD stay what was asked. */
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
        if (streq(req->method, "HEAD"))
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);

        if (req->progress_label && c->tty && !c->opt->quiet) {
                progress_begin(&t.progress, c->err, req->progress_label);
                curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
                curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        }

        code = curl_easy_perform(curl);
        progress_end(&t.progress, code == CURLE_OK);
        if (t.too_large) {
                free(t.buf);
                fprintf(c->err, "error: %s: the response is larger than %zu bytes\n", c->target->name, t.max);
                return EXIT_PROTOCOL;
        }
        if (t.sink_failed) {
                free(t.buf);
                fprintf(c->err, "error: writing the output failed: %m\n");
                return EXIT_FAILURE_LOCAL;
        }
        if (t.callback_failed) {
                free(t.buf);
                return EXIT_FAILURE_LOCAL;
        }
        if (code != CURLE_OK) {
                free(t.buf);
                c->transport_error = (int) code;
                return transport_error(c, code, errbuf);
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
        resp->content_type = ct ? strdup(ct) : NULL;
        resp->body = t.buf ?: strdup("");
        resp->size = t.size;
        if (!resp->body)
                return EXIT_FAILURE_LOCAL;
        return 0;
}
