/* SPDX-License-Identifier: MIT */
/* fdpass.c: handing connections to workers over SOCK_SEQPACKET + SCM_RIGHTS. */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdpass.h"
#include "macro.h"
#include "tests.h"

static void make_pair(int sv[2]) {
        ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
}

/* True when every write end of the pipe is closed: read gives EOF at once. */
static bool pipe_at_eof(int read_fd) {
        char c;
        int flags = fcntl(read_fd, F_GETFL);
        ssize_t n;

        ASSERT_OK(fcntl(read_fd, F_SETFL, flags | O_NONBLOCK));
        n = read(read_fd, &c, 1);
        ASSERT_OK(fcntl(read_fd, F_SETFL, flags));
        return n == 0;
}

/* Sends one message with a one-byte payload and n fds in one SCM_RIGHTS
 * header (split = false) or one header per fd (split = true). */
static void send_fds(int sock, const int *fds, size_t n, bool split) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 8) * 8];
        } control;
        char byte = 'F';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
        };
        struct cmsghdr *c;

        ASSERT_TRUE(n >= 1 && n <= 8);
        memset(&control, 0, sizeof(control));
        if (!split) {
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        } else {
                mh.msg_controllen = CMSG_SPACE(sizeof(int)) * n;
                c = CMSG_FIRSTHDR(&mh);
                for (size_t i = 0; i < n; i++) {
                        ASSERT_NOT_NULL(c);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(c), &fds[i], sizeof(int));
                        c = CMSG_NXTHDR(&mh, c);
                }
        }
        ASSERT_INT_EQ(sendmsg(sock, &mh, MSG_NOSIGNAL), 1);
}

TEST(send_recv_pipe) {
        int sv[2], p[2], fd = -42, before;
        char buf[16] = "";

        make_pair(sv);
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        before = count_fds();

        ASSERT_OK(fd_send(sv[0], p[1]));
        ASSERT_OK(close(p[1]));                 /* only the passed copy remains */
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), 1);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(fd != p[0] && fd != sv[0] && fd != sv[1]);
        ASSERT_INT_EQ(count_fds(), before);     /* -1 (p[1]) +1 (fd) */

        /* The received fd is the pipe's write end. */
        ASSERT_INT_EQ(write(fd, "hello", 5), 5);
        ASSERT_INT_EQ(read(p[0], buf, sizeof(buf) - 1), 5);
        ASSERT_STREQ(buf, "hello");

        /* O_CLOEXEC, and it is a write-only pipe end. */
        ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        ASSERT_INT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);

        ASSERT_OK(close(fd));
        ASSERT_TRUE(pipe_at_eof(p[0]));
        close(p[0]);
        close(sv[0]);
        close(sv[1]);
}

TEST(cloexec_even_without_sender_cloexec) {
        int sv[2], p[2], fd = -1;

        make_pair(sv);
        ASSERT_OK(pipe(p));                     /* no O_CLOEXEC on the sender's side */
        ASSERT_FALSE(fcntl(p[1], F_GETFD) & FD_CLOEXEC);
        ASSERT_OK(fd_send(sv[0], p[1]));
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), 1);
        ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
        close(p[0]);
        close(p[1]);
        close(sv[0]);
        close(sv[1]);
}

TEST(several_messages_in_order) {
        int sv[2], p[3][2], fd;
        char c;

        make_pair(sv);
        for (int i = 0; i < 3; i++) {
                ASSERT_OK(pipe2(p[i], O_CLOEXEC));
                ASSERT_OK(fd_send(sv[0], p[i][1]));
                close(p[i][1]);
        }
        for (int i = 0; i < 3; i++) {
                char w = (char) ('a' + i);
                fd = -1;
                ASSERT_INT_EQ(fd_recv(sv[1], &fd), 1);
                ASSERT_INT_EQ(write(fd, &w, 1), 1);
                close(fd);
                ASSERT_INT_EQ(read(p[i][0], &c, 1), 1);
                ASSERT_INT_EQ(c, w);
                ASSERT_TRUE(pipe_at_eof(p[i][0]));
                close(p[i][0]);
        }
        close(sv[0]);
        close(sv[1]);
}

TEST(message_without_fd) {
        int sv[2], fd = 1234, before;

        make_pair(sv);
        before = count_fds();
        ASSERT_INT_EQ(send(sv[0], "x", 1, 0), 1);
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), -EBADMSG);
        ASSERT_INT_EQ(fd, -1);
        ASSERT_INT_EQ(count_fds(), before);

        /* The stream goes on after the bad message. */
        {
                int p[2];
                ASSERT_OK(pipe2(p, O_CLOEXEC));
                ASSERT_OK(fd_send(sv[0], p[1]));
                ASSERT_INT_EQ(fd_recv(sv[1], &fd), 1);
                ASSERT_TRUE(fd >= 0);
                close(fd);
                close(p[0]);
                close(p[1]);
        }
        close(sv[0]);
        close(sv[1]);
}

static void check_extra_fds(size_t n, bool split) {
        int sv[2], p[8][2], fds[8], fd = 1234, before;

        fprintf(stderr, "   %zu fds, %s\n", n, split ? "one header each" : "one header");
        make_pair(sv);
        for (size_t i = 0; i < n; i++) {
                ASSERT_OK(pipe2(p[i], O_CLOEXEC));
                fds[i] = p[i][1];
        }
        send_fds(sv[0], fds, n, split);
        for (size_t i = 0; i < n; i++)
                ASSERT_OK(close(p[i][1]));      /* in flight only */

        before = count_fds();
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), -EBADMSG);
        ASSERT_INT_EQ(fd, -1);
        ASSERT_INT_EQ(count_fds(), before);     /* nothing leaked */
        for (size_t i = 0; i < n; i++) {
                ASSERT_TRUE(pipe_at_eof(p[i][0])); /* every passed copy closed */
                close(p[i][0]);
        }
        close(sv[0]);
        close(sv[1]);
}

TEST(message_with_two_fds) {
        check_extra_fds(2, false);
        check_extra_fds(2, true);
}

TEST(message_with_many_fds) {
        /* More than fd_recv's control buffer holds: MSG_CTRUNC. */
        check_extra_fds(4, false);
        check_extra_fds(5, false);
        check_extra_fds(8, false);
        check_extra_fds(8, true);
}

TEST(eof) {
        int sv[2], fd = 1234;

        make_pair(sv);
        close(sv[0]);
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), 0);
        ASSERT_INT_EQ(fd, -1);
        /* Stays at EOF. */
        fd = 1234;
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), 0);
        ASSERT_INT_EQ(fd, -1);
        close(sv[1]);
}

TEST(eof_after_pending_message) {
        int sv[2], p[2], fd = -1;

        make_pair(sv);
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_OK(fd_send(sv[0], p[1]));
        close(sv[0]);
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), 1);  /* queued message first */
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_INT_EQ(fd_recv(sv[1], &fd), 0);
        ASSERT_INT_EQ(fd, -1);
        close(p[0]);
        close(p[1]);
        close(sv[1]);
}

TEST(send_errors) {
        int sv[2], p[2];

        make_pair(sv);
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        /* A closed peer: EPIPE, and no SIGPIPE kills us (SIGPIPE is default here). */
        close(sv[1]);
        ASSERT_INT_EQ(fd_send(sv[0], p[1]), -EPIPE);
        /* Not a socket. */
        ASSERT_INT_EQ(fd_send(p[0], p[1]), -ENOTSOCK);
        /* Passing a bad fd. */
        ASSERT_TRUE(fd_send(sv[0], 987654) < 0);
        close(sv[0]);
        close(p[0]);
        close(p[1]);
}

TEST(recv_errors) {
        int p[2], fd = 1234;

        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_INT_EQ(fd_recv(p[0], &fd), -ENOTSOCK);
        ASSERT_INT_EQ(fd, -1);
        close(p[0]);
        close(p[1]);
}

TEST(seqpacket_connect) {
        char dir[] = "/tmp/test-fdpass-XXXXXX", path[128], missing[128], stale[128];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char longpath[sizeof(sa.sun_path) + 8];
        int l, c, a, p[2], fd = -1;
        char ch;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/worker.sock", dir);
        snprintf(missing, sizeof(missing), "%s/missing.sock", dir);
        snprintf(stale, sizeof(stale), "%s/stale.sock", dir);

        ASSERT_INT_EQ(seqpacket_connect(missing), -ENOENT);

        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = 0;
        ASSERT_INT_EQ(seqpacket_connect(longpath), -ENAMETOOLONG);

        /* Bound but not listening. */
        l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(l >= 0);
        strcpy(sa.sun_path, stale);
        ASSERT_OK(bind(l, (struct sockaddr *) &sa, sizeof(sa)));
        ASSERT_INT_EQ(seqpacket_connect(stale), -ECONNREFUSED);
        close(l);

        /* Bound and listening. */
        l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(l >= 0);
        strcpy(sa.sun_path, path);
        ASSERT_OK(bind(l, (struct sockaddr *) &sa, sizeof(sa)));
        ASSERT_OK(listen(l, 4));
        c = seqpacket_connect(path);
        ASSERT_OK(c);
        ASSERT_TRUE(fcntl(c, F_GETFD) & FD_CLOEXEC);
        {
                int type = 0;
                socklen_t sl = sizeof(type);
                ASSERT_OK(getsockopt(c, SOL_SOCKET, SO_TYPE, &type, &sl));
                ASSERT_INT_EQ(type, SOCK_SEQPACKET);
        }
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        ASSERT_OK(a);

        /* And an fd goes through the connection. */
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_OK(fd_send(c, p[1]));
        close(p[1]);
        ASSERT_INT_EQ(fd_recv(a, &fd), 1);
        ASSERT_INT_EQ(write(fd, "z", 1), 1);
        close(fd);
        ASSERT_INT_EQ(read(p[0], &ch, 1), 1);
        ASSERT_INT_EQ(ch, 'z');
        close(p[0]);

        /* The dispatcher closing its end is EOF for the worker. */
        close(c);
        ASSERT_INT_EQ(fd_recv(a, &fd), 0);
        ASSERT_INT_EQ(fd, -1);

        /* A stream socket at the path is the wrong type. */
        close(a);
        close(l);
        ASSERT_OK(unlink(path));
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(bind(l, (struct sockaddr *) &sa, sizeof(sa)));
        ASSERT_OK(listen(l, 4));
        c = seqpacket_connect(path);
        ASSERT_TRUE(c < 0);
        close(l);

        ASSERT_OK(unlink(path));
        ASSERT_OK(unlink(stale));
        ASSERT_OK(rmdir(dir));
}

/* A listener that never accepts: once its backlog is full, connecting
 * fails at once with EAGAIN instead of blocking the dispatcher. */
TEST(seqpacket_connect_full_backlog) {
        char dir[] = "/tmp/test-fdpass-XXXXXX", path[128];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int l, c[64], n = 0, r = 0;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/stuck.sock", dir);
        strcpy(sa.sun_path, path);
        l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_OK(bind(l, (struct sockaddr *) &sa, sizeof(sa)));
        ASSERT_OK(listen(l, 2));
        for (n = 0; n < (int) ELEMENTSOF(c); n++) {
                r = seqpacket_connect(path);
                if (r < 0)
                        break;
                c[n] = r;
        }
        ASSERT_INT_EQ(r, -EAGAIN);
        ASSERT_TRUE(n >= 2 && n < (int) ELEMENTSOF(c));
        while (n > 0)
                close(c[--n]);
        close(l);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
}

TEST(tcp_stream_only) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        int l, c, a, u, sv[2];

        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(bind(l, (struct sockaddr *) &sa, sizeof(sa)));
        ASSERT_OK(listen(l, 1));
        ASSERT_OK(getsockname(l, (struct sockaddr *) &sa, &sl));
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(connect(c, (struct sockaddr *) &sa, sizeof(sa)));
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        ASSERT_OK(a);
        ASSERT_TRUE(fd_is_tcp_stream(a));
        ASSERT_TRUE(fd_is_tcp_stream(c));
        ASSERT_FALSE(fd_is_tcp_stream(l));     /* listening: no peer */

        /* A connected UDP socket has a peer address, but no stream. */
        u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(connect(u, (struct sockaddr *) &sa, sizeof(sa)));
        ASSERT_FALSE(fd_is_tcp_stream(u));

        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
        ASSERT_FALSE(fd_is_tcp_stream(sv[0]));
        ASSERT_FALSE(fd_is_tcp_stream(-1));
        close(sv[0]);
        close(sv[1]);
        close(u);
        close(a);
        close(c);
        close(l);
}

int main(void) {
        int before = count_fds();

        RUN(send_recv_pipe);
        RUN(cloexec_even_without_sender_cloexec);
        RUN(several_messages_in_order);
        RUN(message_without_fd);
        RUN(message_with_two_fds);
        RUN(message_with_many_fds);
        RUN(eof);
        RUN(eof_after_pending_message);
        RUN(send_errors);
        RUN(recv_errors);
        RUN(seqpacket_connect);
        RUN(seqpacket_connect_full_backlog);
        RUN(tcp_stream_only);

        ASSERT_INT_EQ(count_fds(), before);
        return 0;
}
