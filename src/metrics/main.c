/* SPDX-License-Identifier: MIT */
/* tailkitd-metrics: host, CPU, memory, disk, network and process metrics
 * (/integrations/metrics), as gopsutil v4 JSON. */

#include "metrics-worker.h"

int main(int argc, char *argv[]) {
        WorkerDefinition def = {
                .name = "metrics",
                .routes = metrics_routes,
                .n_routes = metrics_n_routes,
                .available = metrics_available,
                .init = metrics_init,
        };

        return worker_main(argc, argv, &def);
}
