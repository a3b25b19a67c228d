/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>

#include "config.h"
#include "localapi-status.h"
#include "macro.h"
#include "node.h"
#include "paths.h"

void target_done(Target *t) {
        free(t->name);
        free(t->host);
        *t = (Target) {};
}

static bool is_ip(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int parse_port(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (!*s || *end || errno || v == 0 || v > 65535 || *s == '-' || *s == '+')
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int parse_host_port(const char *spec, unsigned default_port, char **ret_host, unsigned *ret_port) {
        const char *colon;
        unsigned port = default_port;
        char *host;

        if (spec[0] == '[') {
                const char *close = strchr(spec, ']');
                if (!close || (close[1] && close[1] != ':'))
                        return -EINVAL;
                if (close[1] == ':' && parse_port(close + 2, &port) < 0)
                        return -EINVAL;
                host = strndup(spec + 1, (size_t) (close - spec - 1));
        } else if ((colon = strchr(spec, ':')) && !strchr(colon + 1, ':')) {
                if (parse_port(colon + 1, &port) < 0)
                        return -EINVAL;
                host = strndup(spec, (size_t) (colon - spec));
        } else
                host = strdup(spec);    /* a name, an IPv4 or a bare IPv6 */
        if (!host)
                return -ENOMEM;
        if (!*host || strpbrk(host, "/?#@ \t\r\n")) {
                free(host);
                return -EINVAL;
        }
        *ret_host = host;
        *ret_port = port;
        return 0;
}

int target_resolve(const Options *opt, Target *ret) {
        const char *spec = opt->node ?: getenv("TAILKITCTL_NODE");
        _cleanup_free_ char *host = NULL, *error = NULL;
        _cleanup_(peer_list_done) PeerList peers = {};
        unsigned port;
        const Peer *p;

        if (isempty(spec))
                spec = "127.0.0.1";
        if (parse_host_port(spec, opt->port, &host, &port) < 0) {
                fprintf(stderr, "tailkitctl: invalid --node \"%s\" (NAME, IP, NAME:PORT, IP:PORT or [IPv6]:PORT)\n", spec);
                return EXIT_USAGE;
        }
        ret->port = port;
        if (is_ip(host) || streq(host, "localhost")) {
                ret->name = strdup(spec);
                ret->host = TAKE_PTR(host);
                return ret->name ? 0 : EXIT_FAILURE_LOCAL;
        }
        /* A tailnet name: the peer's own address, so MagicDNS need not be on. */
        if (localapi_status(opt->socket, &peers, &error) >= 0 && (p = peer_list_find(&peers, host)) && p->ip) {
                ret->name = strdup(host);
                ret->host = strdup(p->ip);
        } else {
                ret->name = strdup(host);
                ret->host = TAKE_PTR(host);
        }
        return ret->name && ret->host ? 0 : EXIT_FAILURE_LOCAL;
}

char *localapi_default_socket(void) {
        DaemonConfig cfg = {};
        ConfigErrors errors = {};
        char *s;

        /* An unreadable or invalid tailkitd.conf still leaves the default. */
        (void) daemon_config_load(config_dir(), &cfg, &errors);
        s = strdup(cfg.tailscale_socket ?: "/var/run/tailscale/tailscaled.sock");
        daemon_config_done(&cfg);
        config_errors_done(&errors);
        return s;
}
