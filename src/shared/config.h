/* SPDX-License-Identifier: MIT */
#pragma once

/* The node's configuration under /etc/tailkitd (SPEC §3): a small TOML subset
 * read with inih. Every loader collects "file:line: message" errors instead of
 * stopping at the first, so `tailkitd --check-config` can list them all.
 *
 * Loaders return 0 on success, -ENOENT when the file does not exist (the
 * integration is then disabled; nothing is added to errors), -EINVAL when
 * the file is invalid (errors holds one message per problem), or another
 * negative errno when the file cannot be read (also added to errors). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ConfigErrors {
        char **messages;
        size_t n;
} ConfigErrors;

void config_errors_done(ConfigErrors *e);
/* Appends a message; returns -EINVAL (or -ENOMEM) so callers can "return config_errors_add(...)". */
int config_errors_add(ConfigErrors *e, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* "1048576", "512K", "256M", "1G" (powers of 1024). */
int parse_size(const char *s, uint64_t *ret);
/* "50%" → 50; values above 100 are allowed (more than one CPU). */
int parse_percent(const char *s, unsigned *ret);

/* ---- tailkitd.conf (optional; defaults when missing) ---- */

#define DEFAULT_TAILSCALE_SOCKET "/var/run/tailscale/tailscaled.sock"
#define DEFAULT_IDLE_TIMEOUT_SEC 30
#define DEFAULT_REQUEST_TIMEOUT_SEC 30
#define DEFAULT_MIN_UPLOAD_RATE (16 * 1024)

typedef struct DaemonConfig {
        char *tailscale_socket;
        char **cap_domains;          /* always starts with "tailscale.com" */
        size_t n_cap_domains;
        uint64_t idle_timeout_sec;
        /* Each request's headers and body must arrive within
         * request_timeout_sec, plus one second per min_upload_rate bytes of
         * body received: a large upload at a sane rate always finishes, a
         * trickle is cut. */
        uint64_t request_timeout_sec;
        uint64_t min_upload_rate;    /* bytes per second */
        struct {
                uint64_t memory_max;         /* bytes, default 512M */
                uint64_t tasks_max;          /* default 64 */
                unsigned cpu_quota_percent;  /* default 100 */
                unsigned max_jobs;           /* default 16 */
                uint64_t output_max;         /* bytes per stream, default 1M */
        } exec;
} DaemonConfig;

/* Missing file → defaults and returns 0. Invalid file → errors, *ret holds
 * the defaults, returns -EINVAL. */
int daemon_config_load(const char *config_dir, DaemonConfig *ret, ConfigErrors *errors);
void daemon_config_done(DaemonConfig *c);

/* ---- vars.toml ---- */

typedef struct VarsScope {
        char *project;
        char *env;                   /* NULL: every environment of the project */
        bool read, write;
        unsigned line;
} VarsScope;

typedef struct VarsConfig {
        VarsScope *scopes;
        size_t n_scopes;
} VarsConfig;

int vars_config_load(const char *config_dir, VarsConfig *ret, ConfigErrors *errors);
void vars_config_done(VarsConfig *c);

/* Loads every TOML file above (missing ones are fine); returns the number of
 * invalid files, all their errors in errors. An integration whose schema lives
 * in its own folder (systemd, metrics, files, docker) is checked by tailkitd itself. tools/<name>.json is checked by the
 * caller (toolfile.h). */
int config_check_all(const char *config_dir, ConfigErrors *errors);

/* Helpers shared by loaders and callers. */
void strv_free(char **v, size_t n);
