/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exposition.h"
#include "macro.h"

static void put(Expo *e, const char *s, size_t n) {
        if (e->error < 0)
                return;
        if (e->len + n + 1 > EXPOSITION_MAX) {
                e->error = -E2BIG;
                return;
        }
        if (e->len + n + 1 > e->alloc) {
                size_t a = MAX(e->alloc * 2, MAX(e->len + n + 1, (size_t) 16384));
                char *b = realloc(e->buf, MIN(a, (size_t) EXPOSITION_MAX));

                if (!b) {
                        e->error = -ENOMEM;
                        return;
                }
                e->buf = b;
                e->alloc = MIN(a, (size_t) EXPOSITION_MAX);
        }
        memcpy(e->buf + e->len, s, n);
        e->len += n;
        e->buf[e->len] = 0;
}

static void puts_(Expo *e, const char *s) {
        put(e, s, strlen(s));
}

bool expo_name_is_valid(const char *name) {
        size_t n = strlen(name);

        return n > 0 && n < 200 && !(name[0] >= '0' && name[0] <= '9') &&
               strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") == n;
}

void expo_family(Expo *e, const char *name, ExpoType type, const char *help) {
        static const char *const types[] = { "counter", "gauge", "untyped" };
        size_t n = strlen(name);

        if (!expo_name_is_valid(name)) {
                e->error = e->error < 0 ? e->error : -EINVAL;
                return;
        }
        /* OpenMetrics names the counter family without its sample suffix. */
        if (e->openmetrics && type == EXPO_COUNTER && n > 6 && streq(name + n - 6, "_total"))
                n -= 6;
        puts_(e, "# HELP ");
        put(e, name, n);
        puts_(e, " ");
        puts_(e, help);    /* our own text: no backslash or newline */
        puts_(e, "\n# TYPE ");
        put(e, name, n);
        puts_(e, " ");
        puts_(e, e->openmetrics && type == EXPO_UNTYPED ? "unknown" : types[type]);
        puts_(e, "\n");
}

/* A label value: \\, \" and \n escaped, as both formats want. */
static void put_escaped(Expo *e, const char *s) {
        for (const char *p = s; *p; ) {
                size_t n = strcspn(p, "\\\"\n");

                put(e, p, n);
                p += n;
                if (!*p)
                        break;
                puts_(e, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
                p++;
        }
}

static void put_name_labels(Expo *e, const char *name, const char *const *labels) {
        puts_(e, name);
        if (labels && labels[0]) {
                puts_(e, "{");
                for (size_t i = 0; labels[i] && labels[i + 1]; i += 2) {
                        if (i > 0)
                                puts_(e, ",");
                        puts_(e, labels[i]);
                        puts_(e, "=\"");
                        put_escaped(e, labels[i + 1]);
                        puts_(e, "\"");
                }
                puts_(e, "}");
        }
        puts_(e, " ");
}

void expo_sample_u64(Expo *e, const char *name, const char *const *labels, uint64_t v) {
        char num[32];

        put_name_labels(e, name, labels);
        snprintf(num, sizeof(num), "%" PRIu64 "\n", v);
        puts_(e, num);
}

void expo_sample(Expo *e, const char *name, const char *const *labels, double v) {
        char num[64];

        put_name_labels(e, name, labels);
        if (isnan(v))
                snprintf(num, sizeof(num), "NaN");
        else if (isinf(v))
                snprintf(num, sizeof(num), v > 0 ? "+Inf" : "-Inf");
        else
                /* The shortest form that reads back as the same double. */
                for (int prec = 1; prec <= 17; prec++) {
                        snprintf(num, sizeof(num), "%.*g", prec, v);
                        if (strtod(num, NULL) == v)
                                break;
                }
        puts_(e, num);
        puts_(e, "\n");
}

int expo_finish(Expo *e) {
        if (e->openmetrics)
                puts_(e, "# EOF\n");
        if (e->error == 0 && !e->buf)
                puts_(e, "");
        return e->error;
}

void expo_done(Expo *e) {
        free(e->buf);
        *e = (Expo) {};
}

/* The q of media type `type` in an Accept header: -1 when not named (a
 * wildcard does not count: every client sends one). */
static double accept_q(const char *accept, const char *type) {
        double best = -1;
        size_t tl = strlen(type);

        for (const char *p = accept; *p; ) {
                size_t n = strcspn(p, ",");
                const char *end = p + n, *q;

                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                if ((size_t) (end - p) >= tl && strncasecmp(p, type, tl) == 0 &&
                    (p + tl == end || p[tl] == ';' || p[tl] == ' ')) {
                        double v = 1;

                        for (q = p + tl; q < end; q++)
                                if (*q == ';') {
                                        const char *a = q + 1;

                                        while (a < end && *a == ' ')
                                                a++;
                                        if (end - a > 2 && (a[0] == 'q' || a[0] == 'Q') && a[1] == '=')
                                                v = strtod(a + 2, NULL);
                                }
                        if (!(v >= 0 && v <= 1))
                                v = 0;
                        best = MAX(best, v);
                }
                p = *end ? end + 1 : end;
        }
        return best;
}

int expo_negotiate(const char *accept, const char *other) {
        double om, text, o;

        if (!accept || strlen(accept) > 4096)
                return 0;
        om = accept_q(accept, "application/openmetrics-text");
        text = accept_q(accept, "text/plain");
        if (other) {
                o = accept_q(accept, other);
                if (om <= 0 || o >= om)
                        return -1;
                return 1;
        }
        return om > 0 && om >= text ? 1 : 0;
}
