/* SPDX-License-Identifier: MIT */
/* open_beneath: openat2 with RESOLVE_BENEATH, and the component walk used
 * where openat2 is blocked. Both must keep every path beneath the dir. */

#include <fcntl.h>
#include <sys/stat.h>

#include "macro.h"
#include "path-util.h"
#include "tests.h"

static char root[] = "/tmp/test-path-util-XXXXXX";

static void make_tree(void) {
        char cmd[512];

        ASSERT_NOT_NULL(mkdtemp(root));
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && mkdir -p base/sub outside && echo in > base/sub/f && echo out > outside/secret && "
                 "ln -s ../outside base/escape && ln -s /etc/passwd base/abs && ln -s sub/f base/rel",
                 root);
        ASSERT_INT_EQ(system(cmd), 0);
}

typedef int (*Opener)(int dir_fd, const char *path);

static int via_openat2(int dir_fd, const char *path) {
        return open_beneath(dir_fd, path, O_RDONLY, 0, 0);
}

static int via_openat2_nosymlinks(int dir_fd, const char *path) {
        return open_beneath(dir_fd, path, O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
}

static int via_walk(int dir_fd, const char *path) {
        return open_beneath_walk(dir_fd, path, O_RDONLY, 0);
}

static void check_escapes_refused(Opener open_fn, int base) {
        static const char *const escapes[] = {
                "..", "../outside/secret", "sub/../../outside/secret", "/etc/passwd",
                "escape/secret", "abs",
        };
        for (size_t i = 0; i < ELEMENTSOF(escapes); i++) {
                int fd = open_fn(base, escapes[i]);
                if (fd >= 0)
                        FAIL_AT("%s was opened", escapes[i]);
        }
}

TEST(beneath) {
        char path[300];
        int base, fd;

        make_tree();
        snprintf(path, sizeof(path), "%s/base", root);
        base = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(base >= 0);

        Opener all[] = { via_openat2, via_openat2_nosymlinks, via_walk };
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                fd = all[i](base, "sub/f");
                ASSERT_TRUE(fd >= 0);
                close(fd);
                fd = all[i](base, "./sub//f");
                ASSERT_TRUE(fd >= 0);
                close(fd);
                check_escapes_refused(all[i], base);
        }

        /* A symlink that stays inside: followed by openat2, refused by the rest. */
        fd = via_openat2(base, "rel");
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_TRUE(via_openat2_nosymlinks(base, "rel") < 0);
        ASSERT_TRUE(via_walk(base, "rel") < 0);

        /* Creating through the walk. */
        fd = open_beneath_walk(base, "sub/new", O_WRONLY | O_CREAT | O_EXCL, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_INT_EQ(open_beneath_walk(base, "escape/new", O_WRONLY | O_CREAT, 0600) < 0, 1);

        ASSERT_OK(mkdirat_exist_ok(base, "made", 0700));
        ASSERT_OK(mkdirat_exist_ok(base, "made", 0700));

        close(base);
        snprintf(path, sizeof(path), "rm -rf '%s'", root);
        ASSERT_INT_EQ(system(path), 0);
}

int main(void) {
        RUN(beneath);
        return 0;
}
