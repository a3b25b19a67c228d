/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <sys/types.h>

#include "job-index.h"
#include "macro.h"

typedef struct KeptJob {
        JobId id;
        uint64_t finished_usec;
} KeptJob;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static JobId *live;
static size_t n_live, live_alloc;
static KeptJob *kept;                  /* kept[kept_head..n_kept), by finish time */
static size_t kept_head, n_kept, kept_alloc;

static void unlockp(pthread_mutex_t **m) {
        if (*m)
                pthread_mutex_unlock(*m);
}
#define LOCKED _cleanup_(unlockp) pthread_mutex_t *_locked = (pthread_mutex_lock(&lock), &lock)

static int grow(void **p, size_t *alloc, size_t need, size_t size) {
        size_t a;
        void *q;

        if (need <= *alloc)
                return 0;
        a = MAX(need, *alloc * 2);
        a = MAX(a, (size_t) 16);
        q = realloc(*p, a * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *alloc = a;
        return 0;
}

static ssize_t live_find(const char *id) {
        for (size_t i = 0; i < n_live; i++)
                if (streq(live[i], id))
                        return (ssize_t) i;
        return -1;
}

static int live_add_locked(const char *id) {
        if (grow((void **) &live, &live_alloc, n_live + 1, sizeof(JobId)) < 0)
                return -ENOMEM;
        snprintf(live[n_live++], sizeof(JobId), "%s", id);
        return 0;
}

/* Inserted in finish order; jobs mostly finish in order, so this appends. */
static int kept_add_locked(const char *id, uint64_t finished_usec) {
        size_t lo = kept_head, hi = n_kept;

        if (kept_head > 0 && kept_head * 2 >= n_kept) {   /* reclaim the popped front */
                memmove(kept, kept + kept_head, (n_kept - kept_head) * sizeof(KeptJob));
                n_kept -= kept_head;
                lo = kept_head = 0;
                hi = n_kept;
        }
        if (grow((void **) &kept, &kept_alloc, n_kept + 1, sizeof(KeptJob)) < 0)
                return -ENOMEM;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (kept[mid].finished_usec <= finished_usec)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        memmove(kept + lo + 1, kept + lo, (n_kept - lo) * sizeof(KeptJob));
        kept[lo].finished_usec = finished_usec;
        snprintf(kept[lo].id, sizeof(JobId), "%s", id);
        n_kept++;
        return 0;
}

int job_index_add(const char *id, unsigned max_live, unsigned max_total) {
        LOCKED;

        if (n_live >= max_live)
                return -EBUSY;
        if (n_live + n_kept - kept_head >= max_total)
                return -ENOSPC;
        return live_add_locked(id);
}

int job_index_load(const char *id, bool is_live, uint64_t finished_usec) {
        LOCKED;

        return is_live ? live_add_locked(id) : kept_add_locked(id, finished_usec);
}

void job_index_release(const char *id, uint64_t finished_usec) {
        LOCKED;
        ssize_t i = live_find(id);

        if (i < 0)
                return;
        /* Kept for its full time even when memory is short: never evicted early. */
        if (kept_add_locked(id, finished_usec) < 0)
                return;
        memcpy(live[i], live[n_live - 1], sizeof(JobId));
        n_live--;
}

void job_index_forget(const char *id) {
        LOCKED;
        ssize_t i = live_find(id);

        if (i >= 0) {
                memcpy(live[i], live[n_live - 1], sizeof(JobId));
                n_live--;
                return;
        }
        for (size_t k = kept_head; k < n_kept; k++)
                if (streq(kept[k].id, id)) {
                        memmove(kept + k, kept + k + 1, (n_kept - k - 1) * sizeof(KeptJob));
                        n_kept--;
                        return;
                }
}

int job_index_live(JobId **ret, size_t *ret_n) {
        LOCKED;
        JobId *copy = malloc(MAX(n_live, (size_t) 1) * sizeof(JobId));

        if (!copy)
                return -ENOMEM;
        if (n_live > 0)
                memcpy(copy, live, n_live * sizeof(JobId));
        *ret = copy;
        *ret_n = n_live;
        return 0;
}

int job_index_take_expired(uint64_t before, JobId **ret, size_t *ret_n) {
        LOCKED;
        size_t n = 0;
        JobId *ids;

        while (kept_head + n < n_kept && kept[kept_head + n].finished_usec <= before)
                n++;
        ids = malloc(MAX(n, (size_t) 1) * sizeof(JobId));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                memcpy(ids[i], kept[kept_head + i].id, sizeof(JobId));
        kept_head += n;
        if (kept_head == n_kept)
                kept_head = n_kept = 0;
        *ret = ids;
        *ret_n = n;
        return 0;
}

size_t job_index_n_live(void) {
        LOCKED;
        return n_live;
}

size_t job_index_n_total(void) {
        LOCKED;
        return n_live + n_kept - kept_head;
}

bool job_index_has(const char *id) {
        LOCKED;

        if (live_find(id) >= 0)
                return true;
        /* Newest last: a record being adopted is a recent one. */
        for (size_t i = n_kept; i > kept_head; i--)
                if (streq(kept[i - 1].id, id))
                        return true;
        return false;
}
