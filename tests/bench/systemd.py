#!/usr/bin/python3
"""systemd integration against the peers a user would pick instead, on the
real systemd, in one run (not part of CI; asserts nothing but counts).

1. Journal read throughput: 6000 native entries logged by one transient
   unit; tailkitd's GET /integrations/systemd/units/<unit>/journal?lines=5000
   (the whole journalctl -u match set, the priority floor of systemd.toml,
   one JSON array streamed an entry at a time) against
   systemd-journal-gatewayd's GET /entries?_SYSTEMD_UNIT=<unit> with
   Range: entries=:-4999:5000 and Accept: application/json (one JSON object
   per line), each on a new connection. Entries per second from the median
   of 15 reads; both must return 5000 entries.
2. GET /integrations/systemd/units latency (median, p90 of 50 requests on new
   connections) against `busctl call … ListUnits` (a process that connects
   to the bus and calls the same method; its time includes exec).

Run with tests/bench/run.sh systemd.py (or the same steps by hand); the
container needs systemd-journal-gatewayd (package systemd-journal-remote)
at /lib/systemd/systemd-journal-gatewayd or $GATEWAYD.
"""

import http.client
import json
import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path

HOST, PORT, SRC = "127.0.0.1", 80, "127.0.0.2"
GW_PORT = 19531
N_LOG, LINES, READS, LIST_REQS = 6000, 5000, 15, 50

LOGGER = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect("/run/systemd/journal/socket")
for i in range(int(sys.argv[1])):
    msg = f"bench line {i} " + "x" * 80
    buf = b""
    for k, v in (("MESSAGE", msg), ("PRIORITY", "6"), ("TKD_SEQ", str(i))):
        v = v.encode()
        buf += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
    s.send(buf)
time.sleep(1)
"""


def request(port, path, headers=None, src=None):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(HOST, port, timeout=60, source_address=(src, 0) if src else None)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status in (200, 206), (port, path, r.status, body[:300])
    return time.perf_counter() - t0, body


def median_p90(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[int(0.9 * (len(xs) - 1))]


def main():
    unit = f"tkd-bench-{uuid.uuid4().hex[:6]}.service"
    Path("/run/tkd-bench-logger.py").write_text(LOGGER)
    subprocess.run(["systemd-run", "--quiet", "--wait", "--collect", f"--unit={unit}", "/usr/bin/python3",
                    "/run/tkd-bench-logger.py", str(N_LOG)], check=True)
    for _ in range(100):
        out = subprocess.run(["journalctl", "-u", unit, "--output-fields=TKD_SEQ", "-o", "json"],
                             capture_output=True, text=True).stdout
        if sum('"TKD_SEQ"' in l for l in out.splitlines()) >= N_LOG:
            break
        time.sleep(0.2)

    gatewayd = os.environ.get("GATEWAYD", "/lib/systemd/systemd-journal-gatewayd")
    gw = subprocess.Popen([gatewayd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                request(GW_PORT, "/machine")
                break
            except OSError:
                time.sleep(0.1)

        tk_path = f"/integrations/systemd/units/{unit}/journal?lines={LINES}"
        gw_path = f"/entries?_SYSTEMD_UNIT={unit}"
        gw_headers = {"Accept": "application/json", "Range": f"entries=:-{LINES - 1}:{LINES}"}
        # Warm both (page cache, mmaps), then interleave the reads.
        _, body = request(PORT, tk_path, src=SRC)
        tk_n = len(json.loads(body))
        _, body = request(GW_PORT, gw_path, gw_headers)
        gw_n = sum(1 for l in body.splitlines() if l.strip())
        tk_t, gw_t = [], []
        for _ in range(READS):
            tk_t.append(request(PORT, tk_path, src=SRC)[0])
            gw_t.append(request(GW_PORT, gw_path, gw_headers)[0])
        tk_m, gw_m = statistics.median(tk_t), statistics.median(gw_t)
        print(f"journal lines={LINES}: tailkitd {tk_n} entries, median {tk_m * 1000:.1f} ms, "
              f"{tk_n / tk_m:,.0f} entries/s; journal-gatewayd {gw_n} entries, median {gw_m * 1000:.1f} ms, "
              f"{gw_n / gw_m:,.0f} entries/s; ratio {tk_m / gw_m:.2f}x the time")
        journal = {"a": tk_n / tk_m, "b": gw_n / gw_m, "a_entries": tk_n, "b_entries": gw_n}
    finally:
        gw.terminate()
        gw.wait()

    lat = [request(PORT, "/integrations/systemd/units", src=SRC)[0] for _ in range(LIST_REQS)]
    n_units = len(json.loads(request(PORT, "/integrations/systemd/units", src=SRC)[1]))
    bus = []
    for _ in range(LIST_REQS):
        t0 = time.perf_counter()
        subprocess.run(["busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                        "org.freedesktop.systemd1.Manager", "ListUnits"], check=True, stdout=subprocess.DEVNULL)
        bus.append(time.perf_counter() - t0)
    (tm, tp), (bm, bp) = median_p90(lat), median_p90(bus)
    print(f"GET /units ({n_units} units): tailkitd median {tm * 1000:.2f} ms p90 {tp * 1000:.2f} ms; "
          f"busctl call ListUnits median {bm * 1000:.2f} ms p90 {bp * 1000:.2f} ms")
    # For tests/bench/run (bench.py): entries/s, tailkitd "a", gatewayd "b".
    print("BENCH_JSON", json.dumps({**journal, "units_ms": tm * 1000, "busctl_ms": bm * 1000}))


if __name__ == "__main__":
    main()
