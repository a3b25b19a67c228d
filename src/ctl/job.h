/* SPDX-License-Identifier: MIT */
#pragma once

/* Jobs: every long operation (exec, unit and container actions, compose,
 * pulls) answers 202 {"job_id"}; GET /exec/jobs/ID polls it. */

#include <json-c/json.h>

#include "ctl.h"

#include "job-wait.h"   /* JOB_WAIT_MAX_SEC */

#define JOB_POLL_MS 200

/* Handles a 202 answer: prints the job id (or the JSON), or with wait polls
 * the job to its end and prints the result. Returns the exit code. */
int job_accepted(Ctx *c, json_object *accepted, bool wait);

/* Polls until the job is completed, failed or cancelled. */
int job_wait(Ctx *c, const char *id, json_object **ret);

/* Prints a finished or running job: table, or its output with --wait. */
void job_print(Ctx *c, json_object *job);

/* 0 for completed, EXIT_JOB_FAILED for failed/cancelled. */
int job_exit_code(json_object *job);
