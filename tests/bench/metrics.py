#!/usr/bin/python3
"""Metrics latency and throughput against prometheus-node-exporter, on the
real systemd, in one run (not part of CI; asserts nothing).

tailkitd: GET /integrations/metrics/all through the dispatcher from peer
127.0.0.2 (every section of tests/integration/data/metrics.toml: host, cpu
per core, memory and swap, two disk paths, network, top 5 processes), each
request on a new connection as a tailkit client makes it. ?interval_ms is not
given, so after the first call the CPU figures use the kept sample and no
request sleeps. Peer: node exporter's GET /metrics (its default collectors),
started by this script on 127.0.0.1:9100 unless one already answers there.
For each: sequential latency (median, p99) and throughput with 4 client
threads; then the worker's and the exporter's RSS.

Run with tests/bench/run.sh metrics.py; the container needs
/usr/bin/prometheus-node-exporter (or NODE_EXPORTER=path).
"""

import http.client
import os
import shutil
import statistics
import subprocess
import threading
import time

HOST, PORT, SRC = "127.0.0.1", 80, "127.0.0.2"
NE_PORT = 9100
SEQUENTIAL, THREADS, PER_THREAD = 200, 4, 100


def get(port, path, src=None):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(HOST, port, timeout=30, source_address=(src, 0) if src else None)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200, (port, path, r.status, body[:200])
    return (time.perf_counter() - t0) * 1000, len(body)


def sequential(port, path, src):
    lat = sorted(get(port, path, src)[0] for _ in range(SEQUENTIAL))
    return statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]


def throughput(port, path, src):
    def worker():
        for _ in range(PER_THREAD):
            get(port, path, src)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return THREADS * PER_THREAD / (time.perf_counter() - t0)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main_pid(unit):
    out = subprocess.run(["systemctl", "show", "-P", "MainPID", unit], capture_output=True, text=True).stdout
    return int(out.strip() or 0)


def start_node_exporter():
    try:
        get(NE_PORT, "/metrics")
        return None
    except OSError:
        pass
    binary = os.environ.get("NODE_EXPORTER") or shutil.which("prometheus-node-exporter")
    if not binary:
        return False
    p = subprocess.Popen([binary, f"--web.listen-address={HOST}:{NE_PORT}"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            get(NE_PORT, "/metrics")
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit("node exporter did not start")


def report(name, port, path, src):
    _, size = get(port, path, src)          # warm: process up, CPU sample kept
    med, p99 = sequential(port, path, src)
    rps = throughput(port, path, src)
    print(f"{name:<36} {size:>8} B  median {med:7.2f} ms  p99 {p99:7.2f} ms  {rps:8.1f} req/s ({THREADS} threads)")


def main():
    ne = start_node_exporter()
    try:
        report("tailkitd /integrations/metrics/all", PORT, "/integrations/metrics/all", SRC)
        if ne is False:
            print("prometheus-node-exporter not installed: no peer figures")
        else:
            report("node exporter /metrics", NE_PORT, "/metrics", None)
        print(f"RSS: tailkitd@metrics {rss_kib(main_pid('tailkitd@metrics.service')) / 1024:.1f} MiB, "
              f"dispatcher {rss_kib(main_pid('tailkitd.service')) / 1024:.1f} MiB", end="")
        ne_pid = ne.pid if ne else int(subprocess.run(["pgrep", "-o", "-f", "node.exporter"], capture_output=True,
                                                       text=True).stdout.strip() or 0)
        print(f", node exporter {rss_kib(ne_pid) / 1024:.1f} MiB" if ne_pid else "")
    finally:
        if ne:
            ne.terminate()
            ne.wait()


if __name__ == "__main__":
    main()
