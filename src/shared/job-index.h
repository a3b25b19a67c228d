/* SPDX-License-Identifier: MIT */
#pragma once

/* The exec worker's in-memory index of the job records under jobs_dir(),
 * loaded once at start and kept up to date on start, finish and eviction, so
 * that neither a request nor the housekeeping tick reads every record:
 *
 *   live  jobs that count toward max_jobs: not finished, or finished while
 *         their scope still holds processes (a command that backgrounds a
 *         child). Small (at most max_jobs from this worker); polled on
 *         each tick.
 *   kept  finished jobs whose scope is gone, ordered by finish time
 *         (CLOCK_BOOTTIME): eviction pops them from the front.
 *
 * Every function is thread-safe. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ulid.h"

typedef char JobId[ULID_LEN + 1];

/* Adds a new live job: -EBUSY when max_live jobs count already, -ENOSPC
 * when the index holds max_total records. */
int job_index_add(const char *id, unsigned max_live, unsigned max_total);

/* Adds a record found at start: live, or kept with its finish time. */
int job_index_load(const char *id, bool live, uint64_t finished_usec);

/* A live job stopped counting (finished and its scope is gone): moves it to
 * the kept jobs. */
void job_index_release(const char *id, uint64_t finished_usec);

/* Drops a job whose record is gone. */
void job_index_forget(const char *id);

/* A copy of the live ids (caller frees); -ENOMEM. */
int job_index_live(JobId **ret, size_t *ret_n);

/* Takes the kept jobs finished at or before `before` out of the index. */
int job_index_take_expired(uint64_t before, JobId **ret, size_t *ret_n);

bool job_index_has(const char *id);

size_t job_index_n_live(void);
size_t job_index_n_total(void);
