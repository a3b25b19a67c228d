/* SPDX-License-Identifier: MIT */
#pragma once

/* A few idle handles (curl easy handles, bus connections, inotify
 * instances) kept for the next user, shared by a worker's threads: setting
 * one up again costs more than keeping it. One thread uses a handle at a
 * time; the pool only hands them over. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define POOL_MAX 8

typedef struct Pool {
        pthread_mutex_t lock;
        void *idle[POOL_MAX];
        size_t n;
} Pool;

#define POOL_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* An idle handle, or NULL when there is none. */
void *pool_take(Pool *p);
/* Keeps h for the next pool_take(); false when the pool is full (the
 * caller then frees h). */
bool pool_give(Pool *p, void *h);
