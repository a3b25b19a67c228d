/* SPDX-License-Identifier: MIT */
#pragma once

/* Caller identity from tailscaled's LocalAPI (SPEC §1.1):
 * GET /localapi/v0/whois?addr=<ip:port> over its unix socket, Host
 * local-tailscaled.sock, 2 s deadline. Never from request headers. */

#include <stddef.h>
#include <sys/socket.h>

#include <json-c/json.h>

#define WHOIS_TIMEOUT_MS 2000
#define WHOIS_BODY_MAX (1024 * 1024)

typedef struct Whois {
        char *name;          /* Node.ComputedName, else Hostinfo.Hostname, else Node.Name */
        char *login;         /* UserProfile.LoginName */
        char *stable_id;     /* Node.StableID */
        char *tags;          /* "tag:a,tag:b" or NULL when not tagged */
        json_object *capmap; /* top-level CapMap (NULL when null/absent); owned */
} Whois;

Whois *whois_free(Whois *w);
static inline void whois_freep(Whois **w) {
        whois_free(*w);
}

/* Parses a 200 whois body. -EBADMSG on invalid JSON or a missing Node. */
int whois_parse(const char *body, size_t len, Whois **ret);

/* "ip:port" for the LocalAPI: IPv4-mapped IPv6 unmapped, IPv6 bracketed. */
int whois_format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* Resolves the peer. Returns 0 and *ret on success; -ENXIO when tailscaled
 * does not know the address (not a tailnet peer); -ECONNREFUSED / -ENOENT /
 * -ETIMEDOUT / -EPROTO / -EBADMSG when the LocalAPI is unusable, with a short
 * human description in *detail (caller frees). */
int whois_lookup(const char *socket_path, const char *addr, Whois **ret, char **detail);

/* Once per process, before threads. */
int whois_global_init(void);
