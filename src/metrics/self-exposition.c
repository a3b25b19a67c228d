/* SPDX-License-Identifier: MIT */
/* tailkitd_* metrics: what each worker counted in its own counters file
 * (src/shared/worker-stats.h) since boot. A directory per worker that has
 * run at least once; one that never ran has no series (Prometheus treats an
 * absent counter as 0 in rate()). */

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "node-exposition.h"
#include "worker-stats.h"

#define WORKERS_MAX 64

static int name_cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

int self_expo(Expo *e) {
        _cleanup_(closedirp) DIR *d = opendir(worker_stats_dir());
        static WorkerStats stats[WORKERS_MAX];   /* ~5 KiB each: off the thread's stack */
        static char names[WORKERS_MAX][33];
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        pthread_mutex_lock(&lock);
        while (n < WORKERS_MAX && (de = readdir(d)))
                if (worker_stats_name_is_valid(de->d_name))
                        memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);   /* valid: at most 32 */
        qsort(names, n, sizeof(names[0]), name_cmp);
        for (size_t i = 0; i < n; i++)
                if (worker_stats_read(names[i], &stats[i]) < 0)
                        names[i][0] = 0;

        expo_family(e, "tailkitd_worker_starts_total", EXPO_COUNTER, "Times each tailkitd worker process started.");
        for (size_t i = 0; i < n; i++)
                if (names[i][0])
                        expo_sample_u64(e, "tailkitd_worker_starts_total",
                                        (const char *const[]) { "worker", names[i], NULL }, stats[i].starts);
        expo_family(e, "tailkitd_requests_total", EXPO_COUNTER,
                    "Requests each tailkitd worker answered, by response status (none: closed without one).");
        for (size_t i = 0; i < n; i++)
                for (unsigned s = 0; names[i][0] && s < WORKER_STATS_STATUS_MAX; s++) {
                        char status[8];

                        if (stats[i].requests[s] == 0)
                                continue;
                        snprintf(status, sizeof(status), s == 0 ? "none" : "%u", s);
                        expo_sample_u64(e, "tailkitd_requests_total",
                                        (const char *const[]) { "worker", names[i], "status", status, NULL },
                                        stats[i].requests[s]);
                }
        expo_family(e, "tailkitd_jobs_started_total", EXPO_COUNTER,
                    "Jobs each tailkitd worker accepted (exec commands, unit, docker and hook jobs).");
        for (size_t i = 0; i < n; i++)
                if (names[i][0])
                        expo_sample_u64(e, "tailkitd_jobs_started_total",
                                        (const char *const[]) { "worker", names[i], NULL }, stats[i].jobs_started);
        pthread_mutex_unlock(&lock);
        return 0;
}
