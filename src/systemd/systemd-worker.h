/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-bus.h>

#include "systemd-config.h"
#include "worker.h"

/* What a request carries from the availability check to its handler:
 * systemd.toml as read for this request, and (for the unit endpoints) its
 * own connection to the system bus. */
typedef struct SystemdRequest {
        SystemdConfig config;
        sd_bus *bus;
} SystemdRequest;

int systemd_available(Request *r, const char **error, const char **hint);
int systemd_init(void);
bool systemd_busy(void);

/* Layer 2 (systemd.toml) for the unit endpoints, then the unit name from
 * the path: replies 403 (section off), 400 (not a unit name) or 404 (outside
 * the allow list, worded as for a unit that does not exist) and returns
 * NULL; else the normalized name (free it). */
char *systemd_request_unit(Request *r, bool write);
/* The same without the [units] check (the journal has its own switch). */
char *systemd_unit_arg(Request *r);
/* 403 unless units.read (write) is on; replies and returns false. */
bool systemd_units_permitted(Request *r, bool write);
/* The 404 for a unit that does not exist or is not in the allow list. */
int systemd_reply_no_unit(Request *r, const char *name);
/* A failed bus call: status from the D-Bus error, its message shown (a
 * missing unit: the same 404 as systemd_reply_no_unit(), when unit is set). */
int systemd_reply_bus_error(Request *r, const char *unit, const char *what, const sd_bus_error *error, int e);

int systemd_available_get(Request *r);
int systemd_units_get(Request *r);
int systemd_unit_get(Request *r);
int systemd_unit_file_get(Request *r);
int systemd_unit_enable(Request *r);
int systemd_unit_disable(Request *r);
int systemd_unit_start(Request *r);
int systemd_unit_stop(Request *r);
int systemd_unit_restart(Request *r);
int systemd_unit_reload(Request *r);
int systemd_unit_journal_get(Request *r);
int systemd_journal_get(Request *r);

extern const Route systemd_routes[];
extern const size_t systemd_n_routes;
