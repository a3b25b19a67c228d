"""GET /tools, GET /tools/{name}: the registry tailkit.Install() writes."""

import json
from pathlib import Path

import pytest

from conftest import CUSTOM, NOCAPS, READONLY, STRANGER, USER, wait_for

DEVBOX = (Path(__file__).parent / "data" / "devbox.json").read_text()


@pytest.fixture
def tools(node):
    for p in node.tools_dir.glob("*"):
        p.unlink()
    yield node
    for p in node.tools_dir.glob("*"):
        p.unlink()


def test_list_is_an_empty_array_without_tools(tools):
    r = tools.get("/tools")
    assert r.status == 200
    assert r.json() == []


def test_get_devbox_as_installed(tools):
    tools.install_tool("devbox", DEVBOX)
    r = tools.get("/tools/devbox")
    assert r.status == 200, r
    got = r.json()
    want = json.loads(DEVBOX)
    assert got["name"] == "devbox"
    assert got["version"] == "1.2.0"
    assert got["tsnet_host"] == "devbox"
    assert [c["name"] for c in got["commands"]] == ["reload-nginx", "restart-container"]
    assert got["commands"][0]["timeout"] == 30000000000
    assert got["commands"][1]["exec_parts"] == want["commands"][1]["exec_parts"]
    assert got["commands"][1]["args"] == want["commands"][1]["args"]
    assert tools.get("/tools").json() == [got]


def test_reply_shape(tools):
    r = tools.get("/tools")
    assert r.headers["content-type"] == "application/json"
    # Connection: kept alive within the integration or closed: test_keepalive.py.
    assert r.body.endswith(b"\n")


def test_broken_file_is_skipped_and_reported(tools):
    tools.install_tool("devbox", DEVBOX)
    tools.install_tool("broken", '{"name": "broken", "commands": [')
    r = tools.get("/tools")
    assert r.status == 200
    assert [t["name"] for t in r.json()] == ["devbox"]
    assert tools.get("/tools/devbox").status == 200

    def warned():
        return [rec for rec in tools.logs("tools")
                if "broken.json" in (rec.get("file") or "") and "broken" in rec["msg"].lower()]
    recs = wait_for(warned, timeout=5, what="warning about broken.json in the log")
    assert "line" in recs[-1]["msg"]


def test_new_tool_is_seen_without_restart(tools):
    assert tools.get("/tools/late").status == 404
    tools.install_tool("late", json.dumps({"name": "late", "version": "1", "tsnet_host": "x", "commands": None}))
    r = tools.get("/tools/late")
    assert r.status == 200
    assert r.json()["commands"] == []


def test_unknown_tool_is_404_json(tools):
    r = tools.get("/tools/nope")
    assert r.status == 404
    assert "nope" in r.json()["error"]


def test_invalid_tool_name_is_400(tools):
    r = tools.get("/tools/bad%20name")
    assert r.status == 400
    assert "hint" in r.json()


def test_trailing_segments_are_404(tools):
    assert tools.get("/tools/devbox/extra").status == 404


def test_dot_segments_are_refused(tools):
    r = tools.get("/tools/%2e%2e")
    assert r.status in (400, 404)


def test_wrong_method_is_405_with_allow(tools):
    r = tools.request("POST", "/tools", body=b"")
    assert r.status == 405
    assert r.headers["allow"] == "GET, HEAD"
    assert r.json()["error"] == "method not allowed"


def test_body_over_the_cap_is_413(tools):
    r = tools.request("GET", "/tools", body=b"x" * 100)
    assert r.status == 413


def test_readonly_peer_can_read(tools):
    assert tools.get("/tools", src=READONLY).status == 200


def test_peer_without_cap_is_403(tools):
    r = tools.get("/tools", src=NOCAPS)
    assert r.status == 403
    body = r.json()
    assert "tailkitd-tools" in body["error"]
    assert "cap/tailkitd-tools" in body["hint"]


def test_stranger_is_401(tools):
    r = tools.get("/tools", src=STRANGER)
    assert r.status == 401
    assert r.json()["error"] == "caller identity could not be resolved"


def test_custom_cap_domain_from_tailkitd_conf(tools):
    assert tools.get("/tools", src=CUSTOM).status == 200


def test_concatenated_grants(tools):
    assert tools.get("/tools", src="127.0.0.6").status == 200


def test_malformed_cap_value_denies(tools):
    assert tools.get("/tools", src="127.0.0.7").status == 403


def test_old_whois_format(tools):
    assert tools.get("/tools", src="127.0.0.8").status == 200


def test_caller_name_falls_back_to_hostname(tools):
    assert tools.get("/tools", src="127.0.0.9").status == 200
    wait_for(lambda: [r for r in tools.logs("tools") if r.get("caller") == "fallback-host"],
             timeout=5, what="audit line with the Hostinfo.Hostname")


def test_health_needs_identity_only(tools):
    r = tools.get("/health", src=NOCAPS)
    assert r.status == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["hostname"]
    assert tools.get("/health", src=STRANGER).status == 401


def test_audit_line_per_request(tools):
    assert tools.get("/tools", src=USER).status == 200

    def audited():
        return [r for r in tools.logs("tools")
                if r.get("path") == "/tools" and r.get("caller") == "alice-laptop"
                and r.get("status") == "200" and r.get("method") == "GET"]
    rec = wait_for(audited, timeout=5, what="audit line")[-1]
    assert "duration_ms" in rec
    assert rec.get("peer", "").startswith("127.0.0.2:")
