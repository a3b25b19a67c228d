/* SPDX-License-Identifier: MIT */
/* tailkitd-tools: the tool registry worker (GET /tools, /tools/{name}, /health). */

#include "tools.h"

static const WorkerDefinition definition = {
        .name = "tools",
        .routes = tools_routes,
        .n_routes = 0,  /* set below: ELEMENTSOF is not constant across units */
};

int main(int argc, char *argv[]) {
        WorkerDefinition def = definition;

        def.n_routes = tools_n_routes;
        return worker_main(argc, argv, &def);
}
