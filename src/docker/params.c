/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include <json-c/json.h>

#include "json-util.h"
#include "macro.h"
#include "params.h"
#include "utf8.h"

static bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool docker_name_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > DOCKER_NAME_MAX || !is_alnum(s[0]) || strstr(s, ".."))
                return false;
        for (; *s; s++)
                if (!is_alnum(*s) && *s != '_' && *s != '.' && *s != '-')
                        return false;
        return true;
}

bool docker_image_ref_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > DOCKER_REF_MAX || !is_alnum(s[0]) || s[n - 1] == '/' ||
            strstr(s, "..") || strstr(s, "//") || strstr(s, "/.") || strstr(s, "/-"))
                return false;
        for (; *s; s++)
                if (!is_alnum(*s) && !strchr("_.-/:@", *s))
                        return false;
        return true;
}

bool compose_project_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > COMPOSE_PROJECT_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
                        return false;
        return true;
}

char *query_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (is_alnum((char) c) || c == '-' || c == '.' || c == '_' || c == '~')
                        *o++ = (char) c;
                else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = 0;
        return out;
}

static int fail(char **error, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        if (vasprintf(error, format, ap) < 0)
                *error = NULL;
        va_end(ap);
        return -EINVAL;
}

static bool filter_key_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

static bool filter_value_is_valid(const char *s, size_t n) {
        if (n > FILTER_VALUE_MAX || !utf8_is_valid(s, n, false))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7F)
                        return false;
        return true;
}

int filters_normalize(const char *json, char **ret, char **error) {
        _cleanup_(json_object_putp_) json_object *root = NULL;
        size_t n = strlen(json), n_keys = 0;
        int r;

        *error = NULL;
        if (n > FILTERS_MAX)
                return fail(error, "'filters' is longer than %d bytes", FILTERS_MAX);
        r = json_parse_strict(json, n, &root);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !json_object_is_type(root, json_type_object))
                return fail(error, "'filters' must be a JSON object like {\"label\":[\"app=web\"]}");
        json_object_object_foreach(root, key, value) {
                if (++n_keys > FILTER_KEYS_MAX)
                        return fail(error, "'filters' has more than %d keys", FILTER_KEYS_MAX);
                if (!filter_key_is_valid(key))
                        return fail(error, "'filters' key \"%.64s\" is not a filter name", key);
                if (json_object_is_type(value, json_type_array)) {
                        size_t len = json_object_array_length(value);

                        if (len > FILTER_VALUES_MAX)
                                return fail(error, "'filters' key \"%s\" has more than %d values", key, FILTER_VALUES_MAX);
                        for (size_t i = 0; i < len; i++) {
                                json_object *v = json_object_array_get_idx(value, i);

                                if (!json_object_is_type(v, json_type_string) ||
                                    !filter_value_is_valid(json_object_get_string(v), (size_t) json_object_get_string_len(v)))
                                        return fail(error, "'filters' values of \"%s\" must be strings without control characters", key);
                        }
                } else if (json_object_is_type(value, json_type_object)) {
                        /* The Engine's older form: {"label": {"app=web": true}}. */
                        size_t m = 0;

                        json_object_object_foreach(value, k2, v2)
                                if (++m > FILTER_VALUES_MAX || !json_object_is_type(v2, json_type_boolean) ||
                                    !filter_value_is_valid(k2, strlen(k2)))
                                        return fail(error, "'filters' key \"%s\" must map to an array of strings", key);
                } else
                        return fail(error, "'filters' key \"%s\" must map to an array of strings", key);
        }
        *ret = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        return *ret ? 0 : -ENOMEM;
}

static bool uint_is_valid(const char *s, unsigned max) {
        unsigned long v;

        return parse_uint(s, max, &v) >= 0;
}

static bool timestamp_is_valid(const char *s) {
        size_t i = strspn(s, "0123456789");

        if (i == 0 || i > 12)
                return false;
        if (s[i] == 0)
                return true;
        if (s[i] != '.')
                return false;
        s += i + 1;
        i = strspn(s, "0123456789");
        return i > 0 && i <= 9 && s[i] == 0;
}

/* The value to pass on for p, or NULL (and *error) when v is not one. */
static char *checked_value(const QueryParam *p, const char *v, char **error) {
        char *out = NULL;
        int r;

        switch (p->type) {
        case QUERY_BOOL:
                if (streq(v, "1") || streq(v, "true") || streq(v, "True") || streq(v, "TRUE"))
                        return strdup("1");
                if (streq(v, "0") || streq(v, "false") || streq(v, "False") || streq(v, "FALSE"))
                        return strdup("0");
                fail(error, "'%s' must be true or false (1 or 0)", p->name);
                return NULL;
        case QUERY_UINT:
                if (!uint_is_valid(v, p->max)) {
                        fail(error, "'%s' must be an integer from 0 to %u", p->name, p->max);
                        return NULL;
                }
                return strdup(v);
        case QUERY_TAIL:
                if (!streq(v, "all") && !uint_is_valid(v, p->max)) {
                        fail(error, "'%s' must be \"all\" or an integer from 0 to %u", p->name, p->max);
                        return NULL;
                }
                return strdup(v);
        case QUERY_TIMESTAMP:
                if (!timestamp_is_valid(v)) {
                        fail(error, "'%s' must be a Unix time in seconds, like 1700000000 or 1700000000.5", p->name);
                        return NULL;
                }
                return strdup(v);
        case QUERY_IMAGE:
                if (!docker_image_ref_is_valid(v)) {
                        fail(error, "'%s' must be an image reference like busybox:latest", p->name);
                        return NULL;
                }
                return strdup(v);
        case QUERY_PATH:
                if (v[0] != '/' || !filter_value_is_valid(v, strlen(v))) {
                        fail(error, "'%s' must be an absolute path", p->name);
                        return NULL;
                }
                return strdup(v);
        case QUERY_FILTERS:
                r = filters_normalize(v, &out, error);
                if (r == -ENOMEM)
                        *error = NULL;
                return r < 0 ? NULL : out;
        }
        return NULL;
}

static int append(char **q, size_t *len, const char *key, const char *value) {
        _cleanup_free_ char *escaped = query_escape(value);
        size_t need;
        char *n;

        if (!escaped)
                return -ENOMEM;
        need = *len + (*len > 0) + strlen(key) + 1 + strlen(escaped) + 1;
        n = realloc(*q, need);
        if (!n)
                return -ENOMEM;
        *q = n;
        *len += (size_t) sprintf(n + *len, "%s%s=%s", *len > 0 ? "&" : "", key, escaped);
        return 0;
}

int query_build(const QueryParam *declared, const QueryPair *pairs, size_t n_pairs, const char *fixed,
                char **ret, char **error) {
        _cleanup_free_ char *q = NULL;
        size_t len = 0, n_declared = 0;
        int r;

        *error = NULL;
        q = strdup("");
        if (!q)
                return -ENOMEM;
        for (const QueryParam *p = declared; p && p->name; p++)
                n_declared++;

        /* Every pair must be declared, once, with a value. */
        for (size_t i = 0; i < n_pairs; i++) {
                const QueryParam *p = NULL;

                for (size_t j = 0; j < n_declared; j++)
                        if (streq(declared[j].name, pairs[i].key))
                                p = &declared[j];
                if (!p) {
                        _cleanup_free_ char *names = NULL;
                        size_t nl = 1;

                        for (size_t j = 0; j < n_declared; j++)
                                nl += strlen(declared[j].name) + 2;
                        names = calloc(1, nl);
                        if (!names)
                                return -ENOMEM;
                        for (size_t j = 0; j < n_declared; j++) {
                                if (j > 0)
                                        strcat(names, ", ");
                                strcat(names, declared[j].name);
                        }
                        if (n_declared == 0)
                                return fail(error, "unknown query parameter '%.64s': this endpoint takes none", pairs[i].key);
                        return fail(error, "unknown query parameter '%.64s': this endpoint takes %s", pairs[i].key, names);
                }
                for (size_t j = 0; j < i; j++)
                        if (streq(pairs[j].key, pairs[i].key))
                                return fail(error, "query parameter '%s' given more than once", p->name);
                if (!pairs[i].value)
                        return fail(error, "query parameter '%s' needs a value", p->name);
        }

        for (size_t j = 0; j < n_declared; j++) {
                const QueryParam *p = &declared[j];
                const char *v = NULL;
                _cleanup_free_ char *checked = NULL;

                for (size_t i = 0; i < n_pairs; i++)
                        if (streq(pairs[i].key, p->name))
                                v = pairs[i].value;
                if (!v)
                        v = p->def;
                if (!v)
                        continue;
                checked = checked_value(p, v, error);
                if (!checked)
                        return *error ? -EINVAL : -ENOMEM;
                r = append(&q, &len, p->name, checked);
                if (r < 0)
                        return r;
        }
        if (fixed) {
                char *n = realloc(q, len + 1 + strlen(fixed) + 1);
                if (!n)
                        return -ENOMEM;
                q = n;
                len += (size_t) sprintf(q + len, "%s%s", len > 0 ? "&" : "", fixed);
        }
        *ret = TAKE_PTR(q);
        return 0;
}
