/* SPDX-License-Identifier: MIT */
/* tailkitctl sd: the tailnet's online peers as Prometheus service discovery
 * (the JSON that file_sd_configs reads and http_sd_configs serves), one
 * target group per node, so a Prometheus on the tailnet follows the fleet:
 *
 *   [{"targets": ["100.64.0.7:80"],
 *     "labels": {"__metrics_path__": "/integrations/metrics/prometheus",
 *                "tailnet_hostname": "web-1", "tailnet_dns_name": "web-1.example.ts.net",
 *                "tailnet_tags": ",tag:web,"}}]
 *
 * Tags are joined with a comma before and after each, Prometheus' own
 * convention for lists in labels (`tailnet_tags=~".*,tag:web,.*"`). */

#include "api.h"
#include "args.h"
#include "fleet.h"
#include "localapi-status.h"
#include "macro.h"

#define SD_METRICS_PATH "/integrations/metrics/prometheus"

static json_object *target_group(const Peer *p, unsigned port) {
        _cleanup_free_ char *target = NULL, *tags = NULL;
        json_object *g, *labels, *targets;
        size_t size = 0;
        FILE *f;

        /* IPv6 addresses need brackets before the port. */
        if (asprintf(&target, strchr(p->ip, ':') ? "[%s]:%u" : "%s:%u", p->ip, port) < 0)
                return NULL;
        f = open_memstream(&tags, &size);
        if (!f)
                return NULL;
        for (size_t j = 0; j < p->n_tags; j++)
                fprintf(f, ",%s", p->tags[j]);
        fputs(p->n_tags > 0 ? "," : "", f);
        if (fclose(f) != 0)
                return NULL;

        g = json_object_new_object();
        labels = json_object_new_object();
        targets = json_object_new_array();
        if (!g || !labels || !targets) {
                json_object_put(g);
                json_object_put(labels);
                json_object_put(targets);
                return NULL;
        }
        json_object_array_add(targets, json_object_new_string(target));
        json_object_object_add(g, "targets", targets);
        json_object_object_add(labels, "__metrics_path__", json_object_new_string(SD_METRICS_PATH));
        json_object_object_add(labels, "tailnet_hostname", json_object_new_string(strempty(p->hostname)));
        json_object_object_add(labels, "tailnet_dns_name", json_object_new_string(strempty(p->dns_name)));
        json_object_object_add(labels, "tailnet_tags", json_object_new_string(tags));
        json_object_object_add(g, "labels", labels);
        return g;
}

int cmd_sd(Ctx *c, int argc, char **argv) {
        _cleanup_(peer_list_done) PeerList peers = {};
        _cleanup_free_ char *error = NULL;
        json_object *groups;
        Args a;
        int r;

        r = args_parse(c, "sd", argc, argv, NULL, 0, &a);
        if (r != 0)
                return r;
        if (a.n > 0)
                return command_usage_error(c, "sd", "no arguments expected");
        r = localapi_status(c->opt->socket, &peers, &error);
        if (r < 0) {
                fprintf(c->err, "error: %s\n", error ?: strerror(-r));
                return EXIT_UNREACHABLE;
        }
        groups = json_object_new_array();
        if (!groups)
                return EXIT_FAILURE_LOCAL;
        for (size_t i = 0; i < peers.n; i++) {
                const Peer *p = &peers.peers[i];
                json_object *g;

                /* Offline nodes and those without an address cannot be scraped. */
                if (!p->online || isempty(p->ip) || !peer_matches(c->opt, p))
                        continue;
                g = target_group(p, c->opt->port ?: 80);
                if (!g) {
                        json_object_put(groups);
                        return EXIT_FAILURE_LOCAL;
                }
                json_object_array_add(groups, g);
        }
        print_json(c, groups);
        json_object_put(groups);
        return 0;
}
