/* SPDX-License-Identifier: MIT */
/* Exec command checks and argv building (SPEC §4, issue #4).
 *
 * Templates: an exec_parts element may hold {{.name}} or {{ .name }} (one
 * optional space after "{{" and before "}}"), name a declared arg. Anything
 * else that starts with "{{" is refused when the tool file is loaded, so Go's
 * other text/template actions ({{if}}, pipes, printf, comments, trim markers)
 * never reach a command. Substitution is a single pass: a value containing
 * "{{" stays literal, and every element stays exactly one argv element.
 *
 * Patterns are RE2 syntax run through PCRE2 with options that keep RE2's
 * meaning where they differ and it matters for validation: '$' only at the
 * very end (RE2 has no "before a final newline"), LF as the only newline, \d
 * \w \b ASCII-only, no \C. Matching is unanchored unless the pattern anchors
 * itself, with match, depth and heap limits so no value can burn CPU. */

#include <inttypes.h>
#include <stdarg.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "macro.h"
#include "registry.h"

/* Limits for one pattern check. The match limit bounds CPU (a few ms at
 * most); since PCRE2 10.30 the depth limit counts backtracking frames kept on
 * the heap, so it must allow a group repeated once per byte of a
 * EXEC_ARG_VALUE_MAX value (^(a|b)*$), and the heap limit bounds the memory. */
#define PATTERN_MATCH_LIMIT 100000
#define PATTERN_DEPTH_LIMIT (4 * EXEC_ARG_VALUE_MAX)
#define PATTERN_HEAP_LIMIT_KIB 8192

#define PATTERN_COMPILE_OPTIONS \
        (PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C | PCRE2_NEVER_UCP)

DEFINE_TRIVIAL_CLEANUP_FUNC(pcre2_code *, pcre2_code_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(pcre2_compile_context *, pcre2_compile_context_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(pcre2_match_context *, pcre2_match_context_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(pcre2_match_data *, pcre2_match_data_free);

void strv_free_null(char **v) {
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static inline void strv_free_nullp(char ***v) {
        strv_free_null(*v);
}

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* s starts with "{{". Returns the length of the template {{.name}} /
 * {{ .name }} there (name and name_len set), or 0 when it is anything else. */
static size_t template_at(const char *s, const char **name, size_t *name_len) {
        const char *p = s + 2, *n;

        if (*p == ' ')
                p++;
        if (*p != '.')
                return 0;
        n = ++p;
        while (is_name_char(*p))
                p++;
        if (p == n || p - n > 64)
                return 0;
        *name = n;
        *name_len = (size_t) (p - n);
        if (*p == ' ')
                p++;
        if (p[0] != '}' || p[1] != '}')
                return 0;
        return (size_t) (p + 2 - s);
}

static const ToolArg *find_arg(const ToolCommand *c, const char *name, size_t len) {
        for (size_t i = 0; i < c->n_args; i++)
                if (strlen(c->args[i].name) == len && memcmp(c->args[i].name, name, len) == 0)
                        return &c->args[i];
        return NULL;
}

static int pattern_compile(const char *pattern, pcre2_code **ret, char **error) {
        _cleanup_(pcre2_compile_context_freep) pcre2_compile_context *cc = NULL;
        PCRE2_UCHAR message[256];
        PCRE2_SIZE offset = 0;
        int code = 0;

        cc = pcre2_compile_context_create(NULL);
        if (!cc)
                return -ENOMEM;
        pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
        *ret = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, PATTERN_COMPILE_OPTIONS, &code, &offset, cc);
        if (*ret)
                return 0;
        if (code == PCRE2_ERROR_NOMEMORY || code == PCRE2_ERROR_HEAP_FAILED)
                return -ENOMEM;
        if (pcre2_get_error_message(code, message, sizeof(message)) < 0)
                snprintf((char *) message, sizeof(message), "error %d", code);
        return asprintf(error, "%s at offset %zu", (const char *) message, (size_t) offset) < 0 ? -ENOMEM : -EBADMSG;
}

int command_check(const ToolCommand *c, char **error) {
        int r;

        *error = NULL;
        if (c->n_exec_parts == 0 || !c->exec_parts[0] || c->exec_parts[0][0] != '/')
                return asprintf(error, "command \"%s\": exec_parts[0] must be an absolute path", c->name) < 0 ? -ENOMEM : -EBADMSG;
        /* The program is fixed at install time (the Go client also insists
         * that exec_parts[0] exists); a caller never picks it. */
        if (strstr(c->exec_parts[0], "{{"))
                return asprintf(error, "command \"%s\": exec_parts[0] must not hold a template", c->name) < 0 ? -ENOMEM : -EBADMSG;

        for (size_t i = 1; i < c->n_exec_parts; i++) {
                const char *s = c->exec_parts[i], *t;

                while ((t = strstr(s, "{{"))) {
                        const char *name;
                        size_t name_len, len;

                        len = template_at(t, &name, &name_len);
                        if (len == 0)
                                return asprintf(error, "command \"%s\": exec_parts[%zu]: unsupported template at byte %zu "
                                                "(only {{.name}} and {{ .name }} are allowed)",
                                                c->name, i, (size_t) (t - c->exec_parts[i])) < 0 ? -ENOMEM : -EBADMSG;
                        if (!find_arg(c, name, name_len))
                                return asprintf(error, "command \"%s\": exec_parts[%zu]: template names undeclared arg \"%.*s\"",
                                                c->name, i, (int) name_len, name) < 0 ? -ENOMEM : -EBADMSG;
                        s = t + len;
                }
        }

        for (size_t i = 0; i < c->n_args; i++) {
                _cleanup_(pcre2_code_freep) pcre2_code *code = NULL;
                _cleanup_free_ char *why = NULL;

                if (!c->args[i].pattern)
                        continue;
                r = pattern_compile(c->args[i].pattern, &code, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return asprintf(error, "command \"%s\": arg \"%s\": pattern does not compile: %s",
                                        c->name, c->args[i].name, why) < 0 ? -ENOMEM : -EBADMSG;
        }
        return 0;
}

_printf_(2, 3)
static int arg_error(char **error, const char *format, ...) {
        va_list ap;
        int k;

        va_start(ap, format);
        k = vasprintf(error, format, ap);
        va_end(ap);
        if (k < 0) {
                *error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static bool text_is_int(const char *s) {
        const char *p = s;
        char *end = NULL;

        if (*p == '-')
                p++;
        if (!*p)
                return false;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        errno = 0;
        (void) strtoll(s, &end, 10);
        return errno == 0 && end && *end == 0;
}

static int pattern_check(const ToolArg *a, const char *value, size_t len, char **error) {
        _cleanup_(pcre2_code_freep) pcre2_code *code = NULL;
        _cleanup_(pcre2_match_context_freep) pcre2_match_context *mc = NULL;
        _cleanup_(pcre2_match_data_freep) pcre2_match_data *md = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        r = pattern_compile(a->pattern, &code, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)      /* refused at load; only a changed PCRE2 could get here */
                return arg_error(error, "arg \"%s\" has a pattern that does not compile", a->name);

        mc = pcre2_match_context_create(NULL);
        md = pcre2_match_data_create(1, NULL);
        if (!mc || !md)
                return -ENOMEM;
        pcre2_set_match_limit(mc, PATTERN_MATCH_LIMIT);
        pcre2_set_depth_limit(mc, PATTERN_DEPTH_LIMIT);
        pcre2_set_heap_limit(mc, PATTERN_HEAP_LIMIT_KIB);

        r = pcre2_match(code, (PCRE2_SPTR) value, len, 0, 0, md, mc);
        if (r >= 0)
                return 0;
        switch (r) {
        case PCRE2_ERROR_NOMATCH:
                return arg_error(error, "arg \"%s\" does not match %s", a->name, a->pattern);
        case PCRE2_ERROR_MATCHLIMIT:
        case PCRE2_ERROR_DEPTHLIMIT:
        case PCRE2_ERROR_HEAPLIMIT:
                return arg_error(error, "arg \"%s\": pattern check exceeded its limits", a->name);
        case PCRE2_ERROR_NOMEMORY:
                return -ENOMEM;
        default:
                if (r <= PCRE2_ERROR_UTF8_ERR1 && r >= PCRE2_ERROR_UTF8_ERR21)
                        return arg_error(error, "arg \"%s\" is not valid UTF-8", a->name);
                return arg_error(error, "arg \"%s\": pattern check failed (PCRE2 error %d)", a->name, r);
        }
}

/* The text of one supplied value, checked against the arg's declaration. */
static int arg_value(const ToolArg *a, json_object *v, const char **ret, char **error) {
        const char *s;
        size_t len;

        switch (json_object_get_type(v)) {
        case json_type_string:
                break;
        case json_type_int:
                if (a->type != TOOL_ARG_INT)
                        return arg_error(error, a->type == TOOL_ARG_BOOL ? "arg \"%s\" must be true or false" :
                                         "arg \"%s\" must be a string", a->name);
                break;
        case json_type_boolean:
                if (a->type != TOOL_ARG_BOOL)
                        return arg_error(error, a->type == TOOL_ARG_INT ? "arg \"%s\" must be an int" :
                                         "arg \"%s\" must be a string", a->name);
                break;
        default:
                return arg_error(error, a->type == TOOL_ARG_INT ? "arg \"%s\" must be an int" :
                                 a->type == TOOL_ARG_BOOL ? "arg \"%s\" must be true or false" :
                                 "arg \"%s\" must be a string", a->name);
        }

        /* For ints json-c prints the parsed int64/uint64, for booleans
         * "true"/"false": the text the type checks below see. */
        s = json_object_get_string(v);
        if (!s)
                return -ENOMEM;
        len = json_object_is_type(v, json_type_string) ? (size_t) json_object_get_string_len(v) : strlen(s);
        if (len > EXEC_ARG_VALUE_MAX)
                return arg_error(error, "arg \"%s\" is longer than %d bytes", a->name, EXEC_ARG_VALUE_MAX);
        if (memchr(s, 0, len))
                return arg_error(error, "arg \"%s\" contains a NUL byte", a->name);

        if (a->type == TOOL_ARG_INT && !text_is_int(s))
                return arg_error(error, "arg \"%s\" must be an int", a->name);
        if (a->type == TOOL_ARG_BOOL && !streq(s, "true") && !streq(s, "false"))
                return arg_error(error, "arg \"%s\" must be true or false", a->name);

        if (a->pattern) {
                int r = pattern_check(a, s, len, error);
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}

/* One exec_parts element with every template replaced by its value. */
static int substitute(const ToolCommand *c, const char *part, const char *const *values, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        const char *s = part, *t;
        int r = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        while ((t = strstr(s, "{{"))) {
                const char *name;
                size_t name_len, len;
                const ToolArg *a;

                len = template_at(t, &name, &name_len);
                a = len > 0 ? find_arg(c, name, name_len) : NULL;
                if (!a) {       /* command_check() refused this at load */
                        r = -EBADMSG;
                        break;
                }
                fwrite(s, 1, (size_t) (t - s), f);
                fputs(values[a - c->args], f);
                s = t + len;
        }
        fputs(s, f);
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int command_build_argv(const ToolCommand *c, json_object *args, char ***ret_argv, char **error) {
        _cleanup_free_ const char **values = NULL;
        _cleanup_(strv_free_nullp) char **argv = NULL;
        int r;

        *error = NULL;
        *ret_argv = NULL;

        if (args && !json_object_is_type(args, json_type_object))
                return arg_error(error, "args must be a JSON object");

        /* Unknown names first, in the order the caller sent them. */
        if (args) {
                json_object_object_foreach(args, key, v) {
                        (void) v;
                        if (find_arg(c, key, strlen(key)))
                                continue;
                        if (tool_name_is_valid(key))
                                return arg_error(error, "unknown arg \"%s\"", key);
                        return arg_error(error, "unknown arg (arg names match ^[a-zA-Z0-9_-]+$)");
                }
        }

        /* Then every declared arg, in declaration order. */
        values = calloc(MAX(c->n_args, 1), sizeof(char *));
        if (!values)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_args; i++) {
                const ToolArg *a = &c->args[i];
                json_object *v = NULL;

                if (!args || !json_object_object_get_ex(args, a->name, &v) || !v) {
                        /* Absent, or JSON null (which Go decodes as ""). */
                        if (a->required)
                                return arg_error(error, "missing required arg \"%s\"", a->name);
                        values[i] = "";
                        continue;
                }
                /* As in the Go runner, a required arg given as "" is missing. */
                if (a->required && json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0)
                        return arg_error(error, "missing required arg \"%s\"", a->name);
                r = arg_value(a, v, &values[i], error);
                if (r < 0)
                        return r;
        }

        argv = calloc(c->n_exec_parts + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_exec_parts; i++) {
                r = substitute(c, c->exec_parts[i], values, &argv[i]);
                if (r == -EBADMSG)
                        return arg_error(error, "command \"%s\": exec_parts[%zu] holds an unsupported template", c->name, i);
                if (r < 0)
                        return r;
        }
        *ret_argv = TAKE_PTR(argv);
        return 0;
}
