/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/close_range.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>

#include "fileio.h"
#include "job-files.h"
#include "job-index.h"
#include "job-scope.h"
#include "jobs.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "time-util.h"
#include "worker-stats.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

#define ACCEPT_GRACE_USEC (30ULL * USEC_PER_SEC)   /* accepted, scope not started yet */
/* After its timeout systemd stops a scope, killing what is left after its
 * stop timeout (5 s): past this margin no process of the job can remain. */
#define SCOPE_LINGER_USEC (15ULL * USEC_PER_SEC)

static void format_time(uint64_t ms, char buf[static 32]) {
        time_t t = (time_t) (ms / 1000);
        struct tm tm;
        char base[24];

        gmtime_r(&t, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, 32, "%s.%03uZ", base, (unsigned) (ms % 1000));
}

static void strv_freep(char ***v) {
        if (*v)
                for (char **p = *v; *p; p++)
                        free(*p);
        free(*v);
}

static size_t records_total(void);

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
        _cleanup_close_ int fd = -1;
        const char *s;
        char tmp[64];

        if (!res)
                return;
        json_object_object_add(res, "exit_code", json_object_new_int(-1));
        json_object_object_add(res, "signal", json_object_new_int(0));
        json_object_object_add(res, "finished_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        json_object_object_add(res, "finished_boot_usec", json_object_new_int64((int64_t) boottime_usec()));
        json_object_object_add(res, "error", json_object_new_string(error));
        s = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);
        if (!s)
                return;

        snprintf(tmp, sizeof(tmp), ".result.json.worker-%d", (int) gettid());
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        if (write_all(fd, s, strlen(s)) < 0 ||
            renameat2(dir_fd, tmp, dir_fd, "result.json", RENAME_NOREPLACE) < 0)
                (void) unlinkat(dir_fd, tmp, 0);
}

#define CANCELLED_BEFORE_START "cancelled before it started"

static bool cancel_requested(int dir_fd) {
        return exists_at(dir_fd, "cancel");
}

/* What the start of one job needs after POST has answered. */
typedef struct Launch {
        JobId id;
        int dir;
        char *unit, *desc;
        char **argv;                    /* tailkitd-job OUTPUT_MAX -- COMMAND ARGS... */
        char **envp;
        json_object *rec;
        uint64_t timeout_usec;
        const DaemonConfig *cfg;        /* the worker's: lives as long as the process */
} Launch;

static void launch_free(Launch *l) {
        if (!l)
                return;
        if (l->dir >= 0)
                close(l->dir);
        free(l->unit);
        free(l->desc);
        strv_freep(&l->argv);
        strv_freep(&l->envp);
        json_object_put(l->rec);
        free(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Launch *, launch_free);

/* Puts the supervisor in the job's scope, then lets it run the command,
 * unless a DELETE came first. A DELETE that comes later finds the scope
 * and stops it; the supervisor looks for the marker once more itself.
 * Returns why the job did not start (for its result), NULL once it did. */
static const char *launch_run(Launch *l, char **error) {
        _cleanup_close_ int go_w = -1;
        int go[2], r;
        pid_t pid;

        if (cancel_requested(l->dir))
                return CANCELLED_BEFORE_START;
        if (pipe2(go, O_CLOEXEC) < 0) {
                log_error_errno(errno, "Cannot start job %s: cannot create a pipe: %m", l->id);
                return "cannot create a pipe";
        }
        go_w = go[1];
        r = spawn_supervisor(go[0], l->dir, l->argv, l->envp, &pid);
        close(go[0]);
        if (r < 0) {
                log_error_errno(r, "Cannot start the supervisor of job %s: %m", l->id);
                return "cannot start the job's supervisor";
        }

        r = start_scope(l->unit, l->desc, pid, l->timeout_usec, l->cfg, error);
        if (r < 0) {
                /* The supervisor never gets the start signal: it exits on EOF. */
                (void) kill(pid, SIGKILL);
                if (cancel_requested(l->dir))   /* DELETE stopped the scope while it started */
                        return CANCELLED_BEFORE_START;
                log_error("Job %s: %s", l->id, strna(*error));
                return *error ?: "cannot start the job's scope";
        }
        if (cancel_requested(l->dir))
                return CANCELLED_BEFORE_START;  /* closing go_w ends the supervisor */

        json_object_object_add(l->rec, "started_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        json_object_object_add(l->rec, "started_boot_usec", json_object_new_int64((int64_t) boottime_usec()));
        (void) write_json_at(l->dir, "job.json", l->rec);
        if (write(go_w, "G", 1) != 1)
                log_warning_errno(errno, "Cannot start job %s: %m", l->id);
        return NULL;
}

static void launch(Launch *l) {
        _cleanup_free_ char *error = NULL;
        const char *why = launch_run(l, &error);

        if (why)
                fail_job(l->dir, why);
}

static void *launch_thread(void *p) {
        _cleanup_(launch_freep) Launch *l = p;

        launch(l);
        return NULL;
}

static char *strdup_printf(const char *format, ...) _printf_(1, 2);
static char *strdup_printf(const char *format, ...) {
        va_list ap;
        char *s;
        int k;

        va_start(ap, format);
        k = vasprintf(&s, format, ap);
        va_end(ap);
        return k < 0 ? NULL : s;
}

static size_t strv_length(char **v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

/* The supervisor's command line: "tailkitd-job OUTPUT_MAX -- COMMAND ARGS"
 * for one command, "tailkitd-job OUTPUT_MAX --steps N  K1 NAME1 ARGV1…  K2
 * NAME2 ARGV2…" for a chain (Ki: the number of elements of ARGVi). */
static int supervisor_argv(const JobSpec *spec, const DaemonConfig *cfg, char ***ret) {
        _cleanup_(strv_freep) char **argv = NULL;
        size_t n = 3, k = 0;

        if (spec->n_steps > 0) {
                n++;
                for (size_t i = 0; i < spec->n_steps; i++)
                        n += 2 + strv_length(spec->steps[i].argv);
        } else
                n += strv_length(spec->argv);
        argv = calloc(n + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[k++] = strdup(supervisor_path());
        argv[k++] = strdup_printf("%llu", (unsigned long long) cfg->exec.output_max);
        if (spec->n_steps > 0) {
                argv[k++] = strdup("--steps");
                argv[k++] = strdup_printf("%zu", spec->n_steps);
                for (size_t i = 0; i < spec->n_steps; i++) {
                        argv[k++] = strdup_printf("%zu", strv_length(spec->steps[i].argv));
                        argv[k++] = strdup(strempty(spec->steps[i].name));
                        for (char **a = spec->steps[i].argv; a && *a; a++)
                                argv[k++] = strdup(*a);
                }
        } else {
                argv[k++] = strdup("--");
                for (char **a = spec->argv; a && *a; a++)
                        argv[k++] = strdup(*a);
        }
        for (size_t i = 0; i < k; i++)
                if (!argv[i])
                        return -ENOMEM;
        *ret = TAKE_PTR(argv);
        return 0;
}

static int launch_new(const char *id, int dir, const JobSpec *spec, const DaemonConfig *cfg, json_object *rec,
                      Launch **ret) {
        _cleanup_(launch_freep) Launch *l = calloc(1, sizeof(Launch));
        size_t n_env = strv_length(spec->env), k = 0;
        int r;

        if (!l)
                return -ENOMEM;
        l->dir = -1;
        snprintf(l->id, sizeof(l->id), "%s", id);
        r = supervisor_argv(spec, cfg, &l->argv);
        if (r < 0)
                return r;
        l->envp = calloc(n_env + 5, sizeof(char *));
        if (!l->envp)
                return -ENOMEM;
        l->envp[k++] = strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        l->envp[k++] = strdup("LANG=C.UTF-8");
        l->envp[k++] = strdup_printf("TAILKITD_JOB_ID=%s", id);
        l->envp[k++] = strdup_printf("TAILKITD_CALLER=%s", strempty(spec->caller));
        for (size_t i = 0; i < n_env; i++)
                l->envp[k++] = strdup(spec->env[i]);
        for (size_t i = 0; i < k; i++)
                if (!l->envp[i])
                        return -ENOMEM;
        l->unit = strdup_printf("tailkitd-job-%s.scope", id);
        l->desc = strdup_printf("tailkitd job %s/%s for %s", spec->tool, spec->command, strna(spec->caller));
        if (!l->unit || !l->desc)
                return -ENOMEM;
        l->dir = fcntl(dir, F_DUPFD_CLOEXEC, 3);
        if (l->dir < 0)
                return negative_errno();
        l->rec = json_object_get(rec);
        l->timeout_usec = spec->timeout_usec;
        l->cfg = cfg;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The record of a new job: its directory and job.json. */
static int record_new(const char *id, const JobSpec *spec, const char *unit, json_object **ret_rec, int *ret_dir) {
        _cleanup_(json_object_putp) json_object *rec = json_object_new_object();
        _cleanup_close_ int base = -1, dir = -1;
        int r;

        if (!rec)
                return -ENOMEM;
        base = open(jobs_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base < 0)
                return negative_errno();
        if (mkdirat(base, id, 0700) < 0)
                return negative_errno();
        dir = openat(base, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir < 0) {
                r = negative_errno();
                (void) remove_job_dir(base, id);
                return r;
        }
        json_object_object_add(rec, "job_id", json_object_new_string(id));
        json_object_object_add(rec, "feature", json_object_new_string(spec->feature ?: "exec"));
        json_object_object_add(rec, "tool", json_object_new_string(spec->tool));
        json_object_object_add(rec, "command", json_object_new_string(spec->command));
        /* The name is for people; who may poll is decided by the stable ID. */
        json_object_object_add(rec, "caller", json_object_new_string(strempty(spec->caller)));
        json_object_object_add(rec, "caller_id", json_object_new_string(strempty(spec->caller_id)));
        json_object_object_add(rec, "unit", json_object_new_string(unit));
        json_object_object_add(rec, "timeout_ms", json_object_new_int64((int64_t) (spec->timeout_usec / 1000)));
        json_object_object_add(rec, "accepted_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        json_object_object_add(rec, "accepted_boot_usec", json_object_new_int64((int64_t) boottime_usec()));
        r = write_json_at(dir, "job.json", rec);
        if (r < 0) {
                (void) remove_job_dir(base, id);
                return r;
        }
        *ret_rec = TAKE_PTR(rec);
        *ret_dir = TAKE_FD(dir);
        return 0;
}

static void remove_record(const char *id) {
        _cleanup_close_ int base = open(jobs_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (base >= 0)
                (void) remove_job_dir(base, id);
}

/* Refreshes the live jobs when a start would be refused, at most this often
 * (a burst of refused POSTs must not poll systemd once each). */
#define REFRESH_INTERVAL_USEC (100ULL * USEC_PER_MSEC)

static void refresh_if_full(unsigned max_jobs) {
        static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
        static uint64_t last;
        uint64_t now;

        if (job_index_n_live() < max_jobs && job_index_n_total() < JOBS_MAX_RECORDS)
                return;
        pthread_mutex_lock(&refresh_lock);
        now = now_usec();
        if (now - last >= REFRESH_INTERVAL_USEC) {
                (void) jobs_housekeeping();
                last = now_usec();
        }
        pthread_mutex_unlock(&refresh_lock);
}

int job_start(const JobSpec *spec, const DaemonConfig *cfg, char ret_id[ULID_LEN + 1]) {
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_(launch_freep) Launch *l = NULL;
        _cleanup_close_ int dir = -1;
        pthread_attr_t attr;
        pthread_t thread;
        JobId id;
        int r;

        refresh_if_full(cfg->exec.max_jobs);
        if (job_index_n_live() >= cfg->exec.max_jobs)
                return -EBUSY;
        if (records_total() >= JOBS_MAX_RECORDS)
                return -ENOSPC;

        r = ulid_new(id);
        if (r < 0)
                return r;
        char unit[64];
        snprintf(unit, sizeof(unit), "tailkitd-job-%s.scope", id);
        r = record_new(id, spec, unit, &rec, &dir);
        if (r < 0)
                return log_error_errno(r, "Cannot create the record of a job in %s: %m", jobs_dir());
        /* Checked again: requests race between the check above and here. */
        r = job_index_add(id, cfg->exec.max_jobs, JOBS_MAX_RECORDS);
        if (r < 0) {
                remove_record(id);
                return r;
        }
        memcpy(ret_id, id, sizeof(JobId));
        worker_stats_job_started();

        r = launch_new(id, dir, spec, cfg, rec, &l);
        if (r < 0) {
                fail_job(dir, "cannot prepare the job's start");
                return log_error_errno(r, "Cannot prepare job %s: %m", id);
        }
        /* The scope starts after the 202: until then the job reads accepted. */
        if (pthread_attr_init(&attr) == 0) {
                (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                (void) pthread_attr_setstacksize(&attr, 256 * 1024);
                r = pthread_create(&thread, &attr, launch_thread, l);
                pthread_attr_destroy(&attr);
                if (r == 0) {
                        TAKE_PTR(l);
                        return 0;
                }
        }
        launch(l);
        return 0;
}

/* ---- worker jobs ---- */

#define WORKER_JOB_GRACE_USEC (30ULL * USEC_PER_SEC)

static bool is_worker_job(json_object *rec) {
        return streq_ptr(json_get_str(rec, "runner"), "worker");
}

int job_begin(const JobSpec *spec, const DaemonConfig *cfg, char ret_id[ULID_LEN + 1]) {
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_free_ char *unit = NULL;
        _cleanup_close_ int dir = -1;
        JobId id;
        int r;

        refresh_if_full(UINT_MAX);
        if (records_total() >= JOBS_MAX_RECORDS)
                return -ENOSPC;
        r = ulid_new(id);
        if (r < 0)
                return r;
        /* Outside a unit (run by hand, tests): the job lives as long as its
         * timeout allows. */
        if (sd_pid_get_unit(0, &unit) < 0)
                unit = NULL;
        r = record_new(id, spec, strempty(unit), &rec, &dir);
        if (r < 0)
                return log_error_errno(r, "Cannot create the record of a job in %s: %m", jobs_dir());
        json_object_object_add(rec, "runner", json_object_new_string("worker"));
        json_object_object_add(rec, "output_max", json_object_new_int64((int64_t) cfg->exec.output_max));
        json_object_object_add(rec, "started_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        json_object_object_add(rec, "started_boot_usec", json_object_new_int64((int64_t) boottime_usec()));
        r = write_json_at(dir, "job.json", rec);
        if (r >= 0)
                r = job_index_add(id, UINT_MAX, JOBS_MAX_RECORDS);
        if (r < 0) {
                remove_record(id);
                return r;
        }
        memcpy(ret_id, id, sizeof(JobId));
        worker_stats_job_started();
        return 0;
}

int job_output(const char *id, bool to_stderr, const void *data, size_t size) {
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_close_ int dir = -1, fd = -1;
        struct stat st;
        uint64_t max, room;
        int r;

        r = open_job_dir(id, &dir);
        if (r < 0)
                return r;
        r = read_json_at(dir, "job.json", &rec);
        if (r < 0)
                return r;
        max = (uint64_t) MAX(json_get_int(rec, "output_max", 0), 0);
        fd = openat(dir, to_stderr ? "stderr" : "stdout",
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        room = (uint64_t) st.st_size < max ? max - (uint64_t) st.st_size : 0;
        if (size > room) {
                /* Marked once: job_end() tells the poller. */
                _unused_ _cleanup_close_ int m = openat(dir, to_stderr ? "stderr_truncated" : "stdout_truncated",
                                               O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        }
        return room > 0 ? write_all(fd, data, (size_t) MIN((uint64_t) size, room)) : 0;
}

int job_end(const char *id, int exit_code, const char *error) {
        _cleanup_(json_object_putp) json_object *res = json_object_new_object();
        _cleanup_close_ int dir = -1;
        int r;

        if (!res)
                return -ENOMEM;
        r = open_job_dir(id, &dir);
        if (r < 0)
                return r;
        json_object_object_add(res, "exit_code", json_object_new_int(exit_code));
        json_object_object_add(res, "signal", json_object_new_int(0));
        json_object_object_add(res, "finished_at_ms", json_object_new_int64((int64_t) realtime_ms()));
        json_object_object_add(res, "finished_boot_usec", json_object_new_int64((int64_t) boottime_usec()));
        json_object_object_add(res, "stdout_truncated", json_object_new_int(exists_at(dir, "stdout_truncated")));
        json_object_object_add(res, "stderr_truncated", json_object_new_int(exists_at(dir, "stderr_truncated")));
        if (error)
                json_object_object_add(res, "error", json_object_new_string(error));
        r = write_json_at(dir, "result.json", res);
        if (r < 0)
                return log_error_errno(r, "Cannot record the end of job %s: %m", id);
        /* This worker's index: the job no longer keeps the worker busy. */
        job_index_release(id, boottime_usec());
        return 0;
}

bool job_cancel_requested(const char *id) {
        _cleanup_close_ int dir = -1;

        return open_job_dir(id, &dir) >= 0 && cancel_requested(dir);
}

/* ---- reading ---- */

typedef struct JobView {
        json_object *rec;
        json_object *res;       /* NULL while running */
        bool cancel;
        const char *status;
} JobView;

static void job_view_done(JobView *v) {
        json_object_put(v->rec);
        json_object_put(v->res);
        *v = (JobView) {};
}

/* Microseconds since a record's stamp: on CLOCK_BOOTTIME when the record
 * has it, else (a record of an older version) on the wall clock. */
static uint64_t age_usec(json_object *o, const char *boot_key, const char *ms_key) {
        int64_t boot = json_get_int(o, boot_key, -1), ms, now;

        if (boot >= 0) {
                now = (int64_t) boottime_usec();
                return now > boot ? (uint64_t) (now - boot) : 0;
        }
        ms = json_get_int(o, ms_key, -1);
        now = (int64_t) realtime_ms();
        return ms >= 0 && now > ms ? (uint64_t) (now - ms) * 1000 : 0;
}

/* Records why a job whose scope ended has no result: it was killed with
 * its scope (cancel, timeout) or lost. The supervisor writes its result
 * before it exits, i.e. before the scope ends, so look once more first. */
static int finalize_without_result(int dir_fd, JobView *v) {
        int64_t timeout_ms = json_get_int(v->rec, "timeout_ms", 0);
        const char *why;

        if (read_json_at(dir_fd, "result.json", &v->res) >= 0)
                return 0;
        if (v->cancel)
                why = "cancelled on request";
        else if (json_get_int(v->rec, "started_at_ms", -1) >= 0 &&
                 age_usec(v->rec, "started_boot_usec", "started_at_ms") / 1000 + 250 >= (uint64_t) MAX(timeout_ms, 0))
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
        v->cancel = cancel_requested(dir_fd);
        if (read_json_at(dir_fd, "result.json", &v->res) < 0)
                v->res = NULL;

        if (!v->res && is_worker_job(v->rec)) {
                /* Running while its worker runs, within its timeout. */
                const char *unit = json_get_str(v->rec, "unit");
                uint64_t limit = (uint64_t) MAX(json_get_int(v->rec, "timeout_ms", 0), 0) * 1000 + WORKER_JOB_GRACE_USEC;

                if (!bus || (age_usec(v->rec, "started_boot_usec", "started_at_ms") < limit &&
                             (isempty(unit) || unit_is_active(bus, unit)))) {
                        v->status = "running";
                        return 0;
                }
                fail_job(dir_fd, isempty(unit) || unit_is_active(bus, unit)
                                 ? "timed out: the worker did not finish the job in time"
                                 : "the worker stopped before the job finished");
                if (read_json_at(dir_fd, "result.json", &v->res) < 0)
                        return -EIO;
        }

        if (!v->res) {
                bool started = json_get_int(v->rec, "started_at_ms", -1) >= 0;
                const char *unit = json_get_str(v->rec, "unit");

                if (!started && (age_usec(v->rec, "accepted_boot_usec", "accepted_at_ms") < ACCEPT_GRACE_USEC || !bus)) {
                        v->status = "accepted";
                        return 0;
                }
                if (started && (!bus || !unit || unit_is_active(bus, unit))) {
                        v->status = "running";
                        return 0;
                }
                r = finalize_without_result(dir_fd, v);
                if (r < 0)
                        return r;
        }

        error = json_get_str(v->res, "error");
        if (is_worker_job(v->rec) ? error && (startswith(error, "cancelled") || startswith(error, "timed out"))
                                  : v->cancel || (error && startswith(error, "timed out")))
                v->status = "cancelled";
        else if (json_get_int(v->res, "exit_code", -1) == 0 && json_get_int(v->res, "signal", 0) == 0 && !error)
                v->status = "completed";
        else
                v->status = "failed";
        return 0;
}

static void open_output(int dir_fd, const char *name, int *ret_fd, uint64_t *ret_size) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;

        *ret_fd = -1;
        *ret_size = 0;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return;
        /* What is there now: a running job's output grows while it is sent. */
        *ret_size = MIN((uint64_t) st.st_size, JOB_OUTPUT_READ_MAX);
        *ret_fd = TAKE_FD(fd);
}

void job_read_done(JobRead *j) {
        json_object_put(j->fields);
        json_object_put(j->flags);
        if (j->stdout_fd >= 0)
                close(j->stdout_fd);
        if (j->stderr_fd >= 0)
                close(j->stderr_fd);
        free(j->caller_id);
        free(j->feature);
        *j = (JobRead) { .stdout_fd = -1, .stderr_fd = -1 };
}

int job_read(const char *id, JobRead *ret) {
        _cleanup_(job_bus_give_backp) sd_bus *bus = NULL;
        _cleanup_(job_view_done) JobView v = {};
        _cleanup_(job_read_done) JobRead j = { .stdout_fd = -1, .stderr_fd = -1 };
        _cleanup_close_ int dir = -1;
        json_object *o;
        char ts[32];
        int r;

        r = open_job_dir(id, &dir);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : r;
        /* A job with its result needs no systemd; only one without asks
         * whether its scope still runs. (A result written in between is
         * read all the same.) */
        if (!exists_at(dir, "result.json"))
                (void) job_bus_take(&bus);
        r = job_view(dir, bus, &v);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : r;

        o = j.fields = json_object_new_object();
        j.flags = json_object_new_object();
        if (!o || !j.flags)
                return -ENOMEM;
        json_object_object_add(o, "job_id", json_object_new_string(id));
        json_object_object_add(o, "status", json_object_new_string(v.status));
        json_object_object_add(o, "tool", json_object_get(json_object_object_get(v.rec, "tool")));
        json_object_object_add(o, "command", json_object_get(json_object_object_get(v.rec, "command")));
        json_object_object_add(o, "unit", json_object_get(json_object_object_get(v.rec, "unit")));

        int64_t started = json_get_int(v.rec, "started_at_ms", -1);
        int64_t finished = v.res ? json_get_int(v.res, "finished_at_ms", -1) : -1;
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
                json_object_object_add(o, "exit_code", json_object_new_int64(json_get_int(v.res, "exit_code", -1)));
                int64_t sig = json_get_int(v.res, "signal", 0);
                json_object_object_add(o, "signal", sig > 0 ? json_object_new_int64(sig) : NULL);
                if (json_get_str(v.res, "error"))
                        json_object_object_add(o, "error", json_object_get(json_object_object_get(v.res, "error")));
        } else {
                json_object_object_add(o, "exit_code", NULL);
                json_object_object_add(o, "signal", NULL);
        }
        json_object_object_add(j.flags, "stdout_truncated",
                               json_object_new_boolean(v.res && json_get_int(v.res, "stdout_truncated", 0)));
        json_object_object_add(j.flags, "stderr_truncated",
                               json_object_new_boolean(v.res && json_get_int(v.res, "stderr_truncated", 0)));
        /* Opened after the status was read: a finished job's output is complete. */
        open_output(dir, "stdout", &j.stdout_fd, &j.stdout_size);
        open_output(dir, "stderr", &j.stderr_fd, &j.stderr_size);
        j.caller_id = strdup(strempty(json_get_str(v.rec, "caller_id")));
        j.feature = strdup(json_get_str(v.rec, "feature") ?: "exec");
        if (!j.caller_id || !j.feature)
                return -ENOMEM;
        *ret = j;
        j = (JobRead) { .stdout_fd = -1, .stderr_fd = -1 };
        return 0;
}

int job_cancel(const char *id) {
        _cleanup_(job_bus_give_backp) sd_bus *bus = NULL;
        _cleanup_(job_view_done) JobView v = {};
        _cleanup_close_ int dir = -1, fd = -1;
        int r;

        r = open_job_dir(id, &dir);
        if (r < 0)
                return r;
        r = job_view(dir, NULL, &v);      /* a finished job needs no systemd */
        if (r < 0)
                return r == -EBADMSG ? -ENOENT : r;
        if (v.res)
                return -EALREADY;
        if (is_worker_job(v.rec)) {
                /* Its worker looks for the marker and ends the job itself. */
                fd = openat(dir, "cancel", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                return fd < 0 ? negative_errno() : 0;
        }
        if (job_bus_take(&bus) < 0)
                return -ENOTCONN;
        job_view_done(&v);
        r = job_view(dir, bus, &v);
        if (r < 0)
                return r == -EBADMSG ? -ENOENT : r;
        if (v.res)
                return -EALREADY;

        /* Before the stop: a job still starting sees it and never runs. */
        fd = openat(dir, "cancel", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        /* Stopping the scope kills the supervisor and the command's whole tree. */
        r = stop_unit(bus, strempty(json_get_str(v.rec, "unit")));
        return r < 0 ? -ENOTCONN : 0;
}

/* ---- the index and housekeeping ---- */

static void log_completed(int dir_fd, const char *id, JobView *v) {
        _cleanup_close_ int fd = -1;
        char code[32], duration[32];
        int64_t started = json_get_int(v->rec, "started_at_ms", -1), finished = json_get_int(v->res, "finished_at_ms", 0);

        /* Once per job, also with several pollers or a restarted worker. */
        fd = openat(dir_fd, "logged", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        snprintf(code, sizeof(code), "%lld", (long long) json_get_int(v->res, "exit_code", -1));
        snprintf(duration, sizeof(duration), "%lld", (long long) (started >= 0 ? MAX(finished - started, 0) : 0));
        log_struct(LOG_INFO,
                   ((LogField[]) { { "JOB_ID", id }, { "TOOL", json_get_str(v->rec, "tool") },
                                   { "COMMAND", json_get_str(v->rec, "command") },
                                   { "CALLER", json_get_str(v->rec, "caller") },
                                   { "STATUS", v->status }, { "EXIT_CODE", code }, { "DURATION_MS", duration }, {} }),
                   "exec completed");
}

/* When a finished job finished, on CLOCK_BOOTTIME. */
static uint64_t finished_boot(JobView *v) {
        uint64_t now = boottime_usec(), age = age_usec(v->res, "finished_boot_usec", "finished_at_ms");
        return now > age ? now - age : 0;
}

/* Whether a finished job may still have processes in its scope. */
static bool scope_may_linger(JobView *v) {
        int64_t timeout_ms = json_get_int(v->rec, "timeout_ms", 0);

        if (json_get_int(v->rec, "started_at_ms", -1) < 0 || is_worker_job(v->rec))
                return false;   /* its scope never started, or it has none */
        return age_usec(v->rec, "started_boot_usec", "started_at_ms") <
               (uint64_t) MAX(timeout_ms, 0) * 1000 + SCOPE_LINGER_USEC;
}

/* Polls one live job: finished (logged once) and its scope gone → kept. */
static void poll_live(int base, const char *id, sd_bus *bus) {
        _cleanup_(job_view_done) JobView v = {};
        int r;
        _cleanup_close_ int dir = openat(base, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

        if (dir < 0) {
                if (errno == ENOENT)
                        job_index_forget(id);
                return;
        }
        r = job_view(dir, bus, &v);
        if (r == -ENOENT || r == -EBADMSG)      /* no readable job.json: evicted in its turn */
                job_index_release(id, boottime_usec());
        if (r < 0)
                return;
        if (!v.res)
                return;
        log_completed(dir, id, &v);
        /* max_jobs counts a job until its scope is empty: a command may leave
         * a child behind. Without the bus, it cannot be told: it counts. */
        if (scope_may_linger(&v) && (!bus || unit_is_active(bus, json_get_str(v.rec, "unit") ?: "")))
                return;
        job_index_release(id, finished_boot(&v));
}

static void evict_expired(int base) {
        _cleanup_free_ JobId *ids = NULL;
        uint64_t now = boottime_usec();
        size_t n = 0;

        if (now <= JOB_KEEP_USEC || job_index_take_expired(now - JOB_KEEP_USEC, &ids, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                int r = remove_job_dir(base, ids[i]);
                if (r < 0) {
                        log_warning_errno(r, "Cannot remove the record of job %s, retrying later: %m", ids[i]);
                        (void) job_index_load(ids[i], false, now);
                }
        }
}

int jobs_housekeeping(void) {
        _cleanup_(job_bus_give_backp) sd_bus *bus = NULL;
        _cleanup_close_ int base = open(jobs_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ JobId *ids = NULL;
        size_t n = 0;

        if (base < 0)
                return 0;
        if (job_index_live(&ids, &n) >= 0 && n > 0) {
                (void) job_bus_take(&bus);
                for (size_t i = 0; i < n; i++)
                        poll_live(base, ids[i], bus);
        }
        evict_expired(base);
        return (int) job_index_n_live();
}

/* One record found at start: live when it may still run or count, else
 * kept from its finish time (a broken one from now). */
static int load_one(int base, const char *id) {
        _cleanup_(job_view_done) JobView v = {};
        _cleanup_close_ int dir = openat(base, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

        if (dir < 0)
                return 0;
        if (read_json_at(dir, "job.json", &v.rec) < 0)
                return job_index_load(id, false, boottime_usec());
        if (read_json_at(dir, "result.json", &v.res) < 0 || scope_may_linger(&v))
                return job_index_load(id, true, 0);
        if (!exists_at(dir, "logged")) {        /* finished while no worker ran */
                job_view_done(&v);
                if (job_view(dir, NULL, &v) >= 0 && v.res)
                        log_completed(dir, id, &v);
        }
        return job_index_load(id, false, finished_boot(&v));
}

/* Records other workers made (files, systemd, docker jobs) join this index
 * when the housekeeping next looks: only the recent names are considered,
 * those older were there at jobs_init() or seen by an earlier look. */
#define ADOPT_INTERVAL_USEC (2ULL * USEC_PER_SEC)
#define ADOPT_WINDOW_MS (60ULL * 1000)

static int jobid_compare(const void *a, const void *b) {
        return strcmp(a, b);
}

/* The recent names the previous look found, sorted: only names not among
 * them are checked against the index (a search of the index per name would
 * cost, with thousands of recent records, seconds under its lock). */
static JobId *adopt_seen;
static size_t n_adopt_seen;

static uint64_t adopt_last;

/* Lists the recent names; with load, indexes those neither seen by the
 * previous look nor in the index. */
static void adopt_scan(bool load) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ JobId *recent = NULL;
        size_t n_recent = 0, alloc = 0;
        char since[ULID_TIME_LEN + 1];
        struct dirent *de;
        uint64_t ms = realtime_ms();

        adopt_last = now_usec();
        d = opendir(jobs_dir());
        if (!d)
                return;
        ulid_time_prefix(ms > ADOPT_WINDOW_MS ? ms - ADOPT_WINDOW_MS : 0, since);
        while ((de = readdir(d))) {
                if (!ulid_is_valid(de->d_name) || strncmp(de->d_name, since, ULID_TIME_LEN) < 0)
                        continue;
                if (n_recent == alloc) {
                        size_t a = MAX(alloc * 2, (size_t) 64);
                        JobId *p = reallocarray(recent, a, sizeof(JobId));
                        if (!p)
                                return;
                        recent = p;
                        alloc = a;
                }
                memcpy(recent[n_recent++], de->d_name, sizeof(JobId));   /* a ULID: 26 + NUL */
                if (load && !bsearch(de->d_name, adopt_seen, n_adopt_seen, sizeof(JobId), jobid_compare) &&
                    !job_index_has(de->d_name))
                        (void) load_one(dirfd(d), de->d_name);
        }
        qsort(recent, n_recent, sizeof(JobId), jobid_compare);
        free(adopt_seen);
        adopt_seen = TAKE_PTR(recent);
        n_adopt_seen = n_recent;
}

void jobs_adopt_new_records(void) {
        if (adopt_last != 0 && now_usec() - adopt_last < ADOPT_INTERVAL_USEC)
                return;
        adopt_scan(true);
}

static bool indexed;

/* A worker that does not index every record (only exec does) counts them
 * when it starts a job. */
static size_t records_total(void) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;

        if (indexed)
                return job_index_n_total();
        d = opendir(jobs_dir());
        if (!d)
                return 0;
        while ((de = readdir(d)))
                n += ulid_is_valid(de->d_name);
        return n;
}

int jobs_init(void) {
        _cleanup_(closedirp) DIR *d = opendir(jobs_dir());
        struct dirent *de;
        int r;

        if (!d)
                return log_error_errno(errno, "Cannot read %s: %m", jobs_dir());
        while ((de = readdir(d)))
                if (ulid_is_valid(de->d_name)) {
                        r = load_one(dirfd(d), de->d_name);
                        if (r < 0)
                                return log_error_errno(r, "Cannot index the job records: %m");
                }
        indexed = true;
        adopt_scan(false);      /* what is here now is indexed already */
        return jobs_housekeeping();
}
