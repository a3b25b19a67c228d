"""Only under the real systemd (issue 7): the dispatcher never waits on a
stuck worker, serves every listening socket it is given, workers take
connections only from the dispatcher, and each unit carries its own sandbox
and limits."""

import socket
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import USER, system_only, wait_for

pytestmark = system_only


def run(*args, check=True, **kw):
    return subprocess.run(args, capture_output=True, text=True, check=check, **kw)


def main_pid(unit):
    return int(run("systemctl", "show", "-P", "MainPID", unit).stdout.strip())


def prop(unit, name):
    return run("systemctl", "show", "-P", name, unit).stdout.strip()


# --- the dispatcher never blocks ------------------------------------------------

@pytest.fixture
def stopped_vars_worker(node):
    assert node.get("/vars").status == 200
    pid = main_pid("tailkitd@vars.service")
    assert pid > 0
    run("kill", "-STOP", str(pid))
    yield pid
    run("kill", "-CONT", str(pid))


def test_a_stopped_worker_does_not_freeze_the_others(node, stopped_vars_worker):
    """kill -STOP the vars worker and fill its socket's backlog: requests for
    /vars get a quick 503 naming the worker once it is full, and /health and
    /tools keep answering in well under a second."""
    socks = []
    statuses = []
    try:
        # Backlog=512 on the worker socket: a few more than that fill it.
        for _ in range(600):
            s = socket.socket()
            s.settimeout(5)
            s.bind((USER, 0))
            s.connect((node.host, node.port))
            s.sendall(b"GET /vars HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        # The last ones are refused by the dispatcher at once.
        for s in socks[-20:]:
            try:
                data = s.recv(4096)
            except socket.timeout:
                data = b"(no answer)"
            statuses.append(data.split(b"\r\n", 1)[0])
            if data.startswith(b"HTTP/1.1 503"):
                assert b"tailkitd@vars.service" in data, data
        assert b"HTTP/1.1 503 Service Unavailable" in statuses, statuses

        for path in ("/health", "/tools"):
            t0 = time.monotonic()
            assert node.get(path, timeout=5).status == 200
            took = time.monotonic() - t0
            print(f"{path} with vars stopped and its backlog full: {took * 1000:.0f} ms")
            assert took < 1.0
    finally:
        for s in socks:
            s.close()


# --- several listen addresses ---------------------------------------------------

DROPIN = Path("/etc/systemd/system/tailkitd.socket.d/zz-more.conf")


@pytest.fixture
def more_listen_addresses(node):
    DROPIN.write_text("[Socket]\nListenStream=127.0.0.1:8081\nListenStream=127.0.0.2:8082\n")
    run("systemctl", "daemon-reload")
    run("systemctl", "stop", "tailkitd.service")
    run("systemctl", "restart", "tailkitd.socket")
    yield
    DROPIN.unlink()
    run("systemctl", "daemon-reload")
    run("systemctl", "stop", "tailkitd.service")
    run("systemctl", "restart", "tailkitd.socket")
    wait_for(node.try_connect, what="port 80 again")


def get_on(host, port, path):
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=10, source_address=(USER, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status
    finally:
        c.close()


def test_every_listen_address_is_served(node, more_listen_addresses):
    for host, port in (("127.0.0.1", 80), ("127.0.0.1", 8081), ("127.0.0.2", 8082), ("127.0.0.1", 80)):
        assert get_on(host, port, "/health") == 200, (host, port)
    assert prop("tailkitd.socket", "ActiveState") == "active"
    assert prop("tailkitd.service", "ActiveState") == "active"
    assert prop("tailkitd.service", "NRestarts") == "0"
    journal = run("journalctl", "--no-pager", "-u", "tailkitd.service", "--since", "-1min").stdout
    assert "Expected exactly one socket" not in journal


# --- connections only from the dispatcher -----------------------------------------

HAND_OVER = textwrap.dedent("""
    import array, socket, sys
    path = sys.argv[1]
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
    c = socket.create_connection(l.getsockname()); a, _ = l.accept(); l.close()
    try:
        u = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        u.connect(path)
    except PermissionError:
        print("EACCES"); sys.exit(0)
    u.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [a.fileno()]))])
    a.close(); u.close()
    c.settimeout(5)
    try:
        # A worker that drops the connection may do so before this send:
        # EPIPE or a reset is a drop too.
        c.sendall(b"GET /exec/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        data = c.recv(4096)
    except BrokenPipeError:
        data = b"(broken pipe)"
    except socket.timeout:
        data = b"(timeout)"
    except ConnectionResetError:
        data = b"(reset)"
    print("SERVED" if data.startswith(b"HTTP/") else "DROPPED " + repr(data[:40]))
""")


def hand_over(worker, user=None):
    args = ["systemd-run", "--wait", "--pipe", "--quiet", "--collect"]
    if user:
        args += ["-p", f"User={user}"]
    args += ["/usr/bin/python3", "-c", HAND_OVER, f"/run/tailkitd/{worker}.sock"]
    r = run(*args, check=False)
    return (r.stdout.strip() + ("\n" + r.stderr.strip() if r.stderr.strip() else "")).strip()


def test_group_tailkitd_cannot_reach_the_worker_sockets(node):
    """The vars worker's user (tailkitd) may not connect to another worker's socket."""
    assert hand_over("exec", user="tailkitd").startswith("EACCES")
    assert hand_over("tools", user="tailkitd").startswith("EACCES")


def test_the_exec_worker_takes_connections_only_from_the_dispatcher(node):
    """Even root, from any unit other than tailkitd.service, cannot hand the
    (root, unsandboxed) exec worker a connection."""
    out = hand_over("exec")
    assert out.startswith("DROPPED"), out
    wait_for(lambda: "only tailkitd.service may pass connections" in
             run("journalctl", "--no-pager", "-u", "tailkitd@exec.service", "--since", "-1min").stdout,
             what="the refusal in the journal")
    # The dispatcher's connections still work.
    assert node.get("/exec/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV").status == 404


# --- units: one shared sandbox, per-worker limits -----------------------------------

def test_every_worker_has_its_own_memory_and_task_limits(node):
    assert node.get("/vars").status == 200
    assert node.get("/tools").status == 200
    for unit in ("tailkitd.service", "tailkitd@tools.service", "tailkitd@vars.service", "tailkitd@exec.service"):
        mem, tasks = prop(unit, "MemoryMax"), prop(unit, "TasksMax")
        assert mem.isdigit() and int(mem) <= 256 * 1024 * 1024, (unit, mem)
        assert tasks.isdigit() and int(tasks) <= 512, (unit, tasks)


def test_the_shared_sandbox_applies_to_workers_and_exec_opts_out(node):
    for unit in ("tailkitd@tools.service", "tailkitd@vars.service"):
        assert prop(unit, "ProtectSystem") == "strict", unit
        assert prop(unit, "PrivateNetwork") == "yes", unit
        assert prop(unit, "RestrictAddressFamilies") == "AF_UNIX", unit
    exec_unit = "tailkitd@exec.service"
    assert prop(exec_unit, "ProtectSystem") == "no"
    assert prop(exec_unit, "PrivateNetwork") == "no"
    assert prop(exec_unit, "MemoryDenyWriteExecute") == "no"
    assert prop(exec_unit, "SystemCallFilter") in ("", "~")
    assert "cap_sys_admin" in prop(exec_unit, "CapabilityBoundingSet")
    # No sandbox block written out in more than one worker drop-in.
    dropins = sorted(Path("/usr/lib/systemd/system").glob("tailkitd@*.service.d/*.conf"))
    with_protect = [p for p in dropins
                    if any(l.strip() == "ProtectSystem=strict" for l in p.read_text().splitlines())]
    assert [p.parent.name for p in with_protect] == ["tailkitd@.service.d"], with_protect


@pytest.mark.parametrize("unit", ["tailkitd@vars.service"])
def test_security_exposure_of_vars_is_ok(unit):
    import re
    out = run("systemd-analyze", "security", "--no-pager", unit, check=False).stdout
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
    assert m, out[-2000:]
    print(f"{unit}: exposure {m.group(1)}")
    assert float(m.group(1)) <= 2.5, out
