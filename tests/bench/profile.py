#!/usr/bin/python3
"""Instructions and heap allocations per request, for the dispatcher and the
workers, counted by valgrind (stable on these machines, unlike times).

    tests/bench/profile.py BUILD_DIR [--requests N]

Runs the host layer's set-up (tests/integration/conftest.py: the dispatcher
and the workers socket-activated by systemd-socket-activate, the fake
tailscaled) twice under each tool — callgrind for instructions, memcheck for
its "total heap usage" line — once with one request per case (the warm-up:
the worker starts, loads its config, resolves the caller) and once with
1 + N. The difference divided by N is what one more request costs. Cases:
GET /health (tools worker) and GET /vars (vars worker), each with a new
connection per request (what a tailkit client does per call) and on one
kept-alive connection. The log goes to stdout as JSON lines here
(TAILKITD_LOG=json), not to the journal. Not a test; prints a table.
"""

import argparse
import http.client
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

CASES = (  # (name, path, binary of the worker that serves it, keep-alive)
    ("GET /health, new connection each", "/health", "tailkitd-tools", False),
    ("GET /health, one kept-alive connection", "/health", "tailkitd-tools", True),
    ("GET /vars, new connection each", "/vars", "tailkitd-vars", False),
)

TOOLS = {
    "callgrind": ("valgrind --tool=callgrind --callgrind-out-file={out}/cg.%p", r"^summary: (\d+)", "cg.*"),
    "memcheck": ("valgrind --tool=memcheck --log-file={out}/mc-%p.log",
                 r"total heap usage: ([\d,]+) allocs", "mc-*.log"),
}


def binary_of(path, tool):
    text = path.read_text(errors="replace")
    m = re.search(r"^cmd:\s+(\S+)", text, re.M) if tool == "callgrind" else \
        re.search(r"Command: (\S+)", text)
    return Path(m.group(1)).name if m else "?"


def run_once(build, tool, case, n):
    """Returns {binary: count} for one start-to-stop run with 1 + n requests."""
    name, path, _, keepalive = case
    wrapper, pattern, glob = TOOLS[tool]
    out = Path(tempfile.mkdtemp(prefix=f"tailkitd-profile-{tool}-"))
    os.environ["TAILKITD_BUILD_DIR"] = str(build)
    os.environ["TAILKITD_WRAPPER"] = wrapper.format(out=out)
    os.environ["TAILKITD_SANITIZED"] = "1"
    import conftest  # noqa: E402  (reads the environment above)

    node = conftest.Node("host", tempfile.mkdtemp(prefix="tailkitd-profile-node-"))
    node.start()
    try:
        conn = None
        for i in range(1 + n):
            if conn is None or not keepalive:
                conn = http.client.HTTPConnection(node.host, node.port, timeout=60,
                                                  source_address=(conftest.USER, 0))
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"{name}: request {i} answered {r.status}")
            if not keepalive:
                conn.close()
        if conn:
            conn.close()
    finally:
        node.stop()
    counts = {}
    for f in out.glob(glob):
        m = re.search(pattern, f.read_text(errors="replace"), re.M)
        if m:
            counts[binary_of(f, tool)] = counts.get(binary_of(f, tool), 0) + int(m.group(1).replace(",", ""))
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    build = Path(args.build).resolve()
    n = args.requests
    print(f"| case | process | instructions / request | heap allocations / request |")
    print(f"|---|---|---|---|")
    for case in CASES:
        per = {}
        for tool in TOOLS:
            base = run_once(build, tool, case, 0)
            more = run_once(build, tool, case, n)
            for b in ("tailkitd-dispatch", case[2]):
                if b in base and b in more:
                    per.setdefault(b, {})[tool] = (more[b] - base[b]) / n
        for b, v in per.items():
            ir, allocs = v.get("callgrind"), v.get("memcheck")
            print(f"| {case[0]} | {b} | {ir:,.0f} | {allocs:.1f} |" if ir is not None and allocs is not None
                  else f"| {case[0]} | {b} | {ir} | {allocs} |", flush=True)


if __name__ == "__main__":
    main()
