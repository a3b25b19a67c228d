/* SPDX-License-Identifier: MIT */
/* The small formats of the files endpoints: Accept, Range, and the Go
 * tailkitd's listing fields. */

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "macro.h"
#include "wire.h"

/* Whether Accept asks for the raw bytes: application/octet-stream listed
 * before application/json (JSON is the default). */
bool files_accept_raw(const char *accept) {
        for (const char *p = accept; p && *p;) {
                size_t n;

                p += strspn(p, " \t,");
                n = strcspn(p, ",;");
                while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                        n--;
                if (n == STRLEN("application/octet-stream") && strncasecmp(p, "application/octet-stream", n) == 0)
                        return true;
                if (n == STRLEN("application/json") && strncasecmp(p, "application/json", n) == 0)
                        return false;
                p = strchr(p, ',');
        }
        return false;
}

static bool parse_u64(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 19)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* One "bytes=" range against size: 1 and [*start, *start + *len), 0 when the
 * header is to be ignored (absent, malformed, several ranges: RFC 9110
 * allows serving the whole file), -ERANGE when it cannot be satisfied. */
int files_parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len) {
        const char *spec, *dash;
        uint64_t a, b;

        if (!h || !(spec = startswith(h, "bytes=")) || strchr(spec, ','))
                return 0;
        spec += strspn(spec, " \t");
        dash = strchr(spec, '-');
        if (!dash)
                return 0;
        size_t tail = strcspn(dash + 1, " \t");
        if (dash[1 + tail + strspn(dash + 1 + tail, " \t")] != 0)
                return 0;
        if (dash == spec) {
                /* "-N": the last N bytes. */
                if (!parse_u64(dash + 1, tail, &b))
                        return 0;
                if (b == 0 || size == 0)
                        return -ERANGE;
                *len = MIN(b, size);
                *start = size - *len;
                return 1;
        }
        if (!parse_u64(spec, (size_t) (dash - spec), &a))
                return 0;
        if (tail == 0)
                b = UINT64_MAX;
        else if (!parse_u64(dash + 1, tail, &b) || b < a)
                return 0;
        if (a >= size)
                return -ERANGE;
        *start = a;
        *len = MIN(b, size - 1) - a + 1;
        return 1;
}

void files_mode_string(mode_t mode, char buf[16]) {
        static const char rwx[] = "rwxrwxrwx";
        char *p = buf;

        /* Go's letters, in its order "dalTLDpSugct?". */
        if (S_ISDIR(mode))
                *p++ = 'd';
        if (S_ISLNK(mode))
                *p++ = 'L';
        if (S_ISBLK(mode) || S_ISCHR(mode))
                *p++ = 'D';
        if (S_ISFIFO(mode))
                *p++ = 'p';
        if (S_ISSOCK(mode))
                *p++ = 'S';
        if (mode & S_ISUID)
                *p++ = 'u';
        if (mode & S_ISGID)
                *p++ = 'g';
        if (S_ISCHR(mode))
                *p++ = 'c';
        if (mode & S_ISVTX)
                *p++ = 't';
        if (p == buf)
                *p++ = '-';
        for (int i = 0; i < 9; i++)
                *p++ = mode & (1 << (8 - i)) ? rwx[i] : '-';
        *p = 0;
}

/* RFC 3339 with nanoseconds, trailing zeros trimmed, in local time ("Z" at
 * UTC), as Go's time.RFC3339Nano. */
void files_format_time(const struct timespec *ts, char buf[64]) {
        struct tm tm;
        char frac[24] = "";
        long off;
        size_t n;

        localtime_r(&ts->tv_sec, &tm);
        if (ts->tv_nsec > 0) {
                snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
                for (n = strlen(frac); frac[n - 1] == '0'; n--)
                        frac[n - 1] = 0;
        }
        n = strftime(buf, 64, "%Y-%m-%dT%H:%M:%S", &tm);
        off = tm.tm_gmtoff;
        if (off == 0)
                snprintf(buf + n, 64 - n, "%sZ", frac);
        else
                snprintf(buf + n, 64 - n, "%s%c%02ld:%02ld", frac, off < 0 ? '-' : '+',
                         labs(off) / 3600, labs(off) % 3600 / 60);
}

