/* SPDX-License-Identifier: MIT */
/* Every configuration file through its own loader (the shared TOML-subset
 * reader under each schema): the first input byte picks the file, the rest
 * is its content, written to a private config directory. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "docker-config.h"
#include "files-config.h"
#include "fuzz.h"
#include "metrics-config.h"
#include "systemd-config.h"

static char dir[] = "/tmp/tailkitd-fuzz-config-XXXXXX";

static void put(const char *rel, const uint8_t *data, size_t size) {
        char path[256];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
                abort();
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool init;
        ConfigErrors errors = {};

        if (!init) {
                char sub[256];
                if (!mkdtemp(dir))
                        abort();
                snprintf(sub, sizeof(sub), "%s/integrations", dir);
                if (mkdir(sub, 0700) < 0)
                        abort();
                init = true;
        }
        if (size < 1)
                return 0;
        switch (data[0] % 6) {
        case 0: {
                DaemonConfig c = {};
                put("tailkitd.conf", data + 1, size - 1);
                (void) daemon_config_load(dir, &c, &errors);
                daemon_config_done(&c);
                break;
        }
        case 1: {
                VarsConfig c = {};
                put("vars.toml", data + 1, size - 1);
                (void) vars_config_load(dir, &c, &errors);
                vars_config_done(&c);
                break;
        }
        case 2: {
                FilesConfig c = {};
                put("files.toml", data + 1, size - 1);
                (void) files_config_load(dir, &c, &errors);
                files_config_done(&c);
                break;
        }
        case 3: {
                MetricsConfig c = {};
                put("integrations/metrics.toml", data + 1, size - 1);
                (void) metrics_config_load(dir, &c, &errors);
                metrics_config_done(&c);
                break;
        }
        case 4: {
                SystemdConfig c = {};
                put("integrations/systemd.toml", data + 1, size - 1);
                (void) systemd_config_load(dir, &c, &errors);
                systemd_config_done(&c);
                break;
        }
        default: {
                DockerConfig c = {};
                put("integrations/docker.toml", data + 1, size - 1);
                (void) docker_config_load(dir, &c, &errors);
                docker_config_done(&c);
                break;
        }
        }
        config_errors_done(&errors);
        return 0;
}
