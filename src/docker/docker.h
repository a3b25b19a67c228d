/* SPDX-License-Identifier: MIT */
#pragma once

/* The docker worker: the Engine API behind the tailkitd-docker cap, an exact
 * allowlist of (method, path template) and docker.toml's [permissions]. */

#include "docker-config.h"
#include "engine.h"
#include "params.h"
#include "worker.h"

#define DOCKER_PREFIX "/integrations/docker"
/* Engine calls that answer from memory, and those that do work. */
#define DOCKER_READ_TIMEOUT_MS (30 * 1000)
#define DOCKER_WRITE_TIMEOUT_MS (60 * 1000)
/* What the worker buffers of an Engine answer (it streams the others). */
#define DOCKER_ERROR_BODY_MAX (64 * 1024)
#define DOCKER_INSPECT_MAX (4 * 1024 * 1024)
#define DOCKER_LIST_MAX (16 * 1024 * 1024)
#define DOCKER_LOGS_MAX (1024 * 1024)
#define DOCKER_LOGS_TAIL_DEFAULT "100"
#define DOCKER_LOGS_TAIL_MAX 100000

typedef enum DockerPermission {
        PERM_CONTAINERS_READ,
        PERM_CONTAINERS_WRITE,
        PERM_IMAGES_READ,
        PERM_IMAGES_WRITE,
        PERM_COMPOSE_READ,
        PERM_COMPOSE_WRITE,
        PERM_SWARM_READ,
        PERM_SWARM_WRITE,
        PERM_NONE,              /* /available: identity only */
} DockerPermission;

typedef enum DockerArg {
        ARG_NONE,
        ARG_NAME,               /* docker_name_is_valid() */
        ARG_IMAGE,              /* docker_image_ref_is_valid() */
        ARG_PROJECT,            /* compose_project_is_valid() */
} DockerArg;

/* One allowed endpoint: the caller's (method, path) and what it becomes. */
typedef struct DockerEndpoint {
        Route route;
        DockerPermission permission;
        DockerArg arg;                  /* what args[0] must be */
        const char *engine_method;      /* NULL: the handler talks to the Engine itself */
        const char *engine_path;        /* "%s" stands for the escaped args[0] */
        const QueryParam *params;       /* what the caller may pass on */
        const char *fixed_query;        /* always sent */
} DockerEndpoint;

extern const DockerEndpoint docker_endpoints[];
extern const size_t docker_n_endpoints;

/* What available() loaded for the request (r->userdata). */
typedef struct DockerContext {
        DockerConfig config;
        char version[ENGINE_VERSION_MAX];
} DockerContext;

const DockerEndpoint *docker_endpoint(Request *r);
const char *docker_permission_name(DockerPermission p);
bool docker_permits(const DockerConfig *c, DockerPermission p);

/* Checks the permission, the path argument and the query of r against its
 * endpoint and builds the Engine path (with query). 1: go on; 0: it replied
 * (403/400); negative errno. */
int docker_prepare(Request *r, const char *engine_path, char **ret);
/* Opens an Engine call; an unreachable Engine is answered 503 with a hint
 * (and the version forgotten), a timeout 504: 1 go on, 0 replied, < 0. */
int docker_open(Request *r, const char *method, const char *path, const char *body, size_t body_size,
                uint64_t timeout_ms, EngineCall **ret);
/* Answers an Engine error (status >= 400) with its status and message. */
int docker_reply_engine_error(Request *r, EngineCall *c);
/* Streams the Engine's answer to the caller as it is (takes c). */
int docker_reply_passthrough(Request *r, EngineCall *c);

int docker_available(Request *r, const char **error, const char **hint);
int docker_init(void);
bool docker_busy(void);

/* Handlers. */
int docker_passthrough(Request *r);
int docker_available_get(Request *r);
int docker_delete(Request *r);
int docker_logs_get(Request *r);
int compose_list_get(Request *r);
int docker_container_action(Request *r);
int docker_image_pull(Request *r);
bool docker_engine_jobs_running(void);
int compose_project_get(Request *r);
int compose_action(Request *r);
/* The containers of compose project name (every project's, if NULL), as
 * the Engine lists them: 1 and *ret, 0 when it replied, < 0. */
int compose_list_project(Request *r, const char *name, json_object **ret);
