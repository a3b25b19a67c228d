/* SPDX-License-Identifier: MIT */
#pragma once

/* A job's scope over sd-bus: tailkitd-job-<id>.scope in tailkitd-jobs.slice. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "config.h"

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
