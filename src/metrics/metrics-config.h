/* SPDX-License-Identifier: MIT */
#pragma once

/* integrations/metrics.toml (README "Metrics integration"): one section per
 * resource, each off unless `enabled = true`. Linked by the metrics worker
 * and by `tailkitd --check-config`. */

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define METRICS_PROCESSES_LIMIT_DEFAULT 20
#define METRICS_PROCESSES_LIMIT_MAX 100    /* the Go seed's range, 1..100 */

typedef struct MetricsConfig {
        bool host_enabled;
        bool cpu_enabled, cpu_per_core;
        bool memory_enabled, memory_swap;
        bool disk_enabled;
        char **disk_paths;           /* absolute; empty: "/" only */
        size_t n_disk_paths;
        bool network_enabled;
        char **network_interfaces;   /* empty: every interface */
        size_t n_network_interfaces;
        bool processes_enabled;
        unsigned processes_limit;
} MetricsConfig;

int metrics_config_load(const char *config_dir, MetricsConfig *ret, ConfigErrors *errors);
void metrics_config_done(MetricsConfig *c);

/* For --check-config: 1 when the file is invalid or unreadable, 0 when fine
 * or absent, -ENOMEM. */
int metrics_config_check(const char *config_dir, ConfigErrors *errors);

/* What the kernel accepts as an interface name (dev_valid_name()). */
bool metrics_ifname_is_valid(const char *s);
