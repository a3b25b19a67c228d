/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "fileio.h"
#include "jobs.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "time-util.h"
#include "utf8.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

#define JOB_FILE_MAX (64 * 1024)
#define ACCEPT_GRACE_USEC (30ULL * USEC_PER_SEC)   /* accepted, scope not started yet */
#define SCOPE_START_TIMEOUT_USEC (10ULL * USEC_PER_SEC)
#define SCOPE_STOP_TIMEOUT_USEC (5ULL * USEC_PER_SEC)

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

const char *jobs_dir(void) {
        static __thread char buf[4096];
        snprintf(buf, sizeof(buf), "%s/jobs", runtime_dir());
        (void) mkdir(buf, 0700);
        return buf;
}

static uint64_t realtime_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void format_time(uint64_t ms, char buf[static 32]) {
        time_t t = (time_t) (ms / 1000);
        struct tm tm;
        char base[24];

        gmtime_r(&t, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, 32, "%s.%03uZ", base, (unsigned) (ms % 1000));
}

/* ---- small file helpers (all relative to a job directory fd) ---- */

static int read_at(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return negative_errno();
        return read_full_fd(fd, max, ret, ret_len);
}

static int read_json_at(int dir_fd, const char *name, json_object **ret) {
        _cleanup_free_ char *data = NULL;
        json_object *o;
        int r;

        r = read_at(dir_fd, name, JOB_FILE_MAX, &data, NULL);
        if (r < 0)
                return r;
        o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static int write_json_at(int dir_fd, const char *name, json_object *o) {
        char tmp[64];
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        _cleanup_close_ int fd = -1;
        size_t len = strlen(s);

        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        if (write_all(fd, s, len) < 0)
                return -EIO;
        if (renameat(dir_fd, tmp, dir_fd, name) < 0)
                return negative_errno();
        return 0;
}

static bool exists_at(int dir_fd, const char *name) {
        return faccessat(dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int64_t get_int(json_object *o, const char *key, int64_t def) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
                ? json_object_get_int64(v) : def;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                ? json_object_get_string(v) : NULL;
}

static int open_job_dir(const char *id, int *ret) {
        _cleanup_close_ int base = -1;
        int fd;

        if (!ulid_is_valid(id))
                return -ENOENT;
        base = open(jobs_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base < 0)
                return negative_errno();
        fd = openat(base, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        *ret = fd;
        return 0;
}

/* ---- systemd ---- */

static bool unit_is_active(sd_bus *bus, const char *unit) {
        _cleanup_free_ char *path = NULL, *state = NULL;

        if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) < 0)
                return true;  /* cannot tell: never finalize on a guess */
        if (sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                       "org.freedesktop.systemd1.Unit", "ActiveState", NULL, &state) < 0)
                return true;
        return streq(state, "active") || streq(state, "activating") || streq(state, "deactivating") ||
               streq(state, "reloading");
}

typedef struct JobWait {
        const char *job_path;   /* NULL until StartTransientUnit answered */
        char seen[8][128];
        char seen_result[8][32];
        unsigned n_seen;
        const char *result;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        unsigned i = w->n_seen++ % 8;
        snprintf(w->seen[i], sizeof(w->seen[i]), "%s", path);
        snprintf(w->seen_result[i], sizeof(w->seen_result[i]), "%s", result);
        return 0;
}

static const char *job_removed_result(JobWait *w) {
        for (unsigned i = 0; i < MIN(w->n_seen, 8u); i++)
                if (streq(w->seen[i], w->job_path))
                        return w->seen_result[i];
        return NULL;
}

/* Creates tailkitd-job-<id>.scope around pid and waits until systemd has
 * started it, i.e. pid is in the scope's cgroup. */
static int start_scope(const char *unit, const char *description, pid_t pid, uint64_t timeout_usec,
                       const DaemonConfig *cfg, char **error) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        JobWait w = {};
        const char *job_path;
        uint64_t deadline;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return asprintf(error, "cannot connect to the system bus: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        r = sd_bus_match_signal(bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return asprintf(error, "cannot watch systemd jobs: %s", strerror(-r)) < 0 ? -ENOMEM : r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)",
                                          "Description", "s", description,
                                          "Slice", "s", "tailkitd-jobs.slice",
                                          "CollectMode", "s", "inactive-or-failed",
                                          "RuntimeMaxUSec", "t", timeout_usec,
                                          "TimeoutStopUSec", "t", (uint64_t) SCOPE_STOP_TIMEOUT_USEC,
                                          "MemoryMax", "t", cfg->exec.memory_max,
                                          "TasksMax", "t", cfg->exec.tasks_max,
                                          "CPUQuotaPerSecUSec", "t", (uint64_t) cfg->exec.cpu_quota_percent * 10000,
                                          "PIDs", "au", 1, (uint32_t) pid);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return asprintf(error, "cannot build the StartTransientUnit call: %s", strerror(-r)) < 0 ? -ENOMEM : r;

        r = sd_bus_call(bus, m, SCOPE_START_TIMEOUT_USEC, &err, &reply);
        if (r < 0) {
                int k = asprintf(error, "systemd refused the job's scope: %s", err.message ?: strerror(-r));
                sd_bus_error_free(&err);
                return k < 0 ? -ENOMEM : r;
        }
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return asprintf(error, "unexpected reply from systemd") < 0 ? -ENOMEM : r;
        w.job_path = job_path;

        deadline = now_usec() + SCOPE_START_TIMEOUT_USEC;
        while (!(w.result = job_removed_result(&w))) {
                uint64_t now = now_usec();
                if (now >= deadline)
                        return asprintf(error, "systemd did not start the job's scope in time") < 0 ? -ENOMEM : -ETIMEDOUT;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return asprintf(error, "lost the system bus: %s", strerror(-r)) < 0 ? -ENOMEM : r;
                if (r == 0)
                        (void) sd_bus_wait(bus, deadline - now);
        }
        if (!streq(w.result, "done"))
                return asprintf(error, "systemd could not start the job's scope (%s)", w.result) < 0 ? -ENOMEM : -EIO;
        return 0;
}

/* ---- launching ---- */

static const char *supervisor_path(void) {
        const char *e = getenv("TAILKITD_JOB_SUPERVISOR");
        return isempty(e) ? TAILKITD_LIBEXECDIR "/tailkitd-job" : e;
}

/* Forks the supervisor as a grandchild (so it is nobody's zombie if this
 * worker dies) and returns its pid. Between fork and exec only
 * async-signal-safe calls: the worker is multi-threaded. */
static int spawn_supervisor(int go_fd, int dir_fd, char **argv, char **envp, pid_t *ret) {
        int pidpipe[2];
        pid_t a, s = -1;
        int status;

        if (pipe2(pidpipe, O_CLOEXEC) < 0)
                return negative_errno();
        a = fork();
        if (a < 0) {
                int r = negative_errno();
                close(pidpipe[0]);
                close(pidpipe[1]);
                return r;
        }
        if (a == 0) {
                pid_t c = fork();
                if (c == 0) {
                        sigset_t all;
                        /* fd 3: the start signal, fd 4: the job directory. Move
                         * both out of the way first: either may be 3 or 4. */
                        int g = fcntl(go_fd, F_DUPFD_CLOEXEC, 10), d = fcntl(dir_fd, F_DUPFD_CLOEXEC, 10);
                        if (g < 0 || d < 0 || dup2(g, 3) < 0 || dup2(d, 4) < 0)
                                _exit(127);
                        int devnull = open("/dev/null", O_RDWR);
                        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
                                _exit(127);
                        /* Nothing of the worker's (client sockets, the bus) reaches the job. */
                        (void) close_range(5, ~0U, 0);
                        sigemptyset(&all);
                        sigprocmask(SIG_SETMASK, &all, NULL);
                        (void) setsid();
                        execve(argv[0], argv, envp);
                        _exit(127);
                }
                (void) !write(pidpipe[1], &c, sizeof(c));
                _exit(c < 0);
        }
        close(pidpipe[1]);
        while (waitpid(a, &status, 0) < 0 && errno == EINTR)
                ;
        if (read(pidpipe[0], &s, sizeof(s)) != sizeof(s) || s <= 0) {
                close(pidpipe[0]);
                return -ECHILD;
        }
        close(pidpipe[0]);
        *ret = s;
        return 0;
}

/* Records a result the supervisor could not write. Never replaces one it
 * did write: the supervisor's own record always wins. */
static void fail_job(int dir_fd, const char *error) {
        _cleanup_(json_object_putp) json_object *res = json_object_new_object();
        const char *s;
        _cleanup_close_ int fd = -1;
        char tmp[64];

        if (!res)
                return;
        json_object_object_add(res, "exit_code", json_object_new_int(-1));
        json_object_object_add(res, "signal", json_object_new_int(0));
        json_object_object_add(res, "finished_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        json_object_object_add(res, "error", json_object_new_string(error));
        s = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);

        snprintf(tmp, sizeof(tmp), ".result.json.worker-%d", (int) gettid());
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        if (write_all(fd, s, strlen(s)) < 0 ||
            renameat2(dir_fd, tmp, dir_fd, "result.json", RENAME_NOREPLACE) < 0)
                (void) unlinkat(dir_fd, tmp, 0);
}

static int count_unfinished_locked(void);

int job_start(const JobSpec *spec, const DaemonConfig *cfg, char ret_id[ULID_LEN + 1], char **error) {
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_close_ int base = -1, dir = -1;
        _cleanup_free_ char *unit = NULL, *desc = NULL, *env_id = NULL, *env_caller = NULL, *outmax = NULL;
        char id[ULID_LEN + 1];
        int go[2] = { -1, -1 };
        pid_t pid;
        size_t n_argv = 0;
        int r;

        *error = NULL;
        while (spec->argv[n_argv])
                n_argv++;

        pthread_mutex_lock(&start_lock);
        if (count_unfinished_locked() >= (int) cfg->exec.max_jobs) {
                pthread_mutex_unlock(&start_lock);
                return -EBUSY;
        }
        r = ulid_new(id);
        if (r >= 0) {
                base = open(jobs_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = base < 0 ? negative_errno() : 0;
        }
        if (r >= 0 && mkdirat(base, id, 0700) < 0)
                r = negative_errno();
        if (r >= 0) {
                dir = openat(base, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                r = dir < 0 ? negative_errno() : 0;
        }
        if (r < 0) {
                pthread_mutex_unlock(&start_lock);
                return asprintf(error, "cannot create the job record: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        }

        if (asprintf(&unit, "tailkitd-job-%s.scope", id) < 0 ||
            asprintf(&desc, "tailkitd job %s/%s for %s", spec->tool, spec->command, strna(spec->caller)) < 0) {
                pthread_mutex_unlock(&start_lock);
                return -ENOMEM;
        }
        rec = json_object_new_object();
        json_object_object_add(rec, "job_id", json_object_new_string(id));
        json_object_object_add(rec, "tool", json_object_new_string(spec->tool));
        json_object_object_add(rec, "command", json_object_new_string(spec->command));
        json_object_object_add(rec, "caller", json_object_new_string(strempty(spec->caller)));
        json_object_object_add(rec, "unit", json_object_new_string(unit));
        json_object_object_add(rec, "timeout_ms", json_object_new_int64((int64_t) (spec->timeout_usec / 1000)));
        json_object_object_add(rec, "accepted_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        r = write_json_at(dir, "job.json", rec);
        pthread_mutex_unlock(&start_lock);
        if (r < 0)
                return asprintf(error, "cannot write the job record: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        memcpy(ret_id, id, sizeof(id));

        /* The supervisor's argv: tailkitd-job OUTPUT_MAX -- COMMAND ARGS... */
        if (asprintf(&outmax, "%llu", (unsigned long long) cfg->exec.output_max) < 0 ||
            asprintf(&env_id, "TAILKITD_JOB_ID=%s", id) < 0 ||
            asprintf(&env_caller, "TAILKITD_CALLER=%s", strempty(spec->caller)) < 0)
                return -ENOMEM;
        _cleanup_free_ char **argv = calloc(n_argv + 4, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[0] = (char *) supervisor_path();
        argv[1] = outmax;
        argv[2] = (char *) "--";
        memcpy(argv + 3, spec->argv, n_argv * sizeof(char *));
        char *envp[] = {
                (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                (char *) "LANG=C.UTF-8",
                env_id,
                env_caller,
                NULL,
        };

        if (pipe2(go, O_CLOEXEC) < 0) {
                r = negative_errno();
                fail_job(dir, "cannot create a pipe");
                return asprintf(error, "cannot create a pipe: %s", strerror(-r)) < 0 ? -ENOMEM : 0;
        }
        r = spawn_supervisor(go[0], dir, argv, envp, &pid);
        close(go[0]);
        if (r < 0) {
                close(go[1]);
                fail_job(dir, "cannot start the job's supervisor");
                log_error_errno(r, "Cannot start the supervisor of job %s: %m", id);
                return 0;
        }

        r = start_scope(unit, desc, pid, spec->timeout_usec, cfg, error);
        if (r < 0) {
                /* The supervisor never got the start signal: it exits on EOF. */
                close(go[1]);
                (void) kill(pid, SIGKILL);
                fail_job(dir, *error ?: "cannot start the job's scope");
                log_error("Job %s: %s", id, strna(*error));
                return 0;
        }

        json_object_object_add(rec, "started_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        (void) write_json_at(dir, "job.json", rec);
        if (write(go[1], "G", 1) != 1)
                log_warning_errno(errno, "Cannot start job %s: %m", id);
        close(go[1]);
        return 0;
}

/* ---- reading and housekeeping ---- */

typedef struct JobView {
        json_object *rec;
        json_object *res;       /* NULL while running */
        bool cancel;
        const char *status;
} JobView;

static void job_view_done(JobView *v) {
        json_object_put(v->rec);
        json_object_put(v->res);
}

/* Records why a job whose scope ended has no result: it was killed with
 * its scope (cancel, timeout) or lost. The supervisor writes its result
 * before it exits, i.e. before the scope ends, so look once more first. */
static int finalize_without_result(int dir_fd, JobView *v) {
        int64_t started = get_int(v->rec, "started_at_ms", -1);
        int64_t timeout = get_int(v->rec, "timeout_ms", 0);
        int64_t now = (int64_t) realtime_ms();
        const char *why;

        if (read_json_at(dir_fd, "result.json", &v->res) >= 0)
                return 0;
        if (v->cancel)
                why = "cancelled on request";
        else if (started >= 0 && now - started >= timeout - 250)
                why = "timed out: the command ran past its timeout and its scope was stopped";
        else
                why = "the job's scope ended without a result (killed, or lost while no worker watched)";
        fail_job(dir_fd, why);
        return read_json_at(dir_fd, "result.json", &v->res) < 0 ? -EIO : 0;
}

/* Loads a job and works out its status; finalizes a job whose scope ended
 * without a result (bus may be NULL: then it is not finalized). */
static int job_view(int dir_fd, sd_bus *bus, JobView *v) {
        const char *error;
        int r;

        *v = (JobView) {};
        r = read_json_at(dir_fd, "job.json", &v->rec);
        if (r < 0)
                return r;
        v->cancel = exists_at(dir_fd, "cancel");
        if (read_json_at(dir_fd, "result.json", &v->res) < 0)
                v->res = NULL;

        if (!v->res) {
                int64_t started = get_int(v->rec, "started_at_ms", -1);
                int64_t accepted = get_int(v->rec, "accepted_at_ms", 0);
                const char *unit = get_str(v->rec, "unit");

                if (started < 0 &&
                    ((uint64_t) ((int64_t) realtime_ms() - accepted) * 1000 < ACCEPT_GRACE_USEC || !bus)) {
                        v->status = "accepted";
                        return 0;
                }
                if (started >= 0 && (!bus || !unit || unit_is_active(bus, unit))) {
                        v->status = "running";
                        return 0;
                }
                r = finalize_without_result(dir_fd, v);
                if (r < 0)
                        return r;
        }

        error = get_str(v->res, "error");
        if (v->cancel || (error && startswith(error, "timed out")))
                v->status = "cancelled";
        else if (get_int(v->res, "exit_code", -1) == 0 && get_int(v->res, "signal", 0) == 0 && !error)
                v->status = "completed";
        else
                v->status = "failed";
        return 0;
}

static json_object *output_json(int dir_fd, const char *name) {
        _cleanup_free_ char *data = NULL, *clean = NULL;
        size_t len = 0;

        if (read_at(dir_fd, name, (size_t) 1 << 30, &data, &len) < 0)   /* output_max is at most 1G */
                return json_object_new_string("");
        clean = utf8_sanitize(data, len);
        return json_object_new_string(strempty(clean));
}

int job_read(const char *id, json_object **ret, char **caller) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int dir = -1;
        JobView v;
        json_object *o;
        char ts[32];
        int r;

        r = open_job_dir(id, &dir);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : r;
        (void) sd_bus_open_system(&bus);
        r = job_view(dir, bus, &v);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : r;

        o = json_object_new_object();
        json_object_object_add(o, "job_id", json_object_new_string(id));
        json_object_object_add(o, "status", json_object_new_string(v.status));
        json_object_object_add(o, "tool", json_object_get(json_object_object_get(v.rec, "tool")));
        json_object_object_add(o, "command", json_object_get(json_object_object_get(v.rec, "command")));
        json_object_object_add(o, "unit", json_object_get(json_object_object_get(v.rec, "unit")));

        int64_t started = get_int(v.rec, "started_at_ms", -1);
        int64_t finished = v.res ? get_int(v.res, "finished_at_ms", -1) : -1;
        if (started >= 0) {
                format_time((uint64_t) started, ts);
                json_object_object_add(o, "started_at", json_object_new_string(ts));
        } else
                json_object_object_add(o, "started_at", NULL);
        if (finished >= 0) {
                format_time((uint64_t) finished, ts);
                json_object_object_add(o, "finished_at", json_object_new_string(ts));
        } else
                json_object_object_add(o, "finished_at", NULL);
        int64_t end = finished >= 0 ? finished : (int64_t) realtime_ms();
        json_object_object_add(o, "duration_ms", json_object_new_int64(started >= 0 ? MAX(end - started, 0) : 0));

        if (v.res) {
                json_object_object_add(o, "exit_code", json_object_new_int64(get_int(v.res, "exit_code", -1)));
                int64_t sig = get_int(v.res, "signal", 0);
                json_object_object_add(o, "signal", sig > 0 ? json_object_new_int64(sig) : NULL);
                if (get_str(v.res, "error"))
                        json_object_object_add(o, "error", json_object_get(json_object_object_get(v.res, "error")));
        } else {
                json_object_object_add(o, "exit_code", NULL);
                json_object_object_add(o, "signal", NULL);
        }
        json_object_object_add(o, "stdout", output_json(dir, "stdout"));
        json_object_object_add(o, "stderr", output_json(dir, "stderr"));
        json_object_object_add(o, "stdout_truncated", json_object_new_boolean(v.res && get_int(v.res, "stdout_truncated", 0)));
        json_object_object_add(o, "stderr_truncated", json_object_new_boolean(v.res && get_int(v.res, "stderr_truncated", 0)));

        if (caller)
                *caller = strdup(strempty(get_str(v.rec, "caller")));
        job_view_done(&v);
        *ret = o;
        return 0;
}

int job_cancel(const char *id) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int dir = -1, fd = -1;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        JobView v;
        int r;

        r = open_job_dir(id, &dir);
        if (r < 0)
                return r;
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = job_view(dir, bus, &v);
        if (r < 0)
                return r;
        bool finished = v.res != NULL;
        const char *unit = get_str(v.rec, "unit");
        _cleanup_free_ char *unit_copy = unit ? strdup(unit) : NULL;
        job_view_done(&v);
        if (finished)
                return -EALREADY;

        fd = openat(dir, "cancel", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        /* Stopping the scope kills the supervisor and the command's whole tree. */
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StopUnit", &err, NULL, "ss",
                               strempty(unit_copy), "replace");
        sd_bus_error_free(&err);
        return r < 0 && r != -ENOENT ? r : 0;
}

static int remove_job_dir(int base, const char *id) {
        static const char *const files[] = {
                "job.json", "result.json", "stdout", "stderr", "cancel", "logged",
                ".job.json.tmp", ".result.json.tmp",
        };
        _cleanup_close_ int dir = openat(base, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

        if (dir >= 0)
                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        (void) unlinkat(dir, files[i], 0);
        return unlinkat(base, id, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
}

static void log_completed(int dir_fd, const char *id, JobView *v) {
        char code[32], duration[32];
        int64_t started = get_int(v->rec, "started_at_ms", -1), finished = get_int(v->res, "finished_at_ms", 0);
        _cleanup_close_ int fd = -1;

        snprintf(code, sizeof(code), "%lld", (long long) get_int(v->res, "exit_code", -1));
        snprintf(duration, sizeof(duration), "%lld", (long long) (started >= 0 ? MAX(finished - started, 0) : 0));
        log_struct(LOG_INFO,
                   ((LogField[]) { { "JOB_ID", id }, { "TOOL", get_str(v->rec, "tool") },
                                   { "COMMAND", get_str(v->rec, "command") }, { "CALLER", get_str(v->rec, "caller") },
                                   { "STATUS", v->status }, { "EXIT_CODE", code }, { "DURATION_MS", duration }, {} }),
                   "exec completed");
        fd = openat(dir_fd, "logged", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* With start_lock held (or from the single housekeeping caller). */
static int scan(bool housekeeping) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int unfinished = 0;

        d = opendir(jobs_dir());
        if (!d)
                return 0;
        (void) sd_bus_open_system(&bus);
        while ((de = readdir(d))) {
                _cleanup_close_ int dir = -1;
                JobView v;

                if (!ulid_is_valid(de->d_name))
                        continue;
                dir = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dir < 0 || job_view(dir, bus, &v) < 0)
                        continue;
                if (!v.res)
                        unfinished++;
                else if (housekeeping) {
                        if (!exists_at(dir, "logged"))
                                log_completed(dir, de->d_name, &v);
                        int64_t finished = get_int(v.res, "finished_at_ms", 0);
                        if ((uint64_t) ((int64_t) realtime_ms() - finished) * 1000 > JOB_KEEP_USEC)
                                (void) remove_job_dir(dirfd(d), de->d_name);
                }
                job_view_done(&v);
        }
        return unfinished;
}

static int count_unfinished_locked(void) {
        return scan(false);
}

int jobs_scan(void) {
        return scan(true);
}
