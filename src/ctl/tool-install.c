/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "registry.h"
#include "tool-install.h"

int tool_check_installable(const Tool *t, char **error) {
        int r;

        r = tool_check_install(t, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_commands; i++) {
                const ToolCommand *c = &t->commands[i];
                struct stat st;

                /* tailkitd's own rules first: they say more than "no such file". */
                r = command_check(c, error);
                if (r < 0)
                        return r;
                if (stat(c->exec_parts[0], &st) < 0)
                        return asprintf(error, "command \"%s\": exec_parts[0] %s does not exist",
                                        c->name, c->exec_parts[0]) < 0 ? -ENOMEM : -EBADMSG;
        }
        return 0;
}

int tool_write_atomic(const char *dir, const char *name, const char *data, size_t size) {
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *final = NULL;
        char tmp[] = ".tailkit-tmp-XXXXXX";
        int r;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        if (asprintf(&final, "%s.json", name) < 0)
                return -ENOMEM;
        /* mkostemp wants a path: build the name here, create it in dfd. */
        for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
                static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
                for (size_t i = STRLEN(".tailkit-tmp-"); i < sizeof tmp - 1; i++)
                        tmp[i] = chars[(size_t) random() % (sizeof chars - 1)];
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0 && errno != EEXIST)
                        return negative_errno();
        }
        if (fd < 0)
                return -EEXIST;
        r = write_all(fd, data, size);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = negative_errno();
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && renameat(dfd, tmp, dfd, final) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        /* The rename is durable once the directory is. */
        if (fsync(dfd) < 0)
                return negative_errno();
        return 0;
}
