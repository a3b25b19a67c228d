/* SPDX-License-Identifier: MIT */
/* log.c's journal sink: the fields of a record, byte for byte, and stderr
 * when the journal does not take it. */

#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "tests.h"

static char dir[] = "/tmp/test-log-XXXXXX";
static char path[128];

static int bind_dgram(const char *p) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(strlen(p) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, p);
        ASSERT_OK(bind(fd, (struct sockaddr *) &sa, sizeof(sa)));
        return fd;
}

static size_t recv_datagram(int fd, char *buf, size_t size) {
        ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT | MSG_TRUNC);

        ASSERT_TRUE(n >= 0);
        ASSERT_TRUE((size_t) n < size - 1);
        buf[n] = 0;
        return (size_t) n;
}

static void assert_no_datagram(int fd) {
        char c;
        ASSERT_INT_EQ(recv(fd, &c, 1, MSG_DONTWAIT), -1);
        ASSERT_INT_EQ(errno, EAGAIN);
}

TEST(journal_record) {
        char buf[8192], want[2048];
        size_t n;
        int fd, line, r;

        fd = bind_dgram(path);
        log_set_journal_socket(path);

        line = __LINE__ + 1;
        r = log_struct(LOG_WARNING, ((LogField[]) { { "CALLER", "alice" }, { "SKIPPED", NULL }, { "PATH", "a\nb\\c" }, {} }),
                       "hello %s", "world\n");
        ASSERT_INT_EQ(r, 0);
        n = recv_datagram(fd, buf, sizeof(buf));
        /* Control characters are escaped, so every field is a plain one. */
        snprintf(want, sizeof(want),
                 "MESSAGE=hello world\\n\n"
                 "PRIORITY=4\n"
                 "TAILKITD_COMPONENT=test\n"
                 "SYSLOG_IDENTIFIER=tailkitd-test\n"
                 "CODE_FILE=%s\n"
                 "CODE_LINE=%d\n"
                 "CODE_FUNC=test_journal_record\n"
                 "TAILKITD_CALLER=alice\n"
                 "TAILKITD_PATH=a\\nb\\\\c\n",
                 __FILE__, line);
        ASSERT_INT_EQ(n, strlen(want));
        ASSERT_STREQ(buf, want);

        line = __LINE__ + 1;
        r = log_error_errno(EACCES, "Cannot open %s: %m", "x");
        ASSERT_INT_EQ(r, -EACCES);
        recv_datagram(fd, buf, sizeof(buf));
        snprintf(want, sizeof(want),
                 "MESSAGE=Cannot open x: Permission denied\n"
                 "PRIORITY=3\n"
                 "TAILKITD_COMPONENT=test\n"
                 "SYSLOG_IDENTIFIER=tailkitd-test\n"
                 "CODE_FILE=%s\n"
                 "CODE_LINE=%d\n"
                 "CODE_FUNC=test_journal_record\n"
                 "ERRNO=13\n",
                 __FILE__, line);
        ASSERT_STREQ(buf, want);

        /* Below the level: nothing. */
        log_debug("not logged");
        assert_no_datagram(fd);

        close(fd);
        ASSERT_OK(unlink(path));
}

/* Runs one log call with stderr on a pipe; returns what it wrote. */
static char *stderr_of_log(const char *msg) {
        static char buf[4096];
        int p[2], saved;
        ssize_t n;

        ASSERT_OK(pipe2(p, O_CLOEXEC));
        saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10);
        ASSERT_OK(saved);
        ASSERT_OK(dup2(p[1], STDERR_FILENO));
        log_struct(LOG_NOTICE, ((LogField[]) { { "CALLER", "bob" }, {} }), "%s", msg);
        ASSERT_OK(dup2(saved, STDERR_FILENO));
        close(saved);
        close(p[1]);
        n = read(p[0], buf, sizeof(buf) - 1);
        close(p[0]);
        ASSERT_TRUE(n >= 0);
        buf[n] = 0;
        return buf;
}

TEST(no_journal_falls_back_to_stderr) {
        int fd;

        /* Nothing at the path: the record is written to stderr instead. */
        log_set_journal_socket(path);
        ASSERT_STREQ(stderr_of_log("kept"), "info  test: kept CALLER=bob\n");

        /* And with a journal, stderr stays quiet. */
        fd = bind_dgram(path);
        ASSERT_STREQ(stderr_of_log("sent"), "");
        close(fd);
        ASSERT_OK(unlink(path));
}

int main(void) {
        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/journal", dir);
        ASSERT_OK(unsetenv("TAILKITD_ENV"));
        ASSERT_OK(setenv("TAILKITD_LOG", "journal", 1));
        log_setup("test");
        ASSERT_INT_EQ(log_get_target(), LOG_TARGET_JOURNAL);

        RUN(journal_record);
        RUN(no_journal_falls_back_to_stderr);

        ASSERT_OK(rmdir(dir));
        return 0;
}
