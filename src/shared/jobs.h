/* SPDX-License-Identifier: MIT */
#pragma once

/* Jobs and their records under <runtime>/jobs/<id>/ — a directory that
 * outlives the worker (tmpfiles.d makes it; systemd does not remove it when
 * the worker stops), so a restarted worker loses no job. Every integration's
 * long operations are jobs here, polled with GET /exec/jobs/{id} (the exec
 * worker serves them all). Two kinds:
 *
 *   scope jobs   commands (one, or a chain that stops at the first failure)
 *                run by a supervisor in tailkitd-job-<id>.scope: exec's
 *                commands, files' post_recv hooks, docker compose actions;
 *   worker jobs  work the starting worker does itself (a systemd unit job,
 *                an Engine API call): job_begin(), job_output(), job_end();
 *                "unit" is then the worker's own unit, and a job whose
 *                worker stopped without ending it reads failed.
 *
 * A record:
 *
 *   job.json     written by the worker: id, tool, command, caller (name
 *                and stable ID), unit, timeout, accepted/started times
 *   stdout,      the command's output, written by the job's supervisor
 *   stderr       (capped at output_max each)
 *   result.json  written when the command ends: exit code, signal, finish
 *                time, truncation, error; a job without it whose scope is
 *                gone was killed (timeout, cancel, or the scope vanished)
 *
 * Times are stored twice: *_at_ms on the wall clock (shown to callers) and
 * *_boot_usec on CLOCK_BOOTTIME (ages: the keep time, the timeout), which
 * does not step when the wall clock is set.
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
/* Records kept at once, running and finished (each holds up to 2 ×
 * output_max of output in /run): a POST above it is refused with 429. */
#define JOBS_MAX_RECORDS 10000
/* output_max is at most 1G. */
#define JOB_OUTPUT_READ_MAX (1ULL << 30)

/* One command of a chain: name says which in the job's error. */
typedef struct JobStep {
        const char *name;
        char **argv;                    /* argv[0] absolute */
} JobStep;

typedef struct JobSpec {
        /* The integration whose cap lets the caller that started the job poll
         * and cancel it without tailkitd-exec: "files", "systemd", "docker";
         * NULL: "exec". */
        const char *feature;
        const char *tool;               /* what the job shows as "tool" and */
        const char *command;            /* "command": "files" + "post_recv", … */
        const char *caller;             /* the node's name, for people and logs */
        const char *caller_id;          /* the node's stable ID: who may poll */
        char **argv;                    /* one command; or: */
        const JobStep *steps;           /* a chain, run in order, the first */
        size_t n_steps;                 /* failure stopping it */
        char **env;                     /* extra KEY=VALUE for the commands, or NULL */
        uint64_t timeout_usec;
} JobSpec;

/* Indexes the records found at start (see job-index.h). */
int jobs_init(void);

/* Accepts a job and starts it in the background: -EBUSY when max_jobs count
 * already, -ENOSPC when JOBS_MAX_RECORDS are kept (nothing created), else
 * the job id in ret_id. A start that fails after acceptance leaves a job
 * that reads failed with the error; one cancelled before its command ran
 * reads cancelled. */
int job_start(const JobSpec *spec, const DaemonConfig *cfg, char ret_id[ULID_LEN + 1]);

/* A job as its poll answers it: the fields but the output, the output files
 * (as long as they were when read) and the truncation flags that follow
 * them on the wire. */
typedef struct JobRead {
        json_object *fields;
        json_object *flags;
        int stdout_fd, stderr_fd;       /* -1 when there is no output yet */
        uint64_t stdout_size, stderr_size;
        char *caller_id;                /* stable ID of the node that started it */
        char *feature;                  /* see JobSpec */
} JobRead;

/* -ENOENT for an unknown (or evicted) id. */
int job_read(const char *id, JobRead *ret);
void job_read_done(JobRead *j);

/* Worker jobs: the calling worker does the work itself (on a thread of its
 * own: the job outlives the request). job_begin() creates the record, which
 * reads running at once (spec->argv and steps unused); -ENOSPC when
 * JOBS_MAX_RECORDS are kept. The worker should stay up while it has worker
 * jobs that have not ended (jobs_housekeeping() counts them). */
int job_begin(const JobSpec *spec, const DaemonConfig *cfg, char ret_id[ULID_LEN + 1]);
/* Appends to the job's stdout (or stderr), up to output_max. */
int job_output(const char *id, bool to_stderr, const void *data, size_t size);
/* Ends a worker job: completed when error is NULL and exit_code 0, else
 * failed (cancelled when error starts with "cancelled"). */
int job_end(const char *id, int exit_code, const char *error);
/* Whether DELETE asked the job to stop: a worker job checks it and ends
 * itself with "cancelled on request" when it can. */
bool job_cancel_requested(const char *id);

/* Asks the job to stop (a scope job's whole scope is killed, one not started
 * yet never runs its command; a worker job is asked, see above). -ENOENT, -EALREADY when it already finished,
 * -ENOTCONN when systemd cannot be reached over the system bus. */
int job_cancel(const char *id);

/* Housekeeping, about once a second and when a start would be refused: polls
 * the live jobs only (finalizes those whose scope ended without a result,
 * logs "exec completed" once, frees the max_jobs slot of those whose scope is
 * empty) and evicts records finished more than 5 minutes ago. Returns the
 * number of jobs that still count. */
int jobs_housekeeping(void);

/* Exec only: adds the records other workers made since it last looked
 * (rate-limited; call it from the housekeeping tick and before a lookup
 * misses). */
void jobs_adopt_new_records(void);
