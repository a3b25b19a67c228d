/* SPDX-License-Identifier: MIT */
/* tailkitctl vars list|get|set|delete|env: the /vars API. */

#include "api.h"
#include "args.h"
#include "fileio.h"
#include "json-util.h"
#include "macro.h"
#include "table.h"

/* The worker's own cap on a decoded value (README: 1 MiB). */
#define VAR_VALUE_MAX (1024 * 1024)

static int scope_path(const char *project, const char *env, const char *key, char **ret) {
        _cleanup_free_ char *p = http_escape(project), *e = http_escape(env), *k = key ? http_escape(key) : NULL;

        if (!p || !e || (key && !k))
                return -ENOMEM;
        return asprintf(ret, "/vars/%s/%s%s%s", p, e, k ? "/" : "", strempty(k)) < 0 ? -ENOMEM : 0;
}

static int vars_list(Ctx *c) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_(table_freep) Table *t = table_new("PROJECT", "ENV", "READ", "WRITE", "ENVS", NULL);
        int r;

        r = api_get_json(c, "/vars", &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        if (!t || !json_object_is_type(o, json_type_array))
                return EXIT_PROTOCOL;
        for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *s = json_object_array_get_idx(o, i), *envs = json_get(s, "envs");
                _cleanup_free_ char *list = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&list, &size);

                if (!f)
                        return EXIT_FAILURE_LOCAL;
                for (size_t j = 0; envs && json_object_is_type(envs, json_type_array) &&
                                   j < json_object_array_length(envs); j++)
                        fprintf(f, "%s%s", j ? "," : "", json_object_get_string(json_object_array_get_idx(envs, j)));
                fclose(f);
                table_add(t, json_str(s, "project"), json_str(s, "env") ?: "*",
                          json_true(s, "read") ? "yes" : "no", json_true(s, "write") ? "yes" : "no",
                          size ? list : "-");
        }
        table_print(t, c->out);
        return 0;
}

static int vars_get(Ctx *c, const char *path, bool key) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        int r;

        r = api_get_json(c, path, &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        if (key) {
                /* The bare value, so $(tailkitctl vars get …) works. */
                fprintf(c->out, "%s\n", strempty(json_str(o, "value")));
                return 0;
        }
        t = table_new("KEY", "VALUE", NULL);
        if (!t || !json_object_is_type(o, json_type_object))
                return EXIT_PROTOCOL;
        json_object_object_foreach(o, k, v)
                table_add(t, k, json_object_get_string(v));
        table_print(t, c->out);
        return 0;
}

static int vars_set(Ctx *c, const char *path, const char *key, const char *value) {
        _cleanup_(json_object_putp_) json_object *o = NULL, *body = NULL;
        _cleanup_free_ char *input = NULL;
        size_t len = 0;
        const char *text;
        int r;

        if (streq(value, "-")) {
                if (c->opt->all)
                        return command_usage_error(c, "vars", "a value from standard input cannot go to --all");
                r = read_full_fd(STDIN_FILENO, VAR_VALUE_MAX + 2, &input, &len);
                if (r < 0) {
                        fprintf(c->err, "error: reading the value from standard input: %s\n", strerror(-r));
                        return EXIT_FAILURE_LOCAL;
                }
                /* As the worker does for raw bodies: one trailing newline goes. */
                if (len > 0 && input[len - 1] == '\n')
                        input[--len] = 0;
                if (len > 0 && input[len - 1] == '\r')
                        input[--len] = 0;
                value = input;
        }
        /* The JSON form keeps every byte of the value (no newline stripping). */
        body = json_object_new_object();
        if (!body)
                return EXIT_FAILURE_LOCAL;
        json_object_object_add(body, "value", json_object_new_string_len(value, (int) (input ? len : strlen(value))));
        text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = api_json(c, &(HttpRequest) { .method = "PUT", .path = path, .content_type = "application/json",
                                         .body = text, .body_size = strlen(text) }, &o);
        if (r != 0)
                return r;
        if (c->opt->json)
                print_json(c, o);
        else
                fprintf(c->out, "%s set\n", key);
        return 0;
}

static int vars_delete(Ctx *c, const char *path, const char *what) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        int r;

        r = api_do(c, &(HttpRequest) { .method = "DELETE", .path = path }, &resp);
        if (r != 0)
                return r;
        if (c->opt->json) {
                /* The API answers 204 with no body: say what happened in JSON. */
                _cleanup_(json_object_putp_) json_object *o = json_object_new_object();
                if (!o)
                        return EXIT_FAILURE_LOCAL;
                json_object_object_add(o, "deleted", json_object_new_boolean(true));
                print_json(c, o);
        } else
                fprintf(c->out, "%s deleted\n", what);
        return 0;
}

static int vars_env(Ctx *c, const char *path) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *p = NULL;
        int r;

        if (asprintf(&p, "%s?format=%s", path, c->opt->json ? "json" : "env") < 0)
                return EXIT_FAILURE_LOCAL;
        r = api_do(c, &(HttpRequest) { .method = "GET", .path = p, .accept = "*/*" }, &resp);
        if (r != 0)
                return r;
        fwrite(resp.body, 1, resp.size, c->out);
        return 0;
}

int cmd_vars(Ctx *c, int argc, char **argv) {
        _cleanup_free_ char *path = NULL;
        const char *verb;
        Args a;
        int r;

        r = args_parse(c, "vars", argc, argv, NULL, 0, &a);
        if (r != 0)
                return r;
        verb = a.n > 0 ? a.pos[0] : "list";
        if (streq(verb, "list")) {
                if (a.n > 1)
                        return command_usage_error(c, "vars", "list takes no arguments");
                return vars_list(c);
        }
        if (a.n < 3)
                return command_usage_error(c, "vars", "%s needs PROJECT and ENV", verb);
        if (scope_path(a.pos[1], a.pos[2], a.n > 3 ? a.pos[3] : NULL, &path) < 0)
                return EXIT_FAILURE_LOCAL;
        if (streq(verb, "get") && a.n <= 4)
                return vars_get(c, path, a.n == 4);
        if (streq(verb, "set") && a.n == 5)
                return vars_set(c, path, a.pos[3], a.pos[4]);
        if (streq(verb, "delete") && a.n <= 4)
                return vars_delete(c, path, a.n == 4 ? a.pos[3] : "scope");
        if (streq(verb, "env") && a.n == 3)
                return vars_env(c, path);
        return command_usage_error(c, "vars", "unknown form of \"vars %s\"", verb);
}
