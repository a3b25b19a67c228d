/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <strings.h>

#include "caps.h"
#include "macro.h"

/* Returns 1/0 for the element's flag, -EBADMSG when the element is malformed. */
static int element_allows(json_object *element, const char *flag) {
        int found = 0;

        if (!element)                /* null element: an empty object */
                return 0;
        if (!json_object_is_type(element, json_type_object))
                return -EBADMSG;

        json_object_object_foreach(element, key, val) {
                if (strcasecmp(key, "read") != 0 && strcasecmp(key, "write") != 0)
                        continue;    /* unknown fields are ignored, as in Go */
                if (val && !json_object_is_type(val, json_type_boolean))
                        return -EBADMSG;
                if (strcasecmp(key, flag) == 0 && val && json_object_get_boolean(val))
                        found = 1;
        }
        return found;
}

int cap_value_allows(json_object *value, CapAccess access) {
        const char *flag = access == CAP_WRITE ? "write" : "read";
        int allowed = 0;
        size_t n;

        if (!value)
                return 0;
        if (!json_object_is_type(value, json_type_array))
                return -EBADMSG;

        n = json_object_array_length(value);
        /* Check every element before answering: one bad element denies the
         * whole cap, whatever the others say. */
        for (size_t i = 0; i < n; i++) {
                int r = element_allows(json_object_array_get_idx(value, i), flag);
                if (r < 0)
                        return r;
                if (r > 0)
                        allowed = 1;
        }
        return allowed;
}

bool caps_allow(json_object *capmap, char *const *domains, size_t n_domains,
                const char *feature, CapAccess access, char **ret_malformed) {
        bool allowed = false;

        if (ret_malformed)
                *ret_malformed = NULL;
        if (access == CAP_NONE)
                return true;
        if (!capmap || !json_object_is_type(capmap, json_type_object))
                return false;

        for (size_t i = 0; i < n_domains; i++) {
                _cleanup_free_ char *name = NULL;
                json_object *value;
                int r;

                if (asprintf(&name, "%s/cap/tailkitd-%s", domains[i], feature) < 0)
                        return false;
                if (!json_object_object_get_ex(capmap, name, &value))
                        continue;
                r = cap_value_allows(value, access);
                if (r < 0) {
                        if (ret_malformed && !*ret_malformed)
                                *ret_malformed = TAKE_PTR(name);
                } else if (r > 0)
                        allowed = true;
        }
        return allowed;
}

bool caps_has(json_object *capmap, const char *name) {
        return capmap && json_object_is_type(capmap, json_type_object) &&
               json_object_object_get_ex(capmap, name, NULL);
}
