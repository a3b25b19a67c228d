/* SPDX-License-Identifier: MIT */
#pragma once

/* post_recv: a rule's hooks run in order as one job (src/shared/jobs.h, a
 * chain in tailkitd-job-<id>.scope, polled with GET /exec/jobs/{id}), each
 * with TAILKITD_RECEIVED_PATH set to the written path; the first failure
 * stops the chain and the job names the failing hook. */

#include <stddef.h>

#include "files-config.h"
#include "worker.h"

/* 0 when every hook of rule names an installed command that can run; else
 * -ENOENT / -ENOTUNIQ / -EBADMSG with a hint for the 503. */
int files_hooks_check(const FilesRule *rule, char *hint, size_t hint_size);

/* Starts the rule's hooks for the file written at path: 0 and the job id,
 * -EBUSY (max_jobs) / -ENOSPC (records) / another errno with a hint. */
int files_hooks_start(Request *r, const FilesRule *rule, const char *path, char **ret_job_id,
                      char *hint, size_t hint_size);
