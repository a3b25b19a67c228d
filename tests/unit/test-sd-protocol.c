/* SPDX-License-Identifier: MIT */
/* sd-protocol.c: socket activation, readiness notification and the journal's
 * native protocol, against sockets of the test's own. */

#include <arpa/inet.h>
#include <endian.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "sd-protocol.h"
#include "tests.h"

static void set_listen_env(const char *pid, const char *fds) {
        if (pid)
                ASSERT_OK(setenv("LISTEN_PID", pid, 1));
        else
                ASSERT_OK(unsetenv("LISTEN_PID"));
        if (fds)
                ASSERT_OK(setenv("LISTEN_FDS", fds, 1));
        else
                ASSERT_OK(unsetenv("LISTEN_FDS"));
        ASSERT_OK(setenv("LISTEN_FDNAMES", "a:b", 1));
}

static void assert_listen_env_unset(void) {
        ASSERT_NULL(getenv("LISTEN_PID"));
        ASSERT_NULL(getenv("LISTEN_FDS"));
        ASSERT_NULL(getenv("LISTEN_FDNAMES"));
}

static char *own_pid(int delta) {
        static char buf[32];
        snprintf(buf, sizeof(buf), "%d", (int) getpid() + delta);
        return buf;
}

/* Puts a socket without FD_CLOEXEC at fd target, as systemd passes them. */
static void place_socket(int target) {
        int s = socket(AF_INET, SOCK_STREAM, 0);

        ASSERT_TRUE(s >= 0);
        if (s != target) {
                ASSERT_INT_EQ(dup2(s, target), target);
                close(s);
        }
        ASSERT_FALSE(fcntl(target, F_GETFD) & FD_CLOEXEC);
}

TEST(listen_fds_none) {
        set_listen_env(NULL, "2");
        ASSERT_INT_EQ(listen_fds_take(), 0);
        assert_listen_env_unset();

        set_listen_env(own_pid(0), NULL);
        ASSERT_INT_EQ(listen_fds_take(), 0);
        assert_listen_env_unset();

        set_listen_env(own_pid(0), "0");
        ASSERT_INT_EQ(listen_fds_take(), 0);
        assert_listen_env_unset();
}

TEST(listen_fds_pid_mismatch) {
        /* Meant for another process: 0, the fds untouched, the variables gone. */
        place_socket(3);
        set_listen_env(own_pid(1), "1");
        ASSERT_INT_EQ(listen_fds_take(), 0);
        assert_listen_env_unset();
        ASSERT_FALSE(fcntl(3, F_GETFD) & FD_CLOEXEC);
        close(3);
}

TEST(listen_fds_invalid) {
        static const char *bad[] = { "", "x", "-1", "+2", " 2", "2 ", "2x", "0x2" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                set_listen_env(bad[i], "1");
                ASSERT_INT_EQ(listen_fds_take(), -EINVAL);
                assert_listen_env_unset();
                set_listen_env(own_pid(0), bad[i]);
                ASSERT_INT_EQ(listen_fds_take(), -EINVAL);
                assert_listen_env_unset();
        }
        set_listen_env("99999999999999999999", "1");
        ASSERT_INT_EQ(listen_fds_take(), -ERANGE);
        assert_listen_env_unset();
        set_listen_env(own_pid(0), "4294967298");
        ASSERT_INT_EQ(listen_fds_take(), -ERANGE);
        assert_listen_env_unset();
        /* Bounded. */
        set_listen_env(own_pid(0), "257");
        ASSERT_INT_EQ(listen_fds_take(), -E2BIG);
        assert_listen_env_unset();
        /* A count beyond the fds actually open. */
        ASSERT_INT_EQ(fcntl(3, F_GETFD), -1);
        set_listen_env(own_pid(0), "1");
        ASSERT_INT_EQ(listen_fds_take(), -EBADF);
        assert_listen_env_unset();
}

TEST(listen_fds_match) {
        place_socket(3);
        place_socket(4);
        set_listen_env(own_pid(0), "2");
        ASSERT_INT_EQ(listen_fds_take(), 2);
        assert_listen_env_unset();
        ASSERT_TRUE(fcntl(3, F_GETFD) & FD_CLOEXEC);
        ASSERT_TRUE(fcntl(4, F_GETFD) & FD_CLOEXEC);
        /* Taken once: a second call finds nothing. */
        ASSERT_INT_EQ(listen_fds_take(), 0);
        close(3);
        close(4);
}

TEST(is_listening) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct sockaddr_un su = { .sun_family = AF_UNIX };
        socklen_t sl = sizeof(sa);
        int l, c, a, u, p[2], ul;

        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(bind(l, (struct sockaddr *) &sa, sizeof(sa)));
        /* Bound, not yet listening. */
        ASSERT_INT_EQ(socket_is_listening(l, AF_UNSPEC, SOCK_STREAM), 0);
        ASSERT_OK(listen(l, 1));
        ASSERT_INT_EQ(socket_is_listening(l, AF_UNSPEC, SOCK_STREAM), 1);
        ASSERT_INT_EQ(socket_is_listening(l, AF_INET, SOCK_STREAM), 1);
        ASSERT_INT_EQ(socket_is_listening(l, AF_INET6, SOCK_STREAM), 0);
        ASSERT_INT_EQ(socket_is_listening(l, AF_UNSPEC, SOCK_SEQPACKET), 0);

        ASSERT_OK(getsockname(l, (struct sockaddr *) &sa, &sl));
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(connect(c, (struct sockaddr *) &sa, sizeof(sa)));
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        ASSERT_OK(a);
        ASSERT_INT_EQ(socket_is_listening(c, AF_UNSPEC, SOCK_STREAM), 0);
        ASSERT_INT_EQ(socket_is_listening(a, AF_UNSPEC, SOCK_STREAM), 0);

        u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(bind(u, (struct sockaddr *) &(struct sockaddr_in) {
                .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, sizeof(sa)));
        ASSERT_INT_EQ(socket_is_listening(u, AF_UNSPEC, SOCK_STREAM), 0);
        ASSERT_INT_EQ(socket_is_listening(u, AF_UNSPEC, SOCK_DGRAM), 0);

        /* What a worker is passed: a listening AF_UNIX SOCK_SEQPACKET socket. */
        ul = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        snprintf(su.sun_path + 1, sizeof(su.sun_path) - 1, "tailkitd-test-seq-%d", (int) getpid());
        ASSERT_OK(bind(ul, (struct sockaddr *) &su,
                       (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(su.sun_path + 1))));
        ASSERT_OK(listen(ul, 1));
        ASSERT_INT_EQ(socket_is_listening(ul, AF_UNIX, SOCK_SEQPACKET), 1);
        ASSERT_INT_EQ(socket_is_listening(ul, AF_INET, SOCK_SEQPACKET), 0);
        ASSERT_INT_EQ(socket_is_listening(ul, AF_UNIX, SOCK_STREAM), 0);

        /* Not sockets. */
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_INT_EQ(socket_is_listening(p[0], AF_UNSPEC, SOCK_STREAM), 0);
        ASSERT_INT_EQ(socket_is_listening(-1, AF_UNSPEC, SOCK_STREAM), -EBADF);
        ASSERT_INT_EQ(socket_is_listening(987654, AF_UNSPEC, SOCK_STREAM), -EBADF);

        close(p[0]);
        close(p[1]);
        close(ul);
        close(u);
        close(a);
        close(c);
        close(l);
}

/* A datagram socket bound at path (a file) or, when path starts with '@',
 * at that abstract name. */
static int bind_dgram(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t l = strlen(path);
        socklen_t sl;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(l < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, l);
        if (path[0] == '@') {
                sa.sun_path[0] = 0;
                sl = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l);
        } else
                sl = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l + 1);
        ASSERT_OK(bind(fd, (struct sockaddr *) &sa, sl));
        return fd;
}

/* One datagram, whole (never truncated), without waiting. */
static size_t recv_datagram(int fd, char *buf, size_t size) {
        ssize_t n = recv(fd, buf, size, MSG_DONTWAIT | MSG_TRUNC);

        ASSERT_TRUE(n >= 0);
        ASSERT_TRUE((size_t) n < size);
        return (size_t) n;
}

static void assert_no_datagram(int fd) {
        char c;
        ASSERT_INT_EQ(recv(fd, &c, 1, MSG_DONTWAIT), -1);
        ASSERT_INT_EQ(errno, EAGAIN);
}

static void check_notify(const char *address, int receiver) {
        static const char state[] = "READY=1\nSTATUS=Dispatching connections";
        char buf[256];

        ASSERT_OK(setenv("NOTIFY_SOCKET", address, 1));
        ASSERT_INT_EQ(notify_send(state), 1);
        ASSERT_INT_EQ(recv_datagram(receiver, buf, sizeof(buf)), strlen(state));
        ASSERT_TRUE(memcmp(buf, state, strlen(state)) == 0);
        ASSERT_INT_EQ(notify_send("STOPPING=1"), 1);
        ASSERT_INT_EQ(recv_datagram(receiver, buf, sizeof(buf)), 10);
        ASSERT_TRUE(memcmp(buf, "STOPPING=1", 10) == 0);
        assert_no_datagram(receiver);
        /* Left set: children of a service may notify too (NotifyAccess=all). */
        ASSERT_STREQ(getenv("NOTIFY_SOCKET"), address);
}

TEST(notify) {
        char dir[] = "/tmp/test-sd-protocol-XXXXXX", path[128], abstract[64], toolong[200];
        int fd, before = count_fds();

        ASSERT_OK(unsetenv("NOTIFY_SOCKET"));
        ASSERT_INT_EQ(notify_send("READY=1"), 0);

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/notify", dir);
        fd = bind_dgram(path);
        check_notify(path, fd);
        close(fd);

        snprintf(abstract, sizeof(abstract), "@tailkitd-test-notify-%d", (int) getpid());
        fd = bind_dgram(abstract);
        check_notify(abstract, fd);
        close(fd);

        ASSERT_INT_EQ(notify_send(""), -EINVAL);
        ASSERT_INT_EQ(notify_send(NULL), -EINVAL);
        /* Nobody bound there any more. */
        ASSERT_INT_EQ(notify_send("READY=1"), -ECONNREFUSED);
        ASSERT_OK(unlink(path));
        ASSERT_OK(setenv("NOTIFY_SOCKET", path, 1));
        ASSERT_INT_EQ(notify_send("READY=1"), -ENOENT);
        ASSERT_OK(setenv("NOTIFY_SOCKET", "relative/path", 1));
        ASSERT_INT_EQ(notify_send("READY=1"), -EAFNOSUPPORT);
        ASSERT_OK(setenv("NOTIFY_SOCKET", "@", 1));
        ASSERT_INT_EQ(notify_send("READY=1"), -EINVAL);
        memset(toolong, 'a', sizeof(toolong) - 1);
        toolong[0] = '/';
        toolong[sizeof(toolong) - 1] = 0;
        ASSERT_OK(setenv("NOTIFY_SOCKET", toolong, 1));
        ASSERT_INT_EQ(notify_send("READY=1"), -EINVAL);
        toolong[0] = '@';
        ASSERT_OK(setenv("NOTIFY_SOCKET", toolong, 1));
        ASSERT_INT_EQ(notify_send("READY=1"), -EINVAL);
        ASSERT_OK(unsetenv("NOTIFY_SOCKET"));

        ASSERT_INT_EQ(count_fds(), before);     /* one socket per call, closed */
        ASSERT_OK(rmdir(dir));
}

#define IOV(s) ((struct iovec) { (void *) (s), sizeof(s) - 1 })

TEST(journal_fields) {
        char dir[] = "/tmp/test-sd-protocol-XXXXXX", path[128], buf[4096];
        static const char multi[] = "MESSAGE=first line\nsecond line\n";
        static const char nul[] = "TAILKITD_NUL=a\0b";
        struct iovec fields[] = {
                IOV("PRIORITY=6"),
                IOV(multi),
                IOV("EMPTY="),
                IOV("TAILKITD_EQ=a=b"),
                IOV(nul),
                IOV("NL=\n"),
        };
        char want[512];
        size_t wn = 0, n;
        uint64_t le;
        int fd, before;

#define WANT(p, l) do { memcpy(want + wn, (p), (l)); wn += (l); } while (0)
#define WANT_S(s) WANT(s, sizeof(s) - 1)
        WANT_S("PRIORITY=6\n");
        WANT_S("MESSAGE\n");
        le = htole64(sizeof("first line\nsecond line\n") - 1);
        WANT(&le, 8);
        WANT_S("first line\nsecond line\n");
        WANT_S("\n");
        WANT_S("EMPTY=\n");
        WANT_S("TAILKITD_EQ=a=b\n");
        WANT_S("TAILKITD_NUL=a\0b\n");
        WANT_S("NL\n");
        WANT_S("\x01\0\0\0\0\0\0\0");
        WANT_S("\n\n");
#undef WANT
#undef WANT_S

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/journal", dir);
        fd = bind_dgram(path);

        /* The first call opens the socket; it is kept (and CLOEXEC). */
        ASSERT_OK(journal_send(path, fields, ELEMENTSOF(fields)));
        n = recv_datagram(fd, buf, sizeof(buf));
        ASSERT_INT_EQ(n, wn);
        ASSERT_TRUE(memcmp(buf, want, wn) == 0);
        assert_no_datagram(fd);

        before = count_fds();
        for (int i = 0; i < 3; i++) {
                ASSERT_OK(journal_send(path, fields, 1));
                n = recv_datagram(fd, buf, sizeof(buf));
                ASSERT_INT_EQ(n, 11);
                ASSERT_TRUE(memcmp(buf, "PRIORITY=6\n", 11) == 0);
        }
        ASSERT_INT_EQ(count_fds(), before);

        /* Abstract addresses work too. */
        {
                char abstract[64];
                int afd;

                snprintf(abstract, sizeof(abstract), "@tailkitd-test-journal-%d", (int) getpid());
                afd = bind_dgram(abstract);
                ASSERT_OK(journal_send(abstract, &fields[2], 1));
                ASSERT_INT_EQ(recv_datagram(afd, buf, sizeof(buf)), 7);
                ASSERT_TRUE(memcmp(buf, "EMPTY=\n", 7) == 0);
                close(afd);
        }

        close(fd);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
}

TEST(journal_errors) {
        char dir[] = "/tmp/test-sd-protocol-XXXXXX", path[128];
        struct iovec ok = IOV("MESSAGE=x");
        struct iovec many[JOURNAL_FIELDS_MAX + 1];
        int fd;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/journal", dir);

        /* No journal listening: the caller is told. */
        ASSERT_INT_EQ(journal_send(path, &ok, 1), -ENOENT);
        ASSERT_INT_EQ(journal_send("relative", &ok, 1), -EAFNOSUPPORT);

        fd = bind_dgram(path);
        ASSERT_INT_EQ(journal_send(path, &ok, 0), -EINVAL);
        ASSERT_INT_EQ(journal_send(path, &IOV("NOEQUALS"), 1), -EINVAL);
        ASSERT_INT_EQ(journal_send(path, &IOV("=value"), 1), -EINVAL);
        ASSERT_INT_EQ(journal_send(path, &IOV("A\nB=value"), 1), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = ok;
        ASSERT_INT_EQ(journal_send(path, many, ELEMENTSOF(many)), -E2BIG);
        ASSERT_OK(journal_send(path, many, JOURNAL_FIELDS_MAX));
        {
                char buf[1024];
                ASSERT_INT_EQ(recv_datagram(fd, buf, sizeof(buf)), JOURNAL_FIELDS_MAX * 10);
        }
        assert_no_datagram(fd);

        /* A record above the socket's send buffer (2 × min(8 MiB,
         * net.core.wmem_max)) does not fit one datagram: EMSGSIZE. */
        {
                FILE *f = fopen("/proc/sys/net/core/wmem_max", "re");
                unsigned long wmem_max = 0;
                size_t size;
                char *big;

                ASSERT_NOT_NULL(f);
                ASSERT_INT_EQ(fscanf(f, "%lu", &wmem_max), 1);
                fclose(f);
                size = 2 * MIN(wmem_max, 8UL * 1024 * 1024) + 4096;
                big = malloc(size);
                ASSERT_NOT_NULL(big);
                memcpy(big, "MESSAGE=", 8);
                memset(big + 8, 'x', size - 8);
                ASSERT_INT_EQ(journal_send(path, &(struct iovec) { big, size }, 1), -EMSGSIZE);
                free(big);
        }
        assert_no_datagram(fd);

        close(fd);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
}

int main(void) {
        int saved[2];

        /* The listen tests use fds 3 and 4 (LISTEN_FDS_START): whatever the
         * test runner left there is moved away meanwhile. */
        for (int i = 0; i < 2; i++) {
                saved[i] = fcntl(3 + i, F_DUPFD_CLOEXEC, 100);
                if (saved[i] >= 0)
                        close(3 + i);
        }
        RUN(listen_fds_none);
        RUN(listen_fds_pid_mismatch);
        RUN(listen_fds_invalid);
        RUN(listen_fds_match);
        for (int i = 0; i < 2; i++)
                if (saved[i] >= 0) {
                        ASSERT_INT_EQ(dup2(saved[i], 3 + i), 3 + i);
                        close(saved[i]);
                }

        RUN(is_listening);
        RUN(notify);
        RUN(journal_fields);
        RUN(journal_errors);
        return 0;
}
