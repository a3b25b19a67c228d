/* SPDX-License-Identifier: MIT */
/* GET /integrations/metrics/prometheus (and /all with an Accept that
 * prefers application/openmetrics-text): every enabled metrics.toml section
 * under node_exporter's names, then tailkitd's own counters, in the text
 * format or OpenMetrics as the scraper asks. The same checks as the JSON
 * endpoints ran before this (identity, metrics.toml, the read cap); a
 * section that is off is simply absent, as a collector node_exporter was
 * started without. The body is a few KiB built in a bounded buffer
 * (EXPOSITION_MAX): the collectors return their figures whole anyway. */

#include <pthread.h>
#include <string.h>

#include "log.h"
#include "metrics-config.h"
#include "metrics-worker.h"
#include "node-exposition.h"
#include "exposition.h"

static MetricsSources sources;
static pthread_once_t sources_once = PTHREAD_ONCE_INIT;

static void sources_setup(void) {
        metrics_sources_init(&sources);
}

static void section(int r, const char *what) {
        if (r < 0)
                log_warning_errno(r, "Cannot collect %s metrics for the exposition: %m", what);
}

int metrics_exposition_reply(Request *r, bool openmetrics) {
        const MetricsConfig *c = r->userdata;
        Expo e = { .openmetrics = openmetrics };
        int k;

        pthread_once(&sources_once, sources_setup);
        if (c->host_enabled)
                section(node_expo_host(&sources, &e), "host");
        if (c->cpu_enabled)
                section(node_expo_cpu(&sources, c, &e), "cpu");
        if (c->memory_enabled)
                section(node_expo_memory(&sources, c, &e), "memory");
        if (c->disk_enabled)
                section(node_expo_disk(&sources, c, &e), "disk");
        if (c->network_enabled)
                section(node_expo_network(&sources, c, &e), "network");
        section(self_expo(&e), "tailkitd");
        k = expo_finish(&e);
        if (k < 0) {
                expo_done(&e);
                log_error_errno(k, "Cannot build the metrics exposition: %m");
                return reply_errorf(r, 500, NULL, "failed to build the exposition: %s", strerror(-k));
        }
        k = reply_data(r, 200, openmetrics ? EXPOSITION_OPENMETRICS_TYPE : EXPOSITION_TEXT_TYPE, e.buf, e.len);
        expo_done(&e);
        return k;
}

int metrics_prometheus_get(Request *r) {
        return metrics_exposition_reply(r, expo_negotiate(request_header(r, "Accept"), NULL) > 0);
}
