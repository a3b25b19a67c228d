#!/bin/bash
# tests/system/run.sh STAGE_DIR [PYTEST_ARGS...]
#
# The system test layer of tailkitd: runs the integration tests under a real
# systemd (PID 1 in a systemd-nspawn container), against the installed units.
#
#   1. tests/system/rootfs.sh         ensure the cached Debian bookworm rootfs
#   2. tests/system/container.sh start boot it (volatile: the cache stays
#                                      untouched); a trap stops it on any exit
#   3. install the staged build: STAGE_DIR is the output of
#      `meson install --destdir STAGE_DIR` of a build configured with
#      --prefix=/usr; inside: copy /mnt/stage/. over / (tar, see below),
#      systemd-sysusers,
#      systemd-tmpfiles --create, systemctl daemon-reload
#   4. /mnt/tests/system/setup-in-container.sh, if it exists (drop-ins, start
#      tailkitd.socket)
#   5. inside: cd /mnt/tests/integration && TAILKITD_TEST_MODE=system
#      python3 -m pytest -q -p no:cacheprovider --junitxml=... PYTEST_ARGS
#   6. copy the JUnit XML out to $TAILKITD_JUNIT_OUT
#
# Exits with pytest's status (or 1 if a step before it failed). On failure,
# the container's journal (last 200 lines) is printed to stderr.
#
# Environment:
#   TAILKITD_JUNIT_OUT   where to write the JUnit XML
#                        (default: STAGE_DIR/../system-junit.xml)
#   TAILKITD_TESTS_DIR   the tests directory bound at /mnt/tests
#                        (default: this repository's tests/)
#   TAILKITD_TEST_NAME   container name (default: run-PID)
#   TAILKITD_TEST_ROOTFS rootfs cache (default /var/lib/tailkitd-test/rootfs-bookworm)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
readonly CONTAINER="$HERE/container.sh"

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    printf 'usage: %s STAGE_DIR [PYTEST_ARGS...]\n' "${0##*/}" >&2
    exit 2
}

# Phase timing.
declare -a TIMINGS=()
PHASE_START=
phase() {
    PHASE_NAME=$1
    PHASE_START=$EPOCHREALTIME
    log "== $PHASE_NAME"
}
phase_done() {
    local t
    t=$(awk -v a="$PHASE_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    TIMINGS+=("$PHASE_NAME: $t s")
    log "== $PHASE_NAME done in $t s"
}

STARTED=0
NAME=
PYTEST_RAN=0

# SIGTERM to PID $1 and its descendants, except systemd-nspawn and what
# runs below it (container.sh stop ends those properly).
kill_tree() {
    local child
    [[ "$(cat "/proc/$1/comm" 2>/dev/null)" != systemd-nspawn ]] || return 0
    kill -STOP "$1" 2>/dev/null || return 0
    for child in $(pgrep -P "$1"); do
        kill_tree "$child"
    done
    kill -TERM "$1" 2>/dev/null
    kill -CONT "$1" 2>/dev/null
    return 0
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    # Interrupted while `container.sh start` ran: end it before stopping
    # (an `exec` has become nsenter: stop ends what runs in it).
    if [[ -n "$BG_PID" && "$(cat "/proc/$BG_PID/comm" 2>/dev/null)" == container.sh ]]; then
        kill_tree "$BG_PID"
        wait "$BG_PID" 2>/dev/null
    fi
    if [[ $STARTED -eq 1 ]]; then
        if [[ $rc -ne 0 ]] && "$CONTAINER" leader "$NAME" >/dev/null 2>&1; then
            log "failure (status $rc): the container's journal follows"
            printf '%s\n' "----- journalctl -b --no-pager -n 200 (container $NAME) -----" >&2
            "$CONTAINER" exec "$NAME" journalctl -b --no-pager -n 200 </dev/null >&2
            printf '%s\n' "----- end of journal -----" >&2
        fi
        phase "stop"
        if "$CONTAINER" stop "$NAME"; then
            phase_done
        else
            log "error: stopping the container failed"
            [[ $rc -ne 0 ]] || rc=1
        fi
    fi
    if [[ ${#TIMINGS[@]} -gt 0 ]]; then
        log "timings: $(printf '%s; ' "${TIMINGS[@]}" | sed 's/; $//')"
    fi
    if [[ $PYTEST_RAN -eq 0 && $rc -ne 0 ]]; then
        log "error: the system layer failed before pytest ran"
    fi
    exit "$rc"
}

# Runs a command in the background and waits for it, so that a SIGINT or
# SIGTERM reaches our trap at once (bash runs traps only after a foreground
# command ends); the trap's `stop` then ends what runs in the container.
# stdin is passed explicitly (a background job would get /dev/null).
BG_PID=
run_waited() {
    local rc=0
    "$@" <&0 &
    BG_PID=$!
    wait "$BG_PID" || rc=$?
    BG_PID=
    return "$rc"
}

ensure_host_packages() {
    local missing=()
    command -v systemd-nspawn >/dev/null 2>&1 || missing+=(systemd-container)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    [[ ${#missing[@]} -gt 0 ]] || return 0
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q "${missing[@]}" >&2
}

main() {
    [[ $# -ge 1 ]] || usage
    [[ "$1" != -h && "$1" != --help ]] || usage
    local stage=$1
    shift
    [[ -d "$stage" ]] || die "STAGE_DIR '$stage' is not a directory"
    stage=$(realpath -e "$stage")
    [[ $EUID -eq 0 ]] || die "must run as root"
    local tests=${TAILKITD_TESTS_DIR:-$(cd "$HERE/.." && pwd)}
    [[ -d "$tests" ]] || die "tests directory '$tests' does not exist"
    tests=$(realpath -e "$tests")
    [[ -d "$tests/integration" ]] || die "no integration/ in tests directory $tests"
    local junit_out=${TAILKITD_JUNIT_OUT:-$(dirname "$stage")/system-junit.xml}
    NAME=${TAILKITD_TEST_NAME:-run-$$}

    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    ensure_host_packages

    phase "rootfs"
    "$HERE/rootfs.sh" ${TAILKITD_TEST_ROOTFS:+"$TAILKITD_TEST_ROOTFS"}
    phase_done

    phase "boot"
    STARTED=1
    run_waited "$CONTAINER" start "$NAME" "$stage" "$tests" </dev/null
    phase_done

    phase "install"
    # Copy STAGE_DIR over / like `cp -a /mnt/stage/. /` would, but with tar:
    # cp -a fails on merged-/usr (/lib is a symlink; meson installs units to
    # /lib/systemd/system, "cannot overwrite non-directory") and would copy
    # the metadata of STAGE_DIR's directories onto /, /usr... (a DESTDIR
    # made by mktemp -d would make / mode 0700). Ownership, modes, times,
    # symlinks and xattrs (file capabilities) are kept as cp -a keeps them.
    run_waited "$CONTAINER" exec "$NAME" /bin/bash -c '
        set -euo pipefail
        tar -C /mnt/stage --xattrs -cf - . |
            tar -C / --xattrs --xattrs-include="*" --keep-directory-symlink \
                --no-overwrite-dir --same-owner -xpf -
        systemd-sysusers
        systemd-tmpfiles --create
        systemctl daemon-reload
    ' </dev/null
    phase_done

    if [[ -f "$tests/system/setup-in-container.sh" ]]; then
        phase "setup"
        run_waited "$CONTAINER" exec "$NAME" /bin/bash /mnt/tests/system/setup-in-container.sh </dev/null
        phase_done
    else
        log "no tests/system/setup-in-container.sh: skipping the setup step"
    fi

    phase "pytest"
    local rc=0
    PYTEST_RAN=1
    # shellcheck disable=SC2016 # expanded by the container's sh
    run_waited "$CONTAINER" exec "$NAME" /bin/sh -c '
        cd /mnt/tests/integration &&
        TAILKITD_TEST_MODE=system exec python3 -m pytest -q -p no:cacheprovider \
            --junitxml=/run/tailkitd-junit.xml "$@"
    ' sh "$@" || rc=$?
    phase_done
    log "pytest exited with status $rc"

    mkdir -p "$(dirname "$junit_out")"
    if "$CONTAINER" exec "$NAME" cat /run/tailkitd-junit.xml </dev/null >"$junit_out.tmp" 2>/dev/null; then
        mv -f "$junit_out.tmp" "$junit_out"
        log "JUnit XML written to $junit_out"
    else
        rm -f "$junit_out.tmp"
        log "warning: pytest wrote no JUnit XML"
        [[ $rc -ne 0 ]] || rc=1
    fi
    return "$rc"
}

main "$@"
