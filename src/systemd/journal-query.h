/* SPDX-License-Identifier: MIT */
#pragma once

/* The query of a journal request, bounded and validated before the journal
 * is opened:
 *
 *   lines=N       1 … systemd.toml's lines (default: that value); above → 400
 *   priority=P    emerg … debug or 0 … 7; never more verbose than
 *                 systemd.toml's priority (a more verbose one is lowered)
 *   cursor=C      entries after this cursor (the first N), instead of the last N
 *   since=T       entries at or after T; until=T at or before T. T: RFC 3339
 *                 ("2024-05-01T12:00:00Z", offsets and fractions allowed),
 *                 "@<seconds since the epoch>", or microseconds since the
 *                 epoch (a RealtimeTimestamp as returned)
 *   follow=1      server-sent events: the entries, then new ones as they
 *                 come, for timeout=S seconds (default and most:
 *                 JOURNAL_FOLLOW_MAX_SEC) */

#include <stdbool.h>
#include <stdint.h>

#include "systemd-config.h"

#define JOURNAL_CURSOR_MAX 512
#define JOURNAL_FOLLOW_MAX_SEC 300

typedef struct JournalQuery {
        unsigned lines;
        int priority;                   /* effective: 0 … 7 */
        char cursor[JOURNAL_CURSOR_MAX + 1];
        uint64_t since_usec, until_usec; /* 0: unset */
        bool follow;
        uint64_t follow_usec;
} JournalQuery;

/* get(cls, key) returns the decoded query value or NULL. On a bad value
 * returns -EINVAL with a message for the caller in error (static). */
int journal_query_parse(const char *(*get)(void *cls, const char *key), void *cls, const SystemdConfig *c,
                        JournalQuery *ret, const char **error, char *error_buf, size_t error_size);

/* "2024-05-01T12:00:00.5+02:00", "@1714557600", "1714557600000000" → µs. */
int journal_parse_time(const char *s, uint64_t *ret);
