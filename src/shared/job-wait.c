/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "job-files.h"
#include "job-wait.h"
#include "jobs.h"
#include "macro.h"
#include "time-util.h"

/* stop() is asked at least this often: a worker told to stop must not keep
 * a waiter (and so itself) up for the whole wait. */
#define STOP_CHECK_USEC (1000 * 1000ULL)

static bool peer_closed(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLRDHUP };

        return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int job_wait_end(const char *id, uint64_t timeout_usec, int hangup_fd, bool (*stop)(void), int *ret_watch_fd) {
        _cleanup_close_ int dir = -1;
        char path[PATH_MAX];
        uint64_t deadline = now_usec() + timeout_usec;
        int r, in;

        *ret_watch_fd = -1;
        r = open_job_dir(id, &dir);
        if (r < 0)
                return r;
        /* Watch first, then look: a result written in between is not missed. */
        in = *ret_watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (in < 0)
                return negative_errno();
        if (snprintf(path, sizeof(path), "%s/%s", jobs_dir(), id) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        /* result.json arrives by rename (MOVED_TO); DELETE_SELF: evicted. */
        if (inotify_add_watch(in, path, IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_ONLYDIR) < 0)
                return negative_errno();

        for (;;) {
                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                struct pollfd p[2] = {
                        { .fd = in, .events = POLLIN },
                        { .fd = hangup_fd, .events = POLLRDHUP },
                };
                uint64_t now;
                int n;

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
                n = poll(p, hangup_fd >= 0 ? 2 : 1,
                         (int) ((MIN(deadline - now, STOP_CHECK_USEC) + 999) / 1000));
                if (n < 0 && errno != EINTR)
                        return negative_errno();
                /* Drain the events: what they say is read from the files. */
                while (read(in, buf, sizeof(buf)) > 0)
                        ;
        }
}
