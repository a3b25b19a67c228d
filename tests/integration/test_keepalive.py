"""Connections kept alive within one integration (SPEC §2): a worker serves
further requests for its own prefix on the connection the dispatcher handed
it, resolves the caller once per connection, and answers a request for
another prefix 421 with Connection: close."""

import http.client
import json
import re
import socket
import time

from conftest import REQUEST_TIMEOUT, USER, wait_for


def connect(node, src=USER):
    c = http.client.HTTPConnection(node.host, node.port, timeout=10, source_address=(src, 0))
    c.connect()
    return c


def fetch(c, path, method="GET", body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r, r.read()


def whois_lookups(node, port, since=0):
    """The whois requests for source port `port` among the fake's requests
    from index `since` on (an earlier connection may have had the same port)."""
    return [q for q in node.fake.requests()[since:]
            if q.get("path") == "/localapi/v0/whois" and str(q.get("form", {}).get("addr")).endswith(f":{port}")]


def test_same_integration_reuses_the_connection(node):
    seen = len(node.fake.requests())
    c = connect(node)
    try:
        sock = c.sock
        port = sock.getsockname()[1]
        for path in ("/health", "/tools", "/health"):
            r, body = fetch(c, path)
            assert r.status == 200, (path, body)
            assert r.getheader("Connection", "").lower() != "close", path
            assert body.endswith(b"\n")
        assert c.sock is sock, "the client had to reconnect"
    finally:
        c.close()
    # Three requests, one whois: the peer of a connection cannot change.
    assert len(whois_lookups(node, port, seen)) == 1, whois_lookups(node, port, seen)


def test_other_prefix_is_misdirected_and_closes(node):
    c = connect(node)
    try:
        r, _ = fetch(c, "/health")
        assert r.status == 200
        r, body = fetch(c, "/vars")
        assert r.status == 421, body
        assert r.getheader("Connection", "").lower() == "close"
        assert r.getheader("Content-Type") == "application/json"
        err = json.loads(body)
        assert "/vars" in err["error"] and err["hint"]
    finally:
        c.close()
    # A new connection for that prefix goes through the dispatcher as usual.
    assert node.get("/vars").status == 200


def test_first_request_decides_the_integration(node):
    """The first request's prefix owner decides (here vars: /vars twice,
    then /health is refused), and an error answer keeps the connection."""
    c = connect(node)
    try:
        r, _ = fetch(c, "/vars/nosuchproject/env")
        assert r.status in (403, 404)
        assert r.getheader("Connection", "").lower() != "close"
        r, _ = fetch(c, "/vars")
        assert r.status == 200
        r, _ = fetch(c, "/health")
        assert r.status == 421
    finally:
        c.close()


def test_each_request_is_checked_in_full(node):
    """Identity is kept, but caps are checked for every request: a 403 on a
    kept-alive connection leaves it usable, and the next request's answer is
    its own."""
    c = connect(node, src="127.0.0.3")       # read-only caps
    try:
        r, _ = fetch(c, "/vars/stress/keepalive/K", method="PUT", body=b"v")
        assert r.status == 403
        r, _ = fetch(c, "/vars")
        assert r.status == 200
    finally:
        c.close()


def test_body_refused_closes(node):
    c = connect(node)
    try:
        r, _ = fetch(c, "/health", method="POST", body=b"x" * 10)
        assert r.status in (405, 413)
        r, _ = fetch(c, "/health")
        assert r.status == 200
        r, _ = fetch(c, "/health", headers={"Content-Length": "5"}, body=b"12345")
        assert r.status == 413
        assert r.getheader("Connection", "").lower() == "close"
    finally:
        c.close()


def test_stream_of_unknown_length_closes(node):
    """A body whose length is not known ahead (exec's job stream, the
    journal, a vars scope) ends with the connection, as before keep-alive."""
    assert node.request("PUT", "/vars/stress/keepalive/K", body=b"v").status == 200
    c = connect(node)
    try:
        r, body = fetch(c, "/vars/stress/keepalive")
        assert r.status == 200, body
        assert r.getheader("Connection", "").lower() == "close"
    finally:
        c.close()
        node.request("DELETE", "/vars/stress/keepalive")


def test_idle_kept_alive_connection_is_closed(node):
    """An idle connection is closed once the header deadline passes (the
    request timeout, REQUEST_TIMEOUT s here)."""
    c = connect(node)
    try:
        r, _ = fetch(c, "/health")
        assert r.status == 200
        c.sock.settimeout(REQUEST_TIMEOUT + 10)
        try:
            assert c.sock.recv(1) == b""
        except ConnectionResetError:
            pass
    finally:
        c.close()


def test_pipelined_requests(node):
    """Pipelined requests are answered in order; the 421 closes the
    connection (the read below ends at the worker's close)."""
    s = socket.create_connection((node.host, node.port), timeout=10, source_address=(USER, 0))
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /tools HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /vars HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    finally:
        s.close()
    statuses = [int(m) for m in re.findall(rb"HTTP/1.1 (\d{3}) ", data)]
    assert statuses == [200, 200, 421], data


def test_a_revoked_cap_takes_effect_on_a_kept_alive_connection(node, fake):
    """The peer of a connection cannot change, its caps can (a policy edit):
    the identity is looked up again after a short while, so a long-lived
    connection (a scraper) loses a revoked cap within seconds."""
    c = connect(node)
    try:
        r, _ = fetch(c, "/tools")
        assert r.status == 200
        fake.set_mode("normal", peers={USER: "no-caps.json"})
        r, _ = fetch(c, "/tools")               # within the reuse window: still the old answer
        assert r.status in (200, 403)
        time.sleep(2.5)
        r, body = fetch(c, "/tools")
        assert r.status == 403, body
    finally:
        c.close()
