/* SPDX-License-Identifier: MIT */
/* tailkitd's metrics as node_exporter names them (node-exposition.h). The
 * figures come from the same collectors and files as the JSON endpoints;
 * only the names, labels and units are node_exporter's: seconds, not ticks;
 * bytes, not kB. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "macro.h"
#include "metrics.h"
#include "node-exposition.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

#define L(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* "key value…" lines of a /proc file: the value after key, or NULL. */
static const char *proc_field(const char *text, const char *key) {
        size_t n = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, key, n) == 0 && p[n] == ' ')
                        return p + n + 1;
        return NULL;
}

static int proc_u64(const char *text, const char *key, uint64_t *ret) {
        const char *v = proc_field(text, key);

        if (!v || sscanf(v, "%" SCNu64, ret) != 1)
                return -ENODATA;
        return 0;
}

/* ---- host ---- */

int node_expo_host(const MetricsSources *s, Expo *e) {
        _cleanup_free_ char *stat = NULL;
        struct utsname u;
        struct timespec ts;
        uint64_t btime;
        int r;

        if (uname(&u) < 0)
                return -errno;
        r = metrics_read_file(s->proc, "stat", METRICS_FILE_MAX, &stat);
        if (r < 0)
                return r;
        expo_family(e, "node_uname_info", EXPO_GAUGE, "Labeled system information as provided by the uname system call.");
        expo_sample_u64(e, "node_uname_info",
                        L("domainname", u.domainname, "machine", u.machine, "nodename", u.nodename,
                          "release", u.release, "sysname", u.sysname, "version", u.version), 1);
        if (proc_u64(stat, "btime", &btime) >= 0) {
                expo_family(e, "node_boot_time_seconds", EXPO_GAUGE, "Node boot time, in unixtime.");
                expo_sample_u64(e, "node_boot_time_seconds", NULL, btime);
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        expo_family(e, "node_time_seconds", EXPO_GAUGE, "System time in seconds since epoch (1970).");
        expo_sample(e, "node_time_seconds", NULL, (double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
        return 0;
}

/* ---- cpu ---- */

int node_expo_cpu(const MetricsSources *s, const MetricsConfig *c, Expo *e) {
        static const struct { int field; const char *mode; } modes[] = {
                { CPU_IDLE, "idle" }, { CPU_IOWAIT, "iowait" }, { CPU_IRQ, "irq" }, { CPU_NICE, "nice" },
                { CPU_SOFTIRQ, "softirq" }, { CPU_STEAL, "steal" }, { CPU_SYSTEM, "system" }, { CPU_USER, "user" },
        };
        _cleanup_free_ char *stat = NULL, *loadavg = NULL;
        _cleanup_(cpu_sample_done) CpuSample cpu = {};
        double hz = (double) (s->clk_tck > 0 ? s->clk_tck : 100);
        double load[3];
        uint64_t v;
        int r;

        r = metrics_read_file(s->proc, "stat", METRICS_FILE_MAX, &stat);
        if (r < 0)
                return r;
        r = cpu_sample_parse(stat, &cpu);
        if (r < 0)
                return r;

        if (c->cpu_per_core) {
                expo_family(e, "node_cpu_seconds_total", EXPO_COUNTER, "Seconds the CPUs spent in each mode.");
                for (size_t i = 0; i < cpu.n_cpus; i++)
                        for (size_t m = 0; m < ELEMENTSOF(modes); m++)
                                expo_sample(e, "node_cpu_seconds_total",
                                            L("cpu", cpu.cpus[i].name + 3, "mode", modes[m].mode),
                                            (double) cpu.cpus[i].ticks[modes[m].field] / hz);
                /* The kernel counts guest time in user and nice too. */
                expo_family(e, "node_cpu_guest_seconds_total", EXPO_COUNTER,
                            "Seconds the CPUs spent in guests (VMs) for each mode.");
                for (size_t i = 0; i < cpu.n_cpus; i++) {
                        expo_sample(e, "node_cpu_guest_seconds_total", L("cpu", cpu.cpus[i].name + 3, "mode", "nice"),
                                    (double) cpu.cpus[i].ticks[CPU_GUEST_NICE] / hz);
                        expo_sample(e, "node_cpu_guest_seconds_total", L("cpu", cpu.cpus[i].name + 3, "mode", "user"),
                                    (double) cpu.cpus[i].ticks[CPU_GUEST] / hz);
                }
        }

        if (metrics_read_file(s->proc, "loadavg", 4096, &loadavg) >= 0 &&
            sscanf(loadavg, "%lf %lf %lf", &load[0], &load[1], &load[2]) == 3) {
                expo_family(e, "node_load1", EXPO_GAUGE, "1m load average.");
                expo_sample(e, "node_load1", NULL, load[0]);
                expo_family(e, "node_load5", EXPO_GAUGE, "5m load average.");
                expo_sample(e, "node_load5", NULL, load[1]);
                expo_family(e, "node_load15", EXPO_GAUGE, "15m load average.");
                expo_sample(e, "node_load15", NULL, load[2]);
        }

        if (proc_u64(stat, "ctxt", &v) >= 0) {
                expo_family(e, "node_context_switches_total", EXPO_COUNTER, "Total number of context switches.");
                expo_sample_u64(e, "node_context_switches_total", NULL, v);
        }
        if (proc_u64(stat, "processes", &v) >= 0) {
                expo_family(e, "node_forks_total", EXPO_COUNTER, "Total number of forks.");
                expo_sample_u64(e, "node_forks_total", NULL, v);
        }
        if (proc_u64(stat, "intr", &v) >= 0) {
                expo_family(e, "node_intr_total", EXPO_COUNTER, "Total number of interrupts serviced.");
                expo_sample_u64(e, "node_intr_total", NULL, v);
        }
        if (proc_u64(stat, "procs_running", &v) >= 0) {
                expo_family(e, "node_procs_running", EXPO_GAUGE, "Number of processes in runnable state.");
                expo_sample_u64(e, "node_procs_running", NULL, v);
        }
        if (proc_u64(stat, "procs_blocked", &v) >= 0) {
                expo_family(e, "node_procs_blocked", EXPO_GAUGE, "Number of processes blocked waiting for I/O to complete.");
                expo_sample_u64(e, "node_procs_blocked", NULL, v);
        }
        return 0;
}

/* ---- memory ---- */

/* node_exporter's name for a meminfo key: "Active(anon)" → "Active_anon". */
static int meminfo_name(const char *key, size_t n, bool kb, char *buf, size_t size) {
        size_t o = 0;

        o = (size_t) snprintf(buf, size, "node_memory_");
        for (size_t i = 0; i < n && o + 1 < size; i++)
                if (key[i] == '(')
                        buf[o++] = '_';
                else if (key[i] != ')')
                        buf[o++] = key[i];
        buf[o] = 0;
        if (kb && o + 7 < size)
                strcat(buf, "_bytes");
        return expo_name_is_valid(buf) ? 0 : -EINVAL;
}

static bool vmstat_wanted(const char *name, bool swap) {
        /* node_exporter's default --collector.vmstat.fields. */
        if (startswith(name, "pswp"))
                return swap;
        return startswith(name, "oom_kill") || startswith(name, "pgpg") ||
               (startswith(name, "pg") && strstr(name, "fault"));
}

int node_expo_memory(const MetricsSources *s, const MetricsConfig *c, Expo *e) {
        _cleanup_free_ char *meminfo = NULL, *vmstat = NULL;
        char name[128], help[192];
        int r;

        r = metrics_read_file(s->proc, "meminfo", METRICS_FILE_MAX, &meminfo);
        if (r < 0)
                return r;
        for (char *line = meminfo, *next; line && *line; line = next) {
                size_t klen = strcspn(line, ":\n");
                unsigned long long v;
                char unit[8] = "";
                int n;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (line[klen] != ':' || klen == 0)
                        continue;
                n = sscanf(line + klen + 1, "%llu %7s", &v, unit);
                if (n < 1 || (n == 2 && !streq(unit, "kB")))
                        continue;
                if (!c->memory_swap && strncmp(line, "Swap", 4) == 0)
                        continue;
                if (meminfo_name(line, klen, n == 2, name, sizeof(name)) < 0)
                        continue;
                snprintf(help, sizeof(help), "Memory information field %s.", name + strlen("node_memory_"));
                expo_family(e, name, EXPO_GAUGE, help);
                expo_sample_u64(e, name, NULL, n == 2 ? (uint64_t) v * 1024 : (uint64_t) v);
        }

        if (metrics_read_file(s->proc, "vmstat", METRICS_FILE_MAX, &vmstat) < 0)
                return 0;
        for (char *line = vmstat, *next; line && *line; line = next) {
                char key[64];
                unsigned long long v;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (sscanf(line, "%63s %llu", key, &v) != 2 || !vmstat_wanted(key, c->memory_swap))
                        continue;
                snprintf(name, sizeof(name), "node_vmstat_%s", key);
                if (!expo_name_is_valid(name))
                        continue;
                snprintf(help, sizeof(help), "/proc/vmstat information field %s.", key);
                expo_family(e, name, EXPO_UNTYPED, help);
                expo_sample_u64(e, name, NULL, (uint64_t) v);
        }
        return 0;
}

/* ---- disk ---- */

/* /proc/mounts escapes blanks and backslashes as \ooo. */
static void unescape_mount(char *s) {
        char *o = s;

        for (char *p = s; *p; )
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
                        *o++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 4;
                } else
                        *o++ = *p++;
        *o = 0;
}

/* The device of the mount holding path (the longest mount point that is a
 * path prefix; the later one of equals, which covers it). */
static void mount_device(const char *mounts, const char *path, char *dev, size_t size) {
        size_t best = 0;

        snprintf(dev, size, "%s", "");
        if (!mounts)
                return;
        for (const char *line = mounts; *line; ) {
                size_t n = strcspn(line, "\n");
                char src[512], mnt[512];

                if (n < 1024) {
                        char l[1024];

                        memcpy(l, line, n);
                        l[n] = 0;
                        if (sscanf(l, "%511s %511s", src, mnt) == 2) {
                                size_t m;

                                unescape_mount(src);
                                unescape_mount(mnt);
                                m = strlen(mnt);
                                if ((streq(mnt, "/") || (strncmp(path, mnt, m) == 0 && (path[m] == 0 || path[m] == '/'))) &&
                                    m >= best) {
                                        best = m;
                                        snprintf(dev, size, "%s", src);
                                }
                        }
                }
                line += n;
                if (*line)
                        line++;
        }
}

int node_expo_disk(const MetricsSources *s, const MetricsConfig *c, Expo *e) {
        static char *const root[] = { (char *) "/" };
        static const struct { const char *name; const char *help; } fams[] = {
                { "node_filesystem_size_bytes",   "Filesystem size in bytes." },
                { "node_filesystem_free_bytes",   "Filesystem free space in bytes." },
                { "node_filesystem_avail_bytes",  "Filesystem space available to non-root users in bytes." },
                { "node_filesystem_files",        "Filesystem total file nodes." },
                { "node_filesystem_files_free",   "Filesystem total free file nodes." },
                { "node_filesystem_device_error", "Whether an error occurred while getting statistics for the given device." },
        };
        _cleanup_(json_object_putp) json_object *list = NULL;
        _cleanup_free_ char *mounts = NULL;
        size_t n;
        int r;

        r = c->n_disk_paths == 0 ? metrics_disk(s, root, 1, DISK_TIMEOUT_MSEC, &list)
                                 : metrics_disk(s, c->disk_paths, c->n_disk_paths, DISK_TIMEOUT_MSEC, &list);
        if (r < 0)
                return r;
        (void) metrics_read_file(s->proc, "self/mounts", METRICS_FILE_MAX, &mounts);
        n = json_object_array_length(list);
        /* Family by family: each one's samples must be contiguous. */
        for (size_t f = 0; f < ELEMENTSOF(fams); f++) {
                expo_family(e, fams[f].name, EXPO_GAUGE, fams[f].help);
                for (size_t i = 0; i < n; i++) {
                        json_object *o = json_object_array_get_idx(list, i), *v;
                        const char *path = json_object_get_string(json_object_object_get(o, "path"));
                        bool failed = json_object_object_get_ex(o, "error", NULL);
                        const char *fstype = json_object_get_string(json_object_object_get(o, "fstype"));
                        uint64_t total, used;
                        char dev[512];

                        if (!path)
                                continue;
                        mount_device(mounts, path, dev, sizeof(dev));
                        const char *const *labels = L("device", dev, "fstype", fstype ?: "", "mountpoint", path);
                        if (f == ELEMENTSOF(fams) - 1) {
                                expo_sample_u64(e, fams[f].name, labels, failed);
                                continue;
                        }
                        if (failed)
                                continue;
#define U(k) ((v = json_object_object_get(o, k)) ? json_object_get_uint64(v) : 0)
                        total = U("total");
                        used = U("used");
                        /* gopsutil's "free" is f_bavail (what node_exporter
                         * calls avail); f_bfree is total - used. */
                        expo_sample_u64(e, fams[f].name, labels,
                                        f == 0 ? total : f == 1 ? (total > used ? total - used : 0) :
                                        f == 2 ? U("free") : f == 3 ? U("inodesTotal") : U("inodesFree"));
#undef U
                }
        }
        return 0;
}

/* ---- network ---- */

int node_expo_network(const MetricsSources *s, const MetricsConfig *c, Expo *e) {
        static const struct { const char *name; const char *key; const char *help; } fams[] = {
                { "node_network_receive_bytes_total",    "bytesRecv",   "Network device statistic receive_bytes." },
                { "node_network_receive_packets_total",  "packetsRecv", "Network device statistic receive_packets." },
                { "node_network_receive_errs_total",     "errin",       "Network device statistic receive_errs." },
                { "node_network_receive_drop_total",     "dropin",      "Network device statistic receive_drop." },
                { "node_network_receive_fifo_total",     "fifoin",      "Network device statistic receive_fifo." },
                { "node_network_transmit_bytes_total",   "bytesSent",   "Network device statistic transmit_bytes." },
                { "node_network_transmit_packets_total", "packetsSent", "Network device statistic transmit_packets." },
                { "node_network_transmit_errs_total",    "errout",      "Network device statistic transmit_errs." },
                { "node_network_transmit_drop_total",    "dropout",     "Network device statistic transmit_drop." },
                { "node_network_transmit_fifo_total",    "fifoout",     "Network device statistic transmit_fifo." },
        };
        _cleanup_(json_object_putp) json_object *list = NULL;
        size_t n;
        int r;

        r = metrics_network(s, c->network_interfaces, c->n_network_interfaces, &list);
        if (r < 0)
                return r;
        n = json_object_array_length(list);
        for (size_t f = 0; f < ELEMENTSOF(fams); f++) {
                expo_family(e, fams[f].name, EXPO_COUNTER, fams[f].help);
                for (size_t i = 0; i < n; i++) {
                        json_object *o = json_object_array_get_idx(list, i);
                        const char *dev = json_object_get_string(json_object_object_get(o, "name"));

                        if (dev)
                                expo_sample_u64(e, fams[f].name, L("device", dev),
                                                json_object_get_uint64(json_object_object_get(o, fams[f].key)));
                }
        }
        return 0;
}
