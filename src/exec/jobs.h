/* SPDX-License-Identifier: MIT */
#pragma once

/* Exec jobs and their records under <runtime>/jobs/<id>/ — a directory that
 * outlives the worker (tmpfiles.d makes it; systemd does not remove it when
 * the worker stops), so a restarted worker loses no job:
 *
 *   job.json     written by the worker: id, tool, command, caller, unit,
 *                timeout, accepted/started times
 *   stdout,      the command's output, written by the job's supervisor
 *   stderr       (capped at output_max each)
 *   result.json  written when the command ends: exit code, signal, finish
 *                time, truncation, error; a job without it whose scope is
 *                gone was killed (timeout, cancel, or the scope vanished)
 *   cancel       present once DELETE asked for the job to stop
 *   logged       present once "exec completed" went to the journal
 *
 * Each job runs in tailkitd-job-<id>.scope: a supervisor process, placed in
 * the scope before it starts the command, collects output and status, so the
 * job does not depend on the worker staying alive. */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "config.h"
#include "ulid.h"

#define JOB_KEEP_USEC (5ULL * 60 * 1000000ULL)

typedef struct JobSpec {
        const char *tool;
        const char *command;
        const char *caller;
        char **argv;
        uint64_t timeout_usec;
} JobSpec;

/* Directory of the job records (created if missing). */
const char *jobs_dir(void);

/* Starts a job: -EBUSY when max_jobs are running (nothing started), else the
 * job id in ret_id. On a launch failure after acceptance the job exists and
 * reads as failed with the error. */
int job_start(const JobSpec *spec, const DaemonConfig *cfg, char ret_id[ULID_LEN + 1], char **error);

/* The job's wire form; -ENOENT for an unknown (or evicted) id. *caller is
 * the name of the caller that started it. */
int job_read(const char *id, json_object **ret, char **caller);

/* Asks the job to stop (its whole scope is killed). -ENOENT, or -EALREADY
 * when it already finished. */
int job_cancel(const char *id);

/* Housekeeping, called about once a second: finalizes jobs whose scope
 * ended without a result, logs "exec completed" once per job, evicts records
 * finished more than 5 minutes ago. Returns the number of unfinished jobs. */
int jobs_scan(void);
