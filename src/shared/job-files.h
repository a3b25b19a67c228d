/* SPDX-License-Identifier: MIT */
#pragma once

/* Small helpers for the files of one job record (see jobs.h), all relative
 * to the record's directory fd, and the two clocks a record carries: wall
 * clock times for people, CLOCK_BOOTTIME for ages (it never steps, counts
 * suspend, and is the same for every process: a restarted worker reads the
 * stamps of the one before it). */

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ulid.h"

#define JOB_FILE_MAX (64 * 1024)

uint64_t realtime_ms(void);
uint64_t boottime_usec(void);

int read_json_at(int dir_fd, const char *name, json_object **ret);
/* Atomically (temp file .<name>.tmp, then rename). */
int write_json_at(int dir_fd, const char *name, json_object *o);
bool exists_at(int dir_fd, const char *name);

int64_t json_get_int(json_object *o, const char *key, int64_t def);
const char *json_get_str(json_object *o, const char *key);

/* Directory of the job records (created if missing). */
const char *jobs_dir(void);

/* The record directory of a job: -ENOENT for an id that is not a ULID. */
int open_job_dir(const char *id, int *ret);

/* Removes <base>/<id> with everything in it, whatever the names (a temp
 * file left by a kill mid-write included). */
int remove_job_dir(int base, const char *id);
