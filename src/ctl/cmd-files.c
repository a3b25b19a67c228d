/* SPDX-License-Identifier: MIT */
/* tailkitctl files send|get|ls: POST /files (X-Dest-Path, the body streamed
 * from the file), GET /files?path= (raw bytes streamed out), GET /files?dir=. */

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "api.h"
#include "args.h"
#include "json-util.h"
#include "macro.h"
#include "progress.h"
#include "table.h"

/* Header values are one line: no CR/LF smuggling into the request. */
static bool header_safe(const char *s) {
        return !strpbrk(s, "\r\n");
}

static int files_send(Ctx *c, const char *local, const char *remote) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *header = NULL;
        struct stat st;
        int r;

        if (!header_safe(remote) || remote[0] != '/')
                return command_usage_error(c, "files", "REMOTE must be an absolute path on one line");
        f = fopen(local, "re");
        if (!f || fstat(fileno(f), &st) < 0) {
                fprintf(c->err, "error: %s: %m\n", local);
                return EXIT_FAILURE_LOCAL;
        }
        if (!S_ISREG(st.st_mode)) {
                fprintf(c->err, "error: %s: not a regular file\n", local);
                return EXIT_FAILURE_LOCAL;
        }
        if (asprintf(&header, "X-Dest-Path: %s", remote) < 0)
                return EXIT_FAILURE_LOCAL;
        r = api_json(c, &(HttpRequest) { .method = "POST", .path = "/files", .content_type = "application/octet-stream",
                                         .extra_header = header, .upload = f, .upload_size = (uint64_t) st.st_size,
                                         .progress_label = local }, &o);
        if (r != 0)
                return r;
        if (c->opt->json)
                print_json(c, o);
        else {
                fprintf(c->out, "%s: %" PRId64 " bytes written\n", strna(json_str(o, "written_to")),
                        json_int(o, "bytes_written", 0));
                if (json_str(o, "job_id"))
                        fprintf(c->out, "post_recv job %s\n", json_str(o, "job_id"));
        }
        return 0;
}

static int files_get(Ctx *c, const char *remote, const char *local) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *escaped = http_escape(remote), *path = NULL, *tmp = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        if (!escaped || asprintf(&path, "/files?path=%s", escaped) < 0)
                return EXIT_FAILURE_LOCAL;
        if (c->opt->json) {
                /* The API's JSON form: {"path","content","size"[, "encoding"]}. */
                _cleanup_(json_object_putp_) json_object *o = NULL;
                r = api_get_json(c, path, &o);
                if (r == 0)
                        print_json(c, o);
                return r;
        }
        if (local && !streq(local, "-")) {
                /* Next to the target, renamed into place only when complete. */
                if (asprintf(&tmp, "%s.tailkitctl-part", local) < 0)
                        return EXIT_FAILURE_LOCAL;
                f = fopen(tmp, "we");
                if (!f) {
                        fprintf(c->err, "error: %s: %m\n", tmp);
                        return EXIT_FAILURE_LOCAL;
                }
        }
        r = api_do(c, &(HttpRequest) { .method = "GET", .path = path, .accept = "application/octet-stream",
                                       .sink = f ?: c->out, .progress_label = f ? remote : NULL }, &resp);
        if (f) {
                if (r == 0 && (fflush(f) != 0 || fsync(fileno(f)) < 0 || rename(tmp, local) < 0)) {
                        fprintf(c->err, "error: %s: %m\n", local);
                        r = EXIT_FAILURE_LOCAL;
                }
                if (r != 0)
                        (void) unlink(tmp);
        }
        return r;
}

static int files_ls(Ctx *c, const char *dir) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        _cleanup_(table_freep) Table *t = table_new("MODE", "SIZE", "MODIFIED", "NAME", NULL);
        _cleanup_free_ char *escaped = http_escape(dir), *path = NULL;
        int r;

        if (!escaped || !t || asprintf(&path, "/files?dir=%s", escaped) < 0)
                return EXIT_FAILURE_LOCAL;
        r = api_get_json(c, path, &o);
        if (r != 0)
                return r;
        if (c->opt->json) {
                print_json(c, o);
                return 0;
        }
        if (!json_object_is_type(o, json_type_array))
                return EXIT_PROTOCOL;
        for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *e = json_object_array_get_idx(o, i);
                _cleanup_free_ char *name = NULL;
                char size[32];

                snprintf(size, sizeof size, "%" PRId64, json_int(e, "size", 0));
                if (asprintf(&name, "%s%s", strna(json_str(e, "name")), json_true(e, "is_dir") ? "/" : "") < 0)
                        return EXIT_FAILURE_LOCAL;
                table_add(t, json_str(e, "mode"), size, json_str(e, "mod_time"), name);
        }
        table_print(t, c->out);
        return 0;
}

int cmd_files(Ctx *c, int argc, char **argv) {
        Args a;
        int r;

        r = args_parse(c, "files", argc, argv, NULL, 0, &a);
        if (r != 0)
                return r;
        if (a.n == 3 && streq(a.pos[0], "send"))
                return files_send(c, a.pos[1], a.pos[2]);
        if ((a.n == 2 || a.n == 3) && streq(a.pos[0], "get"))
                return files_get(c, a.pos[1], a.n == 3 ? a.pos[2] : NULL);
        if (a.n == 2 && streq(a.pos[0], "ls"))
                return files_ls(c, a.pos[1]);
        return command_usage_error(c, "files", "send LOCAL REMOTE, get REMOTE [LOCAL] or ls DIR");
}
