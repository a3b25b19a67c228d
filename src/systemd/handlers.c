/* SPDX-License-Identifier: MIT */
/* What every /integrations/systemd endpoint shares. systemd.toml is read once
 * per request (in systemd_available(), kept in r->userdata), so an edit takes
 * effect at once. Order (SPEC §1.2): identity → systemd.toml present and
 * valid, and for the unit endpoints the system bus reachable (503) → cap
 * (403) → systemd.toml's [units] read/write or [journal] enabled (403) →
 * the unit name (400), the allow list (404) → systemd. */

#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "systemd-worker.h"
#include "unit-name.h"

static void request_data_free(void *p) {
        SystemdRequest *d = p;

        if (!d)
                return;
        systemd_config_done(&d->config);
        if (d->bus)
                sd_bus_flush_close_unref(d->bus);
        free(d);
}

static int load_config(SystemdConfig *c, const char **error, const char **hint) {
        static __thread char buf[1024];
        ConfigErrors errors = {};
        int e;

        e = systemd_config_load(config_dir(), c, &errors);
        if (e == -ENOENT) {
                *error = "systemd integration not configured on this node";
                snprintf(buf, sizeof(buf), "create %s/integrations/systemd.toml to enable", config_dir());
                *hint = buf;
        } else if (e < 0) {
                *error = "systemd.toml is invalid";
                snprintf(buf, sizeof(buf), "%s", errors.n > 0 ? errors.messages[0] : "run tailkitd --check-config");
                *hint = buf;
        }
        config_errors_done(&errors);
        return e;
}

static int bus_unavailable(const char *detail, const char **error, const char **hint) {
        static __thread char buf[512];

        log_warning("Cannot reach systemd over the system bus: %s", detail);
        *error = "systemd D-Bus connection unavailable";
        snprintf(buf, sizeof(buf),
                 "%s; the worker talks to systemd through the system bus (/run/dbus/system_bus_socket): "
                 "is dbus.service running? The next request connects again", detail);
        *hint = buf;
        return -ENOTCONN;
}

/* The journal endpoints read journal files and need no bus. */
static bool route_needs_bus(const Route *rt) {
        return rt->handler != systemd_journal_get && rt->handler != systemd_unit_journal_get;
}

int systemd_available(Request *r, const char **error, const char **hint) {
        _cleanup_free_ SystemdRequest *d = calloc(1, sizeof(SystemdRequest));
        const char *detail = NULL;
        int e;

        if (!d) {
                *error = "out of memory";
                return -ENOMEM;
        }
        e = load_config(&d->config, error, hint);
        if (e < 0)
                return e;
        if (route_needs_bus(r->route)) {
                e = bus_open_systemd(&d->bus, &detail);
                if (e < 0) {
                        systemd_config_done(&d->config);
                        return bus_unavailable(detail, error, hint);
                }
        }
        r->userdata = TAKE_PTR(d);
        r->userdata_free = request_data_free;
        return 0;
}

int systemd_available_get(Request *r) {
        _cleanup_(systemd_config_done) SystemdConfig c = {};
        _cleanup_bus_ sd_bus *bus = NULL;
        const char *error, *hint, *detail;
        bool ok = load_config(&c, &error, &hint) >= 0 && bus_open_systemd(&bus, &detail) >= 0;
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "available", json_object_new_boolean(ok));
        return reply_json(r, 200, o);
}

bool systemd_units_permitted(Request *r, bool write) {
        const SystemdRequest *d = r->userdata;
        char hint[512];

        if (write ? d->config.units_write : d->config.units_read)
                return true;
        snprintf(hint, sizeof(hint), "set %s = true under [units] in %s/integrations/systemd.toml",
                 write ? "write" : "read", config_dir());
        reply_errorf(r, 403, hint, "units.%s not enabled in systemd.toml", write ? "write" : "read");
        return false;
}

int systemd_reply_no_unit(Request *r, const char *name) {
        return reply_errorf(r, 404, "GET /integrations/systemd/units lists the units this node exposes",
                            "unit %s not found", name);
}

char *systemd_request_unit(Request *r, bool write) {
        if (!systemd_units_permitted(r, write))
                return NULL;
        return systemd_unit_arg(r);
}

char *systemd_unit_arg(Request *r) {
        const SystemdRequest *d = r->userdata;
        char *name;

        name = unit_name_normalize(r->args[0]);
        if (!name) {
                if (errno == ENOMEM)
                        reply_error(r, 500, "out of memory", NULL);
                else
                        reply_error(r, 400, "invalid unit name",
                                    "a unit name is like \"nginx.service\" or \"getty@tty1.service\": at most "
                                    "255 characters from A-Z a-z 0-9 : - _ . \\ @, ending in a unit type");
                return NULL;
        }
        if (!unit_name_allowed(name, d->config.units_allow, d->config.n_units_allow)) {
                systemd_reply_no_unit(r, name);
                free(name);
                return NULL;
        }
        return name;
}

int systemd_reply_bus_error(Request *r, const char *unit, const char *what, const sd_bus_error *error, int e) {
        unsigned status = bus_error_status(error, e);
        const char *msg = error && error->message ? error->message : strerror(-e);

        /* Worded as for a unit outside the allow list: nothing tells them apart. */
        if (status == 404 && unit)
                return systemd_reply_no_unit(r, unit);

        if (status >= 500)
                log_error("%s failed: %s%s%s%s", what, msg, error && error->name ? " (" : "",
                          error && error->name ? error->name : "", error && error->name ? ")" : "");
        if (status == 503)
                return reply_errorf(r, 503, "systemd did not answer in time; try again", "%s: %s", what, msg);
        if (status == 500 && sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                    SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return reply_errorf(r, 500,
                                    "systemd refused the worker: tailkitd@systemd.service must run as root "
                                    "with CAP_SYS_ADMIN (see its drop-in 20-systemd.conf)",
                                    "%s: %s", what, msg);
        return reply_errorf(r, status, NULL, "%s: %s", what, msg);
}
