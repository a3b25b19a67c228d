/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "unit-name.h"

/* systemd's VALID_CHARS for unit names, plus '@' for templates. */
#define UNIT_CHARS "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:-_.\\@"

static const char *const unit_types[] = {
        "service", "socket", "target", "device", "mount", "automount",
        "swap", "timer", "path", "slice", "scope",
};

static bool type_is_valid(const char *t) {
        for (size_t i = 0; i < ELEMENTSOF(unit_types); i++)
                if (streq(unit_types[i], t))
                        return true;
        return false;
}

bool unit_name_is_valid(const char *s) {
        const char *dot, *at;
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > UNIT_NAME_MAX || strspn(s, UNIT_CHARS) != n)
                return false;
        dot = strrchr(s, '.');
        if (!dot || dot == s || !type_is_valid(dot + 1))
                return false;
        at = strchr(s, '@');
        if (at) {
                if (at == s || strchr(at + 1, '@') || at > dot)
                        return false;
        }
        return true;
}

char *unit_name_normalize(const char *s) {
        char *n;

        if (!s || strlen(s) > UNIT_NAME_MAX) {
                errno = EINVAL;
                return NULL;
        }
        if (!strchr(s, '.')) {
                if (asprintf(&n, "%s.service", s) < 0) {
                        errno = ENOMEM;
                        return NULL;
                }
        } else {
                n = strdup(s);
                if (!n) {
                        errno = ENOMEM;
                        return NULL;
                }
        }
        if (!unit_name_is_valid(n)) {
                free(n);
                errno = EINVAL;
                return NULL;
        }
        return n;
}

const char *unit_name_type(const char *name) {
        const char *dot = strrchr(name, '.');

        return dot ? dot + 1 : "";
}

bool unit_name_allowed(const char *name, char *const *patterns, size_t n_patterns) {
        if (n_patterns == 0)
                return true;
        for (size_t i = 0; i < n_patterns; i++)
                if (fnmatch(patterns[i], name, 0) == 0)
                        return true;
        return false;
}
