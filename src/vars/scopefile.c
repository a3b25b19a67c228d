/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>

#include "budget.h"
#include "jstring.h"
#include "macro.h"
#include "path-util.h"
#include "scopefile.h"
#include "store.h"
#include "vars-names.h"

/* Keys the store never writes but a file edited by hand may hold ("_"
 * ones): counted apart from VARS_KEYS_MAX, and bounded all the same. */
#define FOREIGN_KEYS_MAX 64
#define READ_CHUNK (16 * 1024)

typedef struct Reader {
        int fd;
        uint64_t off;            /* file offset of buf[0] */
        size_t pos, len;
        char buf[READ_CHUNK];
} Reader;

/* The next byte, -ENODATA at the end, or -errno. */
static int next_byte(Reader *r) {
        if (r->pos == r->len) {
                ssize_t n;

                r->off += r->len;
                r->pos = r->len = 0;
                do
                        n = read(r->fd, r->buf, sizeof(r->buf));
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -ENODATA;
                r->len = (size_t) n;
                if (r->off + r->len > VARS_SCOPE_FILE_MAX)
                        return -EBADMSG;   /* grew in place past the cap */
        }
        return (unsigned char) r->buf[r->pos++];
}

static uint64_t reader_tell(const Reader *r) {
        return r->off + r->pos;
}

static int skip_ws(Reader *r) {
        int c;

        while ((c = next_byte(r)) == ' ' || c == '\t' || c == '\n' || c == '\r')
                ;
        return c;
}

/* Reads a string body up to its closing quote; with out, decodes it there
 * (at most max bytes, NUL-terminated). */
static int read_string(Reader *r, char *out, size_t max) {
        JStrDecoder d = JSTR_DECODER_INIT;
        size_t len = 0;
        char dec[4];

        for (;;) {
                int c = next_byte(r), n;

                if (c < 0)
                        return c == -ENODATA ? -EBADMSG : c;
                n = jstr_feed(&d, (unsigned char) c, dec);
                if (n < 0)
                        return n;
                if (n == JSTR_END)
                        break;
                if (out) {
                        if (len + (size_t) n > max)
                                return -EBADMSG;
                        memcpy(out + len, dec, (size_t) n);
                }
                len += (size_t) n;
        }
        if (out)
                out[len] = 0;
        return 0;
}

static int grow(ScopeFile *f, void **p, size_t *alloc, size_t need, size_t unit) {
        size_t a = MAX(*alloc * 2, (size_t) 64), more;
        void *q;

        if (need <= *alloc)
                return 0;
        while (a < need)
                a *= 2;
        more = (a - *alloc) * unit;
        if (!budget_take(&index_budget, more))
                return -EBUSY;
        q = realloc(*p, a * unit);
        if (!q) {
                budget_give(&index_budget, more);
                return -ENOMEM;
        }
        f->charged += more;
        *p = q;
        *alloc = a;
        return 0;
}

static int add_entry(ScopeFile *f, const char *key, uint64_t off, uint64_t len) {
        size_t kl = strlen(key) + 1;
        bool visible = vars_key_is_valid(key);
        int r;

        if (visible ? f->n_visible >= VARS_KEYS_MAX : f->n - f->n_visible >= FOREIGN_KEYS_MAX)
                return -EBADMSG;
        r = grow(f, (void **) &f->entries, &f->entries_alloc, f->n + 1, sizeof(ScopeEntry));
        if (r < 0)
                return r;
        r = grow(f, (void **) &f->keys, &f->keys_alloc, f->keys_size + kl, 1);
        if (r < 0)
                return r;
        memcpy(f->keys + f->keys_size, key, kl);
        f->entries[f->n++] = (ScopeEntry) { .key = (uint32_t) f->keys_size, .visible = visible, .off = off, .len = len };
        f->keys_size += kl;
        f->n_visible += visible;
        return 0;
}

static int parse_object(ScopeFile *f, Reader *rd) {
        char key[VARS_KEY_MAX + 1];
        int c, r;

        if (skip_ws(rd) != '{')
                return -EBADMSG;
        c = skip_ws(rd);
        if (c != '}')
                for (;;) {
                        uint64_t off;

                        if (c != '"')
                                return c < 0 && c != -ENODATA ? c : -EBADMSG;
                        r = read_string(rd, key, VARS_KEY_MAX);
                        if (r < 0)
                                return r;
                        if (skip_ws(rd) != ':' || skip_ws(rd) != '"')
                                return -EBADMSG;
                        off = reader_tell(rd);
                        r = read_string(rd, NULL, 0);
                        if (r < 0)
                                return r;
                        r = add_entry(f, key, off, reader_tell(rd) - 1 - off);
                        if (r < 0)
                                return r;
                        c = skip_ws(rd);
                        if (c == '}')
                                break;
                        if (c != ',')
                                return -EBADMSG;
                        c = skip_ws(rd);
                }
        c = skip_ws(rd);
        return c == -ENODATA ? 0 : c < 0 ? c : -EBADMSG;
}

static int cmp_entry(const void *a, const void *b, void *keys) {
        return strcmp((const char *) keys + ((const ScopeEntry *) a)->key,
                      (const char *) keys + ((const ScopeEntry *) b)->key);
}

static ScopeFile *scope_file_new(int fd) {
        ScopeFile *f = calloc(1, sizeof(ScopeFile));

        if (f)
                f->fd = fd;
        return f;
}

ScopeFile *scope_file_new_empty(void) {
        return scope_file_new(-1);
}

ScopeFile *scope_file_free(ScopeFile *f) {
        if (!f)
                return NULL;
        budget_give(&index_budget, f->charged);
        if (f->fd >= 0)
                close(f->fd);
        free(f->entries);
        free(f->keys);
        free(f);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ScopeFile *, scope_file_free);

int scope_file_parse(int fd, ScopeFile **ret) {
        _cleanup_(scope_file_freep) ScopeFile *f = NULL;
        _cleanup_free_ Reader *rd = NULL;
        int r;

        f = scope_file_new(fd);
        if (!f) {
                close(fd);
                return -ENOMEM;
        }
        rd = calloc(1, sizeof(Reader));
        if (!rd)
                return -ENOMEM;
        rd->fd = fd;
        r = parse_object(f, rd);
        if (r < 0)
                return r;

        qsort_r(f->entries, f->n, sizeof(ScopeEntry), cmp_entry, f->keys);
        for (size_t i = 1; i < f->n; i++)
                if (streq(scope_entry_key(f, &f->entries[i - 1]), scope_entry_key(f, &f->entries[i])))
                        return -EBADMSG;   /* which one would be the value? */
        *ret = TAKE_PTR(f);
        return 0;
}

int scope_file_open_at(int dir_fd, const char *env, ScopeFile **ret) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (asprintf(&name, "%s.json", env) < 0)
                return -ENOMEM;
        fd = open_beneath(dir_fd, name, O_RDONLY | O_NOCTTY, 0, RESOLVE_NO_SYMLINKS);
        if (fd == -ENOENT) {
                *ret = scope_file_new_empty();
                return *ret ? 0 : -ENOMEM;
        }
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_size > VARS_SCOPE_FILE_MAX)
                return -EBADMSG;
        return scope_file_parse(TAKE_FD(fd), ret);
}

const ScopeEntry *scope_file_find(const ScopeFile *f, const char *key) {
        size_t lo = 0, hi = f->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(key, scope_entry_key(f, &f->entries[mid]));

                if (c == 0)
                        return &f->entries[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}
