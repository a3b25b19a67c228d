/* SPDX-License-Identifier: MIT */
/* tailkitd-exec: runs registered tool commands as transient scopes (/exec). */

#include "exec.h"
#include "jobs.h"
#include "macro.h"
#include "paths.h"

Registry *exec_registry;

static int exec_init(void) {
        _cleanup_free_ char *dir = NULL;

        if (asprintf(&dir, "%s/tools", config_dir()) < 0)
                return -ENOMEM;
        exec_registry = registry_new(dir);
        if (!exec_registry)
                return -ENOMEM;
        (void) registry_refresh(exec_registry);
        return jobs_init();
}

static void exec_done(void) {
        exec_registry = registry_free(exec_registry);
}

/* Jobs that count keep the worker up; the tick also takes in the jobs other
 * workers started, logs finished jobs and evicts old records. */
static bool exec_busy(void) {
        jobs_adopt_new_records();
        return jobs_housekeeping() > 0;
}

int main(int argc, char *argv[]) {
        WorkerDefinition def = {
                .name = "exec",
                .routes = exec_routes,
                .n_routes = exec_n_routes,
                .init = exec_init,
                .done = exec_done,
                .busy = exec_busy,
        };

        return worker_main(argc, argv, &def);
}
