/* SPDX-License-Identifier: MIT */
/* POST /exec/{tool}/{cmd}, GET and DELETE /exec/jobs/{id}. Only commands a
 * tool registered run, with argv built element by element from validated
 * args: never a shell. */

#include <stdatomic.h>
#include <strings.h>

#include "exec.h"
#include "job-files.h"
#include "job-wait.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static void tool_command_freep(ToolCommand **c) {
        if (*c)
                tool_command_free(*c);
}

static void strv_free_nullp(char ***v) {
        strv_free_null(*v);
}

static bool is_octet_stream(Request *r) {
        const char *ct = request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        size_t n = STRLEN("application/octet-stream");

        if (!ct || strncasecmp(ct, "application/octet-stream", n) != 0)
                return false;
        ct += n;
        ct += strspn(ct, " \t");
        return *ct == 0 || *ct == ';';
}

/* {"args": {...}} (README), a flat {...} (Go client), or no body at all.
 * The body is JSON with nothing after it, labelled application/json; or
 * application/octet-stream, the label tailkit v0.1.0's client puts on every
 * body. -EMEDIUMTYPE for any other label, -EBADMSG for anything but one
 * JSON object. */
static int parse_args(Request *r, json_object **ret) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        json_object *inner;
        int e;

        *ret = NULL;
        e = request_json_body(r, &o);
        if (e == -ENODATA)
                return 0;
        if (e == -EMEDIUMTYPE && is_octet_stream(r))
                e = json_parse_strict(r->body, r->body_size, &o);
        if (e < 0)
                return e;
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (json_object_object_length(o) == 1 && json_object_object_get_ex(o, "args", &inner) &&
            json_object_is_type(inner, json_type_object))
                *ret = json_object_get(inner);
        else
                *ret = TAKE_PTR(o);
        return 0;
}

int exec_post(Request *r) {
        _cleanup_(tool_command_freep) ToolCommand *cmd = NULL;
        _cleanup_(json_object_putp) json_object *args = NULL;
        _cleanup_(strv_free_nullp) char **argv = NULL;
        _cleanup_free_ char *error = NULL;
        const char *tool = r->args[0], *command = r->args[1];
        char id[ULID_LEN + 1], hint[256];
        json_object *o;
        int e;

        if (!tool_name_is_valid(tool) || !tool_name_is_valid(command))
                return reply_error(r, 404, "command not found", "tool and command names match ^[a-zA-Z0-9_-]+$");
        (void) registry_refresh(exec_registry);
        if (registry_find(exec_registry, tool, command, &cmd) < 0) {
                snprintf(hint, sizeof(hint), "GET /tools/%s lists the commands it registered", tool);
                return reply_errorf(r, 404, hint, "command %s/%s is not registered", tool, command);
        }
        if (!isempty(cmd->acl_cap) && !request_has_named_cap(r, cmd->acl_cap)) {
                log_struct(LOG_WARNING,
                           ((LogField[]) { { "CALLER", request_caller_name(r) }, { "TOOL", tool },
                                           { "COMMAND", command }, { "REASON", "missing command acl cap" }, {} }),
                           "permission denied");
                snprintf(hint, sizeof(hint), "grant the caller the capability \"%s\" in the tailnet policy", cmd->acl_cap);
                return reply_errorf(r, 403, hint, "command %s/%s requires the capability %s", tool, command, cmd->acl_cap);
        }

        e = parse_args(r, &args);
        if (e == -EMEDIUMTYPE)
                return reply_error(r, 415, "the body must be JSON",
                                   "send it with Content-Type: application/json, or send no body");
        if (e == -EBADMSG)
                return reply_error(r, 400, "invalid body",
                                   "send one JSON object: {\"args\": {\"name\": \"value\"}}, a flat object, or nothing");
        if (e < 0)
                return e;
        e = command_build_argv(cmd, args, &argv, &error);
        if (e == -ENOMEM)
                return e;
        if (e < 0)
                return reply_error(r, 400, error ?: "invalid args", "GET /tools/<tool> shows the command's args");

        JobSpec spec = {
                .tool = tool,
                .command = command,
                .caller = request_caller_name(r),
                .caller_id = r->caller ? r->caller->stable_id : NULL,
                .argv = argv,
                .timeout_usec = cmd->timeout_ns / 1000,
        };
        e = job_start(&spec, worker_daemon_config(), id);
        if (e == -EBUSY) {
                snprintf(hint, sizeof(hint), "at most %u jobs run at once (max_jobs in tailkitd.conf; a job counts "
                         "until every process it started has ended); retry later",
                         worker_daemon_config()->exec.max_jobs);
                r->retry_after_sec = 1;
                return reply_error(r, 429, "too many running jobs", hint);
        }
        if (e == -ENOSPC) {
                snprintf(hint, sizeof(hint), "the node keeps at most %d job records, running and finished in the last "
                         "5 minutes; retry once older ones expire", JOBS_MAX_RECORDS);
                r->retry_after_sec = 30;
                return reply_error(r, 429, "too many job records", hint);
        }
        if (e < 0)
                return reply_errorf(r, 500, "see journalctl TAILKITD_COMPONENT=exec", "cannot start the job: %s",
                                    strerror(-e));

        log_struct(LOG_INFO,
                   ((LogField[]) { { "TOOL", tool }, { "COMMAND", command }, { "JOB_ID", id },
                                   { "CALLER", request_caller_name(r) }, {} }),
                   "exec accepted");
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "job_id", json_object_new_string(id));
        json_object_object_add(o, "status", json_object_new_string("accepted"));
        return reply_json(r, 202, o);
}

static int job_not_found(Request *r) {
        return reply_error(r, 404, "job not found", "jobs are kept 5 minutes after they finish");
}

/* Who may poll: a caller with tailkitd-exec read, any job; with write only,
 * the jobs its node started (by stable ID: a node picks its own name), and
 * someone else's job is "not found", so write does not tell which ids exist.
 * Without either, 403 before any lookup. */
/* Jobs of every integration are polled and cancelled here. Who may:
 * tailkitd-exec read (poll) or write (cancel) for any job; the caller that
 * started a job (its node's stable ID) with write on the job's integration
 * (tailkitd-exec for commands, tailkitd-systemd for unit jobs, …). A caller
 * with no write cap among them gets 403 before any lookup; a caller who may
 * not see a job gets 404, as for one that does not exist. */
static const char *const job_features[] = { "exec", "files", "systemd", "docker" };

static bool may_start_jobs(Request *r) {
        for (size_t i = 0; i < ELEMENTSOF(job_features); i++)
                if (request_has_feature_cap(r, job_features[i], CAP_WRITE))
                        return true;
        return false;
}

static bool started_it(Request *r, const JobRead *job) {
        return !isempty(job->caller_id) && r->caller && streq_ptr(job->caller_id, r->caller->stable_id) &&
               request_has_feature_cap(r, job->feature, CAP_WRITE);
}

/* ?wait=SECONDS: the poll is answered when the job has ended, or after
 * SECONDS (at most JOB_WAIT_MAX_SEC) with the job as it is then — one
 * request instead of a polling loop. A waiter holds one of the worker's
 * connection threads, so at most JOB_WAITERS_MAX wait at once; beyond that
 * a poll is answered at once, as without wait. */
#define JOB_WAITERS_MAX 64

static atomic_int n_waiters;

static bool job_has_ended(const JobRead *job) {
        const char *status = json_get_str(job->fields, "status");

        return status && (streq(status, "completed") || streq(status, "failed") || streq(status, "cancelled"));
}

static int connection_fd(Request *r) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->connection, MHD_CONNECTION_INFO_CONNECTION_FD);

        return ci ? ci->connect_fd : -1;
}

int exec_job_get(Request *r) {
        _cleanup_(job_read_done) JobRead job = { .stdout_fd = -1, .stderr_fd = -1 };
        bool can_read = request_has_cap(r, CAP_READ);
        unsigned wait_sec;
        int e;

        if (!can_read && !may_start_jobs(r))
                return reply_error(r, 403, "caller lacks the tailkitd-exec read capability",
                                   "polling needs tailkitd-exec read (any job), or write on the integration "
                                   "that ran the job (the jobs the caller started)");
        if (request_query_uint(r, "wait", JOB_WAIT_MAX_SEC, 0, &wait_sec) < 0)
                return 0;
        e = job_read(r->args[0], &job);
        if (e == -ENOENT)
                return job_not_found(r);
        if (e < 0)
                return e;
        if (!can_read && !started_it(r, &job))
                return job_not_found(r);

        if (wait_sec > 0 && !job_has_ended(&job)) {
                if (atomic_fetch_add(&n_waiters, 1) < JOB_WAITERS_MAX) {
                        /* Ended, timed out, stopping, evicted, or the caller
                         * went away (the answer then goes nowhere): the job
                         * as it is now. */
                        (void) job_wait_end(r->args[0], (uint64_t) wait_sec * USEC_PER_SEC, connection_fd(r),
                                            worker_terminating);
                        atomic_fetch_sub(&n_waiters, 1);
                        job_read_done(&job);
                        e = job_read(r->args[0], &job);
                        if (e == -ENOENT)
                                return job_not_found(r);
                        if (e < 0)
                                return e;
                } else
                        atomic_fetch_sub(&n_waiters, 1);
        }
        return reply_job(r, &job);
}

int exec_job_delete(Request *r) {
        json_object *o;
        int e;

        if (!request_has_cap(r, CAP_WRITE)) {
                _cleanup_(job_read_done) JobRead job = { .stdout_fd = -1, .stderr_fd = -1 };

                if (!may_start_jobs(r))
                        return reply_error(r, 403, "caller lacks the tailkitd-exec write capability",
                                           "cancelling needs tailkitd-exec write (any job), or write on the "
                                           "integration that ran the job (the jobs the caller started)");
                e = job_read(r->args[0], &job);
                if (e == -ENOENT || (e >= 0 && !started_it(r, &job)))
                        return job_not_found(r);
                if (e < 0)
                        return e;
        }
        e = job_cancel(r->args[0]);
        if (e == -ENOENT)
                return job_not_found(r);
        if (e == -ENOTCONN)
                return reply_error(r, 503, "cannot reach systemd to cancel the job",
                                   "jobs are stopped through systemd over the system bus "
                                   "(/run/dbus/system_bus_socket); check dbus.service and retry");
        if (e == -EALREADY)
                return reply_error(r, 409, "job already finished", NULL);
        if (e < 0)
                return reply_errorf(r, 500, NULL, "cannot cancel the job: %s", strerror(-e));
        log_struct(LOG_INFO, ((LogField[]) { { "JOB_ID", r->args[0] }, { "CALLER", request_caller_name(r) }, {} }),
                   "exec cancel requested");
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "job_id", json_object_new_string(r->args[0]));
        json_object_object_add(o, "status", json_object_new_string("cancelling"));
        return reply_json(r, 202, o);
}
