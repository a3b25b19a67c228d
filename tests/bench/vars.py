#!/usr/bin/python3
"""Vars throughput through the dispatcher, on the real systemd.

PUT and GET /vars/stress/bench/K<n> from 8 client threads, each request on a
new connection from peer 127.0.0.2 (what a tailkit client does). Reports req/s
and latency percentiles. The peer figure in the same run is the storage cost
alone: the same write + fsync + rename + directory fsync sequence done by this
script in the same file system, so "fsync cost per PUT" is measured, not
assumed. A second peer, GET /health, is the same path without storage
(dispatcher, worker, whois against the fake tailscaled): the ratio shows what
the store itself costs. Reports figures; asserts nothing.
"""

import http.client
import os
import statistics
import threading
import time

HOST, PORT, SRC = "127.0.0.1", 80, "127.0.0.2"
THREADS, PER_THREAD = 8, 150


def request(method, path, body=None):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(HOST, PORT, timeout=30, source_address=(SRC, 0))
    c.request(method, path, body=body)
    r = c.getresponse()
    r.read()
    c.close()
    assert r.status in (200, 204), (method, path, r.status)
    return (time.perf_counter() - t0) * 1000


def run(method, path_of=None):
    lat = []
    lock = threading.Lock()

    def worker(tid):
        mine = []
        for i in range(PER_THREAD):
            key = f"K{tid}_{i}"
            if path_of:
                mine.append(request("GET", path_of))
            elif method == "PUT":
                mine.append(request("PUT", f"/vars/stress/bench/{key}", body=f"value-{i}".encode()))
            else:
                mine.append(request("GET", f"/vars/stress/bench/{key}"))
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat.sort()
    return len(lat) / elapsed, statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]


def storage_peer(n=300):
    d = "/var/lib/tailkitd/bench-peer"
    os.makedirs(d, exist_ok=True)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    data = b"{" + b'"K":"v",' * 600 + b'"_":"x"}'
    t0 = time.perf_counter()
    for i in range(n):
        fd = os.open(f"{d}/.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.rename(f"{d}/.tmp", f"{d}/scope.json")
        os.fsync(dfd)
    per = (time.perf_counter() - t0) / n * 1000
    os.close(dfd)
    return per


request("DELETE", "/vars/stress/bench")
put = run("PUT")
get = run("GET")
request("DELETE", "/vars/stress/bench")
health = run("GET", "/health")
fs = storage_peer()
print(f"PUT: {put[0]:.0f} req/s, median {put[1]:.2f} ms, p99 {put[2]:.2f} ms ({THREADS} clients, one scope)")
print(f"GET: {get[0]:.0f} req/s, median {get[1]:.2f} ms, p99 {get[2]:.2f} ms")
print(f"peer, GET /health (dispatcher + whois, no storage): {health[0]:.0f} req/s, median {health[1]:.2f} ms, "
      f"p99 {health[2]:.2f} ms; PUT/health throughput ratio {put[0] / health[0]:.2f}")
print(f"storage alone (write+fsync+rename+dir fsync, same fs): {fs:.3f} ms per write")
