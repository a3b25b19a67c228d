/* SPDX-License-Identifier: MIT */
/* POST /compose/{name}/{up,down,pull,restart,build}: the compose CLI
 * (compose_command in docker.toml, else docker-compose or `docker compose`,
 * whichever the node has) as a job in a transient scope, with a timeout and
 * DOCKER_HOST set to the configured socket. `up` takes {"file": "/abs/path"}
 * (or ?file=, the Go client's form), which must be a regular file; the other
 * actions find the project's files and directory from its containers' labels. */

#include <sys/stat.h>

#include "docker.h"
#include "jobs.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"

#define COMPOSE_ARGV_MAX 48
#define COMPOSE_FILES_MAX 8
#define COMPOSE_PATH_MAX 1024

static const struct {
        const char *action;
        uint64_t timeout_sec;
        const char *args[4];
} actions[] = {
        { "up",      600,  { "up", "-d", "--remove-orphans" } },
        { "down",    300,  { "down" } },
        { "pull",    600,  { "pull" } },
        { "restart", 300,  { "restart" } },
        { "build",   1800, { "build" } },
};

static void argv_free(char **argv) {
        for (size_t i = 0; i < COMPOSE_ARGV_MAX; i++)
                free(argv[i]);
}

/* An absolute path to an executable: name itself when absolute, else
 * looked up in the usual directories (the worker has no PATH of its own). */
static char *find_program(const char *name) {
        static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin" };
        char *p;

        if (name[0] == '/')
                return access(name, X_OK) == 0 ? strdup(name) : NULL;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (asprintf(&p, "%s/%s", dirs[i], name) < 0)
                        return NULL;
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

static bool has_compose_plugin(void) {
        static const char *const dirs[] = { "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                                            "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins" };
        char p[256];

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(p, sizeof(p), "%s/docker-compose", dirs[i]);
                if (access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

/* The compose command's words (argv[0] absolute) into argv; their count. */
static int compose_command(const DockerConfig *c, char **argv, size_t max) {
        _cleanup_free_ char *copy = NULL;
        size_t n = 0;
        char *save = NULL;

        if (c->compose_command) {
                copy = strdup(c->compose_command);
                if (!copy)
                        return -ENOMEM;
                for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                        if (n + 1 >= max)
                                return -E2BIG;
                        argv[n] = n == 0 ? find_program(w) : strdup(w);
                        if (!argv[n])
                                return n == 0 ? -ENOENT : -ENOMEM;
                        n++;
                }
                return (int) n;
        }
        argv[0] = find_program("docker-compose");
        if (argv[0])
                return 1;
        argv[0] = has_compose_plugin() ? find_program("docker") : NULL;
        if (!argv[0])
                return -ENOENT;
        argv[1] = strdup("compose");
        return argv[1] ? 2 : -ENOMEM;
}

static bool path_is_acceptable(const char *p) {
        if (p[0] != '/' || strlen(p) > COMPOSE_PATH_MAX || strstr(p, "/../") || endswith(p, "/.."))
                return false;
        for (; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7F)
                        return false;
        return true;
}

/* The compose file of `up`: from the body or ?file=. 1 and *ret (the
 * caller's), or 0 when it replied. */
static int up_file(Request *r, char **ret) {
        _cleanup_(json_object_putp_) json_object *body = NULL;
        const char *file = request_query(r, "file");
        struct stat st;
        json_object *v;
        int k;

        if (r->body_size > 0) {
                k = request_json_body(r, &body);
                if (k == -ENOMEM)
                        return k;
                if (k < 0 || !json_object_is_type(body, json_type_object) || json_object_object_length(body) != 1 ||
                    !json_object_object_get_ex(body, "file", &v) || !json_object_is_type(v, json_type_string))
                        return reply_error(r, 400, "the body must be {\"file\": \"/path/to/compose.yml\"} (application/json)", NULL);
                if (file)
                        return reply_error(r, 400, "give the compose file in the body or in ?file=, not both", NULL);
                file = json_object_get_string(v);
        }
        if (!file)
                return reply_error(r, 400, "up needs the compose file: {\"file\": \"/path/to/compose.yml\"}", NULL);
        if (!path_is_acceptable(file))
                return reply_error(r, 400, "the compose file must be an absolute path without '..' or control characters", NULL);
        if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
                return reply_errorf(r, 400, "the path is read by the docker worker, which does not see /tmp of other services",
                                    "compose file not found: %s", file);
        *ret = strdup(file);
        return *ret ? 1 : -ENOMEM;
}

static const char *label_of(json_object *container, const char *key) {
        json_object *labels, *v;

        if (!json_object_object_get_ex(container, "Labels", &labels) || !json_object_object_get_ex(labels, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int compose_action(Request *r) {
        DockerContext *ctx = r->userdata;
        _cleanup_(json_object_putp_) json_object *list = NULL;
        _cleanup_free_ char *path = NULL, *files_copy = NULL, *host = NULL, *file = NULL;
        const char *action = strrchr(r->path, '/') + 1, *files = NULL, *dir = NULL;
        char *argv[COMPOSE_ARGV_MAX] = {}, id[ULID_LEN + 1], hint[512];
        size_t n = 0, a;
        int k;

        for (a = 0; a < ELEMENTSOF(actions) && !streq(actions[a].action, action); a++)
                ;
        if (a == ELEMENTSOF(actions))
                return reply_errorf(r, 404, "valid actions: up, down, pull, restart, build", "unknown compose action: %s", action);
        k = docker_prepare(r, "", &path);
        if (k <= 0)
                return k;

        if (streq(action, "up")) {
                k = up_file(r, &file);
                if (k <= 0)
                        return k;
        } else {
                k = compose_list_project(r, r->args[0], &list);
                if (k <= 0)
                        return k;
                if (json_object_array_length(list) == 0)
                        return reply_errorf(r, 404, "GET /integrations/docker/compose/ lists the projects on this node",
                                            "compose project not found: %s", r->args[0]);
                files = label_of(json_object_array_get_idx(list, 0), "com.docker.compose.project.config_files");
                dir = label_of(json_object_array_get_idx(list, 0), "com.docker.compose.project.working_dir");
        }

        k = compose_command(&ctx->config, argv, COMPOSE_ARGV_MAX);
        if (k < 0) {
                argv_free(argv);
                return reply_error(r, 503, "no compose command on this node",
                                   "install docker-compose or the docker compose plugin, or set [docker] compose_command in docker.toml");
        }
        n = (size_t) k;
        /* -p NAME [-f FILE]... [--project-directory DIR] ACTION ARGS */
        argv[n++] = strdup("-p");
        argv[n++] = strdup(r->args[0]);
        if (file) {
                argv[n++] = strdup("-f");
                argv[n++] = strdup(file);
        } else if (files) {
                files_copy = strdup(files);
                char *save = NULL;
                size_t m = 0;
                for (char *f = files_copy ? strtok_r(files_copy, ",", &save) : NULL; f && m < COMPOSE_FILES_MAX;
                     f = strtok_r(NULL, ",", &save), m++)
                        if (path_is_acceptable(f)) {
                                argv[n++] = strdup("-f");
                                argv[n++] = strdup(f);
                        }
        }
        if (dir && path_is_acceptable(dir)) {
                argv[n++] = strdup("--project-directory");
                argv[n++] = strdup(dir);
        }
        for (size_t i = 0; i < ELEMENTSOF(actions[a].args) && actions[a].args[i]; i++)
                argv[n++] = strdup(actions[a].args[i]);
        for (size_t i = 0; i < n; i++)
                if (!argv[i]) {
                        argv_free(argv);
                        return -ENOMEM;
                }

        if (asprintf(&host, "DOCKER_HOST=unix://%s", ctx->config.socket) < 0) {
                argv_free(argv);
                return -ENOMEM;
        }
        char *env[] = { host, NULL };
        JobSpec spec = {
                .feature = "docker",
                .tool = "docker",
                .command = action,
                .caller = request_caller_name(r),
                .caller_id = r->caller ? r->caller->stable_id : NULL,
                .argv = argv,
                .env = env,
                .timeout_usec = actions[a].timeout_sec * 1000000ULL,
        };
        k = job_start(&spec, worker_daemon_config(), id);
        argv_free(argv);
        if (k == -EBUSY) {
                snprintf(hint, sizeof(hint), "at most %u jobs run at once (max_jobs in tailkitd.conf); retry later",
                         worker_daemon_config()->exec.max_jobs);
                return reply_error(r, 429, "too many jobs", hint);
        }
        if (k == -ENOSPC) {
                snprintf(hint, sizeof(hint), "the node keeps at most %d job records; retry once older ones expire",
                         JOBS_MAX_RECORDS);
                return reply_error(r, 429, "too many job records", hint);
        }
        if (k < 0)
                return reply_errorf(r, 500, "see journalctl TAILKITD_COMPONENT=docker", "cannot start the job: %s",
                                    strerror(-k));
        log_struct(LOG_INFO,
                   ((LogField[]) { { "JOB_ID", id }, { "COMMAND", action }, { "CALLER", request_caller_name(r) }, {} }),
                   "compose %s %s accepted", action, r->args[0]);
        json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "job_id", json_object_new_string(id));
        json_object_object_add(o, "status", json_object_new_string("accepted"));
        return reply_json(r, 202, o);
}
