/* SPDX-License-Identifier: MIT */
/* Memory: /proc/meminfo (mem.VirtualMemoryStat) and /proc/vmstat
 * (mem.SwapMemoryStat), with gopsutil v4's arithmetic:
 *   cached      = Cached + SReclaimable
 *   used        = total - free - buffers - cached
 *   usedPercent = used / total * 100
 *   available   = MemAvailable (kernels before 3.14: cached + free)
 *   swap used   = SwapTotal - SwapFree; sin/sout/pgIn/pgOut/pgFault/pgMajFault
 *                 = the vmstat counter * 4096 (gopsutil's own factor). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

/* JSON name, meminfo name, multiply by 1024 (kB) or not (counts). */
static const struct {
        const char *json, *meminfo;
        bool kib;
} virtual_fields[] = {
        { "total", "MemTotal", true },
        { "available", "MemAvailable", true },
        { "used", NULL, true },
        { "usedPercent", NULL, true },
        { "free", "MemFree", true },
        { "active", "Active", true },
        { "inactive", "Inactive", true },
        { "wired", NULL, true },
        { "laundry", NULL, true },
        { "buffers", "Buffers", true },
        { "cached", "Cached", true },
        { "writeBack", "Writeback", true },
        { "dirty", "Dirty", true },
        { "writeBackTmp", "WritebackTmp", true },
        { "shared", "Shmem", true },
        { "slab", "Slab", true },
        { "sreclaimable", "SReclaimable", true },
        { "sunreclaim", "SUnreclaim", true },
        { "pageTables", "PageTables", true },
        { "swapCached", "SwapCached", true },
        { "commitLimit", "CommitLimit", true },
        { "committedAS", "Committed_AS", true },
        { "highTotal", "HighTotal", true },
        { "highFree", "HighFree", true },
        { "lowTotal", "LowTotal", true },
        { "lowFree", "LowFree", true },
        { "swapTotal", "SwapTotal", true },
        { "swapFree", "SwapFree", true },
        { "mapped", "Mapped", true },
        { "vmallocTotal", "VmallocTotal", true },
        { "vmallocUsed", "VmallocUsed", true },
        { "vmallocChunk", "VmallocChunk", true },
        { "hugePagesTotal", "HugePages_Total", false },
        { "hugePagesFree", "HugePages_Free", false },
        { "hugePagesRsvd", "HugePages_Rsvd", false },
        { "hugePagesSurp", "HugePages_Surp", false },
        { "hugePageSize", "Hugepagesize", true },
        { "anonHugePages", "AnonHugePages", true },
};

/* The value of "Key:" in a "Key: value [kB]" text, *found set when present. */
static uint64_t lookup(const char *text, const char *key, char sep, bool *found) {
        size_t kl = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (strncmp(l, key, kl) == 0 && l[kl] == sep) {
                        if (found)
                                *found = true;
                        return strtoull(l + kl + 1, NULL, 10);
                }
        return 0;
}

static int virtual_json(const char *mi, json_object **ret) {
        uint64_t v[ELEMENTSOF(virtual_fields)] = {};
        uint64_t total, free_, buffers, cached, used;
        bool have_available = false;
        json_object *o;

        for (size_t i = 0; i < ELEMENTSOF(virtual_fields); i++)
                if (virtual_fields[i].meminfo) {
                        bool *found = streq(virtual_fields[i].json, "available") ? &have_available : NULL;
                        v[i] = lookup(mi, virtual_fields[i].meminfo, ':', found);
                        if (virtual_fields[i].kib)
                                v[i] *= 1024;
                }
        total = lookup(mi, "MemTotal", ':', NULL) * 1024;
        free_ = lookup(mi, "MemFree", ':', NULL) * 1024;
        buffers = lookup(mi, "Buffers", ':', NULL) * 1024;
        cached = (lookup(mi, "Cached", ':', NULL) + lookup(mi, "SReclaimable", ':', NULL)) * 1024;
        /* Saturate where gopsutil would wrap (a torn or hostile meminfo). */
        used = total > free_ + buffers + cached ? total - free_ - buffers - cached : 0;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(virtual_fields); i++) {
                const char *k = virtual_fields[i].json;

                if (streq(k, "used"))
                        json_add(o, k, json_u64(used));
                else if (streq(k, "usedPercent"))
                        json_add(o, k, json_double(total > 0 ? (double) used / (double) total * 100.0 : 0));
                else if (streq(k, "cached"))
                        json_add(o, k, json_u64(cached));
                else if (streq(k, "available"))
                        json_add(o, k, json_u64(have_available ? v[i] : cached + free_));
                else
                        json_add(o, k, json_u64(v[i]));
        }
        *ret = o;
        return 0;
}

static int swap_json(const MetricsSources *s, const char *mi, json_object **ret) {
        _cleanup_free_ char *vm = NULL;
        uint64_t total = lookup(mi, "SwapTotal", ':', NULL) * 1024;
        uint64_t free_ = lookup(mi, "SwapFree", ':', NULL) * 1024;
        json_object *o;
        int r;

        r = metrics_read_file(s->proc, "vmstat", METRICS_FILE_MAX, &vm);
        if (r < 0)
                return r;
        if (free_ > total)
                free_ = total;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_add(o, "total", json_u64(total));
        json_add(o, "used", json_u64(total - free_));
        json_add(o, "free", json_u64(free_));
        json_add(o, "usedPercent", json_double(total > 0 ? (double) (total - free_) / (double) total * 100.0 : 0));
        json_add(o, "sin", json_u64(lookup(vm, "pswpin", ' ', NULL) * 4 * 1024));
        json_add(o, "sout", json_u64(lookup(vm, "pswpout", ' ', NULL) * 4 * 1024));
        json_add(o, "pgIn", json_u64(lookup(vm, "pgpgin", ' ', NULL) * 4 * 1024));
        json_add(o, "pgOut", json_u64(lookup(vm, "pgpgout", ' ', NULL) * 4 * 1024));
        json_add(o, "pgFault", json_u64(lookup(vm, "pgfault", ' ', NULL) * 4 * 1024));
        json_add(o, "pgMajFault", json_u64(lookup(vm, "pgmajfault", ' ', NULL) * 4 * 1024));
        *ret = o;
        return 0;
}

int metrics_memory(const MetricsSources *s, bool swap, json_object **ret) {
        _cleanup_free_ char *mi = NULL;
        json_object *o, *virt = NULL, *sw = NULL;
        int r;

        r = metrics_read_file(s->proc, "meminfo", METRICS_FILE_MAX, &mi);
        if (r < 0)
                return r;
        r = virtual_json(mi, &virt);
        if (r < 0)
                return r;
        if (swap) {
                r = swap_json(s, mi, &sw);
                if (r < 0) {
                        json_object_put(virt);
                        return r;
                }
        }
        o = json_object_new_object();
        if (!o) {
                json_object_put(virt);
                json_object_put(sw);
                return -ENOMEM;
        }
        json_add(o, "virtual", virt);
        json_add(o, "swap", sw);      /* null unless swap = true */
        *ret = o;
        return 0;
}
