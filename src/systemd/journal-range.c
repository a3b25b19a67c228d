/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal-range.h"
#include "macro.h"

#define WHITESPACE " \t"

/* A decimal integer filling [s, e), optionally signed; bounded. */
static int parse_int(const char *s, const char *e, bool sign, int64_t max, int64_t *ret) {
        bool neg = false;
        int64_t v = 0;

        if (sign && s < e && (*s == '-' || *s == '+'))
                neg = *s++ == '-';
        if (s == e || e - s > 19)
                return -EINVAL;
        for (; s < e; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                v = v * 10 + (*s - '0');
                if (v > max)
                        return -ERANGE;
        }
        *ret = neg ? -v : v;
        return 0;
}

static bool cursor_chars(const char *s, size_t n) {
        /* "s=…;i=…;b=…;m=…;t=…;x=…": hex, '=', ';' and the field letters. */
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789abcdefABCDEFsibmtx=;", s[i]) || !s[i])
                        return false;
        return true;
}

int journal_range_parse(const char *header, JournalRange *ret) {
        JournalRange rg = {};
        const char *p, *end, *colon, *colon2;
        size_t n;
        int64_t v;

        *ret = rg;
        if (!header)
                return 0;
        if (strlen(header) > JOURNAL_RANGE_MAX)
                return -EINVAL;
        p = header + strspn(header, WHITESPACE);
        if (strncmp(p, "entries=", 8) != 0)
                return 0;
        p += 8;
        p += strspn(p, WHITESPACE);
        end = p + strlen(p);
        while (end > p && strchr(WHITESPACE, end[-1]))
                end--;

        colon = memchr(p, ':', (size_t) (end - p));
        n = (size_t) ((colon ?: end) - p);
        if (n > JOURNAL_CURSOR_MAX || !cursor_chars(p, n))
                return -EINVAL;
        memcpy(rg.cursor, p, n);
        rg.cursor[n] = 0;
        if (colon) {
                colon2 = memchr(colon + 1, ':', (size_t) (end - colon - 1));
                if (colon2) {
                        if (parse_int(colon + 1, colon2, true, JOURNAL_RANGE_SKIP_MAX, &rg.skip) < 0)
                                return -EINVAL;
                        if (memchr(colon2 + 1, ':', (size_t) (end - colon2 - 1)))
                                return -EINVAL;
                }
                p = (colon2 ?: colon) + 1;
                /* gatewayd: the count may be left out ("entries=CURSOR:5:"). */
                if (p < end) {
                        if (parse_int(p, end, false, INT64_MAX / 2, &v) < 0 || v == 0)
                                return -EINVAL;
                        rg.n_entries = (uint64_t) v;
                }
        }
        rg.set = true;
        *ret = rg;
        return 0;
}
