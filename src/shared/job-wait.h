/* SPDX-License-Identifier: MIT */
#pragma once

/* Waiting for a job to end (GET /exec/jobs/{id}?wait=): a job has ended
 * once its record holds result.json — written by its supervisor, by the
 * worker that ran it (job_end()), or by housekeeping for a job whose scope
 * vanished — so one inotify watch on the record's directory tells, without
 * polling systemd. */

#include <stdbool.h>
#include <stdint.h>

/* The longest ?wait= a node accepts on GET /exec/jobs/{id} (tailkitctl asks
 * for no more). */
#define JOB_WAIT_MAX_SEC 60

/* Returns 0 once the job has ended, -ETIME when timeout_usec passed first,
 * -ECONNRESET when hangup_fd (the caller's connection, or -1) was closed by
 * its peer, -ECANCELED when stop() (may be NULL) says so (checked at least
 * once a second), -ENOENT for an unknown job. */
int job_wait_end(const char *id, uint64_t timeout_usec, int hangup_fd, bool (*stop)(void));
