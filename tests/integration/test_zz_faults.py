"""Fault injection under the real systemd: `kill -9` of the vars, files and
exec workers at random points while callers write (≥ 100 kills in all).
Every request either succeeds or fails cleanly (a JSON error status, or the
connection cut by the kill), the next request after a kill succeeds (socket
activation starts a new worker), no acknowledged write is lost (vars, files)
and no accepted job is lost (exec). The fake tailscaled stopped and
started again under load (both layers): 503 naming the socket meanwhile,
200 after. A full disk under vars (the state directory) and files (a rule's
directory), each a small tmpfs mounted for the test: 507 with a hint, the
previous data intact, no temp file left. dockerd stopped and started is
test_docker.py's test_engine_stopped_then_started.

About 20 s under the real systemd: in CI, whole."""

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import system_only, wait_for

KILLS = {"vars": 40, "files": 40, "exec": 20}
FINAL = ("completed", "failed", "cancelled")
# A request the kill cut: the connection closed or reset under it.
CUT = (ConnectionError, http.client.HTTPException, OSError)
FILES_DIR = Path("/srv/tkfaults")


def main_pid(worker):
    out = subprocess.run(["systemctl", "show", "-P", "MainPID", f"tailkitd@{worker}.service"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return int(out)


def clean_failure(r):
    """A JSON error with a status that says "not now": a worker restarting
    (503), the dispatcher's 502/504, a limit (429), or a 500."""
    if r.status not in (429, 500, 502, 503, 504):
        return False
    try:
        return "error" in r.json()
    except ValueError:
        return False


class Load:
    """Writer threads; each records what was acknowledged and how every
    other request ended."""

    def __init__(self, node, write, n_threads=3):
        self.node, self.write, self.n = node, write, n_threads
        self.stop = threading.Event()
        self.acked = []
        self.unclean = []
        self.failed_clean = 0
        self.lock = threading.Lock()

    def run(self, t):
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                ok, r, item = self.write(self.node, t, i)
            except CUT:
                with self.lock:
                    self.failed_clean += 1      # the kill cut the connection
                continue
            except Exception as e:              # noqa: BLE001 — a thread's error must reach the test
                with self.lock:
                    self.unclean.append(f"{type(e).__name__}: {e}")
                continue
            with self.lock:
                if ok:
                    self.acked.append(item)
                elif clean_failure(r):
                    self.failed_clean += 1
                else:
                    self.unclean.append(repr(r))

    def __enter__(self):
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(self.n)]
        for th in self.threads:
            th.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for th in self.threads:
            th.join(60)


def kill_loop(node, worker, kills, probe):
    """kill -9 the worker `kills` times at random moments; after each, the
    next probe request must succeed."""
    done = 0
    rnd = random.Random(14)
    while done < kills:
        pid = wait_for(lambda: main_pid(worker), timeout=20, what=f"tailkitd@{worker} to run")
        threading.Event().wait(rnd.uniform(0.0, 0.15))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        done += 1
        wait_for(lambda: main_pid(worker) != pid, timeout=20, what="the killed worker to be gone")
        r = probe()
        assert 200 <= r.status < 300, (worker, done, r)
    return done


def put_var(node, t, i):
    key = f"K{t}_{i}"
    value = f"v{t}-{i}-" + "x" * (i % 300)
    r = node.request("PUT", f"/vars/myapp/faults/{key}", body=json.dumps({"value": value}).encode(),
                     headers={"Content-Type": "application/json"}, timeout=30)
    return r.status == 200, r, (key, value)


@system_only
def test_kill_vars_worker_under_writes(node):
    with Load(node, put_var) as load:
        kills = kill_loop(node, "vars", KILLS["vars"], lambda: node.get("/vars/myapp/faults", timeout=30))
    assert not load.unclean, load.unclean[:5]
    stored = node.get("/vars/myapp/faults").json()
    lost = [k for k, v in load.acked if stored.get(k) != v]
    print(f"vars: {kills} kills, {len(load.acked)} acknowledged writes, {load.failed_clean} cut or 5xx, "
          f"{len(lost)} lost")
    assert load.acked and not lost, lost[:5]
    assert node.request("DELETE", "/vars/myapp/faults").status == 204


@pytest.fixture
def faults_dir(node):
    toml = node.config_dir / "files.toml"
    saved = toml.read_text() if toml.exists() else None
    if FILES_DIR.exists():
        shutil.rmtree(FILES_DIR)
    FILES_DIR.mkdir(parents=True)
    toml.write_text(f'[["{FILES_DIR}/"]]\nread = true\nwrite = true\n')
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)
    yield FILES_DIR
    if saved is None:
        toml.unlink()
    else:
        toml.write_text(saved)
    shutil.rmtree(FILES_DIR, ignore_errors=True)
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)


def file_data(t, i):
    return f"{t}-{i}\n".encode() * (1 + i % 2000)


def put_file(node, t, i):
    path = f"{FILES_DIR}/f{t}-{i % 50}"     # overwrites too: the last acknowledged version must be there
    r = node.request("POST", "/files", body=file_data(t, i), timeout=30,
                     headers={"X-Dest-Path": path, "Content-Type": "application/octet-stream"})
    return r.status == 200, r, (path, i)


@system_only
def test_kill_files_worker_under_uploads(node, faults_dir):
    with Load(node, put_file) as load:
        kills = kill_loop(node, "files", KILLS["files"],
                          lambda: node.get(f"/files?dir={faults_dir}/", timeout=30))
    assert not load.unclean, load.unclean[:5]
    # One thread writes each path, in order. After the kills a path holds the
    # last acknowledged version, or a later one whose reply the kill cut —
    # complete, never torn, never older.
    last = {}
    for path, i in load.acked:
        last[path] = max(i, last.get(path, -1))
    lost = []
    for path, i in last.items():
        content = Path(path).read_bytes()
        t = int(Path(path).name[1:].split("-")[0])
        tag = content.split(b"\n", 1)[0].decode(errors="replace")
        got = int(tag.split("-")[1]) if re.fullmatch(r"\d+-\d+", tag) else -1
        if got < i or content != file_data(t, got):
            lost.append((path, i, tag))
    leftovers = [p for p in os.listdir(faults_dir) if not p.startswith("f")]
    print(f"files: {kills} kills, {len(load.acked)} acknowledged uploads, {load.failed_clean} cut or 5xx, "
          f"{len(lost)} lost, {len(leftovers)} stray temp files")
    assert load.acked and not lost, lost[:5]
    assert not leftovers, leftovers[:5]


TOOL = {"name": "faulttool", "version": "1.0.0", "tsnet_host": "faulttool",
        "commands": [{"name": "hello", "description": "", "acl_cap": "", "exec_parts": ["/bin/echo", "hello"],
                      "timeout": 30_000_000_000, "args": []}]}


def job_state(node, job):
    """The job's status, None while it runs or when the kill cut the GET."""
    try:
        r = node.get(f"/exec/jobs/{job}", timeout=30)
    except CUT:
        return None
    assert r.status == 200, (job, r)           # never lost, even right after a kill
    s = r.json()["status"]
    return s if s in FINAL else None


def start_job(node, t, i):
    r = node.request("POST", "/exec/faulttool/hello", timeout=30)
    return r.status == 202, r, (r.json()["job_id"] if r.status == 202 else None)


def post_job_probe(node):
    """The first POST after a kill that is not refused for max_jobs: 429 is
    a clean "retry later" while jobs the writers started (and jobs whose
    worker was killed, until their processes end) fill the 16 slots."""
    def attempt():
        r = node.request("POST", "/exec/faulttool/hello", timeout=30)
        return None if r.status == 429 else r
    return wait_for(attempt, timeout=60, interval=0.05, what="a POST not refused with 429")


@system_only
def test_kill_exec_worker_loses_no_job(node):
    node.install_tool("faulttool", TOOL)
    try:
        with Load(node, start_job, n_threads=2) as load:
            kills = kill_loop(node, "exec", KILLS["exec"], lambda: post_job_probe(node))
        assert not load.unclean, load.unclean[:5]
        # After the last kill, every accepted job is still known, finished.
        finals = {job: wait_for(lambda: job_state(node, job), timeout=60, interval=0.2,
                                what=f"job {job} to finish")
                  for job in load.acked}
        counts = {s: list(finals.values()).count(s) for s in set(finals.values())}
        print(f"exec: {kills} kills, {len(load.acked)} accepted jobs, {load.failed_clean} cut or 5xx, "
              f"final states {counts}")
        assert load.acked
    finally:
        node.remove_tool("faulttool")


# ---- the LocalAPI restarted under load (both layers) ---------------------------------


def unix_connects(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
            return True
        except OSError:
            return False


def test_tailscaled_restarted_under_load(node, fake):
    """Callers keep asking while tailscaled is down: each gets 200 or a 503
    naming the socket, never anything else; every request begun after it is
    back succeeds (no worker restart, no state to reset)."""
    paths = ["/tools", "/vars/myapp/faults", "/integrations/metrics/host"]
    phase = ["up"]
    seen = []                          # (phase when the request began, status, body)
    lock = threading.Lock()
    stop = threading.Event()

    def caller(t):
        i = 0
        while not stop.is_set():
            i += 1
            began = phase[0]
            try:
                r = node.get(paths[(t + i) % len(paths)], timeout=30)
                item = (began, r.status, r.body)
            except CUT as e:
                item = (began, None, repr(e).encode())
            with lock:
                seen.append(item)

    def count(ph, status):
        with lock:
            return sum(1 for p, s, _ in seen if p == ph and s == status)

    threads = [threading.Thread(target=caller, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    try:
        wait_for(lambda: count("up", 200) >= 10, timeout=30, what="answers before the stop")
        phase[0] = "down"
        fake.stop()
        wait_for(lambda: count("down", 503) >= 10, timeout=30, what="503s while tailscaled is down")
        fake.start()
        wait_for(lambda: unix_connects(node.fake.sock), what="the LocalAPI to accept again")
        phase[0] = "back"
        wait_for(lambda: count("back", 200) >= 30, timeout=30, what="answers after the restart")
    finally:
        stop.set()
        for th in threads:
            th.join(60)
        if node.fake.proc is None:
            node.fake.start()

    # A request begun before the stop may still meet it (503 too); one begun
    # after the LocalAPI accepts again must succeed.
    bad = [(p, s, b[:200]) for p, s, b in seen if s not in (200, 503) or (p == "back" and s != 200)]
    for p, s, b in seen:
        if s == 503:
            body = json.loads(b)
            assert body["error"] and str(node.fake.sock) in body["hint"], body
    counts = {p: {s: sum(1 for q, t, _ in seen if q == p and t == s) for s in {t for q, t, _ in seen if q == p}}
              for p in ("up", "down", "back")}
    print(f"tailscaled restart: statuses by phase {counts}")
    assert not bad, bad[:5]


# ---- a full disk (small tmpfs, system layer) -----------------------------------------


def mount_tmpfs(path, size, owner=None):
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size},mode=0750"
    if owner is not None:
        opts += f",uid={owner},gid={owner}"
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tkfull", str(path)], check=True)


def umount(path):
    subprocess.run(["umount", str(path)], check=True)


def tailkitd_uid():
    return int(subprocess.run(["id", "-u", "tailkitd"], capture_output=True, text=True,
                              check=True).stdout)


@pytest.fixture
def vars_on_small_tmpfs(node):
    """/var/lib/tailkitd/vars on a 256 KiB tmpfs, seen by a vars worker
    started after the mount (its sandbox copies the mounts it starts with)."""
    store = Path("/var/lib/tailkitd/vars")
    subprocess.run(["systemctl", "stop", "tailkitd@vars.service"], check=True)
    mount_tmpfs(store, "256k", tailkitd_uid())
    try:
        yield store
    finally:
        subprocess.run(["systemctl", "stop", "tailkitd@vars.service"], check=True)
        umount(store)


@system_only
def test_vars_disk_full_is_507_and_keeps_the_scope(node, vars_on_small_tmpfs):
    put = lambda key, value: node.request(  # noqa: E731
        "PUT", f"/vars/myapp/full/{key}", body=json.dumps({"value": value}).encode(),
        headers={"Content-Type": "application/json"})
    for i in range(5):
        assert put(f"K{i}", f"small-{i}").status == 200
    before = node.get("/vars/myapp/full").json()
    # 200 KiB fits the value limit (1 MiB) and the scope limit (32 MiB), not
    # the disk once the old file is still there beside the new one.
    r = put("BIG", "x" * 200_000)
    assert r.status == 200, r
    r = put("BIG2", "y" * 200_000)
    assert r.status == 507, r
    body = r.json()
    assert "no space" in body["error"] and "/var/lib/tailkitd/vars" in body["hint"], body
    after = node.get("/vars/myapp/full")
    assert after.status == 200 and "BIG2" not in after.json()
    assert {k: v for k, v in after.json().items() if k != "BIG"} == before
    assert [p.name for p in (vars_on_small_tmpfs / "myapp").iterdir() if "tmp" in p.name] == []
    # Space again: the next write works, the worker never restarted.
    assert node.request("DELETE", "/vars/myapp/full/BIG").status == 204
    assert put("BIG2", "y" * 200_000).status == 200
    assert node.request("DELETE", "/vars/myapp/full").status == 204


@pytest.fixture
def files_on_small_tmpfs(node, faults_dir):
    """The faults rule's directory on a 1 MiB tmpfs, made writable for the
    worker by the generator at the next start."""
    subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)
    mount_tmpfs(faults_dir, "1m")
    try:
        yield faults_dir
    finally:
        subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)
        umount(faults_dir)


@system_only
def test_files_disk_full_is_507_and_keeps_the_file(node, files_on_small_tmpfs):
    d = files_on_small_tmpfs
    post = lambda name, data: node.request(  # noqa: E731
        "POST", "/files", body=data, timeout=30,
        headers={"X-Dest-Path": f"{d}/{name}", "Content-Type": "application/octet-stream"})
    old = b"the previous version\n" * 1000
    assert post("kept", old).status == 200
    for name, size in (("kept", 2 << 20), ("new", 2 << 20)):   # twice the file system
        r = post(name, b"z" * size)
        assert r.status == 507, (name, r)
        body = r.json()
        assert "no space" in body["error"] and str(d) in body["hint"], body
    assert (d / "kept").read_bytes() == old
    assert sorted(p.name for p in d.iterdir()) == ["kept"]      # no temp file, nothing new
    r = node.get(f"/files?path={d}/kept", headers={"Accept": "application/octet-stream"})
    assert r.status == 200 and r.body == old
    # A declared body larger than the free space is refused before it is
    # read (the worker compares Content-Length with the free space): the
    # answer comes with no byte of the 1 GiB sent, not after request_timeout.
    head = (f"POST /files HTTP/1.1\r\nHost: node\r\nX-Dest-Path: {d}/huge\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {1 << 30}\r\n\r\n").encode()
    out = node.raw(head, timeout=30)
    assert out.startswith(b"HTTP/1.1 507"), out[:300]
    assert sorted(p.name for p in d.iterdir()) == ["kept"]
    assert post("after", b"fits\n").status == 200
