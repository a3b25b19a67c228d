/* SPDX-License-Identifier: MIT */
/* GET /health: identity only; names the node so a client knows whom it reached. */

#include "macro.h"
#include "tools.h"

int health_get(Request *r) {
        char hostname[256] = "";
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        (void) gethostname(hostname, sizeof(hostname) - 1);
        json_object_object_add(o, "status", json_object_new_string("ok"));
        json_object_object_add(o, "hostname", json_object_new_string(hostname));
        return reply_json(r, 200, o);
}
