/* SPDX-License-Identifier: MIT */
#pragma once

#include "worker.h"

int vars_available(Request *r, const char **error, const char **hint);

int vars_list(Request *r);
int vars_scope_get(Request *r);
int vars_scope_delete(Request *r);
int vars_key_get(Request *r);
int vars_key_put(Request *r);
int vars_key_delete(Request *r);

extern const Route vars_routes[];
extern const size_t vars_n_routes;
