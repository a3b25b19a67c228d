/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "path-util.h"
#include "paths.h"
#include "store.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* <state>/vars/<project>, created when create is set. Names were validated
 * by the caller; openat2 keeps them beneath the state directory anyway. */
static int open_project_dir(const char *project, bool create, int *ret) {
        _cleanup_close_ int state = -1, vars = -1;
        int fd, r;

        state = open(state_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (state < 0)
                return negative_errno();
        if (create && (r = mkdirat_exist_ok(state, "vars", 0750)) < 0)
                return r;
        vars = open_beneath(state, "vars", O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS);
        if (vars < 0)
                return vars;
        if (create && (r = mkdirat_exist_ok(vars, project, 0750)) < 0)
                return r;
        fd = open_beneath(vars, project, O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS);
        if (fd < 0)
                return fd;
        *ret = fd;
        return 0;
}

static int read_scope_at(int dir_fd, const char *env, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *name = NULL, *data = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t done = 0;
        json_tokener *tok;
        int r;

        if (asprintf(&name, "%s.json", env) < 0)
                return -ENOMEM;
        fd = open_beneath(dir_fd, name, O_RDONLY | O_NOCTTY, 0, RESOLVE_NO_SYMLINKS);
        if (fd == -ENOENT) {
                *ret = json_object_new_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_size > VARS_SCOPE_FILE_MAX)
                return -EBADMSG;

        r = read_full_fd(fd, VARS_SCOPE_FILE_MAX, &data, &done);
        if (r < 0)
                return r == -EFBIG ? -EBADMSG : r;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, data, (int) done);
        if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object)) {
                json_tokener_free(tok);
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = TAKE_PTR(o);
        return 0;
}

int store_read(const char *project, const char *env, json_object **ret) {
        _cleanup_close_ int dir = -1;
        int r;

        r = open_project_dir(project, false, &dir);
        if (r == -ENOENT) {
                *ret = json_object_new_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        return read_scope_at(dir, env, ret);
}

/* Temp files of a writer that was killed mid-write; only a lock holder may
 * remove them, since a live writer's temp file has the same prefix. */
static void remove_stale_temps(int dir_fd, const char *prefix) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd = dup(dir_fd);

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        while ((de = readdir(d)))
                if (startswith(de->d_name, prefix))
                        (void) unlinkat(dir_fd, de->d_name, 0);
}


static int write_scope_at(int dir_fd, const char *env, json_object *scope) {
        _cleanup_free_ char *final = NULL, *temp = NULL;
        _cleanup_close_ int fd = -1;
        const char *data;
        uint64_t rnd;
        size_t len;
        int r;

        data = json_object_to_json_string_length(scope, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!data)
                return -ENOMEM;
        if (len > VARS_SCOPE_FILE_MAX)
                return -ENOSPC;

        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t) time(NULL) ^ (uint64_t) getpid();
        if (asprintf(&final, "%s.json", env) < 0 ||
            asprintf(&temp, ".%s.json.tmp-%016llx", env, (unsigned long long) rnd) < 0)
                return -ENOMEM;

        fd = openat(dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && renameat(dir_fd, temp, dir_fd, final) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(dir_fd, temp, 0);
                return r;
        }
        /* The rename is durable only once the directory is. */
        if (fsync(dir_fd) < 0)
                return negative_errno();
        return 0;
}

static int lock_scope(int dir_fd, const char *env, int *ret) {
        _cleanup_free_ char *name = NULL;
        int fd;

        if (asprintf(&name, ".%s.lock", env) < 0)
                return -ENOMEM;
        fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return negative_errno();
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        int r = negative_errno();
                        close(fd);
                        return r;
                }
        *ret = fd;
        return 0;
}

static int set_metadata(json_object *scope, const char *caller) {
        char ts[64];
        struct tm tm;
        time_t t = time(NULL);

        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (json_object_object_add(scope, "_updated_at", json_object_new_string(ts)) < 0 ||
            json_object_object_add(scope, "_updated_by", json_object_new_string(caller ?: "")) < 0)
                return -ENOMEM;
        return 0;
}

int store_update(const char *project, const char *env, const char *caller, StoreEdit edit, void *userdata) {
        _cleanup_(json_object_putp) json_object *scope = NULL;
        _cleanup_close_ int dir = -1, lock = -1;
        _cleanup_free_ char *prefix = NULL;
        int r;

        r = open_project_dir(project, true, &dir);
        if (r < 0)
                return r;
        r = lock_scope(dir, env, &lock);
        if (r < 0)
                return r;
        if (asprintf(&prefix, ".%s.json.tmp-", env) < 0)
                return -ENOMEM;
        remove_stale_temps(dir, prefix);

        r = read_scope_at(dir, env, &scope);
        if (r < 0)
                return r;
        r = edit(scope, userdata);
        if (r < 0 || r == STORE_UNCHANGED)
                return r < 0 ? r : 0;
        r = set_metadata(scope, caller);
        if (r < 0)
                return r;
        return write_scope_at(dir, env, scope);
}

int store_delete(const char *project, const char *env) {
        _cleanup_close_ int dir = -1, lock = -1;
        _cleanup_free_ char *name = NULL;
        int r;

        r = open_project_dir(project, false, &dir);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = lock_scope(dir, env, &lock);
        if (r < 0)
                return r;
        if (asprintf(&name, "%s.json", env) < 0)
                return -ENOMEM;
        if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
                return negative_errno();
        if (fsync(dir) < 0)
                return negative_errno();
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void strv_freep_null(char ***v) {
        for (char **p = *v; p && *p; p++)
                free(*p);
        free(*v);
}

int store_list_envs(const char *project, char ***ret) {
        _cleanup_(strv_freep_null) char **v = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_close_ int dir = -1;
        size_t n = 0;
        struct dirent *de;
        int r;

        r = open_project_dir(project, false, &dir);
        if (r == -ENOENT) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        d = fdopendir(dir);
        if (!d)
                return negative_errno();
        dir = -1;  /* owned by d now */

        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                char **p;

                if (de->d_name[0] == '.' || l <= 5 || !streq(de->d_name + l - 5, ".json"))
                        continue;
                p = realloc(v, (n + 2) * sizeof(char *));
                if (!p)
                        return -ENOMEM;
                v = p;
                v[n + 1] = NULL;
                v[n] = memdup_str(de->d_name, l - 5);
                if (!v[n])
                        return -ENOMEM;
                n++;
        }
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(v);
        return 0;
}
