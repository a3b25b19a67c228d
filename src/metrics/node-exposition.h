/* SPDX-License-Identifier: MIT */
#pragma once

/* The metrics tailkitd collects, under node_exporter's names and labels
 * (v1.5, its default collectors), so dashboards and alert rules written for
 * node_exporter work unchanged. One function per metrics.toml section; each
 * writes whole families into e and returns 0 or a negative errno (a section
 * that fails is left out by the caller, as /all leaves out its JSON).
 *
 *   host    node_uname_info, node_boot_time_seconds, node_time_seconds
 *   cpu     node_cpu_seconds_total{cpu,mode} and node_cpu_guest_seconds_total
 *           (per_core: node_exporter has no summed form), node_load1/5/15,
 *           node_context_switches_total, node_forks_total, node_intr_total,
 *           node_procs_running, node_procs_blocked
 *   memory  node_memory_<field>[_bytes] for every /proc/meminfo line (the
 *           Swap* ones only with swap), node_vmstat_{oom_kill,pgpg*,pswp*,
 *           pg*fault}
 *   disk    node_filesystem_{size,free,avail}_bytes, _files, _files_free,
 *           _readonly, _device_error{device,fstype,mountpoint}
 *   network node_network_{receive,transmit}_{bytes,packets,errs,drop,fifo}_total{device}
 */

#include "exposition.h"
#include "metrics-config.h"
#include "sources.h"

int node_expo_host(const MetricsSources *s, Expo *e);
int node_expo_cpu(const MetricsSources *s, const MetricsConfig *c, Expo *e);
int node_expo_memory(const MetricsSources *s, const MetricsConfig *c, Expo *e);
int node_expo_disk(const MetricsSources *s, const MetricsConfig *c, Expo *e);
int node_expo_network(const MetricsSources *s, const MetricsConfig *c, Expo *e);

/* tailkitd_* from each worker's counters (src/shared/worker-stats.h). */
int self_expo(Expo *e);
