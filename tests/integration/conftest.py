"""Shared fixtures for tailkitd's integration suites.

The same tests run in two modes:

* host (default): the built binaries from TAILKITD_BUILD_DIR (default
  ../../build) are socket-activated by systemd-socket-activate on loopback,
  with a private config dir, runtime dir and fake tailscaled. Logs are the
  workers' JSON lines on stderr.
* system (TAILKITD_TEST_MODE=system): inside the booted container, against the
  installed units started by systemd (tailkitd.socket on port 80); config in
  /etc/tailkitd, fake tailscaled on the default LocalAPI socket, logs from the
  journal.

Peers are loopback source addresses (tests/fake-tailscaled/fixtures):
127.0.0.2 every cap read+write, 127.0.0.3 read-only, 127.0.0.4 no caps, others
see the fixture README; anything not listed is not a tailnet peer.
"""

import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
FAKE = TESTS / "fake-tailscaled" / "fake-tailscaled"
MODE = os.environ.get("TAILKITD_TEST_MODE", "host")

USER = "127.0.0.2"       # every tailkitd cap, read+write
READONLY = "127.0.0.3"   # tagged, read-only caps
NOCAPS = "127.0.0.4"     # a peer with no caps
CUSTOM = "127.0.0.5"     # caps under example.com only
STRANGER = "127.0.0.99"  # not a tailnet peer

# [server] request_timeout in every mode's tailkitd.conf (short, so the
# deadline tests finish quickly; tests/system/setup-in-container.sh agrees).
REQUEST_TIMEOUT = 5


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The vars scopes every mode configures (tests/system/setup-in-container.sh
# writes the same file into the container).
VARS_TOML = (Path(__file__).resolve().parent / "data" / "vars.toml").read_text()
# Likewise metrics.toml: every section on (test_metrics.py narrows it per test).
METRICS_TOML = (Path(__file__).resolve().parent / "data" / "metrics.toml").read_text()
# And systemd.toml: units read+write, the journal on (test_systemd.py narrows it).
SYSTEMD_TOML = (Path(__file__).resolve().parent / "data" / "systemd.toml").read_text()


def tailkitctl_path():
    """The tailkitctl under test: the installed one under the real systemd,
    the build's otherwise."""
    if MODE == "system":
        return Path(shutil.which("tailkitctl") or "/usr/bin/tailkitctl")
    build = Path(os.environ.get("TAILKITD_BUILD_DIR", REPO / "build")).resolve()
    return build / "src/ctl/tailkitctl"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class FakeTailscaled:
    def __init__(self, sock, workdir):
        self.sock = Path(sock)
        self.control = Path(workdir) / "fake-control.json"
        self.request_log = Path(workdir) / "fake-requests.jsonl"
        self.log = Path(workdir) / "fake-tailscaled.log"
        self.proc = None

    def start(self):
        self.sock.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(FAKE), "--socket", str(self.sock), "--control", str(self.control),
             "--request-log", str(self.request_log)],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        wait_for(self.sock.exists, what=f"fake tailscaled socket {self.sock}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.sock.exists():
            self.sock.unlink()

    def set_mode(self, mode, **kw):
        self.control.write_text(json.dumps(dict(mode=mode, **kw)))

    def requests(self):
        if not self.request_log.exists():
            return []
        return [json.loads(l) for l in self.request_log.read_text().splitlines() if l.strip()]


class Node:
    """One tailkitd under test, reached over loopback from chosen peers."""

    def __init__(self, mode, workdir):
        self.mode = mode
        self.workdir = Path(workdir)
        self.procs = {}
        if mode == "system":
            self.host, self.port = "127.0.0.1", 80
            self.config_dir = Path("/etc/tailkitd")
            self.runtime_dir = Path("/run/tailkitd")
            self.state_dir = Path("/var/lib/tailkitd")
            self.fake = FakeTailscaled("/run/tailscale/tailscaled.sock", workdir)
        else:
            build = Path(os.environ.get("TAILKITD_BUILD_DIR", REPO / "build")).resolve()
            self.bin = {
                "dispatch": build / "src/dispatch/tailkitd-dispatch",
                "tools": build / "src/tools/tailkitd-tools",
                "vars": build / "src/vars/tailkitd-vars",
                "metrics": build / "src/metrics/tailkitd-metrics",
                "docker": build / "src/docker/tailkitd-docker",
                "files": build / "src/files/tailkitd-files",
                "systemd": build / "src/systemd/tailkitd-systemd",
                "tailkitd": build / "src/tailkitd/tailkitd",
            }
            self.host, self.port = "127.0.0.1", free_port()
            self.config_dir = self.workdir / "etc"
            self.runtime_dir = self.workdir / "run"
            self.state_dir = self.workdir / "state"
            self.fake = FakeTailscaled(self.workdir / "tailscaled.sock", workdir)
        self.tools_dir = self.config_dir / "tools"

    # --- lifecycle ---------------------------------------------------------

    def env(self):
        return {
            "TAILKITD_CONFIG_DIR": str(self.config_dir),
            "TAILKITD_RUNTIME_DIR": str(self.runtime_dir),
            "TAILKITD_IDLE_TIMEOUT": "0",
            "TAILKITD_LOG": "json",
            "STATE_DIRECTORY": str(self.state_dir),
            # Each worker's counters (src/shared/worker-stats.h); under
            # systemd, its RuntimeDirectory below /run/tailkitd-stats.
            "TAILKITD_STATS_DIR": str(self.workdir / "stats"),
        }

    def activate(self, name, listen, seqpacket, binary):
        args = ["systemd-socket-activate", "-l", listen]
        if seqpacket:
            args.append("--seqpacket")
        for k, v in self.env().items():
            args += ["-E", f"{k}={v}"]
        # TAILKITD_WRAPPER: a command each process runs under, split into
        # words without a shell (tests/reliability/valgrind.sh: valgrind).
        args += shlex.split(os.environ.get("TAILKITD_WRAPPER", ""))
        args.append(str(binary))
        log = open(self.workdir / f"{name}.log", "ab")
        proc = subprocess.Popen(args, stdout=log, stderr=log)
        self.procs[name] = proc
        return proc

    def start(self):
        self.fake.start()
        if self.mode == "system":
            return
        self.tools_dir.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "stats").mkdir(exist_ok=True)
        (self.config_dir / "tailkitd.conf").write_text(
            f'[tailscale]\nsocket = "{self.fake.sock}"\n\n[caps]\ndomains = ["example.com"]\n'
            f'\n[server]\nrequest_timeout = {REQUEST_TIMEOUT}\n')
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "vars.toml").write_text(VARS_TOML)
        (self.config_dir / "integrations").mkdir(parents=True, exist_ok=True)
        (self.config_dir / "integrations" / "metrics.toml").write_text(METRICS_TOML)
        (self.config_dir / "integrations" / "systemd.toml").write_text(SYSTEMD_TOML)
        self.start_worker("tools")
        self.start_worker("vars")
        self.start_worker("metrics")
        self.start_worker("docker")
        self.start_worker("files")
        self.start_worker("systemd")
        self.activate("dispatch", f"{self.host}:{self.port}", False, self.bin["dispatch"])
        wait_for(lambda: self.try_connect(), what="dispatcher socket")

    def start_worker(self, name):
        sock = self.runtime_dir / f"{name}.sock"
        self.activate(name, str(sock), True, self.bin[name])
        wait_for(sock.exists, what=f"{sock}")

    def try_connect(self):
        try:
            socket.create_connection((self.host, self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self):
        # Under a wrapper a process needs longer to exit (valgrind's leak
        # check runs then; a SIGKILL would lose its report).
        grace = 120 if os.environ.get("TAILKITD_WRAPPER") else 5
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()
        self.fake.stop()

    # --- introspection -----------------------------------------------------

    def worker_pid(self, name):
        if self.mode == "system":
            out = subprocess.run(["systemctl", "show", "-P", "MainPID", f"tailkitd@{name}.service"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            return int(out)
        proc = self.procs[name]
        return proc.pid if proc.poll() is None else 0

    def rss_kib(self, pid):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError(f"no VmRSS for {pid}")

    def logs(self, component):
        """Log records of a component as dicts with lower-case keys (msg, caller, status...)."""
        records = []
        if self.mode == "system":
            out = subprocess.run(["journalctl", "--no-pager", "-o", "json", f"TAILKITD_COMPONENT={component}"],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                if not line.strip():
                    continue
                e = json.loads(line)
                rec = {"msg": e.get("MESSAGE"), "component": component, "priority": e.get("PRIORITY")}
                for k, v in e.items():
                    if k.startswith("TAILKITD_"):
                        rec[k[len("TAILKITD_"):].lower()] = v
                records.append(rec)
            return records
        for f in self.workdir.glob("*.log"):
            for line in f.read_text(errors="replace").splitlines():
                if not line.startswith("{"):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("component") == component:
                    records.append(rec)
        return records

    # --- requests ----------------------------------------------------------

    def request(self, method, path, src=USER, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout, source_address=(src, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def get(self, path, src=USER, **kw):
        return self.request("GET", path, src=src, **kw)

    def raw(self, data, src=USER, timeout=10, read=True):
        """Sends raw bytes; returns what came back before the server closed."""
        s = socket.socket()
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect((self.host, self.port))
        try:
            s.sendall(data)
            if not read:
                return b""
            chunks = []
            while True:
                try:
                    c = s.recv(65536)
                except ConnectionResetError:
                    break
                if not c:
                    break
                chunks.append(c)
            return b"".join(chunks)
        finally:
            s.close()

    def install_tool(self, name, content):
        """Writes a tool file the way tailkit.Install() does (temp file, then rename)."""
        self.tools_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tools_dir, prefix=".tailkit-tmp-")
        with os.fdopen(fd, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content, indent=2))
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.tools_dir / f"{name}.json")

    def remove_tool(self, name):
        p = self.tools_dir / f"{name}.json"
        if p.exists():
            p.unlink()


@pytest.fixture(scope="session")
def node(request):
    workdir = tempfile.mkdtemp(prefix="tailkitd-test-")
    n = Node(MODE, workdir)
    n.start()
    try:
        yield n
    finally:
        n.stop()
        # Keep the logs of a failing run for the post-mortem.
        if os.environ.get("TAILKITD_TEST_KEEP") or request.session.testsfailed:
            print(f"\ntest workdir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def fake(node):
    """The fake tailscaled, reset to normal after the test."""
    node.fake.set_mode("normal")
    yield node.fake
    node.fake.set_mode("normal")
    if node.fake.proc is None:
        node.fake.start()


host_only = pytest.mark.skipif(MODE != "host", reason="runs on the host layer")
system_only = pytest.mark.skipif(MODE != "system", reason="needs the real systemd (system layer)")


@pytest.fixture(autouse=True)
def sockets_stay_up():
    """Under the real systemd, after every test: tailkitd.socket is still
    active and no worker socket failed (a start-up error that crash-loops
    trips the socket's trigger limit, and the node stops answering until
    someone runs reset-failed: that must never pass unnoticed)."""
    yield
    if MODE != "system":
        return
    state = subprocess.run(["systemctl", "is-active", "tailkitd.socket"],
                           capture_output=True, text=True).stdout.strip()
    failed = subprocess.run(["systemctl", "list-units", "--failed", "--plain", "--no-legend",
                             "tailkitd.socket", "tailkitd@*.socket"],
                            capture_output=True, text=True).stdout.strip()
    assert state == "active" and not failed, f"tailkitd.socket {state}; failed units: {failed}"
