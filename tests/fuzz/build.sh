#!/bin/bash
# tests/fuzz/build.sh [BUILD_DIR]
# Builds the libFuzzer targets (clang, ASan+UBSan, coverage in every object)
# into BUILD_DIR (default /tmp/tailkitd-fuzz). Prints the directory holding
# the fuzz-* binaries. Needs clang and libclang-rt-14-dev
# (scripts/install-deps.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/tailkitd-fuzz}
if [[ ! -f "$out/build.ninja" ]]; then
    # werror off: clang warns where gcc (the project's compiler) does not.
    CC=clang meson setup "$out" "$top" -Dfuzz=true -Dwerror=false \
        -Db_sanitize=address,undefined -Db_lundef=false >&2
fi
targets=$(cd "$top/tests/fuzz" && ls fuzz-*.c | sed 's/\.c$//; s|^|tests/fuzz/|')
# shellcheck disable=SC2086 # one ninja target per word
ninja -C "$out" $targets >&2
echo "$out/tests/fuzz"
