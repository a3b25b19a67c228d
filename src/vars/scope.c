/* SPDX-License-Identifier: MIT */
/* The /vars endpoints. vars.toml is read on every request (it is small), so
 * an edit takes effect without a restart. Values never reach a log line, an
 * error or a hint. */

#include <limits.h>
#include <stdio.h>

#include "budget.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "render.h"
#include "store.h"
#include "vars-names.h"
#include "vars.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(ScopeFile *, scope_file_free);

/* What a request keeps from its admission to its end. */
typedef struct VarsRequest {
        VarsConfig cfg;          /* first: handlers read r->userdata as VarsConfig */
        size_t body_charge;      /* held from body_budget */
} VarsRequest;

static void vars_request_free(void *p) {
        VarsRequest *v = p;

        budget_give(&body_budget, v->body_charge);
        vars_config_done(&v->cfg);
        free(v);
}

/* What a PUT's body will cost while it is buffered and parsed (a JSON
 * body's decoded copies come on top of it). Bodies over the route's cap
 * cost nothing: the worker refuses them unread. */
static size_t body_cost(Request *r) {
        const char *cl = request_header(r, "Content-Length");
        size_t size = r->route->max_body;
        char *end;

        if (r->route->max_body == 0)
                return 0;
        if (cl) {
                unsigned long long v;

                errno = 0;
                v = strtoull(cl, &end, 10);
                if (errno != 0 || *end || end == cl || v > r->route->max_body)
                        return 0;
                size = (size_t) v;
        }
        return request_is_json(r) ? 3 * size : size;
}

/* Loads vars.toml once per request (the handlers read it from r->userdata)
 * and admits the request's body, before a byte of it is read. */
int vars_available(Request *r, const char **error, const char **hint) {
        static __thread char buf[1024];
        ConfigErrors errors = {};
        VarsRequest *v;
        int e;

        v = calloc(1, sizeof(VarsRequest));
        if (!v) {
                *error = "out of memory";
                return -ENOMEM;
        }
        e = vars_config_load(config_dir(), &v->cfg, &errors);
        if (e >= 0) {
                r->userdata = v;
                r->userdata_free = vars_request_free;
                v->body_charge = body_cost(r);
                if (!budget_take(&body_budget, v->body_charge)) {
                        v->body_charge = 0;
                        *error = "too many large writes in progress";
                        *hint = "the vars worker buffers at most 96 MiB of request bodies at once; retry in a moment";
                        r->retry_after_sec = 1;
                        e = -EBUSY;
                }
        } else {
                free(v);
                if (e == -ENOENT) {
                        *error = "vars integration not configured on this node";
                        snprintf(buf, sizeof(buf), "create %s/vars.toml with a [[scope]] to enable it", config_dir());
                } else {
                        *error = "vars.toml is invalid";
                        snprintf(buf, sizeof(buf), "%s", errors.n > 0 ? errors.messages[0] : "run tailkitd --check-config");
                }
                *hint = buf;
        }
        config_errors_done(&errors);
        return e < 0 ? e : 0;
}

/* Finds the configured scope of project/env (an env-specific scope wins
 * over a project-wide one) and checks the operation against it. Replies and
 * returns < 0 when the request must stop. */
static int resolve_scope(Request *r, bool write) {
        const char *project = r->args[0], *env = r->args[1];
        const VarsConfig *cfg = r->userdata;
        const VarsScope *found = NULL;
        char hint[512];

        if (!vars_name_is_valid(project))
                return reply_error(r, 400, "invalid project name", "project names match " VARS_NAME_RULE " (at most 64 characters)"), -EINVAL;
        if (!vars_name_is_valid(env))
                return reply_error(r, 400, "invalid env name", "env names match " VARS_NAME_RULE " (at most 64 characters)"), -EINVAL;

        for (size_t i = 0; i < cfg->n_scopes; i++) {
                const VarsScope *s = &cfg->scopes[i];
                if (!streq(s->project, project))
                        continue;
                if (s->env && streq(s->env, env)) {
                        found = s;
                        break;
                }
                if (!s->env && !found)
                        found = s;
        }
        if (!found) {
                snprintf(hint, sizeof(hint), "add a [[scope]] with project = \"%s\" to %s/vars.toml", project, config_dir());
                return reply_errorf(r, 404, hint, "scope %s/%s not configured on this node", project, env), -ENOENT;
        }
        if (write && !found->write)
                return reply_error(r, 403, "write not permitted for this scope",
                                   "set write = true for this scope in vars.toml"), -EPERM;
        if (!write && !found->read)
                return reply_error(r, 403, "read not permitted for this scope",
                                   "set read = true for this scope in vars.toml"), -EPERM;
        return 0;
}

static int check_key(Request *r, const char *key) {
        if (vars_key_is_reserved(key))
                return reply_errorf(r, 400, "_-prefixed keys hold tailkitd's metadata",
                                    "key \"%s\" is reserved", key), -EINVAL;
        if (!vars_key_is_valid(key))
                return reply_error(r, 400, "invalid key",
                                   "keys match " VARS_KEY_RULE " (at most 256 characters)"), -EINVAL;
        return 0;
}

static int reply_store_error(Request *r, int e, const char *what) {
        if (e == -EBUSY) {
                r->retry_after_sec = 1;
                return reply_errorf(r, 503, "the vars worker holds at most 64 MiB of scope indexes at once; retry in a moment",
                                    "too many large scopes open: cannot %s now", what);
        }
        /* The disk's, not a scope limit (store.h): 507, and the scope file
         * is the one before this write (store.c renames a complete temp). */
        if (e == -ENOSPC || e == -EDQUOT) {
                char hint[PATH_MAX + 128];

                log_error_errno(e, "Cannot %s %s/%s: %m", what, r->args[0], r->args[1]);
                snprintf(hint, sizeof(hint), "free space on the file system holding %s/vars (or raise its quota); "
                         "the stored values are unchanged", state_dir());
                return reply_errorf(r, 507, hint, "no space left on the node's disk: cannot %s", what);
        }
        log_error_errno(e, "Cannot %s %s/%s: %m", what, r->args[0], r->args[1]);
        if (e == -EBADMSG)
                return reply_errorf(r, 500, "the scope file is not valid; see the journal",
                                    "cannot %s: the stored scope is corrupt", what);
        return reply_errorf(r, 500, "see journalctl TAILKITD_COMPONENT=vars", "cannot %s: %s", what, strerror(-e));
}

static void log_write(Request *r, const char *action, const char *key) {
        log_struct(LOG_INFO,
                   ((LogField[]) { { "CALLER", request_caller_name(r) }, { "PROJECT", r->args[0] },
                                   { "ENV", r->args[1] }, { "KEY", key }, {} }),
                   "%s %s/%s%s%s", action, r->args[0], r->args[1], key ? "/" : "", strempty(key));
}

int vars_list(Request *r) {
        const VarsConfig *cfg = r->userdata;
        json_object *a;

        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_scopes; i++) {
                const VarsScope *s = &cfg->scopes[i];
                json_object *o = json_object_new_object(), *envs = json_object_new_array();
                char **have = NULL;

                json_object_object_add(o, "project", json_object_new_string(s->project));
                json_object_object_add(o, "env", s->env ? json_object_new_string(s->env) : NULL);
                json_object_object_add(o, "read", json_object_new_boolean(s->read));
                json_object_object_add(o, "write", json_object_new_boolean(s->write));
                if (store_list_envs(s->project, &have) >= 0) {
                        for (char **p = have; *p; p++) {
                                if (!s->env || streq(s->env, *p))
                                        json_object_array_add(envs, json_object_new_string(*p));
                                free(*p);
                        }
                        free(have);
                }
                json_object_object_add(o, "envs", envs);
                json_object_array_add(a, o);
        }
        return reply_json(r, 200, a);
}

static ssize_t render_read(void *cls, uint64_t pos, char *buf, size_t max) {
        ssize_t n = scope_render_read(cls, buf, max);

        if (n == 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (n < 0) {
                /* The headers are out: all that is left is to cut the answer short. */
                log_error_errno((int) n, "Cannot send a scope, its file changed in place: %m");
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        return n;
}

static void render_free(void *cls) {
        scope_render_free(cls);
}

/* Sends f (owned) in format, decoded from its file while it is sent. */
static int reply_scope(Request *r, ScopeFile *f, RenderFormat format, const ScopeEntry *only) {
        ScopeRender *render;
        int e;

        e = scope_render_new(f, format, only, &render);
        if (e < 0)
                return e;
        return reply_stream(r, 200, format == RENDER_ENV ? "text/plain; charset=utf-8" : "application/json",
                            MHD_SIZE_UNKNOWN, render_read, render, render_free);
}

int vars_scope_get(Request *r) {
        const char *format = request_query(r, "format");
        ScopeFile *f;
        int e;

        if (resolve_scope(r, false) < 0)
                return 0;
        if (format && !streq(format, "json") && !streq(format, "env"))
                return reply_error(r, 400, "unknown format", "use ?format=json (the default) or ?format=env");

        e = store_open(r->args[0], r->args[1], &f);
        if (e < 0)
                return reply_store_error(r, e, "read");
        return reply_scope(r, f, format && streq(format, "env") ? RENDER_ENV : RENDER_JSON, NULL);
}

int vars_scope_delete(Request *r) {
        int e;

        if (resolve_scope(r, true) < 0)
                return 0;
        e = store_delete(r->args[0], r->args[1]);
        if (e < 0)
                return reply_store_error(r, e, "delete");
        log_write(r, "deleted scope", NULL);
        return reply_data(r, 204, NULL, "", 0);
}

int vars_key_get(Request *r) {
        _cleanup_(scope_file_freep) ScopeFile *f = NULL;
        const char *key = r->args[2];
        const ScopeEntry *e;
        int k;

        if (resolve_scope(r, false) < 0 || check_key(r, key) < 0)
                return 0;
        k = store_open(r->args[0], r->args[1], &f);
        if (k < 0)
                return reply_store_error(r, k, "read");
        e = scope_file_find(f, key);
        if (!e) {
                char hint[512];
                snprintf(hint, sizeof(hint), "%s is not set in %s/%s", key, r->args[0], r->args[1]);
                return reply_error(r, 404, "key not found", hint);
        }
        return reply_scope(r, TAKE_PTR(f), RENDER_KEY, e);
}

/* The value of a PUT: {"value": "..."} when the body is sent as JSON, else
 * the body itself, as the Go client sends it, without its trailing line
 * ends. Replies and returns < 0 when the body is not acceptable. */
static int put_value(Request *r, json_object **json, const char **ret, size_t *ret_len) {
        const char *v = r->body ?: "";
        size_t len = r->body_size;
        json_object *o;

        if (request_is_json(r)) {
                if (request_json_body(r, json) < 0 || !json_object_is_type(*json, json_type_object) ||
                    !json_object_object_get_ex(*json, "value", &o) || !json_object_is_type(o, json_type_string))
                        return reply_error(r, 400, "invalid body",
                                           "send {\"value\": \"...\"} with Content-Type: application/json, or the raw value"), -EINVAL;
                v = json_object_get_string(o);
                len = (size_t) json_object_get_string_len(o);
        } else
                while (len > 0 && v[len - 1] == '\n')
                        len -= len > 1 && v[len - 2] == '\r' ? 2 : 1;

        if (len > VARS_VALUE_MAX)
                return reply_error(r, 413, "value too large", "values are limited to 1 MiB (after JSON decoding)"), -E2BIG;
        if (!vars_value_is_valid(v, len))
                return reply_error(r, 400, "invalid value", "values must be UTF-8 text without NUL bytes"), -EINVAL;
        *ret = v;
        *ret_len = len;
        return 0;
}

int vars_key_put(Request *r) {
        _cleanup_(json_object_putp_) json_object *body = NULL;
        const char *key = r->args[2], *value;
        json_object *o;
        size_t len;
        int e;

        if (resolve_scope(r, true) < 0 || check_key(r, key) < 0 || put_value(r, &body, &value, &len) < 0)
                return 0;

        e = store_put(r->args[0], r->args[1], request_caller_name(r), key, value, len);
        if (e == -EOVERFLOW)
                return reply_error(r, 409, "scope is full", "a scope holds at most 10000 keys");
        if (e == -EFBIG)
                return reply_error(r, 409, "scope is full", "a scope's stored size is limited to 32 MiB");
        if (e == -EMLINK)
                return reply_errorf(r, 409, "delete an env you no longer need (DELETE /vars/<project>/<env>)",
                                    "project %s holds %d envs already, the most it can", r->args[0], VARS_ENVS_MAX);
        if (e < 0)
                return reply_store_error(r, e, "write");
        log_write(r, "var set", key);

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "key", json_object_new_string(key));
        json_object_object_add(o, "status", json_object_new_string("ok"));
        return reply_json(r, 200, o);
}

int vars_key_delete(Request *r) {
        const char *key = r->args[2];
        int e;

        if (resolve_scope(r, true) < 0 || check_key(r, key) < 0)
                return 0;
        e = store_unset(r->args[0], r->args[1], request_caller_name(r), key);
        if (e < 0)
                return reply_store_error(r, e, "write");
        log_write(r, "var deleted", key);
        return reply_data(r, 204, NULL, "", 0);
}
