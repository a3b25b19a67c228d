/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <time.h>

#include "api.h"
#include "journal-format.h"
#include "macro.h"

static void put_clean(FILE *f, const char *s) {
        for (; s && *s; s++)
                fputc((unsigned char) *s < 0x20 && *s != '\t' ? '?' : *s, f);
}

void journal_print_entry(FILE *f, json_object *entry) {
        json_object *fields = json_get(entry, "Fields");
        uint64_t usec = (uint64_t) json_int(entry, "RealtimeTimestamp", 0);
        time_t sec = (time_t) (usec / 1000000);
        const char *ident = json_str(fields, "SYSLOG_IDENTIFIER") ?: json_str(fields, "_COMM");
        const char *pid = json_str(fields, "_PID");
        char when[64];
        struct tm tm;

        if (localtime_r(&sec, &tm))
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
        else
                snprintf(when, sizeof when, "%" PRIu64, usec);
        fprintf(f, "%s ", when);
        put_clean(f, json_str(fields, "_HOSTNAME") ?: "-");
        fputc(' ', f);
        put_clean(f, ident ?: "?");
        if (pid) {
                fputc('[', f);
                put_clean(f, pid);
                fputc(']', f);
        }
        fputs(": ", f);
        put_clean(f, json_str(fields, "MESSAGE"));
        fputc('\n', f);
}
