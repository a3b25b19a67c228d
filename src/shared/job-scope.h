/* SPDX-License-Identifier: MIT */
#pragma once

/* A job's scope over sd-bus: tailkitd-job-<id>.scope in tailkitd-jobs.slice. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "config.h"

/* A connection to systemd for the job store: as root, systemd's private
 * socket (as systemctl and systemd-run use it: one hop, no Hello, no
 * AddMatch), opened for each use; else the system bus, whose connections
 * are kept for reuse. One thread uses a connection at a time (sd-bus
 * objects are thread-agnostic). */
int job_bus_take(sd_bus **ret);
/* Gives bus back (it must have no match or call pending); a closed or
 * failed one is dropped. NULL is fine. */
void job_bus_give_back(sd_bus *bus);
static inline void job_bus_give_backp(sd_bus **bus) {
        job_bus_give_back(*bus);
}

/* Whether the unit is (still) active: its cgroup holds processes. True when
 * systemd cannot be asked: never finalize or free a slot on a guess. */
bool unit_is_active(sd_bus *bus, const char *unit);

/* Creates the scope around pid and waits until systemd has started it, i.e.
 * pid is in the scope's cgroup. On failure *error says why. */
int start_scope(const char *unit, const char *description, pid_t pid, uint64_t timeout_usec,
                const DaemonConfig *cfg, char **error);

/* Stops the unit (kills all its processes); a unit that is not loaded is
 * not an error. */
int stop_unit(sd_bus *bus, const char *unit);
