/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "macro.h"
#include "path-util.h"

int open_beneath_walk(int dir_fd, const char *path, int flags, mode_t mode) {
        _cleanup_close_ int cur = -1;
        const char *p = path;

        if (isempty(path) || path[0] == '/')
                return -EXDEV;
        for (;;) {
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *name = memdup_str(p, n);
                int fd;

                if (!name)
                        return -ENOMEM;
                if (streq(name, ".."))
                        return -EXDEV;
                if (p[n] == 0) {
                        /* The last component, opened as asked but never through a symlink. */
                        fd = openat(cur >= 0 ? cur : dir_fd, n == 0 || streq(name, ".") ? "." : name,
                                    flags | O_NOFOLLOW | O_CLOEXEC, mode);
                        return fd < 0 ? negative_errno() : fd;
                }
                if (n > 0 && !streq(name, ".")) {
                        fd = openat(cur >= 0 ? cur : dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return negative_errno();
                        closep(&cur);
                        cur = fd;
                }
                p += n + 1;
        }
}

int open_beneath(int dir_fd, const char *path, int flags, mode_t mode, uint64_t resolve) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve,
        };
        long fd;

        do
                fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);  /* a concurrent rename raced the lookup */
        if (fd < 0 && errno == ENOSYS)
                return open_beneath_walk(dir_fd, path, flags, mode);
        return fd < 0 ? negative_errno() : (int) fd;
}

int mkdirat_exist_ok(int dir_fd, const char *name, mode_t mode) {
        if (mkdirat(dir_fd, name, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}
