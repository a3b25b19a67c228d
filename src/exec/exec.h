/* SPDX-License-Identifier: MIT */
#pragma once

#include "registry.h"
#include "worker.h"

extern Registry *exec_registry;

int exec_post(Request *r);
int exec_job_get(Request *r);
int exec_job_delete(Request *r);

extern const Route exec_routes[];
extern const size_t exec_n_routes;
