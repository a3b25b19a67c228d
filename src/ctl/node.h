/* SPDX-License-Identifier: MIT */
#pragma once

/* Which node a command talks to: --node NAME|IP[:PORT], else
 * $TAILKITCTL_NODE, else the local tailkitd at 127.0.0.1. A NAME is looked up
 * in the local tailscaled's peer list (HostName, MagicDNS label, or
 * tailkitd-NAME) and otherwise left to the resolver (MagicDNS). */

#include "ctl.h"

/* 0, or an exit code after printing why on stderr. */
int target_resolve(const Options *opt, Target *ret);

/* Splits "host", "host:port", "[v6]:port", "v6" into host and port. */
int parse_host_port(const char *spec, unsigned default_port, char **ret_host, unsigned *ret_port);

/* The LocalAPI socket names and --all use: tailkitd.conf's [tailscale] socket. */
char *localapi_default_socket(void);
