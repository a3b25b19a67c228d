/* SPDX-License-Identifier: MIT */
/* integrations/metrics.toml, checked against its schema (config-reader.h). */

#include "config-reader.h"
#include "macro.h"
#include "metrics-config.h"

#define IFNAME_MAX 15           /* IFNAMSIZ - 1 */
#define DISK_PATH_MAX 4095

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7F)
                        return true;
        return false;
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


static const ConfigKey metrics_enabled_keys[] = {
        { "enabled", CONFIG_BOOL },
        {},
};

static const ConfigKey metrics_cpu_keys[] = {
        { "enabled", CONFIG_BOOL },
        { "per_core", CONFIG_BOOL },
        {},
};

static const ConfigKey metrics_memory_keys[] = {
        { "enabled", CONFIG_BOOL },
        { "swap", CONFIG_BOOL },
        {},
};

static const ConfigKey metrics_disk_keys[] = {
        { "enabled", CONFIG_BOOL },
        { "paths", CONFIG_STRV },
        {},
};

static const ConfigKey metrics_network_keys[] = {
        { "enabled", CONFIG_BOOL },
        { "interfaces", CONFIG_STRV },
        {},
};

static const ConfigKey metrics_processes_keys[] = {
        { "enabled", CONFIG_BOOL },
        { "limit", CONFIG_INT },
        {},
};

static const ConfigTableSchema metrics_schema[] = {
        { "host", CONFIG_TABLE_SECTION, metrics_enabled_keys },
        { "cpu", CONFIG_TABLE_SECTION, metrics_cpu_keys },
        { "memory", CONFIG_TABLE_SECTION, metrics_memory_keys },
        { "disk", CONFIG_TABLE_SECTION, metrics_disk_keys },
        { "network", CONFIG_TABLE_SECTION, metrics_network_keys },
        { "processes", CONFIG_TABLE_SECTION, metrics_processes_keys },
        {},
};

/* What the kernel accepts as an interface name (dev_valid_name()). */
bool metrics_ifname_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > IFNAME_MAX || streq(s, ".") || streq(s, ".."))
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7F || *s == '/' || *s == ':')
                        return false;
        return true;
}

static bool disk_path_is_valid(const char *s) {
        return s[0] == '/' && strlen(s) <= DISK_PATH_MAX && !has_control_chars(s);
}

void metrics_config_done(MetricsConfig *c) {
        strv_free(c->disk_paths, c->n_disk_paths);
        strv_free(c->network_interfaces, c->n_network_interfaces);
        *c = (MetricsConfig) {};
}

int metrics_config_load(const char *config_dir, MetricsConfig *ret, ConfigErrors *errors) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(metrics_config_done) MetricsConfig c = {
                .processes_limit = METRICS_PROCESSES_LIMIT_DEFAULT,
        };
        const ConfigTable *t;
        const ConfigEntry *e;
        int r;

        _cleanup_free_ char *path = NULL;

        r = config_file_path(config_dir, "integrations/metrics.toml", &path);
        if (r < 0)
                return r;
        r = config_document_load(path, metrics_schema, &doc, errors);
        if (r < 0)
                return r;

        c.host_enabled = config_table_get_bool(config_document_section(&doc, "host"), "enabled", false);

        t = config_document_section(&doc, "cpu");
        c.cpu_enabled = config_table_get_bool(t, "enabled", false);
        c.cpu_per_core = config_table_get_bool(t, "per_core", false);

        t = config_document_section(&doc, "memory");
        c.memory_enabled = config_table_get_bool(t, "enabled", false);
        c.memory_swap = config_table_get_bool(t, "swap", false);

        t = config_document_section(&doc, "disk");
        c.disk_enabled = config_table_get_bool(t, "enabled", false);
        r = copy_checked_list(&doc, errors, config_table_get(t, "paths"), disk_path_is_valid,
                              "must be an absolute path", &c.disk_paths, &c.n_disk_paths);
        if (r < 0)
                return r;

        t = config_document_section(&doc, "network");
        c.network_enabled = config_table_get_bool(t, "enabled", false);
        r = copy_checked_list(&doc, errors, config_table_get(t, "interfaces"), metrics_ifname_is_valid,
                              "is not an interface name (1 to 15 characters, no '/', ':' or blanks)",
                              &c.network_interfaces, &c.n_network_interfaces);
        if (r < 0)
                return r;

        t = config_document_section(&doc, "processes");
        c.processes_enabled = config_table_get_bool(t, "enabled", false);
        e = config_table_get(t, "limit");
        if (e) {
                if (e->integer < 1 || e->integer > METRICS_PROCESSES_LIMIT_MAX)
                        config_document_error(&doc, errors, e->line, "'limit' must be between 1 and %d", METRICS_PROCESSES_LIMIT_MAX);
                else
                        c.processes_limit = (unsigned) e->integer;
        }

        if (doc.n_errors > 0)
                return -EINVAL;
        *ret = c;
        c = (MetricsConfig) {};
        return 0;
}

int metrics_config_check(const char *config_dir, ConfigErrors *errors) {
        _cleanup_(metrics_config_done) MetricsConfig c = {};
        int r = metrics_config_load(config_dir, &c, errors);

        if (r == -ENOMEM)
                return r;
        return r < 0 && r != -ENOENT;
}
