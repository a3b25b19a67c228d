/* SPDX-License-Identifier: MIT */
#pragma once

/* The local tailscaled's peer list: GET /localapi/v0/status through
 * localapi_get() (the same transport as whois.c), parsed leniently.
 * tailkitctl names nodes and fans out (--all) with it. */

#include <stdbool.h>
#include <stddef.h>

#define LOCALAPI_STATUS_MAX (32u * 1024 * 1024)
#define LOCALAPI_TIMEOUT_MS 5000L

typedef struct Peer {
        char *hostname;           /* HostName */
        char *dns_name;           /* DNSName without the trailing dot */
        char *ip;                 /* first IPv4 of TailscaleIPs, else the first */
        char **tags;
        size_t n_tags;
        bool online;
} Peer;

typedef struct PeerList {
        Peer *peers;              /* sorted by hostname */
        size_t n;
        char *self_hostname;
        char *backend_state;
} PeerList;

void peer_list_done(PeerList *l);

/* 0, or a negative errno with *error saying why (caller frees). */
int localapi_status(const char *socket_path, PeerList *ret, char **error);

/* Parses a status body (exposed for tests). */
int localapi_parse_status(const char *body, size_t len, PeerList *ret);

/* The peer called name: HostName, the first label of DNSName, or
 * "tailkitd-<name>" (the Go client's naming). NULL if none. */
const Peer *peer_list_find(const PeerList *l, const char *name);
