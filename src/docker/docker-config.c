/* SPDX-License-Identifier: MIT */
/* integrations/docker.toml, checked against its schema (config-reader.h). */

#include <sys/un.h>

#include "config-reader.h"
#include "docker-config.h"
#include "macro.h"

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7F)
                        return true;
        return false;
}


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
        _cleanup_free_ char *path = NULL;
        const ConfigTable *t;
        const ConfigEntry *e;
        int r;

        r = config_file_path(config_dir, "integrations/docker.toml", &path);
        if (r < 0)
                return r;
        r = config_document_load(path, docker_schema, &doc, errors);
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
        c.socket = strdup(DOCKER_SOCKET_DEFAULT);
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
                else if (has_control_chars(e->string) || strlen(e->string) > DOCKER_COMPOSE_COMMAND_MAX)
                        config_document_error(&doc, errors, e->line,
                                              "'compose_command' must be a command line like \"docker compose\" "
                                              "(at most %d characters, no control characters)", DOCKER_COMPOSE_COMMAND_MAX);
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

int docker_config_check(const char *config_dir, ConfigErrors *errors) {
        _cleanup_(docker_config_done) DockerConfig c = {};
        int r = docker_config_load(config_dir, &c, errors);

        if (r == -ENOMEM)
                return r;
        return r < 0 && r != -ENOENT;
}
