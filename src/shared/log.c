/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "log.h"
#include "sd-protocol.h"

static const char *component = "tailkitd";
static LogTarget target = LOG_TARGET_JSON;
static int max_level = LOG_INFO;
static const char *journal_socket_path = NULL;  /* NULL: the journal's */

/* systemd sets JOURNAL_STREAM=dev:ino for services whose stderr is the journal. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *c) {
        const char *forced = getenv("TAILKITD_LOG");

        if (c)
                component = c;
        if (streq_ptr(getenv("TAILKITD_ENV"), "development")) {
                target = LOG_TARGET_CONSOLE;
                max_level = LOG_DEBUG;
        } else if (stderr_is_journal()) {
                target = LOG_TARGET_JOURNAL;
        } else
                target = LOG_TARGET_JSON;

        if (streq_ptr(forced, "journal"))
                target = LOG_TARGET_JOURNAL;
        else if (streq_ptr(forced, "json"))
                target = LOG_TARGET_JSON;
        else if (streq_ptr(forced, "console"))
                target = LOG_TARGET_CONSOLE;
}

LogTarget log_get_target(void) {
        return target;
}

void log_set_max_level(int level) {
        max_level = level;
}

void log_set_journal_socket(const char *path) {
        journal_socket_path = path;
}

const char *log_component(void) {
        return component;
}

static const char *level_name(int level) {
        switch (level) {
        case LOG_DEBUG:   return "debug";
        case LOG_INFO:
        case LOG_NOTICE:  return "info";
        case LOG_WARNING: return "warn";
        default:          return "error";
        }
}

/* A field value is logged up to this many bytes (then "…"): bounded lines,
 * never cut inside an escape or a UTF-8 sequence. */
#define LOG_VALUE_MAX 2048

/* Length of s to log: at most LOG_VALUE_MAX, backed off to a UTF-8 boundary. */
static size_t value_len(const char *s, bool *cut) {
        size_t n = strnlen(s, LOG_VALUE_MAX + 1);

        *cut = n > LOG_VALUE_MAX;
        if (!*cut)
                return n;
        n = LOG_VALUE_MAX;
        while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                n--;
        return n;
}

static void json_escape(FILE *f, const char *s) {
        bool cut;
        size_t n = value_len(s, &cut);

        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; p < (const unsigned char *) s + n; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        if (cut)
                fputs("…", f);
        fputc('"', f);
}

/* For the console and the journal: control characters (a decoded "%0A" in a
 * path, say) are written as C escapes, so a caller cannot start a line of
 * its own; backslashes are doubled so an escape cannot be faked either. */
static void text_escape(FILE *f, const char *s) {
        bool cut;
        size_t n = value_len(s, &cut);

        for (const unsigned char *p = (const unsigned char *) s; p < (const unsigned char *) s + n; p++) {
                if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\r')
                        fputs("\\r", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        if (cut)
                fputs("…", f);
}

/* One line per record, written with one write() so concurrent threads do not
 * interleave. The line grows as needed; every value in it is bounded. */
static void write_line(char *buf, size_t n) {
        if (!buf)
                return;
        (void) !write(STDERR_FILENO, buf, n);
        free(buf);
}

static void write_json(int level, const char *msg, int error, const LogField *fields) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        struct timespec ts;

        if (!f)
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        fprintf(f, "{\"level\":\"%s\",\"ts\":%lld.%03ld,\"component\":", level_name(level),
                (long long) ts.tv_sec, ts.tv_nsec / 1000000);
        json_escape(f, component);
        fputs(",\"msg\":", f);
        json_escape(f, msg);
        if (error != 0) {
                fputs(",\"error\":", f);
                json_escape(f, strerror(abs(error)));
        }
        for (const LogField *i = fields; i && i->key; i++) {
                char key[64];
                size_t k;

                if (!i->value)
                        continue;
                for (k = 0; i->key[k] && k < sizeof(key) - 1; k++)
                        key[k] = (char) tolower((unsigned char) i->key[k]);
                key[k] = 0;
                fputc(',', f);
                json_escape(f, key);
                fputc(':', f);
                json_escape(f, i->value);
        }
        fputs("}\n", f);
        if (fclose(f) != 0) {
                free(buf);
                return;
        }
        write_line(buf, n);
}

static void write_console(int level, const char *msg, int error, const LogField *fields) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        if (!f)
                return;
        fprintf(f, "%-5s %s: ", level_name(level), component);
        text_escape(f, msg);
        if (error != 0)
                fprintf(f, ": %s", strerror(abs(error)));
        for (const LogField *i = fields; i && i->key; i++)
                if (i->value) {
                        fprintf(f, " %s=", i->key);
                        text_escape(f, i->value);
                }
        fputc('\n', f);
        if (fclose(f) != 0) {
                free(buf);
                return;
        }
        write_line(buf, n);
}

/* "NAME=" followed by the escaped value, as one journal field. */
static char *journal_field(const char *name, const char *value) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        if (!f)
                return NULL;
        fputs(name, f);
        fputc('=', f);
        text_escape(f, value);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

#define MAX_JOURNAL_FIELDS 32
_Static_assert(MAX_JOURNAL_FIELDS + 8 <= JOURNAL_FIELDS_MAX, "a record must fit journal_send()");

static void write_journal(int level, const char *msg, int error, const LogField *fields,
                          const char *file, int line, const char *func) {
        struct iovec iov[MAX_JOURNAL_FIELDS + 8];
        char *strs[MAX_JOURNAL_FIELDS + 8] = {};
        size_t n = 0;
        int r;

#define PUSH(s)                                                                \
        do {                                                                   \
                if ((strs[n] = (s))) {                                         \
                        iov[n].iov_base = strs[n];                             \
                        iov[n].iov_len = strlen(strs[n]);                      \
                        n++;                                                   \
                }                                                              \
        } while (0)
#define ADD(...)                                                               \
        do {                                                                   \
                char *_s;                                                      \
                PUSH(asprintf(&_s, __VA_ARGS__) >= 0 ? _s : NULL);             \
        } while (0)

        PUSH(journal_field("MESSAGE", msg));
        ADD("PRIORITY=%d", level);
        ADD("TAILKITD_COMPONENT=%s", component);
        ADD("SYSLOG_IDENTIFIER=tailkitd-%s", component);
        ADD("CODE_FILE=%s", file);
        ADD("CODE_LINE=%d", line);
        ADD("CODE_FUNC=%s", func);
        if (error != 0)
                ADD("ERRNO=%d", abs(error));
        for (const LogField *i = fields; i && i->key && n < ELEMENTSOF(iov); i++)
                if (i->value) {
                        char name[80];
                        snprintf(name, sizeof(name), "TAILKITD_%s", i->key);
                        PUSH(journal_field(name, i->value));
                }
#undef ADD
#undef PUSH
        r = journal_send(journal_socket_path, iov, n);
        for (size_t i = 0; i < n; i++)
                free(strs[i]);
        /* No journal socket, or a record it refused: the line goes to
         * stderr rather than nowhere (under systemd, that is the journal's
         * stream for the unit). */
        if (r < 0)
                write_console(level, msg, error, fields);
}

int log_internal(int level, int error, const LogField *fields,
                 const char *file, int line, const char *func,
                 const char *format, ...) {
        char msg[4096];
        va_list ap;
        int saved = errno;

        if (level > max_level)
                return error == 0 ? 0 : -abs(error);

        errno = error != 0 ? abs(error) : saved;
        va_start(ap, format);
        vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        switch (target) {
        case LOG_TARGET_JOURNAL:
                write_journal(level, msg, error, fields, file, line, func);
                break;
        case LOG_TARGET_CONSOLE:
                write_console(level, msg, error, fields);
                break;
        case LOG_TARGET_JSON:
                write_json(level, msg, error, fields);
                break;
        }
        errno = saved;
        return error == 0 ? 0 : -abs(error);
}
