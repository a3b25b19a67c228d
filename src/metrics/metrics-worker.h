/* SPDX-License-Identifier: MIT */
#pragma once

#include "worker.h"

int metrics_available(Request *r, const char **error, const char **hint);
int metrics_init(void);

int metrics_available_get(Request *r);
int metrics_all_get(Request *r);
int metrics_host_get(Request *r);
int metrics_cpu_get(Request *r);
int metrics_memory_get(Request *r);
int metrics_disk_get(Request *r);
int metrics_network_get(Request *r);
int metrics_processes_get(Request *r);
/* The Prometheus exposition (prometheus.c); after the checks /all has run. */
int metrics_prometheus_get(Request *r);
int metrics_exposition_reply(Request *r, bool openmetrics);

extern const Route metrics_routes[];
extern const size_t metrics_n_routes;
