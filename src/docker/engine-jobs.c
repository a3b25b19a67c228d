/* SPDX-License-Identifier: MIT */
/* Long Engine operations as worker jobs (jobs.h): container start, stop and
 * restart, image pull. The request checks everything and answers 202 with
 * the job; a thread of its own makes the Engine call and ends the job with
 * the Engine's result (a pull's progress lines are the job's output). */

#include <pthread.h>
#include <stdatomic.h>

#include "docker.h"
#include "jobs.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"

#define ENGINE_JOBS_MAX 64
#define PULL_TIMEOUT_MS (10ULL * 60 * 1000)
#define PULL_LINE_MAX (16 * 1024)
#define STOP_GRACE_MAX 600

static atomic_int running;

typedef struct EngineJob {
        char id[ULID_LEN + 1];
        char *socket;
        char version[ENGINE_VERSION_MAX];
        char *path;
        char *what;                     /* "start web", for the output */
        uint64_t timeout_ms;
        bool progress;                  /* the answer is a JSON progress stream */
} EngineJob;

static void engine_job_free(EngineJob *j) {
        if (!j)
                return;
        free(j->socket);
        free(j->path);
        free(j->what);
        free(j);
}

bool docker_engine_jobs_running(void) {
        return atomic_load(&running) > 0;
}

/* One progress line: {"status","id","progress"} or {"error"}. Returns the
 * error it carries, if any (owned by the caller). */
static char *progress_line(EngineJob *j, const char *line, size_t len) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        json_object *v;
        char buf[1024];

        if (len == 0)
                return NULL;
        if (json_parse_strict(line, len, &o) < 0 || !json_object_is_type(o, json_type_object)) {
                (void) job_output(j->id, false, line, len);
                (void) job_output(j->id, false, "\n", 1);
                return NULL;
        }
        if (json_object_object_get_ex(o, "error", &v) && json_object_is_type(v, json_type_string))
                return strdup(json_object_get_string(v));
        const char *id = json_object_object_get_ex(o, "id", &v) ? json_object_get_string(v) : NULL;
        const char *status = json_object_object_get_ex(o, "status", &v) ? json_object_get_string(v) : NULL;
        const char *progress = json_object_object_get_ex(o, "progress", &v) ? json_object_get_string(v) : NULL;
        int n = snprintf(buf, sizeof(buf), "%s%s%s%s%s\n", strempty(id), id ? ": " : "", strempty(status),
                         progress ? " " : "", strempty(progress));
        (void) job_output(j->id, false, buf, MIN((size_t) MAX(n, 0), sizeof(buf) - 1));
        return NULL;
}

/* Reads a pull's progress stream to its end; the error it reported, or NULL. */
static char *read_progress(EngineJob *j, EngineCall *c, int *ret) {
        _cleanup_free_ char *line = malloc(PULL_LINE_MAX);
        size_t len = 0;
        char chunk[8192];
        ssize_t n;

        *ret = 0;
        if (!line) {
                *ret = -ENOMEM;
                return NULL;
        }
        while ((n = engine_read(c, chunk, sizeof(chunk))) > 0)
                for (ssize_t i = 0; i < n; i++) {
                        if (chunk[i] != '\n') {
                                if (len < PULL_LINE_MAX)
                                        line[len++] = chunk[i];
                                continue;
                        }
                        char *error = progress_line(j, line, len);
                        len = 0;
                        if (error)
                                return error;
                }
        if (n < 0)
                *ret = (int) n;
        return progress_line(j, line, len);
}

/* Makes the job's Engine call; the error that fails the job, or NULL. */
static char *run_engine_job(EngineJob *j) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        _cleanup_free_ char *detail = NULL, *body = NULL;
        EngineRequest req = {
                .socket = j->socket,
                .method = "POST",
                .version = j->version,
                .path = j->path,
                .timeout_ms = j->timeout_ms,
        };
        char *error = NULL;
        long status;
        size_t size;
        int e;

        e = engine_open(&req, &c, &detail);
        if (e < 0) {
                if (engine_unreachable(e))
                        engine_forget(j->socket);
                if (asprintf(&error, "docker daemon: %s", detail ?: strerror(-e)) < 0)
                        return strdup("docker daemon unreachable");
                return error;
        }
        status = engine_call_status(c);
        if (status >= 400) {
                _cleanup_(json_object_putp_) json_object *o = NULL;
                json_object *m;

                if (engine_read_all(c, DOCKER_ERROR_BODY_MAX, &body, &size) >= 0 &&
                    json_parse_strict(body, size, &o) >= 0 && json_object_object_get_ex(o, "message", &m))
                        return strdup(json_object_get_string(m));
                if (asprintf(&error, "docker daemon answered HTTP %ld", status) < 0)
                        return strdup("docker daemon failed");
                return error;
        }
        if (j->progress) {
                error = read_progress(j, c, &e);
                if (!error && e < 0 && asprintf(&error, "reading the pull's progress failed: %s", strerror(-e)) < 0)
                        return strdup("reading the pull's progress failed");
                return error;
        }

        char line[512];
        /* 304: it already was in that state. */
        int n = snprintf(line, sizeof(line), "%s%s\n", j->what,
                         status == 304 ? ": nothing to do, already in that state" : ": done");
        (void) job_output(j->id, false, line, MIN((size_t) MAX(n, 0), sizeof(line) - 1));
        return NULL;
}

static void *engine_job_thread(void *p) {
        EngineJob *j = p;
        _cleanup_free_ char *error = run_engine_job(j);

        (void) job_end(j->id, error ? 1 : 0, error);
        log_struct(error ? LOG_WARNING : LOG_INFO,
                   ((LogField[]) { { "JOB_ID", j->id }, { "STATUS", error ? "failed" : "completed" }, {} }),
                   "docker job %s %s%s", j->what, error ? "failed: " : "completed", strempty(error));
        engine_job_free(j);
        atomic_fetch_sub(&running, 1);
        return NULL;
}

/* Accepts the job and starts its thread; answers 202 or the error. */
static int start_engine_job(Request *r, const char *command, char *path, const char *what, uint64_t timeout_ms,
                            bool progress) {
        DockerContext *ctx = r->userdata;
        EngineJob *j;
        pthread_attr_t attr;
        pthread_t t;
        json_object *o;
        char hint[256];
        int e;

        if (atomic_fetch_add(&running, 1) >= ENGINE_JOBS_MAX) {
                atomic_fetch_sub(&running, 1);
                free(path);
                snprintf(hint, sizeof(hint), "at most %d docker jobs run at once; retry later", ENGINE_JOBS_MAX);
                return reply_error(r, 429, "too many docker jobs", hint);
        }
        j = calloc(1, sizeof(EngineJob));
        if (!j || !(j->socket = strdup(ctx->config.socket)) || !(j->what = strdup(what))) {
                atomic_fetch_sub(&running, 1);
                free(path);
                engine_job_free(j);
                return -ENOMEM;
        }
        j->path = path;
        memcpy(j->version, ctx->version, sizeof(j->version));
        j->timeout_ms = timeout_ms;
        j->progress = progress;

        JobSpec spec = {
                .feature = "docker",
                .tool = "docker",
                .command = command,
                .caller = request_caller_name(r),
                .caller_id = r->caller ? r->caller->stable_id : NULL,
                .timeout_usec = timeout_ms * 1000,
        };
        e = job_begin(&spec, worker_daemon_config(), j->id);
        if (e < 0) {
                atomic_fetch_sub(&running, 1);
                engine_job_free(j);
                if (e == -ENOSPC) {
                        snprintf(hint, sizeof(hint), "the node keeps at most %d job records; retry once older ones expire",
                                 JOBS_MAX_RECORDS);
                        return reply_error(r, 429, "too many job records", hint);
                }
                return reply_errorf(r, 500, "see journalctl TAILKITD_COMPONENT=docker", "cannot create the job: %s",
                                    strerror(-e));
        }
        o = json_object_new_object();
        if (!o) {
                (void) job_end(j->id, 1, "out of memory");
                atomic_fetch_sub(&running, 1);
                engine_job_free(j);
                return -ENOMEM;
        }
        json_object_object_add(o, "job_id", json_object_new_string(j->id));
        json_object_object_add(o, "status", json_object_new_string("accepted"));
        log_struct(LOG_INFO,
                   ((LogField[]) { { "JOB_ID", j->id }, { "COMMAND", command }, { "CALLER", request_caller_name(r) }, {} }),
                   "docker job %s accepted", what);

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        e = pthread_create(&t, &attr, engine_job_thread, j);
        pthread_attr_destroy(&attr);
        if (e != 0) {
                (void) job_end(j->id, 1, "cannot run the job (no thread)");
                atomic_fetch_sub(&running, 1);
                engine_job_free(j);
                json_object_put(o);
                return reply_error(r, 500, "cannot run the job", NULL);
        }
        return reply_json(r, 202, o);
}

/* The container must exist: a 404 now rather than a failed job. */
static int container_exists(Request *r) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        _cleanup_free_ char *escaped = query_escape(r->args[0]), *path = NULL;
        int k;

        if (!escaped || asprintf(&path, "/containers/%s/json", escaped) < 0)
                return -ENOMEM;
        k = docker_open(r, "GET", path, NULL, 0, DOCKER_READ_TIMEOUT_MS, &c);
        if (k <= 0)
                return k;
        if (engine_call_status(c) >= 300) {
                k = docker_reply_engine_error(r, c);
                return k < 0 ? k : 0;
        }
        return 1;
}

int docker_container_action(Request *r) {
        const DockerEndpoint *e = docker_endpoint(r);
        _cleanup_free_ char *path = NULL, *what = NULL;
        const char *action = strrchr(e->route.pattern, '/') + 1, *t;
        uint64_t timeout_ms = DOCKER_WRITE_TIMEOUT_MS;
        int k;

        k = docker_prepare(r, NULL, &path);
        if (k <= 0)
                return k;
        k = container_exists(r);
        if (k <= 0)
                return k;
        /* stop and restart wait up to t seconds (the Engine's default 10) for the container. */
        t = request_query(r, "t");
        timeout_ms += (t ? strtoull(t, NULL, 10) : 10) * 1000;
        if (asprintf(&what, "%s %s", action, r->args[0]) < 0)
                return -ENOMEM;
        return start_engine_job(r, action, TAKE_PTR(path), what, timeout_ms, false);
}

/* "busybox" pulls busybox:latest, not every tag of busybox. */
static bool ref_has_tag_or_digest(const char *ref) {
        const char *last = strrchr(ref, '/');

        return strchr(ref, '@') || strchr(last ? last : ref, ':');
}

int docker_image_pull(Request *r) {
        _cleanup_(json_object_putp_) json_object *body = NULL;
        _cleanup_free_ char *path = NULL, *escaped = NULL, *what = NULL;
        const char *ref = request_query(r, "ref");
        json_object *v;
        int k;

        k = docker_prepare(r, "", &path);
        if (k <= 0)
                return k;
        /* README: body {"image": "nginx:latest"}; the Go client: ?ref=. */
        if (r->body_size > 0) {
                k = request_json_body(r, &body);
                if (k == -ENOMEM)
                        return k;
                if (k < 0 || !json_object_is_type(body, json_type_object) ||
                    !json_object_object_get_ex(body, "image", &v) || !json_object_is_type(v, json_type_string) ||
                    json_object_object_length(body) != 1)
                        return reply_error(r, 400, "the body must be {\"image\": \"<reference>\"} (application/json)", NULL);
                if (ref)
                        return reply_error(r, 400, "give the image in the body or in ?ref=, not both", NULL);
                ref = json_object_get_string(v);
        }
        if (!ref)
                return reply_error(r, 400, "which image? send {\"image\": \"busybox:latest\"}", NULL);
        if (!docker_image_ref_is_valid(ref) || startswith(ref, "sha256:"))
                return reply_error(r, 400, "invalid image reference",
                                   "an image reference like \"busybox:latest\" or \"registry:5000/team/app:1.2\"");
        escaped = query_escape(ref);
        if (!escaped)
                return -ENOMEM;
        free(path);
        if (asprintf(&path, "/images/create?fromImage=%s%s", escaped, ref_has_tag_or_digest(ref) ? "" : "&tag=latest") < 0)
                return -ENOMEM;
        if (asprintf(&what, "pull %s", ref) < 0)
                return -ENOMEM;
        return start_engine_job(r, "pull", TAKE_PTR(path), what, PULL_TIMEOUT_MS, true);
}
