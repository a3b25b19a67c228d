/* SPDX-License-Identifier: MIT */
/* A cap value (the JSON array of grant objects) as the policy sends it. */
#include <json-c/json.h>

#include "caps.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok = json_tokener_new_ex(64);
        json_object *v;

        if (!tok)
                return 0;
        v = json_tokener_parse_ex(tok, (const char *) data, (int) size);
        if (json_tokener_get_error(tok) == json_tokener_success) {
                char *domains[] = { (char *) "tailscale.com" };
                int r = cap_value_allows(v, CAP_READ), w = cap_value_allows(v, CAP_WRITE);
                json_object *capmap = json_object_new_object();

                if (r < 0 != (w < 0))
                        abort();        /* a malformed value denies both */
                json_object_object_add(capmap, "tailscale.com/cap/tailkitd-vars", json_object_get(v));
                if (caps_allow(capmap, domains, 1, "vars", CAP_READ, NULL) != (r > 0))
                        abort();
                json_object_put(capmap);
        }
        json_object_put(v);
        json_tokener_free(tok);
        return 0;
}
