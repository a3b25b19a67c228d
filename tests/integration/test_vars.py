"""The vars store: GET /vars, GET/DELETE /vars/{project}/{env} (?format=json|env),
GET/PUT/DELETE /vars/{project}/{env}/{key} — permissions, validation, limits,
storage on disk, hostile values through sh and systemd EnvironmentFile=,
concurrency, audit without values, and kill -9 safety (system layer).

Scopes come from tests/integration/data/vars.toml: myapp and stress (read+write,
every env), monitoring (read only), legacy (env prod only, Go form), sealed
(write only). Every test writes into its own env name and deletes it at the end.
"""

import http.client
import json
import os
import random
import re
import shutil
import socket
import stat
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import CUSTOM, NOCAPS, READONLY, STRANGER, USER, system_only, wait_for

MIB = 1024 * 1024
KEY_RULE = "^[A-Z][A-Z0-9_]*$"
PROJECTS_IN_FILE_ORDER = ["myapp", "stress", "monitoring", "legacy", "sealed"]

# Prints the environment as JSON without depending on the locale: every byte
# is carried as one latin-1 character and decoded as UTF-8 by the test.
ENV_DUMP = ("import os, json; print(json.dumps({k.decode('latin-1'): v.decode('latin-1') "
            "for k, v in os.environb.items()}))")

# Values that break naive quoting in sh and systemd's EnvironmentFile= parser.
HOSTILE = {
    "V_SQUOTE": "it's a 'quoted' thing",
    "V_DQUOTE": 'say "hi"',
    "V_MIXED_QUOTES": "'\"'\"'",
    "V_DOLLAR": "$HOME",
    "V_DOLLAR_BRACE": "${HOME:-unset}",
    "V_DOLLAR_END": "costs 5$",
    "V_SUBST": "$(id)",
    "V_BACKTICK": "`id`",
    "V_BACKSLASH": "a\\b\\\\c",
    "V_TRAILING_BACKSLASH": "ends with\\",
    "V_BACKSLASH_N": "\\n",
    "V_BACKSLASH_QUOTE": '\\"',
    "V_BACKSLASH_DOLLAR": "\\$HOME",
    "V_BACKSLASH_NEWLINE": "a\\\nb",
    "V_NEWLINES": "line1\nline2\n\nline4",
    "V_LEADING_NEWLINE": "\nstarts on line 2",
    "V_TRAILING_NEWLINES": "ends\n\n",
    "V_ONLY_NEWLINE": "\n",
    "V_CR": "a\rb",
    "V_CRLF": "a\r\nb",
    "V_TRAILING_CR": "x\r",
    "V_TAB": "a\tb\t",
    "V_SPACES": "  lead and trail  ",
    "V_ONLY_SPACE": " ",
    "V_HASH": "#not a comment",
    "V_HASH_MID": "a #b",
    "V_SEMI": ";a;b; c",
    "V_COMMENT_LINES": "x\n# comment?\n; also?\n",
    "V_FAKE_ASSIGN": 'x"\nV_INJECTED="pwned',
    "V_FAKE_ASSIGN2": "x\nV_INJECTED=pwned\n",
    "V_EQUALS": "a=b=c",
    "V_GLOB": "* ? [a] ~ {a,b}",
    "V_SHELL_OPS": "a && b || c | d > /tmp/x; rm -rf / & !",
    "V_PERCENT": "%s %n %% %1$s",
    "V_ESC": "\x1b[31mred\x1b[0m",
    "V_UNICODE": "é 中文 😀 \u2028 \u00a0",
    "V_EMPTY": "",
    "V_LONG": "0123456789abcdef\"$`\\\n" * 3000,
}

SCOPE_ENV_BAD = ["Prod", "-x", "_x", "a.b", "a%20b", "%C3%A9", "a" * 65, "a%00b", "a%0Ab"]
PROJECT_BAD = ["MyApp", "-myapp", "_myapp", "my.app", "my%20app", "%C3%A9", "m" * 65, "myapp%00"]
KEY_BAD = ["lower", "Lower", "AbC", "1ABC", "9", "A-B", "A.B", "A%20B", "A%C3%84", "A%24", "A%00B"]
RESERVED = ["_updated_at", "_updated_by", "_X", "_lower", "_", "__"]


# --- helpers ---------------------------------------------------------------

def new_env(tag="t"):
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def put_json(node, path, value, src=USER, ctype="application/json", timeout=30):
    body = json.dumps({"value": value}, ensure_ascii=False).encode()
    return node.request("PUT", path, src=src, body=body, headers={"Content-Type": ctype}, timeout=timeout)


def put_raw(node, path, data, src=USER, ctype="application/octet-stream", timeout=30):
    if isinstance(data, str):
        data = data.encode()
    headers = {"Content-Type": ctype} if ctype else {}
    return node.request("PUT", path, src=src, body=data, headers=headers, timeout=timeout)


def delete(node, path, src=USER):
    return node.request("DELETE", path, src=src)


def error_of(r):
    """The JSON error body; asserts the error shape of SPEC §2."""
    assert r.headers.get("content-type", "").startswith("application/json"), r
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], r
    return body


def error_text(r):
    body = error_of(r)
    return body["error"] + " " + str(body.get("hint") or "")


def scope_file(node, project, env):
    return node.state_dir / "vars" / project / f"{env}.json"


def read_scope_file(node, project, env):
    return json.loads(scope_file(node, project, env).read_text(encoding="utf-8"))


def user_keys(d):
    return {k: v for k, v in d.items() if not k.startswith("_")}


def env_line(key, value):
    """The contract's rendering of one ?format=env line."""
    esc = (value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`"))
    return f'{key}="{esc}"\n'


def parse_allow(r):
    assert "allow" in r.headers, r.headers
    return {m.strip().upper() for m in r.headers["allow"].split(",") if m.strip()}


def write_scope_file(node, project, env, data):
    """Replaces a scope's file behind the worker's back (atomically, with the
    owner and mode the worker gave it). The worker must treat it as the
    current state."""
    r = put_json(node, f"/vars/{project}/{env}/SEED_FOR_DIRECT_WRITE", "x")
    assert r.status == 200, r
    f = scope_file(node, project, env)
    st = f.stat()
    tmp = f.with_name(f".vars-test-{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    os.rename(tmp, f)


def sh_env(envfile):
    """The environment a program sees after `set -a; . ./file` in sh."""
    out = subprocess.run(
        ["/bin/sh", "-c", 'set -a; . ./"$1"; exec /usr/bin/python3 -c "$2"', "sh",
         envfile.name, ENV_DUMP],
        cwd=envfile.parent, env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return decode_env_dump(out.stdout)


def decode_env_dump(stdout):
    raw = json.loads(stdout)
    return {k.encode("latin-1").decode("utf-8"): v.encode("latin-1").decode("utf-8")
            for k, v in raw.items()}


def only_v(env):
    return {k: v for k, v in env.items() if k.startswith("V_")}


@pytest.fixture
def scopes(node):
    """Factory: scopes(project="myapp") -> "/vars/<project>/<fresh env>";
    every scope made is deleted at the end."""
    made = []

    def make(project="myapp", tag="t"):
        env = new_env(tag)
        made.append((project, env))
        return f"/vars/{project}/{env}"

    yield make
    for project, env in made:
        r = delete(node, f"/vars/{project}/{env}")
        assert r.status == 204, (project, env, r)
        assert not scope_file(node, project, env).exists()


@pytest.fixture
def scope(scopes):
    return scopes()


# --- GET /vars ---------------------------------------------------------------

def test_list_scopes_in_file_order(node, scopes):
    a, b = scopes(tag="b"), scopes(tag="a")
    assert put_json(node, f"{a}/K", "1").status == 200
    assert put_raw(node, f"{b}/K", "2").status == 200
    r = node.get("/vars")
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json"
    got = r.json()
    assert isinstance(got, list)
    assert [s["project"] for s in got] == PROJECTS_IN_FILE_ORDER
    by = {s["project"]: s for s in got}
    assert {k: by["myapp"][k] for k in ("env", "read", "write")} == {"env": None, "read": True, "write": True}
    assert {k: by["stress"][k] for k in ("env", "read", "write")} == {"env": None, "read": True, "write": True}
    assert {k: by["monitoring"][k] for k in ("env", "read", "write")} == {"env": None, "read": True, "write": False}
    assert {k: by["legacy"][k] for k in ("env", "read", "write")} == {"env": "prod", "read": True, "write": True}
    assert {k: by["sealed"][k] for k in ("env", "read", "write")} == {"env": None, "read": False, "write": True}
    for s in got:
        assert isinstance(s["envs"], list), s
        assert s["envs"] == sorted(s["envs"]), s
    envs = by["myapp"]["envs"]
    assert a.split("/")[-1] in envs and b.split("/")[-1] in envs


def test_list_envs_follow_stored_data(node, scopes):
    path = scopes()
    env = path.split("/")[-1]
    assert env not in node.get("/vars").json()[0]["envs"]
    assert put_json(node, f"{path}/K", "v").status == 200
    assert env in node.get("/vars").json()[0]["envs"]
    assert delete(node, path).status == 204
    assert env not in node.get("/vars").json()[0]["envs"]


def test_list_permissions(node):
    assert node.get("/vars", src=READONLY).status == 200
    r = node.get("/vars", src=NOCAPS)
    assert r.status == 403, r
    error_of(r)
    r = node.get("/vars", src=STRANGER)
    assert r.status == 401, r
    assert error_of(r)["error"] == "caller identity could not be resolved"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_list_wrong_method_is_405(node, method):
    r = node.request(method, "/vars", body=b"")
    assert r.status == 405, r
    allow = parse_allow(r)
    assert "GET" in allow and method not in allow, allow
    error_of(r)


def test_reply_shape(node, scope):
    assert put_json(node, f"{scope}/K", "v").status == 200
    for path in ("/vars", scope, f"{scope}/K"):
        r = node.get(path)
        assert r.status == 200, (path, r)
        assert r.headers["content-type"] == "application/json", path
        # Connection: kept alive within the integration or closed: test_keepalive.py.
        assert r.body.endswith(b"\n"), path


# --- GET/DELETE /vars/{project}/{env} -------------------------------------------

def test_empty_scope_is_empty(node, scope):
    for q in ("", "?format=json"):
        r = node.get(scope + q)
        assert r.status == 200, r
        assert r.json() == {}
    r = node.get(scope + "?format=env")
    assert r.status == 200, r
    assert r.headers["content-type"].replace(" ", "").lower() == "text/plain;charset=utf-8"
    assert r.body == b""


def test_scope_lists_values_without_metadata(node, scope):
    want = {"B": "2", "A": "1", "C_3": "three"}
    for k, v in want.items():
        assert put_json(node, f"{scope}/{k}", v).status == 200
    for q in ("", "?format=json"):
        r = node.get(scope + q)
        assert r.status == 200, r
        assert r.json() == want
    # The file has the metadata, the API never shows it.
    on_disk = read_scope_file(node, *scope.split("/")[2:])
    assert "_updated_at" in on_disk and "_updated_by" in on_disk


def test_underscore_keys_in_the_file_are_never_shown(node, scope):
    project, env = scope.split("/")[2:]
    write_scope_file(node, project, env, {
        "A": "1", "_updated_at": "2026-01-01T00:00:00Z", "_updated_by": "alice-laptop",
        "_other": "hidden"})
    assert node.get(scope).json() == {"A": "1"}
    assert node.get(scope + "?format=env").body == b'A="1"\n'
    assert node.get(f"{scope}/_other").status == 400


def test_format_env_rendering(node, scope):
    values = {"B": 'a"b', "A": "x$y`z\\w", "C": "line1\nline2", "D": "it's # é"}
    for k, v in values.items():
        assert put_json(node, f"{scope}/{k}", v).status == 200
    r = node.get(scope + "?format=env")
    assert r.status == 200, r
    assert r.headers["content-type"].replace(" ", "").lower() == "text/plain;charset=utf-8"
    assert r.body.decode() == ('A="x\\$y\\`z\\\\w"\n'
                               'B="a\\"b"\n'
                               'C="line1\nline2"\n'
                               'D="it\'s # é"\n')


@pytest.mark.parametrize("fmt", ["bogus", "yaml", "ENVX"])
def test_unknown_format_is_400(node, scope, fmt):
    r = node.get(f"{scope}?format={fmt}")
    assert r.status == 400, r
    error_of(r)


def test_delete_scope(node, scope):
    project, env = scope.split("/")[2:]
    for k in ("A", "B"):
        assert put_json(node, f"{scope}/{k}", "v").status == 200
    assert scope_file(node, project, env).exists()
    r = delete(node, scope)
    assert r.status == 204, r
    assert r.body == b""
    assert not scope_file(node, project, env).exists()
    assert node.get(scope).json() == {}
    assert node.get(f"{scope}/A").status == 404
    # Deleting what is not there is fine too.
    assert delete(node, scope).status == 204


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_scope_wrong_method_is_405(node, scope, method):
    r = node.request(method, scope, body=b"")
    assert r.status == 405, r
    allow = parse_allow(r)
    assert {"GET", "DELETE"} <= allow and method not in allow, allow


# --- GET/PUT/DELETE /vars/{project}/{env}/{key} --------------------------------

def test_put_json_then_get(node, scope):
    r = put_json(node, f"{scope}/API_KEY", "secret-value")
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"key": "API_KEY", "status": "ok"}
    r = node.get(f"{scope}/API_KEY")
    assert r.status == 200, r
    assert r.json() == {"key": "API_KEY", "value": "secret-value"}
    # Overwrite.
    assert put_json(node, f"{scope}/API_KEY", "other").status == 200
    assert node.get(f"{scope}/API_KEY").json()["value"] == "other"


def test_put_json_keeps_trailing_newlines(node, scope):
    assert put_json(node, f"{scope}/K", "two\n\n").status == 200
    assert node.get(f"{scope}/K").json()["value"] == "two\n\n"


def test_put_json_with_charset_parameter(node, scope):
    r = put_json(node, f"{scope}/K", "v", ctype="application/json; charset=utf-8")
    assert r.status == 200, r
    assert node.get(f"{scope}/K").json()["value"] == "v"


@pytest.mark.parametrize("ctype", ["application/octet-stream", "text/plain", "application/jsonx",
                                   "application/json-patch+json", "text/json", None])
def test_put_raw_strips_trailing_line_ends_only(node, scope, ctype):
    r = put_raw(node, f"{scope}/RAW", b"secret-value\n\n\n", ctype=ctype)
    assert r.status == 200, r
    assert r.json() == {"key": "RAW", "status": "ok"}
    assert node.get(f"{scope}/RAW").json()["value"] == "secret-value"
    # Trailing "\n" and "\r\n" go (a file saved on Windows); leading and
    # inner line ends, a CR not followed by LF, and trailing spaces stay.
    for body, want in ((b"\na\nb \r\n", "\na\nb "), (b"v\r\n\r\n\n", "v"), (b"x\r", "x\r"),
                       (b"x\r\r\n", "x\r"), (b"a\r\nb\r\n", "a\r\nb"), (b"\r\n", "")):
        assert put_raw(node, f"{scope}/RAW", body, ctype=ctype).status == 200, body
        assert node.get(f"{scope}/RAW").json()["value"] == want, body
    # A body that is JSON-looking but not sent as application/json is the value itself.
    assert put_raw(node, f"{scope}/RAW", b'{"value":"x"}', ctype=ctype).status == 200
    assert node.get(f"{scope}/RAW").json()["value"] == '{"value":"x"}'


@pytest.mark.parametrize("ctype", ["application/json", "Application/JSON", "application/json; charset=utf-8",
                                   "application/json;charset=UTF-8", "application/json ; charset=utf-8"])
def test_put_json_content_type_forms(node, scope, ctype):
    r = put_json(node, f"{scope}/K", "v", ctype=ctype)
    assert r.status == 200, r
    assert node.get(f"{scope}/K").json()["value"] == "v"


def test_put_empty_values(node, scope):
    assert put_json(node, f"{scope}/J", "").status == 200
    assert put_raw(node, f"{scope}/R", b"").status == 200
    assert put_raw(node, f"{scope}/N", b"\n\n").status == 200
    for k in ("J", "R", "N"):
        assert node.get(f"{scope}/{k}").json() == {"key": k, "value": ""}
    assert node.get(scope).json() == {"J": "", "R": "", "N": ""}


@pytest.mark.parametrize("body", [
    b"[]", b'"x"', b"1", b"null", b'{"value":1}', b'{"value":null}', b'{"value":true}',
    b'{"value":["x"]}', b'{"value":{"a":"b"}}', b"{}", b'{"Value":"x"}', b"not json",
    b'{"value":"x"', b"", b'{"value":"x"} trailing', b'{"value":"x"}{}', b'{"value":"x"}\x00',
    b'{"value":"x"},', b'{"value":"x"}]',
], ids=lambda b: b.decode(errors="replace").replace("\x00", "NUL") or "empty")
def test_put_bad_json_body_is_400(node, scope, body):
    r = node.request("PUT", f"{scope}/K", body=body, headers={"Content-Type": "application/json"})
    assert r.status == 400, r
    error_of(r)
    assert node.get(f"{scope}/K").status == 404


@pytest.mark.parametrize("body,ctype", [
    (b"\xff\xfe", "application/octet-stream"),
    (b"abc\xc3", "application/octet-stream"),
    (b"\xc0\xaf", "application/octet-stream"),
    (b"\xed\xa0\x80", "application/octet-stream"),
    (b"\xf4\x90\x80\x80", "application/octet-stream"),
    (b"a\x00b", "application/octet-stream"),
    (b"\x00", "text/plain"),
    (b'{"value":"a\\u0000b"}', "application/json"),
    (b'{"value":"\xff"}', "application/json"),
], ids=["ff-fe", "truncated", "overlong", "surrogate", "above-10ffff", "nul-raw", "nul-only",
        "nul-json", "invalid-in-json"])
def test_put_invalid_utf8_or_nul_is_400(node, scope, body, ctype):
    r = node.request("PUT", f"{scope}/K", body=body, headers={"Content-Type": ctype})
    assert r.status == 400, r
    error_of(r)
    assert node.get(f"{scope}/K").status == 404


def test_get_missing_key_is_404(node, scope):
    r = node.get(f"{scope}/NOPE")
    assert r.status == 404, r
    assert "not found" in error_of(r)["error"]
    assert put_json(node, f"{scope}/OTHER", "x").status == 200
    r = node.get(f"{scope}/NOPE")
    assert r.status == 404, r
    assert error_of(r)["error"] == "key not found"


def test_delete_key(node, scope):
    assert put_json(node, f"{scope}/A", "1").status == 200
    assert put_json(node, f"{scope}/B", "2").status == 200
    r = delete(node, f"{scope}/A")
    assert r.status == 204, r
    assert r.body == b""
    assert node.get(f"{scope}/A").status == 404
    assert node.get(scope).json() == {"B": "2"}
    assert "A" not in read_scope_file(node, *scope.split("/")[2:])
    # Deleting a key that is not there is fine too.
    assert delete(node, f"{scope}/A").status == 204
    assert delete(node, f"{scope}/NEVER").status == 204
    assert node.get(scope).json() == {"B": "2"}


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_key_wrong_method_is_405(node, scope, method):
    r = node.request(method, f"{scope}/K", body=b"")
    assert r.status == 405, r
    allow = parse_allow(r)
    assert {"GET", "PUT", "DELETE"} <= allow and method not in allow, allow
    error_of(r)


def test_key_length_limit(node, scope):
    assert put_json(node, f"{scope}/A", "one").status == 200
    k256 = "K" * 256
    assert put_json(node, f"{scope}/{k256}", "v").status == 200
    assert node.get(f"{scope}/{k256}").json() == {"key": k256, "value": "v"}
    k257 = "K" * 257
    r = put_json(node, f"{scope}/{k257}", "v")
    assert r.status == 400, r
    error_of(r)
    assert node.get(scope).json() == {"A": "one", k256: "v"}


@pytest.mark.parametrize("key", KEY_BAD)
def test_bad_key_is_400_naming_the_rule(node, scope, key):
    for r in (put_json(node, f"{scope}/{key}", "v"), node.get(f"{scope}/{key}"),
              delete(node, f"{scope}/{key}")):
        assert r.status == 400, (key, r)
        assert KEY_RULE in error_text(r), (key, r)
    assert node.get(scope).json() == {}


@pytest.mark.parametrize("key", RESERVED)
def test_reserved_key_is_400(node, scope, key):
    assert put_json(node, f"{scope}/A", "1").status == 200
    before = scope_file(node, *scope.split("/")[2:]).read_bytes()
    for r in (put_json(node, f"{scope}/{key}", "v"), put_raw(node, f"{scope}/{key}", "v"),
              node.get(f"{scope}/{key}"), delete(node, f"{scope}/{key}")):
        assert r.status == 400, (key, r)
        assert "reserved" in error_of(r)["error"], (key, r)
    after = scope_file(node, *scope.split("/")[2:]).read_bytes()
    assert before == after


@pytest.mark.parametrize("env", SCOPE_ENV_BAD)
def test_bad_env_name_is_400(node, env):
    for method, path in (("GET", f"/vars/myapp/{env}"), ("DELETE", f"/vars/myapp/{env}"),
                         ("GET", f"/vars/myapp/{env}/K"), ("PUT", f"/vars/myapp/{env}/K"),
                         ("DELETE", f"/vars/myapp/{env}/K")):
        r = node.request(method, path, body=b"v" if method == "PUT" else None)
        assert r.status == 400, (method, path, r)
        assert "env" in error_text(r), (method, path, r)


@pytest.mark.parametrize("project", PROJECT_BAD)
def test_bad_project_name_is_400(node, project):
    for method, path in (("GET", f"/vars/{project}/prod"), ("DELETE", f"/vars/{project}/prod"),
                         ("GET", f"/vars/{project}/prod/K"), ("PUT", f"/vars/{project}/prod/K")):
        r = node.request(method, path, body=b"v" if method == "PUT" else None)
        assert r.status == 400, (method, path, r)
        assert "project" in error_text(r), (method, path, r)


def test_name_edges_that_are_valid(node):
    tag = uuid.uuid4().hex[:8]
    for env in ("0", f"{tag}_-b", tag + "x" * 56):
        path = f"/vars/myapp/{env}"
        try:
            r = node.get(path)
            assert r.status == 200, (env, r)
            assert r.json() == {}
            assert put_json(node, f"{path}/K", "v").status == 200, env
            assert node.get(f"{path}/K").json()["value"] == "v"
        finally:
            assert delete(node, path).status == 204


@pytest.mark.parametrize("path", [
    "/vars/myapp/..%2F..%2Fetc/K", "/vars/myapp/%2e%2e/K", "/vars/..%2Fmyapp/prod/K",
    "/vars/myapp/prod/..%2F..%2FX", "/vars/myapp/prod/K/extra", "/vars/myapp/prod/K%2FX",
    "/vars/myapp/a%2Fb", "/vars/my%2Fapp/prod/K", "/vars/myapp/%2Fetc%2Fpasswd/K",
    "/vars/myapp/prod%2F..%2F..%2F..%2Fx/K",
])
def test_path_tricks_do_not_reach_the_file_system(node, path):
    before = sorted(str(p) for p in node.state_dir.rglob("*"))
    r = node.request("PUT", path, body=b"v")
    assert r.status in (400, 404), r
    r = node.get(path)
    assert r.status in (400, 404), r
    after = sorted(str(p) for p in node.state_dir.rglob("*"))
    assert before == after


# --- permissions and configured scopes -------------------------------------------

def test_readonly_peer_reads_but_cannot_write(node, scope):
    assert put_json(node, f"{scope}/K", "v").status == 200
    assert node.get("/vars", src=READONLY).status == 200
    assert node.get(scope, src=READONLY).json() == {"K": "v"}
    assert node.get(scope + "?format=env", src=READONLY).status == 200
    assert node.get(f"{scope}/K", src=READONLY).json() == {"key": "K", "value": "v"}
    for r in (put_json(node, f"{scope}/K", "x", src=READONLY),
              put_raw(node, f"{scope}/NEW", "x", src=READONLY),
              delete(node, f"{scope}/K", src=READONLY),
              delete(node, scope, src=READONLY)):
        assert r.status == 403, r
        assert "tailkitd-vars" in error_text(r), r
    assert node.get(scope).json() == {"K": "v"}


def test_peer_without_cap_is_403(node, scope):
    assert put_json(node, f"{scope}/K", "v").status == 200
    for r in (node.get("/vars", src=NOCAPS), node.get(scope, src=NOCAPS),
              node.get(f"{scope}/K", src=NOCAPS), put_json(node, f"{scope}/K", "x", src=NOCAPS),
              delete(node, f"{scope}/K", src=NOCAPS), delete(node, scope, src=NOCAPS)):
        assert r.status == 403, r
        assert "tailkitd-vars" in error_text(r), r
    assert node.get(scope).json() == {"K": "v"}


def test_stranger_is_401(node, scope):
    assert put_json(node, f"{scope}/K", "v").status == 200
    for r in (node.get("/vars", src=STRANGER), node.get(scope, src=STRANGER),
              node.get(f"{scope}/K", src=STRANGER), put_json(node, f"{scope}/K", "x", src=STRANGER),
              delete(node, f"{scope}/K", src=STRANGER), delete(node, scope, src=STRANGER)):
        assert r.status == 401, r
        assert error_of(r)["error"] == "caller identity could not be resolved"
    assert node.get(scope).json() == {"K": "v"}


def test_read_only_scope_refuses_writes(node):
    env = new_env()
    path = f"/vars/monitoring/{env}"
    r = node.get(path)
    assert r.status == 200, r
    assert r.json() == {}
    assert node.get(f"{path}/K").status == 404
    for r in (put_json(node, f"{path}/K", "v"), put_raw(node, f"{path}/K", "v"),
              delete(node, f"{path}/K"), delete(node, path)):
        assert r.status == 403, r
        assert error_of(r)["error"] == "write not permitted for this scope"
    assert not scope_file(node, "monitoring", env).exists()


def test_write_only_scope_refuses_reads(node, scopes):
    path = scopes("sealed")
    r = put_json(node, f"{path}/K", "v")
    assert r.status == 200, r
    for r in (node.get(path), node.get(path + "?format=env"), node.get(f"{path}/K"),
              node.get(f"{path}/NOPE")):
        assert r.status == 403, r
        assert error_of(r)["error"] == "read not permitted for this scope"
    assert read_scope_file(node, *path.split("/")[2:])["K"] == "v"
    assert delete(node, f"{path}/K").status == 204


def test_env_restricted_scope(node):
    path = "/vars/legacy/prod"
    delete(node, path)
    try:
        assert put_json(node, f"{path}/K", "v").status == 200
        assert node.get(path).json() == {"K": "v"}
        for r in (node.get("/vars/legacy/dev"), node.get("/vars/legacy/dev/K"),
                  put_json(node, "/vars/legacy/dev/K", "v"), delete(node, "/vars/legacy/dev")):
            assert r.status == 404, r
            assert "vars.toml" in error_text(r), r
        assert not scope_file(node, "legacy", "dev").exists()
    finally:
        assert delete(node, path).status == 204


def test_unconfigured_project_is_404(node):
    for r in (node.get("/vars/nope/prod"), node.get("/vars/nope/prod/K"),
              put_json(node, "/vars/nope/prod/K", "v"), put_raw(node, "/vars/nope/prod/K", "v"),
              delete(node, "/vars/nope/prod/K"), delete(node, "/vars/nope/prod")):
        assert r.status == 404, r
        assert "vars.toml" in error_text(r), r
    assert not (node.state_dir / "vars" / "nope").exists()


# --- storage -----------------------------------------------------------------

def test_storage_file_and_metadata(node, scope):
    project, env = scope.split("/")[2:]
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    assert put_json(node, f"{scope}/FROM_JSON", "j\n").status == 200
    assert put_raw(node, f"{scope}/FROM_RAW", b"r\n", ctype="application/octet-stream").status == 200
    t1 = datetime.now(timezone.utc)
    f = scope_file(node, project, env)
    data = json.loads(f.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    assert user_keys(data) == {"FROM_JSON": "j\n", "FROM_RAW": "r"}
    assert all(isinstance(v, str) for v in data.values()), data
    assert data["_updated_by"] == "alice-laptop"
    at = data["_updated_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", at), at
    ts = datetime.fromisoformat(at.replace("Z", "+00:00"))
    assert ts.utcoffset() == timedelta(0)
    assert t0 - timedelta(seconds=2) <= ts <= t1 + timedelta(seconds=2), (t0, at, t1)
    # No data left beside the scope file by the atomic write (an empty lock
    # file is fine).
    leftovers = [p.name for p in f.parent.iterdir()
                 if env in p.name and p != f and p.stat().st_size > 0]
    assert not leftovers, leftovers


def test_updated_by_is_the_last_writer(node, scope):
    project, env = scope.split("/")[2:]
    assert put_json(node, f"{scope}/A", "1").status == 200
    assert read_scope_file(node, project, env)["_updated_by"] == "alice-laptop"
    # 127.0.0.5 holds read+write under the example.com domain (tailkitd.conf).
    assert put_json(node, f"{scope}/B", "2", src=CUSTOM).status == 200
    data = read_scope_file(node, project, env)
    assert data["_updated_by"] == "ops-box"
    assert user_keys(data) == {"A": "1", "B": "2"}


def test_file_written_behind_the_workers_back_is_the_state(node, scope):
    project, env = scope.split("/")[2:]
    write_scope_file(node, project, env, {"X": "from disk", "_updated_at": "2026-01-01T00:00:00Z",
                                          "_updated_by": "someone"})
    assert node.get(scope).json() == {"X": "from disk"}
    assert put_json(node, f"{scope}/Y", "api").status == 200
    assert user_keys(read_scope_file(node, project, env)) == {"X": "from disk", "Y": "api"}


# --- audit: caller and key, never a value ------------------------------------

def journal_or_log_text(node):
    """Everything the workers logged, as text (all components)."""
    if node.mode == "system":
        return subprocess.run(["journalctl", "--no-pager", "-o", "json", "--since=-30min"],
                              capture_output=True, text=True, errors="replace").stdout
    return "\n".join(f.read_text(errors="replace") for f in node.workdir.glob("*.log"))


def test_writes_are_logged_with_caller_and_key_never_the_value(node, scopes):
    path = scopes()
    project, env = path.split("/")[2:]
    secrets = {}
    writes = []
    for i, form in enumerate(["json", "raw", "json", "raw"]):
        key = f"LOGGED_{i}"
        value = f"s3cr3t-{uuid.uuid4().hex}"
        secrets[key] = value
        r = (put_json if form == "json" else put_raw)(node, f"{path}/{key}", value)
        assert r.status == 200, r
        assert value not in r.body.decode(errors="replace")
        writes.append(key)
    assert delete(node, f"{path}/LOGGED_0").status == 204
    # Rejected writes must not leak the value either (not in the reply, not in a log).
    rejected = []
    for make in (
        lambda v: put_raw(node, f"{path}/lower", v),  # bad key
        lambda v: put_raw(node, f"{path}/_X", v),  # reserved
        lambda v: put_raw(node, f"{path}/K", v + "\x00"),  # NUL
        lambda v: put_raw(node, f"{path}/K", v.encode() + b"\xff"),  # bad UTF-8
        lambda v: node.request("PUT", f"{path}/K", body=f'{{"value": "{v}"'.encode(),
                               headers={"Content-Type": "application/json"}),  # broken JSON
        lambda v: node.request("PUT", f"{path}/K", body=f'{{"value": ["{v}"]}}'.encode(),
                               headers={"Content-Type": "application/json"}),  # not a string
        lambda v: put_raw(node, f"{path}/K", v + "x" * MIB),  # too large
        lambda v: put_raw(node, f"/vars/monitoring/{env}/K", v),  # scope read-only
        lambda v: put_raw(node, f"{path}/K", v, src=READONLY),  # cap read-only
        lambda v: put_raw(node, f"/vars/nope/{env}/K", v),  # scope not configured
    ):
        value = f"s3cr3t-{uuid.uuid4().hex}"
        r = make(value)
        assert 400 <= r.status < 500, r
        assert value not in r.body.decode(errors="replace"), r
        rejected.append(value)

    def logged_all():
        recs = node.logs("vars")
        for key in writes:
            mine = [rec for rec in recs if rec.get("caller") == "alice-laptop" and rec.get("key") == key
                    and rec.get("project") == project and rec.get("env") == env]
            # LOGGED_0 was written twice: PUT, then DELETE.
            if len(mine) < (2 if key == "LOGGED_0" else 1):
                return None
        return recs
    recs = wait_for(logged_all, timeout=10, interval=0.2,
                    what="a log record with caller, key, project and env for every write")
    everything = [json.dumps(rec, ensure_ascii=False) for rec in recs]
    text = journal_or_log_text(node)
    for value in list(secrets.values()) + rejected:
        assert not [line for line in everything if value in line], value
        assert value not in text, value


# --- hostile values ------------------------------------------------------------

@pytest.fixture
def hostile(node, scopes):
    """A scope holding every HOSTILE value (written with the JSON form)."""
    path = scopes(tag="hostile")
    for k, v in HOSTILE.items():
        r = put_json(node, f"{path}/{k}", v)
        assert r.status == 200, (k, r)
    return path


def test_hostile_values_round_trip_json(node, hostile):
    for k, v in HOSTILE.items():
        r = node.get(f"{hostile}/{k}")
        assert r.status == 200, (k, r)
        assert r.json() == {"key": k, "value": v}, k
    assert node.get(hostile).json() == HOSTILE


def test_hostile_values_round_trip_raw(node, scope):
    want = {k: v for k, v in HOSTILE.items() if not v.endswith("\n")}
    for k, v in want.items():
        r = put_raw(node, f"{scope}/{k}", v.encode())
        assert r.status == 200, (k, r)
    for k, v in want.items():
        assert node.get(f"{scope}/{k}").json()["value"] == v, k
    assert node.get(scope).json() == want


def test_hostile_values_env_format_is_exact(node, hostile):
    r = node.get(hostile + "?format=env")
    assert r.status == 200, r
    assert r.body.decode("utf-8") == "".join(env_line(k, HOSTILE[k]) for k in sorted(HOSTILE))


def test_hostile_values_round_trip_through_sh(node, hostile, tmp_path):
    r = node.get(hostile + "?format=env")
    assert r.status == 200, r
    f = tmp_path / "vars.env"
    f.write_bytes(r.body)
    env = sh_env(f)
    assert "V_INJECTED" not in env
    assert only_v(env) == HOSTILE


@system_only
def test_hostile_values_round_trip_through_systemd_environment_file(node, hostile, tmp_path):
    r = node.get(hostile + "?format=env")
    assert r.status == 200, r
    f = tmp_path / "vars.env"
    f.write_bytes(r.body)
    f.chmod(0o644)
    unit = f"tailkitd-test-envfile-{uuid.uuid4().hex[:8]}"
    out = subprocess.run(
        ["systemd-run", "--wait", "--quiet", "--pipe", "--collect", f"--unit={unit}",
         "-p", f"EnvironmentFile={f}", "/usr/bin/python3", "-c", ENV_DUMP],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    env = decode_env_dump(out.stdout)
    assert "V_INJECTED" not in env
    got = only_v(env)
    diff = {k: (HOSTILE.get(k), got.get(k)) for k in set(HOSTILE) | set(got) if HOSTILE.get(k) != got.get(k)}
    assert not diff, diff


def big_value(n=MIB, every=2048):
    """n bytes of "x" with hostile characters every `every` bytes: sparse
    enough that the JSON body stays under the 1 MiB + 4 KiB body cap."""
    pattern = 'a"b$c`d\\e\nf#g h\r\t\'i;'
    block = pattern + "x" * (every - len(pattern))
    v = (block * (n // every + 1))[:n - 1] + "Z"
    assert len(v.encode()) == n
    return v


def test_one_mib_value_round_trips(node, scope, tmp_path):
    big = big_value()
    assert put_json(node, f"{scope}/V_BIG", big).status == 200
    assert node.get(f"{scope}/V_BIG").json()["value"] == big
    assert put_raw(node, f"{scope}/V_BIG_RAW", big.encode()).status == 200
    assert node.get(f"{scope}/V_BIG_RAW").json()["value"] == big
    # Multi-byte: the limit is in bytes after decoding.
    wide = "é" * (MIB // 2)
    assert put_json(node, f"{scope}/V_WIDE", wide).status == 200
    assert node.get(f"{scope}/V_WIDE").json()["value"] == wide
    assert put_json(node, f"{scope}/V_EMPTY", "").status == 200

    r = node.get(scope + "?format=env")
    assert r.status == 200, r
    assert r.body.decode() == "".join(env_line(k, v) for k, v in sorted(
        {"V_BIG": big, "V_BIG_RAW": big, "V_WIDE": wide, "V_EMPTY": ""}.items()))
    # 1 MiB is beyond what execve passes in one variable: read it back with sh builtins.
    f = tmp_path / "vars.env"
    f.write_bytes(r.body)
    out = subprocess.run(
        ["/bin/sh", "-c", 'set -a; . ./vars.env; printf %s "$V_BIG" >big.out; printf %s "$V_WIDE" >wide.out; '
                          'printf %s "${V_EMPTY-unset}" >empty.out'],
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "big.out").read_bytes() == big.encode()
    assert (tmp_path / "wide.out").read_bytes() == wide.encode()
    assert (tmp_path / "empty.out").read_bytes() == b""


# --- limits ------------------------------------------------------------------------

def test_value_over_one_mib_is_413_and_changes_nothing(node, scope):
    project, env = scope.split("/")[2:]
    assert put_json(node, f"{scope}/K", "orig").status == 200
    before = scope_file(node, project, env).read_bytes()
    over = "x" * (MIB + 1)
    for r in (put_raw(node, f"{scope}/K", over), put_json(node, f"{scope}/K", over),
              put_raw(node, f"{scope}/NEW", over), put_json(node, f"{scope}/NEW", over),
              put_json(node, f"{scope}/NEW", "é" * (MIB // 2) + "x"),
              put_raw(node, f"{scope}/NEW", "x" * (2 * MIB)),
              put_raw(node, f"{scope}/NEW", "x" * (MIB + 4096 + 1)),
              put_json(node, f"{scope}/NEW", "\x01" * (MIB + 1))):  # decoded 1 MiB + 1
        assert r.status == 413, r
        error_of(r)
    assert scope_file(node, project, env).read_bytes() == before
    assert node.get(scope).json() == {"K": "orig"}


def test_declared_huge_body_is_refused_without_reading_it(node, scope):
    head = (f"PUT {scope}/K HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {100 * MIB}\r\n\r\n").encode()
    t0 = time.monotonic()
    reply = node.raw(head + b"x" * 1024, timeout=10)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert time.monotonic() - t0 < 5
    assert node.get(f"{scope}/K").status == 404


def test_chunked_body_over_the_cap_is_413(node, scope):
    """Without a Content-Length the cap is enforced while the body streams in:
    a 413, or (once the upload is under way) the connection closed without a
    reply; never a stored value."""
    s = socket.socket()
    s.settimeout(10)
    s.bind((USER, 0))
    s.connect((node.host, node.port))
    reply = b""
    try:
        s.sendall(f"PUT {scope}/K HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"%x\r\n" % 65536 + b"c" * 65536 + b"\r\n"
        try:
            for _ in range(32):  # 2 MiB
                s.sendall(chunk)
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may stop reading once over the cap
        while True:
            try:
                c = s.recv(65536)
            except ConnectionResetError:
                break
            if not c:
                break
            reply += c
    finally:
        s.close()
    assert reply == b"" or reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert node.get(f"{scope}/K").status == 404
    assert node.get(scope).json() == {}


def test_ten_thousand_keys_per_scope(node, scope):
    project, env = scope.split("/")[2:]
    data = {f"K{i}": f"v{i}" for i in range(9999)}
    data["_updated_at"] = "2026-01-01T00:00:00Z"
    data["_updated_by"] = "alice-laptop"
    write_scope_file(node, project, env, data)
    # The file holds exactly 9,999 keys now (the seed key was replaced).
    assert len(node.get(scope).json()) == 9999
    assert put_raw(node, f"{scope}/K9999", "v9999").status == 200  # the 10,000th
    before = scope_file(node, project, env).read_bytes()
    for r in (put_raw(node, f"{scope}/K10000", "no"), put_json(node, f"{scope}/K10000", "no")):
        assert r.status == 409, r
        error_of(r)
    assert scope_file(node, project, env).read_bytes() == before
    assert node.get(f"{scope}/K10000").status == 404
    # Overwriting an existing key adds none.
    assert put_json(node, f"{scope}/K5", "new").status == 200
    got = node.get(scope).json()
    assert len(got) == 10000 and got["K5"] == "new" and got["K9999"] == "v9999"
    # Room again after a delete.
    assert delete(node, f"{scope}/K0").status == 204
    assert put_raw(node, f"{scope}/K10000", "yes").status == 200
    assert put_raw(node, f"{scope}/K10001", "no").status == 409
    got = node.get(scope).json()
    assert len(got) == 10000 and got["K10000"] == "yes" and "K0" not in got


def test_json_put_cap_counts_decoded_bytes(node, scope):
    """The 1 MiB limit is on the value: a JSON body escapes a control byte
    into 6 ("\u0001"), and such a value up to 1 MiB is accepted."""
    project, env = scope.split("/")[2:]
    for key, value in (("CTRL_300K", "\x01" * (300 * 1024)),
                       ("CTRL_1MIB", "\x01\x1f" * (MIB // 2)),
                       ("BACKSLASH", "\\" * (MIB // 2 + 2048)),
                       ("MIXED", "\x02é\"\\\n" * ((MIB - 8) // 6) + "😀ab")):
        assert len(value.encode()) <= MIB, key
        r = put_json(node, f"{scope}/{key}", value)
        assert r.status == 200, (key, r)
        assert node.get(f"{scope}/{key}").json()["value"] == value, key
        assert read_scope_file(node, project, env)[key] == value, key
    before = scope_file(node, project, env).read_bytes()
    r = put_json(node, f"{scope}/CTRL_1MIB", "\x01" * (MIB + 1))
    assert r.status == 413, r
    assert "1 MiB" in error_text(r)
    assert scope_file(node, project, env).read_bytes() == before


def send_head(node, head, src=USER):
    s = socket.socket()
    s.settimeout(10)
    s.bind((src, 0))
    s.connect((node.host, node.port))
    s.sendall(head.encode())
    return s


def read_reply(s):
    data = b""
    while True:
        try:
            c = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not c:
            break
        data += c
    return data


def test_concurrent_large_put_bodies_are_bounded(node, scope):
    """A PUT body may be 6 MiB (a 1 MiB value escaped); what such bodies hold
    at once is bounded: past the budget a PUT is answered 503 before its body
    is read, and once the others are gone PUTs are admitted again."""
    big = 6 * MIB
    head = (f"PUT {scope}/K HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {big}\r\n\r\n")
    pid = node.worker_pid("vars")
    base = node.rss_kib(pid)
    held, refused = [], None
    socks = [send_head(node, head) for _ in range(10)]
    try:
        # Sent back to back (the worker closes a body that does not come
        # within its deadline, which would free the budget meanwhile).
        time.sleep(0.5)
        for s in socks:
            s.setblocking(False)
            try:
                first = s.recv(65536)
            except BlockingIOError:
                held.append(s)  # admitted: the worker waits for the body
                continue
            s.settimeout(5)
            if refused is None:
                refused = first + read_reply(s)
        assert refused is not None, f"all {len(held)} large PUTs admitted at once"
        assert refused.startswith(b"HTTP/1.1 503"), refused[:300]
        assert b"retry" in refused, refused[:400]
        assert b"\r\nRetry-After: 1\r\n" in refused.split(b"\r\n\r\n", 1)[0] + b"\r\n", refused[:400]
        assert 1 <= len(held) <= 8, len(held)
        # The admitted ones really can send their body.
        body = json.dumps({"value": "\x01" * (MIB // 2)}).encode()
        assert len(body) < big
        held[0].setblocking(True)
        held[0].sendall(body + b" " * (big - len(body)))
        held[0].settimeout(20)
        reply = read_reply(held[0])
        assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
        assert node.rss_kib(pid) - base < 128 * 1024
    finally:
        for s in socks:
            s.close()
    wait_for(lambda: put_json(node, f"{scope}/AFTER", "v").status == 200, timeout=10,
             what="a PUT admitted once the large ones are gone")


# --- memory of reads -----------------------------------------------------------------

def reset_peak_rss(pid):
    """Resets VmHWM (the peak RSS) of pid; False where that is not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_kib(node, pid, sampler):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return max(int(line.split()[1]), sampler[0])
    return sampler[0]


def largest_scope(n_values=28):
    """Values near 1 MiB with a hostile character every KiB, ~30 MiB in all:
    about the largest a scope file may be (32 MiB)."""
    chunk = ("x" * 1000 + 'a"b\\c\n$`\x01') * 1040
    return {f"V{i:02d}": chunk[i:i + MIB - 64] for i in range(n_values)}


def test_concurrent_reads_of_the_largest_scope_stay_bounded(node, scope):
    """20 read-only callers read a ~30 MiB scope at once, as JSON, as env
    lines and key by key: values stream from the file, so the worker's RSS
    stays within a few MiB of where it was (it reached ~1 GiB when each read
    parsed and serialised the scope in memory)."""
    project, env = scope.split("/")[2:]
    data = largest_scope()
    write_scope_file(node, project, env, data)
    assert scope_file(node, project, env).stat().st_size > 28 * MIB
    want_json = node.get(scope, src=READONLY, timeout=120)
    assert want_json.status == 200, want_json
    assert want_json.json() == data
    want_env = node.get(scope + "?format=env", src=READONLY, timeout=120)
    assert want_env.body.decode() == "".join(env_line(k, v) for k, v in sorted(data.items()))

    pid = node.worker_pid("vars")
    for path, want in ((scope, want_json.body), (scope + "?format=env", want_env.body),
                       (f"{scope}/V07", None)):
        exact = reset_peak_rss(pid)
        base = node.rss_kib(pid)
        sampler, stop, results = [base], threading.Event(), []

        def sample():
            while not stop.is_set():
                try:
                    sampler[0] = max(sampler[0], node.rss_kib(pid))
                except (OSError, AssertionError):
                    pass
                time.sleep(0.005)

        def read():
            try:
                results.append(node.get(path, src=READONLY, timeout=120))
            except Exception as e:  # noqa: BLE001 — reported below
                results.append(e)

        t_sample = threading.Thread(target=sample)
        t_sample.start()
        readers = [threading.Thread(target=read) for _ in range(20)]
        for t in readers:
            t.start()
        for t in readers:
            t.join(300)
        stop.set()
        t_sample.join()
        peak = peak_rss_kib(node, pid, sampler) if exact else sampler[0]
        print(f"{path}: worker RSS {base // 1024} MiB before, peak {peak // 1024} MiB "
              f"under 20 concurrent reads ({'VmHWM' if exact else 'sampled'})")
        assert len(results) == 20
        for r in results:
            assert not isinstance(r, Exception), r
            assert r.status == 200, r
            if want is not None:
                assert r.body == want
            else:
                assert r.json() == {"key": "V07", "value": data["V07"]}
        assert peak - base < 64 * 1024, (base, peak)


def test_stored_scope_that_is_not_a_flat_string_object_is_500(node, scope):
    """The scope file is checked strictly: anything but one JSON object of
    strings (trailing bytes, a duplicate key, a NUL, bad UTF-8) reads as
    corrupt, and a write never replaces it."""
    project, env = scope.split("/")[2:]
    assert put_json(node, f"{scope}/A", "1").status == 200
    f = scope_file(node, project, env)
    for content in (b'{"A":"1"} trailing', b'{"A":"1"}{}', b'{"A":"1"},', b'{"A":1}', b'{"A":["1"]}',
                    b'{"A":"1","A":"2"}', b'{"A":"a\\u0000b"}', b'{"A":"\xff"}', b'{"A":"\\ud800"}',
                    b'{"A":"1"', b'["A"]', b'', b'{"A":"tab\there"}'):
        st = f.stat()
        tmp = f.with_name(f".corrupt-{uuid.uuid4().hex}")
        tmp.write_bytes(content)
        os.chown(tmp, st.st_uid, st.st_gid)
        os.rename(tmp, f)
        for r in (node.get(scope), node.get(scope + "?format=env"), node.get(f"{scope}/A"),
                  put_json(node, f"{scope}/B", "2"), delete(node, f"{scope}/A")):
            assert r.status == 500, (content, r)
            assert "corrupt" in error_text(r), (content, r)
        assert f.read_bytes() == content
    # Whitespace around and between tokens, and every JSON escape, are fine.
    f.write_bytes(b' \n{ "A" : "1" ,\t"B":"\\u00e9\\ud83d\\ude00\\n\\/\\"\\\\\\b\\f\\r\\t" } \r\n')
    assert node.get(scope).json() == {"A": "1", "B": "é😀\n/\"\\\b\f\r\t"}


# --- concurrency -------------------------------------------------------------------

def test_parallel_writers_lose_nothing(node, scopes):
    path = scopes("stress", tag="par")
    clients, per_client = 32, 20
    want = {f"C{c}_K{i}": f"v-{c}-{i}-{uuid.uuid4().hex[:8]}" for c in range(clients) for i in range(per_client)}
    errors = []
    start = threading.Barrier(clients)

    def client(c):
        try:
            start.wait(30)
            for i in range(per_client):
                key = f"C{c}_K{i}"
                put = put_json if (c + i) % 2 else put_raw
                r = put(node, f"{path}/{key}", want[key])
                if r.status != 200:
                    errors.append((key, r.status, r.body[:200]))
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append((c, repr(e)))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[:10]
    got = node.get(path).json()
    assert len(got) == clients * per_client
    assert got == want
    assert user_keys(read_scope_file(node, *path.split("/")[2:])) == want


# --- configuration -------------------------------------------------------------------

@pytest.fixture
def vars_toml(node):
    """vars.toml, restored after the test (the worker re-reads it on every request)."""
    f = node.config_dir / "vars.toml"
    saved = node.config_dir / f".vars.toml.saved-{uuid.uuid4().hex[:8]}"
    shutil.copy2(f, saved)

    def replace(text):
        tmp = node.config_dir / f".vars.toml.tmp-{uuid.uuid4().hex[:8]}"
        tmp.write_text(text)
        tmp.chmod(0o644)
        os.rename(tmp, f)
    try:
        yield f, replace
    finally:
        os.rename(saved, f)
    assert node.get("/vars").status == 200


def test_missing_vars_toml_is_503_naming_the_file(node, vars_toml):
    f, _ = vars_toml
    f.unlink()
    for r in (node.get("/vars"), node.get("/vars/myapp/prod"), node.get("/vars/myapp/prod/K"),
              put_json(node, "/vars/myapp/prod/K", "v"), delete(node, "/vars/myapp/prod"),
              node.get("/vars", src=NOCAPS)):
        assert r.status == 503, r
        assert "vars.toml" in error_text(r), r
    # Identity still comes first.
    assert node.get("/vars", src=STRANGER).status == 401


def test_invalid_vars_toml_is_503_with_the_parse_error(node, vars_toml):
    f, replace = vars_toml
    replace(f.read_text() + '\n[[scope]]\nproject = "x"\nbogus_key = true\n')
    r = node.get("/vars")
    assert r.status == 503, r
    assert "vars.toml" in error_text(r), r


def test_vars_toml_is_reread_without_restart(node, vars_toml):
    f, replace = vars_toml
    env = new_env()
    assert node.get(f"/vars/extra/{env}").status == 404
    replace(f.read_text() + '\n[[scope]]\nproject = "extra"\nread = true\nwrite = true\n')
    try:
        assert node.get(f"/vars/extra/{env}").status == 200
        assert put_json(node, f"/vars/extra/{env}/K", "v").status == 200
        assert [s["project"] for s in node.get("/vars").json()][-1] == "extra"
    finally:
        delete(node, f"/vars/extra/{env}")


def add_project(vars_toml, project):
    f, replace = vars_toml
    replace(f.read_text() + f'\n[[scope]]\nproject = "{project}"\nread = true\nwrite = true\n')


def tree(node):
    return sorted((str(p), p.stat().st_ino, p.stat().st_mtime_ns) for p in node.state_dir.rglob("*"))


def test_deleting_what_does_not_exist_writes_nothing(node, vars_toml, scope):
    """DELETE of an absent key or scope answers 204 and leaves the state
    directory exactly as it was: no project directory, no lock file, no
    rewritten scope (it used to leave one directory and lock file each)."""
    ghost = f"ghost{uuid.uuid4().hex[:8]}"
    add_project(vars_toml, ghost)
    assert put_json(node, f"{scope}/A", "1").status == 200
    before = tree(node)
    for i in range(150):
        assert delete(node, f"/vars/{ghost}/e{i}/K").status == 204
        assert delete(node, f"/vars/{ghost}/s{i}").status == 204
    for i in range(50):
        assert delete(node, f"/vars/myapp/{new_env('absent')}/K").status == 204
        assert delete(node, f"/vars/myapp/{new_env('absent')}").status == 204
    assert delete(node, f"{scope}/NEVER").status == 204
    assert tree(node) == before
    assert not (node.state_dir / "vars" / ghost).exists()
    assert node.get(scope).json() == {"A": "1"}


def test_envs_per_project_are_capped(node, vars_toml):
    """A project holds at most 100 envs: creating the 101st is a 409 with a
    hint, also when the creations race; existing envs stay writable, and a
    deleted env makes room."""
    project = f"capped{uuid.uuid4().hex[:8]}"
    add_project(vars_toml, project)
    results = {}

    def put(i):
        results[i] = put_raw(node, f"/vars/{project}/e{i}/K", f"v{i}")

    try:
        threads = [threading.Thread(target=put, args=(i,)) for i in range(115)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        ok = sorted(i for i, r in results.items() if r.status == 200)
        refused = [r for r in results.values() if r.status != 200]
        assert len(ok) == 100, {r.status for r in refused}
        for r in refused:
            assert r.status == 409, r
            body = error_of(r)
            assert "100" in body["error"] and "DELETE" in body["hint"], body
        files = sorted(p.name for p in (node.state_dir / "vars" / project).glob("*.json"))
        assert len(files) == 100, files
        assert {s["project"]: len(s["envs"]) for s in node.get("/vars").json()}[project] == 100
        # Existing envs take more keys; a new one is refused and leaves nothing.
        assert put_raw(node, f"/vars/{project}/e{ok[0]}/K2", "x").status == 200
        r = put_json(node, f"/vars/{project}/brandnew/K", "x")
        assert r.status == 409, r
        assert not scope_file(node, project, "brandnew").exists()
        assert delete(node, f"/vars/{project}/e{ok[0]}").status == 204
        assert put_json(node, f"/vars/{project}/brandnew/K", "x").status == 200
    finally:
        for i in list(range(115)) + ["brandnew"]:
            delete(node, f"/vars/{project}/e{i}" if i != "brandnew" else f"/vars/{project}/brandnew")


# --- crash safety (real systemd) ------------------------------------------------

@system_only
def test_kill_9_during_a_stream_of_puts_loses_no_acknowledged_write(node, scopes):
    path = scopes("stress", tag="crash")
    project, env = path.split("/")[2:]
    total, n_kills = 2000, 8
    acked, failed, bad = {}, [], []
    progress = [0]
    done = threading.Event()

    def client():
        try:
            for i in range(total):
                key, value = f"K{i}", f"v{i}-{uuid.uuid4().hex}"
                try:
                    r = put_raw(node, f"{path}/{key}", value, timeout=15)
                except (OSError, http.client.HTTPException) as e:
                    failed.append((i, repr(e)))
                    continue
                finally:
                    progress[0] = i + 1
                if 200 <= r.status < 300:
                    acked[key] = value
                elif r.status >= 500:
                    failed.append((i, r.status))
                else:
                    bad.append((i, r.status, r.body[:200]))
        finally:
            done.set()

    # A warm worker to kill from the start.
    assert node.get(path).status == 200
    rng = random.Random()
    # Kill moments spread over the whole stream: after at least a random
    # 0.05-0.5 s pause, once the stream passed the next random request index,
    # and only while a worker runs (MainPID != 0).
    targets = sorted(rng.sample(range(50, total - 150), n_kills))
    t = threading.Thread(target=client)
    t.start()
    kills = []
    try:
        for target in targets:
            time.sleep(rng.uniform(0.05, 0.5))
            while not done.is_set() and (progress[0] < target or node.worker_pid("vars") == 0):
                time.sleep(0.005)
            if done.is_set():
                break
            pid = node.worker_pid("vars")
            subprocess.run(["systemctl", "kill", "-s", "SIGKILL", "tailkitd@vars.service"],
                           capture_output=True)
            kills.append((pid, progress[0]))
    finally:
        t.join(600)
    try:
        print(f"kills at (pid, requests done): {kills}; acked {len(acked)}/{total}, "
              f"failed {len(failed)}: {failed[:10]}")
        assert not t.is_alive()
        assert len(kills) >= 5, f"the stream ended after {len(kills)} kills: {kills}"
        # Each kill hit a new process: the previous one was really gone.
        assert len({pid for pid, _ in kills}) == len(kills), kills
        assert not bad, bad[:10]
        assert len(acked) >= total // 2, (len(acked), failed[:20])

        # Re-activated by the next request.
        r = node.get(path)
        assert r.status == 200, r
        assert node.worker_pid("vars") > 0
        got = r.json()
        lost = {k: v for k, v in acked.items() if got.get(k) != v}
        assert not lost, dict(list(lost.items())[:10])
        assert set(got) <= {f"K{i}" for i in range(total)}
        # Every scope file of the project parses (temp files of a killed writer may remain).
        for f in (node.state_dir / "vars" / project).glob("*.json"):
            assert isinstance(json.loads(f.read_text(encoding="utf-8")), dict), f
        on_disk = read_scope_file(node, project, env)
        assert all(on_disk.get(k) == v for k, v in acked.items())
        print("left in the scope directory:",
              sorted(p.name for p in scope_file(node, project, env).parent.iterdir() if env in p.name))
    finally:
        subprocess.run(["systemctl", "reset-failed", "tailkitd@vars.service"], capture_output=True)
