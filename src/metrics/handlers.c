/* SPDX-License-Identifier: MIT */
/* The /integrations/metrics endpoints. metrics.toml is read once per request
 * (in metrics_available(), kept in r->userdata), so an edit takes effect at
 * once. Order: identity → config present and valid (503) → cap read (403) →
 * the section enabled in metrics.toml (403 naming it) → collect. */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exposition.h"
#include "log.h"
#include "macro.h"
#include "metrics-config.h"
#include "metrics-worker.h"
#include "metrics.h"
#include "paths.h"

#define INTERVAL_MSEC_DEFAULT 100
#define INTERVAL_MSEC_MAX 1000

static MetricsSources sources;

/* The previous /proc/stat sample: percentages are the busy share since the
 * last call, as gopsutil's cpu.Percent(0, …). */
static pthread_mutex_t cpu_lock = PTHREAD_MUTEX_INITIALIZER;
static CpuSample cpu_prev;
static bool cpu_have_prev;

int metrics_init(void) {
        metrics_sources_init(&sources);
        return 0;
}

static void config_free(void *p) {
        metrics_config_done(p);
        free(p);
}

static int load_config(MetricsConfig *c, const char **error, const char **hint) {
        static __thread char buf[1024];
        ConfigErrors errors = {};
        int e;

        e = metrics_config_load(config_dir(), c, &errors);
        if (e == -ENOENT) {
                *error = "metrics integration not configured on this node";
                snprintf(buf, sizeof(buf), "create %s/integrations/metrics.toml to enable", config_dir());
                *hint = buf;
        } else if (e < 0) {
                *error = "metrics.toml is invalid";
                snprintf(buf, sizeof(buf), "%s", errors.n > 0 ? errors.messages[0] : "run tailkitd --check-config");
                *hint = buf;
        }
        config_errors_done(&errors);
        return e;
}

int metrics_available(Request *r, const char **error, const char **hint) {
        MetricsConfig *c = calloc(1, sizeof(MetricsConfig));
        int e;

        if (!c) {
                *error = "out of memory";
                return -ENOMEM;
        }
        e = load_config(c, error, hint);
        if (e < 0) {
                free(c);
                return e;
        }
        r->userdata = c;
        r->userdata_free = config_free;
        return 0;
}

int metrics_available_get(Request *r) {
        _cleanup_(metrics_config_done) MetricsConfig c = {};
        const char *error, *hint;
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        json_add(o, "available", json_object_new_boolean(load_config(&c, &error, &hint) >= 0));
        return reply_json(r, 200, o);
}

static int section_disabled(Request *r, const char *section) {
        char hint[512];

        snprintf(hint, sizeof(hint), "set enabled = true under [%s] in %s/integrations/metrics.toml",
                 section, config_dir());
        return reply_errorf(r, 403, hint, "%s metrics not enabled in metrics.toml", section);
}

static int collect_failed(Request *r, const char *what, int e) {
        log_error_errno(e, "Cannot collect %s metrics: %m", what);
        return reply_errorf(r, 500, NULL, "failed to get %s metrics: %s", what, strerror(-e));
}

static void sleep_msec(unsigned msec) {
        struct timespec ts = { .tv_sec = msec / 1000, .tv_nsec = (long) (msec % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Two samples: the kept one and now; or, on the first call or when the
 * caller names an interval, two taken interval_msec apart. */
static int cpu_collect(const MetricsConfig *c, unsigned interval_msec, bool explicit_interval, json_object **ret) {
        _cleanup_(cpu_sample_done) CpuSample prev = {}, cur = {};
        bool use_kept;
        int e;

        pthread_mutex_lock(&cpu_lock);
        use_kept = cpu_have_prev && !explicit_interval;
        if (use_kept) {
                prev = cpu_prev;
                cpu_prev = (CpuSample) {};
                cpu_have_prev = false;
        }
        pthread_mutex_unlock(&cpu_lock);

        if (!use_kept) {
                e = cpu_sample_read(&sources, &prev);
                if (e < 0)
                        return e;
                sleep_msec(interval_msec);
        }
        e = cpu_sample_read(&sources, &cur);
        if (e < 0)
                return e;
        e = metrics_cpu(&sources, &prev, &cur, c->cpu_per_core, ret);
        if (e < 0)
                return e;

        /* Keep the newest sample for the next call. */
        pthread_mutex_lock(&cpu_lock);
        cpu_sample_done(&cpu_prev);
        cpu_prev = cur;
        cur = (CpuSample) {};
        cpu_have_prev = true;
        pthread_mutex_unlock(&cpu_lock);
        return 0;
}

static int disk_collect(const MetricsConfig *c, json_object **ret) {
        static char *const root[] = { (char *) "/" };

        /* No paths configured: the root filesystem (enumerating every mount
         * would touch exactly the network mounts that hang). */
        if (c->n_disk_paths == 0)
                return metrics_disk(&sources, root, 1, DISK_TIMEOUT_MSEC, ret);
        return metrics_disk(&sources, c->disk_paths, c->n_disk_paths, DISK_TIMEOUT_MSEC, ret);
}

static int processes_limit(Request *r, const MetricsConfig *c, unsigned *ret) {
        int e = request_query_uint(r, "limit", c->processes_limit, c->processes_limit, ret);

        if (e >= 0 && *ret == 0)
                *ret = c->processes_limit;
        return e;
}

int metrics_host_get(Request *r) {
        const MetricsConfig *c = r->userdata;
        json_object *o;
        int e;

        if (!c->host_enabled)
                return section_disabled(r, "host");
        e = metrics_host(&sources, &o);
        if (e < 0)
                return collect_failed(r, "host", e);
        return reply_json(r, 200, o);
}

int metrics_cpu_get(Request *r) {
        const MetricsConfig *c = r->userdata;
        unsigned interval;
        json_object *o;
        int e;

        if (!c->cpu_enabled)
                return section_disabled(r, "cpu");
        e = request_query_uint(r, "interval_ms", INTERVAL_MSEC_MAX, INTERVAL_MSEC_DEFAULT, &interval);
        if (e < 0)
                return 0;
        e = cpu_collect(c, interval, e > 0, &o);
        if (e < 0)
                return collect_failed(r, "cpu", e);
        return reply_json(r, 200, o);
}

int metrics_memory_get(Request *r) {
        const MetricsConfig *c = r->userdata;
        json_object *o;
        int e;

        if (!c->memory_enabled)
                return section_disabled(r, "memory");
        e = metrics_memory(&sources, c->memory_swap, &o);
        if (e < 0)
                return collect_failed(r, "memory", e);
        return reply_json(r, 200, o);
}

int metrics_disk_get(Request *r) {
        const MetricsConfig *c = r->userdata;
        json_object *o;
        int e;

        if (!c->disk_enabled)
                return section_disabled(r, "disk");
        e = disk_collect(c, &o);
        if (e < 0)
                return collect_failed(r, "disk", e);
        return reply_json(r, 200, o);
}

int metrics_network_get(Request *r) {
        const MetricsConfig *c = r->userdata;
        json_object *o;
        int e;

        if (!c->network_enabled)
                return section_disabled(r, "network");
        e = metrics_network(&sources, c->network_interfaces, c->n_network_interfaces, &o);
        if (e < 0)
                return collect_failed(r, "network", e);
        return reply_json(r, 200, o);
}

int metrics_processes_get(Request *r) {
        const MetricsConfig *c = r->userdata;
        unsigned limit;
        json_object *o;
        int e;

        if (!c->processes_enabled)
                return section_disabled(r, "processes");
        if (processes_limit(r, c, &limit) < 0)
                return 0;
        e = metrics_processes(&sources, limit, request_has_cap(r, CAP_WRITE), &o);
        if (e < 0)
                return collect_failed(r, "processes", e);
        return reply_json(r, 200, o);
}

/* Every enabled section; one that fails is left out (as the Go seed). */
int metrics_all_get(Request *r) {
        const MetricsConfig *c = r->userdata;
        unsigned interval = INTERVAL_MSEC_DEFAULT, limit = 0;
        json_object *o, *v;
        int explicit_interval;

        /* A scraper that prefers OpenMetrics over JSON gets the exposition. */
        if (expo_negotiate(request_header(r, "Accept"), "application/json") > 0)
                return metrics_exposition_reply(r, true);

        explicit_interval = request_query_uint(r, "interval_ms", INTERVAL_MSEC_MAX, INTERVAL_MSEC_DEFAULT, &interval);
        if (explicit_interval < 0)
                return 0;
        if (c->processes_enabled && processes_limit(r, c, &limit) < 0)
                return 0;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        if (c->host_enabled && metrics_host(&sources, &v) >= 0)
                json_add(o, "host", v);
        if (c->cpu_enabled && cpu_collect(c, interval, explicit_interval > 0, &v) >= 0)
                json_add(o, "cpu", v);
        if (c->memory_enabled && metrics_memory(&sources, c->memory_swap, &v) >= 0)
                json_add(o, "memory", v);
        if (c->disk_enabled && disk_collect(c, &v) >= 0)
                json_add(o, "disk", v);
        if (c->network_enabled && metrics_network(&sources, c->network_interfaces, c->n_network_interfaces, &v) >= 0)
                json_add(o, "network", v);
        if (c->processes_enabled && metrics_processes(&sources, limit, request_has_cap(r, CAP_WRITE), &v) >= 0)
                json_add(o, "processes", v);
        return reply_json(r, 200, o);
}
