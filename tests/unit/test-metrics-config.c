/* SPDX-License-Identifier: MIT */
/* integrations/metrics.toml (src/metrics/metrics-config.c). */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-reader.h"
#include "macro.h"
#include "metrics-config.h"
#include "tests.h"

/* ---- fixtures: one fresh directory per test, removed at the end ---- */

static char *dirs[64];
static size_t n_dirs;

static const char *new_config_dir(void) {
        char tmpl[] = "/tmp/test-config-XXXXXX", *d, *sub;

        d = mkdtemp(tmpl);
        ASSERT_NOT_NULL(d);
        ASSERT_TRUE(n_dirs < ELEMENTSOF(dirs));
        dirs[n_dirs] = strdup(d);
        ASSERT_NOT_NULL(dirs[n_dirs]);
        ASSERT_TRUE(asprintf(&sub, "%s/integrations", d) >= 0);
        ASSERT_OK(mkdir(sub, 0755));
        free(sub);
        return dirs[n_dirs++];
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void remove_dirs(void) {
        for (size_t i = 0; i < n_dirs; i++) {
                ASSERT_OK(nftw(dirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS));
                free(dirs[i]);
        }
}

static char *file_path(const char *dir, const char *name) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

static void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *p = file_path(dir, name);
        FILE *f = fopen(p, "we");

        ASSERT_NOT_NULL(f);
        ASSERT_INT_EQ(fwrite(content, 1, strlen(content), f), strlen(content));
        ASSERT_INT_EQ(fclose(f), 0);
}

/* The message "<dir>/<name>:<rest>" must be among the errors. */
static void assert_error(const ConfigErrors *e, const char *dir, const char *name, const char *rest) {
        _cleanup_free_ char *want = NULL;

        ASSERT_TRUE(asprintf(&want, "%s/%s:%s", dir, name, rest) >= 0);
        for (size_t i = 0; i < e->n; i++)
                if (streq(e->messages[i], want))
                        return;
        for (size_t i = 0; i < e->n; i++)
                fprintf(stderr, "  got: %s\n", e->messages[i]);
        FAIL_AT("missing error: %s", want);
}

static bool has_error_containing(const ConfigErrors *e, const char *needle) {
        for (size_t i = 0; i < e->n; i++)
                if (strstr(e->messages[i], needle))
                        return true;
        return false;
}

TEST(metrics) {
        _cleanup_(metrics_config_done) MetricsConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        ASSERT_INT_EQ(metrics_config_load(dir, &c, &errors), -ENOENT);

        write_file(dir, "integrations/metrics.toml",
                   "[host]\n"
                   "enabled = true\n"
                   "\n"
                   "[cpu]\n"
                   "enabled  = true\n"
                   "per_core = true\n"
                   "\n"
                   "[memory]\n"
                   "enabled = true\n"
                   "swap    = true\n"
                   "\n"
                   "[disk]\n"
                   "enabled = true\n"
                   "paths   = [\"/\", \"/data\", \"/opt\"]\n"
                   "\n"
                   "[network]\n"
                   "enabled    = true\n"
                   "interfaces = [\"eth0\", \"tailscale0\"]\n"
                   "\n"
                   "[processes]\n"
                   "enabled = false    # off by default — most sensitive\n"
                   "limit   = 20\n");
        ASSERT_OK(metrics_config_load(dir, &c, &errors));
        ASSERT_TRUE(c.host_enabled && c.cpu_enabled && c.cpu_per_core && c.memory_enabled && c.memory_swap &&
                    c.disk_enabled && c.network_enabled);
        ASSERT_FALSE(c.processes_enabled);
        ASSERT_INT_EQ(c.n_disk_paths, 3);
        ASSERT_STREQ(c.disk_paths[1], "/data");
        ASSERT_INT_EQ(c.n_network_interfaces, 2);
        ASSERT_STREQ(c.network_interfaces[1], "tailscale0");
        ASSERT_INT_EQ(c.processes_limit, 20);
        metrics_config_done(&c);

        write_file(dir, "integrations/metrics.toml", "[cpu]\nenabled = true\n[processes]\nlimit = 100\n");
        ASSERT_OK(metrics_config_load(dir, &c, &errors));
        ASSERT_TRUE(c.cpu_enabled);
        ASSERT_FALSE(c.cpu_per_core || c.host_enabled || c.memory_enabled || c.disk_enabled || c.network_enabled ||
                     c.processes_enabled);
        ASSERT_INT_EQ(c.processes_limit, 100);
        metrics_config_done(&c);

        write_file(dir, "integrations/metrics.toml", "");
        ASSERT_OK(metrics_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.processes_limit, 20);
        ASSERT_FALSE(c.host_enabled);
        metrics_config_done(&c);
        ASSERT_INT_EQ(errors.n, 0);

        write_file(dir, "integrations/metrics.toml",
                   "[disk]\n"
                   "paths = [\"data\"]\n"
                   "[network]\n"
                   "interfaces = [\"averyveryverylong0\", \"a/b\", \"\"]\n"
                   "[processes]\n"
                   "limit = 0\n"
                   "[gpu]\n"
                   "enabled = true\n");
        ASSERT_INT_EQ(metrics_config_load(dir, &c, &errors), -EINVAL);
        assert_error(&errors, dir, "integrations/metrics.toml", "2: 'paths' entry \"data\" must be an absolute path");
        assert_error(&errors, dir, "integrations/metrics.toml",
                     "4: 'interfaces' entry \"averyveryverylong0\" is not an interface name (1 to 15 characters, no '/', ':' or blanks)");
        ASSERT_TRUE(has_error_containing(&errors, "metrics.toml:4: 'interfaces' entry \"a/b\""));
        ASSERT_TRUE(has_error_containing(&errors, "metrics.toml:4: 'interfaces' entry \"\""));
        assert_error(&errors, dir, "integrations/metrics.toml", "6: 'limit' must be between 1 and 100");
        ASSERT_TRUE(has_error_containing(&errors, "metrics.toml:7: unknown section [gpu]"));
        ASSERT_INT_EQ(errors.n, 6);
}

TEST(check) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        ASSERT_INT_EQ(metrics_config_check(dir, &errors), 0);
        write_file(dir, "integrations/metrics.toml", "[processes]\nlimit = 101\n");
        ASSERT_INT_EQ(metrics_config_check(dir, &errors), 1);
        ASSERT_INT_EQ(errors.n, 1);
}

int main(void) {
        RUN(metrics);
        RUN(check);
        remove_dirs();
        return 0;
}
