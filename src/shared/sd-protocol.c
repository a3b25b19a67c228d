/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "macro.h"
#include "sd-protocol.h"

/* The passed sockets' count, from $LISTEN_PID and $LISTEN_FDS. */
static int listen_fds_count(void) {
        const char *pid_env = getenv("LISTEN_PID"), *fds_env = getenv("LISTEN_FDS");
        unsigned long pid, n;
        int r;

        if (!pid_env || !fds_env)
                return 0;
        r = parse_uint(pid_env, INT32_MAX, &pid);
        if (r < 0)
                return r;
        if ((pid_t) pid != getpid())
                return 0;       /* meant for another process (our parent, say) */
        r = parse_uint(fds_env, INT32_MAX, &n);
        if (r < 0)
                return r;
        return n > LISTEN_FDS_MAX ? -E2BIG : (int) n;
}

int listen_fds_take(void) {
        int n = listen_fds_count();

        for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++) {
                int flags = fcntl(fd, F_GETFD);

                if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
                        n = negative_errno();
                        break;
                }
        }
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        return n;
}

static int sockopt_int(int fd, int opt, int *ret) {
        socklen_t l = sizeof(*ret);

        if (getsockopt(fd, SOL_SOCKET, opt, ret, &l) < 0)
                return negative_errno();
        return l == sizeof(*ret) ? 0 : -EINVAL;
}

int socket_is_listening(int fd, int family, int type) {
        int v, r;

        if (fd < 0)
                return -EBADF;
        r = sockopt_int(fd, SO_TYPE, &v);
        if (r == -ENOTSOCK)
                return 0;
        if (r < 0)
                return r;
        if (v != type)
                return 0;
        if (family != AF_UNSPEC) {
                r = sockopt_int(fd, SO_DOMAIN, &v);
                if (r < 0)
                        return r;
                if (v != family)
                        return 0;
        }
        r = sockopt_int(fd, SO_ACCEPTCONN, &v);
        if (r < 0)
                return r;
        return v == 1;
}

/* path: a file system path, or an abstract name when it starts with '@'. */
static int unix_address(const char *path, struct sockaddr_un *sa, socklen_t *ret_len) {
        size_t l = strlen(path);

        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        if (path[0] == '@') {
                if (l < 2 || l > sizeof(sa->sun_path))
                        return -EINVAL;
                /* The leading NUL is the '@'; no terminating NUL. */
                memcpy(sa->sun_path + 1, path + 1, l - 1);
                *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l);
                return 0;
        }
        if (path[0] != '/')
                return -EAFNOSUPPORT;
        if (l >= sizeof(sa->sun_path))
                return -EINVAL;
        memcpy(sa->sun_path, path, l + 1);
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l + 1);
        return 0;
}

int notify_send(const char *state) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa;
        socklen_t sl;
        const char *e;
        int r;

        if (isempty(state))
                return -EINVAL;
        e = getenv("NOTIFY_SOCKET");
        if (!e)
                return 0;
        r = unix_address(e, &sa, &sl);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sa, sl) < 0)
                return negative_errno();
        return 1;
}

/* Shared by every thread of the process; not connected, so a restarted
 * journald is found again at its path. */
static atomic_int journal_fd = -1;

static int journal_socket(void) {
        int fd = atomic_load(&journal_fd), expected = -1;

        if (fd >= 0)
                return fd;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* Room for a few records in flight, as libsystemd asks (the kernel
         * caps it at net.core.wmem_max). */
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int) { 8 * 1024 * 1024 }, sizeof(int));
        if (!atomic_compare_exchange_strong(&journal_fd, &expected, fd)) {
                /* Another thread opened one first: use that one. */
                close(fd);
                return expected;
        }
        return fd;
}

int journal_send(const char *socket_path, const struct iovec *fields, size_t n_fields) {
        /* Per field at most: name, "\n", length, value, "\n". */
        struct iovec iov[JOURNAL_FIELDS_MAX * 5];
        uint64_t lengths[JOURNAL_FIELDS_MAX];
        struct sockaddr_un sa;
        struct msghdr mh = {};
        socklen_t sl;
        size_t n = 0;
        int fd, r;

        if (n_fields == 0)
                return -EINVAL;
        if (n_fields > JOURNAL_FIELDS_MAX)
                return -E2BIG;
        r = unix_address(socket_path ?: JOURNAL_SOCKET_PATH, &sa, &sl);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_fields; i++) {
                const char *f = fields[i].iov_base;
                size_t len = fields[i].iov_len;
                const char *eq = memchr(f, '=', len);
                size_t name_len;

                if (!eq || eq == f)
                        return -EINVAL;
                name_len = (size_t) (eq - f);
                if (memchr(f, '\n', name_len))
                        return -EINVAL;
                if (!memchr(eq + 1, '\n', len - name_len - 1)) {
                        /* "NAME=value\n" */
                        iov[n++] = (struct iovec) { (void *) f, len };
                        iov[n++] = (struct iovec) { (void *) "\n", 1 };
                        continue;
                }
                /* "NAME\n", the value's length (64-bit little endian), the value, "\n" */
                lengths[i] = htole64((uint64_t) (len - name_len - 1));
                iov[n++] = (struct iovec) { (void *) f, name_len };
                iov[n++] = (struct iovec) { (void *) "\n", 1 };
                iov[n++] = (struct iovec) { &lengths[i], sizeof(lengths[i]) };
                iov[n++] = (struct iovec) { (void *) (eq + 1), len - name_len - 1 };
                iov[n++] = (struct iovec) { (void *) "\n", 1 };
        }

        fd = journal_socket();
        if (fd < 0)
                return fd;
        mh.msg_name = &sa;
        mh.msg_namelen = sl;
        mh.msg_iov = iov;
        mh.msg_iovlen = n;
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
                return negative_errno();
        return 0;
}
