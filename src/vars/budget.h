/* SPDX-License-Identifier: MIT */
#pragma once

/* Worker-wide memory budgets: what concurrent requests may hold at once,
 * whatever their number. A request that would exceed one is answered 503
 * (retry later) instead of growing the worker. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct Budget {
        atomic_size_t used;
        size_t max;
} Budget;

/* The indexes of open scopes (keys and value positions; values stay on disk). */
extern Budget index_budget;
/* PUT bodies while they are buffered and parsed. */
extern Budget body_budget;

bool budget_take(Budget *b, size_t n);
void budget_give(Budget *b, size_t n);
