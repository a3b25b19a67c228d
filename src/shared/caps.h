/* SPDX-License-Identifier: MIT */
#pragma once

/* Tailscale app-capability evaluation (SPEC §1.3, tailscale-localapi.md §3).
 * A cap value is the concatenation of every matching grant's array; an
 * operation is allowed when ANY single element allows it. A malformed value
 * (not an array, an element that is not an object or null, "read"/"write" not
 * a boolean) makes the whole cap deny. Keys match case-insensitively, as Go's
 * encoding/json does. */

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

typedef enum CapAccess {
        CAP_NONE,    /* identity only (/health) */
        CAP_READ,
        CAP_WRITE,
} CapAccess;

/* 1 allowed, 0 denied, -EBADMSG malformed (deny). value may be NULL (absent). */
int cap_value_allows(json_object *value, CapAccess access);

/* Looks up "<domain>/cap/tailkitd-<feature>" for every accepted domain in the
 * whois CapMap and ORs the results. A malformed cap denies and is not
 * logged here: when ret_malformed is not NULL it receives the first such
 * cap's name (NULL when none), for the caller to log once per request —
 * one request may check several features, each under several domains, and
 * a hostile peer would otherwise write a journal line for every check. */
bool caps_allow(json_object *capmap, char *const *domains, size_t n_domains,
                const char *feature, CapAccess access, char **ret_malformed);

/* Key presence, like Go's PeerCapMap.HasCapability (for exec's acl_cap). */
bool caps_has(json_object *capmap, const char *name);
