"""Spine hardening every worker inherits (issue 7): request deadlines, bodies
refused where none is taken, HEAD, fragments, the dispatcher never waiting on a
worker, availability probes of integrations that are not installed, and log
lines a caller cannot forge."""

import json
import socket
import threading
import time
import uuid

import pytest

from conftest import MODE, NOCAPS, REQUEST_TIMEOUT, STRANGER, USER, host_only, wait_for


def connect(node, src):
    s = socket.socket()
    s.settimeout(30)
    s.bind((src, 0))
    s.connect((node.host, node.port))
    return s


def read_all(s, timeout):
    """What the server sent until it closed, and how long that took."""
    s.settimeout(timeout)
    start = time.monotonic()
    data = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except (ConnectionResetError, BrokenPipeError):
        pass
    return data, time.monotonic() - start


# --- bodies and deadlines ---------------------------------------------------

def test_body_on_a_route_that_takes_none_is_refused_at_once(node):
    """GET /health with a chunked body that trickles: answered 413 right away,
    not after the body (which never ends)."""
    s = connect(node, NOCAPS)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
        data, took = read_all(s, 10)
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 413 "), data[:200]
    assert b"takes no request body" in data
    assert took < 3, took


def test_content_length_body_on_a_bodyless_route_is_413(node):
    r = node.request("GET", "/tools", body=b"x" * 10)
    assert r.status == 413
    assert "takes no request body" in r.json()["error"]


def test_trickled_body_is_cut_by_the_request_deadline(node):
    """A caller allowed to PUT sends one byte a second: the connection is
    closed once request_timeout has passed, and nothing is stored."""
    env = "slow-" + uuid.uuid4().hex[:8]
    s = connect(node, USER)
    closed = threading.Event()
    start = time.monotonic()

    def trickle():
        try:
            s.sendall(f"PUT /vars/myapp/{env}/SLOW HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
            for _ in range(4 * REQUEST_TIMEOUT):
                if closed.is_set():
                    return
                s.sendall(b"1\r\nv\r\n")
                time.sleep(1)
        except OSError:
            pass

    t = threading.Thread(target=trickle)
    t.start()
    try:
        data, _ = read_all(s, 6 * REQUEST_TIMEOUT)
        took = time.monotonic() - start
    finally:
        closed.set()
        t.join()
        s.close()
    assert not data.startswith(b"HTTP/1.1 2"), data[:200]
    assert REQUEST_TIMEOUT - 1 <= took < REQUEST_TIMEOUT + 4, took
    assert node.get(f"/vars/myapp/{env}").json() == {}


def test_a_fast_large_body_is_not_cut(node):
    """The deadline grows with what arrives: a body sent steadily for longer
    than request_timeout, well above min_upload_rate, completes."""
    env = "steady-" + uuid.uuid4().hex[:8]
    s = connect(node, USER)
    try:
        s.sendall(f"PUT /vars/myapp/{env}/STEADY HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        deadline = time.monotonic() + REQUEST_TIMEOUT + 2
        sent = 0
        while time.monotonic() < deadline:
            s.sendall(b"%x\r\n" % 32768 + b"v" * 32768 + b"\r\n")   # 32 KiB every 0.25 s
            sent += 32768
            time.sleep(0.25)
        s.sendall(b"0\r\n\r\n")
        data, _ = read_all(s, 20)
    finally:
        s.close()
    assert sent <= 1024 * 1024
    assert data.split(b"\r\n", 1)[0] in (b"HTTP/1.1 200 OK", b"HTTP/1.1 204 No Content"), data[:300]
    assert len(node.get(f"/vars/myapp/{env}/STEADY").json()["value"]) == sent


def test_three_hundred_slow_bodies_do_not_stall_health(node):
    """300 connections from a peer without caps trickle chunked bodies to
    /health (identity only: every one of them reaches the tools worker, more
    than its 256 connection threads); meanwhile /health from another peer
    answers in under a second, and every slow connection is closed within
    the deadline."""
    socks, lock = [], threading.Lock()
    targets = [b"GET /health"]

    def open_one(i):
        try:
            s = connect(node, NOCAPS)
            s.sendall(targets[i % len(targets)] + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
        except OSError:
            return
        with lock:
            socks.append(s)

    start = time.monotonic()
    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(300)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        latencies = []
        for _ in range(5):
            t0 = time.monotonic()
            r = node.get("/health", src=USER)
            latencies.append(time.monotonic() - t0)
            assert r.status == 200
        print(f"/health under 300 slow bodies: max {max(latencies) * 1000:.0f} ms")
        assert max(latencies) < 1.0, latencies

        closed = 0
        for s in socks:
            data, _ = read_all(s, max(1, REQUEST_TIMEOUT + 5 - (time.monotonic() - start)))
            if data == b"" or data.startswith(b"HTTP/1.1 4") or data.startswith(b"HTTP/1.1 503"):
                closed += 1
        assert len(socks) >= 290
        assert closed == len(socks)
    finally:
        for s in socks:
            s.close()


def _hold(node, src, count, parallel=20):
    """count connections from src whose headers never end: each is handed to
    the tools worker and held there until the header deadline, unless it is
    refused at once."""
    socks, lock = [], threading.Lock()

    def open_some(k):
        for _ in range(k):
            try:
                s = connect(node, src)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                continue
            with lock:
                socks.append(s)

    threads = [threading.Thread(target=open_some, args=(count // parallel,)) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return socks


def _outcomes(socks, until):
    """How each held connection ended: refused (429/503 with the reason) or
    closed at the header deadline."""
    seen = {"peer": 0, "full": 0, "dispatcher": 0, "closed": 0, "other": []}
    for s in socks:
        data, _ = read_all(s, max(1, until - time.monotonic()))
        if data.startswith(b"HTTP/1.1 429 ") and b"too many connections from this peer" in data:
            assert b"Retry-After: 1" in data
            seen["peer"] += 1
        elif data.startswith(b"HTTP/1.1 503 ") and b"too many open connections" in data:
            assert b"Retry-After: 1" in data
            seen["full"] += 1
        elif data.startswith(b"HTTP/1.1 503 ") and b"is not accepting connections" in data:
            seen["dispatcher"] += 1     # the worker socket's backlog was full
        elif data == b"" or data.startswith(b"HTTP/1.1 408"):
            seen["closed"] += 1
        else:
            seen["other"].append(data[:200])
    return seen


def test_connection_limits_answer_and_never_wedge_the_worker(node):
    """More connections than a worker serves, held open (headers that never
    end): one peer may hold 224 of the tools worker's 256, the rest of its
    connections are answered 429 at once (not reset), another peer still gets
    in meanwhile, and past 256 everyone gets 503. Afterwards the worker
    answers again. libmicrohttpd 0.9.75 deadlocks for good when a connection
    reaches its own limit from its queue (the worker stopped answering, even
    SIGTERM): the worker must never let it get there."""
    start = time.monotonic()
    flood = _hold(node, NOCAPS, 300)
    other = []
    try:
        # NOCAPS holds its share: another peer is still served at once.
        t0 = time.monotonic()
        r = node.get("/health", src=USER)
        assert r.status == 200, r.body
        assert time.monotonic() - t0 < 1.0
        # A third peer takes the reserve; past 256 it is refused as well.
        other = _hold(node, STRANGER, 60)
        deadline = start + REQUEST_TIMEOUT + 10
        a, b = _outcomes(flood, deadline), _outcomes(other, deadline)
    finally:
        for s in flood + other:
            s.close()
    print(f"flood from one peer: {a}; a second peer: {b}")
    assert not a["other"] and not b["other"], (a["other"], b["other"])
    assert len(flood) >= 290 and len(other) >= 58
    assert a["closed"] <= 224, a               # its share, never more
    assert a["peer"] > 0, a                    # refused past its share, with 429
    assert b["full"] > 0, b                    # the worker full: 503 for everyone
    assert a["closed"] + b["closed"] <= 256, (a, b)
    for _ in range(3):
        t0 = time.monotonic()
        r = node.get("/health", src=USER)
        assert r.status == 200
        assert time.monotonic() - t0 < 1.0


# --- HTTP edges ---------------------------------------------------------------

def test_head_on_get_resources(node):
    for path in ("/health", "/tools", "/vars"):
        get = node.get(path)
        head = node.request("HEAD", path)
        assert head.status == get.status == 200, path
        assert head.body == b""
        assert head.headers["content-type"] == "application/json"
        assert int(head.headers["content-length"]) == len(get.body) or path == "/health"


def test_allow_lists_head_with_get(node):
    r = node.request("POST", "/tools")
    assert r.status == 405
    assert [m.strip() for m in r.headers["allow"].split(",")] == ["GET", "HEAD"]


def test_fragment_is_stripped_like_the_dispatcher_does(node):
    s = connect(node, USER)
    try:
        s.sendall(b"GET /health#frag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, _ = read_all(s, 10)
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    s = connect(node, USER)
    try:
        s.sendall(b"GET /vars?x=1#frag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, _ = read_all(s, 10)
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]


@pytest.mark.parametrize("integration", ["docker", "systemd", "metrics"])
def test_availability_of_an_absent_integration(node, integration):
    if (node.runtime_dir / f"{integration}.sock").exists():
        pytest.skip(f"the {integration} worker is installed here")
    r = node.get(f"/integrations/{integration}/available")
    assert r.status == 200, r
    assert r.json() == {"available": False}
    assert node.request("HEAD", f"/integrations/{integration}/available").status == 200
    # Still identity first (SPEC §1.2), and only the probe answers.
    assert node.get(f"/integrations/{integration}/available", src=STRANGER).status == 401
    assert node.get(f"/integrations/{integration}/containers").status == 503


def test_availability_probe_of_an_unknown_integration_is_404(node):
    assert node.get("/integrations/nonsense/available").status == 404


# --- logs ---------------------------------------------------------------------

def test_control_characters_cannot_forge_log_lines(node):
    forged = "FORGED-" + uuid.uuid4().hex[:8]
    assert node.get(f"/tools/x%0A{{\"level\":\"error\",\"msg\":\"{forged}\"}}%0Dy").status in (400, 404)

    def audited():
        return [r for r in node.logs("tools") if forged in json.dumps(r)]
    records = wait_for(audited, timeout=10, what="the audit line")
    assert not [r for r in node.logs("tools") if r.get("msg") == forged]
    if MODE == "system":
        # The journal and the console get C escapes: no raw line breaks.
        for rec in records:
            for v in rec.values():
                if isinstance(v, str):
                    assert "\n" not in v and "\r" not in v, rec
    else:
        # JSON lines: the newline is escaped inside the value; every line parses.
        for line in (node.workdir / "tools.log").read_text(errors="replace").splitlines():
            if forged in line:
                assert json.loads(line)["msg"] != forged


@host_only
def test_long_log_lines_stay_valid_json(node):
    # Under the dispatcher's 8 KiB request line, over the old 8 KiB log line.
    long = "a" * 7000
    assert node.get(f"/tools/{long}").status in (400, 404)
    raw = (node.workdir / "tools.log").read_bytes()
    assert b"\0" not in raw
    for line in raw.decode(errors="replace").splitlines():
        if line.startswith("{"):
            json.loads(line)
