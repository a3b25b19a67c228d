/* SPDX-License-Identifier: MIT */
/* tailkitd-job: the supervisor of one job, started by a worker (src/shared/
 * jobs.c) inside the job's scope. It waits for the worker's start signal
 * (fd 3) — sent once systemd has placed it in tailkitd-job-<id>.scope — then
 * runs the command (or each command of a chain, in order, until one fails)
 * with stdin /dev/null, copies the output into the job directory (fd 4) up
 * to OUTPUT_MAX bytes per stream, and records how it ended in result.json.
 * It outlives a worker that dies meanwhile.
 *
 *   tailkitd-job OUTPUT_MAX -- COMMAND [ARG...]
 *   tailkitd-job OUTPUT_MAX --steps N  K1 NAME1 COMMAND1 [ARG...]  K2 NAME2 …
 *
 * (Ki: the number of words of COMMANDi and its arguments; NAMEi names the
 * step in the error when it fails.)
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GO_FD 3
#define DIR_FD 4

extern char **environ;

static uint64_t realtime_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Ages are measured on this clock: it does not step (see jobs.h). */
static uint64_t boottime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

typedef struct Stream {
        int in;
        int out;
        uint64_t written;
        int truncated;
} Stream;

static void pump(Stream *s, uint64_t max) {
        char buf[65536];
        ssize_t n = read(s->in, buf, sizeof(buf));

        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        close(s->in);
                        s->in = -1;
                }
                return;
        }
        uint64_t room = max > s->written ? max - s->written : 0;
        size_t keep = (uint64_t) n > room ? (size_t) room : (size_t) n;
        if ((size_t) n > keep)
                s->truncated = 1;   /* keep reading, so the command never blocks on a full pipe */
        if (keep > 0 && write(s->out, buf, keep) == (ssize_t) keep)
                s->written += keep;
}

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void write_result(int exit_code, int sig, Stream *out, Stream *err, const char *error) {
        int fd = openat(DIR_FD, ".result.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        FILE *f;

        if (fd < 0)
                return;
        f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                return;
        }
        fprintf(f, "{\"exit_code\":%d,\"signal\":%d,\"finished_at_ms\":%llu,\"finished_boot_usec\":%llu,"
                   "\"stdout_truncated\":%d,\"stderr_truncated\":%d",
                exit_code, sig, (unsigned long long) realtime_ms(), (unsigned long long) boottime_usec(),
                out->truncated, err->truncated);
        if (error) {
                fputs(",\"error\":", f);
                json_string(f, error);
        }
        fputs("}\n", f);
        if (fclose(f) == 0)
                (void) renameat(DIR_FD, ".result.json.tmp", DIR_FD, "result.json");
}

typedef struct Step {
        const char *name;
        char **argv;
} Step;

#define STEPS_MAX 64

/* Runs one command to its end with its output pumped into out and err.
 * Returns the wait status, or -1 with errbuf set when it could not run. */
static int run_step(char **argv, Stream *out, Stream *err, uint64_t max, char *errbuf, size_t errsize) {
        int po[2], pe[2], perr[2], status, e = 0;
        pid_t pid;

        if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
                snprintf(errbuf, errsize, "cannot set up the job's output");
                return -1;
        }
        pid = fork();
        if (pid < 0) {
                snprintf(errbuf, errsize, "cannot fork the command");
                return -1;
        }
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY);
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
                        _exit(127);
                /* Only 0-2 survive exec; the error pipe closes on success. */
                (void) close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
                signal(SIGPIPE, SIG_DFL);
                execve(argv[0], argv, environ);
                e = errno;
                (void) !write(perr[1], &e, sizeof(e));
                _exit(127);
        }
        close(po[1]);
        close(pe[1]);
        close(perr[1]);
        out->in = po[0];
        err->in = pe[0];
        if (read(perr[0], &e, sizeof(e)) == sizeof(e))
                snprintf(errbuf, errsize, "cannot execute %s: %s", argv[0], strerror(e));
        close(perr[0]);

        while (out->in >= 0 || err->in >= 0) {
                struct pollfd p[2] = { { .fd = out->in, .events = POLLIN }, { .fd = err->in, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (out->in >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        pump(out, max);
                if (err->in >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
                        pump(err, max);
        }

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        snprintf(errbuf, errsize, "cannot wait for the command");
                        return -1;
                }
        return status;
}

/* The steps of the command line; 0, or -1 when it is malformed. */
static int parse_steps(int argc, char *argv[], Step *steps, size_t *n_steps) {
        int ends[STEPS_MAX], i = 4;
        unsigned long n;
        char *end;

        if (strcmp(argv[2], "--") == 0) {
                steps[0] = (Step) { .name = argv[3], .argv = argv + 3 };
                *n_steps = 1;
                return 0;
        }
        if (strcmp(argv[2], "--steps") != 0)
                return -1;
        n = strtoul(argv[3], &end, 10);
        if (*end || n == 0 || n > STEPS_MAX)
                return -1;
        for (size_t s = 0; s < n; s++) {
                unsigned long k;

                if (i + 2 >= argc)
                        return -1;
                k = strtoul(argv[i], &end, 10);
                if (*end || k == 0 || k > (unsigned long) (argc - i - 2))
                        return -1;
                steps[s] = (Step) { .name = argv[i + 1], .argv = argv + i + 2 };
                i += 2 + (int) k;
                ends[s] = i;
        }
        if (i != argc)
                return -1;
        /* Each step's argv ends where the next one's count word was (already
         * read); the last ends at argv[argc], NULL already. */
        for (size_t s = 0; s < n; s++)
                argv[ends[s]] = NULL;
        *n_steps = n;
        return 0;
}

int main(int argc, char *argv[]) {
        Stream out = { .in = -1 }, err = { .in = -1 };
        Step steps[STEPS_MAX];
        size_t n_steps = 0;
        uint64_t max;
        char go, errbuf[512] = "";
        int status = 0;

        if (argc < 4 || parse_steps(argc, argv, steps, &n_steps) < 0) {
                fprintf(stderr, "usage: tailkitd-job OUTPUT_MAX -- COMMAND [ARG...]\n"
                                "       tailkitd-job OUTPUT_MAX --steps N K1 NAME1 COMMAND1 [ARG...] ...\n");
                return 2;
        }
        max = strtoull(argv[1], NULL, 10);

        /* Nothing runs until the worker says the scope holds us. */
        if (read(GO_FD, &go, 1) != 1)
                return 127;
        close(GO_FD);
        /* A DELETE before this point found no running command to stop (and
         * maybe no scope yet): the command must not start at all. */
        if (faccessat(DIR_FD, "cancel", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                write_result(-1, 0, &out, &err, "cancelled before it started");
                return 0;
        }

        out.out = openat(DIR_FD, "stdout", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        err.out = openat(DIR_FD, "stderr", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out.out < 0 || err.out < 0) {
                write_result(-1, 0, &out, &err, "cannot set up the job's output");
                return 1;
        }

        for (size_t s = 0; s < n_steps; s++) {
                char stepbuf[sizeof(errbuf)];

                status = run_step(steps[s].argv, &out, &err, max, errbuf, sizeof(errbuf));
                if (status < 0) {
                        write_result(-1, 0, &out, &err, errbuf);
                        return 1;
                }
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !errbuf[0])
                        continue;
                if (n_steps == 1)
                        break;
                /* The first failure stops the chain; the error names it. */
                if (errbuf[0])
                        snprintf(stepbuf, sizeof(stepbuf), "step %zu (%s) failed: %s", s + 1, steps[s].name, errbuf);
                else if (WIFEXITED(status))
                        snprintf(stepbuf, sizeof(stepbuf), "step %zu (%s) failed with exit code %d", s + 1,
                                 steps[s].name, WEXITSTATUS(status));
                else
                        snprintf(stepbuf, sizeof(stepbuf), "step %zu (%s) was killed by signal %d", s + 1,
                                 steps[s].name, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
                memcpy(errbuf, stepbuf, sizeof(errbuf));
                break;
        }
        if (WIFEXITED(status))
                write_result(WEXITSTATUS(status), 0, &out, &err, errbuf[0] ? errbuf : NULL);
        else
                write_result(-1, WIFSIGNALED(status) ? WTERMSIG(status) : 0, &out, &err, errbuf[0] ? errbuf : NULL);
        return 0;
}
