#!/usr/bin/python3
"""Cold vs warm request latency and process RSS, on the real systemd.

Run inside a system where tailkitd.socket is started (tests/bench/run.sh boots
the system-test container for it). Cold: no tailkitd process exists, so the
request makes systemd start the dispatcher and the tools worker. Warm: both
are up. This reports figures for the closing notes; it asserts nothing.
"""

import http.client
import statistics
import subprocess
import time

HOST, PORT, SRC = "127.0.0.1", 80, "127.0.0.2"


def sh(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def main_pid(unit):
    return int(sh("systemctl", "show", "-P", "MainPID", unit))


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def get(path="/tools"):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(HOST, PORT, timeout=10, source_address=(SRC, 0))
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    c.close()
    assert r.status == 200, r.status
    return (time.perf_counter() - t0) * 1000


def stop_all():
    sh("systemctl", "stop", "tailkitd.service", "tailkitd@tools.service")
    while main_pid("tailkitd.service") or main_pid("tailkitd@tools.service"):
        time.sleep(0.05)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


cold = []
for _ in range(15):
    stop_all()
    time.sleep(0.2)
    cold.append(get())

get()
warm = [get() for _ in range(300)]

rss_dispatch = rss_kib(main_pid("tailkitd.service"))
rss_tools = rss_kib(main_pid("tailkitd@tools.service"))

print(f"cold request (dispatcher + tools worker activated): median {statistics.median(cold):.1f} ms, "
      f"p90 {pct(cold, 90):.1f} ms over {len(cold)}")
print(f"warm request: median {statistics.median(warm):.2f} ms, p99 {pct(warm, 99):.2f} ms over {len(warm)}")
print(f"RSS: dispatcher {rss_dispatch} KiB, tools worker {rss_tools} KiB")
