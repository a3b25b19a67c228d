/* SPDX-License-Identifier: MIT */
/* The path from a checked request to the Engine and back: permission, path
 * argument and query checks, the call, and the Engine's answer passed on as
 * it is (streamed), or its error with the Engine's status and message. */

#include "docker.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "paths.h"

static const char *const permission_names[] = {
        [PERM_CONTAINERS_READ] = "containers_read",
        [PERM_CONTAINERS_WRITE] = "containers_write",
        [PERM_IMAGES_READ] = "images_read",
        [PERM_IMAGES_WRITE] = "images_write",
        [PERM_COMPOSE_READ] = "compose_read",
        [PERM_COMPOSE_WRITE] = "compose_write",
        [PERM_SWARM_READ] = "swarm_read",
        [PERM_SWARM_WRITE] = "swarm_write",
        [PERM_NONE] = "none",
};

const char *docker_permission_name(DockerPermission p) {
        return permission_names[p];
}

bool docker_permits(const DockerConfig *c, DockerPermission p) {
        switch (p) {
        case PERM_CONTAINERS_READ:  return c->containers_read;
        case PERM_CONTAINERS_WRITE: return c->containers_write;
        case PERM_IMAGES_READ:      return c->images_read;
        case PERM_IMAGES_WRITE:     return c->images_write;
        case PERM_COMPOSE_READ:     return c->compose_read;
        case PERM_COMPOSE_WRITE:    return c->compose_write;
        case PERM_SWARM_READ:       return c->swarm_read;
        case PERM_SWARM_WRITE:      return c->swarm_write;
        case PERM_NONE:             return true;
        }
        return false;
}

typedef struct Pairs {
        QueryPair pairs[16];
        size_t n;
        bool overflow;
} Pairs;

static enum MHD_Result collect_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        Pairs *p = cls;

        if (p->n >= ELEMENTSOF(p->pairs)) {
                p->overflow = true;
                return MHD_NO;
        }
        p->pairs[p->n++] = (QueryPair) { key, value };
        return MHD_YES;
}

static bool arg_is_valid(DockerArg kind, const char *s) {
        switch (kind) {
        case ARG_NONE:    return true;
        case ARG_NAME:    return docker_name_is_valid(s);
        case ARG_IMAGE:   return docker_image_ref_is_valid(s);
        case ARG_PROJECT: return compose_project_is_valid(s);
        }
        return false;
}

static const char *const arg_words[] = {
        [ARG_NONE] = "",
        [ARG_NAME] = "an id or name: letters, digits, '_', '.', '-', at most 128 characters, no '..'",
        [ARG_IMAGE] = "an image id or reference like \"busybox:latest\" or \"sha256:…\"",
        [ARG_PROJECT] = "a compose project name: lower-case letters, digits, '_', '-'",
};

int docker_prepare(Request *r, const char *engine_path, char **ret) {
        const DockerEndpoint *e = docker_endpoint(r);
        DockerContext *ctx = r->userdata;
        _cleanup_free_ char *query = NULL, *error = NULL, *escaped = NULL, *path = NULL;
        Pairs pairs = {};
        int k;

        /* This node's config, after the cap (the worker core checked it). */
        if (!docker_permits(&ctx->config, e->permission)) {
                char hint[512];

                log_struct(LOG_WARNING,
                           ((LogField[]) { { "CALLER", request_caller_name(r) }, { "ENDPOINT", r->path },
                                           { "REASON", "docker.toml" }, {} }),
                           "permission denied");
                snprintf(hint, sizeof(hint), "set %s = true in [permissions] of %s/integrations/docker.toml",
                         docker_permission_name(e->permission), config_dir());
                return reply_errorf(r, 403, hint, "%s is not enabled in docker.toml",
                                    docker_permission_name(e->permission));
        }

        if (e->arg != ARG_NONE && !arg_is_valid(e->arg, r->args[0]))
                return reply_errorf(r, 400, arg_words[e->arg], "invalid %s",
                                    e->arg == ARG_IMAGE ? "image reference" :
                                    e->arg == ARG_PROJECT ? "compose project name" : "id or name");

        MHD_get_connection_values(r->connection, MHD_GET_ARGUMENT_KIND, collect_pair, &pairs);
        if (pairs.overflow)
                return reply_error(r, 400, "too many query parameters", NULL);
        k = query_build(e->params, pairs.pairs, pairs.n, e->fixed_query, &query, &error);
        if (k == -EINVAL)
                return reply_error(r, 400, strna(error), NULL);
        if (k < 0)
                return k;

        if (!engine_path)
                engine_path = e->engine_path;
        if (e->arg != ARG_NONE) {
                /* Checked above; escaped all the same (':' '@' '/' in image
                 * references stay as they are: the Engine's route takes them). */
                if (e->arg == ARG_IMAGE)
                        escaped = strdup(r->args[0]);
                else
                        escaped = query_escape(r->args[0]);
                if (!escaped)
                        return -ENOMEM;
        }
        /* engine_path is one of the table's constants. */
        k = asprintf(&path, engine_path, strempty(escaped));
        if (k < 0)
                return -ENOMEM;
        if (!isempty(query)) {
                char *p;
                if (asprintf(&p, "%s?%s", path, query) < 0)
                        return -ENOMEM;
                free(path);
                path = p;
        }
        *ret = TAKE_PTR(path);
        return 1;
}

static int reply_unreachable(Request *r, int e, const char *detail) {
        DockerContext *ctx = r->userdata;
        char hint[1024];

        if (e == -ETIMEDOUT) {
                snprintf(hint, sizeof(hint), "%s; the Engine may be overloaded or hung", strna(detail));
                return reply_error(r, 504, "docker daemon did not answer in time", hint);
        }
        if (e == -EACCES)
                snprintf(hint, sizeof(hint), "%s: the worker may not use the socket (see tailkitd@docker.service's drop-in)",
                         strna(detail));
        else
                snprintf(hint, sizeof(hint), "%s; is dockerd running (systemctl status docker)? "
                         "Set [docker] socket in %s/integrations/docker.toml if it listens elsewhere",
                         strna(detail), config_dir());
        log_struct(LOG_WARNING, ((LogField[]) { { "SOCKET", ctx->config.socket }, {} }),
                   "Docker Engine unreachable: %s", strna(detail));
        return reply_error(r, 503, "docker daemon unreachable", hint);
}

int docker_open(Request *r, const char *method, const char *path, const char *body, size_t body_size,
                uint64_t timeout_ms, EngineCall **ret) {
        DockerContext *ctx = r->userdata;
        _cleanup_free_ char *detail = NULL;
        EngineRequest req = {
                .socket = ctx->config.socket,
                .method = method,
                .version = ctx->version,
                .path = path,
                .body = body,
                .body_size = body_size,
                .timeout_ms = timeout_ms,
        };
        int e;

        e = engine_open(&req, ret, &detail);
        if (e >= 0)
                return 1;
        if (e == -ENOMEM)
                return e;
        if (engine_unreachable(e)) {
                /* It may come back as another version: ask again next time. */
                engine_forget(ctx->config.socket);
                return reply_unreachable(r, e, detail);
        }
        log_warning("Docker Engine call %s %s failed: %s", method, path, strna(detail));
        return reply_error(r, 502, "bad answer from the docker daemon", detail);
}

int docker_reply_engine_error(Request *r, EngineCall *c) {
        _cleanup_free_ char *body = NULL;
        json_object *o = NULL, *m;
        long status = engine_call_status(c);
        size_t size = 0;
        int k;

        k = engine_read_all(c, DOCKER_ERROR_BODY_MAX, &body, &size);
        if (k == -ENOMEM)
                return k;
        /* The Engine's errors are {"message": "..."}. */
        if (k >= 0 && json_parse_strict(body, size, &o) >= 0 && json_object_object_get_ex(o, "message", &m) &&
            json_object_is_type(m, json_type_string)) {
                k = reply_error(r, (unsigned) status, json_object_get_string(m), NULL);
                json_object_put(o);
                return k;
        }
        json_object_put(o);
        return reply_errorf(r, (unsigned) status, NULL, "docker daemon answered HTTP %ld", status);
}

static ssize_t passthrough_read(void *cls, uint64_t pos, char *buf, size_t max) {
        ssize_t n = engine_read(cls, buf, max);

        if (n > 0)
                return n;
        if (n == 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        /* The status line is out: all that is left is to cut the body short. */
        log_warning_errno((int) -n, "Docker Engine answer cut short: %m");
        return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void passthrough_free(void *cls) {
        engine_call_free(cls);
}

int docker_reply_passthrough(Request *r, EngineCall *c) {
        long status = engine_call_status(c);
        int64_t length = engine_call_content_length(c);
        const char *ct = engine_call_content_type(c);

        if (status >= 300) {
                int k = docker_reply_engine_error(r, c);
                engine_call_free(c);
                return k;
        }
        return reply_stream(r, (unsigned) status, isempty(ct) ? "application/json" : ct,
                            length >= 0 ? (uint64_t) length : MHD_SIZE_UNKNOWN,
                            passthrough_read, c, passthrough_free);
}

int docker_passthrough(Request *r) {
        const DockerEndpoint *e = docker_endpoint(r);
        _cleanup_free_ char *path = NULL;
        EngineCall *c = NULL;
        int k;

        k = docker_prepare(r, NULL, &path);
        if (k <= 0)
                return k;
        k = docker_open(r, e->engine_method, path, NULL, 0,
                        streq(e->engine_method, "GET") ? DOCKER_READ_TIMEOUT_MS : DOCKER_WRITE_TIMEOUT_MS, &c);
        if (k <= 0)
                return k;
        return docker_reply_passthrough(r, c);
}

/* DELETE of a container or volume: the Engine answers 204 without a body;
 * the caller gets JSON all the same. */
int docker_delete(Request *r) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        _cleanup_free_ char *path = NULL;
        json_object *o;
        int k;

        k = docker_prepare(r, NULL, &path);
        if (k <= 0)
                return k;
        k = docker_open(r, "DELETE", path, NULL, 0, DOCKER_WRITE_TIMEOUT_MS, &c);
        if (k <= 0)
                return k;
        if (engine_call_status(c) >= 300)
                return docker_reply_engine_error(r, c);
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "id", json_object_new_string(r->args[0]));
        json_object_object_add(o, "status", json_object_new_string("deleted"));
        return reply_json(r, 200, o);
}
