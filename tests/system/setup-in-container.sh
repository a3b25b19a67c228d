#!/bin/bash
# tests/system/setup-in-container.sh — runs INSIDE the system-test container
# (as root, from tests/system/run.sh, after the staged build was installed):
# gives the installed tailkitd the test configuration and starts it exactly as
# an operator would, with `systemctl enable --now tailkitd.socket`.
#
# - The container has no tailscale0: a drop-in clears BindToDevice=, so the
#   socket listens on port 80 of the container's own network namespace.
# - tailkitd.conf accepts caps under example.com too (fixture 127.0.0.5) and
#   keeps processes for 60 s when idle; the idle-exit test shortens it itself;
#   request_timeout = 5 (conftest.REQUEST_TIMEOUT) for the deadline tests.
# - The LocalAPI is the fake tailscaled, started by the tests themselves on
#   the default socket /run/tailscale/tailscaled.sock.

set -euo pipefail

log() { printf 'setup-in-container.sh: %s\n' "$*" >&2; }

mkdir -p /etc/systemd/system/tailkitd.socket.d /etc/tailkitd/tools
printf '[Socket]\nBindToDevice=\n' >/etc/systemd/system/tailkitd.socket.d/test.conf
cat >/etc/tailkitd/tailkitd.conf <<'CONF'
[caps]
domains = ["example.com"]

[server]
idle_timeout = 60
request_timeout = 5
CONF
cp /mnt/tests/integration/data/vars.toml /etc/tailkitd/vars.toml
mkdir -p /etc/tailkitd/integrations
cp /mnt/tests/integration/data/metrics.toml /etc/tailkitd/integrations/metrics.toml
cp /mnt/tests/integration/data/systemd.toml /etc/tailkitd/integrations/systemd.toml
systemctl daemon-reload
systemctl enable --now tailkitd.socket
log "tailkitd.socket is $(systemctl is-active tailkitd.socket)"
