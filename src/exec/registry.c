/* SPDX-License-Identifier: MIT */
/* The exec registry (SPEC §4, issue #4): the commands of every tool file
 * under the tools directory, re-read when something there changed.
 *
 * Change detection is by stat, no inotify (the worker is short-lived and the
 * directory small): the directory's existence, inode, mtime and ctime cover
 * files created, renamed over (tailkit.Install writes a temp file and renames
 * it) and removed, and the directory appearing later; each *.json file's
 * inode, size, mtime and ctime cover edits in place. A stamp taken less than
 * RACY_NSEC before a load may not show a change made in the same timestamp
 * tick, so such a load is repeated on the next refresh.
 *
 * A tool file that tool_parse() rejects, or whose command fails
 * command_check(), is left out with one warning per version of the file.
 * When two files hold the same tool name the later file (by name) wins, as a
 * whole tool: what GET /tools/{name} shows is what runs. */

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "registry.h"

#define RACY_NSEC (2 * 1000000000LL)    /* coarser than any filesystem's timestamps */

typedef struct Stamp {
        int error;                      /* errno of stat(), 0 when it worked */
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtim, ctim;
} Stamp;

typedef struct FileStamp {
        char *name;
        Stamp stamp;
        bool warned;                    /* this version of the file was warned about */
} FileStamp;

struct Registry {
        pthread_mutex_t lock;
        char *dir;
        bool loaded, racy, warned_too_many;
        int last_error;                 /* of the last refresh, logged once */
        Stamp dir_stamp;
        FileStamp *files;
        size_t n_files;
        ToolList tools;                 /* checked tools only, in file name order */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static void unlockp(pthread_mutex_t **m) {
        if (*m)
                pthread_mutex_unlock(*m);
}

static void stamp_take(const char *path, Stamp *s) {
        struct stat st;

        *s = (Stamp) {};
        if (stat(path, &st) < 0) {
                s->error = errno ?: EIO;
                return;
        }
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->size = st.st_size;
        s->mtim = st.st_mtim;
        s->ctim = st.st_ctim;
}

static bool timespec_eq(struct timespec a, struct timespec b) {
        return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool stamp_eq(const Stamp *a, const Stamp *b) {
        if (a->error || b->error)
                return a->error == b->error;
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
               timespec_eq(a->mtim, b->mtim) && timespec_eq(a->ctim, b->ctim);
}

static long long timespec_ns(struct timespec t) {
        return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

static bool stamp_is_racy(const Stamp *s, long long load_ns) {
        return !s->error && (timespec_ns(s->mtim) > load_ns - RACY_NSEC || timespec_ns(s->ctim) > load_ns - RACY_NSEC);
}

static void files_free(FileStamp *f, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(f[i].name);
        free(f);
}

/* The same selection as tool_list_load(). */
static bool is_tool_file(const struct dirent *de) {
        size_t len = strlen(de->d_name);
        return de->d_name[0] != '.' && de->d_type != DT_DIR && len > 5 && streq(de->d_name + len - 5, ".json");
}

static int files_scan(const char *dir, FileStamp **ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        FileStamp *files = NULL;
        size_t n = 0;
        struct dirent *de;

        *ret = NULL;
        *ret_n = 0;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                FileStamp *p;

                if (!is_tool_file(de))
                        continue;
                p = realloc(files, (n + 1) * sizeof(FileStamp));
                if (!p)
                        goto oom;
                files = p;
                files[n] = (FileStamp) { .name = strdup(de->d_name) };
                if (!files[n].name || asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                        free(files[n].name);
                        goto oom;
                }
                stamp_take(path, &files[n].stamp);
                n++;
        }
        *ret = files;
        *ret_n = n;
        return 0;
oom:
        files_free(files, n);
        return -ENOMEM;
}

static FileStamp *files_find(FileStamp *files, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(files[i].name, name))
                        return &files[i];
        return NULL;
}

typedef struct LoadContext {
        Registry *registry;
        FileStamp *files;
        size_t n_files;
        bool too_many;
} LoadContext;

/* True the first time this version of the file is to be warned about. */
static bool want_warning(LoadContext *ctx, const char *filename) {
        FileStamp *f = files_find(ctx->files, ctx->n_files, filename);

        if (!f)
                return true;    /* appeared between the scan and the load */
        if (f->warned)
                return false;
        f->warned = true;
        return true;
}

static void on_broken(const char *path, const char *error, void *userdata) {
        LoadContext *ctx = userdata;
        const char *slash = strrchr(path, '/');

        if (streq(path, ctx->registry->dir)) {  /* too many files */
                ctx->too_many = true;
                if (ctx->registry->warned_too_many)
                        return;
                ctx->registry->warned_too_many = true;
        } else if (!want_warning(ctx, slash ? slash + 1 : path))
                return;
        log_struct(LOG_WARNING, ((LogField[]) { { "FILE", path }, {} }),
                   "Skipping broken tool file %s: %s", path, error);
}

static void registry_clear(Registry *r) {
        tool_list_done(&r->tools);
        files_free(r->files, r->n_files);
        r->files = NULL;
        r->n_files = 0;
        r->loaded = false;
}

/* Leaves out (with a warning) every tool with a command that cannot run safely. */
static int tools_check(LoadContext *ctx, ToolList *l) {
        size_t k = 0;

        for (size_t i = 0; i < l->n; i++) {
                Tool *t = l->tools[i];
                _cleanup_free_ char *error = NULL;
                int r = 0;

                for (size_t c = 0; c < t->n_commands && r == 0; c++)
                        r = command_check(&t->commands[c], &error);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (want_warning(ctx, t->filename)) {
                                _cleanup_free_ char *path = NULL;
                                if (asprintf(&path, "%s/%s", ctx->registry->dir, t->filename) < 0)
                                        return -ENOMEM;
                                log_struct(LOG_WARNING, ((LogField[]) { { "FILE", path }, { "TOOL", t->name }, {} }),
                                           "Refusing tool file %s (tool \"%s\"): %s", path, t->name, strna(error));
                        }
                        tool_free(t);
                        continue;
                }
                l->tools[k++] = t;
        }
        l->n = k;

        /* Shadowed tools stay in the list (tool_list_find() takes the last)
         * but are worth a note, once. */
        for (size_t i = 0; i < l->n; i++)
                for (size_t j = i + 1; j < l->n; j++)
                        if (streq(l->tools[i]->name, l->tools[j]->name)) {
                                if (want_warning(ctx, l->tools[i]->filename)) {
                                        _cleanup_free_ char *path = NULL;
                                        if (asprintf(&path, "%s/%s", ctx->registry->dir, l->tools[i]->filename) < 0)
                                                return -ENOMEM;
                                        log_struct(LOG_NOTICE, ((LogField[]) { { "FILE", path }, { "TOOL", l->tools[i]->name }, {} }),
                                                   "Tool \"%s\" of %s is overridden by %s/%s", l->tools[i]->name, path,
                                                   ctx->registry->dir, l->tools[j]->filename);
                                }
                                break;
                        }
        return 0;
}

static int registry_load(Registry *r, const Stamp *dir_stamp) {
        LoadContext ctx = { .registry = r };
        ToolList l = {};
        struct timespec now;
        long long load_ns;
        bool racy;
        int e;

        clock_gettime(CLOCK_REALTIME, &now);
        load_ns = timespec_ns(now);

        /* Stamps before contents: a change after the stamp shows next time. */
        e = files_scan(r->dir, &ctx.files, &ctx.n_files);
        if (e < 0)
                goto fail;
        for (size_t i = 0; i < ctx.n_files; i++) {
                FileStamp *old = files_find(r->files, r->n_files, ctx.files[i].name);
                if (old && stamp_eq(&old->stamp, &ctx.files[i].stamp))
                        ctx.files[i].warned = old->warned;
        }

        e = tool_list_load(r->dir, &l, on_broken, &ctx);
        if (e < 0)
                goto fail;
        if (!ctx.too_many)
                r->warned_too_many = false;
        e = tools_check(&ctx, &l);
        if (e < 0)
                goto fail;

        racy = stamp_is_racy(dir_stamp, load_ns);
        for (size_t i = 0; i < ctx.n_files && !racy; i++)
                racy = stamp_is_racy(&ctx.files[i].stamp, load_ns);

        registry_clear(r);
        r->tools = l;
        r->files = ctx.files;
        r->n_files = ctx.n_files;
        r->dir_stamp = *dir_stamp;
        r->racy = racy;
        r->loaded = true;
        return 1;

fail:
        /* Fail closed: nothing runs from a directory we cannot read. */
        tool_list_done(&l);
        files_free(ctx.files, ctx.n_files);
        registry_clear(r);
        return e;
}

static bool registry_changed(Registry *r, const Stamp *dir_stamp) {
        if (!r->loaded || r->racy || !stamp_eq(&r->dir_stamp, dir_stamp))
                return true;
        for (size_t i = 0; i < r->n_files; i++) {
                _cleanup_free_ char *path = NULL;
                Stamp s;

                if (asprintf(&path, "%s/%s", r->dir, r->files[i].name) < 0)
                        return true;
                stamp_take(path, &s);
                if (!stamp_eq(&r->files[i].stamp, &s))
                        return true;
        }
        return false;
}

static int registry_refresh_locked(Registry *r) {
        Stamp dir_stamp;

        stamp_take(r->dir, &dir_stamp);
        if (dir_stamp.error == ENOENT || dir_stamp.error == ENOTDIR)
                dir_stamp = (Stamp) { .error = ENOENT };   /* no directory: no tools */
        else if (dir_stamp.error) {
                registry_clear(r);
                return -dir_stamp.error;
        }
        if (!registry_changed(r, &dir_stamp))
                return 0;
        return registry_load(r, &dir_stamp);
}

int registry_refresh(Registry *r) {
        _cleanup_(unlockp) pthread_mutex_t *locked = NULL;
        int e;

        pthread_mutex_lock(&r->lock);
        locked = &r->lock;

        e = registry_refresh_locked(r);
        /* Callers may ignore the result (the index is simply empty): say it
         * here, once per distinct error. */
        if (e < 0 && e != r->last_error)
                log_struct(LOG_WARNING, ((LogField[]) { { "FILE", r->dir }, {} }),
                           "Cannot read the tools directory %s, no tool can run: %s", r->dir, strerror(-e));
        r->last_error = MIN(e, 0);
        return e;
}

Registry *registry_new(const char *tools_dir) {
        Registry *r = calloc(1, sizeof(Registry));

        if (!r)
                return NULL;
        r->dir = strdup(tools_dir);
        if (!r->dir || pthread_mutex_init(&r->lock, NULL) != 0) {
                free(r->dir);
                free(r);
                return NULL;
        }
        return r;
}

Registry *registry_free(Registry *r) {
        if (!r)
                return NULL;
        registry_clear(r);
        pthread_mutex_destroy(&r->lock);
        free(r->dir);
        free(r);
        return NULL;
}

void tool_command_free(ToolCommand *c) {
        if (!c)
                return;
        free(c->name);
        free(c->description);
        free(c->acl_cap);
        for (size_t i = 0; i < c->n_exec_parts; i++)
                free(c->exec_parts[i]);
        free(c->exec_parts);
        for (size_t i = 0; i < c->n_args; i++) {
                free(c->args[i].name);
                free(c->args[i].pattern);
        }
        free(c->args);
        free(c);
}

static inline void tool_command_freep(ToolCommand **c) {
        tool_command_free(*c);
}

static int strdup_opt(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A deep copy: the registry may drop the original on its next reload. */
static int tool_command_copy(const ToolCommand *s, ToolCommand **ret) {
        _cleanup_(tool_command_freep) ToolCommand *c = NULL;

        c = calloc(1, sizeof(ToolCommand));
        if (!c)
                return -ENOMEM;
        c->timeout_ns = s->timeout_ns;
        if (strdup_opt(s->name, &c->name) < 0 || strdup_opt(s->description, &c->description) < 0 ||
            strdup_opt(s->acl_cap, &c->acl_cap) < 0)
                return -ENOMEM;

        if (s->n_exec_parts > 0) {
                c->exec_parts = calloc(s->n_exec_parts, sizeof(char *));
                if (!c->exec_parts)
                        return -ENOMEM;
                for (; c->n_exec_parts < s->n_exec_parts; c->n_exec_parts++)
                        if (strdup_opt(s->exec_parts[c->n_exec_parts], &c->exec_parts[c->n_exec_parts]) < 0)
                                return -ENOMEM;
        }
        if (s->n_args > 0) {
                c->args = calloc(s->n_args, sizeof(ToolArg));
                if (!c->args)
                        return -ENOMEM;
                for (; c->n_args < s->n_args; c->n_args++) {
                        const ToolArg *a = &s->args[c->n_args];
                        ToolArg *b = &c->args[c->n_args];

                        b->type = a->type;
                        b->required = a->required;
                        if (strdup_opt(a->name, &b->name) < 0 || strdup_opt(a->pattern, &b->pattern) < 0) {
                                c->n_args++;    /* free what was copied */
                                return -ENOMEM;
                        }
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int registry_find(Registry *r, const char *tool, const char *command, ToolCommand **ret) {
        _cleanup_(unlockp) pthread_mutex_t *locked = NULL;
        const Tool *t;

        *ret = NULL;
        pthread_mutex_lock(&r->lock);
        locked = &r->lock;

        t = tool_list_find(&r->tools, tool);
        if (!t)
                return -ENOENT;
        for (size_t i = 0; i < t->n_commands; i++)
                if (streq(t->commands[i].name, command))
                        return tool_command_copy(&t->commands[i], ret);
        return -ENOENT;
}
