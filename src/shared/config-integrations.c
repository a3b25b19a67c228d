/* SPDX-License-Identifier: MIT */
#include <sys/un.h>
#include <syslog.h>

#include "config-reader.h"
#include "macro.h"

/* integrations/{docker,systemd}.toml (metrics.toml: src/metrics/metrics-config.c). Every switch defaults to off:
 * no feature is active unless the file says so. */

#define DEFAULT_DOCKER_SOCKET "/var/run/docker.sock"
#define DEFAULT_JOURNAL_LINES 100
#define JOURNAL_LINES_MAX 10000
#define DEFAULT_JOURNAL_PRIORITY LOG_INFO
#define UNIT_PATTERN_MAX 256
#define COMMAND_MAX 256

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7F)
                        return true;
        return false;
}

/* Loads one file; -ENOENT passes through, the apply callback checks the values. */
static int load_document(const char *config_dir, const char *name, const ConfigTableSchema *schema,
                         ConfigDocument *ret, ConfigErrors *errors) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = config_file_path(config_dir, name, &path);
        if (r < 0)
                return r;
        return config_document_load(path, schema, ret, errors);
}

/* Copies a list after checking every entry; what names the kind of entry in messages. */
static int copy_checked_list(ConfigDocument *doc, ConfigErrors *errors, const ConfigEntry *e,
                             bool (*valid)(const char *), const char *what, char ***ret, size_t *ret_n) {
        bool ok = true;
        int r;

        if (!e)
                return 0;
        for (size_t i = 0; i < e->n_strv; i++)
                if (!valid(e->strv[i])) {
                        config_document_error(doc, errors, e->line, "'%s' entry \"%s\" %s", e->key->name, e->strv[i], what);
                        ok = false;
                }
        if (!ok)
                return 0;
        r = strv_copy(e->strv, e->n_strv, ret);
        if (r < 0)
                return r;
        *ret_n = e->n_strv;
        return 0;
}

/* ---- docker.toml ---- */

static const ConfigKey docker_permission_keys[] = {
        { "containers_read", CONFIG_BOOL },
        { "containers_write", CONFIG_BOOL },
        { "images_read", CONFIG_BOOL },
        { "images_write", CONFIG_BOOL },
        { "compose_read", CONFIG_BOOL },
        { "compose_write", CONFIG_BOOL },
        { "swarm_read", CONFIG_BOOL },
        { "swarm_write", CONFIG_BOOL },
        {},
};

static const ConfigKey docker_keys[] = {
        { "socket", CONFIG_STRING },
        { "compose_command", CONFIG_STRING },
        {},
};

static const ConfigTableSchema docker_schema[] = {
        { "permissions", CONFIG_TABLE_SECTION, docker_permission_keys },
        { "docker", CONFIG_TABLE_SECTION, docker_keys },
        {},
};

void docker_config_done(DockerConfig *c) {
        free(c->socket);
        free(c->compose_command);
        *c = (DockerConfig) {};
}

int docker_config_load(const char *config_dir, DockerConfig *ret, ConfigErrors *errors) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(docker_config_done) DockerConfig c = {};
        const ConfigTable *t;
        const ConfigEntry *e;
        int r;

        r = load_document(config_dir, "integrations/docker.toml", docker_schema, &doc, errors);
        if (r < 0)
                return r;

        t = config_document_section(&doc, "permissions");
        c.containers_read = config_table_get_bool(t, "containers_read", false);
        c.containers_write = config_table_get_bool(t, "containers_write", false);
        c.images_read = config_table_get_bool(t, "images_read", false);
        c.images_write = config_table_get_bool(t, "images_write", false);
        c.compose_read = config_table_get_bool(t, "compose_read", false);
        c.compose_write = config_table_get_bool(t, "compose_write", false);
        c.swarm_read = config_table_get_bool(t, "swarm_read", false);
        c.swarm_write = config_table_get_bool(t, "swarm_write", false);

        t = config_document_section(&doc, "docker");
        c.socket = strdup(DEFAULT_DOCKER_SOCKET);
        if (!c.socket)
                return -ENOMEM;
        e = config_table_get(t, "socket");
        if (e) {
                if (e->string[0] != '/')
                        config_document_error(&doc, errors, e->line, "'socket' must be an absolute path");
                else if (strlen(e->string) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                        config_document_error(&doc, errors, e->line, "'socket' is too long for a unix socket path");
                else {
                        r = config_table_copy_string(t, "socket", &c.socket);
                        if (r < 0)
                                return r;
                }
        }

        e = config_table_get(t, "compose_command");
        if (e) {
                if (isempty(e->string) || strspn(e->string, " \t") == strlen(e->string))
                        config_document_error(&doc, errors, e->line, "'compose_command' must not be empty");
                else if (has_control_chars(e->string) || strlen(e->string) > COMMAND_MAX)
                        config_document_error(&doc, errors, e->line,
                                              "'compose_command' must be a command line like \"docker compose\" "
                                              "(at most %d characters, no control characters)", COMMAND_MAX);
                else {
                        r = config_table_copy_string(t, "compose_command", &c.compose_command);
                        if (r < 0)
                                return r;
                }
        }

        if (doc.n_errors > 0)
                return -EINVAL;
        *ret = c;
        c = (DockerConfig) {};
        return 0;
}

/* ---- systemd.toml ---- */

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
        { "error", LOG_ERR },
        { "warning", LOG_WARNING },
        { "warn", LOG_WARNING },
        { "notice", LOG_NOTICE },
        { "info", LOG_INFO },
        { "debug", LOG_DEBUG },
};

static int priority_from_name(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(priority_names); i++)
                if (streq(priority_names[i].name, s))
                        return priority_names[i].level;
        return -EINVAL;
}

/* A unit name or a glob of one: printable, no blanks, no '/'. */
static bool unit_pattern_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > UNIT_PATTERN_MAX)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7F || *s == '/')
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
                .journal_lines = DEFAULT_JOURNAL_LINES,
                .journal_priority = DEFAULT_JOURNAL_PRIORITY,
        };
        const ConfigTable *t;
        const ConfigEntry *e;
        int r;

        r = load_document(config_dir, "integrations/systemd.toml", systemd_schema, &doc, errors);
        if (r < 0)
                return r;

        t = config_document_section(&doc, "units");
        c.units_read = config_table_get_bool(t, "read", false);
        c.units_write = config_table_get_bool(t, "write", false);
        r = copy_checked_list(&doc, errors, config_table_get(t, "allow"), unit_pattern_is_valid,
                              "is not a unit name or pattern like \"nginx.service\" or \"app-*.service\"",
                              &c.units_allow, &c.n_units_allow);
        if (r < 0)
                return r;

        t = config_document_section(&doc, "journal");
        c.journal_enabled = config_table_get_bool(t, "enabled", false);
        e = config_table_get(t, "lines");
        if (e) {
                if (e->integer < 1 || e->integer > JOURNAL_LINES_MAX)
                        config_document_error(&doc, errors, e->line, "'lines' must be between 1 and %d", JOURNAL_LINES_MAX);
                else
                        c.journal_lines = (unsigned) e->integer;
        }
        e = config_table_get(t, "priority");
        if (e) {
                int level = priority_from_name(e->string);

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
