/* SPDX-License-Identifier: MIT */
#include "macro.h"
#include "tools.h"

const Route tools_routes[] = {
        { "GET", "/tools",   CAP_READ, 0, false, tools_list },
        { "GET", "/tools/*", CAP_READ, 0, false, tools_get  },
        /* /health needs identity only (SPEC §1.5). */
        { "GET", "/health",  CAP_NONE, 0, true,  health_get },
};

const size_t tools_n_routes = ELEMENTSOF(tools_routes);
