/* SPDX-License-Identifier: MIT */
/* CPU: /proc/cpuinfo (cpu.InfoStat), /proc/stat ticks (cpu.TimesStat) and
 * busy percentages between two samples, as gopsutil computes them. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

void cpu_sample_done(CpuSample *s) {
        free(s->cpus);
        *s = (CpuSample) {};
}

int cpu_sample_parse(const char *text, CpuSample *ret) {
        _cleanup_(cpu_sample_done) CpuSample s = {};
        bool have_total = false;

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                CpuTimes t = {};
                unsigned long long v[_CPU_FIELDS] = {};
                char name[16];
                int n;

                if (!startswith(l, "cpu"))
                        continue;
                /* Older kernels have fewer columns; missing ones stay 0. */
                n = sscanf(l, "%15s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", name,
                           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
                if (n < 5)
                        return -EBADMSG;
                for (int i = 0; i < _CPU_FIELDS; i++)
                        t.ticks[i] = v[i];
                if (streq(name, "cpu")) {
                        snprintf(t.name, sizeof(t.name), "cpu-total");
                        s.total = t;
                        have_total = true;
                        continue;
                }
                if (s.n_cpus >= CPU_MAX)
                        return -E2BIG;
                snprintf(t.name, sizeof(t.name), "%s", name);
                CpuTimes *a = reallocarray(s.cpus, s.n_cpus + 1, sizeof(CpuTimes));
                if (!a)
                        return -ENOMEM;
                s.cpus = a;
                s.cpus[s.n_cpus++] = t;
        }
        if (!have_total)
                return -EBADMSG;
        *ret = s;
        s = (CpuSample) {};
        return 0;
}

int cpu_sample_read(const MetricsSources *s, CpuSample *ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = metrics_read_file(s->proc, "stat", METRICS_FILE_MAX, &text);
        if (r < 0)
                return r;
        return cpu_sample_parse(text, ret);
}

/* gopsutil getAllBusy() on Linux, in its float arithmetic and order (so the
 * last digits agree too): seconds per field, TimesStat.Total(), minus guest
 * time, which the kernel already counts in user time. */
static void all_busy(const CpuTimes *t, long clk_tck, double *all, double *busy) {
        static const int total_order[_CPU_FIELDS] = {
                CPU_USER, CPU_SYSTEM, CPU_IDLE, CPU_NICE, CPU_IOWAIT, CPU_IRQ, CPU_SOFTIRQ,
                CPU_STEAL, CPU_GUEST, CPU_GUEST_NICE,
        };
        double sec[_CPU_FIELDS], tot = 0;

        for (int i = 0; i < _CPU_FIELDS; i++)
                sec[i] = (double) t->ticks[i] / (double) clk_tck;
        for (int i = 0; i < _CPU_FIELDS; i++)
                tot += sec[total_order[i]];
        tot -= sec[CPU_GUEST];
        tot -= sec[CPU_GUEST_NICE];
        *all = tot;
        *busy = tot - sec[CPU_IDLE] - sec[CPU_IOWAIT];
}

double cpu_busy_percent(const CpuTimes *a, const CpuTimes *b, long clk_tck) {
        double a_all, a_busy, b_all, b_busy, p;

        all_busy(a, clk_tck, &a_all, &a_busy);
        all_busy(b, clk_tck, &b_all, &b_busy);
        if (b_busy <= a_busy)
                return 0;
        if (b_all <= a_all)
                return 100;
        p = (b_busy - a_busy) / (b_all - a_all) * 100;
        return p < 0 ? 0 : p > 100 ? 100 : p;
}

static json_object *times_json(const CpuTimes *t, long clk_tck) {
        static const char *const names[_CPU_FIELDS] = {
                [CPU_USER] = "user", [CPU_NICE] = "nice", [CPU_SYSTEM] = "system", [CPU_IDLE] = "idle",
                [CPU_IOWAIT] = "iowait", [CPU_IRQ] = "irq", [CPU_SOFTIRQ] = "softirq",
                [CPU_STEAL] = "steal", [CPU_GUEST] = "guest", [CPU_GUEST_NICE] = "guestNice",
        };
        /* gopsutil's TimesStat field order. */
        static const int order[_CPU_FIELDS] = {
                CPU_USER, CPU_SYSTEM, CPU_IDLE, CPU_NICE, CPU_IOWAIT, CPU_IRQ, CPU_SOFTIRQ,
                CPU_STEAL, CPU_GUEST, CPU_GUEST_NICE,
        };
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_add(o, "cpu", json_object_new_string(t->name));
        for (int i = 0; i < _CPU_FIELDS; i++)
                json_add(o, names[order[i]], json_double((double) t->ticks[order[i]] / (double) clk_tck));
        return o;
}

/* ---- /proc/cpuinfo ---- */

typedef struct CpuInfo {
        int cpu;
        char vendor[64], family[32], model[32], physical_id[32], core_id[32], model_name[128], microcode[32];
        int stepping, cache_size;
        double mhz;
        char *flags;
} CpuInfo;

static void value_copy(char *dst, size_t size, const char *v) {
        snprintf(dst, size, "%s", v);
}

static json_object *flags_json(const char *flags) {
        json_object *a = json_object_new_array();

        for (const char *p = flags; a && p && *p;) {
                size_t n;

                p += strspn(p, " \t");
                n = strcspn(p, " \t");
                if (n > 0)
                        json_object_array_add(a, json_object_new_string_len(p, (int) n));
                p += n;
        }
        return a;
}

static json_object *info_json(const MetricsSources *s, const CpuInfo *c) {
        json_object *o = json_object_new_object();
        char rel[96], line[64];

        if (!o)
                return NULL;
        /* gopsutil's finishCPUInfo(): cpufreq's maximum (kHz; Hz from
         * drivers that report it so) wins over cpuinfo's current MHz, and the
         * core id comes from the topology when cpuinfo has none. */
        snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cpufreq/cpuinfo_max_freq", c->cpu);
        double mhz = c->mhz;
        if (metrics_read_line(s->sys, rel, line, sizeof(line)) >= 0) {
                char *end;
                double v = strtod(line, &end);
                if (end != line && *end == 0 && v > 0) {
                        mhz = v / 1000.0;
                        if (mhz > 9999)
                                mhz = mhz / 1000.0;
                }
        }
        char core_id[32];
        snprintf(core_id, sizeof(core_id), "%s", c->core_id);
        snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/core_id", c->cpu);
        if (!core_id[0])
                (void) metrics_read_line(s->sys, rel, core_id, sizeof(core_id));
        json_add(o, "cpu", json_object_new_int(c->cpu));
        json_add(o, "vendorId", json_object_new_string(c->vendor));
        json_add(o, "family", json_object_new_string(c->family));
        json_add(o, "model", json_object_new_string(c->model));
        json_add(o, "stepping", json_object_new_int(c->stepping));
        json_add(o, "physicalId", json_object_new_string(c->physical_id));
        json_add(o, "coreId", json_object_new_string(core_id));
        json_add(o, "cores", json_object_new_int(1));     /* gopsutil: one per logical CPU on Linux */
        json_add(o, "modelName", json_object_new_string(c->model_name));
        json_add(o, "mhz", json_double(mhz));
        json_add(o, "cacheSize", json_object_new_int(c->cache_size));
        json_add(o, "flags", flags_json(c->flags));
        json_add(o, "microcode", json_object_new_string(c->microcode));
        return o;
}

static int cpuinfo_json(const MetricsSources *s, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        json_object *a;
        CpuInfo c = { .cpu = -1 };
        int r;

        r = metrics_read_file(s->proc, "cpuinfo", METRICS_FILE_MAX, &text);
        if (r < 0)
                return r;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        /* Blocks separated by blank lines; a sentinel blank line ends the last. */
        for (char *l = text, *next; l; l = next) {
                char *colon, *key, *v;

                next = strchr(l, '\n');
                if (next)
                        *next++ = 0;
                if (strspn(l, " \t") == strlen(l)) {
                        if (c.cpu >= 0 && json_object_array_length(a) < CPU_MAX)
                                json_object_array_add(a, info_json(s, &c));
                        c = (CpuInfo) { .cpu = -1 };
                        continue;
                }
                colon = strchr(l, ':');
                if (!colon)
                        continue;
                *colon = 0;
                key = l;
                for (char *e = colon; e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
                        e[-1] = 0;
                v = colon + 1;
                v += strspn(v, " \t");

                if (streq(key, "processor"))
                        c.cpu = atoi(v);
                else if (streq(key, "vendor_id") || streq(key, "CPU implementer"))
                        value_copy(c.vendor, sizeof(c.vendor), v);
                else if (streq(key, "cpu family"))
                        value_copy(c.family, sizeof(c.family), v);
                else if (streq(key, "model") || streq(key, "CPU part"))
                        value_copy(c.model, sizeof(c.model), v);
                else if (streq(key, "model name") || streq(key, "cpu model"))
                        value_copy(c.model_name, sizeof(c.model_name), v);
                else if (streq(key, "stepping") || streq(key, "CPU revision"))
                        c.stepping = atoi(v);
                else if (streq(key, "physical id"))
                        value_copy(c.physical_id, sizeof(c.physical_id), v);
                else if (streq(key, "core id"))
                        value_copy(c.core_id, sizeof(c.core_id), v);
                else if (streq(key, "cpu MHz"))
                        c.mhz = strtod(v, NULL);
                else if (streq(key, "cache size"))
                        c.cache_size = atoi(v);        /* "512 KB" → 512, as gopsutil */
                else if (streq(key, "flags") || streq(key, "Features"))
                        c.flags = v;
                else if (streq(key, "microcode"))
                        value_copy(c.microcode, sizeof(c.microcode), v);
        }
        if (c.cpu >= 0 && json_object_array_length(a) < CPU_MAX)
                json_object_array_add(a, info_json(s, &c));
        *ret = a;
        return 0;
}

static unsigned long cpu_number(const CpuTimes *t) {
        return strtoul(t->name + 3, NULL, 10);
}

/* The previous sample of cur's CPU i, matched by number, not position: a
 * CPU taken offline between the samples is missing from /proc/stat and
 * would shift the lines after it. Both lists ascend (the kernel prints
 * online CPUs in order), so one cursor walks prev. A CPU that came online
 * counts from 0. */
static const CpuTimes *prev_of(const CpuSample *prev, const CpuSample *cur, size_t i, size_t *cursor) {
        static const CpuTimes none = {};
        unsigned long n = cpu_number(&cur->cpus[i]);

        while (*cursor < prev->n_cpus && cpu_number(&prev->cpus[*cursor]) < n)
                (*cursor)++;
        if (*cursor < prev->n_cpus && cpu_number(&prev->cpus[*cursor]) == n)
                return &prev->cpus[*cursor];
        return &none;
}

int metrics_cpu(const MetricsSources *s, const CpuSample *prev, const CpuSample *cur, bool per_core,
                json_object **ret) {
        json_object *o, *info = NULL, *per = NULL;
        int r;

        r = cpuinfo_json(s, &info);
        if (r < 0)
                return r;
        o = json_object_new_object();
        per = json_object_new_array();
        if (!o || !per) {
                json_object_put(o);
                json_object_put(per);
                json_object_put(info);
                return -ENOMEM;
        }
        json_add(o, "info", info);
        /* Per-core figures only when metrics.toml asks for them. */
        for (size_t i = 0, cursor = 0; per_core && i < cur->n_cpus; i++)
                json_object_array_add(per, json_double(cpu_busy_percent(prev_of(prev, cur, i, &cursor),
                                                                        &cur->cpus[i], s->clk_tck)));
        json_add(o, "percent_per_cpu", per);
        json_add(o, "percent_total", json_double(cpu_busy_percent(&prev->total, &cur->total, s->clk_tck)));
        if (per_core) {
                json_object *t = json_object_new_array();

                for (size_t i = 0; t && i < cur->n_cpus; i++)
                        json_object_array_add(t, times_json(&cur->cpus[i], s->clk_tck));
                json_add(o, "times", t);
        }
        *ret = o;
        return 0;
}
