#!/bin/bash
# tests/system/rootfs.sh [DIR]
#
# Ensures a cached Debian bookworm root file system for the system tests of
# tailkitd (booted by tests/system/container.sh with systemd-nspawn).
#
# DIR defaults to /var/lib/tailkitd-test/rootfs-bookworm. The rootfs is built
# with `debootstrap --variant=minbase --include=<list> bookworm DIR <mirror>`
# into a temporary directory beside DIR and moved into place with rename(2)
# only once it is complete, so an interrupted build never leaves a half rootfs
# that a later run would take as complete. A stamp file inside the cache
# (DIR/.tailkitd-test-stamp) records a hash of the package list and of this
# script's recipe; the rootfs is rebuilt when the stamp is missing or differs.
#
# Environment:
#   TAILKITD_APT_ETC      where to read apt's sources (default /etc/apt; tests)
#   TAILKITD_TEST_MIRROR  Debian mirror URI (default: the first bookworm URI of
#                         the machine's apt sources, /etc/apt/sources.list.d/
#                         *.sources or *.list, or /etc/apt/sources.list; with
#                         none there, the build stops and says so)
#
# The cached tree is never modified by a test run: container.sh boots it with
# --volatile=overlay (writes go to a tmpfs). Prints how long it took.

set -euo pipefail

readonly DEFAULT_DIR=/var/lib/tailkitd-test/rootfs-bookworm
readonly SUITE=bookworm
readonly VARIANT=minbase
readonly STAMP_NAME=.tailkitd-test-stamp
# Bump when the post-debootstrap configuration below changes.
readonly RECIPE_VERSION=3
readonly PACKAGES=(
    systemd systemd-sysv dbus libpam-systemd procps iproute2
    python3 python3-pytest python3-requests
    libmicrohttpd12 libjson-c5 libinih1 libcurl4 libmnl0 libpcre2-8-0
    curl ca-certificates busybox-static
    docker.io docker-compose
    prometheus prometheus-node-exporter systemd-journal-remote
)

log() { printf 'rootfs.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    printf 'usage: %s [DIR]\n       %s --print-mirror\n' "${0##*/}" "${0##*/}" >&2
    exit 2
}

# Print the mirror URI to bootstrap from.
find_mirror() {
    if [[ -n "${TAILKITD_TEST_MIRROR:-}" ]]; then
        printf '%s\n' "$TAILKITD_TEST_MIRROR"
        return
    fi
    local uri="" f
    # deb822: take the URIs of the first stanza whose Suites has bookworm
    # itself (not only bookworm-security/-updates).
    local apt=${TAILKITD_APT_ETC:-/etc/apt}
    for f in "$apt"/sources.list.d/*.sources; do
        [[ -r "$f" && -z "$uri" ]] || continue
        uri=$(awk -v suite="$SUITE" '
            function flush() {
                if (!found && uris != "" && hassuite) { split(uris, u, " "); print u[1]; found = 1 }
                uris = ""; hassuite = 0
            }
            /^[[:space:]]*$/ { flush(); next }
            tolower($1) == "uris:" { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) hassuite = 1 }
            END { flush() }
        ' "$f")
    done
    for f in "$apt"/sources.list "$apt"/sources.list.d/*.list; do
        [[ -r "$f" && -z "$uri" ]] || continue
        uri=$(awk -v suite="$SUITE" '$1 == "deb" {
                i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; exit }
            }' "$f")
    done
    if [[ -z "$uri" ]]; then
        die "no Debian $SUITE mirror in this machine's apt sources ($apt/sources.list.d/*.sources, *.list, $apt/sources.list); set TAILKITD_TEST_MIRROR=URI"
    fi
    printf '%s\n' "$uri"
}

# Hash of everything that determines the rootfs content.
recipe_hash() {
    {
        printf 'suite=%s\nvariant=%s\nrecipe=%s\n' "$SUITE" "$VARIANT" "$RECIPE_VERSION"
        printf '%s\n' "${PACKAGES[@]}" | LC_ALL=C sort -u
    } | sha256sum | cut -d' ' -f1
}

# Unmount everything at or below $1 (debootstrap mounts /proc, /sys... in its
# target and leaves them behind when it is interrupted), deepest first.
umount_below() {
    local top=$1 m
    local -a mounts=()
    # /proc/mounts escapes spaces etc. as octal; our paths have none.
    mapfile -t mounts < <(awk -v top="$top" '$2 == top || index($2, top "/") == 1 { print $2 }' /proc/mounts | sort -r)
    for m in "${mounts[@]}"; do
        umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
    done
}

# Remove a directory tree that may contain leftover mounts.
remove_tree() {
    local d=$1
    [[ -e "$d" ]] || return 0
    umount_below "$d"
    rm -rf --one-file-system -- "$d"
}

# Names of the running containers of tests/system/container.sh that boot
# the rootfs $1 (from their state in /run/tailkitd-test/NAME/).
running_users() {
    local f d pid
    for f in /run/tailkitd-test/*/rootfs; do
        [[ -f "$f" && "$(<"$f")" == "$1" ]] || continue
        d=${f%/rootfs}
        pid=$(cat "$d/nspawn.pid" 2>/dev/null) || continue
        [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == systemd-nspawn ]] && printf ' %s' "${d##*/}"
    done
    return 0
}

TMP=
BUILD_PID=
# EXIT trap of a build: stop debootstrap if it still runs, then remove the
# unfinished tree and its log.
cleanup_build() {
    local rc=$? i
    if [[ -n "$BUILD_PID" ]] && kill -0 "$BUILD_PID" 2>/dev/null; then
        log "stopping debootstrap"
        kill -TERM -- "-$BUILD_PID" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 -- "-$BUILD_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$BUILD_PID" 2>/dev/null || true
        wait "$BUILD_PID" 2>/dev/null || true
    fi
    if [[ -n "$TMP" ]]; then
        log "removing the unfinished rootfs $TMP"
        remove_tree "$TMP"
        rm -f -- "$TMP.log"
    fi
    exit "$rc"
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    log "debootstrap is missing: installing it with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q debootstrap >&2
}

# Post-debootstrap configuration of the tree in $1.
configure_rootfs() {
    local r=$1
    # Empty machine-id: systemd (booted by nspawn with --volatile=overlay)
    # then uses the id nspawn hands it / a transient one, so every boot of
    # the shared cache gets its own id and nothing is written to the cache.
    : >"$r/etc/machine-id"
    chmod 0444 "$r/etc/machine-id"
    rm -f "$r/var/lib/dbus/machine-id"
    ln -s /etc/machine-id "$r/var/lib/dbus/machine-id"
    # debootstrap's systemd postinst may have created a random seed: drop it.
    rm -f "$r/var/lib/systemd/random-seed"
    # root: a real shell and home (nsenter runs commands as root with the
    # container's passwd), no password prompt needed on the console.
    chroot "$r" usermod -s /bin/bash -d /root root >/dev/null 2>&1 \
        || die "usermod root failed in $r"
    chroot "$r" passwd -d root >/dev/null
    printf 'tailkitd-test\n' >"$r/etc/hostname"
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
    # Journal in memory only (the overlay is a tmpfs anyway).
    mkdir -p "$r/etc/systemd/journald.conf.d"
    printf '[Journal]\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/tailkitd-test.conf"
    # dockerd for the docker tests, configured for a --volatile=overlay root
    # in a --private-network container (overlay2 cannot stack on the overlay
    # root; no bridge, iptables or forwarding to set up) with the debug log
    # the tests read. Off at boot: test_docker.py starts it, so other suites
    # pay nothing for it.
    mkdir -p "$r/etc/docker"
    printf '%s\n' '{"storage-driver": "vfs", "bridge": "none", "iptables": false, "ip6tables": false,' \
        ' "ip-forward": false, "debug": true}' >"$r/etc/docker/daemon.json"
    chroot "$r" systemctl disable docker.service docker.socket containerd.service >/dev/null 2>&1 \
        || die "cannot disable docker in $r"
    # The ecosystem's clients and peers (test_prometheus.py,
    # test_journal_export.py, the benches) are started by the tests that use
    # them: off at boot, so no other suite pays for a Prometheus or an
    # exporter. journal-gatewayd stays a socket (it costs nothing idle).
    chroot "$r" systemctl disable prometheus.service prometheus-node-exporter.service \
        systemd-journal-remote.socket systemd-journal-upload.service >/dev/null 2>&1 \
        || die "cannot disable prometheus, node exporter, journal-remote in $r"
    # Nothing downloaded is needed any more.
    chroot "$r" apt-get clean
    rm -rf "$r/var/lib/apt/lists/"*
}

main() {
    [[ $# -le 1 ]] || usage
    if [[ "${1:-}" == --print-mirror ]]; then
        find_mirror
        return
    fi
    [[ "${1:-}" != -* ]] || usage
    local dir=${1:-$DEFAULT_DIR}
    [[ "$dir" == /* ]] || dir="$PWD/$dir"
    dir=${dir%/}
    [[ -n "$dir" && "$dir" != / ]] || die "refusing to use / as the rootfs directory"
    [[ $EUID -eq 0 ]] || die "must run as root"

    local start=$EPOCHREALTIME
    local parent=${dir%/*} base=${dir##*/}
    mkdir -p "$parent"

    # One builder at a time for this DIR.
    local lock="$parent/.$base.lock"
    exec {lockfd}>"$lock"
    if ! flock -n "$lockfd"; then
        log "waiting for another rootfs.sh building $dir"
        flock "$lockfd"
    fi

    local want
    want=$(recipe_hash)
    if [[ -f "$dir/$STAMP_NAME" && "$(cat "$dir/$STAMP_NAME")" == "$want" ]]; then
        log "cached rootfs $dir is up to date (stamp $want)"
        log "took $(elapsed "$start") s (cached)"
        return 0
    fi
    if [[ -e "$dir" ]]; then
        # The tree is the lower layer of running containers' overlays:
        # replacing it would pull the ground from under them.
        local users
        users=$(running_users "$dir")
        [[ -z "$users" ]] || die "rootfs $dir is stale but in use by running test container(s):$users (stop them with tests/system/container.sh stop NAME)"
        log "rootfs $dir is stale or incomplete: rebuilding"
    else
        log "rootfs $dir is missing: building"
    fi

    # Leftovers of interrupted builds/replacements (we hold the lock).
    local old
    for old in "$parent/.$base.tmp."* "$parent/.$base.old."*; do
        [[ -e "$old" || -L "$old" ]] || continue
        log "removing leftover $old"
        if [[ -d "$old" ]]; then remove_tree "$old"; else rm -f -- "$old"; fi
    done

    ensure_debootstrap
    local mirror
    mirror=$(find_mirror)

    TMP=$(mktemp -d "$parent/.$base.tmp.XXXXXX")
    local tmp=$TMP dlog="$TMP.log"
    # On any exit before the rename: end debootstrap, remove the partial tree.
    trap cleanup_build EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    chmod 0755 "$tmp"

    local include rc=0
    include=$(IFS=,; printf '%s' "${PACKAGES[*]}")
    log "debootstrap --variant=$VARIANT --include=$include $SUITE $tmp $mirror"
    # In the background, in its own process group (setsid does not fork
    # here), so that a signal reaches our trap at once and the trap can end
    # the whole debootstrap (dpkg, chroot...).
    setsid debootstrap --variant="$VARIANT" --include="$include" "$SUITE" "$tmp" "$mirror" \
        </dev/null >"$dlog" 2>&1 &
    BUILD_PID=$!
    wait "$BUILD_PID" || rc=$?
    BUILD_PID=
    if [[ $rc -ne 0 ]]; then
        tail -n 40 "$dlog" >&2 || true
        [[ ! -f "$tmp/debootstrap/debootstrap.log" ]] || tail -n 40 "$tmp/debootstrap/debootstrap.log" >&2
        die "debootstrap failed with status $rc (see above)"
    fi
    rm -f "$dlog"
    umount_below "$tmp"
    configure_rootfs "$tmp"
    umount_below "$tmp"
    printf '%s\n' "$want" >"$tmp/$STAMP_NAME"
    sync -f "$tmp/$STAMP_NAME"

    # Swap into place. rename(2) cannot replace a non-empty directory, so an
    # old tree is first renamed away; if we die in between, DIR is simply
    # missing and the next run rebuilds it.
    if [[ -e "$dir" ]]; then
        old=$(mktemp -u "$parent/.$base.old.XXXXXX")
        mv -T -- "$dir" "$old"
        mv -T -- "$tmp" "$dir"
        TMP=
        remove_tree "$old"
    else
        mv -T -- "$tmp" "$dir"
        TMP=
    fi
    log "rootfs ready at $dir ($(du -sh --one-file-system "$dir" | cut -f1), stamp $want)"
    log "took $(elapsed "$start") s (built)"
}

elapsed() {
    local now=$EPOCHREALTIME
    awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

main "$@"
