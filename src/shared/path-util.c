/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "macro.h"
#include "path-util.h"

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
        return fd < 0 ? negative_errno() : (int) fd;
}

int mkdirat_exist_ok(int dir_fd, const char *name, mode_t mode) {
        if (mkdirat(dir_fd, name, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}
