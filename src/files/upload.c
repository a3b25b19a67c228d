/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fileio.h"
#include "files-path.h"
#include "macro.h"
#include "upload.h"

#define TMP_PREFIX ".tailkitd-recv-"

/* ".tailkitd-recv-<pid>-<16 hex digits>": the pid of the worker that made
 * it, so that a later upload into the same directory can tell a file left
 * by a worker that was killed (between linking the file and renaming it in
 * place) from one of a live upload. */
static int tmp_name(char **ret) {
        uint64_t v;

        if (getrandom(&v, sizeof(v), 0) != sizeof(v))
                return -EIO;
        return asprintf(ret, TMP_PREFIX "%d-%016llx", (int) getpid(), (unsigned long long) v) < 0 ? -ENOMEM : 0;
}

/* Removes the hidden files of dead workers from dir: those whose pid no
 * longer runs (a pid that runs again is left alone: never a live upload's). */
static void remove_stale_tmp_files(int dir_fd) {
        _cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;
        struct dirent *de;

        if (fd < 0 || !(d = fdopendir(fd)))
                return;
        fd = -EBADF;            /* the DIR owns it now */
        while ((de = readdir(d))) {
                const char *p = startswith(de->d_name, TMP_PREFIX);
                char *end;
                long pid;

                if (!p || de->d_type != DT_REG)
                        continue;
                errno = 0;
                pid = strtol(p, &end, 10);
                if (errno != 0 || end == p || *end != '-' || pid <= 0 || pid > INT32_MAX || pid == getpid())
                        continue;
                if (kill((pid_t) pid, 0) < 0 && errno == ESRCH)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
}

/* What is at the destination now: 0 and st, -ENOENT, or a refusal. */
static int stat_destination(Upload *u, struct stat *st) {
        if (fstatat(u->dir_fd, u->name, st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (S_ISLNK(st->st_mode))
                return -EMLINK;
        if (S_ISDIR(st->st_mode))
                return -EISDIR;
        if (!S_ISREG(st->st_mode))
                return -ENODEV;
        return 0;
}

int upload_begin(Upload *u, int rule_fd, const char *rel, uint64_t max_size) {
        _cleanup_free_ char *dir = NULL;
        const char *name;
        struct stat st;
        int e;

        *u = UPLOAD_NULL;
        u->max_size = max_size;
        e = files_path_split(rel, &dir, &name);
        if (e < 0)
                return e;
        u->name = strdup(name);
        if (!u->name)
                return -ENOMEM;
        u->dir_fd = files_make_directory(rule_fd, dir);
        if (u->dir_fd < 0)
                return u->dir_fd;

        /* Refuse early what the final rename would refuse or surprise with. */
        e = stat_destination(u, &st);
        if (e < 0 && e != -ENOENT)
                return e;
        remove_stale_tmp_files(u->dir_fd);

        u->fd = openat(u->dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (u->fd >= 0)
                return 0;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return negative_errno();

        /* No O_TMPFILE here: a hidden file, removed again unless committed. */
        for (int attempt = 0; attempt < 16; attempt++) {
                free(u->tmp_name);
                u->tmp_name = NULL;
                e = tmp_name(&u->tmp_name);
                if (e < 0)
                        return e;
                u->fd = openat(u->dir_fd, u->tmp_name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (u->fd >= 0)
                        return 0;
                if (errno != EEXIST)
                        break;
        }
        e = negative_errno();
        free(u->tmp_name);
        u->tmp_name = NULL;
        return e;
}

int upload_check_space(Upload *u, uint64_t size) {
        struct statvfs sv;

        if (fstatvfs(u->fd, &sv) < 0 || sv.f_frsize == 0)
                return 0;
        /* f_bavail: what an unprivileged writer may use (the worker has no
         * CAP_SYS_RESOURCE for ext4's reserved blocks). */
        if ((uint64_t) sv.f_bavail < size / sv.f_frsize + (size % sv.f_frsize != 0))
                return -ENOSPC;
        return 0;
}

int upload_write(Upload *u, const void *data, size_t size) {
        if (size > u->max_size - u->size)
                return -EFBIG;
        u->size += size;
        return write_all(u->fd, data, size);
}

/* Names the O_TMPFILE file: linkat AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH;
 * without it, the same through /proc/self/fd. */
static int link_tmpfile(Upload *u, const char *name) {
        char proc[64];

        if (linkat(u->fd, "", u->dir_fd, name, AT_EMPTY_PATH) >= 0)
                return 0;
        if (errno != ENOENT && errno != EPERM)
                return negative_errno();
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", u->fd);
        if (linkat(AT_FDCWD, proc, u->dir_fd, name, AT_SYMLINK_FOLLOW) < 0)
                return negative_errno();
        return 0;
}

/* Links the O_TMPFILE file under a hidden name (then renamed in place). */
static int link_hidden(Upload *u) {
        for (int attempt = 0;; attempt++) {
                int e = tmp_name(&u->tmp_name);

                if (e < 0)
                        return e;
                e = link_tmpfile(u, u->tmp_name);
                if (e == 0)
                        return 0;
                free(u->tmp_name);
                u->tmp_name = NULL;
                if (e != -EEXIST || attempt >= 16)
                        return e;
        }
}

/* Puts the file at its name: a new name is linked at once, an existing one
 * is replaced by renaming a named copy over it (atomic for readers). */
static int place(Upload *u, bool exists) {
        int e;

        if (!u->tmp_name) {
                if (!exists) {
                        e = link_tmpfile(u, u->name);
                        if (e != -EEXIST)
                                return e;
                }
                e = link_hidden(u);
                if (e < 0)
                        return e;
        }
        if (renameat(u->dir_fd, u->tmp_name, u->dir_fd, u->name) < 0)
                return negative_errno();   /* upload_done() removes tmp_name */
        free(u->tmp_name);
        u->tmp_name = NULL;
        return 0;
}

int upload_commit(Upload *u) {
        struct stat st;
        int e;

        e = stat_destination(u, &st);
        if (e < 0 && e != -ENOENT)
                return e;
        if (e == 0) {
                /* Replacing a file: it keeps its owner and mode (chown
                 * first: it clears set-id bits). */
                /* (An unprivileged worker, in tests, cannot give a file away.) */
                if (fchown(u->fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
                        return negative_errno();
                if (fchmod(u->fd, st.st_mode & 07777) < 0)
                        return negative_errno();
        } else if (fchmod(u->fd, 0644) < 0)
                return negative_errno();
        if (fsync(u->fd) < 0)
                return negative_errno();

        e = place(u, e == 0);
        if (e < 0)
                return e;
        u->committed = true;
        if (fsync(u->dir_fd) < 0)
                return negative_errno();
        return 0;
}

void upload_done(Upload *u) {
        if (u->tmp_name && u->dir_fd >= 0)
                (void) unlinkat(u->dir_fd, u->tmp_name, 0);
        free(u->tmp_name);
        free(u->name);
        if (u->fd >= 0)
                close(u->fd);
        if (u->dir_fd >= 0)
                close(u->dir_fd);
        *u = UPLOAD_NULL;
}
