/* SPDX-License-Identifier: MIT */
#include "exec.h"
#include "macro.h"

const Route exec_routes[] = {
        { "GET",    "/exec/jobs/*", CAP_NONE,  0,         false, exec_job_get    },  /* starter or read cap */
        { "DELETE", "/exec/jobs/*", CAP_NONE,  0,         false, exec_job_delete },  /* write cap or starter */
        { "POST",   "/exec/*/*",    CAP_WRITE, 64 * 1024, false, exec_post       },
};

const size_t exec_n_routes = ELEMENTSOF(exec_routes);
