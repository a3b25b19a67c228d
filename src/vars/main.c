/* SPDX-License-Identifier: MIT */
/* tailkitd-vars: the per-project env var store (/vars). */

#include "vars.h"

int main(int argc, char *argv[]) {
        WorkerDefinition def = {
                .name = "vars",
                .routes = vars_routes,
                .n_routes = vars_n_routes,
                .available = vars_available,
        };

        return worker_main(argc, argv, &def);
}
