/* SPDX-License-Identifier: MIT */
#include "api.h"
#include "json-util.h"
#include "macro.h"

int api_exit_code(long status) {
        switch (status) {
        case 401: return EXIT_UNAUTHORIZED;
        case 403: return EXIT_FORBIDDEN;
        case 404: return EXIT_NOT_FOUND;
        case 503: return EXIT_UNAVAILABLE;
        default:  return EXIT_HTTP_OTHER;
        }
}

/* Control characters from the network never reach the terminal raw. */
static void print_clean(FILE *f, const char *s) {
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;
                if (ch < 0x20 || ch == 0x7f)
                        fprintf(f, "\\x%02x", ch);
                else
                        fputc(ch, f);
        }
}

int api_print_error(Ctx *c, const HttpResponse *resp) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        const char *error = NULL, *hint = NULL;

        if (json_parse_strict(resp->body, resp->size, &o) >= 0) {
                error = json_str(o, "error");
                hint = json_str(o, "hint");
        }
        fprintf(c->err, "error: ");
        if (c->opt->all || c->opt->node)
                fprintf(c->err, "%s: ", c->target->name);
        fprintf(c->err, "HTTP %ld: ", resp->status);
        if (error)
                print_clean(c->err, error);
        else {
                /* Not the API's JSON (a proxy, another server): show the start. */
                char head[201];
                size_t n = MIN(resp->size, sizeof head - 1);
                memcpy(head, resp->body, n);
                head[n] = 0;
                print_clean(c->err, n ? head : "(no body)");
        }
        fputc('\n', c->err);
        if (hint) {
                fprintf(c->err, "hint: ");
                print_clean(c->err, hint);
                fputc('\n', c->err);
        }
        return api_exit_code(resp->status);
}

int api_do(Ctx *c, const HttpRequest *req, HttpResponse *resp) {
        int r = http_do(c, req, resp);
        if (r != 0)
                return r;
        if (resp->status >= 400)
                return api_print_error(c, resp);
        return 0;
}

int api_json(Ctx *c, const HttpRequest *req, json_object **ret) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        int r;

        *ret = NULL;
        r = api_do(c, req, &resp);
        if (r != 0)
                return r;
        if (resp.size == 0)
                return 0;
        if (json_parse_strict(resp.body, resp.size, ret) < 0) {
                fprintf(c->err, "error: %s: HTTP %ld: the answer is not JSON\n", c->target->name, resp.status);
                return EXIT_PROTOCOL;
        }
        return 0;
}

int api_get_json(Ctx *c, const char *path, json_object **ret) {
        return api_json(c, &(HttpRequest) { .method = "GET", .path = path }, ret);
}

void print_json(Ctx *c, json_object *o) {
        fprintf(c->out, "%s\n", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                     JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
}

json_object *json_get(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

const char *json_str(json_object *o, const char *key) {
        json_object *v = json_get(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t json_int(json_object *o, const char *key, int64_t def) {
        json_object *v = json_get(o, key);
        return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
                ? json_object_get_int64(v) : def;
}

double json_double(json_object *o, const char *key, double def) {
        json_object *v = json_get(o, key);
        return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
                ? json_object_get_double(v) : def;
}

bool json_true(json_object *o, const char *key) {
        json_object *v = json_get(o, key);
        return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}
