/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "hook-ref.h"
#include "json-util.h"
#include "hooks.h"
#include "jobs.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "registry.h"

/* Each hook's timeout counts towards the job's deadline, up to this. */
#define HOOKS_TIMEOUT_MAX_USEC (24ULL * 3600 * 1000000ULL)

typedef struct Hooks {
        ToolList tools;
        JobStep *steps;
        size_t n_steps;
        uint64_t timeout_usec;
} Hooks;

static void hooks_done(Hooks *h) {
        for (size_t i = 0; i < h->n_steps; i++)
                strv_free_null(h->steps[i].argv);
        free(h->steps);
        tool_list_done(&h->tools);
}

/* Resolves every hook of rule to its argv (registered commands take no
 * args here: an optional arg is empty, a required one makes it unusable). */
static int hooks_build(const FilesRule *rule, Hooks *h, char *hint, size_t hint_size) {
        _cleanup_free_ char *tools = NULL;
        int e;

        if (asprintf(&tools, "%s/tools", config_dir()) < 0)
                return -ENOMEM;
        e = tool_list_load(tools, &h->tools, NULL, NULL);
        if (e < 0) {
                snprintf(hint, hint_size, "cannot read %s: %s", tools, strerror(-e));
                return e;
        }
        h->steps = calloc(MAX(rule->n_post_recv, (size_t) 1), sizeof(JobStep));
        if (!h->steps)
                return -ENOMEM;
        for (size_t i = 0; i < rule->n_post_recv; i++) {
                _cleanup_(json_object_putp_) json_object *no_args = json_object_new_object();
                _cleanup_free_ char *why = NULL;
                const ToolCommand *cmd = NULL;
                const char *ref = rule->post_recv[i];

                e = files_hook_resolve(&h->tools, ref, NULL, &cmd, &why);
                if (e >= 0)
                        e = command_check(cmd, &why);
                if (e >= 0)
                        e = no_args ? command_build_argv(cmd, no_args, &h->steps[i].argv, &why) : -ENOMEM;
                if (e == -ENOMEM)
                        return e;
                if (e < 0) {
                        snprintf(hint, hint_size, "post_recv \"%s\" of [[\"%s\"]] in files.toml: %s; "
                                 "install the tool or fix files.toml (tailkitd --check-config)", ref, rule->dir,
                                 strna(why));
                        return e;
                }
                h->steps[i].name = ref;
                h->n_steps++;
                h->timeout_usec = MIN(h->timeout_usec + cmd->timeout_ns / 1000, HOOKS_TIMEOUT_MAX_USEC);
        }
        return 0;
}

int files_hooks_check(const FilesRule *rule, char *hint, size_t hint_size) {
        Hooks h = {};
        int e;

        if (rule->n_post_recv == 0)
                return 0;
        e = hooks_build(rule, &h, hint, hint_size);
        hooks_done(&h);
        return e;
}

int files_hooks_start(Request *r, const FilesRule *rule, const char *path, char **ret_job_id,
                      char *hint, size_t hint_size) {
        _cleanup_free_ char *env0 = NULL;
        char id[ULID_LEN + 1];
        Hooks h = {};
        int e;

        e = hooks_build(rule, &h, hint, hint_size);
        if (e < 0) {
                hooks_done(&h);
                return e;
        }
        if (asprintf(&env0, "TAILKITD_RECEIVED_PATH=%s", path) < 0) {
                hooks_done(&h);
                return -ENOMEM;
        }
        char *env[] = { env0, NULL };
        JobSpec spec = {
                .feature = "files",
                .tool = "files",
                .command = "post_recv",
                .caller = request_caller_name(r),
                .caller_id = r->caller ? r->caller->stable_id : NULL,
                .steps = h.steps,
                .n_steps = h.n_steps,
                .env = env,
                .timeout_usec = h.timeout_usec,
        };
        e = job_start(&spec, worker_daemon_config(), id);
        hooks_done(&h);
        if (e == -EBUSY)
                snprintf(hint, hint_size, "at most %u jobs run at once (max_jobs in tailkitd.conf); "
                         "upload the file again later to run its hooks", worker_daemon_config()->exec.max_jobs);
        else if (e == -ENOSPC)
                snprintf(hint, hint_size, "the node keeps at most %d job records; retry once older ones expire",
                         JOBS_MAX_RECORDS);
        else if (e < 0)
                snprintf(hint, hint_size, "cannot start the job: %s (see journalctl TAILKITD_COMPONENT=files)",
                         strerror(-e));
        if (e < 0)
                return e;
        log_struct(LOG_INFO,
                   ((LogField[]) { { "JOB_ID", id }, { "FILE_PATH", path }, { "CALLER", request_caller_name(r) }, {} }),
                   "post_recv hooks accepted");
        *ret_job_id = strdup(id);
        return *ret_job_id ? 0 : -ENOMEM;
}
