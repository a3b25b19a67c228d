#!/usr/bin/env bash
# Boots tailkitd for real: the build is installed into a Debian bookworm
# container whose PID 1 is systemd, configured with a demo config, and started
# only by `systemctl enable --now tailkitd.socket`. There is no tailscaled in
# Debian, so the container runs tests/fake-tailscaled on the LocalAPI socket;
# loopback addresses play the peers (127.0.0.2 alice-laptop with every cap,
# 127.0.0.4 a peer without caps, 127.0.0.99 not a peer).
#
# It shows every integration answering tailkitctl (tools, exec, vars, files,
# units and the journal, metrics, docker when the container has dockerd),
# processes appearing and exiting when idle, and the audit trail in the
# journal. Interactive: it then waits for Enter before stopping the
# container; otherwise it stops at once. TAILKITD_DEMO_OUT (default
# build-demo/) is where it builds; TAILKITD_DEMO_NAME names the container.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=${TAILKITD_DEMO_OUT:-$top/build-demo}
name=${TAILKITD_DEMO_NAME:-tailkitd-demo}

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
# tar, not cp -a: see tests/system/run.sh (merged /usr; file capabilities kept).
inside sh -c 'tar -C /mnt/stage --xattrs -cf - . |
    tar -C / --xattrs --xattrs-include="*" --keep-directory-symlink --no-overwrite-dir --same-owner -xpf - &&
  systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload'
inside sh -c 'cat > /etc/tailkitd/tailkitd.conf <<CONF
[caps]
domains = ["example.com"]

[server]
idle_timeout = 5
CONF
cp /mnt/tests/integration/data/devbox.json /etc/tailkitd/tools/devbox.json
printf "[[scope]]\nproject = \"myapp\"\nread = true\nwrite = true\n" > /etc/tailkitd/vars.toml
mkdir -p /srv/demo /etc/tailkitd/integrations && echo "hello from the node" > /srv/demo/motd.txt
printf "[[\"/srv/demo/\"]]\nread = true\nwrite = true\n" > /etc/tailkitd/files.toml
cp /mnt/tests/integration/data/systemd.toml /mnt/tests/integration/data/metrics.toml /etc/tailkitd/integrations/
printf "[Service]\nType=oneshot\nExecStart=/bin/echo the demo unit ran\n" > /etc/systemd/system/demo-hello.service
mkdir -p /etc/systemd/system/tailkitd.socket.d
printf "[Socket]\nBindToDevice=\n" > /etc/systemd/system/tailkitd.socket.d/demo.conf
systemd-run --quiet --unit=fake-tailscaled -p Type=exec \
  /usr/bin/python3 /mnt/tests/fake-tailscaled/fake-tailscaled --socket /run/tailscale/tailscaled.sock
systemctl daemon-reload'

# Docker only where the container has dockerd and the build has the docker
# worker: an image imported from busybox-static (no registry needed).
docker_demo=0
if [ -x "$out/stage/usr/libexec/tailkitd/tailkitd-docker" ] && inside test -x /usr/sbin/dockerd; then
  docker_demo=1
  # shellcheck disable=SC2016 # expanded by the container's sh
  inside sh -c 'systemctl start docker.service &&
    mkdir -p /tmp/bb/bin && cp /bin/busybox /tmp/bb/bin/ &&
    for a in sh sleep echo; do ln -sf busybox /tmp/bb/bin/$a; done &&
    tar -C /tmp/bb -c . | docker import -c "CMD [\"/bin/sh\"]" - demo/busybox >/dev/null &&
    docker run -d --network none --name demo-web demo/busybox \
      sh -c "echo serving; trap \"exit 0\" TERM; sleep 1000 & wait" >/dev/null &&
    printf "[permissions]\ncontainers_read = true\ncontainers_write = true\nimages_read = true\n" \
      > /etc/tailkitd/integrations/docker.toml'
fi
inside tailkitd --check-config

say "systemctl enable --now tailkitd.socket"
inside systemctl enable --now tailkitd.socket
inside systemctl list-sockets --no-pager 'tailkitd*'
echo "tailkitd processes before the first request: $(inside pgrep -c -f 'tailkitd-' || true)"

# tailkitctl inside the container. ALICE (127.0.0.2) is the fake tailscaled's
# alice-laptop, with every cap: what she runs must succeed.
ALICE=127.0.0.2
shown() { # prints "$ tailkitctl ARGS" with the quoting a shell would need
  local a out='$ tailkitctl'
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '\n%s\n' "$out"
}
ctl() {
  shown "$@"
  inside tailkitctl --source "$ALICE" "$@"
}
# SRC STATUS ARGS...: as that peer; must fail with that exit status (tailkitctl(1)).
ctl_fails() {
  local src=$1 want=$2 rc=0
  shift 2
  if [ "$src" = "$ALICE" ]; then shown "$@"; else shown --source "$src" "$@"; fi
  inside tailkitctl --source "$src" "$@" || rc=$?
  echo "  → exit status $rc"
  [ "$rc" -eq "$want" ] || { echo "demo: expected exit status $want" >&2; return 1; }
}

say "tailkitctl: who answers, and who may ask (every command below runs as alice-laptop: --source 127.0.0.2)"
ctl health
ctl --json health
ctl_fails 127.0.0.4 5 tools     # a peer without caps: 403
ctl_fails 127.0.0.99 4 tools    # not a tailnet peer: 401

say "Tools: install one without Go, run it at once"
inside sh -c 'cat > /root/hello.json <<JSON
{"name": "hello", "version": "1.0.0", "tsnet_host": "hello",
 "commands": [{"name": "greet", "description": "greets someone", "acl_cap": "tailscale.com/cap/devbox",
               "exec_parts": ["/bin/echo", "hello,", "{{.name}}"], "timeout": 10000000000,
               "args": [{"name": "name", "type": "string", "required": true, "pattern": "^[a-z]+$"}]}]}
JSON'
ctl install-tool /root/hello.json
ctl tools
ctl tools hello
ctl exec hello greet name=world --wait
ctl_fails "$ALICE" 8 exec hello greet 'name=Robert; rm -rf /'   # the pattern refuses it: 400

say "Vars"
ctl vars set myapp prod DATABASE_URL 'postgres://db/app'
# shellcheck disable=SC2016 # a literal $HOME: the store keeps it as it is
ctl vars set myapp prod GREETING 'hello "world" $HOME'
ctl vars get myapp prod
ctl vars env myapp prod
ctl_fails "$ALICE" 8 vars set myapp prod lowercase x            # not a valid key: 400

say "Files"
inside sh -c 'seq 1 1000 > /root/report.txt'
ctl files send /root/report.txt /srv/demo/report.txt
ctl files ls /srv/demo/
ctl files get /srv/demo/motd.txt
ctl_fails "$ALICE" 5 files get /etc/shadow                        # outside files.toml: 403

say "systemd: units and the journal"
ctl units file demo-hello.service
ctl units start demo-hello.service --wait
ctl journal demo-hello.service -n 4

say "Metrics"
ctl metrics host
ctl metrics memory

if [ "$docker_demo" = 1 ]; then
  say "Docker"
  ctl docker ps
  ctl docker logs demo-web
  ctl docker images
  ctl docker stop demo-web --wait
  ctl docker ps
fi

say "Started on demand"
inside systemctl --no-pager --lines=0 status tailkitd.service 'tailkitd@*.service' | grep -E '●|Active|Main PID' || true

say "Idle for 5 s: every process exits, the sockets stay"
sleep 7
inside systemctl list-units --no-pager --all 'tailkitd*' 
echo "tailkitd processes now: $(inside pgrep -c -f 'tailkitd-' || true)"

say "The audit trail: journalctl TAILKITD_COMPONENT=exec + TAILKITD_COMPONENT=vars + TAILKITD_COMPONENT=files"
inside journalctl --no-pager -o cat TAILKITD_COMPONENT=exec + TAILKITD_COMPONENT=vars + TAILKITD_COMPONENT=files -n 30

if [ -t 0 ]; then
  say "tailkitd is running in the container '$name' (port 80 in its own network namespace)."
  echo "Try: tests/system/container.sh exec $name tailkitctl --source 127.0.0.2 metrics"
  read -r -p "Press Enter to stop it. " _
fi
say "Stopping"
