/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "job-files.h"
#include "job-wait.h"
#include "macro.h"
#include "pool.h"
#include "time-util.h"

/* stop() is asked at least this often: a worker told to stop must not keep
 * a waiter (and so itself) up for the whole wait. */
#define STOP_CHECK_USEC (1000 * 1000ULL)

/* Inotify instances kept for the next wait: closing one waits for an SRCU
 * grace period in the kernel (5–15 ms measured on the bench machine), which
 * would delay the answer; removing its watch does not. Kept as fd + 1, so
 * that fd 0 is not NULL. */
static Pool instances = POOL_INIT;

/* Discards what is queued: what events say is read from the files. */
static void drain(int in) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        while (read(in, buf, sizeof(buf)) > 0)
                ;
}

static int instance_take(void) {
        void *h = pool_take(&instances);
        int in;

        if (!h) {
                in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                return in < 0 ? negative_errno() : in;
        }
        in = (int) (intptr_t) h - 1;
        drain(in);      /* the last wait's events, its IN_IGNORED included */
        return in;
}

static void instance_give_back(int in, int wd) {
        if (wd >= 0)
                (void) inotify_rm_watch(in, wd);   /* fails once the directory is gone: fine */
        if (!pool_give(&instances, (void *) (intptr_t) (in + 1)))
                close(in);
}

static bool peer_closed(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLRDHUP };

        return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static int wait_loop(int dir, int in, uint64_t deadline, int hangup_fd, bool (*stop)(void)) {
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = in, .events = POLLIN },
                        { .fd = hangup_fd, .events = POLLRDHUP },
                };
                uint64_t now;

                if (exists_at(dir, "result.json"))
                        return 0;
                if (!exists_at(dir, "job.json"))
                        return -ENOENT;         /* evicted meanwhile */
                if (stop && stop())
                        return -ECANCELED;
                if (peer_closed(hangup_fd))
                        return -ECONNRESET;
                now = now_usec();
                if (now >= deadline)
                        return -ETIME;
                if (poll(p, hangup_fd >= 0 ? 2 : 1, (int) ((MIN(deadline - now, STOP_CHECK_USEC) + 999) / 1000)) < 0 &&
                    errno != EINTR)
                        return negative_errno();
                drain(in);
        }
}

int job_wait_end(const char *id, uint64_t timeout_usec, int hangup_fd, bool (*stop)(void)) {
        _cleanup_close_ int dir = -1;
        char path[PATH_MAX];
        uint64_t deadline = now_usec() + timeout_usec;
        int r, in, wd;

        r = open_job_dir(id, &dir);
        if (r < 0)
                return r;
        if (snprintf(path, sizeof(path), "%s/%s", jobs_dir(), id) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        in = instance_take();
        if (in < 0)
                return in;
        /* Watch first, then look: a result written in between is not missed.
         * result.json arrives by rename (MOVED_TO); DELETE_SELF: evicted. */
        wd = inotify_add_watch(in, path, IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_ONLYDIR);
        r = wd < 0 ? negative_errno() : wait_loop(dir, in, deadline, hangup_fd, stop);
        instance_give_back(in, wd);
        return r;
}
