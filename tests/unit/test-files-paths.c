/* SPDX-License-Identifier: MIT */
/* The files worker's path and upload code (src/files): path strings,
 * resolution beneath a rule's directory, uploads that leave nothing behind
 * unless committed, and the wire formats (Accept, Range, Go's FileMode). */

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base64.h"
#include "files-path.h"
#include "macro.h"
#include "tests.h"
#include "upload.h"
#include "wire.h"

static char root[] = "/tmp/test-files-paths-XXXXXX";
static int base_fd = -1;

static void make_tree(void) {
        char cmd[1024];

        ASSERT_NOT_NULL(mkdtemp(root));
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && mkdir -p base/sub base2 outside && echo in > base/sub/f && echo out > outside/secret && "
                 "echo sibling > base2/x && ln -s ../outside base/escape && ln -s /etc/passwd base/abs && "
                 "ln -s sub/f base/rel && ln -s sub base/subdir-link && ln -s ../base2/x base/sibling && "
                 "ln -s /proc/self/root base/procroot && mkfifo base/fifo && ln -s ../../outside base/sub/up2",
                 root);
        ASSERT_INT_EQ(system(cmd), 0);
        snprintf(cmd, sizeof(cmd), "%s/base", root);
        base_fd = open(cmd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(base_fd >= 0);
}

static void remove_tree(void) {
        char cmd[512];

        close(base_fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ASSERT_INT_EQ(system(cmd), 0);
}

static int check(const char *p) {
        const char *why = NULL;
        int e = files_path_check(p, strlen(p), &why);

        if (e < 0)
                ASSERT_NOT_NULL(why);
        return e;
}

TEST(path_check) {
        char long_name[NAME_MAX + 3], long_path[PATH_MAX + 2];
        const char *why;

        ASSERT_OK(check("/srv/app/x.conf"));
        ASSERT_OK(check("/srv/app/"));
        ASSERT_OK(check("/srv/app/.hidden"));
        ASSERT_OK(check("/srv/app/..x"));
        ASSERT_OK(check("/srv/app/x%2e%2e"));    /* a name with percent signs: just a name */
        ASSERT_INT_EQ(check(""), -EINVAL);
        ASSERT_INT_EQ(check("srv/app"), -EINVAL);
        ASSERT_INT_EQ(check("/srv/app/../etc"), -EINVAL);
        ASSERT_INT_EQ(check("/srv/app/.."), -EINVAL);
        ASSERT_INT_EQ(check("/srv/app/./x"), -EINVAL);
        ASSERT_INT_EQ(check("/srv/app/."), -EINVAL);
        ASSERT_INT_EQ(check("/srv//app"), -EINVAL);
        ASSERT_INT_EQ(check("//srv/app"), -EINVAL);
        ASSERT_INT_EQ(check("/srv/app/a%00b"), -EINVAL);
        ASSERT_INT_EQ(check("/srv/app/a\nb"), -EINVAL);
        ASSERT_INT_EQ(check("/srv/app/a\x7f"), -EINVAL);
        ASSERT_INT_EQ(files_path_check("/srv/a\0b", 8, &why), -EINVAL);
        ASSERT_STREQ(why, "the path contains a NUL byte");

        long_name[0] = '/';
        memset(long_name + 1, 'a', NAME_MAX + 1);
        long_name[NAME_MAX + 2] = 0;
        ASSERT_INT_EQ(check(long_name), -EINVAL);
        long_name[NAME_MAX + 1] = 0;             /* exactly NAME_MAX */
        ASSERT_OK(check(long_name));
        for (size_t i = 0; i < sizeof(long_path) - 1; i++)
                long_path[i] = i % 100 == 0 ? '/' : 'a';
        long_path[sizeof(long_path) - 1] = 0;
        ASSERT_INT_EQ(check(long_path), -EINVAL);
}

TEST(relative_and_split) {
        FilesRule rule = { .dir = (char *) "/srv/app/" };
        _cleanup_free_ char *dir = NULL;
        const char *name;

        ASSERT_STREQ(files_path_relative(&rule, "/srv/app/a/b"), "a/b");
        ASSERT_STREQ(files_path_relative(&rule, "/srv/app/"), ".");
        ASSERT_STREQ(files_path_relative(&rule, "/srv/app"), ".");
        ASSERT_OK(files_path_split("a/b/c", &dir, &name));
        ASSERT_STREQ(dir, "a/b");
        ASSERT_STREQ(name, "c");
        free(dir);
        dir = NULL;
        ASSERT_OK(files_path_split("c", &dir, &name));
        ASSERT_STREQ(dir, ".");
        ASSERT_STREQ(name, "c");
        ASSERT_INT_EQ(files_path_split(".", &dir, &name), -EISDIR);
        ASSERT_INT_EQ(files_path_split("a/", &dir, &name), -EISDIR);
}

TEST(open_regular) {
        struct stat st;
        int fd;

        fd = files_open_regular(base_fd, "sub/f", &st);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT_EQ(st.st_size, 3);
        close(fd);
        /* A link inside pointing inside is followed. */
        fd = files_open_regular(base_fd, "rel", &st);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        fd = files_open_regular(base_fd, "subdir-link/f", &st);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        /* Everything leaving the directory is refused. */
        ASSERT_INT_EQ(files_open_regular(base_fd, "escape/secret", &st), -EXDEV);
        ASSERT_INT_EQ(files_open_regular(base_fd, "abs", &st), -EXDEV);
        ASSERT_INT_EQ(files_open_regular(base_fd, "sibling", &st), -EXDEV);
        ASSERT_INT_EQ(files_open_regular(base_fd, "sub/up2/secret", &st), -EXDEV);
        ASSERT_INT_EQ(files_open_regular(base_fd, "../outside/secret", &st), -EXDEV);
        ASSERT_INT_EQ(files_open_regular(base_fd, "/etc/passwd", &st), -EXDEV);
        fd = files_open_regular(base_fd, "procroot/etc/passwd", &st);
        ASSERT_TRUE(fd == -EXDEV || fd == -ELOOP);
        /* Not regular files. */
        ASSERT_INT_EQ(files_open_regular(base_fd, "fifo", &st), -ENODEV);
        ASSERT_INT_EQ(files_open_regular(base_fd, "sub", &st), -EISDIR);
        ASSERT_INT_EQ(files_open_regular(base_fd, "missing", &st), -ENOENT);
        ASSERT_INT_EQ(files_open_regular(base_fd, "sub/f/x", &st), -ENOTDIR);
        if (geteuid() == 0) {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/base/null", root);
                ASSERT_OK(mknod(p, S_IFCHR | 0666, makedev(1, 3)));
                ASSERT_INT_EQ(files_open_regular(base_fd, "null", &st), -ENODEV);
                ASSERT_OK(unlink(p));
        }
}

TEST(make_directory) {
        char p[PATH_MAX];
        struct stat st;
        int fd;

        fd = files_make_directory(base_fd, "new/deeper/still");
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(p, sizeof(p), "%s/base/new/deeper", root);
        ASSERT_OK(stat(p, &st));
        ASSERT_INT_EQ(st.st_mode & 07777, 0755);
        /* Through a link inside: fine. Through one leaving: refused, nothing made. */
        fd = files_make_directory(base_fd, "subdir-link/made");
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(p, sizeof(p), "%s/base/sub/made", root);
        ASSERT_OK(stat(p, &st));
        ASSERT_INT_EQ(files_make_directory(base_fd, "escape/made"), -EXDEV);
        snprintf(p, sizeof(p), "%s/outside/made", root);
        ASSERT_INT_EQ(stat(p, &st), -1);
        ASSERT_INT_EQ(files_make_directory(base_fd, "sub/f/x"), -ENOTDIR);
}

static size_t count_entries(const char *dir) {
        char cmd[512];
        FILE *f;
        size_t n = 0;
        int c;

        snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
        f = popen(cmd, "r");
        ASSERT_NOT_NULL(f);
        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        pclose(f);
        return n;
}

static void read_back(const char *rel, char *buf, size_t size) {
        struct stat st;
        int fd = files_open_regular(base_fd, rel, &st);
        ssize_t n;

        ASSERT_TRUE(fd >= 0);
        n = read(fd, buf, size - 1);
        ASSERT_TRUE(n >= 0);
        buf[n] = 0;
        close(fd);
}

TEST(upload) {
        Upload u;
        char p[PATH_MAX], dir[PATH_MAX], buf[64];
        struct stat st;
        size_t before;

        /* A new file: 0644, parents made. */
        ASSERT_OK(upload_begin(&u, base_fd, "up/one.txt", 1024));
        ASSERT_OK(upload_write(&u, "hello ", 6));
        ASSERT_OK(upload_write(&u, "world", 5));
        snprintf(p, sizeof(p), "%s/base/up/one.txt", root);
        ASSERT_INT_EQ(stat(p, &st), -1);         /* nothing visible before the commit */
        ASSERT_OK(upload_commit(&u));
        upload_done(&u);
        ASSERT_OK(stat(p, &st));
        ASSERT_INT_EQ(st.st_mode & 07777, 0644);
        read_back("up/one.txt", buf, sizeof(buf));
        ASSERT_STREQ(buf, "hello world");

        /* Replacing keeps the mode (and owner). */
        ASSERT_OK(chmod(p, 0600));
        ASSERT_OK(upload_begin(&u, base_fd, "up/one.txt", 1024));
        ASSERT_OK(upload_write(&u, "v2", 2));
        ASSERT_OK(upload_commit(&u));
        upload_done(&u);
        ASSERT_OK(stat(p, &st));
        ASSERT_INT_EQ(st.st_mode & 07777, 0600);
        read_back("up/one.txt", buf, sizeof(buf));
        ASSERT_STREQ(buf, "v2");

        /* Abandoned: the old file stays, no temp file is left. */
        snprintf(dir, sizeof(dir), "%s/base/up", root);
        before = count_entries(dir);
        ASSERT_OK(upload_begin(&u, base_fd, "up/one.txt", 1024));
        ASSERT_OK(upload_write(&u, "partial", 7));
        upload_done(&u);
        ASSERT_INT_EQ(count_entries(dir), before);
        read_back("up/one.txt", buf, sizeof(buf));
        ASSERT_STREQ(buf, "v2");

        /* max_size. */
        ASSERT_OK(upload_begin(&u, base_fd, "up/big", 4));
        ASSERT_OK(upload_write(&u, "1234", 4));
        ASSERT_INT_EQ(upload_write(&u, "5", 1), -EFBIG);
        upload_done(&u);
        ASSERT_INT_EQ(count_entries(dir), before);

        /* Refusals. */
        /* Free space: a body no disk can hold is refused before a byte
         * of it is written; a small one is not (upload_check_space). */
        ASSERT_OK(upload_begin(&u, base_fd, "up/space", UINT64_MAX));
        ASSERT_INT_EQ(upload_check_space(&u, UINT64_C(1) << 62), -ENOSPC);
        ASSERT_OK(upload_check_space(&u, 4096));
        ASSERT_OK(upload_check_space(&u, 0));
        upload_done(&u);
        ASSERT_INT_EQ(faccessat(base_fd, "up/space", F_OK, 0), -1);

        ASSERT_INT_EQ(upload_begin(&u, base_fd, "escape/x", 10), -EXDEV);
        upload_done(&u);
        ASSERT_INT_EQ(upload_begin(&u, base_fd, "rel", 10), -EMLINK);
        upload_done(&u);
        ASSERT_INT_EQ(upload_begin(&u, base_fd, "sub", 10), -EISDIR);
        upload_done(&u);
        ASSERT_INT_EQ(upload_begin(&u, base_fd, "fifo", 10), -ENODEV);
        upload_done(&u);
        ASSERT_INT_EQ(upload_begin(&u, base_fd, "sub/", 10), -EISDIR);
        upload_done(&u);
        snprintf(p, sizeof(p), "%s/outside/x", root);
        ASSERT_INT_EQ(stat(p, &st), -1);

        /* Through a link inside the directory: written where it points. */
        ASSERT_OK(upload_begin(&u, base_fd, "subdir-link/via-link", 10));
        ASSERT_OK(upload_write(&u, "ok", 2));
        ASSERT_OK(upload_commit(&u));
        upload_done(&u);
        snprintf(p, sizeof(p), "%s/base/sub/via-link", root);
        ASSERT_OK(stat(p, &st));
}

TEST(wire) {
        uint64_t start, len;
        char mode[16], t[64];
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 120000000 };
        _cleanup_free_ char *b = NULL;

        ASSERT_FALSE(files_accept_raw(NULL));
        ASSERT_FALSE(files_accept_raw("*/*"));
        ASSERT_FALSE(files_accept_raw("application/json"));
        ASSERT_TRUE(files_accept_raw("application/octet-stream"));
        ASSERT_TRUE(files_accept_raw("text/html, Application/Octet-Stream;q=0.9"));
        ASSERT_FALSE(files_accept_raw("application/json, application/octet-stream"));
        ASSERT_TRUE(files_accept_raw("application/octet-stream , application/json"));

        ASSERT_INT_EQ(files_parse_range(NULL, 100, &start, &len), 0);
        ASSERT_INT_EQ(files_parse_range("bytes=0-9", 100, &start, &len), 1);
        ASSERT_INT_EQ(start, 0);
        ASSERT_INT_EQ(len, 10);
        ASSERT_INT_EQ(files_parse_range("bytes=90-", 100, &start, &len), 1);
        ASSERT_INT_EQ(start, 90);
        ASSERT_INT_EQ(len, 10);
        ASSERT_INT_EQ(files_parse_range("bytes=90-500", 100, &start, &len), 1);
        ASSERT_INT_EQ(len, 10);
        ASSERT_INT_EQ(files_parse_range("bytes=-5", 100, &start, &len), 1);
        ASSERT_INT_EQ(start, 95);
        ASSERT_INT_EQ(len, 5);
        ASSERT_INT_EQ(files_parse_range("bytes=-500", 100, &start, &len), 1);
        ASSERT_INT_EQ(start, 0);
        ASSERT_INT_EQ(len, 100);
        ASSERT_INT_EQ(files_parse_range("bytes=100-", 100, &start, &len), -ERANGE);
        ASSERT_INT_EQ(files_parse_range("bytes=-0", 100, &start, &len), -ERANGE);
        ASSERT_INT_EQ(files_parse_range("bytes=0-0", 0, &start, &len), -ERANGE);
        ASSERT_INT_EQ(files_parse_range("bytes=5-1", 100, &start, &len), 0);
        ASSERT_INT_EQ(files_parse_range("bytes=0-1,5-6", 100, &start, &len), 0);
        ASSERT_INT_EQ(files_parse_range("items=0-1", 100, &start, &len), 0);
        ASSERT_INT_EQ(files_parse_range("bytes=x-1", 100, &start, &len), 0);
        ASSERT_INT_EQ(files_parse_range("bytes=1-2x", 100, &start, &len), 0);
        ASSERT_INT_EQ(files_parse_range("bytes=99999999999999999999-", 100, &start, &len), 0);

        files_mode_string(S_IFREG | 0644, mode);
        ASSERT_STREQ(mode, "-rw-r--r--");
        files_mode_string(S_IFDIR | 0755, mode);
        ASSERT_STREQ(mode, "drwxr-xr-x");
        files_mode_string(S_IFLNK | 0777, mode);
        ASSERT_STREQ(mode, "Lrwxrwxrwx");
        files_mode_string(S_IFDIR | S_ISVTX | 0777, mode);
        ASSERT_STREQ(mode, "dtrwxrwxrwx");
        files_mode_string(S_IFREG | S_ISUID | 0755, mode);
        ASSERT_STREQ(mode, "urwxr-xr-x");
        files_mode_string(S_IFCHR | 0666, mode);
        ASSERT_STREQ(mode, "Dcrw-rw-rw-");
        files_mode_string(S_IFIFO | 0600, mode);
        ASSERT_STREQ(mode, "prw-------");

        setenv("TZ", "UTC", 1);
        tzset();
        files_format_time(&ts, t);
        ASSERT_STREQ(t, "1970-01-01T00:00:00.12Z");
        ts.tv_nsec = 0;
        files_format_time(&ts, t);
        ASSERT_STREQ(t, "1970-01-01T00:00:00Z");
        setenv("TZ", "EST5", 1);
        tzset();
        files_format_time(&ts, t);
        ASSERT_STREQ(t, "1969-12-31T19:00:00-05:00");

        b = base64_encode("any carnal pleas", 16);
        ASSERT_STREQ(b, "YW55IGNhcm5hbCBwbGVhcw==");
        free(b);
        b = base64_encode("\xff\x00\x01", 3);
        ASSERT_STREQ(b, "/wAB");
        free(b);
        b = base64_encode("", 0);
        ASSERT_STREQ(b, "");
}

int main(void) {
        make_tree();
        RUN(path_check);
        RUN(relative_and_split);
        RUN(open_regular);
        RUN(make_directory);
        RUN(upload);
        RUN(wire);
        remove_tree();
        return 0;
}
