#!/usr/bin/env bash
# Runs every tailkitd test and ends with one line "N passed, N failed, N skipped":
#   1. unit tests (meson test), in a plain build and under ASan+UBSan;
#   2. host integration (pytest): the real dispatcher and workers,
#      socket-activated by systemd-socket-activate, against a fake tailscaled,
#      once with the plain build and once with the sanitizer build;
#   2b. fuzz targets (libFuzzer, clang): corpora replayed, 20 s each;
#   3. system tests: the build installed into a booted Debian systemd
#      container (systemd-nspawn), started by `systemctl start tailkitd.socket`,
#      the same suites plus socket activation, idle exit and clean stop.
# Needs root (apt-get, nspawn). Set TAILKITD_SKIP_SYSTEM=1 to skip layer 3.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out="$top/build-tests"
rm -rf "$out/results"
mkdir -p "$out/results"
results=()
status=0

step() { printf '\n==> %s\n' "$*" >&2; }

step "Installing dependencies"
scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

build() { # DIR [meson args...]
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" >/dev/null || ninja -C "$dir"
}

run_unit() { # DIR NAME
  meson test -C "$1" --print-errorlogs >&2 || status=1
  cp "$1/meson-logs/testlog.json" "$out/results/unit-$2.json"
  results+=("$out/results/unit-$2.json")
}

run_host() { # DIR NAME
  TAILKITD_BUILD_DIR="$1" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    --junitxml="$out/results/host-$2.xml" tests/integration ${3:-} >&2 || status=1
  results+=("$out/results/host-$2.xml")
}

step "Build (plain)"
if build "$out/plain" --prefix=/usr -Dunitdir=/usr/lib/systemd/system; then
  step "Unit tests (plain)"
  run_unit "$out/plain" plain
  step "Host integration tests (plain)"
  run_host "$out/plain" plain tests/fake-tailscaled
else
  echo "build failed" >&2; status=1; results+=("$out/results/build-plain-failed.json")
fi

step "Build (ASan+UBSan)"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=0:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
if build "$out/asan" -Db_sanitize=address,undefined -Db_lundef=false; then
  step "Unit tests (ASan+UBSan)"
  run_unit "$out/asan" asan
  step "Host integration tests (ASan+UBSan)"
  TAILKITD_SANITIZED=1 run_host "$out/asan" asan
else
  echo "sanitizer build failed" >&2; status=1; results+=("$out/results/build-asan-failed.json")
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

step "Fuzz targets: seed corpora replayed, then 20 s each, two at a time"
# Long runs: tests/fuzz/run.sh 600 1 (README, Reliability).
rm -f "$out/results/fuzz.json"
FUZZ_BUILD_DIR="$out/fuzz" FUZZ_OUT="$out/fuzz-out" FUZZ_RESULTS="$out/results/fuzz.json" \
  tests/fuzz/run.sh 20 2 >&2 || status=1
[ -s "$out/results/fuzz.json" ] || echo '{"name": "fuzz", "result": "FAIL"}' >"$out/results/fuzz.json"
results+=("$out/results/fuzz.json")

if [ "${TAILKITD_SKIP_SYSTEM:-0}" != 1 ]; then
  step "System tests (real systemd in a container)"
  stage="$out/stage"
  rm -rf "$stage"
  if DESTDIR="$stage" meson install -C "$out/plain" --quiet >/dev/null; then
    TAILKITD_JUNIT_OUT="$out/results/system.xml" tests/system/run.sh "$stage" >&2 || status=1
  else
    echo "meson install failed" >&2; status=1
  fi
  results+=("$out/results/system.xml")
fi

printf '\n' >&2
scripts/summarize.py "${results[@]}" || status=1
exit $status
