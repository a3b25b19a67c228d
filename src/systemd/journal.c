/* SPDX-License-Identifier: MIT */
/* GET /integrations/systemd/journal and /units/{name}/journal over
 * sd-journal: the entries as go-systemd's sdjournal.JournalEntry
 * ({"Fields","Cursor","RealtimeTimestamp","MonotonicTimestamp"}), streamed
 * one entry at a time (only the entry being sent is in memory), or with
 * follow=1 as server-sent events for a bounded time. Accept picks the
 * journal's export format or journalctl's short text instead, and a
 * gatewayd Range header the entries (journal-export.h, journal-range.h):
 * so systemd-journal-remote --url= can pull from here; the same caps,
 * lines limit and priority floor apply to every format. */

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "journal-export.h"
#include "journal-query.h"
#include "journal-range.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "systemd-worker.h"
#include "time-util.h"
#include "unit-name.h"
#include "utf8.h"

/* Fields are read whole up to this size (sd-journal's default threshold, 64
 * KiB, would cut a long message); a longer one (a core dump) is cut here. */
#define JOURNAL_FIELD_MAX (4 * 1024 * 1024)
/* Entries looked at and skipped (outside until=) before giving up. */
#define JOURNAL_SKIP_MAX 100000
#define FOLLOW_STREAMS_MAX 32
#define FOLLOW_KEEPALIVE_USEC (5 * USEC_PER_SEC)
#define FOLLOW_WAIT_USEC (1 * USEC_PER_SEC)

static atomic_uint follow_streams;

/* ---- one entry as JSON ---- */

static int add_field(json_object *fields, const char *data, size_t size) {
        const char *eq = memchr(data, '=', size);
        _cleanup_free_ char *key = NULL, *clean = NULL;
        const char *value;
        size_t vsize;
        json_object *v;

        if (!eq)
                return 0;
        key = strndup(data, (size_t) (eq - data));
        if (!key)
                return -ENOMEM;
        value = eq + 1;
        vsize = MIN(size - (size_t) (eq - data) - 1, (size_t) JOURNAL_FIELD_MAX);
        /* As Go's encoder: invalid UTF-8 becomes U+FFFD. */
        if (utf8_is_valid(value, vsize, true))
                v = json_object_new_string_len(value, (int) vsize);
        else {
                clean = utf8_sanitize(value, vsize);
                if (!clean)
                        return -ENOMEM;
                v = json_object_new_string(clean);
        }
        if (!v)
                return -ENOMEM;
        /* A field given twice: the last one, as go-systemd's map keeps it. */
        json_object_object_add(fields, key, v);
        return 0;
}

static int entry_json(sd_journal *j, char **ret, size_t *ret_size) {
        _cleanup_(json_object_putp_) json_object *o = json_object_new_object(), *fields = json_object_new_object();
        _cleanup_(journal_stamps_done) JournalStamps st = {};
        char num[32];
        const void *data;
        const char *s;
        size_t size;
        int r;

        if (!o || !fields)
                return -ENOMEM;
        r = journal_entry_stamps(j, &st);
        if (r < 0)
                return r;

        /* go-systemd puts these three in Fields too. */
        snprintf(num, sizeof(num), "%" PRIu64, st.realtime);
        json_object_object_add(fields, "__REALTIME_TIMESTAMP", json_object_new_string(num));
        snprintf(num, sizeof(num), "%" PRIu64, st.monotonic);
        json_object_object_add(fields, "__MONOTONIC_TIMESTAMP", json_object_new_string(num));
        json_object_object_add(fields, "__CURSOR", json_object_new_string(st.cursor));
        SD_JOURNAL_FOREACH_DATA(j, data, size) {
                r = add_field(fields, data, size);
                if (r < 0)
                        return r;
        }

        json_object_object_add(o, "Fields", TAKE_PTR(fields));
        json_object_object_add(o, "Cursor", json_object_new_string(st.cursor));
        json_object_object_add(o, "RealtimeTimestamp", json_object_new_uint64(st.realtime));
        json_object_object_add(o, "MonotonicTimestamp", json_object_new_uint64(st.monotonic));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        *ret = strdup(s);
        if (!*ret)
                return -ENOMEM;
        *ret_size = strlen(s);
        return 0;
}

/* ---- matches and position ---- */

/* What `journalctl -u UNIT` shows: the unit's own messages, systemd's about
 * it, authorized daemons' about it, and its core dumps. */
static int add_unit_matches(sd_journal *j, const char *unit) {
        char m[UNIT_NAME_MAX + 64];
        int r;

#define MATCH(fmt, ...) \
        (snprintf(m, sizeof(m), fmt, ##__VA_ARGS__), sd_journal_add_match(j, m, 0))

        if ((r = MATCH("_SYSTEMD_UNIT=%s", unit)) < 0 ||
            (r = sd_journal_add_disjunction(j)) < 0 ||
            (r = MATCH("MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1")) < 0 ||
            (r = MATCH("_UID=0")) < 0 ||
            (r = MATCH("COREDUMP_UNIT=%s", unit)) < 0 ||
            (r = sd_journal_add_disjunction(j)) < 0 ||
            (r = MATCH("_PID=1")) < 0 ||
            (r = MATCH("UNIT=%s", unit)) < 0 ||
            (r = sd_journal_add_disjunction(j)) < 0 ||
            (r = MATCH("_UID=0")) < 0 ||
            (r = MATCH("OBJECT_SYSTEMD_UNIT=%s", unit)) < 0)
                return r;
#undef MATCH
        return sd_journal_add_conjunction(j);
}

static int add_priority_matches(sd_journal *j, int priority) {
        char m[16];
        int r;

        if (priority >= LOG_DEBUG)
                return 0;       /* everything, entries without PRIORITY too */
        for (int p = 0; p <= priority; p++) {
                snprintf(m, sizeof(m), "PRIORITY=%d", p);
                r = sd_journal_add_match(j, m, 0);
                if (r < 0)
                        return r;
        }
        return sd_journal_add_conjunction(j);
}

/* Leaves j where the next sd_journal_next() returns the first entry to send,
 * and *ret_n the number of entries to send before following. -EINVAL: the
 * cursor is not one. */
static int position(sd_journal *j, const JournalQuery *q, unsigned *ret_n) {
        _cleanup_free_ char *oldest = NULL;
        unsigned n = 0, skipped = 0;
        int r;

        if (q->cursor[0]) {
                r = sd_journal_seek_cursor(j, q->cursor);
                if (r < 0)
                        return r;
                r = sd_journal_next(j);
                if (r < 0)
                        return r;
                /* Entries after the cursor: skip its own entry, unless it is
                 * gone (rotated away) and this is the one after it. */
                if (r > 0 && sd_journal_test_cursor(j, q->cursor) <= 0) {
                        r = sd_journal_seek_cursor(j, q->cursor);
                        if (r < 0)
                                return r;
                }
                *ret_n = q->lines;
                return 0;
        }

        /* The last lines entries in [since, until], as journalctl -n. */
        r = q->until_usec > 0 ? sd_journal_seek_realtime_usec(j, q->until_usec + 1) : sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        while (n < q->lines) {
                uint64_t t;

                r = sd_journal_previous(j);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_journal_get_realtime_usec(j, &t);
                if (r < 0)
                        return r;
                if (q->until_usec > 0 && t > q->until_usec) {
                        if (++skipped > JOURNAL_SKIP_MAX)
                                break;
                        continue;
                }
                if (q->since_usec > 0 && t < q->since_usec)
                        break;
                free(oldest);
                oldest = NULL;
                r = sd_journal_get_cursor(j, &oldest);
                if (r < 0)
                        return r;
                n++;
        }
        if (n > 0)
                r = sd_journal_seek_cursor(j, oldest);
        else
                /* Nothing yet: following starts at the end. */
                r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        if (n == 0)
                (void) sd_journal_previous(j);
        *ret_n = n;
        return 0;
}

/* A gatewayd Range: from the cursor's entry (or the head; the tail for a
 * negative skip), skip entries on or back, then up to n. Leaves j as
 * position() does. */
static int position_range(sd_journal *j, const JournalRange *rg, unsigned n_max, unsigned *ret_n) {
        _cleanup_free_ char *first = NULL;
        int r;

        if (rg->cursor[0]) {
                r = sd_journal_seek_cursor(j, rg->cursor);
                if (r < 0)
                        return r;
                /* The cursor's entry itself, or the next one when it is gone. */
                r = sd_journal_next(j);
                if (r > 0 && rg->skip > 0)
                        r = sd_journal_next_skip(j, (uint64_t) rg->skip) == rg->skip ? 1 : 0;
                else if (r > 0 && rg->skip < 0)
                        r = sd_journal_previous_skip(j, (uint64_t) -rg->skip) > 0 ? 1 : 0;
        } else if (rg->skip >= 0) {
                r = sd_journal_seek_head(j);
                if (r >= 0)
                        r = sd_journal_next_skip(j, (uint64_t) rg->skip + 1) == rg->skip + 1 ? 1 : 0;
        } else {
                r = sd_journal_seek_tail(j);
                /* The last -skip entries, or as many as there are. */
                if (r >= 0)
                        r = sd_journal_previous_skip(j, (uint64_t) -rg->skip) > 0 ? 1 : 0;
        }
        if (r < 0)
                return r;
        if (r > 0)
                r = sd_journal_get_cursor(j, &first);
        if (r < 0)
                return r;
        if (!first) {
                /* Nothing there: following starts at the end. */
                r = sd_journal_seek_tail(j);
                if (r < 0)
                        return r;
                (void) sd_journal_previous(j);
                *ret_n = 0;
                return 0;
        }
        r = sd_journal_seek_cursor(j, first);
        if (r < 0)
                return r;
        *ret_n = rg->n_entries > 0 ? (unsigned) MIN(rg->n_entries, (uint64_t) n_max) : n_max;
        return 0;
}

/* ---- the streamed body ---- */

typedef enum Phase {
        PHASE_OPEN,
        PHASE_ENTRIES,
        PHASE_FOLLOW,
        PHASE_CLOSE,
        PHASE_DONE,
} Phase;

typedef struct Stream {
        sd_journal *j;
        Phase phase;
        JournalFormat format;
        bool follow, sse, first;
        unsigned remaining;
        uint64_t until_usec;
        uint64_t deadline, last_sent;
        char *buf;                      /* the piece being sent */
        size_t size, pos;
        bool counted;
} Stream;

static void stream_free(void *p) {
        Stream *s = p;

        if (!s)
                return;
        if (s->j)
                sd_journal_close(s->j);
        if (s->counted)
                atomic_fetch_sub(&follow_streams, 1);
        free(s->buf);
        free(s);
}

static int set_piece(Stream *s, const char *a, const char *b, size_t b_size, const char *c) {
        size_t la = strlen(a), lc = strlen(c);

        free(s->buf);
        s->buf = malloc(la + b_size + lc + 1);
        if (!s->buf)
                return -ENOMEM;
        memcpy(s->buf, a, la);
        memcpy(s->buf + la, b, b_size);
        memcpy(s->buf + la + b_size, c, lc);
        s->size = la + b_size + lc;
        s->pos = 0;
        return 0;
}

/* The next entry as a piece: 1, or 0 at the end of what is there (or past
 * until=). */
static int next_entry(Stream *s) {
        _cleanup_free_ char *json = NULL, *cursor = NULL;
        size_t size;
        uint64_t t;
        int r;

        r = sd_journal_next(s->j);
        if (r <= 0)
                return r;
        if (s->until_usec > 0 && sd_journal_get_realtime_usec(s->j, &t) >= 0 && t > s->until_usec)
                return 0;
        if (s->format != JOURNAL_FORMAT_JSON) {
                _cleanup_free_ char *piece = NULL;

                r = s->format == JOURNAL_FORMAT_EXPORT ? journal_entry_export(s->j, &piece, &size)
                                                       : journal_entry_short(s->j, &piece, &size);
                if (r < 0)
                        return r;
                free(s->buf);
                s->buf = TAKE_PTR(piece);
                s->size = size;
                s->pos = 0;
                return 1;
        }
        r = entry_json(s->j, &json, &size);
        if (r < 0)
                return r;
        if (s->sse) {
                _cleanup_free_ char *head = NULL;

                if (sd_journal_get_cursor(s->j, &cursor) < 0 || asprintf(&head, "id: %s\ndata: ", cursor) < 0)
                        return -ENOMEM;
                r = set_piece(s, head, json, size, "\n\n");
        } else
                r = set_piece(s, s->first ? "" : ",", json, size, "");
        s->first = false;
        return r < 0 ? r : 1;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
        Stream *s = cls;
        int r;

        for (;;) {
                if (s->buf && s->pos < s->size) {
                        size_t n = MIN(max, s->size - s->pos);

                        memcpy(out, s->buf + s->pos, n);
                        s->pos += n;
                        s->last_sent = now_usec();
                        return (ssize_t) n;
                }
                switch (s->phase) {
                case PHASE_OPEN:
                        r = set_piece(s, s->sse ? ": tailkitd journal\n\n" :
                                         s->format == JOURNAL_FORMAT_JSON ? "[" : "", "", 0, "");
                        s->phase = PHASE_ENTRIES;
                        break;
                case PHASE_ENTRIES:
                        r = s->remaining > 0 ? next_entry(s) : 0;
                        if (r > 0)
                                s->remaining--;
                        else if (r == 0)
                                s->phase = s->follow ? PHASE_FOLLOW : PHASE_CLOSE;
                        break;
                case PHASE_FOLLOW: {
                        uint64_t now = now_usec();

                        if (now >= s->deadline) {
                                r = set_piece(s, s->sse ? "event: end\ndata: {}\n\n" : "", "", 0, "");
                                s->phase = PHASE_DONE;
                                break;
                        }
                        r = next_entry(s);
                        if (r != 0)
                                break;
                        /* The other formats have no comment to send: a client
                         * that left is found at the next entry or the deadline. */
                        if (s->sse && now - s->last_sent >= FOLLOW_KEEPALIVE_USEC) {
                                /* A comment: keeps proxies and the idle timeout at bay,
                                 * and finds a client that went away. */
                                r = set_piece(s, ":\n\n", "", 0, "");
                                break;
                        }
                        r = sd_journal_wait(s->j, MIN(FOLLOW_WAIT_USEC, s->deadline - now));
                        break;
                }
                case PHASE_CLOSE:
                        r = set_piece(s, s->format == JOURNAL_FORMAT_JSON ? "]\n" : "", "", 0, "");
                        s->phase = PHASE_DONE;
                        break;
                default:
                        return MHD_CONTENT_READER_END_OF_STREAM;
                }
                if (r < 0) {
                        log_warning_errno(r, "Reading the journal failed: %m");
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                }
        }
}

/* ---- handlers ---- */

static const char *query_get(void *cls, const char *key) {
        return request_query(cls, key);
}

static int serve(Request *r, const char *unit) {
        SystemdRequest *d = r->userdata;
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_free_ Stream *s = NULL;
        JournalFormat format = journal_format_from_accept(request_header(r, "Accept"));
        const char *error;
        char ebuf[256];
        JournalRange range;
        JournalQuery q;
        unsigned n;
        int e;

        e = journal_query_parse(query_get, r, &d->config, &q, &error, ebuf, sizeof(ebuf));
        if (e < 0)
                return reply_error(r, 400, error, NULL);
        if (journal_range_parse(request_header(r, "Range"), &range) < 0)
                return reply_error(r, 400, "'Range' must be entries=[CURSOR][[:NUM_SKIP]:NUM_ENTRIES]",
                                   "as journal-gatewayd takes it; e.g. entries=:-20:20 for the last 20");
        if (range.set) {
                if (request_query(r, "lines") || request_query(r, "cursor") || request_query(r, "since") ||
                    request_query(r, "until"))
                        return reply_error(r, 400, "use either a Range header or lines, cursor, since, until", NULL);
                if (range.n_entries > d->config.journal_lines)
                        return reply_errorf(r, 400, NULL,
                                            "the Range asks for more entries than this node's limit of %u "
                                            "(systemd.toml [journal] lines)", d->config.journal_lines);
        }

        /* Local journals, the system's and users', as journalctl run by root. */
        e = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (e < 0) {
                log_error_errno(e, "Cannot open the journal: %m");
                return reply_errorf(r, 503, "the worker reads /var/log/journal and /run/log/journal",
                                    "cannot open the journal: %s", strerror(-e));
        }
        e = sd_journal_set_data_threshold(j, JOURNAL_FIELD_MAX);
        if (e >= 0 && unit)
                e = add_unit_matches(j, unit);
        if (e >= 0)
                e = add_priority_matches(j, q.priority);
        if (e < 0)
                return log_error_errno(e, "Cannot set journal matches: %m");
        e = range.set ? position_range(j, &range, q.lines, &n) : position(j, &q, &n);
        if (e == -EINVAL || (e < 0 && (q.cursor[0] || range.cursor[0])))
                return reply_error(r, 400, "'cursor' is not a journal cursor (as returned in \"Cursor\")", NULL);
        if (e < 0) {
                log_error_errno(e, "Cannot read the journal: %m");
                return reply_errorf(r, 500, NULL, "cannot read the journal: %s", strerror(-e));
        }

        s = calloc(1, sizeof(Stream));
        if (!s)
                return -ENOMEM;
        if (q.follow) {
                if (atomic_fetch_add(&follow_streams, 1) >= FOLLOW_STREAMS_MAX) {
                        atomic_fetch_sub(&follow_streams, 1);
                        return reply_errorf(r, 429, "try again later, or without follow=1",
                                            "too many journal streams (at most %d at once)", FOLLOW_STREAMS_MAX);
                }
                s->counted = true;
        }
        s->j = TAKE_PTR(j);
        s->format = format;
        s->follow = q.follow;
        s->sse = q.follow && format == JOURNAL_FORMAT_JSON;
        s->first = true;
        s->remaining = n;
        s->until_usec = q.until_usec;
        s->last_sent = now_usec();
        s->deadline = s->last_sent + q.follow_usec;
        return reply_stream(r, 200,
                            format == JOURNAL_FORMAT_EXPORT ? JOURNAL_EXPORT_TYPE :
                            format == JOURNAL_FORMAT_SHORT ? JOURNAL_SHORT_TYPE :
                            q.follow ? "text/event-stream" : "application/json",
                            MHD_SIZE_UNKNOWN, stream_read, TAKE_PTR(s), stream_free);
}

static bool journal_permitted(Request *r) {
        const SystemdRequest *d = r->userdata;
        char hint[512];

        if (d->config.journal_enabled)
                return true;
        snprintf(hint, sizeof(hint), "set enabled = true under [journal] in %s/integrations/systemd.toml", config_dir());
        reply_error(r, 403, "journal not enabled in systemd.toml", hint);
        return false;
}

int systemd_unit_journal_get(Request *r) {
        _cleanup_free_ char *name = NULL;

        if (!journal_permitted(r))
                return 0;
        name = systemd_unit_arg(r);
        if (!name)
                return 0;
        return serve(r, name);
}

int systemd_journal_get(Request *r) {
        const SystemdRequest *d = r->userdata;
        char hint[512];

        if (!journal_permitted(r))
                return 0;
        /* The whole journal would show the units the allow list hides. */
        if (d->config.n_units_allow > 0) {
                snprintf(hint, sizeof(hint),
                         "read each unit's journal at /integrations/systemd/units/{name}/journal, or remove "
                         "[units] allow from %s/integrations/systemd.toml", config_dir());
                return reply_error(r, 403, "the system journal is not exposed when systemd.toml restricts units", hint);
        }
        return serve(r, NULL);
}
