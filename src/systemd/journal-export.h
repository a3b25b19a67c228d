/* SPDX-License-Identifier: MIT */
#pragma once

/* The journal's other formats, one entry at a time (the caller streams):
 *
 * - application/vnd.fdo.journal, the Journal Export Format that journalctl
 *   -o export and journal-gatewayd write and systemd-journal-remote reads:
 *   __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP, _BOOT_ID, then
 *   every field as KEY=value, or, when the value is not printable UTF-8 on
 *   one line, KEY\n + its size as 64-bit little endian + the bytes + \n;
 *   an empty line ends the entry. Binary-safe.
 * - text/plain, as journalctl -o short: "May 01 12:00:00 host ident[pid]:
 *   message", continuation lines indented, a binary message as
 *   "[N blob data]". */

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-journal.h>

typedef enum JournalFormat {
        JOURNAL_FORMAT_JSON,
        JOURNAL_FORMAT_EXPORT,
        JOURNAL_FORMAT_SHORT,
} JournalFormat;

#define JOURNAL_EXPORT_TYPE "application/vnd.fdo.journal"
#define JOURNAL_SHORT_TYPE "text/plain; charset=utf-8"

/* The first of the Accept header's media types we serve (q=0 ones
 * skipped); JSON when it names none of them. */
JournalFormat journal_format_from_accept(const char *accept);

/* Where the entry at j's position stands: every format starts with these. */
typedef struct JournalStamps {
        char *cursor;                   /* owned */
        uint64_t realtime, monotonic;
        sd_id128_t boot;
} JournalStamps;

int journal_entry_stamps(sd_journal *j, JournalStamps *ret);
void journal_stamps_done(JournalStamps *s);

/* The entry at j's position; *ret (malloc'd) and *ret_size. A short-format
 * entry without MESSAGE is empty (journalctl skips it too). */
int journal_entry_export(sd_journal *j, char **ret, size_t *ret_size);
int journal_entry_short(sd_journal *j, char **ret, size_t *ret_size);
