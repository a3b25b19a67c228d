/* SPDX-License-Identifier: MIT */
/* Receiving a file, whichever form it came in: the rule, the path beneath
 * it, the upload, the answer. */

#include "files-errors.h"
#include "files-path.h"
#include "files.h"
#include "hooks.h"
#include "log.h"
#include "macro.h"
#include "paths.h"

static int fail_errno(FilesRequest *f, int e) {
        FilesErrorText t;

        files_describe_errno(e, FILES_OP_WRITE, f->rule, &t);
        return files_fail(f, t.status, t.hint[0] ? t.hint : NULL, "%s", t.error);
}

int files_write_begin(Request *r, const char *path, size_t path_len, uint64_t declared_size) {
        FilesRequest *f = files_request(r);
        _cleanup_close_ int rule_fd = -1;
        const char *why = NULL;
        char hint[512];
        int e;

        if (files_path_check(path, path_len, &why) < 0)
                return files_fail(f, MHD_HTTP_BAD_REQUEST,
                                  "send an absolute path without empty, \".\" or \"..\" segments",
                                  "invalid path: %s", why);
        f->dest = strdup(path);
        if (!f->dest)
                return files_fail(f, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");

        f->rule = files_config_match(&f->cfg, path);
        if (!f->rule) {
                snprintf(hint, sizeof(hint), "add a [[\"/dir/\"]] block with write = true to %s/files.toml",
                         config_dir());
                return files_fail(f, MHD_HTTP_FORBIDDEN, hint, "no rule in files.toml covers this path");
        }
        if (!f->rule->write) {
                snprintf(hint, sizeof(hint), "the rule [[\"%s\"]] in files.toml has no write = true", f->rule->dir);
                return files_fail(f, MHD_HTTP_FORBIDDEN, hint, "write permission denied for this path");
        }
        if (declared_size != UINT64_MAX && declared_size > f->rule->max_size)
                return fail_errno(f, -EFBIG);

        /* Hooks that cannot run are the node's mistake: say so before the body. */
        e = files_hooks_check(f->rule, hint, sizeof(hint));
        if (e < 0)
                return files_fail(f, MHD_HTTP_SERVICE_UNAVAILABLE, hint,
                                  "a post_recv hook of this rule names no installed command");

        rule_fd = files_open_rule_dir(f->rule);
        if (rule_fd < 0) {
                log_warning_errno(rule_fd, "Cannot open the directory of files.toml rule %s: %m", f->rule->dir);
                snprintf(hint, sizeof(hint), "create %s on the node, or fix its rule in files.toml", f->rule->dir);
                return files_fail(f, MHD_HTTP_SERVICE_UNAVAILABLE, hint, "the rule's directory cannot be opened");
        }
        e = upload_begin(&f->upload, rule_fd, files_path_relative(f->rule, path), f->rule->max_size);
        if (e < 0)
                return fail_errno(f, e);
        f->upload_started = true;
        /* A body that cannot fit is refused before it is read: the caller
         * gets its 507 at once instead of the worker draining a bounded
         * amount and then closing on it (worker.h). */
        if (declared_size != UINT64_MAX) {
                e = upload_check_space(&f->upload, declared_size);
                if (e < 0)
                        return fail_errno(f, e);
        }
        return 0;
}

int files_write_data(Request *r, const char *data, size_t size) {
        FilesRequest *f = files_request(r);
        int e;

        if (f->error_status != 0 || !f->upload_started)
                return -1;
        e = upload_write(&f->upload, data, size);
        return e < 0 ? fail_errno(f, e) : 0;
}

int files_write_finish(Request *r) {
        FilesRequest *f = files_request(r);
        _cleanup_free_ char *job_id = NULL;
        char size[32];
        json_object *o;
        int e;

        if (f->error_status != 0)
                return files_reply_failure(r);
        if (!f->upload_started) {
                files_fail(f, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "no upload");
                return files_reply_failure(r);
        }
        e = upload_commit(&f->upload);
        if (e < 0) {
                log_warning_errno(e, "Cannot write %s: %m", f->dest);
                fail_errno(f, e);
                return files_reply_failure(r);
        }
        snprintf(size, sizeof(size), "%llu", (unsigned long long) f->upload.size);
        log_struct(LOG_INFO,
                   ((LogField[]) { { "CALLER", request_caller_name(r) }, { "FILE_PATH", f->dest },
                                   { "FILE_SIZE", size }, {} }),
                   "file received");

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "written_to", json_object_new_string(f->dest));
        json_object_object_add(o, "bytes_written", json_object_new_int64((int64_t) f->upload.size));
        if (f->rule->n_post_recv > 0) {
                char hint[512];

                e = files_hooks_start(r, f->rule, f->dest, &job_id, hint, sizeof(hint));
                if (e < 0) {
                        /* The file is in place; the caller must know its hooks did not run. */
                        json_object_put(o);
                        return reply_errorf(r, e == -EBUSY || e == -ENOSPC ? MHD_HTTP_TOO_MANY_REQUESTS :
                                            MHD_HTTP_SERVICE_UNAVAILABLE, hint,
                                            "the file was written to %s, but its post_recv hooks could not start",
                                            f->dest);
                }
                json_object_object_add(o, "job_id", json_object_new_string(job_id));
                json_object_object_add(o, "status", json_object_new_string("accepted"));
        } else
                json_object_object_add(o, "status", json_object_new_string("ok"));
        return reply_json(r, MHD_HTTP_OK, o);
}
