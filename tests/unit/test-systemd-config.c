/* SPDX-License-Identifier: MIT */
/* integrations/systemd.toml (src/systemd/systemd-config.c) and unit names (src/systemd/unit-name.c). */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config-reader.h"
#include "macro.h"
#include "systemd-config.h"
#include "unit-name.h"
#include "tests.h"
#include "config-fixtures.h"


TEST(systemd) {
        _cleanup_(systemd_config_done) SystemdConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        ASSERT_INT_EQ(systemd_config_load(dir, &c, &errors), -ENOENT);

        write_file(dir, "integrations/systemd.toml",
                   "[units]\n"
                   "read  = true\n"
                   "write = true\n"
                   "\n"
                   "[journal]\n"
                   "enabled  = true\n"
                   "lines    = 500        # max lines a caller can request\n"
                   "priority = \"info\"     # minimum priority exposed\n");
        ASSERT_OK(systemd_config_load(dir, &c, &errors));
        ASSERT_TRUE(c.units_read && c.units_write && c.journal_enabled);
        ASSERT_INT_EQ(c.n_units_allow, 0);
        ASSERT_INT_EQ(c.journal_lines, 500);
        ASSERT_INT_EQ(c.journal_priority, LOG_INFO);
        systemd_config_done(&c);

        write_file(dir, "integrations/systemd.toml",
                   "[units]\nallow = [\"nginx.service\", \"app-*.service\"]\n[journal]\npriority = \"error\"\n");
        ASSERT_OK(systemd_config_load(dir, &c, &errors));
        ASSERT_FALSE(c.units_read || c.units_write || c.journal_enabled);
        ASSERT_INT_EQ(c.n_units_allow, 2);
        ASSERT_STREQ(c.units_allow[1], "app-*.service");
        ASSERT_INT_EQ(c.journal_lines, 100);
        ASSERT_INT_EQ(c.journal_priority, LOG_ERR);
        systemd_config_done(&c);

        write_file(dir, "integrations/systemd.toml", "[journal]\npriority = \"warn\"\n");
        ASSERT_OK(systemd_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.journal_priority, LOG_WARNING);
        systemd_config_done(&c);

        write_file(dir, "integrations/systemd.toml", "");
        ASSERT_OK(systemd_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.journal_priority, LOG_INFO);
        ASSERT_INT_EQ(c.journal_lines, 100);
        systemd_config_done(&c);
        ASSERT_INT_EQ(errors.n, 0);

        write_file(dir, "integrations/systemd.toml",
                   "[units]\n"
                   "allow = [\"a/b.service\", \"\"]\n"
                   "enabled = true\n"
                   "[journal]\n"
                   "lines = 0\n"
                   "priority = \"verbose\"\n"
                   "[journal]\n");
        ASSERT_INT_EQ(systemd_config_load(dir, &c, &errors), -EINVAL);
        assert_error(&errors, dir, "integrations/systemd.toml",
                     "2: 'allow' entry \"a/b.service\" is not a unit name or pattern like \"nginx.service\" or \"app-*.service\"");
        ASSERT_TRUE(has_error_containing(&errors, "systemd.toml:2: 'allow' entry \"\""));
        assert_error(&errors, dir, "integrations/systemd.toml", "3: unknown key 'enabled' in [units]");
        assert_error(&errors, dir, "integrations/systemd.toml", "5: 'lines' must be between 1 and 10000");
        assert_error(&errors, dir, "integrations/systemd.toml",
                     "6: 'priority' must be one of emerg, alert, crit, err, warning, notice, info, debug");
        assert_error(&errors, dir, "integrations/systemd.toml", "7: duplicate section [journal] (first at line 4)");
        ASSERT_INT_EQ(errors.n, 6);
        config_errors_done(&errors);

        write_file(dir, "integrations/systemd.toml", "[journal]\nlines = 10001\n");
        ASSERT_INT_EQ(systemd_config_load(dir, &c, &errors), -EINVAL);
        assert_error(&errors, dir, "integrations/systemd.toml", "2: 'lines' must be between 1 and 10000");
}


TEST(check) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        ASSERT_INT_EQ(systemd_config_check(dir, &errors), 0);
        write_file(dir, "integrations/systemd.toml", "[units]\nread = 1\n");
        ASSERT_INT_EQ(systemd_config_check(dir, &errors), 1);
        assert_error(&errors, dir, "integrations/systemd.toml", "2: 'read' must be a boolean (true or false)");
        ASSERT_INT_EQ(errors.n, 1);
}

TEST(priority_names) {
        ASSERT_INT_EQ(systemd_priority_from_name("emerg"), LOG_EMERG);
        ASSERT_INT_EQ(systemd_priority_from_name("warning"), LOG_WARNING);
        ASSERT_INT_EQ(systemd_priority_from_name("debug"), LOG_DEBUG);
        ASSERT_INT_EQ(systemd_priority_from_name("Warning"), -EINVAL);
        ASSERT_INT_EQ(systemd_priority_from_name("8"), -EINVAL);
        ASSERT_STREQ(systemd_priority_to_name(LOG_ERR), "err");
        ASSERT_STREQ(systemd_priority_to_name(LOG_INFO), "info");
        ASSERT_NULL(systemd_priority_to_name(8));
        ASSERT_NULL(systemd_priority_to_name(-1));
}

TEST(unit_names) {
        static const char *const good[] = {
                "nginx.service", "getty@tty1.service", "getty@.service", "dev-sda1.device",
                "sys-devices-virtual-net-lo.device", "system-getty.slice", "-.mount", "-.slice",
                "dev-disk-by\\x2duuid-1234.swap", "a:b_c-d.e.timer", "tailkitd@systemd.socket",
        };
        static const char *const bad[] = {
                "", ".service", "nginx", "nginx.", "nginx.serv", "../../etc/passwd", "/etc/passwd",
                "foo;rm.service", "foo;rm", "foo bar.service", "foo\tbar.service", "a/b.service",
                "@foo.service", "a@b@c.service", "foo.service/", "foo.service\n", "ä.service",
                "$(id).service", "foo*.service", "foo?.service", "%2e%2e.service",
        };
        char longname[400];

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!unit_name_is_valid(good[i]))
                        FAIL_AT("should be valid: %s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (unit_name_is_valid(bad[i]))
                        FAIL_AT("should be invalid: %s", bad[i]);
        ASSERT_FALSE(unit_name_is_valid(NULL));

        /* 255 characters is the limit (systemd's UNIT_NAME_MAX - 1). */
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 255 - STRLEN(".service"), ".service");
        ASSERT_TRUE(unit_name_is_valid(longname));
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 256 - STRLEN(".service"), ".service");
        ASSERT_FALSE(unit_name_is_valid(longname));
        memset(longname, 'a', 300);
        longname[300] = 0;
        {
                _cleanup_free_ char *n = unit_name_normalize(longname);
                ASSERT_NULL(n);
                ASSERT_INT_EQ(errno, EINVAL);
        }
        {
                _cleanup_free_ char *n = unit_name_normalize("nginx");
                ASSERT_STREQ(n, "nginx.service");
        }
        {
                _cleanup_free_ char *n = unit_name_normalize("sshd.socket");
                ASSERT_STREQ(n, "sshd.socket");
        }
        {
                _cleanup_free_ char *n = unit_name_normalize("foo;rm");
                ASSERT_NULL(n);
        }
        {
                _cleanup_free_ char *n = unit_name_normalize("..");
                ASSERT_NULL(n);
        }
        ASSERT_STREQ(unit_name_type("getty@tty1.service"), "service");
        ASSERT_STREQ(unit_name_type("-.mount"), "mount");
}

TEST(allow_list) {
        char *patterns[] = { (char *) "nginx.service", (char *) "app-*.service", (char *) "getty@*.service" };

        ASSERT_TRUE(unit_name_allowed("anything.service", NULL, 0));
        ASSERT_TRUE(unit_name_allowed("nginx.service", patterns, 3));
        ASSERT_TRUE(unit_name_allowed("app-web.service", patterns, 3));
        ASSERT_TRUE(unit_name_allowed("getty@tty1.service", patterns, 3));
        ASSERT_FALSE(unit_name_allowed("app-web.socket", patterns, 3));
        ASSERT_FALSE(unit_name_allowed("nginx.service.d", patterns, 3));
        ASSERT_FALSE(unit_name_allowed("sshd.service", patterns, 3));
        ASSERT_FALSE(unit_name_allowed("xnginx.service", patterns, 3));
}

int main(void) {
        RUN(systemd);
        RUN(check);
        RUN(priority_names);
        RUN(unit_names);
        RUN(allow_list);
        remove_dirs();
        return 0;
}
