/* SPDX-License-Identifier: MIT */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "files-errors.h"
#include "macro.h"

void files_describe_errno(int e, FilesOp op, const FilesRule *rule, FilesErrorText *t) {
        const char *dir = rule ? rule->dir : "the rule's directory";

        t->hint[0] = 0;
        switch (e) {
        case -EXDEV:
        case -ELOOP:
                t->status = MHD_HTTP_FORBIDDEN;
                snprintf(t->error, sizeof(t->error), "path leaves the rule's directory");
                snprintf(t->hint, sizeof(t->hint),
                         "symlinks and magic links may not lead outside %s; send the path they point to", dir);
                break;
        case -EMLINK:
                t->status = MHD_HTTP_BAD_REQUEST;
                snprintf(t->error, sizeof(t->error), "the destination is a symbolic link");
                snprintf(t->hint, sizeof(t->hint), "write to the path the link points to");
                break;
        case -ENOENT:
                t->status = MHD_HTTP_NOT_FOUND;
                snprintf(t->error, sizeof(t->error), op == FILES_OP_LIST ? "directory not found" : "file not found");
                break;
        case -ENOTDIR:
                t->status = op == FILES_OP_LIST ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_NOT_FOUND;
                snprintf(t->error, sizeof(t->error), op == FILES_OP_LIST ? "not a directory" :
                         "a component of the path is not a directory");
                if (op == FILES_OP_LIST)
                        snprintf(t->hint, sizeof(t->hint), "use ?path= to read a file");
                break;
        case -EISDIR:
                t->status = MHD_HTTP_BAD_REQUEST;
                snprintf(t->error, sizeof(t->error), "the path names a directory");
                snprintf(t->hint, sizeof(t->hint), op == FILES_OP_WRITE ?
                         "send the path of a file, its name included" : "use ?dir= to list a directory");
                break;
        case -ENODEV:
                t->status = MHD_HTTP_BAD_REQUEST;
                snprintf(t->error, sizeof(t->error), "not a regular file");
                snprintf(t->hint, sizeof(t->hint), "devices, FIFOs and sockets are never read or written");
                break;
        case -EACCES:
        case -EPERM:
                t->status = MHD_HTTP_FORBIDDEN;
                snprintf(t->error, sizeof(t->error), "permission denied by the node's filesystem");
                break;
        case -ENAMETOOLONG:
                t->status = MHD_HTTP_BAD_REQUEST;
                snprintf(t->error, sizeof(t->error), "path too long");
                break;
        case -EROFS:
                t->status = MHD_HTTP_SERVICE_UNAVAILABLE;
                snprintf(t->error, sizeof(t->error), "%s is read-only for the files worker", dir);
                snprintf(t->hint, sizeof(t->hint),
                         "the worker's sandbox makes the write directories of files.toml writable when systemd "
                         "reads them: run `systemctl daemon-reload` after editing files.toml");
                break;
        case -ENOSPC:
        case -EDQUOT:
                t->status = MHD_HTTP_INSUFFICIENT_STORAGE;
                snprintf(t->error, sizeof(t->error), "no space left on the node's disk");
                /* upload.c writes a temp file and renames it only once complete:
                 * whatever was at the path before is still there. */
                if (op == FILES_OP_WRITE)
                        snprintf(t->hint, sizeof(t->hint),
                                 "free space on the file system holding %s (or raise its quota); "
                                 "the file at that path, if any, is unchanged", dir);
                break;
        case -EFBIG:
                t->status = MHD_HTTP_CONTENT_TOO_LARGE;
                snprintf(t->error, sizeof(t->error), "file too large (at most %llu bytes under %s)",
                         rule ? (unsigned long long) rule->max_size : 0ULL, dir);
                snprintf(t->hint, sizeof(t->hint), "raise max_size in the rule's block of files.toml");
                break;
        case -EAGAIN:
                t->status = MHD_HTTP_CONFLICT;
                snprintf(t->error, sizeof(t->error), "the file changed while it was opened");
                snprintf(t->hint, sizeof(t->hint), "retry");
                break;
        default:
                t->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                snprintf(t->error, sizeof(t->error), "%s failed: %s",
                         op == FILES_OP_WRITE ? "write" : op == FILES_OP_LIST ? "list" : "read", strerror(-e));
                break;
        }
}
