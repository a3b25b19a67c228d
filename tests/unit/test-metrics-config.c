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
#include "config-fixtures.h"


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
