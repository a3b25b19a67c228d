/* SPDX-License-Identifier: MIT */
/* GET /files?dir= — the entries of a directory beneath a read rule, sorted
 * by name: [{name, size, is_dir, mod_time, mode}] as the Go tailkitd wrote
 * them (lstat: a symlink is listed as itself, never followed). */

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "files-path.h"
#include "files.h"
#include "macro.h"
#include "wire.h"

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void names_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* The names in dir_fd (without "." and ".."): -E2BIG past FILES_LIST_MAX. */
static int read_names(int dir_fd, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;
        DIR *d;
        int fd, e = 0;

        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                e = negative_errno();
                close(fd);
                return e;
        }
        for (;;) {
                struct dirent *de;
                char **m;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        e = errno ? -errno : 0;
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n >= FILES_LIST_MAX) {
                        e = -E2BIG;
                        break;
                }
                m = reallocarray(names, n + 1, sizeof(char *));
                if (!m || !(m[n] = strdup(de->d_name))) {
                        names = m ?: names;
                        e = -ENOMEM;
                        break;
                }
                names = m;
                n++;
        }
        closedir(d);
        if (e < 0) {
                names_free(names, n);
                return e;
        }
        qsort(names, n, sizeof(char *), compare_names);
        *ret = names;
        *ret_n = n;
        return 0;
}

int files_list(Request *r, const char *dir) {
        _cleanup_close_ int rule_fd = -1, fd = -1;
        _cleanup_free_ char *path = NULL;
        const FilesRule *rule = NULL;
        char **names = NULL;
        json_object *a;
        size_t n = 0;
        int e;

        /* "/srv/app" lists like "/srv/app/". */
        if (asprintf(&path, "%s%s", dir, endswith(dir, "/") ? "" : "/") < 0)
                return -ENOMEM;
        rule_fd = files_lookup(r, path, FILES_OP_LIST, &rule);
        if (rule_fd < 0)
                return r->replied ? 0 : rule_fd;
        fd = files_open_directory(rule_fd, files_path_relative(rule, path));
        if (fd < 0)
                return files_reply_errno(r, fd, FILES_OP_LIST, rule);
        e = read_names(fd, &names, &n);
        if (e == -E2BIG)
                return reply_errorf(r, MHD_HTTP_CONTENT_TOO_LARGE, "list a subdirectory, or read files by path",
                                    "the directory holds more than %d entries", FILES_LIST_MAX);
        if (e < 0)
                return files_reply_errno(r, e, FILES_OP_LIST, rule);

        a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++) {
                json_object *o;
                struct stat st;
                char mode[16], mtime[64];

                /* An entry removed meanwhile is skipped, as Go's ReadDir did. */
                if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                files_mode_string(st.st_mode, mode);
                files_format_time(&st.st_mtim, mtime);
                o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(names[i]));
                json_object_object_add(o, "size", json_object_new_int64((int64_t) st.st_size));
                json_object_object_add(o, "is_dir", json_object_new_boolean(S_ISDIR(st.st_mode)));
                json_object_object_add(o, "mod_time", json_object_new_string(mtime));
                json_object_object_add(o, "mode", json_object_new_string(mode));
                json_object_array_add(a, o);
        }
        names_free(names, n);
        if (!a)
                return -ENOMEM;
        return reply_json(r, MHD_HTTP_OK, a);
}
