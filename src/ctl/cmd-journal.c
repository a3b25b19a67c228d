/* SPDX-License-Identifier: MIT */
/* tailkitctl journal [UNIT] [-n N] [-p PRIO] [-f]: the systemd integration's
 * journal endpoints; -f reads the server-sent events of follow=1. */

#include "api.h"
#include "args.h"
#include "journal-format.h"
#include "json-util.h"
#include "macro.h"

/* One SSE event's data line is one entry: bounded like any answer. */
#define SSE_LINE_MAX (8u * 1024 * 1024)

typedef struct Follow {
        Ctx *ctx;
        char *line;
        size_t len;
        int error;
} Follow;

static int follow_line(Follow *s) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        const char *data = startswith(s->line, "data: ");

        if (!data || streq(data, "{}"))
                return 0;       /* id:, event:, comments, the end marker */
        if (json_parse_strict(data, strlen(data), &o) < 0)
                return 0;
        if (s->ctx->opt->json)
                fprintf(s->ctx->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
        else
                journal_print_entry(s->ctx->out, o);
        fflush(s->ctx->out);
        return 0;
}

static int on_data(const char *data, size_t n, void *userdata) {
        Follow *s = userdata;

        for (size_t i = 0; i < n; i++) {
                if (data[i] == '\n') {
                        s->line[s->len] = 0;
                        follow_line(s);
                        s->len = 0;
                        continue;
                }
                if (s->len + 1 >= SSE_LINE_MAX) {
                        fprintf(s->ctx->err, "error: a journal event is longer than %u bytes\n", SSE_LINE_MAX);
                        return -EFBIG;
                }
                s->line[s->len++] = data[i];
        }
        return 0;
}

int cmd_journal(Ctx *c, int argc, char **argv) {
        _cleanup_free_ char *unit = NULL, *path = NULL, *query = NULL;
        const char *lines = NULL, *priority = NULL;
        bool follow = false;
        unsigned n = 0;
        size_t qsize = 0;
        FILE *q;
        Args a;
        int r;

        r = args_parse(c, "journal", argc, argv, (const Flag[]) {
                { "--lines", "-n", &lines, NULL },
                { "--priority", "-p", &priority, NULL },
                { "--follow", "-f", NULL, &follow },
        }, 3, &a);
        if (r != 0)
                return r;
        if (a.n > 1)
                return command_usage_error(c, "journal", "at most one unit");
        if (lines && (r = args_uint(c, "journal", "-n", lines, 1, 1000000, &n)) != 0)
                return r;
        q = open_memstream(&query, &qsize);
        if (!q)
                return EXIT_FAILURE_LOCAL;
        if (lines)
                fprintf(q, "&lines=%u", n);
        if (priority) {
                _cleanup_free_ char *p = http_escape(priority);
                fprintf(q, "&priority=%s", strempty(p));
        }
        if (follow)
                fprintf(q, "&follow=1");
        fclose(q);
        if (a.n == 1) {
                unit = http_escape(a.pos[0]);
                if (!unit || asprintf(&path, "/integrations/systemd/units/%s/journal%s%s", unit,
                                      qsize ? "?" : "", qsize ? query + 1 : "") < 0)
                        return EXIT_FAILURE_LOCAL;
        } else if (asprintf(&path, "/integrations/systemd/journal%s%s", qsize ? "?" : "", qsize ? query + 1 : "") < 0)
                return EXIT_FAILURE_LOCAL;

        if (follow) {
                _cleanup_(http_response_done) HttpResponse resp = {};
                _cleanup_free_ char *buf = malloc(SSE_LINE_MAX);
                Follow s = { .ctx = c, .line = buf };

                if (!buf)
                        return EXIT_FAILURE_LOCAL;
                return api_do(c, &(HttpRequest) { .method = "GET", .path = path, .accept = "text/event-stream",
                                                  .on_data = on_data, .userdata = &s, .no_timeout = true }, &resp);
        }

        _cleanup_(json_object_putp_) json_object *o = NULL;
        r = api_get_json(c, path, &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        if (!json_object_is_type(o, json_type_array))
                return EXIT_PROTOCOL;
        for (size_t i = 0; i < json_object_array_length(o); i++)
                journal_print_entry(c->out, json_object_array_get_idx(o, i));
        return 0;
}
