/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdpass.h"
#include "macro.h"

int seqpacket_connect(const char *path) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        /* Non-blocking: a worker that does not accept (stopped, stuck,
         * crash-looping) fills its backlog, and connect() then fails with
         * EAGAIN instead of freezing the caller. */
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int fd_send(int sock, int fd) {
        union {
                struct cmsghdr cmsg;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte = 'F';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));

        if (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                return negative_errno();
        return 0;
}

int fd_recv(int sock, int *ret) {
        union {
                struct cmsghdr cmsg;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control = {};
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        int received = -1, extra = 0;
        ssize_t n;

        *ret = -1;
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return negative_errno();

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < count; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (received < 0)
                                received = fd;
                        else {
                                close(fd);
                                extra++;
                        }
                }
        }
        if (n == 0 && received < 0)
                return 0;
        if (received < 0 || extra > 0 || (mh.msg_flags & MSG_CTRUNC)) {
                if (received >= 0)
                        close(received);
                return -EBADMSG;
        }
        *ret = received;
        return 1;
}

bool fd_is_tcp_stream(int fd) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int type = 0, proto = 0;
        socklen_t tl = sizeof(type), pl = sizeof(proto);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
                return false;
        if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) < 0 || proto != IPPROTO_TCP)
                return false;
        if (getpeername(fd, (struct sockaddr *) &ss, &sl) < 0)
                return false;
        return ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}
