/* SPDX-License-Identifier: MIT */
/* tailkitd-docker: the Docker Engine API (/integrations/docker) behind the
 * tailkitd-docker cap, an exact endpoint allowlist and docker.toml. */

#include "docker.h"
#include "macro.h"

static Route routes[64];

const DockerEndpoint *docker_endpoint(Request *r) {
        return &docker_endpoints[r->route - routes];
}

int main(int argc, char *argv[]) {
        WorkerDefinition def = {
                .name = "docker",
                .routes = routes,
                .n_routes = docker_n_endpoints,
                .available = docker_available,
                .init = docker_init,
                .busy = docker_busy,
        };

        /* The worker core matches routes; each one's endpoint is found by
         * its index. */
        if (docker_n_endpoints > ELEMENTSOF(routes))
                return 1;
        for (size_t i = 0; i < docker_n_endpoints; i++)
                routes[i] = docker_endpoints[i].route;
        return worker_main(argc, argv, &def);
}
