/* SPDX-License-Identifier: MIT */
/* integrations/systemd.toml, checked against its schema (config-reader.h). */

#include <syslog.h>

#include "config-reader.h"
#include "macro.h"
#include "systemd-config.h"

#define UNIT_PATTERN_MAX 256

static const ConfigKey systemd_unit_keys[] = {
        { "read", CONFIG_BOOL },
        { "write", CONFIG_BOOL },
        { "allow", CONFIG_STRV },
        {},
};

static const ConfigKey systemd_journal_keys[] = {
        { "enabled", CONFIG_BOOL },
        { "lines", CONFIG_INT },
        { "priority", CONFIG_STRING },
        {},
};

static const ConfigTableSchema systemd_schema[] = {
        { "units", CONFIG_TABLE_SECTION, systemd_unit_keys },
        { "journal", CONFIG_TABLE_SECTION, systemd_journal_keys },
        {},
};

static const struct {
        const char *name;
        int level;
} priority_names[] = {
        { "emerg", LOG_EMERG },
        { "alert", LOG_ALERT },
        { "crit", LOG_CRIT },
        { "err", LOG_ERR },
        { "warning", LOG_WARNING },
        { "notice", LOG_NOTICE },
        { "info", LOG_INFO },
        { "debug", LOG_DEBUG },
        /* Aliases journalctl -p accepts too. */
        { "error", LOG_ERR },
        { "warn", LOG_WARNING },
};

int systemd_priority_from_name(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(priority_names); i++)
                if (streq(priority_names[i].name, s))
                        return priority_names[i].level;
        return -EINVAL;
}

const char *systemd_priority_to_name(int level) {
        return level >= LOG_EMERG && level <= LOG_DEBUG ? priority_names[level].name : NULL;
}

/* A unit name or a glob of one: printable, no blanks, no '/'. */
static bool unit_pattern_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > UNIT_PATTERN_MAX)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s >= 0x7F || *s == '/')
                        return false;
        return true;
}

void systemd_config_done(SystemdConfig *c) {
        strv_free(c->units_allow, c->n_units_allow);
        *c = (SystemdConfig) {};
}

int systemd_config_load(const char *config_dir, SystemdConfig *ret, ConfigErrors *errors) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(systemd_config_done) SystemdConfig c = {
                .journal_lines = SYSTEMD_JOURNAL_LINES_DEFAULT,
                .journal_priority = LOG_INFO,
        };
        _cleanup_free_ char *path = NULL;
        const ConfigTable *t;
        const ConfigEntry *e;
        int r;

        r = config_file_path(config_dir, "integrations/systemd.toml", &path);
        if (r < 0)
                return r;
        r = config_document_load(path, systemd_schema, &doc, errors);
        if (r < 0)
                return r;

        t = config_document_section(&doc, "units");
        c.units_read = config_table_get_bool(t, "read", false);
        c.units_write = config_table_get_bool(t, "write", false);
        e = config_table_get(t, "allow");
        if (e) {
                bool ok = true;

                for (size_t i = 0; i < e->n_strv; i++)
                        if (!unit_pattern_is_valid(e->strv[i])) {
                                config_document_error(&doc, errors, e->line,
                                                      "'allow' entry \"%s\" is not a unit name or pattern like "
                                                      "\"nginx.service\" or \"app-*.service\"", e->strv[i]);
                                ok = false;
                        }
                if (ok) {
                        r = strv_copy(e->strv, e->n_strv, &c.units_allow);
                        if (r < 0)
                                return r;
                        c.n_units_allow = e->n_strv;
                }
        }

        t = config_document_section(&doc, "journal");
        c.journal_enabled = config_table_get_bool(t, "enabled", false);
        e = config_table_get(t, "lines");
        if (e) {
                if (e->integer < 1 || e->integer > SYSTEMD_JOURNAL_LINES_MAX)
                        config_document_error(&doc, errors, e->line, "'lines' must be between 1 and %d",
                                              SYSTEMD_JOURNAL_LINES_MAX);
                else
                        c.journal_lines = (unsigned) e->integer;
        }
        e = config_table_get(t, "priority");
        if (e) {
                int level = systemd_priority_from_name(e->string);

                if (level < 0)
                        config_document_error(&doc, errors, e->line,
                                              "'priority' must be one of emerg, alert, crit, err, warning, notice, info, debug");
                else
                        c.journal_priority = level;
        }

        if (doc.n_errors > 0)
                return -EINVAL;
        *ret = c;
        c = (SystemdConfig) {};
        return 0;
}

int systemd_config_check(const char *config_dir, ConfigErrors *errors) {
        _cleanup_(systemd_config_done) SystemdConfig c = {};
        int r = systemd_config_load(config_dir, &c, errors);

        if (r == -ENOMEM)
                return r;
        return r < 0 && r != -ENOENT;
}
