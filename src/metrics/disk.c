/* SPDX-License-Identifier: MIT */
/* disk.UsageStat for the configured paths. statvfs() on a hung NFS or FUSE
 * mount blocks in the kernel with no way to cancel it, so each path is
 * probed by a helper thread the request waits for until a deadline; a probe
 * still running then is abandoned (the thread frees its record when the
 * kernel lets it go) and the path is reported as not answering. A path whose
 * previous probe is still stuck is not probed again, and at most
 * PROBES_MAX probes are in flight, so a dead mount cannot pile up threads.
 *
 * gopsutil's arithmetic: total = f_blocks * f_frsize, free = f_bavail *
 * f_frsize, used = (f_blocks - f_bfree) * f_frsize, usedPercent = used /
 * (used + free) * 100; inodes likewise from f_files and f_ffree. */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "macro.h"
#include "metrics.h"

#define PROBES_MAX 32
#define PROBE_STACK_SIZE (64 * 1024)

typedef struct Probe {
        unsigned refs;               /* the thread's and the request's */
        bool done;
        int error;
        struct statvfs st;
        char path[];
} Probe;

/* One lock for all probes: they are few and short. */
static pthread_mutex_t probes_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t probes_cond;
static pthread_once_t probes_once = PTHREAD_ONCE_INIT;
static Probe *in_flight[PROBES_MAX];

static void probes_init(void) {
        pthread_condattr_t a;

        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&probes_cond, &a);
        pthread_condattr_destroy(&a);
}

/* Under probes_lock. */
static void probe_unref(Probe *p) {
        if (--p->refs == 0)
                free(p);
}

static void *probe_thread(void *arg) {
        Probe *p = arg;
        struct statvfs st;
        int e = statvfs(p->path, &st) < 0 ? -errno : 0;

        pthread_mutex_lock(&probes_lock);
        p->st = st;
        p->error = e;
        p->done = true;
        for (size_t i = 0; i < PROBES_MAX; i++)
                if (in_flight[i] == p)
                        in_flight[i] = NULL;
        pthread_cond_broadcast(&probes_cond);
        probe_unref(p);
        pthread_mutex_unlock(&probes_lock);
        return NULL;
}

/* Under probes_lock: starts a probe, or NULL with *error set. */
static Probe *probe_start(const char *path, int *error) {
        pthread_attr_t attr;
        pthread_t t;
        size_t slot = PROBES_MAX;
        Probe *p;
        int r;

        for (size_t i = 0; i < PROBES_MAX; i++) {
                if (in_flight[i] && streq(in_flight[i]->path, path)) {
                        *error = -ETIMEDOUT;    /* still stuck from an earlier request */
                        return NULL;
                }
                if (!in_flight[i] && slot == PROBES_MAX)
                        slot = i;
        }
        if (slot == PROBES_MAX) {
                *error = -EBUSY;
                return NULL;
        }
        p = calloc(1, sizeof(Probe) + strlen(path) + 1);
        if (!p) {
                *error = -ENOMEM;
                return NULL;
        }
        strcpy(p->path, path);
        p->refs = 2;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, PROBE_STACK_SIZE);
        r = pthread_create(&t, &attr, probe_thread, p);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(p);
                *error = -r;
                return NULL;
        }
        in_flight[slot] = p;
        return p;
}

/* The filesystem type of the mount holding path (longest mount point that
 * is a path prefix), from <proc>/self/mounts; "" when unknown. */
static void fstype_of(const MetricsSources *s, const char *path, char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        size_t best = 0;

        buf[0] = 0;
        if (metrics_read_file(s->proc, "self/mounts", METRICS_FILE_MAX, &text) < 0)
                return;
        for (char *l = text, *next; l && *l; l = next) {
                char mnt[4096], type[64];
                size_t ml;

                next = strchr(l, '\n');
                if (next)
                        *next++ = 0;
                /* Mount points with blanks are \040-escaped: they never match a
                 * configured path with blanks, which only loses the type. */
                if (sscanf(l, "%*s %4095s %63s", mnt, type) != 2)
                        continue;
                ml = strlen(mnt);
                if (streq(mnt, "/"))
                        ml = 0;
                else if (strncmp(path, mnt, ml) != 0 || (path[ml] != '/' && path[ml] != 0))
                        continue;
                if (ml >= best) {
                        best = ml;
                        snprintf(buf, size, "%s", type);
                }
        }
}

json_object *metrics_disk_usage_json(const MetricsSources *s, const char *path, const struct statvfs *st) {
        json_object *o = json_object_new_object();
        uint64_t total = (uint64_t) st->f_blocks * st->f_frsize;
        uint64_t free_ = (uint64_t) st->f_bavail * st->f_frsize;
        uint64_t used = (uint64_t) (st->f_blocks - MIN(st->f_bfree, st->f_blocks)) * st->f_frsize;
        uint64_t itotal = st->f_files, ifree = MIN(st->f_ffree, st->f_files), iused = itotal - ifree;
        char type[64];

        if (!o)
                return NULL;
        fstype_of(s, path, type, sizeof(type));
        json_add(o, "path", json_object_new_string(path));
        json_add(o, "fstype", json_object_new_string(type));
        json_add(o, "total", json_u64(total));
        json_add(o, "free", json_u64(free_));
        json_add(o, "used", json_u64(used));
        json_add(o, "usedPercent", json_double(used + free_ > 0 ? (double) used / (double) (used + free_) * 100 : 0));
        json_add(o, "inodesTotal", json_u64(itotal));
        json_add(o, "inodesUsed", json_u64(iused));
        json_add(o, "inodesFree", json_u64(ifree));
        json_add(o, "inodesUsedPercent", json_double(itotal > 0 ? (double) iused / (double) itotal * 100 : 0));
        return o;
}

static json_object *unavailable_json(const char *path, int error) {
        json_object *o = json_object_new_object();
        const char *why;

        if (!o)
                return NULL;
        switch (error) {
        case -ETIMEDOUT: why = "filesystem did not answer in time"; break;
        case -EBUSY: why = "too many filesystems not answering"; break;
        case -ENOENT: why = "path does not exist"; break;
        case -EACCES: case -EPERM: why = "permission denied"; break;
        default: why = "statvfs failed"; break;
        }
        json_add(o, "path", json_object_new_string(path));
        json_add(o, "error", json_object_new_string(why));
        return o;
}

int metrics_disk(const MetricsSources *s, char *const *paths, size_t n_paths, unsigned timeout_msec,
                 json_object **ret) {
        _cleanup_free_ Probe **probes = NULL;
        _cleanup_free_ int *errors = NULL;
        struct timespec deadline;
        json_object *a;

        pthread_once(&probes_once, probes_init);
        probes = calloc(MAX(n_paths, (size_t) 1), sizeof(Probe *));
        errors = calloc(MAX(n_paths, (size_t) 1), sizeof(int));
        a = json_object_new_array();
        if (!probes || !errors || !a) {
                json_object_put(a);
                return -ENOMEM;
        }
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_msec / 1000;
        deadline.tv_nsec += (long) (timeout_msec % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }

        pthread_mutex_lock(&probes_lock);
        /* All paths are probed at once and share one deadline. */
        for (size_t i = 0; i < n_paths; i++)
                probes[i] = probe_start(paths[i], &errors[i]);
        for (size_t i = 0; i < n_paths; i++)
                while (probes[i] && !probes[i]->done)
                        if (pthread_cond_timedwait(&probes_cond, &probes_lock, &deadline) == ETIMEDOUT)
                                break;
        for (size_t i = 0; i < n_paths; i++) {
                json_object *o;

                if (probes[i] && probes[i]->done && probes[i]->error == 0)
                        o = metrics_disk_usage_json(s, paths[i], &probes[i]->st);
                else
                        o = unavailable_json(paths[i], probes[i] ? (probes[i]->done ? probes[i]->error : -ETIMEDOUT)
                                                                 : errors[i]);
                if (o)
                        json_object_array_add(a, o);
                if (probes[i])
                        probe_unref(probes[i]);
        }
        pthread_mutex_unlock(&probes_lock);
        *ret = a;
        return 0;
}
