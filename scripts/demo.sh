#!/usr/bin/env bash
# Boots tailkitd for real: the build is installed into a Debian bookworm
# container whose PID 1 is systemd, configured with a demo config, and started
# only by `systemctl enable --now tailkitd.socket`. There is no tailscaled in
# Debian, so the container runs tests/fake-tailscaled on the LocalAPI socket;
# loopback addresses play the peers (127.0.0.2 alice-laptop with every cap,
# 127.0.0.4 a peer without caps, 127.0.0.99 not a peer).
#
# It shows requests being answered, processes appearing and exiting when idle,
# and the audit trail in the journal. Interactive: it then waits for Enter
# before stopping the container; otherwise it stops at once.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out="$top/build-demo"
name=tailkitd-demo

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
inside() { tests/system/container.sh exec "$name" "$@"; }

say "Installing dependencies"
scripts/install-deps.sh

say "Building"
[ -f "$out/build/build.ninja" ] || meson setup "$out/build" --prefix=/usr -Dunitdir=/usr/lib/systemd/system >/dev/null
ninja -C "$out/build" >/dev/null
rm -rf "$out/stage"
DESTDIR="$out/stage" meson install -C "$out/build" --quiet >/dev/null

say "Preparing the container (a cached Debian rootfs; the first run takes about a minute)"
tests/system/rootfs.sh >/dev/null
trap 'tests/system/container.sh stop "$name" >/dev/null 2>&1 || true' EXIT
tests/system/container.sh start "$name" "$out/stage" "$top/tests" >/dev/null

say "Installing tailkitd into it, with a demo config"
inside sh -c 'cp -a /mnt/stage/. / && systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload'
inside sh -c 'cat > /etc/tailkitd/tailkitd.conf <<CONF
[caps]
domains = ["example.com"]

[server]
idle_timeout = 5
CONF
cp /mnt/tests/integration/data/devbox.json /etc/tailkitd/tools/devbox.json
printf "[[scope]]\nproject = \"myapp\"\nread = true\nwrite = true\n" > /etc/tailkitd/vars.toml
mkdir -p /etc/systemd/system/tailkitd.socket.d
printf "[Socket]\nBindToDevice=\n" > /etc/systemd/system/tailkitd.socket.d/demo.conf
systemd-run --quiet --unit=fake-tailscaled -p Type=exec \
  /usr/bin/python3 /mnt/tests/fake-tailscaled/fake-tailscaled --socket /run/tailscale/tailscaled.sock
systemctl daemon-reload'
inside tailkitd --check-config

say "systemctl enable --now tailkitd.socket"
inside systemctl enable --now tailkitd.socket
inside systemctl list-sockets --no-pager 'tailkitd*'
echo "tailkitd processes before the first request: $(inside pgrep -c -f 'tailkitd-' || true)"

demo_request() { # SRC PATH
  printf '\n$ curl --interface %s http://127.0.0.1%s\n' "$1" "$2"
  inside curl -sS --interface "$1" -w '  → HTTP %{http_code} in %{time_total}s\n' "http://127.0.0.1$2" || true
}
demo_request 127.0.0.2 /health
demo_request 127.0.0.2 /tools
demo_request 127.0.0.2 /tools/devbox
demo_request 127.0.0.4 /tools
demo_request 127.0.0.99 /tools
printf '\n$ curl --interface 127.0.0.2 -X PUT --data-binary "postgres://db/app" http://127.0.0.1/vars/myapp/prod/DATABASE_URL\n'
inside curl -sS --interface 127.0.0.2 -X PUT --data-binary "postgres://db/app" http://127.0.0.1/vars/myapp/prod/DATABASE_URL
demo_request 127.0.0.2 '/vars/myapp/prod?format=env'
demo_request 127.0.0.2 /vars/myapp/prod/lowercase

say "Started on demand"
inside systemctl --no-pager --lines=0 status tailkitd.service 'tailkitd@tools.service' 'tailkitd@vars.service' | grep -E '●|Active|Main PID' || true

say "Idle for 5 s: every process exits, the sockets stay"
sleep 7
inside systemctl show -p Id -p ActiveState -p MainPID tailkitd.service tailkitd@tools.service tailkitd@vars.service tailkitd.socket
echo "tailkitd processes now: $(inside pgrep -c -f 'tailkitd-' || true)"

say "The audit trail: journalctl TAILKITD_COMPONENT=tools + TAILKITD_COMPONENT=vars"
inside journalctl --no-pager -o cat TAILKITD_COMPONENT=tools + TAILKITD_COMPONENT=vars -n 30

if [ -t 0 ]; then
  say "tailkitd is running in the container '$name' (port 80 in its own network namespace)."
  echo "Try: tests/system/container.sh exec $name curl -s --interface 127.0.0.2 http://127.0.0.1/tools"
  read -r -p "Press Enter to stop it. " _
fi
say "Stopping"
