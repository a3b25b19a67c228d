/* SPDX-License-Identifier: MIT */
/* Node-level answers that need identity only: GET /health names the node so
 * a client knows whom it reached; GET /integrations/{name}/available for an
 * integration whose worker is not installed here. */

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

int integration_absent_get(Request *r) {
        static const char *const optional[] = { "docker", "systemd", "metrics" };
        json_object *o;

        for (size_t i = 0; i < ELEMENTSOF(optional); i++) {
                if (!streq(r->args[0], optional[i]))
                        continue;
                o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "available", json_object_new_boolean(false));
                return reply_json(r, 200, o);
        }
        return reply_error(r, 404, "not found", "only docker, systemd and metrics have an availability probe");
}
