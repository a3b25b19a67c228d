/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal-query.h"
#include "macro.h"
#include "time-util.h"

#define TIME_STRING_MAX 64

static bool all_digits(const char *s, size_t n) {
        return n > 0 && strspn(s, "0123456789") == n;
}

/* n digits at s as a number. */
static int digits(const char *s, size_t n, int *ret) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

static int parse_rfc3339(const char *s, uint64_t *ret) {
        struct tm tm = {};
        int year, mon, day, hour, min, sec, off_h = 0, off_m = 0, sign = 0;
        uint64_t frac = 0, scale = USEC_PER_SEC;
        const char *p;
        time_t t;

        /* YYYY-MM-DDTHH:MM:SS */
        if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
            s[13] != ':' || s[16] != ':' ||
            digits(s, 4, &year) < 0 || digits(s + 5, 2, &mon) < 0 || digits(s + 8, 2, &day) < 0 ||
            digits(s + 11, 2, &hour) < 0 || digits(s + 14, 2, &min) < 0 || digits(s + 17, 2, &sec) < 0)
                return -EINVAL;
        if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
                return -EINVAL;
        p = s + 19;
        if (*p == '.') {
                size_t n;

                p++;
                n = strspn(p, "0123456789");
                if (n == 0 || n > 9)
                        return -EINVAL;
                for (size_t i = 0; i < n; i++) {
                        scale /= 10;
                        frac += (uint64_t) (p[i] - '0') * scale;     /* digits past µs add 0 */
                }
                p += n;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p == '+' ? 1 : -1;
                if (strlen(p) != 6 || p[3] != ':' || digits(p + 1, 2, &off_h) < 0 || digits(p + 4, 2, &off_m) < 0 ||
                    off_h > 23 || off_m > 59)
                        return -EINVAL;
                p += 6;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;

        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        t -= sign * (off_h * 3600 + off_m * 60);
        if (t < 0)
                return -ERANGE;
        *ret = (uint64_t) t * USEC_PER_SEC + frac;
        return 0;
}

int journal_parse_time(const char *s, uint64_t *ret) {
        size_t n = strlen(s);

        if (n == 0 || n > TIME_STRING_MAX)
                return -EINVAL;
        if (s[0] == '@') {
                /* Seconds, as journalctl --since=@… takes them. */
                if (!all_digits(s + 1, n - 1) || n - 1 > 11)
                        return -EINVAL;
                *ret = strtoull(s + 1, NULL, 10) * USEC_PER_SEC;
                return 0;
        }
        if (all_digits(s, n)) {
                if (n > 17)     /* µs: up to year 5138 */
                        return -EINVAL;
                *ret = strtoull(s, NULL, 10);
                return 0;
        }
        return parse_rfc3339(s, ret);
}

static bool cursor_is_valid(const char *s) {
        size_t n = strlen(s);

        /* "s=…;i=…;b=…;m=…;t=…;x=…": hex, '=', ';' and the field letters. */
        return n > 0 && n <= JOURNAL_CURSOR_MAX &&
               strspn(s, "0123456789abcdefABCDEFsibmtx=;") == n;
}

static int bad(const char **error, char *buf, size_t size, const char *format, ...) _printf_(4, 5);
static int bad(const char **error, char *buf, size_t size, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, size, format, ap);
        va_end(ap);
        *error = buf;
        return -EINVAL;
}

int journal_query_parse(const char *(*get)(void *cls, const char *key), void *cls, const SystemdConfig *c,
                        JournalQuery *ret, const char **error, char *ebuf, size_t esize) {
        JournalQuery q = {
                .lines = c->journal_lines,
                .priority = c->journal_priority,
        };
        const char *v;

        v = get(cls, "lines");
        if (v) {
                size_t n = strlen(v);

                if (!all_digits(v, n) || n > 6 || strtoul(v, NULL, 10) == 0)
                        return bad(error, ebuf, esize, "'lines' must be an integer from 1 to %u", c->journal_lines);
                if (strtoul(v, NULL, 10) > c->journal_lines)
                        return bad(error, ebuf, esize,
                                   "'lines' is above this node's limit of %u (systemd.toml [journal] lines)",
                                   c->journal_lines);
                q.lines = (unsigned) strtoul(v, NULL, 10);
        }

        v = get(cls, "priority");
        if (v) {
                int p = -1;

                if (strlen(v) == 1 && v[0] >= '0' && v[0] <= '7')
                        p = v[0] - '0';
                else
                        p = systemd_priority_from_name(v);
                if (p < 0)
                        return bad(error, ebuf, esize,
                                   "'priority' must be one of emerg, alert, crit, err, warning, notice, info, debug (or 0 to 7)");
                /* Never more verbose than the node exposes. */
                q.priority = MIN(p, c->journal_priority);
        }

        v = get(cls, "cursor");
        if (v) {
                if (!cursor_is_valid(v))
                        return bad(error, ebuf, esize, "'cursor' is not a journal cursor (as returned in \"Cursor\")");
                strcpy(q.cursor, v);
        }

        v = get(cls, "since");
        if (v && journal_parse_time(v, &q.since_usec) < 0)
                return bad(error, ebuf, esize,
                           "'since' must be an RFC 3339 time (2024-05-01T12:00:00Z), @<seconds> or microseconds since the epoch");
        v = get(cls, "until");
        if (v && journal_parse_time(v, &q.until_usec) < 0)
                return bad(error, ebuf, esize,
                           "'until' must be an RFC 3339 time (2024-05-01T12:00:00Z), @<seconds> or microseconds since the epoch");
        if (q.until_usec > 0 && q.since_usec > q.until_usec)
                return bad(error, ebuf, esize, "'since' is after 'until'");
        if (q.cursor[0] && q.since_usec > 0)
                return bad(error, ebuf, esize, "use either 'cursor' or 'since', not both");

        v = get(cls, "follow");
        if (v) {
                if (streq(v, "1") || streq(v, "true"))
                        q.follow = true;
                else if (!streq(v, "0") && !streq(v, "false"))
                        return bad(error, ebuf, esize, "'follow' must be 1 or 0");
        }
        q.follow_usec = JOURNAL_FOLLOW_MAX_SEC * USEC_PER_SEC;
        v = get(cls, "timeout");
        if (v) {
                size_t n = strlen(v);

                if (!q.follow)
                        return bad(error, ebuf, esize, "'timeout' only applies with follow=1");
                if (!all_digits(v, n) || n > 4 || strtoul(v, NULL, 10) == 0 ||
                    strtoul(v, NULL, 10) > JOURNAL_FOLLOW_MAX_SEC)
                        return bad(error, ebuf, esize, "'timeout' must be a number of seconds from 1 to %d",
                                   JOURNAL_FOLLOW_MAX_SEC);
                q.follow_usec = strtoul(v, NULL, 10) * USEC_PER_SEC;
        }
        if (q.follow && q.until_usec > 0)
                return bad(error, ebuf, esize, "'follow' cannot be combined with 'until'");

        *ret = q;
        return 0;
}
