/* SPDX-License-Identifier: MIT */
/* tailkitd-files: receive, read and list files under the node's rules
 * (files.toml), with post_recv hooks run as jobs. */

#include "files.h"
#include "jobs.h"
#include "log.h"

static int files_init(void) {
        /* Without the job store only post_recv hooks fail (each with its
         * error); reads and writes need none of it. */
        int e = jobs_init();
        if (e < 0)
                log_warning_errno(e, "The job store is unavailable; post_recv hooks will fail: %m");
        return 0;
}

/* Hooks still starting or running keep the worker up: a launch thread must
 * not be cut short by the idle exit. */
static bool files_busy(void) {
        return jobs_housekeeping() > 0;
}

int main(int argc, char *argv[]) {
        WorkerDefinition def = {
                .name = "files",
                .routes = files_routes,
                .n_routes = files_n_routes,
                .available = files_available,
                .init = files_init,
                .busy = files_busy,
                .body = files_body,
        };

        return worker_main(argc, argv, &def);
}
