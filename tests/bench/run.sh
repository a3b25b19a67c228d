#!/usr/bin/env bash
# Boots the system-test container with a build installed (like the system
# tests) and runs the benchmark scripts inside it, under the real systemd.
#   tests/bench/run.sh [SCRIPT...]   (default: activation.py)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out="$top/build-bench"
name=tailkitd-bench
scripts=("$@")
((${#scripts[@]})) || scripts=(activation.py)

scripts/install-deps.sh
[ -f "$out/build/build.ninja" ] || meson setup "$out/build" --prefix=/usr -Dunitdir=/usr/lib/systemd/system >/dev/null
ninja -C "$out/build" >/dev/null
rm -rf "$out/stage"
DESTDIR="$out/stage" meson install -C "$out/build" --quiet >/dev/null

tests/system/rootfs.sh >/dev/null
trap 'tests/system/container.sh stop "$name" >/dev/null 2>&1 || true' EXIT
tests/system/container.sh start "$name" "$out/stage" "$top/tests" >/dev/null
inside() { tests/system/container.sh exec "$name" "$@"; }
inside sh -c 'cp -a /mnt/stage/. / && systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload'
inside /mnt/tests/system/setup-in-container.sh
inside cp /mnt/tests/integration/data/devbox.json /etc/tailkitd/tools/
inside systemd-run --quiet --unit=fake-tailscaled -p Type=exec \
  /usr/bin/python3 /mnt/tests/fake-tailscaled/fake-tailscaled --socket /run/tailscale/tailscaled.sock
sleep 1
for s in "${scripts[@]}"; do
  echo "== $s"
  inside /usr/bin/python3 "/mnt/tests/bench/$s"
done
