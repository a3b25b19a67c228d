/* SPDX-License-Identifier: MIT */
#pragma once

/* A stored scope, opened for reading: a flat JSON object of strings,
 * checked whole once (strict JSON, UTF-8, no NUL, no duplicate key) and
 * indexed by key. Values are not loaded: each entry holds where its value's
 * string body lies in the file, and readers decode it from there in pieces.
 * The file is read through the fd kept open, so a write that replaces it
 * meanwhile (rename) does not change what this reader sees. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ScopeEntry {
        uint32_t key;            /* offset of the decoded key in ScopeFile.keys */
        bool visible;            /* a var (else metadata or a foreign key, never shown) */
        uint64_t off, len;       /* the value's string body: file bytes between the quotes */
} ScopeEntry;

typedef struct ScopeFile {
        int fd;                  /* -1: nothing stored, an empty scope */
        ScopeEntry *entries;     /* sorted by key */
        size_t n, n_visible;
        char *keys;
        size_t keys_size, keys_alloc, entries_alloc;
        size_t charged;          /* held from index_budget */
} ScopeFile;

/* Opens <env>.json beneath dir_fd; an empty scope when there is none.
 * -EBADMSG: not a valid scope file; -EBUSY: the index budget is spent. */
int scope_file_open_at(int dir_fd, const char *env, ScopeFile **ret);
/* The same from an open fd, which *ret then owns (closed on failure too). */
int scope_file_parse(int fd, ScopeFile **ret);
/* An empty scope (nothing stored). */
ScopeFile *scope_file_new_empty(void);
ScopeFile *scope_file_free(ScopeFile *f);

static inline const char *scope_entry_key(const ScopeFile *f, const ScopeEntry *e) {
        return f->keys + e->key;
}

const ScopeEntry *scope_file_find(const ScopeFile *f, const char *key);
