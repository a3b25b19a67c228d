/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "jstring.h"
#include "macro.h"
#include "path-util.h"
#include "paths.h"
#include "store.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);
DEFINE_TRIVIAL_CLEANUP_FUNC(ScopeFile *, scope_file_free);

/* A directory entry is durable once its parent is: fsync the parent of a
 * directory just made (XFS and btrfs lose it on power loss otherwise). */
static int mkdir_durable(int parent_fd, const char *name) {
        if (mkdirat(parent_fd, name, 0750) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        return fsync(parent_fd) < 0 ? negative_errno() : 0;
}

/* <state>/vars/<project>, created when create is set. Names were validated
 * by the caller; openat2 keeps them beneath the state directory anyway. */
static int open_project_dir(const char *project, bool create, int *ret) {
        _cleanup_close_ int state = -1, vars = -1;
        int fd, r;

        state = open(state_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (state < 0)
                return negative_errno();
        if (create && (r = mkdir_durable(state, "vars")) < 0)
                return r;
        vars = open_beneath(state, "vars", O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS);
        if (vars < 0)
                return vars;
        if (create && (r = mkdir_durable(vars, project)) < 0)
                return r;
        fd = open_beneath(vars, project, O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS);
        if (fd < 0)
                return fd;
        *ret = fd;
        return 0;
}

int store_open(const char *project, const char *env, ScopeFile **ret) {
        _cleanup_close_ int dir = -1;
        int r;

        r = open_project_dir(project, false, &dir);
        if (r == -ENOENT) {
                *ret = scope_file_new_empty();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        return scope_file_open_at(dir, env, ret);
}

/* A DIR of dir_fd with its own file description: a dup() would share the
 * read position with every other listing of the same fd. */
static DIR *opendir_at(int dir_fd) {
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d)
                close(fd);
        return d;
}

/* Temp files of a writer that was killed mid-write; only a lock holder may
 * remove them, since a live writer's temp file has the same prefix. */
static void remove_stale_temps(int dir_fd, const char *env) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ char *prefix = NULL;
        struct dirent *de;

        if (asprintf(&prefix, ".%s.json.tmp-", env) < 0)
                return;
        d = opendir_at(dir_fd);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (startswith(de->d_name, prefix))
                        (void) unlinkat(dir_fd, de->d_name, 0);
}

static int lock_at(int dir_fd, const char *name, int *ret) {
        int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

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

static int lock_scope(int dir_fd, const char *env, int *ret) {
        _cleanup_free_ char *name = NULL;

        if (asprintf(&name, ".%s.lock", env) < 0)
                return -ENOMEM;
        return lock_at(dir_fd, name, ret);
}

/* "<env>.json" holds a scope; dot files are locks and temp files. */
static size_t scope_file_env_len(const char *name) {
        size_t l = strlen(name);

        if (name[0] == '.' || l <= 5 || !streq(name + l - 5, ".json"))
                return 0;
        return l - 5;
}

static int count_envs(int dir_fd, size_t *ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;

        d = opendir_at(dir_fd);
        if (!d)
                return negative_errno();
        while ((de = readdir(d)))
                n += scope_file_env_len(de->d_name) > 0;
        *ret = n;
        return 0;
}

/* ---- writing a scope file ---- */

/* Buffered output to the temp file; with fd -1 it only counts, so that the
 * size is known before anything is written. */
typedef struct Writer {
        int fd;
        int error;
        uint64_t total;
        size_t len;
        char *buf;               /* WRITE_CHUNK bytes, when fd is set */
} Writer;

#define WRITE_CHUNK (64 * 1024)

static void w_flush(Writer *w) {
        if (w->fd >= 0 && w->len > 0 && w->error == 0)
                w->error = write_all(w->fd, w->buf, w->len);
        w->len = 0;
}

static void w_put(Writer *w, const void *p, size_t n) {
        w->total += n;
        if (w->fd < 0)
                return;
        while (n > 0) {
                size_t k;

                if (w->len == WRITE_CHUNK)
                        w_flush(w);
                k = MIN(n, WRITE_CHUNK - w->len);
                memcpy(w->buf + w->len, p, k);
                w->len += k;
                p = (const char *) p + k;
                n -= k;
        }
}

static void w_str(Writer *w, const char *s) {
        w_put(w, s, strlen(s));
}

/* A JSON string, encoded a piece at a time. */
static void w_string(Writer *w, const char *s, size_t n) {
        char tmp[1024 * JSTR_ESCAPE_MAX];

        w_put(w, "\"", 1);
        for (size_t i = 0; i < n; i += 1024) {
                size_t k = MIN(n - i, (size_t) 1024);
                w_put(w, tmp, jstr_escape(s + i, k, tmp));
        }
        w_put(w, "\"", 1);
}

/* A value's body as it is in the old file (checked when it was indexed). */
static void w_copy(Writer *w, int src_fd, uint64_t off, uint64_t len) {
        if (w->fd < 0) {
                w->total += len;
                return;
        }
        while (len > 0 && w->error == 0) {
                ssize_t n;

                if (w->len == WRITE_CHUNK)
                        w_flush(w);
                n = pread(src_fd, w->buf + w->len, (size_t) MIN(len, (uint64_t) (WRITE_CHUNK - w->len)), (off_t) off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        w->error = n < 0 ? negative_errno() : -EIO;
                        break;
                }
                w->len += (size_t) n;
                w->total += (uint64_t) n;
                off += (uint64_t) n;
                len -= (uint64_t) n;
        }
}

typedef struct Change {
        const char *key;
        const char *value;       /* NULL: remove key */
        size_t len;
        const char *caller;
        char updated_at[32];
} Change;

static void w_member(Writer *w, bool *first, const char *key) {
        w_put(w, *first ? "{" : ",", 1);
        *first = false;
        w_string(w, key, strlen(key));
        w_put(w, ":", 1);
}

/* The old scope with the change applied, keys in order, metadata last. */
static void emit_scope(Writer *w, const ScopeFile *old, const Change *c) {
        bool first = true, added = !c->value;

        for (size_t i = 0; i < old->n; i++) {
                const ScopeEntry *e = &old->entries[i];
                const char *k = scope_entry_key(old, e);
                int cmp = strcmp(k, c->key);

                if (!added && cmp >= 0) {
                        w_member(w, &first, c->key);
                        w_string(w, c->value, c->len);
                        added = true;
                }
                if (cmp == 0 || streq(k, "_updated_at") || streq(k, "_updated_by"))
                        continue;
                w_member(w, &first, k);
                w_put(w, "\"", 1);
                w_copy(w, old->fd, e->off, e->len);
                w_put(w, "\"", 1);
        }
        if (!added) {
                w_member(w, &first, c->key);
                w_string(w, c->value, c->len);
        }
        w_member(w, &first, "_updated_at");
        w_string(w, c->updated_at, strlen(c->updated_at));
        w_member(w, &first, "_updated_by");
        w_string(w, c->caller, strlen(c->caller));
        w_str(w, "}");
}

static int write_scope_at(int dir_fd, const char *env, const ScopeFile *old, const Change *c) {
        _cleanup_free_ char *final = NULL, *temp = NULL;
        _cleanup_free_ char *buf = NULL;
        Writer count = { .fd = -1 }, w;
        uint64_t rnd;
        int r;

        emit_scope(&count, old, c);
        if (count.total > VARS_SCOPE_FILE_MAX)
                return -EFBIG;

        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t) time(NULL) ^ (uint64_t) getpid();
        if (asprintf(&final, "%s.json", env) < 0 ||
            asprintf(&temp, ".%s.json.tmp-%016llx", env, (unsigned long long) rnd) < 0)
                return -ENOMEM;
        buf = malloc(WRITE_CHUNK);
        if (!buf)
                return -ENOMEM;

        w = (Writer) { .buf = buf };
        w.fd = openat(dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (w.fd < 0)
                return negative_errno();
        emit_scope(&w, old, c);
        w_flush(&w);
        r = w.error;
        if (r >= 0 && fsync(w.fd) < 0)
                r = negative_errno();
        if (close(w.fd) < 0 && r >= 0)
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

static void change_init(Change *c, const char *caller, const char *key, const char *value, size_t len) {
        struct tm tm;
        time_t t = time(NULL);

        *c = (Change) { .key = key, .value = value, .len = len, .caller = caller ?: "" };
        gmtime_r(&t, &tm);
        strftime(c->updated_at, sizeof(c->updated_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int store_put(const char *project, const char *env, const char *caller, const char *key,
              const char *value, size_t len) {
        _cleanup_(scope_file_freep) ScopeFile *old = NULL;
        _cleanup_close_ int dir = -1, lock = -1, project_lock = -1;
        Change c;
        int r;

        r = open_project_dir(project, true, &dir);
        if (r < 0)
                return r;
        r = lock_scope(dir, env, &lock);
        if (r < 0)
                return r;
        remove_stale_temps(dir, env);
        r = scope_file_open_at(dir, env, &old);
        if (r < 0)
                return r;
        if (!scope_file_find(old, key) && old->n_visible >= VARS_KEYS_MAX)
                return -EOVERFLOW;
        if (old->fd < 0) {
                size_t n;

                /* A new env: counted and created under the project's lock
                 * (".lock" cannot be an env's ".<env>.lock"). */
                r = lock_at(dir, ".lock", &project_lock);
                if (r < 0)
                        return r;
                r = count_envs(dir, &n);
                if (r < 0)
                        return r;
                if (n >= VARS_ENVS_MAX)
                        return -EMLINK;
        }
        change_init(&c, caller, key, value, len);
        return write_scope_at(dir, env, old, &c);
}

int store_unset(const char *project, const char *env, const char *caller, const char *key) {
        _cleanup_(scope_file_freep) ScopeFile *f = NULL;
        _cleanup_close_ int dir = -1, lock = -1;
        Change c;
        int r;

        /* Looked up first without the lock, whose file would be a write. */
        r = open_project_dir(project, false, &dir);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = scope_file_open_at(dir, env, &f);
        if (r < 0)
                return r;
        if (!scope_file_find(f, key))
                return 0;
        f = scope_file_free(f);

        r = lock_scope(dir, env, &lock);
        if (r < 0)
                return r;
        remove_stale_temps(dir, env);
        r = scope_file_open_at(dir, env, &f);
        if (r < 0)
                return r;
        if (!scope_file_find(f, key))
                return 0;
        change_init(&c, caller, key, NULL, 0);
        return write_scope_at(dir, env, f, &c);
}

int store_delete(const char *project, const char *env) {
        _cleanup_close_ int dir = -1, lock = -1;
        _cleanup_free_ char *name = NULL;
        struct stat st;
        int r;

        r = open_project_dir(project, false, &dir);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (asprintf(&name, "%s.json", env) < 0)
                return -ENOMEM;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        r = lock_scope(dir, env, &lock);
        if (r < 0)
                return r;
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
                size_t l = scope_file_env_len(de->d_name);
                char **p;

                if (l == 0)
                        continue;
                p = realloc(v, (n + 2) * sizeof(char *));
                if (!p)
                        return -ENOMEM;
                v = p;
                v[n + 1] = NULL;
                v[n] = memdup_str(de->d_name, l);
                if (!v[n])
                        return -ENOMEM;
                n++;
        }
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(v);
        return 0;
}
