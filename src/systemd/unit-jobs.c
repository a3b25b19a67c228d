/* SPDX-License-Identifier: MIT */
/* POST /units/{name}/{start,stop,restart,reload}: a tailkitd job (polled
 * with GET /exec/jobs/{id}) that ends when systemd's job does. The request's
 * own bus connection watches JobRemoved *before* the job is queued (a fast
 * job is gone before its reply could be read), and is handed to a thread
 * that waits for the signal of this job's path. systemd's result maps to
 * the job's state: done → completed; skipped → completed (nothing to do);
 * canceled → cancelled; failed, timeout, dependency, … → failed with the
 * result and the unit's own Result. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "jobs.h"
#include "log.h"
#include "macro.h"
#include "systemd-worker.h"
#include "time-util.h"
#include "unit-name.h"

/* The longest tailkitd waits for a systemd job: systemd's own job timeouts
 * (TimeoutStartSec=, 90 s by default) normally end it first. */
#define UNIT_JOB_TIMEOUT_USEC (15ULL * 60 * USEC_PER_SEC)
#define UNIT_JOB_WAIT_USEC (1 * USEC_PER_SEC)
#define UNIT_JOBS_MAX 64

static atomic_uint watchers;

typedef struct Watch {
        sd_bus *bus;
        char *job_path;
        char *unit;
        const char *action;
        char id[ULID_LEN + 1];
        char *result;           /* from JobRemoved */
        bool removed;
} Watch;

static void watch_free(Watch *w) {
        if (!w)
                return;
        if (w->bus)
                sd_bus_flush_close_unref(w->bus);
        free(w->job_path);
        free(w->unit);
        free(w->result);
        free(w);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (!w->job_path || !streq(path, w->job_path))
                return 0;
        w->result = strdup(result);
        w->removed = true;
        return 0;
}

/* The unit's Result ("exit-code", "timeout", …) for a failed job's error. */
static char *unit_result(sd_bus *bus, const char *unit) {
        _cleanup_free_ char *path = NULL;
        char *result = NULL;

        if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) < 0)
                return NULL;
        /* Only services, sockets, mounts… have one; others leave it NULL. */
        if (streq(unit_name_type(unit), "service") &&
            sd_bus_get_property_string(bus, SYSTEMD_DEST, path, "org.freedesktop.systemd1.Service", "Result",
                                       NULL, &result) < 0)
                return NULL;
        return result;
}

static void finish(Watch *w, const char *error) {
        char line[512];

        snprintf(line, sizeof(line), "%s %s: %s\n", w->action, w->unit, error ?: "done");
        (void) job_output(w->id, false, line, strlen(line));
        if (job_end(w->id, error ? 1 : 0, error) < 0)
                log_error("Cannot end job %s", w->id);
        log_struct(error ? LOG_WARNING : LOG_INFO,
                   ((LogField[]) { { "JOB_ID", w->id }, { "UNIT", w->unit }, { "STATUS", error ? "failed" : "completed" }, {} }),
                   "systemd job %s %s: %s", w->action, w->unit, error ?: "done");
}

static void *watch_thread(void *p) {
        Watch *w = p;
        uint64_t deadline = now_usec() + UNIT_JOB_TIMEOUT_USEC;
        bool cancel_sent = false;
        char error[256];

        while (!w->removed) {
                int r = sd_bus_process(w->bus, NULL);

                if (r < 0) {
                        finish(w, "lost the connection to systemd before the job ended");
                        goto out;
                }
                if (r > 0)
                        continue;
                if (now_usec() >= deadline) {
                        finish(w, "timed out waiting for systemd's job");
                        goto out;
                }
                /* DELETE /exec/jobs/{id}: cancel systemd's job; its
                 * JobRemoved then says "canceled". */
                if (!cancel_sent && job_cancel_requested(w->id)) {
                        (void) sd_bus_call_method(w->bus, SYSTEMD_DEST, w->job_path, "org.freedesktop.systemd1.Job",
                                                  "Cancel", NULL, NULL, NULL);
                        cancel_sent = true;
                        continue;
                }
                (void) sd_bus_wait(w->bus, UNIT_JOB_WAIT_USEC);
        }

        if (streq_ptr(w->result, "done"))
                finish(w, NULL);
        else if (streq_ptr(w->result, "skipped")) {
                static const char line[] = "systemd skipped the job: nothing to do\n";
                (void) job_output(w->id, false, line, sizeof(line) - 1);
                finish(w, NULL);
        } else if (streq_ptr(w->result, "canceled"))
                finish(w, "cancelled: systemd's job was canceled");
        else {
                _cleanup_free_ char *ur = unit_result(w->bus, w->unit);

                if (ur && !streq(ur, "success"))
                        snprintf(error, sizeof(error), "systemd job result: %s (unit result: %s)", strna(w->result), ur);
                else
                        snprintf(error, sizeof(error), "systemd job result: %s", strna(w->result));
                finish(w, error);
        }
out:
        watch_free(w);
        atomic_fetch_sub(&watchers, 1);
        return NULL;
}

static int unit_job(Request *r, const char *method, const char *action) {
        SystemdRequest *d = r->userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_free_ char *name = systemd_request_unit(r, true);
        Watch *w = NULL;
        const char *job_path;
        pthread_attr_t attr;
        pthread_t t;
        json_object *o;
        char hint[256];
        int e;

        if (!name)
                return 0;
        if (atomic_fetch_add(&watchers, 1) >= UNIT_JOBS_MAX) {
                atomic_fetch_sub(&watchers, 1);
                snprintf(hint, sizeof(hint), "at most %d unit jobs are watched at once; retry later", UNIT_JOBS_MAX);
                return reply_error(r, 429, "too many unit jobs", hint);
        }

        w = calloc(1, sizeof(Watch));
        if (!w || !(w->unit = strdup(name))) {
                atomic_fetch_sub(&watchers, 1);
                watch_free(w);
                return -ENOMEM;
        }
        w->action = action;
        w->bus = TAKE_PTR(d->bus);

        /* Watch first, then queue the job. */
        e = sd_bus_match_signal(w->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                                on_job_removed, w);
        if (e >= 0)
                e = sd_bus_call_method(w->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", &error, NULL, NULL);
        if (e < 0) {
                atomic_fetch_sub(&watchers, 1);
                watch_free(w);
                return systemd_reply_bus_error(r, NULL, "Subscribe", &error, e);
        }

        JobSpec spec = {
                .feature = "systemd",
                .tool = "systemd",
                .command = action,
                .caller = request_caller_name(r),
                .caller_id = r->caller ? r->caller->stable_id : NULL,
                .timeout_usec = UNIT_JOB_TIMEOUT_USEC,
        };
        e = job_begin(&spec, worker_daemon_config(), w->id);
        if (e < 0) {
                atomic_fetch_sub(&watchers, 1);
                watch_free(w);
                if (e == -ENOSPC) {
                        snprintf(hint, sizeof(hint), "the node keeps at most %d job records, running and finished in "
                                 "the last 5 minutes; retry once older ones expire", JOBS_MAX_RECORDS);
                        return reply_error(r, 429, "too many job records", hint);
                }
                return reply_errorf(r, 500, "see journalctl TAILKITD_COMPONENT=systemd", "cannot create the job: %s",
                                    strerror(-e));
        }

        e = sd_bus_call_method(w->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method, &error, &reply,
                               "ss", name, "replace");
        if (e >= 0)
                e = sd_bus_message_read(reply, "o", &job_path);
        if (e >= 0 && !(w->job_path = strdup(job_path)))
                e = -ENOMEM;
        if (e < 0) {
                char msg[512];

                snprintf(msg, sizeof(msg), "%s: %s", method, error.message ?: strerror(-e));
                (void) job_end(w->id, 1, msg);
                atomic_fetch_sub(&watchers, 1);
                watch_free(w);
                return systemd_reply_bus_error(r, name, method, &error, e);
        }

        log_struct(LOG_INFO,
                   ((LogField[]) { { "JOB_ID", w->id }, { "UNIT", name }, { "COMMAND", action },
                                   { "CALLER", request_caller_name(r) }, {} }),
                   "systemd job %s %s accepted", action, name);
        o = json_object_new_object();
        if (!o) {
                (void) job_end(w->id, 1, "out of memory");
                atomic_fetch_sub(&watchers, 1);
                watch_free(w);
                return -ENOMEM;
        }
        json_object_object_add(o, "job_id", json_object_new_string(w->id));
        json_object_object_add(o, "status", json_object_new_string("accepted"));
        json_object_object_add(o, "unit", json_object_new_string(name));
        json_object_object_add(o, "systemd_job", json_object_new_string(w->job_path));

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        e = pthread_create(&t, &attr, watch_thread, w);
        pthread_attr_destroy(&attr);
        if (e != 0) {
                (void) job_end(w->id, 1, "cannot watch systemd's job (no thread)");
                atomic_fetch_sub(&watchers, 1);
                watch_free(w);
                json_object_put(o);
                return reply_error(r, 500, "cannot watch systemd's job", NULL);
        }
        return reply_json(r, 202, o);
}

int systemd_unit_start(Request *r) {
        return unit_job(r, "StartUnit", "start");
}

int systemd_unit_stop(Request *r) {
        return unit_job(r, "StopUnit", "stop");
}

int systemd_unit_restart(Request *r) {
        return unit_job(r, "RestartUnit", "restart");
}

int systemd_unit_reload(Request *r) {
        return unit_job(r, "ReloadUnit", "reload");
}

int systemd_init(void) {
        return jobs_init();
}

/* A watched job keeps the worker up (its thread ends the job). */
bool systemd_busy(void) {
        return atomic_load(&watchers) > 0;
}
