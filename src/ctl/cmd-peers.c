/* SPDX-License-Identifier: MIT */
/* tailkitctl peers: the local tailscaled's peers, as --all sees them. */

#include "api.h"
#include "args.h"
#include "fleet.h"
#include "localapi-status.h"
#include "macro.h"
#include "table.h"

int cmd_peers(Ctx *c, int argc, char **argv) {
        _cleanup_(peer_list_done) PeerList peers = {};
        _cleanup_(table_freep) Table *t = table_new("NAME", "ADDRESS", "ONLINE", "TAGS", NULL);
        _cleanup_free_ char *error = NULL;
        Args a;
        int r;

        r = args_parse(c, "peers", argc, argv, NULL, 0, &a);
        if (r != 0)
                return r;
        if (a.n > 0)
                return command_usage_error(c, "peers", "no arguments expected");
        r = localapi_status(c->opt->socket, &peers, &error);
        if (r < 0) {
                fprintf(c->err, "error: %s\n", error ?: strerror(-r));
                return EXIT_UNREACHABLE;
        }
        if (!t)
                return EXIT_FAILURE_LOCAL;
        json_object *arr = c->opt->json ? json_object_new_array() : NULL;
        for (size_t i = 0; i < peers.n; i++) {
                const Peer *p = &peers.peers[i];
                _cleanup_free_ char *tags = NULL;
                size_t size = 0;
                FILE *f;

                if (!peer_matches(c->opt, p))
                        continue;
                f = open_memstream(&tags, &size);
                if (!f)
                        return EXIT_FAILURE_LOCAL;
                for (size_t j = 0; j < p->n_tags; j++)
                        fprintf(f, "%s%s", j ? "," : "", p->tags[j]);
                fclose(f);
                if (arr) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "name", json_object_new_string(p->hostname));
                        json_object_object_add(o, "dns_name", json_object_new_string(p->dns_name));
                        json_object_object_add(o, "address", p->ip ? json_object_new_string(p->ip) : NULL);
                        json_object_object_add(o, "online", json_object_new_boolean(p->online));
                        json_object_object_add(o, "tags", json_object_new_string(tags));
                        json_object_array_add(arr, o);
                } else
                        table_add(t, p->hostname, p->ip, p->online ? "yes" : "no", size ? tags : "-");
        }
        if (arr) {
                print_json(c, arr);
                json_object_put(arr);
        } else
                table_print(t, c->out);
        return 0;
}
