#!/usr/bin/python3
"""Exec latency on the real systemd: POST /exec/exec-bench/true to the job
reading "completed", against `systemd-run --scope /bin/true` in the same run.

Run inside a system where tailkitd.socket is started (tests/bench/run.sh
exec.py boots the system-test container for it). The script installs its own
tool file, /etc/tailkitd/tools/exec-bench.json (one command, /bin/true), and
removes it at the end. Each exec sample is one POST from peer 127.0.0.2 (new
connection, as a tailkit client does) and, on the same connection, one
GET /exec/jobs/{id}?wait=30, which the node answers when the job has ended; the peer sample is one `systemd-run --scope --quiet /bin/true`,
started from this script as a shell would start it (fork + exec, wait).
Reports median and p99 of both and their ratio, and how many jobs did not
read completed with exit code 0 (timed to their final status all the same);
asserts nothing beyond the HTTP statuses.
"""

import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time

HOST, PORT, SRC = "127.0.0.1", 80, "127.0.0.2"
TOOLS = "/etc/tailkitd/tools"
TOOL = "exec-bench"
RUNS = 50


def install_tool():
    os.makedirs(TOOLS, exist_ok=True)
    tool = {"name": TOOL, "version": "1.0.0", "tsnet_host": TOOL, "commands": [
        {"name": "true", "description": "benchmark: /bin/true", "exec_parts": ["/bin/true"],
         "timeout": 10 * 1000 * 1000 * 1000}]}
    fd, tmp = tempfile.mkstemp(dir=TOOLS, prefix=".tailkit-tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(tool, f)
    os.chmod(tmp, 0o644)
    os.rename(tmp, f"{TOOLS}/{TOOL}.json")


def worker_invocation():
    return subprocess.run(["systemctl", "show", "-P", "InvocationID", "tailkitd@exec.service"],
                          capture_output=True, text=True).stdout.strip()


def exec_once():
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(HOST, PORT, timeout=60, source_address=(SRC, 0))
    c.request("POST", f"/exec/{TOOL}/true", body=None, headers={})
    r = c.getresponse()
    data = r.read()
    assert r.status == 202, (r.status, data)
    job_id = json.loads(data)["job_id"]
    while True:
        # One long poll on the POST's connection (a client's connection pool
        # keeps it); a node answers it when the job has ended.
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            c = http.client.HTTPConnection(HOST, PORT, timeout=60, source_address=(SRC, 0))
        c.request("GET", f"/exec/jobs/{job_id}?wait=30")
        r = c.getresponse()
        data = r.read()
        assert r.status == 200, (r.status, data)
        job = json.loads(data)
        if job["status"] not in ("accepted", "running"):
            break
    c.close()
    ms = (time.perf_counter() - t0) * 1000
    return ms, job["duration_ms"], job


def systemd_run_once():
    t0 = time.perf_counter()
    subprocess.run(["systemd-run", "--scope", "--quiet", "/bin/true"], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t0) * 1000


def stats(samples):
    s = sorted(samples)
    return statistics.median(s), s[int(0.99 * (len(s) - 1))]


def main():
    install_tool()
    try:
        exec_once()            # warm: the worker is up, the registry loaded
        systemd_run_once()
        before = worker_invocation()
        exec_ms, job_ms, jobs = zip(*(exec_once() for _ in range(RUNS)))
        after = worker_invocation()
        peer_ms = [systemd_run_once() for _ in range(RUNS)]
    finally:
        os.unlink(f"{TOOLS}/{TOOL}.json")

    e_med, e_p99 = stats(exec_ms)
    p_med, p_p99 = stats(peer_ms)
    j_med, j_p99 = stats(job_ms)
    print(f"exec /bin/true, POST to completed ({RUNS} jobs, one ?wait=30 poll each): "
          f"median {e_med:.2f} ms, p99 {e_p99:.2f} ms (job duration_ms: median {j_med:.0f}, p99 {j_p99:.0f})")
    print(f"systemd-run --scope /bin/true ({RUNS} runs): median {p_med:.2f} ms, p99 {p_p99:.2f} ms")
    print(f"ratio exec/systemd-run: median {e_med / p_med:.2f}, p99 {e_p99 / p_p99:.2f}")
    bad = [j for j in jobs if (j["status"], j["exit_code"]) != ("completed", 0)]
    if bad:
        print(f"WARNING: {len(bad)} of {RUNS} jobs did not read completed/0 (timed to their final status "
              f"anyway); first: {bad[0]['status']} exit_code {bad[0]['exit_code']} error {bad[0].get('error')!r}")
    if before != after:
        print("note: the exec worker was re-activated during the exec samples (some include a cold start)")
    # For tests/bench/run (bench.py): tailkitd is "a", the peer "b".
    print("BENCH_JSON", json.dumps({"a": e_med, "b": p_med, "a_p99": e_p99, "b_p99": p_p99,
                                    "job_ms": j_med, "not_completed": len(bad), "reactivated": before != after}))


if __name__ == "__main__":
    main()
