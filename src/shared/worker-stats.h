/* SPDX-License-Identifier: MIT */
#pragma once

/* Each worker's own counters, for the metrics worker's tailkitd_* metrics:
 * a small fixed-layout file per worker, <stats dir>/<worker>/counters,
 * mapped shared and bumped with atomic adds (threads and a restarted
 * process of the same worker share it). Under systemd the directory is the
 * worker's RuntimeDirectory (kept across idle exits, gone at reboot), so
 * the counters are since boot, as Prometheus expects of a counter that
 * resets only with its source. Cheap: one atomic add per request, no
 * journal to parse. A worker that cannot open its file counts nothing and
 * serves as usual.
 *
 * TAILKITD_STATS_DIR overrides the directory (default /run/tailkitd-stats). */

#include <stdbool.h>
#include <stdint.h>

#define WORKER_STATS_MAGIC 0x544b5354u   /* "TKST" */
#define WORKER_STATS_VERSION 1u
#define WORKER_STATS_STATUS_MAX 600      /* status codes 0 (no reply) … 599 */

typedef struct WorkerStats {
        uint32_t magic;
        uint32_t version;
        uint64_t starts;                 /* processes started */
        uint64_t jobs_started;           /* jobs this worker accepted */
        uint64_t requests[WORKER_STATS_STATUS_MAX];   /* by response status */
} WorkerStats;

const char *worker_stats_dir(void);

/* In a worker: maps <dir>/<name>/counters (made if missing) and counts a
 * start. Errors are logged at debug and leave counting off. */
void worker_stats_open(const char *name);
void worker_stats_request(unsigned status);
void worker_stats_job_started(void);

/* In the metrics worker: one worker's counters, copied out. -ENOENT when
 * it has none, -EBADMSG when the file is not one of ours. */
int worker_stats_read(const char *name, WorkerStats *ret);
/* Whether name can be a worker's directory ("tools", "metrics"). */
bool worker_stats_name_is_valid(const char *name);
