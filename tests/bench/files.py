#!/usr/bin/python3
"""Files throughput on the real systemd: a 1 GiB file uploaded with
POST /files (X-Dest-Path, raw body) and downloaded with GET /files?path=
(application/octet-stream), each against `cp` of the same file on the same
file system in the same run (the peer: what copying the bytes costs without
HTTP, the dispatcher, the worker's checks). The client is curl (C, streaming
from and to a file, as cp does; the download is fsynced like the worker's
upload is), so the figures are the server's, not Python's. Three runs;
reports MiB/s, the median ratios, and the worker's peak RSS; asserts only
that the bytes arrived intact.

The container's filesystem is a tmpfs (nspawn --volatile=overlay): a file
written there is memory charged to the writer's cgroup, so the worker's unit
and tailkitd.slice get MemoryMax room for the file while this runs.
"""

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

HOST, PORT, SRC = "127.0.0.1", 80, "127.0.0.2"
MIB = 1024 * 1024
SIZE = 1024 * MIB
BASE = Path("/srv/tkbench")
RULE = BASE / "in"
TOML = Path("/etc/tailkitd/files.toml")
DROPS = [(Path("/run/systemd/system/tailkitd@files.service.d/90-bench.conf"), "Service", "3G"),
         (Path("/run/systemd/system/tailkitd.slice.d/90-bench.conf"), "Slice", "5G")]


def restart_worker():
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 * MIB)
            if not b:
                return h.hexdigest()
            h.update(b)


def timed_cp(src, dst):
    t = time.monotonic()
    subprocess.run(["cp", str(src), str(dst)], check=True)
    fd = os.open(dst, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return time.monotonic() - t


def upload(src, dest):
    t = time.monotonic()
    out = subprocess.run(["curl", "-sS", "--fail", "--interface", SRC, "-X", "POST", "-T", str(src),
                          "-H", f"X-Dest-Path: {dest}", "-H", "Content-Type: application/octet-stream",
                          "-H", "Expect:", f"http://{HOST}:{PORT}/files"], capture_output=True, check=True)
    took = time.monotonic() - t
    assert b'"bytes_written":%d' % SIZE in out.stdout, out
    return took


def download(path, out):
    t = time.monotonic()
    subprocess.run(["curl", "-sS", "--fail", "--interface", SRC, "-H", "Accept: application/octet-stream",
                    "-o", str(out), f"http://{HOST}:{PORT}/files?path={path}"], check=True)
    fd = os.open(out, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return time.monotonic() - t


def peak_rss_mib():
    pid = subprocess.run(["systemctl", "show", "-P", "MainPID", "tailkitd@files.service"],
                         capture_output=True, text=True, check=True).stdout.strip()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    saved = TOML.read_text() if TOML.exists() else None
    shutil.rmtree(BASE, ignore_errors=True)
    RULE.mkdir(parents=True)
    for path, section, limit in DROPS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"[{section}]\nMemoryMax={limit}\n")
    TOML.write_text(f'[["{RULE}/"]]\nread = true\nwrite = true\n')
    restart_worker()
    try:
        src = BASE / "src.bin"
        with open(src, "wb") as f:
            block = os.urandom(4 * MIB)
            for _ in range(SIZE // len(block)):
                f.write(block)
        want = sha256_of(src)
        rows = []
        for run in range(int(os.environ.get("BENCH_FILES_RUNS", "3"))):
            cp_up = timed_cp(src, BASE / "cp-copy.bin")
            up = upload(src, RULE / "up.bin")
            assert sha256_of(RULE / "up.bin") == want
            cp_down = timed_cp(RULE / "up.bin", BASE / "cp-back.bin")
            down = download(RULE / "up.bin", BASE / "down.bin")
            assert sha256_of(BASE / "down.bin") == want
            rows.append((cp_up, up, cp_down, down))
            for p in ("cp-copy.bin", "cp-back.bin", "down.bin"):
                (BASE / p).unlink()
            (RULE / "up.bin").unlink()
        mib = SIZE / MIB
        for i, (cp_up, up, cp_down, down) in enumerate(rows, 1):
            print(f"run {i}: upload {mib / up:.0f} MiB/s vs cp {mib / cp_up:.0f} MiB/s (ratio {cp_up / up:.2f}); "
                  f"download {mib / down:.0f} MiB/s vs cp {mib / cp_down:.0f} MiB/s (ratio {cp_down / down:.2f})")
        print(f"median ratio (tailkitd throughput / cp throughput): upload "
              f"{statistics.median(c / u for c, u, _, _ in rows):.2f}, download "
              f"{statistics.median(c / d for _, _, c, d in rows):.2f}")
        print(f"worker peak RSS {peak_rss_mib():.1f} MiB (VmHWM), sha256 identical both ways")
        # For tests/bench/run (bench.py): throughput ratios tailkitd / cp.
        print("BENCH_JSON", json.dumps({
            "up": statistics.median(c / u for c, u, _, _ in rows), "down": statistics.median(c / d for _, _, c, d in rows),
            "up_mibs": statistics.median(mib / u for _, u, _, _ in rows),
            "down_mibs": statistics.median(mib / d for _, _, _, d in rows),
            "cp_mibs": statistics.median(mib / c for c, _, _, _ in rows), "peak_rss_mib": peak_rss_mib()}))
    finally:
        if saved is None:
            TOML.unlink()
        else:
            TOML.write_text(saved)
        for path, _, _ in DROPS:
            path.unlink()
        shutil.rmtree(BASE, ignore_errors=True)
        restart_worker()


if __name__ == "__main__":
    main()
