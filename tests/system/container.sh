#!/bin/bash
# tests/system/container.sh — boot and drive a throw-away systemd container for
# tailkitd's system tests, on a host whose PID 1 is not systemd (cgroup v1
# hybrid). See shared/reference/test-environment.md for the measured recipe.
#
#   container.sh start NAME STAGE_DIR TESTS_DIR
#       Boots the cached rootfs (tests/system/rootfs.sh) with systemd-nspawn,
#       systemd as PID 1 in the container, --volatile=overlay (all writes go
#       to a tmpfs; the cache is never modified), --private-network, with
#       STAGE_DIR bound read-only at /mnt/stage and TESTS_DIR at /mnt/tests.
#       Waits until the system is running (or degraded), then makes the cgroup
#       v1 controllers writable inside and re-executes systemd so that
#       resource limits (MemoryMax=...) are enforced.
#   container.sh exec NAME CMD [ARG...]
#       Runs CMD inside the container (nsenter into all its namespaces) with a
#       clean environment; stdin/stdout/stderr and the exit status pass through.
#   container.sh leader NAME
#       Prints the host PID of the container's PID 1.
#   container.sh stop NAME
#       Stops the container (ends commands still running through exec, then
#       SIGTERM to nspawn, again after 5 s, SIGKILL after 10 s), removes its
#       cgroups and state, and fails loudly if a process or mount remains.
#       Idempotent; safe to call from a trap.
#
# State lives in /run/tailkitd-test/NAME/ (nspawn.pid, leader.pid, pidns,
# cgroups, volatile, rootfs, nspawn.log = the container's console).
# NAME: lowercase letters, digits and '-'.
#
# Deviation from the recipe: the launching shell joins a tailkitd-test-NAME
# cgroup in EVERY hierarchy it belongs to (below its current cgroup there),
# not only in unified and name=systemd. Otherwise the container's systemd,
# once the v1 controllers are writable, creates init.scope, system.slice...
# at the host's pids/devices roots (and in the caller's memory cgroup), where
# they collide with other containers and outlive stop.
#
# Environment:
#   TAILKITD_TEST_ROOTFS        rootfs to boot (default
#                               /var/lib/tailkitd-test/rootfs-bookworm)
#   TAILKITD_TEST_BOOT_TIMEOUT  seconds to wait for boot (default 30)

set -euo pipefail

readonly STATE_ROOT=/run/tailkitd-test
readonly DEFAULT_ROOTFS=/var/lib/tailkitd-test/rootfs-bookworm
readonly STAMP_NAME=.tailkitd-test-stamp
readonly CGROUP_PREFIX=tailkitd-test-
readonly CONTAINER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'container.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<EOF
usage: ${0##*/} start NAME STAGE_DIR TESTS_DIR
       ${0##*/} stop NAME
       ${0##*/} exec NAME CMD [ARG...]
       ${0##*/} leader NAME
EOF
    exit 2
}

now() { printf '%s' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

check_name() {
    [[ "$1" =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] \
        || die "invalid NAME '$1' (want [a-z0-9][a-z0-9-]*, at most 40 characters)"
}

# The cgroup directories of container NAME: in every cgroup hierarchy this
# process belongs to (cgroup2 and each v1 one), a child named
# tailkitd-test-NAME of our current cgroup there. With the hybrid layout of
# this VM and a launching shell at the root, that is
# /sys/fs/cgroup/{unified,systemd,pids,...}/tailkitd-test-NAME. Putting
# the launching shell into all of them (not only unified and name=systemd)
# roots the container's cgroup namespace there, so everything its systemd
# creates stays below these directories and goes away with them.
# Prints the recorded list when the container was started, plus any such
# directory found in a mounted hierarchy (for clean-up after lost state).
cgroup_dirs() {
    local name=$1 state=$STATE_ROOT/$1/cgroups
    {
        if [[ -f "$state" ]]; then
            cat "$state"
        fi
        find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "$CGROUP_PREFIX$name" -prune -print 2>/dev/null || true
    } | awk '!seen[$0]++'
}

# Computes the cgroup directories for a new container NAME (see above).
new_cgroup_dirs() {
    local name=$1 id ctrls path mnt
    while IFS=: read -r id ctrls path; do
        if [[ "$id" == 0 ]]; then
            mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
        else
            mnt=$(awk -v want="$ctrls" '$3 == "cgroup" {
                    n = split($4, o, ","); for (i = 1; i <= n; i++) have[o[i]] = 1
                    m = split(want, w, ","); ok = 1
                    for (i = 1; i <= m; i++) if (!(w[i] in have)) ok = 0
                    delete have
                    if (ok) { print $2; exit }
                }' /proc/self/mounts)
        fi
        if [[ -z "$mnt" ]]; then
            log "warning: cgroup hierarchy '$ctrls' is not mounted: skipping it"
            continue
        fi
        path=${path%/}
        printf '%s%s/%s\n' "$mnt" "$path" "$CGROUP_PREFIX$name"
    done </proc/self/cgroup
}

# Creates the directories listed in file $1.
create_cgroups() {
    local cg f
    while read -r cg; do
        if [[ ! -d "${cg%/*}" ]]; then
            log "error: cgroup ${cg%/*} does not exist"
            return 1
        fi
        mkdir -p "$cg" || return 1
        # A new v1 cpuset cgroup starts with no CPUs and no memory nodes,
        # and no task can join it until they are set.
        for f in cpuset.cpus cpuset.mems; do
            if [[ -f "$cg/$f" && -z "$(<"$cg/$f")" ]]; then
                cat "${cg%/*}/$f" >"$cg/$f" || return 1
            fi
        done
    done <"$1"
}

# True if PID $1 is alive and is systemd-nspawn started for container $2.
is_our_nspawn() {
    local pid=$1 name=$2 comm
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ "$comm" == systemd-nspawn ]] || return 1
    grep -q "/$CGROUP_PREFIX$name\(/\|$\)" "/proc/$pid/cgroup" 2>/dev/null
}

# Prints the leader PID recorded for NAME, checking that it still runs.
get_leader() {
    local name=$1 dir=$STATE_ROOT/$1 pid leader
    [[ -f "$dir/nspawn.pid" && -f "$dir/leader.pid" ]] || die "container '$name' is not running (no state in $dir)"
    pid=$(<"$dir/nspawn.pid")
    leader=$(<"$dir/leader.pid")
    is_our_nspawn "$pid" "$name" || die "container '$name' is not running (nspawn PID $pid is gone)"
    [[ -d "/proc/$leader" ]] || die "container '$name': leader PID $leader is gone"
    printf '%s\n' "$leader"
}

# The PID 1 of the container is the only child of nspawn once it has exec'd
# systemd (nspawn's intermediate child exits before that).
find_leader() {
    local pid=$1 child comm
    for child in $(pgrep -P "$pid" 2>/dev/null); do
        comm=$(cat "/proc/$child/comm" 2>/dev/null) || continue
        if [[ "$comm" == systemd && "$(readlink "/proc/$child/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]]; then
            printf '%s\n' "$child"
            return 0
        fi
    done
    return 1
}

# Sets NSENTER_ARGV to run a command inside the container of leader $1 with
# a clean, sane environment.
container_argv() {
    local leader=$1
    shift
    NSENTER_ARGV=(
        nsenter -t "$leader" -a --
        /usr/bin/env -i
        PATH="$CONTAINER_PATH" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash
        LANG=C.UTF-8 TERM="${TERM:-dumb}" PYTHONDONTWRITEBYTECODE=1
        SYSTEMD_PAGER='' SYSTEMD_COLORS=0
        "$@"
    )
}

# Runs a command inside the container of leader $1.
in_container() {
    container_argv "$@"
    "${NSENTER_ARGV[@]}"
}

# Waits until systemctl is-system-running says running or degraded.
wait_running() {
    local leader=$1 deadline=$2 nspawn_pid=$3 log_file=$4 state=""
    while :; do
        state=$(timeout 5 nsenter -t "$leader" -a -- /usr/bin/systemctl is-system-running 2>/dev/null) || true
        case "$state" in
            running | degraded) printf '%s\n' "$state"; return 0 ;;
        esac
        if ! kill -0 "$nspawn_pid" 2>/dev/null; then
            tail -n 50 "$log_file" >&2 || true
            log "error: systemd-nspawn exited during boot (log above, state '$state')"
            return 1
        fi
        if (($(date +%s) >= deadline)); then
            tail -n 50 "$log_file" >&2 || true
            log "error: container did not reach running/degraded in time (last state '${state:-none}')"
            return 1
        fi
        sleep 0.1
    done
}

cmd_start() {
    [[ $# -eq 3 ]] || usage
    local name=$1 stage=$2 tests=$3
    check_name "$name"
    [[ $EUID -eq 0 ]] || die "must run as root"
    [[ -d "$stage" ]] || die "STAGE_DIR '$stage' is not a directory"
    [[ -d "$tests" ]] || die "TESTS_DIR '$tests' is not a directory"
    stage=$(realpath -e "$stage")
    tests=$(realpath -e "$tests")
    local rootfs=${TAILKITD_TEST_ROOTFS:-$DEFAULT_ROOTFS}
    [[ -f "$rootfs/$STAMP_NAME" ]] || die "no complete rootfs at $rootfs: run tests/system/rootfs.sh first"
    local timeout=${TAILKITD_TEST_BOOT_TIMEOUT:-30}

    local k
    for k in systemd-nspawn:systemd-container nsenter:util-linux; do
        command -v "${k%%:*}" >/dev/null 2>&1 && continue
        log "${k%%:*} is missing: installing ${k#*:} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${k#*:}" >&2
    done

    local dir=$STATE_ROOT/$name
    if [[ -e "$dir" ]]; then
        if [[ -f "$dir/nspawn.pid" ]] && is_our_nspawn "$(<"$dir/nspawn.pid")" "$name"; then
            die "container '$name' is already running (state in $dir)"
        fi
        log "stale state for '$name' found: cleaning it up first"
        cmd_stop "$name" || die "could not clean up the stale container '$name'"
    fi
    mkdir -p "$dir"
    printf '%s\n' "$rootfs" >"$dir/rootfs"
    local log_file=$dir/nspawn.log

    local cg
    new_cgroup_dirs "$name" >"$dir/cgroups"
    if ! create_cgroups "$dir/cgroups"; then
        log "error: could not create the cgroups of '$name'"
        cmd_stop "$name" || true
        exit 1
    fi

    local t0
    t0=$(now)
    log "booting '$name' from $rootfs"
    # The subshell moves itself into our cgroups, then becomes nspawn (setsid
    # does not fork: a background subshell is no process-group leader).
    (
        while read -r cg; do
            printf '%s\n' "$BASHPID" >"$cg/cgroup.procs"
        done <"$dir/cgroups"
        exec setsid systemd-nspawn \
            --quiet \
            --machine="$CGROUP_PREFIX$name" \
            --register=no --keep-unit --link-journal=no --console=pipe \
            --boot --private-network --volatile=overlay \
            --bind-ro="$stage:/mnt/stage" --bind-ro="$tests:/mnt/tests" \
            --capability=all --system-call-filter='@keyring bpf' \
            -D "$rootfs"
    ) </dev/null >"$log_file" 2>&1 &
    local pid=$!
    printf '%s\n' "$pid" >"$dir/nspawn.pid"

    local deadline=$(($(date +%s) + timeout)) leader=""
    while ! leader=$(find_leader "$pid"); do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$log_file" >&2 || true
            log "error: systemd-nspawn exited at once (log above)"
            cmd_stop "$name" || true
            exit 1
        fi
        if (($(date +%s) >= deadline)); then
            log "error: no container PID 1 appeared within ${timeout}s"
            cmd_stop "$name" || true
            exit 1
        fi
        sleep 0.05
    done
    printf '%s\n' "$leader" >"$dir/leader.pid"
    readlink "/proc/$leader/ns/pid" >"$dir/pidns"
    # nspawn --volatile=overlay keeps the upper layer on a tmpfs mounted (in
    # its own mount namespace) on a fresh /tmp/nspawn-volatile-* directory
    # of the host; remember it so that stop can remove it if nspawn cannot.
    sed -n 's/.*[ ,]upperdir=\(\/tmp\/nspawn-volatile-[^/, ]*\)\/upper.*/\1/p' \
        "/proc/$leader/mountinfo" 2>/dev/null | head -n 1 >"$dir/volatile" || true
    if ! is_our_nspawn "$pid" "$name"; then
        log "error: PID $pid is not the systemd-nspawn of '$name'"
        cmd_stop "$name" || true
        exit 1
    fi

    local state
    if ! state=$(wait_running "$leader" "$deadline" "$pid" "$log_file"); then
        cmd_stop "$name" || true
        exit 1
    fi
    log "'$name' is $state after $(since "$t0") s (nspawn PID $pid, leader PID $leader)"

    # cgroup v1 fix: nspawn mounts the controllers read-only, so systemd
    # cannot create cgroups there and limits are not enforced. Remount them
    # rw inside the container and let systemd re-execute to pick them up.
    local t1
    t1=$(now)
    # shellcheck disable=SC2016 # expanded by the container's sh
    if ! in_container "$leader" /bin/sh -c '
        set -e
        for c in $(awk '\''$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" && $4 ~ /(^|,)ro(,|$)/ { print $2 }'\'' /proc/self/mounts); do
            mount -o remount,bind,rw "$c"
        done
        if awk '\''$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" && $4 ~ /(^|,)ro(,|$)/ { bad = 1 } END { exit !bad }'\'' /proc/self/mounts; then
            echo "cgroup hierarchies still read-only:" >&2; grep " cgroup " /proc/self/mounts >&2; exit 1
        fi'; then
        log "error: remounting the cgroup v1 controllers rw inside '$name' failed"
        cmd_stop "$name" || true
        exit 1
    fi
    if ! in_container "$leader" systemctl daemon-reexec; then
        log "error: systemctl daemon-reexec inside '$name' failed"
        cmd_stop "$name" || true
        exit 1
    fi
    deadline=$(($(date +%s) + timeout))
    if ! state=$(wait_running "$leader" "$deadline" "$pid" "$log_file"); then
        cmd_stop "$name" || true
        exit 1
    fi
    log "'$name' is $state again after the cgroup fix ($(since "$t1") s); boot total $(since "$t0") s"
}

cmd_exec() {
    [[ $# -ge 2 ]] || usage
    local name=$1
    shift
    check_name "$name"
    local leader cg
    leader=$(get_leader "$name")
    # Join the container's top cgroups, so that stop finds (and can wake and
    # kill) this nsenter: nsenter stops itself whenever its child is
    # stopped, which systemd-shutdown does to every process in the
    # container (SIGSTOP, SIGTERM, SIGCONT); a stopped nsenter never reaps
    # its killed child and the container's PID 1 then never finishes.
    while read -r cg; do
        [[ ! -d "$cg" ]] || printf '%s\n' "$BASHPID" >"$cg/cgroup.procs" 2>/dev/null \
            || log "warning: could not join cgroup $cg"
    done <"$STATE_ROOT/$name/cgroups"
    # exec: our exit status is the command's (nsenter re-raises a signal
    # that killed it, so the caller's shell reports 128+N).
    container_argv "$leader" "$@"
    exec "${NSENTER_ARGV[@]}"
}

cmd_leader() {
    [[ $# -eq 1 ]] || usage
    check_name "$1"
    get_leader "$1"
}

# All PIDs in the cgroup subtrees of container NAME.
cgroup_pids() {
    local name=$1 cg
    while read -r cg; do
        [[ -d "$cg" ]] || continue
        find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null || true
    done < <(cgroup_dirs "$name") | sort -un
}

# Host PIDs of the processes in PID namespace $1 (as readlink shows it,
# e.g. "pid:[4026532181]").
pids_in_ns() {
    local pat=${1//[/\\[}
    pat=${pat//]/\\]}
    find /proc/[0-9]*/ns/pid -maxdepth 0 -lname "$pat" 2>/dev/null | cut -d/ -f3
    return 0
}

# PIDs of the nsenter processes of `exec` for container NAME (they sit in
# the container's top cgroup of the unified hierarchy, see cmd_exec).
exec_pids() {
    local cg p
    while read -r cg; do
        while read -r p; do
            [[ "$(cat "/proc/$p/comm" 2>/dev/null)" != nsenter ]] || printf '%s\n' "$p"
        done < <(cat "$cg/cgroup.procs" 2>/dev/null || true)
    done < <(grep '/unified/' "$STATE_ROOT/$1/cgroups" 2>/dev/null || true)
}

# Sends SIGCONT to the stopped nsenter processes of `exec`: nsenter stops
# itself when its child stops (systemd-shutdown stops every process) and
# would then never reap its child, blocking the container's end.
wake_execs() {
    local p
    while read -r p; do
        [[ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != T ]] || kill -CONT "$p" 2>/dev/null || true
    done < <(exec_pids "$1")
}

# Ends commands still running through `exec` before the container shuts
# down: their processes are not children of the container's PID 1, so
# systemd-shutdown would not notice their end and would wait 10 s.
end_execs() {
    local name=$1 p kids="" i
    while read -r p; do
        kids+=" $(pgrep -P "$p" | tr '\n' ' ')"
    done < <(exec_pids "$name")
    # shellcheck disable=SC2086 # a list of PIDs
    set -- $kids
    [[ $# -gt 0 ]] || return 0
    log "ending $# command(s) still running in '$name' through exec"
    kill -TERM "$@" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        wake_execs "$name"
        kill -0 "$@" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null || true
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    local name=$1
    check_name "$name"
    local dir=$STATE_ROOT/$name rc=0 t0 pid="" leader="" rootfs="" cg i
    t0=$(now)
    [[ ! -f "$dir/nspawn.pid" ]] || pid=$(<"$dir/nspawn.pid")
    [[ ! -f "$dir/leader.pid" ]] || leader=$(<"$dir/leader.pid")
    # Namespace inode numbers are reused once a namespace dies: trust the
    # recorded one only while our container's PID 1 still lives in it.
    local pidns=""
    if [[ -f "$dir/pidns" && "$leader" =~ ^[0-9]+$ &&
          "$(readlink "/proc/$leader/ns/pid" 2>/dev/null)" == "$(<"$dir/pidns")" ]]; then
        pidns=$(<"$dir/pidns")
    fi
    [[ ! -f "$dir/rootfs" ]] || rootfs=$(<"$dir/rootfs")
    rootfs=${rootfs:-${TAILKITD_TEST_ROOTFS:-$DEFAULT_ROOTFS}}

    local have_cgroup=0
    while read -r cg; do [[ ! -d "$cg" ]] || have_cgroup=1; done < <(cgroup_dirs "$name")
    if [[ ! -e "$dir" && $have_cgroup -eq 0 ]]; then
        log "'$name' is not running: nothing to stop"
        return 0
    fi

    if [[ -n "$pid" ]] && is_our_nspawn "$pid" "$name"; then
        log "stopping '$name' (nspawn PID $pid)"
        end_execs "$name"
        # SIGTERM makes nspawn ask the container's systemd to halt. That
        # request is lost if systemd cannot take it yet (early boot, during
        # daemon-reexec), so a second SIGTERM after 5 s makes nspawn end the
        # container at once; SIGKILL after 10 s.
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            is_our_nspawn "$pid" "$name" || break
            wake_execs "$name"
            if ((i == 50)); then
                log "warning: the container did not halt within 5 s: sending SIGTERM again"
                kill -TERM "$pid" 2>/dev/null || true
            fi
            sleep 0.1
        done
        if is_our_nspawn "$pid" "$name"; then
            log "warning: nspawn did not exit within 10 s: sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Killing nspawn with SIGKILL leaves its container running: kill the
    # container's PID 1 (which takes its whole PID namespace along) and
    # anything else left in our cgroups.
    if [[ -n "$pidns" && "$(readlink "/proc/$leader/ns/pid" 2>/dev/null)" == "$pidns" ]]; then
        log "warning: container PID 1 ($leader) still runs: sending SIGKILL"
        kill -KILL "$leader" 2>/dev/null || true
    fi
    local pids
    for ((i = 0; i < 50; i++)); do
        pids=$(cgroup_pids "$name")
        [[ -n "$pids" ]] || break
        # shellcheck disable=SC2086 # a list of PIDs
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    if [[ -n "$pids" ]]; then
        log "error: processes remain in the cgroups of '$name': $(tr '\n' ' ' <<<"$pids")"
        rc=1
    fi
    # A dying PID 1 leaves the cgroups before its namespace is gone: wait
    # until no process is left in the container's PID namespace.
    if [[ -n "$pidns" ]]; then
        for ((i = 0; i < 50; i++)); do
            pids=$(pids_in_ns "$pidns")
            [[ -n "$pids" ]] || break
            wake_execs "$name"
            sleep 0.1
        done
        if [[ -n "$pids" ]]; then
            log "error: processes remain in the PID namespace of '$name':"
            # shellcheck disable=SC2086 # a list of PIDs
            ps -o pid,ppid,stat,args -p "$(tr '\n' ',' <<<"$pids" | sed 's/,$//')" >&2 || true
            rc=1
        fi
    fi

    # Remove our cgroups, children first (nspawn --keep-unit creates
    # supervisor/ and payload/ below them).
    while read -r cg; do
        [[ -d "$cg" ]] || continue
        find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
        if [[ -d "$cg" ]]; then
            log "error: could not remove cgroup $cg"
            rc=1
        fi
    done < <(cgroup_dirs "$name")

    # nspawn removes these itself, unless it was killed.
    if [[ -s "$dir/volatile" ]]; then
        local vol
        vol=$(<"$dir/volatile")
        if [[ "$vol" == /tmp/nspawn-volatile-* && -d "$vol" ]]; then
            rmdir "$vol" 2>/dev/null || log "warning: could not remove $vol"
        fi
    fi
    rm -rf "/run/systemd/nspawn/propagate/$CGROUP_PREFIX$name" \
        "/run/systemd/nspawn/unix-export/$CGROUP_PREFIX$name" 2>/dev/null || true

    # Nothing may stay mounted on the host under the rootfs or the state dir.
    local leftover
    leftover=$(awk -v a="${rootfs%/}" -v b="$dir" \
        '$2 == a || index($2, a "/") == 1 || $2 == b || index($2, b "/") == 1 { print $2 }' /proc/mounts)
    if [[ -n "$leftover" ]]; then
        log "error: mounts remain after stopping '$name':"
        printf '  %s\n' "$leftover" >&2
        rc=1
    fi

    if [[ $rc -eq 0 ]]; then
        rm -rf -- "$dir"
        log "'$name' stopped in $(since "$t0") s"
    else
        log "error: '$name' was not stopped cleanly; state kept in $dir"
    fi
    return "$rc"
}

main() {
    [[ $# -ge 1 ]] || usage
    local cmd=$1
    shift
    case "$cmd" in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        exec) cmd_exec "$@" ;;
        leader) cmd_leader "$@" ;;
        -h | --help | help) usage ;;
        *) log "unknown command '$cmd'"; usage ;;
    esac
}

main "$@"
