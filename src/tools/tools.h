/* SPDX-License-Identifier: MIT */
#pragma once

#include "worker.h"

int tools_list(Request *r);
int tools_get(Request *r);
int health_get(Request *r);
int integration_absent_get(Request *r);

extern const Route tools_routes[];
extern const size_t tools_n_routes;
