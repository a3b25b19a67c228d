/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "job-files.h"
#include "macro.h"
#include "paths.h"

/* A record holds files only; this bounds what a stray tree inside costs. */
#define REMOVE_DEPTH_MAX 4

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

uint64_t realtime_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t boottime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

int read_json_at(int dir_fd, const char *name, json_object **ret) {
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        json_object *o;
        int r;

        if (fd < 0)
                return negative_errno();
        r = read_full_fd(fd, JOB_FILE_MAX, &data, NULL);
        if (r < 0)
                return r;
        o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int write_json_at(int dir_fd, const char *name, json_object *o) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        _cleanup_close_ int fd = -1;
        char tmp[64];

        if (!s)
                return -ENOMEM;
        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        if (write_all(fd, s, strlen(s)) < 0)
                return -EIO;
        if (renameat(dir_fd, tmp, dir_fd, name) < 0)
                return negative_errno();
        return 0;
}

bool exists_at(int dir_fd, const char *name) {
        return faccessat(dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int64_t json_get_int(json_object *o, const char *key, int64_t def) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
                ? json_object_get_int64(v) : def;
}

const char *json_get_str(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                ? json_object_get_string(v) : NULL;
}

const char *jobs_dir(void) {
        static __thread char buf[4096];
        snprintf(buf, sizeof(buf), "%s/jobs", runtime_dir());
        (void) mkdir(buf, 0700);
        return buf;
}

int open_job_dir(const char *id, int *ret) {
        _cleanup_close_ int base = -1;
        int fd;

        if (!ulid_is_valid(id))
                return -ENOENT;
        base = open(jobs_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base < 0)
                return negative_errno();
        fd = openat(base, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        *ret = fd;
        return 0;
}

static int remove_tree_at(int base, const char *name, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        if (unlinkat(base, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR || depth >= REMOVE_DEPTH_MAX)
                return negative_errno();
        fd = openat(base, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        int k = remove_tree_at(dirfd(d), de->d_name, depth + 1);
                        if (k < 0 && r == 0)
                                r = k;
                }
        if (unlinkat(base, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return r < 0 ? r : negative_errno();
        return 0;
}

int remove_job_dir(int base, const char *id) {
        if (!ulid_is_valid(id))
                return -EINVAL;
        return remove_tree_at(base, id, 0);
}
