#!/bin/bash
# tests/fuzz/run.sh SECONDS [JOBS] [TARGET...]
# Replays each target's seed corpus (tests/fuzz/corpus/<target>/), then
# fuzzes it for SECONDS under `nice -n 19`, JOBS targets at a time (default
# 2); new inputs go to a scratch corpus, findings (crash-*, leak-*,
# timeout-*) to $FUZZ_OUT/<target>/ (default /tmp/tailkitd-fuzz-out). Prints
# one line per target: executions, seconds, result. Exits 1 on any finding.
# FUZZ_RESULTS=FILE also appends one meson-testlog-like JSON line per target
# (scripts/summarize.py counts them).
#   CI:        tests/fuzz/run.sh 20
#   long run:  tests/fuzz/run.sh 600 1        (≥ 10 minutes a target)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:?usage: run.sh SECONDS [JOBS] [TARGET...]}
jobs=${2:-2}
shift $(( $# >= 2 ? 2 : 1 ))
bin=$("$here/build.sh" "${FUZZ_BUILD_DIR:-/tmp/tailkitd-fuzz}") || exit 1
out=${FUZZ_OUT:-/tmp/tailkitd-fuzz-out}
mkdir -p "$out"
targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cd "$here" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')
fi

result() { # TARGET OK|FAIL
    [[ -z "${FUZZ_RESULTS:-}" ]] || printf '{"name": "fuzz-%s", "result": "%s"}\n' "$1" "$2" >>"$FUZZ_RESULTS"
}

one() { # TARGET: replay, then fuzz; one summary line
    local t=$1 d="$out/$1" log rc
    rm -rf "$d" && mkdir -p "$d/corpus"
    log="$d/log"
    # Replay: every committed seed must run clean.
    if ! "$bin/fuzz-$t" -runs=0 -artifact_prefix="$d/" "$here/corpus/$t" >"$d/replay.log" 2>&1; then
        echo "$t: REPLAY FAILED (see $d/replay.log)"; result "$t" FAIL; return 1
    fi
    nice -n 19 "$bin/fuzz-$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
        -artifact_prefix="$d/" -print_final_stats=1 "$d/corpus" "$here/corpus/$t" >"$log" 2>&1
    rc=$?
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if ((rc != 0)) || compgen -G "$d/crash-*" >/dev/null || compgen -G "$d/leak-*" >/dev/null; then
        echo "$t: FINDING after ${execs:-?} executions (see $log)"; result "$t" FAIL; return 1
    fi
    echo "$t: ${execs:-?} executions in $secs s, no finding"
    result "$t" OK
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
pids=()
for t in "${targets[@]}"; do
    one "$t" &
    pids+=($!)
    if ((${#pids[@]} >= jobs)); then
        wait "${pids[0]}" || status=1
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
