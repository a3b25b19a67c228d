#!/usr/bin/env bash
# Installs, from Debian's packages, everything tailkitd needs to build, run its
# tests and boot its demo container. Safe to run again: it only installs what
# is missing.
set -euo pipefail

packages=(
  # build
  gcc meson ninja-build pkg-config
  libsystemd-dev libmicrohttpd-dev libjson-c-dev libinih-dev libcurl4-openssl-dev
  libmnl-dev libpcre2-dev
  # tests and the demo
  python3 python3-pytest python3-requests curl
  systemd systemd-container debootstrap
  # man pages checked with groff -ww / man -l; script(1) for the TTY test
  groff-base man-db bsdutils
  # the docker tests' own dockerd and image (tests/integration/test_docker.py)
  docker.io docker-compose busybox-static
  # fuzzing (tests/fuzz: libFuzzer comes with clang's runtime), load (wrk),
  # the workers under memcheck (tests/reliability)
  clang libclang-rt-14-dev wrk valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
