/* SPDX-License-Identifier: MIT */
#include "files.h"
#include "macro.h"

/* Uploads stream to disk (files_body): max_body only bounds what any rule's
 * max_size could allow; the matched rule's own cap is enforced while the
 * file is written. */
#define FILES_BODY_MAX ((size_t) (FILES_MAX_SIZE_MAX + FILES_MULTIPART_SLACK))

const Route files_routes[] = {
        { "GET",  "/files",   CAP_READ,  0,              false, files_get      },
        { "POST", "/files",   CAP_WRITE, FILES_BODY_MAX, false, files_post_raw },
        { "POST", "/receive", CAP_WRITE, FILES_BODY_MAX, false, files_receive  },
};

/* Every body of this worker goes to disk as it arrives. */
int files_body(Request *r, const char *data, size_t size) {
        if (r->route->handler == files_receive)
                return files_receive_body(r, data, size);
        return files_post_raw_body(r, data, size);
}

const size_t files_n_routes = ELEMENTSOF(files_routes);
