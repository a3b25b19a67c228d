/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Which integration worker serves a path (SPEC §4): the dispatcher routes
 * by it, and a worker refuses (421) a later request on a kept-alive
 * connection that belongs to another. Matching is by whole
 * path segments: "/tools" and "/tools/x" go to tools, "/toolsx" nowhere.
 * Returns the integration name or NULL. */
const char *route_integration(const char *path, size_t len);

/* Human-readable list of the served prefixes, for 404 hints. */
extern const char route_prefix_list[];
