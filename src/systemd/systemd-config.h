/* SPDX-License-Identifier: MIT */
#pragma once

/* integrations/systemd.toml (README "Systemd integration", SPEC §3):
 *
 *   [units]   read, write, allow = ["nginx.service", "app-*.service"]
 *   [journal] enabled, lines (the most a caller may ask for, and the
 *             default), priority (the most verbose level exposed)
 *
 * Every switch defaults to off. Linked by the systemd worker and by
 * `tailkitd --check-config`. */

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define SYSTEMD_JOURNAL_LINES_DEFAULT 100
#define SYSTEMD_JOURNAL_LINES_MAX 10000

typedef struct SystemdConfig {
        bool units_read, units_write;
        char **units_allow;          /* glob patterns; empty: every unit */
        size_t n_units_allow;
        bool journal_enabled;
        unsigned journal_lines;      /* max a caller may request, and the default */
        int journal_priority;        /* syslog level 0..7, most verbose exposed; default 6 (info) */
} SystemdConfig;

int systemd_config_load(const char *config_dir, SystemdConfig *ret, ConfigErrors *errors);
void systemd_config_done(SystemdConfig *c);

/* For --check-config: 1 when the file is invalid or unreadable, 0 when fine
 * or absent, -ENOMEM. */
int systemd_config_check(const char *config_dir, ConfigErrors *errors);

/* "emerg" … "debug" (also "error", "warn") → 0 … 7; -EINVAL otherwise. */
int systemd_priority_from_name(const char *s);
const char *systemd_priority_to_name(int level);
