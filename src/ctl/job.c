/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <time.h>

#include "api.h"
#include "job.h"
#include "json-util.h"
#include "macro.h"
#include "progress.h"
#include "table.h"

static bool is_terminal(const char *status) {
        return status && (streq(status, "completed") || streq(status, "failed") || streq(status, "cancelled"));
}

int job_exit_code(json_object *job) {
        return streq_ptr(json_str(job, "status"), "completed") ? EXIT_OK : EXIT_JOB_FAILED;
}

/* Seconds the node may hold a poll (?wait=) before answering: within the
 * request timeout and the deadline, with 2 s to spare; 0 when too short. A
 * node that predates ?wait ignores it and answers at once: the loop then
 * polls every JOB_POLL_MS, as before. */
static unsigned wait_seconds(Ctx *c) {
        uint64_t budget = c->opt->timeout_ms ? c->opt->timeout_ms : UINT64_MAX, now = now_ms();

        if (c->deadline_ms)
                budget = MIN(budget, c->deadline_ms > now ? c->deadline_ms - now : 0);
        if (budget / 1000 <= 2)
                return 0;
        return (unsigned) MIN(budget / 1000 - 2, (uint64_t) JOB_WAIT_MAX_SEC);
}

int job_wait(Ctx *c, const char *id, json_object **ret) {
        _cleanup_free_ char *escaped = http_escape(id);
        Progress p = {};
        int r;

        *ret = NULL;
        if (!escaped)
                return EXIT_FAILURE_LOCAL;
        if (c->tty)
                progress_begin(&p, c->err, id);
        for (;;) {
                _cleanup_free_ char *path = NULL;
                json_object *job = NULL;
                const char *status;
                unsigned wait = wait_seconds(c);
                uint64_t asked = now_ms();

                if ((wait > 0 ? asprintf(&path, "/exec/jobs/%s?wait=%u", escaped, wait)
                              : asprintf(&path, "/exec/jobs/%s", escaped)) < 0) {
                        progress_end(&p, false);
                        return EXIT_FAILURE_LOCAL;
                }
                r = api_get_json(c, path, &job);
                if (r != 0) {
                        progress_end(&p, false);
                        return r;
                }
                status = json_str(job, "status");
                if (is_terminal(status)) {
                        progress_end(&p, true);
                        *ret = job;
                        return 0;
                }
                progress_status(&p, status ?: "?");
                json_object_put(job);
                if (c->deadline_ms && now_ms() >= c->deadline_ms) {
                        progress_end(&p, false);
                        fprintf(c->err, "error: %s: job %s did not end within the timeout\n", c->target->name, id);
                        return EXIT_UNREACHABLE;
                }
                /* A node that held the poll has waited already. */
                if (wait == 0 || now_ms() - asked < JOB_POLL_MS)
                        nanosleep(&(struct timespec) { .tv_nsec = JOB_POLL_MS * 1000000L }, NULL);
        }
}

void job_print(Ctx *c, json_object *job) {
        _cleanup_(table_freep) Table *t = table_new("FIELD", "VALUE", NULL);
        static const char *fields[] = {
                "job_id", "status", "tool", "command", "unit", "exit_code", "signal",
                "started_at", "finished_at", "duration_ms", "error",
        };

        if (!t)
                return;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                json_object *v = json_get(job, fields[i]);
                if (!v || json_object_is_type(v, json_type_null))
                        continue;
                table_add(t, fields[i], json_object_get_string(v));
        }
        table_print(t, c->out);
        for (const char *const *s = (const char *const[]) { "stdout", "stderr", NULL }; *s; s++) {
                const char *v = json_str(job, *s);
                if (isempty(v))
                        continue;
                fprintf(c->out, "--- %s%s ---\n%s%s", *s, json_true(job, streq(*s, "stdout") ? "stdout_truncated" : "stderr_truncated")
                        ? " (truncated)" : "", v, endswith(v, "\n") ? "" : "\n");
        }
}

/* --wait in table mode: the command's own output, like running it here. */
static void print_outcome(Ctx *c, json_object *job) {
        const char *out = json_str(job, "stdout"), *err = json_str(job, "stderr"), *error = json_str(job, "error");

        if (!isempty(out))
                fputs(out, c->out);
        if (!isempty(err))
                fputs(err, c->err);
        if (job_exit_code(job) != 0)
                fprintf(c->err, "job %s %s%s%s (exit code %" PRId64 ")\n", strna(json_str(job, "job_id")),
                        strna(json_str(job, "status")), error ? ": " : "", strempty(error),
                        json_int(job, "exit_code", -1));
}

int job_accepted(Ctx *c, json_object *accepted, bool wait) {
        _cleanup_(json_object_putp_) json_object *job = NULL;
        const char *id = json_str(accepted, "job_id");
        int r;

        if (!id) {
                /* Some actions finish at once (200 with a result): show it. */
                if (c->opt->json)
                        print_json(c, accepted);
                else if (accepted)
                        fprintf(c->out, "%s\n", strna(json_str(accepted, "status")));
                return 0;
        }
        if (!wait) {
                if (c->opt->json)
                        print_json(c, accepted);
                else
                        fprintf(c->out, "job %s %s\n", id, strna(json_str(accepted, "status")));
                return 0;
        }
        r = job_wait(c, id, &job);
        if (r != 0)
                return r;
        if (c->opt->json)
                print_json(c, job);
        else
                print_outcome(c, job);
        return job_exit_code(job);
}
