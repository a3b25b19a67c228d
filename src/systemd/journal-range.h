/* SPDX-License-Identifier: MIT */
#pragma once

/* The Range header of journal-gatewayd's /entries, which
 * systemd-journal-remote and other gatewayd clients send:
 *
 *   Range: entries=[CURSOR][[:NUM_SKIP]:NUM_ENTRIES]
 *
 * From CURSOR's entry (no cursor: the head, or the tail when NUM_SKIP is
 * negative), NUM_SKIP entries on (back when negative), then NUM_ENTRIES
 * entries. "entries=:-20:20" is the last 20. Other units (bytes=…,
 * realtime=…) are not ours: the header is then ignored, as HTTP allows. */

#include <stdbool.h>
#include <stdint.h>

#include "journal-query.h"

#define JOURNAL_RANGE_MAX 1024           /* bytes of header we look at */
#define JOURNAL_RANGE_SKIP_MAX 1000000   /* entries a skip may cross */

typedef struct JournalRange {
        bool set;                        /* an entries= range was given */
        char cursor[JOURNAL_CURSOR_MAX + 1];
        int64_t skip;
        uint64_t n_entries;              /* 0: not given */
} JournalRange;

/* 0 (ret->set false when there is no entries= range), or -EINVAL. */
int journal_range_parse(const char *header, JournalRange *ret);
