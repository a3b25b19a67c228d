/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "journal-export.h"
#include "macro.h"
#include "utf8.h"


JournalFormat journal_format_from_accept(const char *accept) {
        static const struct { const char *type; JournalFormat format; } types[] = {
                { "application/json",            JOURNAL_FORMAT_JSON },
                { "text/event-stream",           JOURNAL_FORMAT_JSON },   /* follow=1's SSE */
                { "application/vnd.fdo.journal", JOURNAL_FORMAT_EXPORT },
                { "text/plain",                  JOURNAL_FORMAT_SHORT },
        };

        if (!accept || strlen(accept) > 4096)
                return JOURNAL_FORMAT_JSON;
        for (const char *p = accept; *p; ) {
                size_t n = strcspn(p, ","), tl;
                const char *item = p + strspn(p, " \t"), *params;

                tl = strcspn(item, ",; \t");
                params = item + tl;
                for (size_t i = 0; i < ELEMENTSOF(types); i++)
                        if (strlen(types[i].type) == tl && strncasecmp(item, types[i].type, tl) == 0) {
                                const char *q = strstr(params, "q=");

                                /* An explicit q=0 means "not this one". */
                                if (q && q < p + n && strtod(q + 2, NULL) <= 0)
                                        break;
                                return types[i].format;
                        }
                p += n;
                if (*p)
                        p++;
        }
        return JOURNAL_FORMAT_JSON;
}

/* As systemd's utf8_is_printable_newline(…, false): valid UTF-8 with no
 * control character but tab (no newline either). */
static bool printable(const char *s, size_t n) {
        if (!utf8_is_valid(s, n, false))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                if ((c < ' ' && c != '\t') || c == 0x7f)
                        return false;
                /* C1 controls, U+0080…U+009F: C2 80…C2 9F in UTF-8. */
                if (c == 0xc2 && i + 1 < n && (unsigned char) s[i + 1] <= 0x9f)
                        return false;
        }
        return true;
}

/* Closes the memstream (which sets buf and size for the last time), then
 * hands the buffer over. */
static int finish(FILE **f, char **buf, size_t *size, char **ret, size_t *ret_size) {
        bool failed = ferror(*f);

        if (fclose(*f) != 0)
                failed = true;
        *f = NULL;
        if (failed)
                return -ENOMEM;
        *ret = *buf;
        *ret_size = *size;
        *buf = NULL;
        return 0;
}

int journal_entry_stamps(sd_journal *j, JournalStamps *ret) {
        _cleanup_free_ char *cursor = NULL;
        int r;

        r = sd_journal_get_cursor(j, &cursor);
        if (r < 0)
                return r;
        r = sd_journal_get_realtime_usec(j, &ret->realtime);
        if (r < 0)
                return r;
        r = sd_journal_get_monotonic_usec(j, &ret->monotonic, &ret->boot);
        if (r < 0)
                return r;
        ret->cursor = TAKE_PTR(cursor);
        return 0;
}

void journal_stamps_done(JournalStamps *s) {
        free(s->cursor);
        s->cursor = NULL;
}

int journal_entry_export(sd_journal *j, char **ret, size_t *ret_size) {
        _cleanup_(journal_stamps_done) JournalStamps st = {};
        _cleanup_free_ char *buf = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char boot_str[SD_ID128_STRING_MAX];
        const void *data;
        size_t size = 0, length;
        int r;

        r = journal_entry_stamps(j, &st);
        if (r < 0)
                return r;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "__CURSOR=%s\n__REALTIME_TIMESTAMP=%" PRIu64 "\n__MONOTONIC_TIMESTAMP=%" PRIu64 "\n_BOOT_ID=%s\n",
                st.cursor, st.realtime, st.monotonic, sd_id128_to_string(st.boot, boot_str));
        SD_JOURNAL_FOREACH_DATA(j, data, length) {
                const char *d = data, *eq = memchr(d, '=', length);
                size_t klen, vlen;

                if (!eq)
                        continue;
                klen = (size_t) (eq - d);
                vlen = length - klen - 1;
                /* The header has it already. */
                if (klen == 8 && memcmp(d, "_BOOT_ID", 8) == 0)
                        continue;
                if (printable(eq + 1, vlen)) {
                        fwrite(d, 1, length, f);
                        fputc('\n', f);
                } else {
                        uint64_t le = htole64((uint64_t) vlen);

                        fwrite(d, 1, klen, f);
                        fputc('\n', f);
                        fwrite(&le, 1, sizeof(le), f);
                        fwrite(eq + 1, 1, vlen, f);
                        fputc('\n', f);
                }
        }
        fputc('\n', f);
        return finish(&f, &buf, &size, ret, ret_size);
}

/* A field's value (up to max bytes) into buf, NUL-terminated; 0 if absent. */
static int field(sd_journal *j, const char *name, char *buf, size_t max) {
        const void *data;
        size_t length, n = strlen(name);
        int r;

        r = sd_journal_get_data(j, name, &data, &length);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        length -= n + 1;
        length = MIN(length, max - 1);
        memcpy(buf, (const char *) data + n + 1, length);
        buf[length] = 0;
        return 1;
}

int journal_entry_short(sd_journal *j, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char host[256] = "", ident[256] = "", pid[32] = "", stamp[64];
        const void *data;
        const char *msg;
        size_t size = 0, length, mlen;
        uint64_t realtime;
        struct tm tm;
        time_t t;
        int r, prefix;

        r = sd_journal_get_data(j, "MESSAGE", &data, &length);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_size = 0;
                return 0;
        }
        if (r < 0)
                return r;
        msg = (const char *) data + 8;
        mlen = length - 8;
        r = sd_journal_get_realtime_usec(j, &realtime);
        if (r < 0)
                return r;
        r = field(j, "_HOSTNAME", host, sizeof(host));
        if (r < 0)
                return r;
        r = field(j, "SYSLOG_IDENTIFIER", ident, sizeof(ident));
        if (r == 0)
                r = field(j, "_COMM", ident, sizeof(ident));
        if (r < 0)
                return r;
        r = field(j, "SYSLOG_PID", pid, sizeof(pid));
        if (r == 0)
                r = field(j, "_PID", pid, sizeof(pid));
        if (r < 0)
                return r;
        t = (time_t) (realtime / 1000000);
        if (!localtime_r(&t, &tm) || strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm) == 0)
                return -EINVAL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        prefix = fprintf(f, "%s %s %s%s%s%s: ", stamp, host, ident, pid[0] ? "[" : "", pid, pid[0] ? "]" : "");
        if (!utf8_is_valid(msg, mlen, false) || memchr(msg, 0, mlen))
                fprintf(f, "[%zu blob data]\n", mlen);
        else
                /* Continuation lines under the first one's text, as journalctl. */
                for (const char *p = msg, *e = msg + mlen; p < e || p == msg; ) {
                        const char *nl = memchr(p, '\n', (size_t) (e - p));
                        size_t n = (size_t) ((nl ?: e) - p);

                        if (p != msg)
                                fprintf(f, "%*s", prefix, "");
                        fwrite(p, 1, n, f);
                        fputc('\n', f);
                        if (!nl)
                                break;
                        p = nl + 1;
                        if (p == e)
                                break;
                }
        return finish(&f, &buf, &size, ret, ret_size);
}
