/* SPDX-License-Identifier: MIT */
#pragma once

/* A one-line progress bar redrawn in place on a terminal (stderr), at most
 * ten times a second. Only started when stderr is a TTY: piped output never
 * sees a carriage return. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Progress {
        FILE *f;                  /* NULL: inactive */
        const char *label;
        uint64_t start_ms, last_draw_ms;
        uint64_t done, total, last_done;
        bool drawn;
} Progress;

void progress_begin(Progress *p, FILE *f, const char *label);
/* total 0: unknown (a byte count without a bar). */
void progress_update(Progress *p, uint64_t done, uint64_t total);
/* A status line for waits ("running 3.2 s"). */
void progress_status(Progress *p, const char *status);
void progress_end(Progress *p, bool ok);

/* "12.5 MiB" */
void format_bytes(uint64_t n, char *buf, size_t size);
