/* SPDX-License-Identifier: MIT */
#include "macro.h"
#include "tools.h"

const Route tools_routes[] = {
        { "GET", "/tools",   CAP_READ, 0, false, tools_list },
        { "GET", "/tools/*", CAP_READ, 0, false, tools_get  },
        /* /health needs identity only (SPEC §1.5). */
        { "GET", "/health",  CAP_NONE, 0, true,  health_get },
        /* The dispatcher sends these here when that integration's worker is
         * not installed (SPEC §1.5: the Go client asks before using one). */
        { "GET", "/integrations/*/available", CAP_NONE, 0, true, integration_absent_get },
};

const size_t tools_n_routes = ELEMENTSOF(tools_routes);
