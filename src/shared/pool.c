/* SPDX-License-Identifier: MIT */
#include "pool.h"

void *pool_take(Pool *p) {
        void *h = NULL;

        pthread_mutex_lock(&p->lock);
        if (p->n > 0)
                h = p->idle[--p->n];
        pthread_mutex_unlock(&p->lock);
        return h;
}

bool pool_give(Pool *p, void *h) {
        bool kept = false;

        pthread_mutex_lock(&p->lock);
        if (p->n < POOL_MAX) {
                p->idle[p->n++] = h;
                kept = true;
        }
        pthread_mutex_unlock(&p->lock);
        return kept;
}
