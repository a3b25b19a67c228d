/* SPDX-License-Identifier: MIT */
/* Per-request state: files.toml is read on every request (it is small), so
 * an edit takes effect without a restart. File contents never reach a log
 * line. */

#include <stdarg.h>

#include "files.h"
#include "log.h"
#include "macro.h"
#include "paths.h"

static void files_request_free(void *p) {
        FilesRequest *f = p;

        if (f->pp)
                MHD_destroy_post_processor(f->pp);
        upload_done(&f->upload);    /* an upload not committed leaves nothing */
        files_config_done(&f->cfg);
        free(f->dest);
        free(f->error);
        free(f->hint);
        multipart_state_done(&f->multipart);
        free(f);
}

int files_available(Request *r, const char **error, const char **hint) {
        static __thread char buf[1024];
        ConfigErrors errors = {};
        FilesRequest *f;
        int e;

        f = calloc(1, sizeof(FilesRequest));
        if (!f) {
                *error = "out of memory";
                return -ENOMEM;
        }
        f->upload = UPLOAD_NULL;
        e = files_config_load(config_dir(), &f->cfg, &errors);
        if (e >= 0) {
                r->userdata = f;
                r->userdata_free = files_request_free;
                return 0;
        }
        free(f);
        if (e == -ENOENT) {
                *error = "files integration not configured on this node";
                snprintf(buf, sizeof(buf), "create %s/files.toml to enable", config_dir());
        } else {
                *error = "files.toml is invalid";
                snprintf(buf, sizeof(buf), "%s (run `tailkitd --check-config` on the node)",
                         errors.n > 0 ? errors.messages[0] : strerror(-e));
        }
        *hint = buf;
        config_errors_done(&errors);
        return e;
}

int files_fail(FilesRequest *f, unsigned status, const char *hint, const char *format, ...) {
        va_list ap;

        if (f->error_status != 0)
                return -1;      /* the first failure is the one to tell */
        f->error_status = status;
        va_start(ap, format);
        if (vasprintf(&f->error, format, ap) < 0)
                f->error = NULL;
        va_end(ap);
        f->hint = hint ? strdup(hint) : NULL;
        return -1;
}

int files_reply_failure(Request *r) {
        FilesRequest *f = files_request(r);

        return reply_error(r, f->error_status ?: MHD_HTTP_INTERNAL_SERVER_ERROR, f->error ?: "internal error",
                           f->hint);
}
