/* SPDX-License-Identifier: MIT */
#include "macro.h"
#include "metrics-worker.h"

const Route metrics_routes[] = {
        { "GET", "/integrations/metrics",           CAP_READ, 0, false, metrics_all_get       },
        { "GET", "/integrations/metrics/",          CAP_READ, 0, false, metrics_all_get       },
        { "GET", "/integrations/metrics/all",       CAP_READ, 0, false, metrics_all_get       },
        { "GET", "/integrations/metrics/host",      CAP_READ, 0, false, metrics_host_get      },
        { "GET", "/integrations/metrics/cpu",       CAP_READ, 0, false, metrics_cpu_get       },
        { "GET", "/integrations/metrics/memory",    CAP_READ, 0, false, metrics_memory_get    },
        { "GET", "/integrations/metrics/disk",      CAP_READ, 0, false, metrics_disk_get      },
        { "GET", "/integrations/metrics/network",   CAP_READ, 0, false, metrics_network_get   },
        { "GET", "/integrations/metrics/processes", CAP_READ, 0, false, metrics_processes_get },
        { "GET", "/integrations/metrics/prometheus", CAP_READ, 0, false, metrics_prometheus_get },
        /* The Go client asks before it uses the integration (SPEC §1.5);
         * identity only, like the tools worker's answer for absent ones. */
        { "GET", "/integrations/metrics/available", CAP_NONE, 0, true,  metrics_available_get },
};

const size_t metrics_n_routes = ELEMENTSOF(metrics_routes);
