/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "macro.h"
#include "prefix-routes.h"

static const struct {
        const char *prefix;
        const char *integration;
} routes[] = {
        { "/tools",                "tools"   },
        { "/health",               "tools"   },
        { "/exec",                 "exec"    },
        { "/files",                "files"   },
        { "/receive",              "files"   },
        { "/vars",                 "vars"    },
        { "/integrations/docker",  "docker"  },
        { "/integrations/systemd", "systemd" },
        { "/integrations/metrics", "metrics" },
};

const char route_prefix_list[] =
        "/tools, /health, /exec, /files, /receive, /vars, "
        "/integrations/docker, /integrations/systemd, /integrations/metrics";

const char *route_integration(const char *path, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                size_t l = strlen(routes[i].prefix);

                if (len < l || memcmp(path, routes[i].prefix, l) != 0)
                        continue;
                if (len == l || path[l] == '/')
                        return routes[i].integration;
        }
        /* GET /integrations/{name}/available of a known integration is routed above. */
        return NULL;
}
