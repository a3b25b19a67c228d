#!/bin/bash
# tests/unit/data/metrics/capture.sh DEST [PID...]
#
# Captures the files the metrics collectors read from this machine into a
# fixture tree DEST/{proc,sys,etc} for tests/unit/test-metrics-golden.c:
# /proc/{stat,meminfo,vmstat,loadavg,uptime,cpuinfo,net/dev,self/mounts},
# /proc/sys/kernel/{hostname,osrelease,arch,random/boot_id}, the cpufreq
# maximum of each CPU where the kernel has one, /etc/{os-release,
# debian_version}, statvfs() figures of / and /dev/shm (DEST/statvfs), and stat/status/cmdline of the given PIDs (default: 2,
# kthreadd, and this shell). A second /proc/stat sample 100 ms before the
# first goes to DEST/stat.prev, so CPU percentages are fixed too.
#
# Review what you capture: cmdline and mounts can hold private details (the
# committed "local" fixture keeps only the mounts the tests need). Then
# regenerate the golden with TAILKITD_UPDATE_GOLDEN=1 meson test metrics-golden.

set -euo pipefail
dest=${1:?usage: capture.sh DEST [PID...]}
shift
pids=("$@")
[[ ${#pids[@]} -gt 0 ]] || pids=(2 $$)

mkdir -p "$dest"/proc/{net,self,sys/kernel/random} "$dest"/etc "$dest"/sys
cp /proc/stat "$dest/stat.prev"
sleep 0.1
for f in stat meminfo vmstat loadavg uptime cpuinfo net/dev self/mounts sys/kernel/hostname \
         sys/kernel/osrelease sys/kernel/arch sys/kernel/random/boot_id; do
    cat "/proc/$f" >"$dest/proc/$f" 2>/dev/null || rm -f "$dest/proc/$f"
done
for d in /sys/devices/system/cpu/cpu[0-9]*; do
    [[ -r $d/cpufreq/cpuinfo_max_freq ]] || continue
    mkdir -p "$dest$d/cpufreq"
    cat "$d/cpufreq/cpuinfo_max_freq" >"$dest$d/cpufreq/cpuinfo_max_freq"
done
cp /etc/os-release "$dest/etc/os-release" 2>/dev/null || cp /usr/lib/os-release "$dest/etc/os-release"
[[ ! -r /etc/debian_version ]] || cp /etc/debian_version "$dest/etc/"
# statvfs() figures of a few paths: path f_frsize f_blocks f_bfree f_bavail f_files f_ffree
for p in / /dev/shm; do
    stat -f -c '%n %S %b %f %a %c %d' "$p"
done >"$dest/statvfs"
for p in "${pids[@]}"; do
    mkdir -p "$dest/proc/$p"
    for f in stat status cmdline; do
        cat "/proc/$p/$f" >"$dest/proc/$p/$f"
    done
done
