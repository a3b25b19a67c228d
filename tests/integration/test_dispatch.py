"""The dispatcher: request-line bounds, routing, worker hand-off failures."""

import json
import subprocess
import socket
import time

import pytest

from conftest import USER, host_only


def status_of(raw):
    assert raw.startswith(b"HTTP/1.1 "), raw[:100]
    return int(raw.split(b" ", 2)[1])


def body_of(raw):
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])


def test_unknown_prefix_is_404_json(node):
    raw = node.raw(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(raw) == 404
    assert "/tools" in body_of(raw)["hint"]


def test_prefix_matches_whole_segments(node):
    assert status_of(node.raw(b"GET /toolsx HTTP/1.1\r\nHost: x\r\n\r\n")) == 404


def test_garbage_request_line_is_400(node):
    raw = node.raw(b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    assert status_of(raw) == 400
    assert body_of(raw)["error"] == "malformed request line"


def test_long_request_line_is_414(node):
    raw = node.raw(b"GET /tools/" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")
    assert status_of(raw) == 414


def test_slow_request_line_is_408(node):
    s = socket.socket()
    s.bind((USER, 0))
    s.settimeout(10)
    s.connect((node.host, node.port))
    s.sendall(b"GET /to")
    t0 = time.monotonic()
    data = s.recv(4096)
    s.close()
    assert status_of(data) == 408
    assert 4.0 < time.monotonic() - t0 < 7.0


def test_missing_worker_is_503_naming_the_integration(node):
    missing = [(name, path) for name, path in (("docker", "/integrations/docker/containers"),
                                               ("systemd", "/integrations/systemd/units"),
                                               ("files", "/files?dir=/"))
               if not (node.runtime_dir / f"{name}.sock").exists()]
    if not missing:
        pytest.skip("every integration's worker is installed here")
    name, path = missing[0]
    raw = node.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status_of(raw) == 503
    body = body_of(raw)
    assert name in body["error"]
    assert f"tailkitd@{name}.socket" in body["hint"]


def test_half_closed_before_request_line_is_closed(node):
    s = socket.socket()
    s.bind((USER, 0))
    s.settimeout(5)
    s.connect((node.host, node.port))
    s.sendall(b"GET /tool")
    s.shutdown(socket.SHUT_WR)
    data = s.recv(4096)
    assert data == b"" or status_of(data) == 400
    s.close()
    assert node.get("/tools").status == 200


def test_request_reaches_worker_untouched(node):
    raw = node.raw(b"GET /tools?x=1 HTTP/1.1\r\nHost: x\r\nX-Long: " + b"y" * 2000 + b"\r\n\r\n")
    assert status_of(raw) == 200


def test_huge_headers_are_refused(node):
    raw = node.raw(b"GET /tools HTTP/1.1\r\nHost: x\r\nX-Big: " + b"z" * (100 * 1024) + b"\r\n\r\n")
    assert raw == b"" or 400 <= status_of(raw) < 500
    assert node.get("/tools").status == 200


@host_only
def test_dispatcher_links_neither_curl_nor_json(node):
    out = subprocess.run(["readelf", "-d", str(node.bin["dispatch"])], capture_output=True, text=True,
                         check=True).stdout
    needed = [l for l in out.splitlines() if "(NEEDED)" in l]
    assert needed
    assert not [l for l in needed if "curl" in l or "json" in l or "microhttpd" in l], needed
