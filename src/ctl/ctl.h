/* SPDX-License-Identifier: MIT */
#pragma once

/* tailkitctl: the command-line client of tailkitd's HTTP API. One Ctx per
 * node a command runs on; in fleet mode (--all) each node's output goes to
 * its own memory stream and is printed once the node is done. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "time-util.h"     /* now_ms(): deadlines and progress */

/* Exit codes, one per error class (tailkitctl(1) documents them). */
enum {
        EXIT_OK = 0,
        EXIT_FAILURE_LOCAL = 1,   /* local error: a file, memory, a bad tool file */
        EXIT_USAGE = 2,           /* bad command line */
        EXIT_UNREACHABLE = 3,     /* connection refused, timed out, DNS, proxy */
        EXIT_UNAUTHORIZED = 4,    /* HTTP 401: caller identity not resolved */
        EXIT_FORBIDDEN = 5,       /* HTTP 403: cap or node config denies */
        EXIT_NOT_FOUND = 6,       /* HTTP 404 */
        EXIT_UNAVAILABLE = 7,     /* HTTP 503: integration not available */
        EXIT_HTTP_OTHER = 8,      /* any other HTTP error (400, 409, 413, 429, 500…) */
        EXIT_PROTOCOL = 9,        /* the node answered something that is not the API */
        EXIT_JOB_FAILED = 10,     /* --wait: the job ended failed or cancelled */
        EXIT_FLEET_PARTIAL = 11,  /* --all: at least one node failed */
};

typedef struct Options {
        const char *node;         /* --node NAME|IP[:PORT]; NULL: the local one */
        unsigned port;            /* --port, default 80 */
        const char *proxy;        /* --proxy socks5h://… */
        const char *source;       /* --source ADDR: local address to connect from */
        const char *socket;       /* LocalAPI socket for names and --all */
        bool json;
        bool quiet;               /* no progress bars */
        unsigned timeout_ms;      /* per request (single node) or per node (fleet) */
        /* fleet */
        bool all;
        const char **tags;
        size_t n_tags;
        const char *match;
        unsigned parallel;
} Options;

typedef struct Target {
        char *name;               /* what the user or the status called it */
        char *host;               /* IP literal or DNS name */
        unsigned port;
} Target;

typedef struct Ctx {
        const Options *opt;
        const Target *target;
        FILE *out, *err;
        bool tty;                 /* progress bars allowed (stderr is a terminal, not fleet) */
        uint64_t deadline_ms;     /* CLOCK_MONOTONIC ms; 0: per-request timeout only */
        int transport_error;      /* the last CURLcode of a failed exchange */
} Ctx;

void target_done(Target *t);

typedef int (*CommandFunc)(Ctx *c, int argc, char **argv);

typedef struct Command {
        const char *name;
        CommandFunc func;
        bool remote;              /* talks to a node (fleet-capable) */
        const char *usage;        /* "exec TOOL CMD [key=value…] [--wait]" */
        const char *help;         /* one paragraph */
} Command;

const Command *command_find(const char *name);
extern const Command commands[];
extern const size_t n_commands;

/* Prints "usage: tailkitctl <usage>" and the help when argv asks for --help;
 * returns true if it did (the command then exits 0). */
bool command_wants_help(const Ctx *c, const char *name, int argc, char **argv);
int command_usage_error(const Ctx *c, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Commands (cmd-*.c). */
int cmd_health(Ctx *c, int argc, char **argv);
int cmd_tools(Ctx *c, int argc, char **argv);
int cmd_exec(Ctx *c, int argc, char **argv);
int cmd_job(Ctx *c, int argc, char **argv);
int cmd_vars(Ctx *c, int argc, char **argv);
int cmd_metrics(Ctx *c, int argc, char **argv);
int cmd_files(Ctx *c, int argc, char **argv);
int cmd_units(Ctx *c, int argc, char **argv);
int cmd_journal(Ctx *c, int argc, char **argv);
int cmd_docker(Ctx *c, int argc, char **argv);
int cmd_install_tool(Ctx *c, int argc, char **argv);
int cmd_uninstall_tool(Ctx *c, int argc, char **argv);
int cmd_peers(Ctx *c, int argc, char **argv);
int cmd_sd(Ctx *c, int argc, char **argv);

