/* SPDX-License-Identifier: MIT */
#include "budget.h"

#define MIB (1024 * 1024)

/* A scope's index is at most ~6 MiB (10,000 keys of 256 bytes): a dozen of
 * those, or thousands of ordinary ones, at once. */
Budget index_budget = { .max = 64 * MIB };
/* Five worst-case JSON PUTs (6 MiB body, parsed) at once; small ones by the thousand. */
Budget body_budget = { .max = 96 * MIB };

bool budget_take(Budget *b, size_t n) {
        size_t cur = atomic_load(&b->used);

        do
                if (n > b->max - cur)
                        return false;
        while (!atomic_compare_exchange_weak(&b->used, &cur, cur + n));
        return true;
}

void budget_give(Budget *b, size_t n) {
        atomic_fetch_sub(&b->used, n);
}
