/* SPDX-License-Identifier: MIT */
#pragma once

/* integrations/docker.toml (README "Docker integration", SPEC §3):
 *
 *   [permissions] containers_read containers_write images_read images_write
 *                 compose_read compose_write swarm_read swarm_write
 *   [docker]      socket = "/var/run/docker.sock", compose_command = "docker compose"
 *
 * Every permission defaults to off. Linked by the docker worker and by
 * `tailkitd --check-config`. */

#include <stdbool.h>

#include "config.h"

#define DOCKER_SOCKET_DEFAULT "/var/run/docker.sock"
#define DOCKER_COMPOSE_COMMAND_MAX 256

typedef struct DockerConfig {
        bool containers_read, containers_write;
        bool images_read, images_write;
        bool compose_read, compose_write;
        bool swarm_read, swarm_write;
        char *socket;                /* absolute; default DOCKER_SOCKET_DEFAULT */
        char *compose_command;       /* NULL: detect docker compose / docker-compose */
} DockerConfig;

int docker_config_load(const char *config_dir, DockerConfig *ret, ConfigErrors *errors);
void docker_config_done(DockerConfig *c);

/* For --check-config: 1 when the file is invalid or unreadable, 0 when fine
 * or absent, -ENOMEM. */
int docker_config_check(const char *config_dir, ConfigErrors *errors);
