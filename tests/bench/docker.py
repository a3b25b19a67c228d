#!/usr/bin/python3
"""Docker latency: GET /containers and /containers/{id}/stats through
tailkitd against the same Engine call straight on the docker socket with
curl --unix-socket, in one run (not part of CI; asserts nothing).

tailkitd: from peer 127.0.0.2 through the dispatcher, a new connection per
request as a tailkit client makes it (the worker is warm: its idle timeout
is longer than the run). Direct: `curl --unix-socket` for the same Engine
path, run the same way (one process per request), and Python's own HTTP
client on the socket (no process start) as the floor. Each: median and p90
of N sequential requests; then the overhead ratio tailkitd / curl.

Run with tests/bench/run.sh docker.py (docker.io and busybox-static in the
container's rootfs).
"""

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

HOST, PORT, SRC = "127.0.0.1", 80, "127.0.0.2"
SOCK = "/var/run/docker.sock"
N_LIST, N_STATS = 200, 20
CONTAINERS = 10


class Unix(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("docker", timeout=30)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(SOCK)


def tailkitd(path):
    c = http.client.HTTPConnection(HOST, PORT, timeout=30, source_address=(SRC, 0))
    c.request("GET", "/integrations/docker" + path)
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200, (path, r.status, body[:200])
    return body


def python_direct(path):
    c = Unix()
    c.request("GET", "/v1.41" + path)
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200
    return body


def curl_direct(path):
    return subprocess.run(["curl", "-sf", "--unix-socket", SOCK, "http://docker/v1.41" + path],
                          capture_output=True, check=True).stdout


def measure(fn, path, n):
    fn(path)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn(path)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def setup():
    subprocess.run(["systemctl", "start", "docker.service"], check=True)
    root = tempfile.mkdtemp()
    os.makedirs(root + "/bin")
    shutil.copy("/bin/busybox", root + "/bin/busybox")
    for a in ("sh", "sleep"):
        os.symlink("busybox", f"{root}/bin/{a}")
    tar = subprocess.run(["tar", "-C", root, "-c", "."], capture_output=True, check=True).stdout
    subprocess.run(["docker", "import", "-", "local/busybox"], input=tar, capture_output=True, check=True)
    ids = []
    for i in range(CONTAINERS):
        subprocess.run(["docker", "rm", "-f", f"bench-{i}"], capture_output=True)
        ids.append(subprocess.run(["docker", "run", "-d", "--network", "none", "--name", f"bench-{i}", "local/busybox",
                                   "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    os.makedirs("/etc/tailkitd/integrations", exist_ok=True)
    with open("/etc/tailkitd/integrations/docker.toml", "w") as f:
        f.write("[permissions]\ncontainers_read = true\n")
    return ids


def main():
    ids = setup()
    cid = ids[0][:12]
    rows = []
    cases = [("GET /containers", "/containers/json?all=1", N_LIST),
             ("GET /containers/{id}/stats", f"/containers/{cid}/stats?stream=false", N_STATS)]
    if os.environ.get("BENCH_DOCKER_ONLY_LIST"):
        cases = cases[:1]       # tests/bench/run's row
    for what, path, n in cases:
        mine = path.replace("/containers/json?all=1", "/containers").replace("?stream=false", "")
        t = measure(tailkitd, mine, n)
        c = measure(curl_direct, path, n)
        p = measure(python_direct, path, n)
        rows.append((what, n, t, c, p))
    print(f"{CONTAINERS} containers; median / p90 in ms over N sequential requests")
    print(f"{'call':28} {'N':>4} {'tailkitd':>16} {'curl --unix-socket':>20} {'python, socket':>16} {'ratio (median)':>15}")
    for what, n, t, c, p in rows:
        print(f"{what:28} {n:4} {t[0]:7.2f} / {t[1]:6.2f} {c[0]:11.2f} / {c[1]:6.2f} {p[0]:7.2f} / {p[1]:6.2f}"
              f" {t[0] / c[0]:14.2f}x")
    pid = subprocess.run(["systemctl", "show", "-P", "MainPID", "tailkitd@docker.service"], capture_output=True,
                         text=True).stdout.strip()
    if pid and pid != "0":
        rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]
        print(f"docker worker RSS: {int(rss) / 1024:.1f} MiB")
    print(json.dumps({w: {"tailkitd_ms": t[0], "curl_ms": c[0], "python_ms": p[0]} for w, n, t, c, p in rows}))
    # For tests/bench/run (bench.py): GET /containers, tailkitd "a", curl "b".
    _, _, t, c, p = rows[0]
    print("BENCH_JSON", json.dumps({"a": t[0], "b": c[0], "a_p90": t[1], "b_p90": c[1], "python_ms": p[0]}))


if __name__ == "__main__":
    main()
