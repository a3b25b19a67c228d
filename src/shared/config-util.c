/* SPDX-License-Identifier: MIT */
/* Helpers every config loader and its callers share: error lists, sizes and
 * percentages, string lists. */

#include <limits.h>
#include <stdarg.h>

#include "config-reader.h"
#include "config.h"
#include "macro.h"


static bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}

void config_errors_done(ConfigErrors *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->messages[i]);
        free(e->messages);
        *e = (ConfigErrors) {};
}

int config_errors_add(ConfigErrors *e, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        char **m;
        va_list ap;
        int k;

        va_start(ap, format);
        k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;

        m = reallocarray(e->messages, e->n + 1, sizeof(char *));
        if (!m)
                return -ENOMEM;
        e->messages = m;
        e->messages[e->n++] = TAKE_PTR(msg);
        return -EINVAL;
}

int parse_size(const char *s, uint64_t *ret) {
        unsigned long long v;
        uint64_t factor = 1;
        char *end;

        if (!s || !ascii_isdigit(s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        switch (*end) {
        case '\0':
                break;
        case 'K':
                factor = UINT64_C(1) << 10;
                break;
        case 'M':
                factor = UINT64_C(1) << 20;
                break;
        case 'G':
                factor = UINT64_C(1) << 30;
                break;
        case 'T':
                factor = UINT64_C(1) << 40;
                break;
        default:
                return -EINVAL;
        }
        if (*end != '\0' && end[1] != '\0')
                return -EINVAL;
        if (v > UINT64_MAX / factor)
                return -ERANGE;
        *ret = (uint64_t) v * factor;
        return 0;
}

int parse_percent(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (!s || !ascii_isdigit(s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno == ERANGE || v > UINT_MAX)
                return -ERANGE;
        if (!streq(end, "%"))
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

void strv_free(char **v, size_t n) {
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

int strv_push(char ***v, size_t *n, const char *s) {
        char **a, *copy;

        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        /* Kept NULL-terminated too, for callers that prefer that. */
        a = reallocarray(*v, *n + 2, sizeof(char *));
        if (!a) {
                free(copy);
                return -ENOMEM;
        }
        a[(*n)++] = copy;
        a[*n] = NULL;
        *v = a;
        return 0;
}

int strv_copy(char *const *v, size_t n, char ***ret) {
        char **copy = NULL;
        size_t n_copy = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                r = strv_push(&copy, &n_copy, v[i]);
                if (r < 0) {
                        strv_free(copy, n_copy);
                        return r;
                }
        }
        *ret = copy;
        return 0;
}
