/* SPDX-License-Identifier: MIT */
#pragma once

#include "jobs.h"
#include "registry.h"
#include "worker.h"

extern Registry *exec_registry;

int exec_post(Request *r);
int exec_job_get(Request *r);
int exec_job_delete(Request *r);

/* Answers a poll with the job, its output streamed; takes over job. */
int reply_job(Request *r, JobRead *job);

extern const Route exec_routes[];
extern const size_t exec_n_routes;
