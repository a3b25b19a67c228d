/* SPDX-License-Identifier: MIT */
#include "macro.h"
#include "store.h"
#include "vars.h"

/* A PUT body is the value (1 MiB once decoded) as JSON at its most escaped
 * (6 bytes per byte, "\u0001"), plus room for the wrapping. What many such
 * bodies may hold at once is bounded in vars_available(). */
#define PUT_BODY_MAX (6 * VARS_VALUE_MAX + 4096)

const Route vars_routes[] = {
        { "GET",    "/vars",       CAP_READ,  0,            false, vars_list         },
        { "GET",    "/vars/*/*",   CAP_READ,  0,            false, vars_scope_get    },
        { "DELETE", "/vars/*/*",   CAP_WRITE, 0,            false, vars_scope_delete },
        { "GET",    "/vars/*/*/*", CAP_READ,  0,            false, vars_key_get      },
        { "PUT",    "/vars/*/*/*", CAP_WRITE, PUT_BODY_MAX, false, vars_key_put      },
        { "DELETE", "/vars/*/*/*", CAP_WRITE, 0,            false, vars_key_delete   },
};

const size_t vars_n_routes = ELEMENTSOF(vars_routes);
