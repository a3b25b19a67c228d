/* SPDX-License-Identifier: MIT */
/* tailkitctl docker …: /integrations/docker/… (Docker's own JSON passed
 * through by tailkitd; tables pick the columns `docker` shows). */

#include <inttypes.h>

#include "api.h"
#include "args.h"
#include "job.h"
#include "json-util.h"
#include "macro.h"
#include "progress.h"
#include "table.h"

#define PREFIX "/integrations/docker"

/* A cell from a JSON value: strings as they are, arrays of strings joined,
 * "Names" without Docker's leading slash. */
static char *cell(json_object *o, const char *key) {
        json_object *v = json_get(o, key);
        char *s = NULL;
        size_t size = 0;
        FILE *f;

        if (!v)
                return NULL;
        f = open_memstream(&s, &size);
        if (!f)
                return NULL;
        if (json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        const char *e = json_object_get_string(json_object_array_get_idx(v, i));
                        if (e && e[0] == '/' && streq(key, "Names"))
                                e++;
                        fprintf(f, "%s%s", i ? "," : "", strempty(e));
                }
        } else if (streq(key, "Id") || streq(key, "ID")) {
                const char *id = json_object_get_string(v);
                id = startswith(id, "sha256:") ?: id;
                fprintf(f, "%.12s", id);
        } else if (streq(key, "Size") && json_object_is_type(v, json_type_int)) {
                char b[32];
                format_bytes((uint64_t) json_object_get_int64(v), b, sizeof b);
                fputs(b, f);
        } else
                fputs(strempty(json_object_get_string(v)), f);
        fclose(f);
        return s;
}

/* Rows of an array with up to 5 named columns. */
static void print_rows(Ctx *c, json_object *arr, const char *const cols[5]) {
        size_t n = 0;
        while (n < 5 && cols[n])
                n++;
        _cleanup_(table_freep) Table *t = table_new(n > 0 ? cols[0] : "-", n > 1 ? cols[1] : NULL,
                                                    n > 2 ? cols[2] : NULL, n > 3 ? cols[3] : NULL,
                                                    n > 4 ? cols[4] : NULL, NULL);
        if (!t || !json_object_is_type(arr, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *o = json_object_array_get_idx(arr, i);
                char *v[5] = {};
                for (size_t k = 0; k < n; k++)
                        v[k] = cell(o, cols[k]);
                table_add(t, v[0], v[1], v[2], v[3], v[4]);
                for (size_t k = 0; k < n; k++)
                        free(v[k]);
        }
        table_print(t, c->out);
}

/* An object's scalar fields as FIELD VALUE lines. */
static void print_object(Ctx *c, json_object *o) {
        _cleanup_(table_freep) Table *t = table_new("FIELD", "VALUE", NULL);

        if (!t || !json_object_is_type(o, json_type_object))
                return;
        json_object_object_foreach(o, k, v)
                if (v && !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
                        table_add(t, k, json_object_get_string(v));
        table_print(t, c->out);
}

typedef struct Listing {
        const char *verb, *path;
        const char *cols[5];
} Listing;

static const Listing listings[] = {
        { "ps",       PREFIX "/containers?all=1", { "Id", "Names", "Image", "State", "Status" } },
        { "images",   PREFIX "/images",           { "Id", "RepoTags", "Size" } },
        { "networks", PREFIX "/networks",         { "Id", "Name", "Driver", "Scope" } },
        { "compose",  PREFIX "/compose",          { "name", "status", "config_files" } },
        { "swarm-nodes",    PREFIX "/swarm/nodes",    { "ID" } },
        { "swarm-services", PREFIX "/swarm/services", { "ID" } },
        { "swarm-tasks",    PREFIX "/swarm/tasks",    { "ID" } },
};

static int get_and_print(Ctx *c, const char *path, const char *const *cols) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        int r;

        r = api_get_json(c, path, &o);
        if (r != 0)
                return r;
        if (c->opt->json)
                print_json(c, o);
        else if (json_object_is_type(o, json_type_array))
                print_rows(c, o, cols ?: (const char *const[5]) { "ID" });
        else if (json_get(o, "Volumes"))
                print_rows(c, json_get(o, "Volumes"), (const char *const[5]) { "Name", "Driver", "Mountpoint" });
        else if (json_str(o, "logs"))
                fputs(json_str(o, "logs"), c->out);
        else
                print_object(c, o);
        return 0;
}

static int post_job(Ctx *c, const char *method, const char *path, json_object *body, bool wait) {
        _cleanup_(json_object_putp_) json_object *accepted = NULL;
        const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;
        int r;

        r = api_json(c, &(HttpRequest) { .method = method, .path = path,
                                         .content_type = text ? "application/json" : NULL,
                                         .body = text, .body_size = text ? strlen(text) : 0 }, &accepted);
        if (r != 0)
                return r;
        if (streq(method, "DELETE") && !json_str(accepted, "job_id")) {
                if (c->opt->json)
                        print_json(c, accepted);
                else
                        fprintf(c->out, "removed\n");
                return 0;
        }
        return job_accepted(c, accepted, wait);
}

static int object_path(const char *fmt, const char *name, char **ret) {
        _cleanup_free_ char *e = http_escape(name);
        return e && asprintf(ret, fmt, e) >= 0 ? 0 : -ENOMEM;
}

static int compose(Ctx *c, Args *a, const char *file, bool wait) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(json_object_putp_) json_object *body = NULL;
        const char *verb = a->n > 1 ? a->pos[1] : "ls";

        if (streq(verb, "ls") && a->n <= 2)
                return get_and_print(c, PREFIX "/compose", listings[3].cols);
        if (a->n != 3)
                return command_usage_error(c, "docker", "compose %s needs one project NAME", verb);
        if (streq(verb, "show")) {
                if (object_path(PREFIX "/compose/%s", a->pos[2], &path) < 0)
                        return EXIT_FAILURE_LOCAL;
                return get_and_print(c, path, NULL);
        }
        if (!streq(verb, "up") && !streq(verb, "down") && !streq(verb, "pull") &&
            !streq(verb, "restart") && !streq(verb, "build"))
                return command_usage_error(c, "docker", "unknown compose action \"%s\"", verb);
        if (file && !streq(verb, "up"))
                return command_usage_error(c, "docker", "-f FILE is for compose up");
        if (object_path(PREFIX "/compose/%s/", a->pos[2], &path) < 0)
                return EXIT_FAILURE_LOCAL;
        _cleanup_free_ char *full = NULL;
        if (asprintf(&full, "%s%s", path, verb) < 0)
                return EXIT_FAILURE_LOCAL;
        if (file) {
                body = json_object_new_object();
                if (!body)
                        return EXIT_FAILURE_LOCAL;
                json_object_object_add(body, "file", json_object_new_string(file));
        }
        return post_job(c, "POST", full, body, wait);
}

int cmd_docker(Ctx *c, int argc, char **argv) {
        _cleanup_free_ char *path = NULL;
        const char *verb, *tail = NULL, *file = NULL;
        bool wait = false;
        Args a;
        int r;

        r = args_parse(c, "docker", argc, argv, (const Flag[]) {
                { "--wait", "-w", NULL, &wait },
                { "--tail", "-n", &tail, NULL },
                { "--file", "-f", &file, NULL },
        }, 3, &a);
        if (r != 0)
                return r;
        if (a.n == 0)
                return command_usage_error(c, "docker", "a docker command is needed");
        verb = a.pos[0];
        if (streq(verb, "compose"))
                return compose(c, &a, file, wait);
        if (file || (tail && !streq(verb, "logs")))
                return command_usage_error(c, "docker", "-f is for compose up, -n for logs");
        if (a.n == 1) {
                for (size_t i = 0; i < 3; i++)
                        if (streq(verb, listings[i].verb) || (i == 0 && streq(verb, "containers")))
                                return get_and_print(c, listings[i].path, listings[i].cols);
                if (streq(verb, "volumes"))
                        return get_and_print(c, PREFIX "/volumes", NULL);
                if (streq(verb, "info"))
                        return get_and_print(c, PREFIX "/info", NULL);
        }
        if (streq(verb, "swarm") && a.n == 2) {
                if (streq(a.pos[1], "info"))
                        return get_and_print(c, PREFIX "/swarm/info", NULL);
                for (size_t i = 4; i < ELEMENTSOF(listings); i++)
                        if (streq(a.pos[1], listings[i].verb + STRLEN("swarm-")))
                                return get_and_print(c, listings[i].path, listings[i].cols);
                return command_usage_error(c, "docker", "swarm info|nodes|services|tasks");
        }
        if (a.n != 2)
                return command_usage_error(c, "docker", "unknown form of \"docker %s\"", verb);
        if (streq(verb, "inspect") || streq(verb, "stats")) {
                if (object_path(streq(verb, "inspect") ? PREFIX "/containers/%s" : PREFIX "/containers/%s/stats",
                                a.pos[1], &path) < 0)
                        return EXIT_FAILURE_LOCAL;
                return get_and_print(c, path, NULL);
        }
        if (streq(verb, "logs")) {
                unsigned n = 100;
                _cleanup_free_ char *p = NULL;
                if (tail && (r = args_uint(c, "docker", "-n", tail, 0, 1000000, &n)) != 0)
                        return r;
                if (object_path(PREFIX "/containers/%s/logs", a.pos[1], &p) < 0 ||
                    asprintf(&path, "%s?tail=%u", p, n) < 0)
                        return EXIT_FAILURE_LOCAL;
                return get_and_print(c, path, NULL);
        }
        if (streq(verb, "start") || streq(verb, "stop") || streq(verb, "restart")) {
                _cleanup_free_ char *p = NULL;
                if (object_path(PREFIX "/containers/%s/", a.pos[1], &p) < 0 || asprintf(&path, "%s%s", p, verb) < 0)
                        return EXIT_FAILURE_LOCAL;
                return post_job(c, "POST", path, NULL, wait);
        }
        if (streq(verb, "rm") || streq(verb, "rmi")) {
                /* Image references keep their slashes: the route takes every segment after /images. */
                if (streq(verb, "rmi") && strpbrk(a.pos[1], "?#%\r\n "))
                        return command_usage_error(c, "docker", "invalid image reference");
                if (streq(verb, "rmi") ? asprintf(&path, PREFIX "/images/%s", a.pos[1]) < 0
                                       : object_path(PREFIX "/containers/%s", a.pos[1], &path) < 0)
                        return EXIT_FAILURE_LOCAL;
                return post_job(c, "DELETE", path, NULL, wait);
        }
        if (streq(verb, "pull")) {
                _cleanup_(json_object_putp_) json_object *body = json_object_new_object();
                if (!body)
                        return EXIT_FAILURE_LOCAL;
                json_object_object_add(body, "image", json_object_new_string(a.pos[1]));
                return post_job(c, "POST", PREFIX "/images/pull", body, wait);
        }
        return command_usage_error(c, "docker", "unknown command \"%s\"", verb);
}
