/* SPDX-License-Identifier: MIT */
#pragma once

/* The metrics, each built as gopsutil v4 would serialize it (field names and
 * arithmetic: README "Metrics"). Builders return 0 or a negative errno and
 * hand over a new JSON value in *ret. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sources.h"

/* ---- host.c ---- */
int metrics_host(const MetricsSources *s, json_object **ret);

/* ---- cpu.c ---- */
enum {
        CPU_USER, CPU_NICE, CPU_SYSTEM, CPU_IDLE, CPU_IOWAIT, CPU_IRQ, CPU_SOFTIRQ,
        CPU_STEAL, CPU_GUEST, CPU_GUEST_NICE, _CPU_FIELDS
};

typedef struct CpuTimes {
        char name[16];              /* "cpu-total" for the summary line, "cpu3" */
        uint64_t ticks[_CPU_FIELDS];
} CpuTimes;

typedef struct CpuSample {
        CpuTimes total;
        CpuTimes *cpus;
        size_t n_cpus;
} CpuSample;

#define CPU_MAX 8192

/* Parses a /proc/stat text. */
int cpu_sample_parse(const char *text, CpuSample *ret);
int cpu_sample_read(const MetricsSources *s, CpuSample *ret);
void cpu_sample_done(CpuSample *s);
/* gopsutil's calculateBusy(): busy share of the ticks between a and b, 0..100. */
double cpu_busy_percent(const CpuTimes *a, const CpuTimes *b, long clk_tck);
/* {"info":[InfoStat…],"percent_per_cpu":[…],"percent_total":…,"times"?:[TimesStat…]} */
int metrics_cpu(const MetricsSources *s, const CpuSample *prev, const CpuSample *cur, bool per_core,
                json_object **ret);

/* ---- memory.c ---- */
/* {"virtual":VirtualMemoryStat,"swap":SwapMemoryStat|null} */
int metrics_memory(const MetricsSources *s, bool swap, json_object **ret);

/* ---- disk.c ---- */
#define DISK_TIMEOUT_MSEC 1000
/* [UsageStat…] for each path, in order; a path that is missing or whose
 * filesystem does not answer within timeout_msec gets an "error" instead of
 * numbers. Never blocks for much longer than timeout_msec. */
int metrics_disk(const MetricsSources *s, char *const *paths, size_t n_paths, unsigned timeout_msec,
                 json_object **ret);
struct statvfs;
/* One UsageStat from statvfs() figures (fstype from <proc>/self/mounts). */
json_object *metrics_disk_usage_json(const MetricsSources *s, const char *path, const struct statvfs *st);

/* ---- network.c ---- */
typedef struct NetCounters {
        char name[64];
        uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped, rx_fifo;
        uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped, tx_fifo;
} NetCounters;

typedef struct NetList {
        NetCounters *items;
        size_t n, alloc;
} NetList;

#define NET_IFACES_MAX 65536

void net_list_done(NetList *l);
/* /proc/net/dev text. */
int net_parse_proc_dev(const char *text, NetList *l);
/* One RTM_NEWLINK message of a dump (IFLA_IFNAME, IFLA_STATS64 or IFLA_STATS). */
int net_parse_link_msg(const void *nlh, size_t len, NetList *l);
/* [IOCountersStat…], only the named interfaces when n_ifaces > 0. */
int metrics_network(const MetricsSources *s, char *const *ifaces, size_t n_ifaces, json_object **ret);

/* ---- processes.c ---- */
/* Top limit processes by lifetime CPU share:
 * [{"pid","name","status","cpu_percent","memory_rss_bytes","cmdline"?}] */
int metrics_processes(const MetricsSources *s, unsigned limit, bool with_cmdline, json_object **ret);
