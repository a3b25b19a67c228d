/* SPDX-License-Identifier: MIT */
#pragma once

/* Fixtures of the config readers' unit tests: one fresh directory per test
 * (with integrations/ in it), files written into it, removed at the end;
 * errors looked up as "<dir>/<name>:<message>". Include once per test. */

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config-reader.h"
#include "macro.h"
#include "tests.h"

static char *dirs[64];
static size_t n_dirs;

static inline const char *new_config_dir(void) {
        char tmpl[] = "/tmp/test-config-XXXXXX", *d, *sub;

        d = mkdtemp(tmpl);
        ASSERT_NOT_NULL(d);
        ASSERT_TRUE(n_dirs < ELEMENTSOF(dirs));
        dirs[n_dirs] = strdup(d);
        ASSERT_NOT_NULL(dirs[n_dirs]);
        ASSERT_TRUE(asprintf(&sub, "%s/integrations", d) >= 0);
        ASSERT_OK(mkdir(sub, 0755));
        free(sub);
        return dirs[n_dirs++];
}

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static inline void remove_dirs(void) {
        for (size_t i = 0; i < n_dirs; i++) {
                ASSERT_OK(nftw(dirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS));
                free(dirs[i]);
        }
}

static inline char *file_path(const char *dir, const char *name) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

static inline void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *p = file_path(dir, name);
        FILE *f = fopen(p, "we");

        ASSERT_NOT_NULL(f);
        ASSERT_INT_EQ(fwrite(content, 1, strlen(content), f), strlen(content));
        ASSERT_INT_EQ(fclose(f), 0);
}

/* The message "<dir>/<name>:<rest>" must be among the errors. */
static inline void assert_error(const ConfigErrors *e, const char *dir, const char *name, const char *rest) {
        _cleanup_free_ char *want = NULL;

        ASSERT_TRUE(asprintf(&want, "%s/%s:%s", dir, name, rest) >= 0);
        for (size_t i = 0; i < e->n; i++)
                if (streq(e->messages[i], want))
                        return;
        for (size_t i = 0; i < e->n; i++)
                fprintf(stderr, "  got: %s\n", e->messages[i]);
        FAIL_AT("missing error: %s", want);
}

static inline bool has_error_containing(const ConfigErrors *e, const char *needle) {
        for (size_t i = 0; i < e->n; i++)
                if (strstr(e->messages[i], needle))
                        return true;
        return false;
}
