/* SPDX-License-Identifier: MIT */
/* tailkitctl health: GET /health. */

#include "api.h"
#include "args.h"
#include "json-util.h"
#include "macro.h"

int cmd_health(Ctx *c, int argc, char **argv) {
        _cleanup_(json_object_putp_) json_object *o = NULL;
        Args a;
        int r;

        r = args_parse(c, "health", argc, argv, NULL, 0, &a);
        if (r != 0)
                return r;
        if (a.n > 0)
                return command_usage_error(c, "health", "no arguments expected");
        r = api_get_json(c, "/health", &o);
        if (r != 0)
                return r;
        if (c->opt->json)
                print_json(c, o);
        else
                fprintf(c->out, "%s %s\n", strna(json_str(o, "status")), strna(json_str(o, "hostname")));
        return 0;
}
