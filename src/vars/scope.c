/* SPDX-License-Identifier: MIT */
/* The /vars endpoints. vars.toml is read on every request (it is small), so
 * an edit takes effect without a restart. Values never reach a log line, an
 * error or a hint. */

#include <strings.h>

#include "envfile.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "store.h"
#include "vars-names.h"
#include "vars.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static void vars_config_free(void *p) {
        vars_config_done(p);
        free(p);
}

/* Loads vars.toml once per request; the handlers read it from r->userdata. */
int vars_available(Request *r, const char **error, const char **hint) {
        static __thread char buf[1024];
        ConfigErrors errors = {};
        VarsConfig *c;
        int e;

        c = calloc(1, sizeof(VarsConfig));
        if (!c) {
                *error = "out of memory";
                return -ENOMEM;
        }
        e = vars_config_load(config_dir(), c, &errors);
        if (e >= 0) {
                r->userdata = c;
                r->userdata_free = vars_config_free;
        } else {
                free(c);
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
        return e < 0 ? -EINVAL : 0;
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
        log_error_errno(e, "Cannot %s %s/%s: %m", what, r->args[0], r->args[1]);
        if (e == -EBADMSG)
                return reply_errorf(r, 500, "the scope file is not valid JSON; see the journal",
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

int vars_scope_get(Request *r) {
        _cleanup_(json_object_putp) json_object *scope = NULL;
        const char *format = request_query(r, "format");
        json_object *out;
        int e;

        if (resolve_scope(r, false) < 0)
                return 0;
        if (format && !streq(format, "json") && !streq(format, "env"))
                return reply_error(r, 400, "unknown format", "use ?format=json (the default) or ?format=env");

        e = store_read(r->args[0], r->args[1], &scope);
        if (e < 0)
                return reply_store_error(r, e, "read");

        if (format && streq(format, "env")) {
                _cleanup_free_ char *buf = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&buf, &size);

                if (!f)
                        return -ENOMEM;
                e = envfile_write(f, scope);
                if (fclose(f) != 0 || e < 0)
                        return -ENOMEM;
                return reply_data(r, 200, "text/plain; charset=utf-8", buf, size);
        }

        out = json_object_new_object();
        if (!out)
                return -ENOMEM;
        json_object_object_foreach(scope, key, val)
                if (!vars_key_is_reserved(key))
                        json_object_object_add(out, key, json_object_get(val));
        return reply_json(r, 200, out);
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
        _cleanup_(json_object_putp) json_object *scope = NULL;
        const char *key = r->args[2];
        json_object *val, *o;
        int e;

        if (resolve_scope(r, false) < 0 || check_key(r, key) < 0)
                return 0;
        e = store_read(r->args[0], r->args[1], &scope);
        if (e < 0)
                return reply_store_error(r, e, "read");
        if (!json_object_object_get_ex(scope, key, &val) || !json_object_is_type(val, json_type_string)) {
                char hint[512];
                snprintf(hint, sizeof(hint), "%s is not set in %s/%s", key, r->args[0], r->args[1]);
                return reply_error(r, 404, "key not found", hint);
        }
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "key", json_object_new_string(key));
        json_object_object_add(o, "value", json_object_get(val));
        return reply_json(r, 200, o);
}

typedef struct PutEdit {
        const char *key;
        const char *value;
        size_t len;
} PutEdit;

static int edit_put(json_object *scope, void *userdata) {
        PutEdit *p = userdata;
        size_t n = 0;

        if (!json_object_object_get_ex(scope, p->key, NULL)) {
                json_object_object_foreach(scope, k, v) {
                        (void) v;
                        n += !vars_key_is_reserved(k);
                }
                if (n >= VARS_KEYS_MAX)
                        return -EDQUOT;
        }
        return json_object_object_add(scope, p->key, json_object_new_string_len(p->value, (int) p->len)) < 0 ? -ENOMEM : 0;
}

static bool content_type_is_json(Request *r) {
        const char *ct = request_header(r, "Content-Type");
        return ct && strncasecmp(ct, "application/json", strlen("application/json")) == 0;
}

int vars_key_put(Request *r) {
        _cleanup_(json_object_putp) json_object *body = NULL;
        PutEdit edit = { .key = r->args[2] };
        int e;

        if (resolve_scope(r, true) < 0 || check_key(r, edit.key) < 0)
                return 0;

        if (content_type_is_json(r)) {
                json_tokener *tok = json_tokener_new();
                json_object *v;

                if (!tok)
                        return -ENOMEM;
                json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
                body = json_tokener_parse_ex(tok, r->body ?: "", (int) r->body_size);
                e = json_tokener_get_error(tok) == json_tokener_success;
                json_tokener_free(tok);
                if (!e || !json_object_is_type(body, json_type_object) ||
                    !json_object_object_get_ex(body, "value", &v) || !json_object_is_type(v, json_type_string))
                        return reply_error(r, 400, "invalid body",
                                           "send {\"value\": \"...\"} with Content-Type: application/json, or the raw value");
                edit.value = json_object_get_string(v);
                edit.len = (size_t) json_object_get_string_len(v);
        } else {
                /* The Go client's form: the raw value, trailing newlines dropped. */
                edit.value = r->body ?: "";
                edit.len = r->body_size;
                while (edit.len > 0 && edit.value[edit.len - 1] == '\n')
                        edit.len--;
        }

        if (edit.len > VARS_VALUE_MAX)
                return reply_error(r, 413, "value too large", "values are limited to 1 MiB");
        if (!vars_value_is_valid(edit.value, edit.len))
                return reply_error(r, 400, "invalid value", "values must be UTF-8 text without NUL bytes");

        e = store_update(r->args[0], r->args[1], request_caller_name(r), edit_put, &edit);
        if (e == -EDQUOT)
                return reply_error(r, 409, "scope is full", "a scope holds at most 10000 keys");
        if (e == -ENOSPC)
                return reply_error(r, 409, "scope is full", "a scope's stored size is limited to 32 MiB");
        if (e < 0)
                return reply_store_error(r, e, "write");
        log_write(r, "var set", edit.key);

        json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "key", json_object_new_string(edit.key));
        json_object_object_add(o, "status", json_object_new_string("ok"));
        return reply_json(r, 200, o);
}

static int edit_delete(json_object *scope, void *userdata) {
        /* Deleting what is not there must not create a scope file. */
        if (!json_object_object_get_ex(scope, userdata, NULL))
                return STORE_UNCHANGED;
        json_object_object_del(scope, userdata);
        return 0;
}

int vars_key_delete(Request *r) {
        const char *key = r->args[2];
        int e;

        if (resolve_scope(r, true) < 0 || check_key(r, key) < 0)
                return 0;
        e = store_update(r->args[0], r->args[1], request_caller_name(r), edit_delete, (void *) key);
        if (e < 0)
                return reply_store_error(r, e, "write");
        log_write(r, "var deleted", key);
        return reply_data(r, 204, NULL, "", 0);
}
