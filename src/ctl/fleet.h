/* SPDX-License-Identifier: MIT */
#pragma once

/* --all: a command on every online peer of the local tailscaled (optionally
 * only those with a --tag or whose name matches --match), --parallel at a
 * time, each within the per-node --timeout. A peer where nothing listens is
 * skipped (the tailnet has laptops and phones too); every other failure is
 * one error result. One result per node, in name order. */

#include "ctl.h"
#include "localapi-status.h"

#define FLEET_PARALLEL_DEFAULT 10
#define FLEET_TIMEOUT_MS_DEFAULT 10000

int fleet_run(const Options *opt, const Command *cmd, int argc, char **argv);

/* Whether --tag (any of them) and --match (the hostname or the first label of
 * the MagicDNS name) select the peer; also for `peers` and `sd`. */
bool peer_matches(const Options *opt, const Peer *p);
