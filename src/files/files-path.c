/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>

#include "files-path.h"
#include "macro.h"
#include "path-util.h"
#include <sys/stat.h>

int files_path_check(const char *path, size_t len, const char **why) {
        const char *p;

        if (len == 0 || !path) {
                *why = "the path is empty";
                return -EINVAL;
        }
        if (memchr(path, 0, len) || strlen(path) != len) {
                *why = "the path contains a NUL byte";
                return -EINVAL;
        }
        if (path[0] != '/') {
                *why = "the path must be absolute";
                return -EINVAL;
        }
        if (len >= PATH_MAX) {
                *why = "the path is longer than PATH_MAX";
                return -EINVAL;
        }
        if (strstr(path, "%00")) {
                *why = "the path contains an encoded NUL byte";
                return -EINVAL;
        }
        for (p = path; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7F) {
                        *why = "the path contains a control character";
                        return -EINVAL;
                }
        for (p = path + 1; *p; ) {
                size_t n = strcspn(p, "/");

                if (n == 0 && p[0] == '/') {
                        *why = "the path contains an empty segment (\"//\")";
                        return -EINVAL;
                }
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
                        *why = "the path contains a \".\" or \"..\" segment";
                        return -EINVAL;
                }
                if (n > NAME_MAX) {
                        *why = "a name in the path is longer than NAME_MAX (255 bytes)";
                        return -EINVAL;
                }
                p += n;
                if (*p == '/')
                        p++;
        }
        return 0;
}

const char *files_path_relative(const FilesRule *rule, const char *path) {
        size_t dl = strlen(rule->dir);

        if (strlen(path) < dl || isempty(path + dl))
                return ".";
        return path + dl;
}

int files_path_split(const char *rel, char **ret_dir, const char **ret_name) {
        const char *slash = strrchr(rel, '/');

        if (streq(rel, ".") || endswith(rel, "/"))
                return -EISDIR;
        *ret_dir = slash ? memdup_str(rel, (size_t) (slash - rel)) : strdup(".");
        if (!*ret_dir)
                return -ENOMEM;
        *ret_name = slash ? slash + 1 : rel;
        return 0;
}

int files_open_rule_dir(const FilesRule *rule) {
        /* Read access, not O_PATH: listed and fsynced like any directory. */
        int fd = open(rule->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

int files_open_regular(int rule_fd, const char *rel, struct stat *st) {
        _cleanup_close_ int path_fd = -1, fd = -1;
        struct stat st2;

        /* Look first through a handle that opens nothing: a FIFO would block
         * and a device act on open. */
        path_fd = open_beneath(rule_fd, rel, O_PATH, 0, 0);
        if (path_fd < 0)
                return path_fd;
        if (fstat(path_fd, st) < 0)
                return negative_errno();
        if (S_ISDIR(st->st_mode))
                return -EISDIR;
        if (!S_ISREG(st->st_mode))
                return -ENODEV;
        /* Then open it for real; it must still be that file (a swap between
         * the two lookups is refused, never followed). O_NONBLOCK: a FIFO put
         * there meanwhile does not block the open. */
        fd = open_beneath(rule_fd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, 0);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st2) < 0)
                return negative_errno();
        if (!S_ISREG(st2.st_mode) || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino)
                return -EAGAIN;
        *st = st2;
        return TAKE_FD(fd);
}

int files_open_directory(int rule_fd, const char *rel) {
        return open_beneath(rule_fd, rel, O_RDONLY | O_DIRECTORY, 0, 0);
}

int files_make_directory(int rule_fd, const char *rel) {
        _cleanup_free_ char *prefix = NULL;
        int fd;

        fd = files_open_directory(rule_fd, rel);
        if (fd != -ENOENT)
                return fd;

        /* Walk down: each prefix is resolved from the rule's directory again,
         * so a symlink inside it resolves as for any other lookup. */
        prefix = strdup(rel);
        if (!prefix)
                return -ENOMEM;
        for (char *p = prefix;;) {
                _cleanup_close_ int parent = -1;
                char *slash = strchr(p, '/'), saved = 0;
                const char *name;
                int e;

                if (slash) {
                        saved = *slash;
                        *slash = 0;
                }
                fd = files_open_directory(rule_fd, prefix);
                if (fd == -ENOENT) {
                        /* Create it in its parent, then open it beneath the rule. */
                        char *last = strrchr(prefix, '/');

                        if (last) {
                                *last = 0;
                                parent = files_open_directory(rule_fd, prefix);
                                *last = '/';
                                name = last + 1;
                        } else {
                                parent = fcntl(rule_fd, F_DUPFD_CLOEXEC, 3);
                                name = prefix;
                        }
                        if (parent < 0)
                                return parent;
                        e = mkdirat(parent, name, 0755) < 0 ? negative_errno() : 0;
                        if (e < 0 && e != -EEXIST)
                                return e;
                        fd = open_beneath(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 0);
                        if (fd < 0)
                                return fd;
                        /* mkdir obeys the umask; a new directory is 0755. */
                        if (e == 0 && fchmod(fd, 0755) < 0) {
                                e = negative_errno();
                                close(fd);
                                return e;
                        }
                        (void) fsync(parent);
                }
                if (fd < 0)
                        return fd;
                if (!slash)
                        return fd;
                close(fd);
                *slash = saved;
                p = slash + 1;
        }
}
