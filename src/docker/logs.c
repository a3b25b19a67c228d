/* SPDX-License-Identifier: MIT */
/* GET /containers/{id}/logs → {"logs": "..."}: stdout and stderr in the
 * order they were written, demultiplexed (raw for a TTY container), at most
 * DOCKER_LOGS_MAX bytes ("truncated": true when cut), invalid UTF-8 replaced. */

#include "demux.h"
#include "docker.h"
#include "json-util.h"
#include "macro.h"
#include "utf8.h"

typedef struct LogBuffer {
        char *data;
        size_t size;
        bool truncated;
} LogBuffer;

static int log_append(void *userdata, unsigned stream, const char *p, size_t n) {
        LogBuffer *b = userdata;
        size_t room = DOCKER_LOGS_MAX - b->size;

        if (n > room) {
                n = room;
                b->truncated = true;
        }
        memcpy(b->data + b->size, p, n);
        b->size += n;
        return b->truncated ? -EFBIG : 0;
}

/* Whether the container has a TTY (its logs are then not multiplexed). */
static int container_has_tty(Request *r, bool *ret) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        _cleanup_free_ char *escaped = query_escape(r->args[0]), *path = NULL, *body = NULL;
        _cleanup_(json_object_putp_) json_object *o = NULL;
        json_object *config, *tty;
        size_t size;
        int k;

        if (!escaped || asprintf(&path, "/containers/%s/json", escaped) < 0)
                return -ENOMEM;
        k = docker_open(r, "GET", path, NULL, 0, DOCKER_READ_TIMEOUT_MS, &c);
        if (k <= 0)
                return k;
        if (engine_call_status(c) >= 300) {
                k = docker_reply_engine_error(r, c);
                return k < 0 ? k : 0;
        }
        k = engine_read_all(c, DOCKER_INSPECT_MAX, &body, &size);
        if (k < 0 || json_parse_strict(body, size, &o) < 0) {
                if (k == -ENOMEM)
                        return k;
                reply_error(r, 502, "bad answer from the docker daemon", "container inspect could not be read");
                return 0;
        }
        *ret = json_object_object_get_ex(o, "Config", &config) && json_object_object_get_ex(config, "Tty", &tty) &&
               json_object_get_boolean(tty);
        return 1;
}

/* utf8_sanitize() stops at nothing but returns a C string: sanitise the
 * pieces between NUL bytes, keeping the NULs (json-c writes \u0000). */
static char *sanitize(const char *p, size_t size, size_t *ret_size) {
        _cleanup_free_ char *out = malloc(size * 3 + 1);
        size_t n = 0;

        if (!out)
                return NULL;
        while (size > 0) {
                const char *nul = memchr(p, 0, size);
                size_t piece = nul ? (size_t) (nul - p) : size;
                _cleanup_free_ char *s = utf8_sanitize(p, piece);

                if (!s)
                        return NULL;
                memcpy(out + n, s, strlen(s));
                n += strlen(s);
                if (nul)
                        out[n++] = 0;
                p += piece + (nul != NULL);
                size -= piece + (nul != NULL);
        }
        *ret_size = n;
        return TAKE_PTR(out);
}

int docker_logs_get(Request *r) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        LogBuffer b = {};
        size_t text_size = 0;
        Demux d = {};
        bool tty = false;
        json_object *o;
        int k;

        k = docker_prepare(r, NULL, &path);
        if (k <= 0)
                return k;
        k = container_has_tty(r, &tty);
        if (k <= 0)
                return k;
        k = docker_open(r, "GET", path, NULL, 0, DOCKER_READ_TIMEOUT_MS, &c);
        if (k <= 0)
                return k;
        if (engine_call_status(c) >= 300)
                return docker_reply_engine_error(r, c);

        b.data = malloc(DOCKER_LOGS_MAX);
        if (!b.data)
                return -ENOMEM;
        for (;;) {
                char chunk[16 * 1024];
                ssize_t n = engine_read(c, chunk, sizeof(chunk));

                if (n < 0) {
                        free(b.data);
                        return n == -ENOMEM ? -ENOMEM :
                                reply_error(r, n == -ETIMEDOUT ? 504 : 502, "reading the container's logs failed",
                                            n == -ETIMEDOUT ? "the docker daemon did not send them in time" : NULL);
                }
                if (n == 0)
                        break;
                k = tty ? log_append(&b, 1, chunk, (size_t) n) : demux_feed(&d, chunk, (size_t) n, log_append, &b);
                if (k == -EFBIG)
                        break;          /* enough: the call is dropped unread */
                if (k < 0) {
                        free(b.data);
                        return reply_error(r, 502, "bad answer from the docker daemon", "malformed log stream");
                }
        }
        text = sanitize(b.data, b.size, &text_size);
        free(b.data);
        if (!text)
                return -ENOMEM;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "logs", json_object_new_string_len(text, (int) text_size));
        if (b.truncated)
                json_object_object_add(o, "truncated", json_object_new_boolean(true));
        return reply_json(r, 200, o);
}
