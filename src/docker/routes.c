/* SPDX-License-Identifier: MIT */
/* The allowlist: every (method, path) a caller may use, the docker.toml
 * permission it needs, and the one Engine call it becomes. Anything else is
 * 404/405 before the Engine is asked; no caller input reaches an Engine URL
 * except a checked path argument and the query parameters declared here. */

#include "docker.h"
#include "macro.h"

/* method, path, handler, docker.toml permission, path argument, Engine
 * method and path, the query it may take, what is always sent. */
#define EP(m, body, p, a, h, perm, arg_, em, ep, q, fixed)                                       \
        {                                                                                       \
                .route = { .method = m, .pattern = DOCKER_PREFIX p, .access = a, .max_body = body, \
                           .handler = h },                                                      \
                .permission = perm, .arg = arg_, .engine_method = em, .engine_path = ep,        \
                .params = q, .fixed_query = fixed,                                              \
        }
#define GET(p, h, ...) EP("GET", 0, p, CAP_READ, h, __VA_ARGS__)
#define DELETE(p, h, ...) EP("DELETE", 0, p, CAP_WRITE, h, __VA_ARGS__)
/* POST routes take at most a small JSON body. */
#define POST(p, h, ...) EP("POST", 4096, p, CAP_WRITE, h, __VA_ARGS__)

static const QueryParam q_none[] = { { .name = NULL } };
static const QueryParam q_filters[] = {
        { .name = "filters", .type = QUERY_FILTERS },
        { .name = NULL }
};
/* All containers unless ?all=0: the Go seed listed them all. */
static const QueryParam q_containers[] = {
        { .name = "all", .type = QUERY_BOOL, .def = "1" },
        { .name = "limit", .type = QUERY_UINT, .max = 100000 },
        { .name = "size", .type = QUERY_BOOL },
        { .name = "filters", .type = QUERY_FILTERS },
        { .name = NULL }
};
static const QueryParam q_size[] = {
        { .name = "size", .type = QUERY_BOOL },
        { .name = NULL }
};
static const QueryParam q_container_delete[] = {
        { .name = "force", .type = QUERY_BOOL },
        { .name = "v", .type = QUERY_BOOL },
        { .name = NULL }
};
static const QueryParam q_logs[] = {
        { .name = "tail", .type = QUERY_TAIL, .max = DOCKER_LOGS_TAIL_MAX, .def = DOCKER_LOGS_TAIL_DEFAULT },
        { .name = "timestamps", .type = QUERY_BOOL },
        { .name = "since", .type = QUERY_TIMESTAMP },
        { .name = NULL }
};
static const QueryParam q_stop[] = {
        { .name = "t", .type = QUERY_UINT, .max = 600 },
        { .name = NULL }
};
static const QueryParam q_pull[] = {
        { .name = "ref", .type = QUERY_IMAGE },
        { .name = NULL }
};
static const QueryParam q_compose_up[] = {
        { .name = "file", .type = QUERY_PATH },
        { .name = NULL }
};
static const QueryParam q_images[] = {
        { .name = "all", .type = QUERY_BOOL },
        { .name = "digests", .type = QUERY_BOOL },
        { .name = "filters", .type = QUERY_FILTERS },
        { .name = NULL }
};
static const QueryParam q_image_delete[] = {
        { .name = "force", .type = QUERY_BOOL },
        { .name = "noprune", .type = QUERY_BOOL },
        { .name = NULL }
};
static const QueryParam q_network[] = {
        { .name = "verbose", .type = QUERY_BOOL },
        { .name = NULL }
};
static const QueryParam q_force[] = {
        { .name = "force", .type = QUERY_BOOL },
        { .name = NULL }
};
static const QueryParam q_services[] = {
        { .name = "filters", .type = QUERY_FILTERS },
        { .name = "status", .type = QUERY_BOOL },
        { .name = NULL }
};
static const QueryParam q_service[] = {
        { .name = "insertDefaults", .type = QUERY_BOOL },
        { .name = NULL }
};

const DockerEndpoint docker_endpoints[] = {
        /* The Go client asks before it uses the integration: identity only. */
        {
                .route = { .method = "GET", .pattern = DOCKER_PREFIX "/available", .access = CAP_NONE,
                           .skip_available = true, .handler = docker_available_get },
                .permission = PERM_NONE,
        },

        GET("/info", docker_passthrough, PERM_CONTAINERS_READ, ARG_NONE, "GET", "/info", q_none, NULL),

        GET("/containers", docker_passthrough, PERM_CONTAINERS_READ, ARG_NONE,
          "GET", "/containers/json", q_containers, NULL),
        GET("/containers/*", docker_passthrough, PERM_CONTAINERS_READ, ARG_NAME,
          "GET", "/containers/%s/json", q_size, NULL),
        DELETE("/containers/*", docker_delete, PERM_CONTAINERS_WRITE, ARG_NAME,
          "DELETE", "/containers/%s", q_container_delete, NULL),
        GET("/containers/*/logs", docker_logs_get, PERM_CONTAINERS_READ, ARG_NAME,
          "GET", "/containers/%s/logs", q_logs, "stdout=1&stderr=1"),
        /* Long operations: a job (SPEC §4), polled at /exec/jobs/{id}. */
        POST("/containers/*/start", docker_container_action, PERM_CONTAINERS_WRITE, ARG_NAME,
             "POST", "/containers/%s/start", q_none, NULL),
        POST("/containers/*/stop", docker_container_action, PERM_CONTAINERS_WRITE, ARG_NAME,
             "POST", "/containers/%s/stop", q_stop, NULL),
        POST("/containers/*/restart", docker_container_action, PERM_CONTAINERS_WRITE, ARG_NAME,
             "POST", "/containers/%s/restart", q_stop, NULL),
        GET("/containers/*/stats", docker_passthrough, PERM_CONTAINERS_READ, ARG_NAME,
          "GET", "/containers/%s/stats", q_none, "stream=false"),

        GET("/images", docker_passthrough, PERM_IMAGES_READ, ARG_NONE, "GET", "/images/json", q_images, NULL),
        /* References hold '/': the rest of the path, checked as a whole. */
        DELETE("/images/**", docker_passthrough, PERM_IMAGES_WRITE, ARG_IMAGE,
          "DELETE", "/images/%s", q_image_delete, NULL),

        POST("/images/pull", docker_image_pull, PERM_IMAGES_WRITE, ARG_NONE, NULL, NULL, q_pull, NULL),

        GET("/networks", docker_passthrough, PERM_CONTAINERS_READ, ARG_NONE, "GET", "/networks", q_filters, NULL),
        GET("/networks/*", docker_passthrough, PERM_CONTAINERS_READ, ARG_NAME,
          "GET", "/networks/%s", q_network, NULL),

        GET("/volumes", docker_passthrough, PERM_CONTAINERS_READ, ARG_NONE, "GET", "/volumes", q_filters, NULL),
        DELETE("/volumes/*", docker_delete, PERM_CONTAINERS_WRITE, ARG_NAME,
          "DELETE", "/volumes/%s", q_force, NULL),

        /* Projects come from container labels: no CLI, no Engine path of their own. */
        GET("/compose", compose_list_get, PERM_COMPOSE_READ, ARG_NONE, NULL, NULL, q_none, NULL),
        GET("/compose/", compose_list_get, PERM_COMPOSE_READ, ARG_NONE, NULL, NULL, q_none, NULL),
        GET("/compose/projects", compose_list_get, PERM_COMPOSE_READ, ARG_NONE, NULL, NULL, q_none, NULL),
        GET("/compose/*", compose_project_get, PERM_COMPOSE_READ, ARG_PROJECT, NULL, NULL, q_none, NULL),
        /* The compose CLI as a scope job. */
        POST("/compose/*/up", compose_action, PERM_COMPOSE_WRITE, ARG_PROJECT, NULL, NULL, q_compose_up, NULL),
        POST("/compose/*/down", compose_action, PERM_COMPOSE_WRITE, ARG_PROJECT, NULL, NULL, q_none, NULL),
        POST("/compose/*/pull", compose_action, PERM_COMPOSE_WRITE, ARG_PROJECT, NULL, NULL, q_none, NULL),
        POST("/compose/*/restart", compose_action, PERM_COMPOSE_WRITE, ARG_PROJECT, NULL, NULL, q_none, NULL),
        POST("/compose/*/build", compose_action, PERM_COMPOSE_WRITE, ARG_PROJECT, NULL, NULL, q_none, NULL),

        GET("/swarm/info", docker_passthrough, PERM_SWARM_READ, ARG_NONE, "GET", "/swarm", q_none, NULL),
        GET("/swarm/nodes", docker_passthrough, PERM_SWARM_READ, ARG_NONE, "GET", "/nodes", q_filters, NULL),
        GET("/swarm/services", docker_passthrough, PERM_SWARM_READ, ARG_NONE, "GET", "/services", q_services, NULL),
        GET("/swarm/services/*", docker_passthrough, PERM_SWARM_READ, ARG_NAME,
          "GET", "/services/%s", q_service, NULL),
        GET("/swarm/tasks", docker_passthrough, PERM_SWARM_READ, ARG_NONE, "GET", "/tasks", q_filters, NULL),
};

const size_t docker_n_endpoints = ELEMENTSOF(docker_endpoints);
