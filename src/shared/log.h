/* SPDX-License-Identifier: MIT */
#pragma once

/* Logging for every tailkitd process.
 *
 * Sinks: the journal (its native protocol, sd-protocol.h, with TAILKITD_*
 * fields; a record the journal does not take is written to stderr as a
 * console line) when stderr is connected to the journal or
 * TAILKITD_LOG=journal; human-readable lines at
 * DEBUG when TAILKITD_ENV=development; otherwise one JSON object per line on
 * stderr at INFO (the seed README's format). TAILKITD_LOG=json|console|journal
 * forces a sink.
 *
 * Structured fields are passed as a {key, value} array ended by {NULL}; keys
 * are upper case without the TAILKITD_ prefix ("CALLER" becomes the journal
 * field TAILKITD_CALLER and the JSON key "caller"). NULL values are skipped.
 * Never pass var values or file contents. */

#include <syslog.h>

#include "macro.h"

typedef struct LogField {
        const char *key;
        const char *value;
} LogField;

typedef enum LogTarget {
        LOG_TARGET_JSON,
        LOG_TARGET_CONSOLE,
        LOG_TARGET_JOURNAL,
} LogTarget;

/* Sets the component (TAILKITD_COMPONENT) and picks the sink. */
void log_setup(const char *component);
LogTarget log_get_target(void);
void log_set_max_level(int level);
/* Tests only: the journal sink writes to this socket instead of the journal's. */
void log_set_journal_socket(const char *path);
const char *log_component(void);

/* Logs; returns -abs(error) when error != 0, else 0. "%m" formats
 * strerror(error) (or errno when error is 0). */
int log_internal(int level, int error, const LogField *fields,
                 const char *file, int line, const char *func,
                 const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, fields, ...) \
        log_internal(level, error, fields, __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, NULL, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, NULL, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, NULL, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, NULL, __VA_ARGS__)

/* With fields: log_struct(LOG_INFO, ((LogField[]) {{"CALLER", c}, {}}), "msg %s", x) */
#define log_struct(level, fields, ...) log_full_errno(level, 0, fields, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
