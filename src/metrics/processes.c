/* SPDX-License-Identifier: MIT */
/* Top processes by CPU, as the Go seed listed them with gopsutil:
 * cpu_percent is lifetime CPU time over lifetime (gopsutil's
 * Process.CPUPercent()), here (utime + stime + blkio) / (uptime - starttime), all
 * from /proc so a fixture tree gives a fixed answer. Unreadable or vanished
 * processes are skipped. cmdline is read only for the processes returned. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

#define CMDLINE_MAX 4096

typedef struct Proc {
        unsigned pid;
        char name[64];
        char state;
        double cpu_percent;
        uint64_t rss_bytes;
} Proc;

/* gopsutil's convertStatusChar(). */
static const char *status_name(char c) {
        switch (c) {
        case 'R': return "running";
        case 'S': return "sleep";
        case 'D': return "blocked";
        case 'T': case 't': return "stop";
        case 'I': return "idle";
        case 'Z': return "zombie";
        case 'W': return "wait";
        case 'L': return "lock";
        default: return "";
        }
}

static int proc_read(const MetricsSources *s, unsigned pid, double uptime, Proc *ret) {
        _cleanup_free_ char *text = NULL;
        char rel[32], *open_paren, *close_paren;
        unsigned long long utime, stime, start, blkio = 0;
        long long rss;
        char state;
        int r, n;

        snprintf(rel, sizeof(rel), "%u/stat", pid);
        r = metrics_read_file(s->proc, rel, 4096, &text);
        if (r < 0)
                return r;
        /* comm may hold ')' and blanks: it ends at the last ')'. */
        open_paren = strchr(text, '(');
        close_paren = strrchr(text, ')');
        if (!open_paren || !close_paren || close_paren < open_paren)
                return -EBADMSG;
        /* Fields 3..24 and 42 (delayacct_blkio_ticks, absent before 2.6.18);
         * %*s skips a field whatever its width. */
        n = sscanf(close_paren + 1,
                   " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu %*s %*s %*s %*s %*s %*s %llu %*s %lld"
                   " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                   &state, &utime, &stime, &start, &rss, &blkio);
        if (n < 5)
                return -EBADMSG;
        *ret = (Proc) { .pid = pid, .state = state };
        snprintf(ret->name, sizeof(ret->name), "%.*s", (int) (close_paren - open_paren - 1), open_paren + 1);
        double elapsed = uptime - (double) start / (double) s->clk_tck;
        /* gopsutil's TimesStat.Total(): user + system + iowait, in seconds. */
        double cpu = (double) utime / (double) s->clk_tck + (double) stime / (double) s->clk_tck +
                     (double) blkio / (double) s->clk_tck;
        ret->cpu_percent = elapsed > 0 ? 100.0 * cpu / elapsed : 0;
        ret->rss_bytes = rss > 0 ? (uint64_t) rss * s->page_size : 0;
        return 0;
}

/* Keeps top[0..*n) sorted by cpu_percent descending (pid ascending on ties,
 * for a stable answer), at most limit long. */
static void top_insert(Proc *top, size_t *n, size_t limit, const Proc *p) {
        size_t i = *n;

        while (i > 0 && (top[i - 1].cpu_percent < p->cpu_percent ||
                         (top[i - 1].cpu_percent == p->cpu_percent && top[i - 1].pid > p->pid)))
                i--;
        if (i >= limit)
                return;
        size_t move = MIN(*n, limit - 1) - i;
        memmove(&top[i + 1], &top[i], move * sizeof(Proc));
        top[i] = *p;
        if (*n < limit)
                (*n)++;
}

static json_object *cmdline_json(const MetricsSources *s, unsigned pid) {
        _cleanup_free_ char *text = NULL;
        char rel[32];
        size_t n;

        snprintf(rel, sizeof(rel), "%u/cmdline", pid);
        /* Longer command lines are cut at CMDLINE_MAX bytes, not refused. */
        if (metrics_read_file_len(s->proc, rel, 1024 * 1024, &text, &n) < 0)
                return json_object_new_string("");
        n = MIN(n, (size_t) CMDLINE_MAX);
        while (n > 0 && text[n - 1] == 0)
                n--;
        /* Arguments are NUL-separated; gopsutil joins them with blanks. */
        for (size_t i = 0; i < n; i++)
                if (text[i] == 0)
                        text[i] = ' ';
        return json_object_new_string_len(text, (int) n);
}

int metrics_processes(const MetricsSources *s, unsigned limit, bool with_cmdline, json_object **ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ Proc *top = NULL;
        char uptime_line[64];
        struct dirent *de;
        size_t n = 0;
        double uptime;
        json_object *a;
        int r;

        if (limit == 0)
                limit = 1;
        r = metrics_read_line(s->proc, "uptime", uptime_line, sizeof(uptime_line));
        if (r < 0)
                return r;
        uptime = strtod(uptime_line, NULL);
        top = calloc(limit, sizeof(Proc));
        if (!top)
                return -ENOMEM;
        d = opendir(s->proc);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                unsigned long v;
                char *end;
                Proc p;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                errno = 0;
                v = strtoul(de->d_name, &end, 10);
                if (errno != 0 || *end || v > 0x7fffffffUL)
                        continue;
                if (proc_read(s, (unsigned) v, uptime, &p) < 0)
                        continue;
                top_insert(top, &n, limit, &p);
        }

        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_new_object();

                if (!o)
                        break;
                json_add(o, "pid", json_object_new_int((int32_t) top[i].pid));
                json_add(o, "name", json_object_new_string(top[i].name));
                json_add(o, "status", json_object_new_string(status_name(top[i].state)));
                json_add(o, "cpu_percent", json_double(top[i].cpu_percent));
                json_add(o, "memory_rss_bytes", json_u64(top[i].rss_bytes));
                /* Command lines can carry secrets: only for callers with write. */
                if (with_cmdline)
                        json_add(o, "cmdline", cmdline_json(s, top[i].pid));
                json_object_array_add(a, o);
        }
        *ret = a;
        return 0;
}
