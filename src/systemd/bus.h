/* SPDX-License-Identifier: MIT */
#pragma once

/* The system bus, one connection per request (sd_bus objects are not
 * thread-safe, and a fresh connection is the reconnect: a restarted
 * dbus-daemon or systemd costs no request but the ones made while it was
 * down). Calls time out after BUS_CALL_TIMEOUT_USEC, so a stuck systemd
 * cannot hold a worker thread. */

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#define BUS_CALL_TIMEOUT_USEC (10ULL * 1000000ULL)
#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

/* Connects and pings systemd's manager. On failure *detail says what went
 * wrong (static or thread-local storage). */
int bus_open_systemd(sd_bus **ret, const char **detail);

/* The HTTP status for a failed call, and the message to show. */
unsigned bus_error_status(const sd_bus_error *error, int r);

/* Reads the next complete value of m (of any D-Bus type) as JSON. */
int bus_read_json(sd_bus_message *m, json_object **ret);

/* libsystemd provides sd_bus_flush_close_unrefp() and sd_bus_message_unrefp(). */
#define _cleanup_bus_ __attribute__((cleanup(sd_bus_flush_close_unrefp)))
#define _cleanup_bus_message_ __attribute__((cleanup(sd_bus_message_unrefp)))
#define _cleanup_bus_error_ __attribute__((cleanup(sd_bus_error_free)))
