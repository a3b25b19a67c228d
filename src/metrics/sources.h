/* SPDX-License-Identifier: MIT */
#pragma once

/* Where the metrics come from. The roots default to /proc, /sys and /etc;
 * TAILKITD_PROC_ROOT, TAILKITD_SYS_ROOT and TAILKITD_ETC_ROOT point them at a
 * fixture tree captured from another machine (golden tests). With a proc
 * root other than /proc, interfaces come from its net/dev (netlink and
 * statvfs always see the live host). */

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"

#define METRICS_FILE_MAX (4 * 1024 * 1024)   /* /proc/cpuinfo of 1024 CPUs fits */

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

typedef struct MetricsSources {
        char proc[256];
        char sys[256];
        char etc[256];
        bool live;                 /* proc is /proc: netlink may be used */
        long clk_tck;              /* USER_HZ; 100 on every Linux ABI */
        uint64_t page_size;
} MetricsSources;

/* From the environment (or defaults). */
void metrics_sources_init(MetricsSources *s);

/* Reads <root>/<rel> into a NUL-terminated buffer of at most max bytes. */
int metrics_read_file(const char *root, const char *rel, size_t max, char **ret);
int metrics_read_file_len(const char *root, const char *rel, size_t max, char **ret, size_t *ret_len);
/* First line, trailing whitespace trimmed, at most max bytes. */
int metrics_read_line(const char *root, const char *rel, char *buf, size_t size);

/* JSON numbers: doubles serialized the way Go does (shortest form that reads
 * back the same), uint64 as integers. */
json_object *json_double(double d);
json_object *json_u64(uint64_t v);
void json_add(json_object *o, const char *key, json_object *v);
