/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "worker-stats.h"

static WorkerStats *stats;   /* the shared mapping; NULL: not counting */

const char *worker_stats_dir(void) {
        const char *e = getenv("TAILKITD_STATS_DIR");
        return isempty(e) ? "/run/tailkitd-stats" : e;
}

bool worker_stats_name_is_valid(const char *name) {
        size_t n = strlen(name);

        return n > 0 && n <= 32 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n && name[0] != '-';
}

static int stats_path(const char *name, char *buf, size_t size, bool dir) {
        int n;

        if (!worker_stats_name_is_valid(name))
                return -EINVAL;
        n = snprintf(buf, size, dir ? "%s/%s" : "%s/%s/counters", worker_stats_dir(), name);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

void worker_stats_open(const char *name) {
        char dir[4096], path[4096];
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        void *p;

        if (stats_path(name, dir, sizeof(dir), true) < 0 || stats_path(name, path, sizeof(path), false) < 0)
                return;
        /* systemd made it (RuntimeDirectory=); elsewhere (tests) we do. */
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                log_debug_errno(-errno, "Not counting requests: cannot make %s: %m", dir);
                return;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || fstat(fd, &st) < 0) {
                log_debug_errno(-errno, "Not counting requests: cannot open %s: %m", path);
                return;
        }
        /* Readable by the metrics worker whatever our umask (0077). */
        (void) fchmod(fd, 0644);
        if ((size_t) st.st_size != sizeof(WorkerStats) && ftruncate(fd, 0) < 0) {
                log_debug_errno(-errno, "Not counting requests: cannot reset %s: %m", path);
                return;
        }
        if (ftruncate(fd, sizeof(WorkerStats)) < 0) {
                log_debug_errno(-errno, "Not counting requests: cannot size %s: %m", path);
                return;
        }
        p = mmap(NULL, sizeof(WorkerStats), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                log_debug_errno(-errno, "Not counting requests: cannot map %s: %m", path);
                return;
        }
        stats = p;
        /* A file of another layout was emptied above: zeros, then ours. */
        if (stats->magic != WORKER_STATS_MAGIC || stats->version != WORKER_STATS_VERSION) {
                memset(stats, 0, sizeof(WorkerStats));
                stats->version = WORKER_STATS_VERSION;
                __atomic_store_n(&stats->magic, WORKER_STATS_MAGIC, __ATOMIC_RELEASE);
        }
        __atomic_fetch_add(&stats->starts, 1, __ATOMIC_RELAXED);
}

void worker_stats_request(unsigned status) {
        if (stats)
                __atomic_fetch_add(&stats->requests[status < WORKER_STATS_STATUS_MAX ? status : 0], 1,
                                   __ATOMIC_RELAXED);
}

void worker_stats_job_started(void) {
        if (stats)
                __atomic_fetch_add(&stats->jobs_started, 1, __ATOMIC_RELAXED);
}

int worker_stats_read(const char *name, WorkerStats *ret) {
        char path[4096];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        int r;

        r = stats_path(name, path, sizeof(path), false);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        /* Aligned 8-byte words: each count reads whole, never torn. */
        n = pread(fd, ret, sizeof(WorkerStats), 0);
        if (n < 0)
                return -errno;
        if ((size_t) n != sizeof(WorkerStats) || ret->magic != WORKER_STATS_MAGIC ||
            ret->version != WORKER_STATS_VERSION)
                return -EBADMSG;
        return 0;
}
