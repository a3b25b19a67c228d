/* SPDX-License-Identifier: MIT */
/* tailkitctl exec TOOL CMD [NAME=VALUE…] [--wait] and tailkitctl job ID. */

#include "api.h"
#include "args.h"
#include "job.h"
#include "json-util.h"
#include "macro.h"

int cmd_exec(Ctx *c, int argc, char **argv) {
        _cleanup_(json_object_putp_) json_object *body = NULL, *accepted = NULL;
        _cleanup_free_ char *tool = NULL, *command = NULL, *path = NULL;
        json_object *args;
        bool wait = false;
        const char *text;
        Args a;
        int r;

        r = args_parse(c, "exec", argc, argv, (const Flag[]) { { "--wait", "-w", NULL, &wait } }, 1, &a);
        if (r != 0)
                return r;
        if (a.n < 2)
                return command_usage_error(c, "exec", "TOOL and CMD are needed");
        body = json_object_new_object();
        args = json_object_new_object();
        if (!body || !args)
                return EXIT_FAILURE_LOCAL;
        json_object_object_add(body, "args", args);
        for (size_t i = 2; i < a.n; i++) {
                const char *eq = strchr(a.pos[i], '=');
                _cleanup_free_ char *key = NULL;

                if (!eq || eq == a.pos[i])
                        return command_usage_error(c, "exec", "\"%s\" is not NAME=VALUE", a.pos[i]);
                key = strndup(a.pos[i], (size_t) (eq - a.pos[i]));
                if (!key)
                        return EXIT_FAILURE_LOCAL;
                if (json_object_object_get_ex(args, key, NULL))
                        return command_usage_error(c, "exec", "arg \"%s\" given twice", key);
                /* Always strings: the worker checks int/bool types itself. */
                json_object_object_add(args, key, json_object_new_string(eq + 1));
        }
        tool = http_escape(a.pos[0]);
        command = http_escape(a.pos[1]);
        if (!tool || !command || asprintf(&path, "/exec/%s/%s", tool, command) < 0)
                return EXIT_FAILURE_LOCAL;
        text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = api_json(c, &(HttpRequest) { .method = "POST", .path = path, .content_type = "application/json",
                                         .body = text, .body_size = strlen(text) }, &accepted);
        if (r != 0)
                return r;
        return job_accepted(c, accepted, wait);
}

int cmd_job(Ctx *c, int argc, char **argv) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_free_ char *id = NULL, *path = NULL;
        bool cancel = false, wait = false;
        Args a;
        int r;

        r = args_parse(c, "job", argc, argv, (const Flag[]) {
                { "--cancel", NULL, NULL, &cancel },
                { "--wait", "-w", NULL, &wait },
        }, 2, &a);
        if (r != 0)
                return r;
        if (a.n != 1)
                return command_usage_error(c, "job", "one job ID is needed");
        if (cancel && wait)
                return command_usage_error(c, "job", "--cancel and --wait exclude each other");
        id = http_escape(a.pos[0]);
        if (!id || asprintf(&path, "/exec/jobs/%s", id) < 0)
                return EXIT_FAILURE_LOCAL;
        if (wait)
                r = job_wait(c, a.pos[0], &o);
        else
                r = api_json(c, &(HttpRequest) { .method = cancel ? "DELETE" : "GET", .path = path }, &o);
        if (r != 0)
                return r;
        if (c->opt->json)
                print_json(c, o);
        else if (cancel)
                fprintf(c->out, "job %s %s\n", a.pos[0], strna(json_str(o, "status")));
        else
                job_print(c, o);
        return wait ? job_exit_code(o) : 0;
}
