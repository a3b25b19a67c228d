#!/bin/bash
# tests/system/setup-in-container.sh — runs INSIDE the system-test container
# (as root, from tests/system/run.sh, after the staged build was installed):
# prepares the installed tailkitd for the integration tests and starts it.
#
# First version: the container has no tailscale0 interface, so drop the
# socket's BindToDevice=, then enable and start tailkitd.socket.

set -euo pipefail

log() { printf 'setup-in-container.sh: %s\n' "$*" >&2; }

mkdir -p /etc/systemd/system/tailkitd.socket.d
printf '[Socket]\nBindToDevice=\n' >/etc/systemd/system/tailkitd.socket.d/test.conf
systemctl daemon-reload
systemctl enable --now tailkitd.socket
log "tailkitd.socket is $(systemctl is-active tailkitd.socket)"
