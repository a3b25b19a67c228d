"""A caller's malformed cap is logged once per request: a request may check
its caps several times (the route's check, then a handler's for another
access or another integration) under every accepted domain, and a hostile
peer must not turn each check into a journal line."""

from conftest import wait_for

# tests/fake-tailscaled: every cap malformed under tailscale.com, read under
# example.com (which every mode's tailkitd.conf accepts).
MIXED = "127.0.0.18"
CAP = "tailscale.com/cap/tailkitd-metrics"


def warnings(node):
    return [rec for rec in node.logs("metrics") if CAP in (rec.get("msg") or "") and "malformed" in rec["msg"]]


def audits(node):
    return [rec for rec in node.logs("metrics")
            if rec.get("caller") == "half-box" and (rec.get("path") or "").startswith("/integrations/metrics/")]


def test_malformed_cap_is_logged_once_per_request(node):
    before, audited = len(warnings(node)), len(audits(node))
    for _ in range(2):
        # The route needs read (example.com grants it); the handler then
        # asks for write to decide whether command lines are shown: two
        # checks that both meet the malformed cap.
        r = node.get("/integrations/metrics/processes?limit=1", src=MIXED)
        assert r.status == 200, r
        assert "cmdline" not in r.json()[0], "write is not granted: no command lines"
    # A request's audit line is written after its checks: once both are
    # in, every warning they caused is too.
    wait_for(lambda: len(audits(node)) >= audited + 2, what="the audit lines")
    got = warnings(node)[before:]
    assert len(got) == 2, [g["msg"] for g in got]
