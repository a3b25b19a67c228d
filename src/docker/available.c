/* SPDX-License-Identifier: MIT */
/* Whether the integration can serve (SPEC §1.2): docker.toml present and
 * valid, and the Engine reachable, its API version known. Read per request,
 * so an edit of docker.toml takes effect at once. */

#include <stdio.h>

#include "docker.h"
#include "jobs.h"
#include "macro.h"
#include "paths.h"

int docker_init(void) {
        return jobs_init();
}

/* Keeps the worker up while a job's Engine call runs (and lets the job
 * store end its housekeeping). */
bool docker_busy(void) {
        return jobs_housekeeping() > 0 || docker_engine_jobs_running();
}

static void context_free(void *p) {
        DockerContext *ctx = p;

        if (!ctx)
                return;
        docker_config_done(&ctx->config);
        free(ctx);
}

static int load_config(DockerConfig *c, const char **error, const char **hint) {
        static __thread char buf[1024];
        ConfigErrors errors = {};
        int e;

        e = docker_config_load(config_dir(), c, &errors);
        if (e == -ENOENT) {
                *error = "docker integration not configured on this node";
                snprintf(buf, sizeof(buf), "create %s/integrations/docker.toml to enable", config_dir());
                *hint = buf;
        } else if (e < 0) {
                *error = "docker.toml is invalid";
                snprintf(buf, sizeof(buf), "%s", errors.n > 0 ? errors.messages[0] : "run tailkitd --check-config");
                *hint = buf;
        }
        config_errors_done(&errors);
        return e;
}

static int negotiate(DockerContext *ctx, const char **error, const char **hint) {
        static __thread char buf[1024];
        _cleanup_free_ char *detail = NULL;
        int e;

        e = engine_version(ctx->config.socket, ctx->version, &detail);
        if (e >= 0)
                return 0;
        if (e == -ENOMEM) {
                *error = "out of memory";
                return e;
        }
        *error = "docker daemon unreachable";
        if (e == -EPROTONOSUPPORT || e == -EPROTO)
                snprintf(buf, sizeof(buf), "%s", strna(detail));
        else
                snprintf(buf, sizeof(buf), "%s; is dockerd running (systemctl status docker)? "
                         "Set [docker] socket in %s/integrations/docker.toml if it listens elsewhere",
                         strna(detail), config_dir());
        *hint = buf;
        return e;
}

int docker_available(Request *r, const char **error, const char **hint) {
        DockerContext *ctx = calloc(1, sizeof(DockerContext));
        int e;

        if (!ctx) {
                *error = "out of memory";
                return -ENOMEM;
        }
        e = load_config(&ctx->config, error, hint);
        if (e >= 0)
                e = negotiate(ctx, error, hint);
        if (e < 0) {
                context_free(ctx);
                return e;
        }
        r->userdata = ctx;
        r->userdata_free = context_free;
        return 0;
}

/* {"available": bool}: configured, and the Engine answers now. */
int docker_available_get(Request *r) {
        DockerContext ctx = {};
        const char *error, *hint;
        json_object *o = json_object_new_object();
        bool ok = false;

        if (!o)
                return -ENOMEM;
        if (load_config(&ctx.config, &error, &hint) >= 0) {
                engine_forget(ctx.config.socket);
                ok = negotiate(&ctx, &error, &hint) >= 0;
        }
        docker_config_done(&ctx.config);
        json_object_object_add(o, "available", json_object_new_boolean(ok));
        return reply_json(r, 200, o);
}
