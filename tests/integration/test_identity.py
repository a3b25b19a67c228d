"""Caller identity through the LocalAPI whois: 401, 503, never headers."""

import re
import time
from urllib.parse import parse_qs

from conftest import NOCAPS, STRANGER, USER


def test_forwarded_headers_are_never_trusted(node, fake):
    for h in ("X-Forwarded-For", "X-Real-IP"):
        r = node.get("/tools", src=STRANGER, headers={h: "127.0.0.2"})
        assert r.status == 401


def test_whois_request_is_what_tailscaled_expects(node, fake):
    assert node.get("/tools", src=USER).status == 200
    req = [r for r in fake.requests() if r["path"] == "/localapi/v0/whois"][-1]
    assert req["host"] == "local-tailscaled.sock"
    headers = {k.lower() for k in req["headers"]}
    assert "referer" not in headers and "origin" not in headers
    addr = parse_qs(req["query"])["addr"][0]
    assert re.fullmatch(r"127\.0\.0\.2:\d+", addr), addr


def test_localapi_down_is_503_naming_the_socket(node, fake):
    fake.stop()
    r = node.get("/tools")
    assert r.status == 503
    body = r.json()
    assert str(fake.sock) in body["hint"] or "tailscaled.sock" in body["hint"]
    fake.start()
    assert node.get("/tools").status == 200


def test_slow_localapi_is_503_within_3s_and_worker_recovers(node, fake):
    fake.set_mode("slow", delay=10)
    t0 = time.monotonic()
    r = node.get("/tools")
    elapsed = time.monotonic() - t0
    assert r.status == 503
    assert elapsed < 3.0, elapsed
    fake.set_mode("normal")
    assert node.get("/tools").status == 200


def test_hanging_localapi_is_503(node, fake):
    fake.set_mode("hang")
    t0 = time.monotonic()
    assert node.get("/tools").status == 503
    assert time.monotonic() - t0 < 3.0


def test_malformed_whois_is_503(node, fake):
    fake.set_mode("malformed")
    assert node.get("/tools").status == 503


def test_localapi_errors_are_503(node, fake):
    for mode in ("error500", "nobackend", "denied"):
        fake.set_mode(mode)
        r = node.get("/tools")
        assert r.status == 503, mode
        assert r.json()["hint"]


def test_no_caps_is_403_not_401(node, fake):
    assert node.get("/tools", src=NOCAPS).status == 403
