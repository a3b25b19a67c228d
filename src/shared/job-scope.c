/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <unistd.h>

#include "job-scope.h"
#include "macro.h"
#include "pool.h"
#include "time-util.h"

#define SCOPE_START_TIMEOUT_USEC (10ULL * USEC_PER_SEC)
#define SCOPE_STOP_TIMEOUT_USEC (5ULL * USEC_PER_SEC)

/* systemd's own socket, as systemctl and systemd-run use it as root: no
 * dbus-daemon in between (each call and signal one hop, not two), no Hello,
 * no AddMatch. systemd sends every signal to every private connection, so
 * one is opened per use (~1 ms) and never kept idle: it would fill with the
 * whole system's signals. Not root, or $DBUS_SYSTEM_BUS_ADDRESS set: the
 * system bus, whose connections are kept (setting one up, Hello included,
 * takes ~5 ms; with no match left, an idle one receives nothing). */
#define SYSTEMD_PRIVATE_BUS "unix:path=/run/systemd/private"

static Pool buses = POOL_INIT;

/* A stalled systemd must not hold a poll or a cancel for sd-bus's default
 * 25 s: its property reads and StopUnit calls give up after this. */
#define BUS_CALL_TIMEOUT_USEC (5ULL * USEC_PER_SEC)

static int open_private(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, SYSTEMD_PRIVATE_BUS);
        if (r >= 0)
                r = sd_bus_set_method_call_timeout(bus, BUS_CALL_TIMEOUT_USEC);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int job_bus_take(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        /* An address given explicitly is the bus to use (a test points it
         * at nothing to see systemd unreachable). */
        if (geteuid() == 0 && !getenv("DBUS_SYSTEM_BUS_ADDRESS") && open_private(ret) >= 0)
                return 0;
        bus = pool_take(&buses);
        if (bus) {
                /* Finds a connection the bus closed (dbus restarted): that
                 * one is replaced, not used. */
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r == 0 && sd_bus_is_open(bus) > 0) {
                        *ret = bus;
                        return 0;
                }
                sd_bus_flush_close_unref(bus);
        }
        r = sd_bus_open_system(ret);
        if (r >= 0)
                (void) sd_bus_set_method_call_timeout(*ret, BUS_CALL_TIMEOUT_USEC);
        return r;
}

void job_bus_give_back(sd_bus *bus) {
        if (!bus)
                return;
        /* A private connection is never kept (see above). */
        if (sd_bus_is_bus_client(bus) > 0 && sd_bus_is_open(bus) > 0 && pool_give(&buses, bus))
                return;
        sd_bus_flush_close_unref(bus);
}

bool unit_is_active(sd_bus *bus, const char *unit) {
        _cleanup_free_ char *path = NULL, *state = NULL;

        if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) < 0)
                return true;  /* cannot tell: never finalize on a guess */
        if (sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                       "org.freedesktop.systemd1.Unit", "ActiveState", NULL, &state) < 0)
                return true;
        return streq(state, "active") || streq(state, "activating") || streq(state, "deactivating") ||
               streq(state, "reloading");
}

typedef struct JobWait {
        const char *job_path;   /* NULL until StartTransientUnit answered */
        char seen[8][128];
        char seen_result[8][32];
        unsigned n_seen;
        const char *result;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        unsigned i = w->n_seen++ % 8;
        snprintf(w->seen[i], sizeof(w->seen[i]), "%s", path);
        snprintf(w->seen_result[i], sizeof(w->seen_result[i]), "%s", result);
        return 0;
}

static const char *job_removed_result(JobWait *w) {
        for (unsigned i = 0; i < MIN(w->n_seen, 8u); i++)
                if (streq(w->seen[i], w->job_path))
                        return w->seen_result[i];
        return NULL;
}

int start_scope(const char *unit, const char *description, pid_t pid, uint64_t timeout_usec,
                       const DaemonConfig *cfg, char **error) {
        /* Cleaned up in reverse: the match goes before the bus goes back. */
        _cleanup_(job_bus_give_backp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        JobWait w = {};
        const char *job_path;
        uint64_t deadline;
        int r;

        r = job_bus_take(&bus);
        if (r < 0)
                return asprintf(error, "cannot connect to the system bus: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        r = sd_bus_match_signal(bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return asprintf(error, "cannot watch systemd jobs: %s", strerror(-r)) < 0 ? -ENOMEM : r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)",
                                          "Description", "s", description,
                                          "Slice", "s", "tailkitd-jobs.slice",
                                          "CollectMode", "s", "inactive-or-failed",
                                          "RuntimeMaxUSec", "t", timeout_usec,
                                          "TimeoutStopUSec", "t", (uint64_t) SCOPE_STOP_TIMEOUT_USEC,
                                          "MemoryMax", "t", cfg->exec.memory_max,
                                          "TasksMax", "t", cfg->exec.tasks_max,
                                          "CPUQuotaPerSecUSec", "t", (uint64_t) cfg->exec.cpu_quota_percent * 10000,
                                          "PIDs", "au", 1, (uint32_t) pid);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return asprintf(error, "cannot build the StartTransientUnit call: %s", strerror(-r)) < 0 ? -ENOMEM : r;

        r = sd_bus_call(bus, m, SCOPE_START_TIMEOUT_USEC, &err, &reply);
        if (r < 0) {
                int k = asprintf(error, "systemd refused the job's scope: %s", err.message ?: strerror(-r));
                sd_bus_error_free(&err);
                return k < 0 ? -ENOMEM : r;
        }
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return asprintf(error, "unexpected reply from systemd") < 0 ? -ENOMEM : r;
        w.job_path = job_path;

        deadline = now_usec() + SCOPE_START_TIMEOUT_USEC;
        while (!(w.result = job_removed_result(&w))) {
                uint64_t now = now_usec();
                if (now >= deadline)
                        return asprintf(error, "systemd did not start the job's scope in time") < 0 ? -ENOMEM : -ETIMEDOUT;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return asprintf(error, "lost the system bus: %s", strerror(-r)) < 0 ? -ENOMEM : r;
                if (r == 0)
                        (void) sd_bus_wait(bus, deadline - now);
        }
        if (!streq(w.result, "done"))
                return asprintf(error, "systemd could not start the job's scope (%s)", w.result) < 0 ? -ENOMEM : -EIO;
        return 0;
}

int stop_unit(sd_bus *bus, const char *unit) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StopUnit", &err, NULL, "ss", unit, "replace");
        sd_bus_error_free(&err);
        return r < 0 && r != -ENOENT ? r : 0;
}
