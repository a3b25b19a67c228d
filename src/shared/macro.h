/* SPDX-License-Identifier: MIT */
#pragma once

/* Small language helpers every tailkitd source uses: cleanup attributes,
 * array sizes, errno conversion. Destructors used with _cleanup_ accept NULL. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))
#define _noreturn_ __attribute__((noreturn))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define STRLEN(s) (sizeof("" s "") - 1)
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Defines name##p(type **) calling func(*p) when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

/* Moves ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* errno as a negative return value, never 0 even when errno was not set. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

static inline const char *endswith(const char *s, const char *suffix) {
        size_t l = strlen(s), sl = strlen(suffix);
        return l >= sl && memcmp(s + l - sl, suffix, sl) == 0 ? s + l - sl : NULL;
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

/* Copies n bytes (which need not be NUL-terminated) into a new string. */
static inline char *memdup_str(const void *p, size_t n) {
        char *s = malloc(n + 1);
        if (!s)
                return NULL;
        memcpy(s, p, n);
        s[n] = 0;
        return s;
}

/* A decimal number of digits only (no sign, no spaces), at most max:
 * -EINVAL when it is not one, -ERANGE when above max. */
static inline int parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        unsigned long v = 0;

        if (isempty(s))
                return -EINVAL;
        for (; *s; s++) {
                unsigned long d = (unsigned long) (*s - '0');

                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (d > max || v > (max - d) / 10)     /* v * 10 + d > max */
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

/* The value of a hex digit, or -1. */
static inline int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}
