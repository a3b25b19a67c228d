/* SPDX-License-Identifier: MIT */
/* integrations/docker.toml (src/docker/docker-config.c). */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-reader.h"
#include "macro.h"
#include "docker-config.h"
#include "tests.h"
#include "config-fixtures.h"


TEST(docker) {
        _cleanup_(docker_config_done) DockerConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        ASSERT_INT_EQ(docker_config_load(dir, &c, &errors), -ENOENT);
        ASSERT_INT_EQ(errors.n, 0);

        write_file(dir, "integrations/docker.toml",
                   "[permissions]\n"
                   "containers_read   = true\n"
                   "containers_write  = true\n"
                   "images_read       = true\n"
                   "images_write      = false\n"
                   "compose_read      = true\n"
                   "compose_write     = true\n"
                   "swarm_read        = true\n"
                   "swarm_write       = false   # disabled by default — high blast radius\n");
        ASSERT_OK(docker_config_load(dir, &c, &errors));
        ASSERT_TRUE(c.containers_read && c.containers_write && c.images_read && c.compose_read && c.compose_write &&
                    c.swarm_read);
        ASSERT_FALSE(c.images_write || c.swarm_write);
        ASSERT_STREQ(c.socket, "/var/run/docker.sock");
        ASSERT_NULL(c.compose_command);
        docker_config_done(&c);

        write_file(dir, "integrations/docker.toml",
                   "[docker]\nsocket = \"/run/docker.sock\"\ncompose_command = \"docker-compose\"\n");
        ASSERT_OK(docker_config_load(dir, &c, &errors));
        ASSERT_FALSE(c.containers_read || c.containers_write || c.images_read || c.swarm_read);
        ASSERT_STREQ(c.socket, "/run/docker.sock");
        ASSERT_STREQ(c.compose_command, "docker-compose");
        docker_config_done(&c);

        write_file(dir, "integrations/docker.toml",
                   "[permissions]\ncontainers = true\n[docker]\nsocket = \"docker.sock\"\ncompose_command = \" \"\n");
        ASSERT_INT_EQ(docker_config_load(dir, &c, &errors), -EINVAL);
        assert_error(&errors, dir, "integrations/docker.toml", "2: unknown key 'containers' in [permissions]");
        assert_error(&errors, dir, "integrations/docker.toml", "4: 'socket' must be an absolute path");
        assert_error(&errors, dir, "integrations/docker.toml", "5: 'compose_command' must not be empty");
        ASSERT_INT_EQ(errors.n, 3);
}

TEST(check) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        ASSERT_INT_EQ(docker_config_check(dir, &errors), 0);
        write_file(dir, "integrations/docker.toml", "[permissions]\ncontainers_read = true\n");
        ASSERT_INT_EQ(docker_config_check(dir, &errors), 0);
        write_file(dir, "integrations/docker.toml", "[permissions]\ncontainers_read = yes\n");
        ASSERT_INT_EQ(docker_config_check(dir, &errors), 1);
        config_errors_done(&errors);
        /* Unreadable counts as invalid (a directory: tests may run as root). */
        {
                _cleanup_free_ char *p = file_path(dir, "integrations/docker.toml");
                ASSERT_OK(unlink(p));
                ASSERT_OK(mkdir(p, 0755));
        }
        ASSERT_INT_EQ(docker_config_check(dir, &errors), 1);
        ASSERT_TRUE(has_error_containing(&errors, "integrations/docker.toml: not a regular file"));
}

int main(void) {
        RUN(docker);
        RUN(check);
        remove_dirs();
        return 0;
}
