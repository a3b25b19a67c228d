/* SPDX-License-Identifier: MIT */
/* POST /exec/{tool}/{cmd}, GET and DELETE /exec/jobs/{id}. Only commands a
 * tool registered run, with argv built element by element from validated
 * args: never a shell. */

#include "exec.h"
#include "jobs.h"
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

/* {"args": {...}} (README), a flat {...} (Go client), or no body at all. */
static int parse_args(Request *r, json_object **ret) {
        json_tokener *tok;
        json_object *o, *inner;
        bool ok;

        *ret = NULL;
        if (r->body_size == 0)
                return 0;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, r->body, (int) r->body_size);
        ok = json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(o, json_type_object);
        json_tokener_free(tok);
        if (!ok) {
                json_object_put(o);
                return -EINVAL;
        }
        if (json_object_object_length(o) == 1 && json_object_object_get_ex(o, "args", &inner) &&
            json_object_is_type(inner, json_type_object)) {
                *ret = json_object_get(inner);
                json_object_put(o);
        } else
                *ret = o;
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
        if (e == -ENOMEM)
                return e;
        if (e < 0)
                return reply_error(r, 400, "invalid body", "send {\"args\": {\"name\": \"value\"}}, a flat object, or nothing");
        e = command_build_argv(cmd, args, &argv, &error);
        if (e == -ENOMEM)
                return e;
        if (e < 0)
                return reply_error(r, 400, error ?: "invalid args", "GET /tools/<tool> shows the command's args");

        JobSpec spec = {
                .tool = tool,
                .command = command,
                .caller = request_caller_name(r),
                .argv = argv,
                .timeout_usec = cmd->timeout_ns / 1000,
        };
        free(error);
        error = NULL;
        e = job_start(&spec, worker_daemon_config(), id, &error);
        if (e == -EBUSY) {
                snprintf(hint, sizeof(hint), "at most %u jobs run at once (max_jobs in tailkitd.conf); retry later",
                         worker_daemon_config()->exec.max_jobs);
                return reply_error(r, 429, "too many running jobs", hint);
        }
        if (e < 0)
                return reply_errorf(r, 500, "see journalctl TAILKITD_COMPONENT=exec", "cannot start the job: %s",
                                    error ?: strerror(-e));

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

int exec_job_get(Request *r) {
        _cleanup_free_ char *starter = NULL;
        json_object *o = NULL;
        int e;

        e = job_read(r->args[0], &o, &starter);
        if (e == -ENOENT)
                return reply_error(r, 404, "job not found", "jobs are kept 5 minutes after they finish");
        if (e < 0)
                return e;
        /* The caller that started it, or anyone who may read exec jobs. */
        if (!request_has_cap(r, CAP_READ) && !streq_ptr(starter, request_caller_name(r))) {
                json_object_put(o);
                return reply_error(r, 403, "caller lacks the tailkitd-exec read capability",
                                   "only the caller that started a job, or one with tailkitd-exec read, can poll it");
        }
        return reply_json(r, 200, o);
}

int exec_job_delete(Request *r) {
        json_object *o;
        int e;

        e = job_cancel(r->args[0]);
        if (e == -ENOENT)
                return reply_error(r, 404, "job not found", "jobs are kept 5 minutes after they finish");
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
