/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"

int json_parse_strict(const char *data, size_t len, json_object **ret) {
        json_tokener *tok;
        json_object *o;
        size_t end;
        bool ok;

        *ret = NULL;
        if (len > INT_MAX)
                return -EBADMSG;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, data ?: "", (int) len);
        ok = json_tokener_get_error(tok) == json_tokener_success;
        end = ok ? json_tokener_get_parse_end(tok) : 0;
        json_tokener_free(tok);
        if (!ok) {
                json_object_put(o);
                return -EBADMSG;
        }
        for (; end < len; end++)
                if (!strchr(" \t\r\n", data[end]) || data[end] == 0) {
                        json_object_put(o);
                        return -EBADMSG;
                }
        *ret = o;
        return 0;
}
