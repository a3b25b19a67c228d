#!/usr/bin/python3
"""Load: wrk at 64 connections for 60 s on a mix of endpoints of every worker
the host layer runs (tools, vars, files, metrics, systemd's journal), against
the real binaries socket-activated as in tests/integration (not in CI):

    TAILKITD_BUILD_DIR=/tmp/b nice -n 19 tests/reliability/load.py [SECONDS] [CONNECTIONS]

Checks: zero answers other than 200 and zero socket errors, no worker
restarted (same PIDs), each worker's RSS and open fds after equal to before
± 10% (measured after a warm-up). wrk connects from 127.0.0.1, so the fake
tailscaled gets a fixture table where 127.0.0.1 is the every-cap peer."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import conftest  # noqa: E402

WORKERS = ("tools", "vars", "files", "metrics", "systemd")


class Fake(conftest.FakeTailscaled):
    def __init__(self, sock, workdir):
        super().__init__(sock, workdir)
        self.fixtures = Path(workdir) / "fixtures"
        shutil.copytree(conftest.TESTS / "fake-tailscaled" / "fixtures", self.fixtures)
        peers = json.loads((self.fixtures / "peers.json").read_text())
        peers["127.0.0.1"] = "user-node.json"
        (self.fixtures / "peers.json").write_text(json.dumps(peers))

    def start(self):
        self.sock.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([str(conftest.FAKE), "--socket", str(self.sock), "--fixtures",
                                      str(self.fixtures)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conftest.wait_for(self.sock.exists, what="fake tailscaled")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    conns = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    workdir = tempfile.mkdtemp(prefix="tailkitd-load-")
    node = conftest.Node("host", workdir)
    node.fake = Fake(node.fake.sock, workdir)
    files = Path(workdir) / "files"
    files.mkdir()
    (files / "a.txt").write_text("load\n")
    node.start()
    (node.config_dir / "files.toml").write_text(f'[["{files}/"]]\nread = true\n')
    node.request("PUT", "/vars/myapp/load/K", body=b'{"value":"v"}', headers={"Content-Type": "application/json"})
    node.install_tool("devbox", (conftest.TESTS / "integration" / "data" / "devbox.json").read_text())
    paths = ["/tools", "/health", "/tools/devbox", "/vars/myapp/load", "/vars/myapp/load/K",
             f"/files?path={files}/a.txt", f"/files?dir={files}/", "/integrations/metrics/memory",
             "/integrations/metrics/host", "/integrations/metrics/network",
             "/integrations/systemd/journal?lines=1"]
    try:
        for p in paths * 3:     # warm-up: every worker running, caches filled
            r = node.get(p, src="127.0.0.1")
            assert r.status == 200, (p, r)
        env = dict(os.environ, LOAD_PATHS=" ".join(paths))

        def wrk(duration):
            return subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{duration}s", "--timeout", "10s", "-s",
                                   str(HERE / "load.lua"), f"http://{node.host}:{node.port}/"],
                                  env=env, capture_output=True, text=True).stdout

        def settled():
            # Closed connections leave the workers as they notice: wait until
            # each holds only its listening and bookkeeping fds again.
            conftest.wait_for(lambda: all(fds(node.worker_pid(w)) <= idle_fds[w] for w in WORKERS),
                              timeout=60, interval=0.5, what="the workers to drop closed connections")

        idle_fds = {w: fds(node.worker_pid(w)) for w in WORKERS}
        # The same load once first: thread pools and malloc arenas grow to
        # their working size then; a leak shows as growth after it.
        wrk(10)
        settled()
        before = {w: (node.worker_pid(w), node.rss_kib(node.worker_pid(w)), fds(node.worker_pid(w)))
                  for w in WORKERS}
        out = wrk(secs)
        print(out)
        settled()
        after = {w: (node.worker_pid(w), node.rss_kib(node.worker_pid(w)) if node.worker_pid(w) else 0,
                     fds(node.worker_pid(w)) if node.worker_pid(w) else 0) for w in WORKERS}
        ok = True
        line = next(l for l in out.splitlines() if l.startswith("LOAD "))
        fields = dict(kv.split("=") for kv in line.split()[1:])
        if fields["bad_status"] != "0" or fields["socket_errors"] != "0":
            ok = False
        for w in WORKERS:
            (p0, rss0, fd0), (p1, rss1, fd1) = before[w], after[w]
            same = p0 == p1
            rss_ok = abs(rss1 - rss0) <= rss0 * 0.10
            fd_ok = abs(fd1 - fd0) <= max(1, fd0 * 0.10)
            ok &= same and rss_ok and fd_ok
            print(f"{w}: pid {p0}->{p1} rss {rss0}->{rss1} KiB fds {fd0}->{fd1} "
                  f"{'ok' if same and rss_ok and fd_ok else 'FAIL'}")
        print("RESULT", "ok" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        node.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
