"""Files (issue #8, README "Files", SPEC §3-§4): POST /receive (multipart),
POST /files (X-Dest-Path, raw body), GET /files?path= (JSON or raw bytes,
Range) and ?dir=, under the rules of files.toml; every path resolved
beneath its rule's directory with openat2; uploads streamed to a temporary
file that only a complete, fsynced upload turns into the destination.

The module writes its own files.toml (restored afterwards) with rules under
a tree of its own: on the host in the test's workdir, under the real
systemd in /srv/tkfiles (the write directories of files.toml are made
writable in the worker's sandbox by tailkitd-files-generator at
daemon-reload, which these tests run). post_recv hooks need the real
systemd (jobs run as transient scopes).
"""

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import MODE, NOCAPS, READONLY, USER, system_only, wait_for

MIB = 1024 * 1024
SECRET = b"TOPSECRET-outside-the-rules\n"
SIBLING = b"SIBLING-app2-not-under-app\n"


# --- the tree and the rules --------------------------------------------------

class Tree:
    def __init__(self, node):
        self.node = node
        self.base = Path("/srv/tkfiles") if MODE == "system" else node.workdir / "files"
        self.toml = node.config_dir / "files.toml"
        self.saved = None

    def p(self, rel):
        return self.base / rel

    def a(self, rel):
        """The absolute path a caller sends (as written: no normalization)."""
        return f"{self.base}/{rel}"

    def build(self):
        if self.base.exists():
            shutil.rmtree(self.base)
        for d in ("app/sub", "app2", "outside", "ro", "wo", "go", "small", "big", "hooks"):
            self.p(d).mkdir(parents=True)
        self.p("outside/secret").write_bytes(SECRET)
        self.p("app2/secret").write_bytes(SIBLING)
        self.p("app/hello.txt").write_text("hello\n")
        self.p("ro/r.txt").write_text("read me\n")
        self.p("wo/w.txt").write_text("write only\n")
        os.symlink("../outside", self.p("app/escape"))                 # relative, leaves
        os.symlink(str(self.p("outside/secret")), self.p("app/abs"))   # absolute, leaves
        os.symlink("../app2/secret", self.p("app/sibling"))            # to the sibling rule-less dir
        os.symlink("/proc/self/root", self.p("app/procroot"))          # a magic link's way out
        os.symlink("/proc/self/fd", self.p("app/procfd"))
        os.symlink("sub", self.p("app/sublink"))                       # inside → inside: followed
        os.symlink("hello.txt", self.p("app/hello-link"))
        os.symlink("../../outside", self.p("app/sub/up2"))
        os.mkfifo(self.p("app/fifo"))
        subprocess.run(["mknod", str(self.p("app/null")), "c", "1", "3"], check=True)
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(self.p("app/sock")))
        s.close()

    def rules(self, extra=""):
        b = self.base
        return (f'[["{b}/app/"]]\nread = true\nwrite = true\n\n'
                f'[["{b}/ro/"]]\nread = true\n\n'
                f'[["{b}/wo/"]]\nwrite = true\n\n'
                f'[[path]]\ndir = "{b}/go/"\nallow = ["read", "write"]\n\n'
                f'[["{b}/small/"]]\nread = true\nwrite = true\nmax_size = "1K"\n\n'
                f'[["{b}/big/"]]\nread = true\nwrite = true\n' + extra)

    def write_rules(self, text=None):
        self.toml.write_text(text if text is not None else self.rules())

    def outside_untouched(self):
        """Nothing was written outside the rules, nor changed there."""
        assert sorted(os.listdir(self.p("outside"))) == ["secret"]
        assert self.p("outside/secret").read_bytes() == SECRET
        assert sorted(os.listdir(self.p("app2"))) == ["secret"]
        assert self.p("app2/secret").read_bytes() == SIBLING


def reload_sandbox(node):
    """Under the real systemd: the generator reads files.toml at
    daemon-reload; the next request starts the worker with it."""
    if MODE != "system":
        return
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)


@pytest.fixture(scope="module")
def tree(node):
    t = Tree(node)
    if t.toml.exists():
        t.saved = t.toml.read_text()
    t.build()
    t.write_rules()
    reload_sandbox(node)
    yield t
    if t.saved is not None:
        t.toml.write_text(t.saved)
    elif t.toml.exists():
        t.toml.unlink()
    shutil.rmtree(t.base, ignore_errors=True)
    reload_sandbox(node)


@pytest.fixture
def rules(tree):
    """Restores the module's files.toml after a test that changes it."""
    yield tree
    tree.write_rules()


# --- requests ----------------------------------------------------------------

def put(node, path, data, src=USER, headers=None):
    h = {"X-Dest-Path": path, "Content-Type": "application/octet-stream"}
    h.update(headers or {})
    return node.request("POST", "/files", src=src, body=data, headers=h)


def multipart(fields, boundary=None):
    """fields: (name, bytes, filename or None) in order."""
    b = boundary or "tkb" + uuid.uuid4().hex
    out = b""
    for name, value, filename in fields:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{b}\r\nContent-Disposition: {disp}\r\n".encode()
        if filename:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += f"--{b}--\r\n".encode()
    return out, f"multipart/form-data; boundary={b}"


def receive(node, path, data, src=USER, fields=None):
    body, ctype = multipart(fields if fields is not None else
                            [("path", path.encode() if isinstance(path, str) else path, None),
                             ("file", data, "upload.bin")])
    return node.request("POST", "/receive", src=src, body=body, headers={"Content-Type": ctype})


def q(path):
    from urllib.parse import quote
    return quote(path, safe="/")


def read(node, path, raw=False, src=USER, headers=None, quoted=True):
    h = {"Accept": "application/octet-stream" if raw else "application/json"}
    h.update(headers or {})
    return node.get("/files?path=" + (q(path) if quoted else path), src=src, headers=h)


def listing(node, path, src=USER, quoted=True):
    return node.get("/files?dir=" + (q(path) if quoted else path), src=src)


# --- writing and reading -----------------------------------------------------

def test_put_then_read_json_and_raw(node, tree):
    r = put(node, tree.a("app/new.txt"), b"first version\n")
    assert r.status == 200, r
    assert r.json() == {"written_to": tree.a("app/new.txt"), "bytes_written": 14, "status": "ok"}
    assert tree.p("app/new.txt").read_bytes() == b"first version\n"

    r = read(node, tree.a("app/new.txt"))
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"path": tree.a("app/new.txt"), "content": "first version\n", "size": 14}
    # The default (no Accept, */*) is JSON, as in the Go tailkitd.
    assert node.get("/files?path=" + q(tree.a("app/new.txt"))).json()["size"] == 14

    r = read(node, tree.a("app/new.txt"), raw=True)
    assert r.status == 200 and r.body == b"first version\n"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["accept-ranges"] == "bytes"

    # A symlink inside the directory pointing inside it is followed.
    assert read(node, tree.a("app/hello-link")).json()["content"] == "hello\n"
    assert put(node, tree.a("app/sublink/through.txt"), b"x").status == 200
    assert tree.p("app/sub/through.txt").read_bytes() == b"x"


def test_binary_content_is_base64(node, tree):
    data = bytes(range(256)) * 3
    assert put(node, tree.a("app/bin"), data).status == 200
    j = read(node, tree.a("app/bin")).json()
    assert j["encoding"] == "base64" and j["size"] == len(data)
    import base64
    assert base64.b64decode(j["content"]) == data
    # Text with a NUL byte is not text either.
    assert put(node, tree.a("app/nul"), b"a\0b").status == 200
    assert read(node, tree.a("app/nul")).json()["encoding"] == "base64"


def test_receive_multipart(node, tree):
    data = os.urandom(300_000)
    r = receive(node, tree.a("app/multi/part.bin"), data)
    assert r.status == 200, r
    assert r.json() == {"written_to": tree.a("app/multi/part.bin"), "bytes_written": len(data), "status": "ok"}
    assert tree.p("app/multi/part.bin").read_bytes() == data
    # An empty file.
    r = receive(node, tree.a("app/multi/empty"), b"")
    assert r.status == 200 and r.json()["bytes_written"] == 0, r
    assert tree.p("app/multi/empty").read_bytes() == b""
    # Other fields are ignored.
    body_fields = [("note", b"hi", None), ("path", tree.a("app/multi/x").encode(), None), ("file", b"xyz", "f")]
    assert receive(node, None, None, fields=body_fields).status == 200
    assert tree.p("app/multi/x").read_bytes() == b"xyz"


def test_receive_with_curl(node, tree, tmp_path):
    if not shutil.which("curl"):
        pytest.skip("no curl")
    src = tmp_path / "c.txt"
    src.write_bytes(b"sent with curl -F\n")
    out = subprocess.run(["curl", "-sS", "--interface", USER, "-F", f"path={tree.a('app/curl.txt')}",
                          "-F", f"file=@{src}", f"http://{node.host}:{node.port}/receive"],
                         capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout)["bytes_written"] == 18, out
    assert tree.p("app/curl.txt").read_bytes() == b"sent with curl -F\n"


def test_receive_refusals(node, tree):
    r = receive(node, None, None, fields=[("file", b"data", "f"), ("path", tree.a("app/late").encode(), None)])
    assert r.status == 400 and "before" in r.json()["hint"], r
    r = receive(node, None, None, fields=[("path", tree.a("app/nofile").encode(), None)])
    assert r.status == 400 and "file field is missing" in r.json()["error"], r
    r = receive(node, None, None, fields=[("path", tree.a("app/two").encode(), None),
                                          ("file", b"1", "a"), ("file", b"2", "b")])
    assert r.status == 400 and "more than one file" in r.json()["error"], r
    r = node.request("POST", "/receive", body=b"path=/x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415, r
    r = node.request("POST", "/receive", body=b"--x\r\n", headers={"Content-Type": "multipart/form-data"})
    assert r.status == 400, r
    for name in ("late", "nofile", "two"):
        assert not tree.p(f"app/{name}").exists()
    assert put(node, tree.a("app/x"), b"", headers={"X-Dest-Path": ""}).status == 400
    r = node.request("POST", "/files", body=b"data")
    assert r.status == 400 and "X-Dest-Path" in r.json()["error"]


def test_receive_in_pieces(node, tree):
    """A body whose reads end just after a part's headers: the post
    processor then hands the field's first bytes at offset 0 twice, and a
    good upload was refused "more than one file field"; a part without a name
    comes with no key and killed the worker. Both found by fuzz-multipart."""
    b = "tkbpieces"
    path_part = f'--{b}\r\nContent-Disposition: form-data; name="path"\r\n\r\n'.encode()
    file_part = f'\r\n--{b}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'.encode()
    nameless = f'--{b}\r\nContent-Type: text/plain\r\n\r\nno name\r\n'.encode()
    data = b"0123456789" * 10
    pieces = [nameless + path_part + b"/", tree.a("app/pieces.bin")[1:].encode() + file_part + b"01",
              data[2:] + f"\r\n--{b}--\r\n".encode()]
    body = b"".join(pieces)
    s = socket.socket()
    s.settimeout(10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((USER, 0))
    s.connect((node.host, node.port))
    try:
        s.sendall((f"POST /receive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   f"Content-Type: multipart/form-data; boundary={b}\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode())
        for p in pieces:
            time.sleep(0.3)     # each piece a read of its own in the worker
            s.sendall(p)
        answer = b""
        while c := s.recv(65536):
            answer += c
    finally:
        s.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["bytes_written"] == len(data), answer
    assert tree.p("app/pieces.bin").read_bytes() == data


def test_modes_and_owners(node, tree):
    assert put(node, tree.a("app/deep/er/file"), b"1").status == 200
    assert stat.S_IMODE(os.stat(tree.p("app/deep/file" if False else "app/deep/er/file")).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tree.p("app/deep")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tree.p("app/deep/er")).st_mode) == 0o755
    # An existing file keeps its mode and owner.
    f = tree.p("app/kept")
    f.write_bytes(b"old")
    os.chmod(f, 0o640)
    os.chown(f, 1234, 2345)
    assert put(node, tree.a("app/kept"), b"new content").status == 200
    st = os.stat(f)
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1234, 2345)
    assert f.read_bytes() == b"new content"
    # Nothing left beside it.
    assert not [n for n in os.listdir(tree.p("app")) if n.startswith(".tailkitd-recv-")]


def test_hidden_files_of_a_killed_worker_are_removed(node, tree):
    """A worker killed between linking an upload under its hidden name and
    renaming it in place leaves ".tailkitd-recv-<pid>-…"; the next upload
    into that directory removes it once that pid no longer runs, and never
    touches one whose pid runs (a live upload's)."""
    dead = subprocess.Popen(["true"])
    dead.wait()                                   # a pid that ran and ended
    stale = tree.p(f"app/.tailkitd-recv-{dead.pid}-0123456789abcdef")
    live = tree.p(f"app/.tailkitd-recv-{os.getpid()}-fedcba9876543210")
    stale.write_bytes(b"half")
    live.write_bytes(b"in flight")
    assert put(node, tree.a("app/after-kill"), b"x").status == 200
    assert not stale.exists()
    assert live.exists()
    live.unlink()


def test_range(node, tree):
    data = bytes(range(256)) * 40
    assert put(node, tree.a("app/ranged"), data).status == 200
    r = read(node, tree.a("app/ranged"), raw=True, headers={"Range": "bytes=10-19"})
    assert r.status == 206 and r.body == data[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{len(data)}"
    r = read(node, tree.a("app/ranged"), raw=True, headers={"Range": "bytes=-5"})
    assert r.status == 206 and r.body == data[-5:]
    r = read(node, tree.a("app/ranged"), raw=True, headers={"Range": "bytes=10000-"})
    assert r.status == 206 and r.body == data[10000:]
    r = read(node, tree.a("app/ranged"), raw=True, headers={"Range": f"bytes={len(data)}-"})
    assert r.status == 416 and r.headers["content-range"] == f"bytes */{len(data)}"
    r = read(node, tree.a("app/ranged"), raw=True, headers={"Range": "bytes=0-1,5-6"})
    assert r.status == 200 and r.body == data      # several ranges: the whole file
    # HEAD is served too.
    r = node.request("HEAD", "/files?path=" + q(tree.a("app/ranged")), headers={"Accept": "application/octet-stream"})
    assert r.status == 200 and int(r.headers["content-length"]) == len(data) and r.body == b""


def test_json_read_is_capped(node, tree):
    f = tree.p("app/large.txt")
    f.write_bytes(b"a" * (MIB + 1))
    r = read(node, tree.a("app/large.txt"))
    assert r.status == 413 and "octet-stream" in r.json()["hint"], r
    assert len(read(node, tree.a("app/large.txt"), raw=True).body) == MIB + 1


def test_list(node, tree):
    r = listing(node, tree.a("app/"))
    assert r.status == 200, r
    entries = {e["name"]: e for e in r.json()}
    assert list(entries) == sorted(entries)
    assert entries["hello.txt"]["size"] == 6 and entries["hello.txt"]["is_dir"] is False
    assert entries["sub"]["is_dir"] is True and entries["sub"]["mode"].startswith("d")
    assert entries["escape"]["mode"] == "Lrwxrwxrwx"       # listed as itself, never followed
    assert entries["fifo"]["mode"].startswith("p")
    assert entries["null"]["mode"].startswith("Dc")
    assert set(entries["hello.txt"]) == {"name", "size", "is_dir", "mod_time", "mode"}
    assert entries["hello.txt"]["mod_time"][:4].isdigit()
    # Without the trailing slash, and a subdirectory through a link inside.
    assert listing(node, tree.a("app")).status == 200
    assert listing(node, tree.a("app/sublink/")).status == 200
    assert listing(node, tree.a("app/hello.txt")).status == 400
    assert listing(node, tree.a("app/missing/")).status == 404
    assert node.get("/files").status == 400


# --- permissions -------------------------------------------------------------

def test_caps(node, tree):
    r = read(node, tree.a("app/hello.txt"), src=NOCAPS)
    assert r.status == 403 and "tailkitd-files" in r.json()["error"]
    # A no-cap peer learns nothing: the same answer for what exists and what does not.
    assert read(node, tree.a("app/missing"), src=NOCAPS).body == r.body
    assert read(node, "/nowhere/at/all", src=NOCAPS).body == r.body
    assert put(node, tree.a("app/nocap"), b"x", src=NOCAPS).status == 403
    assert listing(node, tree.a("app/"), src=NOCAPS).status == 403
    # Read-only caps read but do not write.
    assert read(node, tree.a("app/hello.txt"), src=READONLY).status == 200
    assert put(node, tree.a("app/rocap"), b"x", src=READONLY).status == 403
    assert receive(node, tree.a("app/rocap"), b"x", src=READONLY).status == 403
    assert not tree.p("app/nocap").exists() and not tree.p("app/rocap").exists()


def test_rules(node, tree):
    # A read-only rule refuses writes, a write-only rule refuses reads.
    r = put(node, tree.a("ro/r.txt"), b"overwrite")
    assert r.status == 403 and "write" in r.json()["error"] and "hint" in r.json(), r
    assert tree.p("ro/r.txt").read_text() == "read me\n"
    assert read(node, tree.a("ro/r.txt")).status == 200
    r = read(node, tree.a("wo/w.txt"))
    assert r.status == 403 and "read" in r.json()["error"] and "hint" in r.json(), r
    assert listing(node, tree.a("wo/")).status == 403
    assert put(node, tree.a("wo/w.txt"), b"written").status == 200
    # No rule: 403 with a hint, before anything on disk is looked at.
    for path in (tree.a("outside/secret"), "/etc/passwd", tree.a("app2/secret"), tree.a("nope/x")):
        r = read(node, path)
        assert r.status == 403 and "no rule" in r.json()["error"] and "files.toml" in r.json()["hint"], (path, r)
        assert put(node, path, b"x").status == 403
    # The Go form of the rules works the same.
    assert put(node, tree.a("go/g.txt"), b"go").status == 200
    assert read(node, tree.a("go/g.txt")).json()["content"] == "go"
    tree.outside_untouched()


def test_max_size(node, tree):
    assert put(node, tree.a("small/ok"), b"x" * 1024).status == 200
    r = put(node, tree.a("small/big"), b"x" * 1025)
    assert r.status == 413 and "max_size" in r.json()["hint"], r
    # Chunked (no Content-Length): cut while streaming, nothing left.
    r = put(node, tree.a("small/chunked"), iter([b"x" * 1000, b"y" * 1000]))
    assert r.status == 413, r
    r = receive(node, tree.a("small/multi"), b"z" * 5000)
    assert r.status == 413, r
    assert sorted(os.listdir(tree.p("small"))) == ["ok"]


def test_unconfigured_and_invalid(node, rules):
    rules.toml.unlink()
    r = read(node, rules.a("app/hello.txt"))
    assert r.status == 503 and "files.toml" in r.json()["hint"], r
    # A no-cap peer is told the same (availability is checked first, SPEC §1.2).
    rules.write_rules('[["/srv/"]]\nread = maybe\n')
    r = read(node, rules.a("app/hello.txt"))
    assert r.status == 503 and "files.toml" in r.json()["hint"], r
    rules.write_rules()
    assert read(node, rules.a("app/hello.txt")).status == 200


def test_missing_rule_directory(node, rules):
    rules.write_rules(rules.rules() + '\n[["/srv/tkfiles-absent-dir/"]]\nread = true\nwrite = true\n')
    r = read(node, "/srv/tkfiles-absent-dir/x")
    assert r.status == 503 and "create" in r.json()["hint"], r


# --- hostile paths -------------------------------------------------------------

def hostile_paths(tree):
    """(path as a query value, raw?) — raw ones are sent as they are, the
    others percent-encoded (None: encoded, and refused as a file only).
    Every one must be refused."""
    a = tree.a
    base = str(tree.base)
    long_name = "n" * 256
    return [
        (a("app/../outside/secret"), False),
        (a("app/../app2/secret"), False),                   # the sibling of the rule's directory
        (a("app/sub/../../outside/secret"), False),
        (a("app/./../outside/secret"), False),
        (a("app/..") + "/outside/secret", False),
        (base + "/app2/secret", False),                       # /srv/app2/ for a rule /srv/app/
        (base + "/app-x/secret", False),
        (base + "/outside/secret", False),
        (base + "//app/hello.txt", False),
        (a("app//hello.txt"), False),
        (a("app/escape/secret"), False),                      # relative symlink leaving
        (a("app/abs"), False),                                # absolute symlink
        (a("app/sibling"), False),                            # link to the sibling directory
        (a("app/sub/up2/secret"), False),
        (a("app/procroot") + "/etc/passwd", False),           # /proc/self/root
        (a("app/procroot") + base + "/outside/secret", False),
        (a("app/procfd/0"), False),
        ("/proc/self/root/etc/passwd", False),
        ("/proc/self/root" + base + "/app/hello.txt", False),
        ("/proc/self/environ", False),
        ("/etc/shadow", False),
        ("/dev/zero", False),
        (a("app/fifo"), False),                               # FIFO
        (a("app/null"), False),                               # device
        (a("app/sock"), False),                               # socket
        (a("app/sub"), None),                                 # a directory as a file (not as a listing)
        ("app/hello.txt", False),                             # relative
        ("", False),
        (a("app/") + long_name, False),                       # a name past NAME_MAX
        (a("app/") + "/".join(["d" * 200] * 25), False),      # a path past PATH_MAX
        (q(a("app/")) + "%2e%2e/outside/secret", True),       # encoded ..
        (q(a("app/")) + "%2E%2E%2Foutside%2Fsecret", True),   # encoded .. and /
        (q(a("app/")) + "..%2Foutside%2Fsecret", True),
        (q(a("app/")) + "%252e%252e/outside/secret", True),   # double-encoded: a literal name
        (q(a("app/hello.txt")) + "%00", True),                # NUL
        (q(a("app/hello.txt")) + "%00.png", True),
        (q(a("app/")) + "%00/../outside/secret", True),
        (q(a("app/")) + "x%0ay", True),                       # control characters
        (q(a("app/")) + "escape%2fsecret", True),
        (q(base) + "/app%2F..%2F..%2Foutside/secret", True),
        (q(a("app/")) + "..;/outside/secret", True),
        (q(a("app/")) + "%c0%ae%c0%ae/outside/secret", True),  # overlong UTF-8 dots
        ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", True),
    ]


def test_hostile_paths_refused(node, tree):
    corpus = hostile_paths(tree)
    assert len(corpus) >= 40
    for path, raw in corpus:
        value = path if raw else q(path)
        for accept in ("application/json", "application/octet-stream"):
            r = node.get("/files?path=" + value, headers={"Accept": accept})
            assert r.status in (400, 403, 404), (path, accept, r)
            assert SECRET not in r.body and SIBLING not in r.body and b"root:" not in r.body, (path, r)
        if raw is None:
            continue
        r = node.get("/files?dir=" + value)
        assert r.status in (400, 403, 404), (path, r)
        assert b"secret" not in r.body, (path, r)
    tree.outside_untouched()


def hostile_write_paths(tree):
    """Destinations as a header or a multipart field carry them: no URL
    decoding, so only what the bytes themselves say."""
    a = tree.a
    base = str(tree.base)
    return [
        a("app/../outside/new"), a("app/../app2/new"), base + "/app2/new", base + "/outside/new",
        a("app/escape/new"), a("app/escape/secret"), a("app/abs"), a("app/sibling"),
        a("app/sub/up2/new"), a("app/procroot") + base + "/outside/new", a("app/procfd/1"),
        "/proc/self/root" + base + "/outside/new", a("app/fifo"), a("app/null"), a("app/sock"),
        a("app/sub"), a("app/sub/"), a("app/"), a("app/hello-link"), a("app//x"), a("app/./x"),
        "relative/x", a("app/") + "n" * 256, a("app/x\x01y"), a("ro/new"), "/etc/passwd",
    ]


def test_hostile_writes_refused(node, tree):
    before = sorted(os.listdir(tree.p("app")))
    for path in hostile_write_paths(tree):
        r = put(node, path, b"PWNED")
        assert r.status in (400, 403, 404, 415), (path, r)
        r = receive(node, path, b"PWNED")
        assert r.status in (400, 403, 404), (path, r)
    # NUL bytes can only arrive through multipart.
    r = receive(node, tree.a("app/x").encode() + b"\0/../../outside/new", b"PWNED")
    assert r.status == 400, r
    tree.outside_untouched()
    assert sorted(os.listdir(tree.p("app"))) == before
    assert os.readlink(tree.p("app/hello-link")) == "hello.txt"


def test_symlink_swapped_between_check_and_use(node, tree):
    """A thread keeps flipping app/race between a directory inside and one
    outside; reads and writes through it never reach outside."""
    (tree.p("app/inner")).mkdir(exist_ok=True)
    (tree.p("app/inner/secret")).write_bytes(b"inner\n")
    link = tree.p("app/race")
    stop = threading.Event()

    def flip():
        tmp = tree.p("app/.race-tmp")
        targets = ["inner", "../outside", str(tree.p("outside")), "../app2"]
        i = 0
        while not stop.is_set():
            try:
                os.symlink(targets[i % len(targets)], tmp)
                os.replace(tmp, link)
            except FileExistsError:
                os.unlink(tmp)
            i += 1

    t = threading.Thread(target=flip, daemon=True)
    t.start()
    ok = 0
    try:
        for i in range(150):
            r = read(node, tree.a("app/race/secret"))
            assert SECRET not in r.body and SIBLING not in r.body, r
            ok += r.status == 200
            r = put(node, tree.a(f"app/race/w{i}"), b"PWNED")
            assert r.status in (200, 403, 404), r
            r = listing(node, tree.a("app/race/"))
            assert b"TOPSECRET" not in r.body
    finally:
        stop.set()
        t.join()
    tree.outside_untouched()


# --- streaming, aborts, size -----------------------------------------------------

def raw_upload(node, path, total, send, src=USER):
    """Starts an upload of `total` bytes, sends only `send` of them, and
    closes the socket (the client going away)."""
    s = socket.socket()
    s.bind((src, 0))
    s.connect((node.host, node.port))
    s.sendall((f"POST /files HTTP/1.1\r\nHost: x\r\nX-Dest-Path: {path}\r\n"
               f"Content-Length: {total}\r\n\r\n").encode())
    chunk = b"N" * MIB
    sent = 0
    while sent < send:
        s.sendall(chunk[:min(MIB, send - sent)])
        sent += min(MIB, send - sent)
    return s


def test_aborted_upload_leaves_nothing(node, tree):
    dest = tree.p("app/aborted.bin")
    dest.write_bytes(b"previous version\n")
    before = sorted(os.listdir(tree.p("app")))
    s = raw_upload(node, tree.a("app/aborted.bin"), 64 * MIB, 24 * MIB)
    time.sleep(0.3)
    s.close()
    wait_for(lambda: not any(n.startswith(".tailkitd-recv-") for n in os.listdir(tree.p("app"))),
             what="no temporary file")
    time.sleep(0.5)
    assert dest.read_bytes() == b"previous version\n"
    assert sorted(os.listdir(tree.p("app"))) == before
    # And a reader never saw a half-written file meanwhile: the worker still serves.
    assert read(node, tree.a("app/aborted.bin")).json()["content"] == "previous version\n"


def test_killed_client_leaves_nothing(node, tree, tmp_path):
    """The client process is killed with SIGKILL half-way through."""
    dest = tree.p("app/killed.bin")
    dest.write_bytes(b"intact\n")
    before = sorted(os.listdir(tree.p("app")))
    marker = tmp_path / "half"
    script = (
        "import socket, sys, pathlib\n"
        f"s = socket.socket(); s.bind(({USER!r}, 0)); s.connect(({node.host!r}, {node.port}))\n"
        f"s.sendall(b'POST /files HTTP/1.1\\r\\nHost: x\\r\\nX-Dest-Path: {tree.a('app/killed.bin')}\\r\\n"
        f"Content-Length: {256 * MIB}\\r\\n\\r\\n')\n"
        f"c = b'K' * {MIB}\n"
        "for i in range(128):\n    s.sendall(c)\n"
        f"pathlib.Path({str(marker)!r}).write_text('x')\n"
        "import time; time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", script])
    try:
        wait_for(marker.exists, timeout=60, what="half the upload sent")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    wait_for(lambda: sorted(os.listdir(tree.p("app"))) == before, what="nothing left")
    time.sleep(0.5)
    assert sorted(os.listdir(tree.p("app"))) == before
    assert dest.read_bytes() == b"intact\n"


def worker_peak_rss_kib(node):
    pid = node.worker_pid("files")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def stream_upload(node, path, size, block):
    """Uploads size bytes of a repeating random block; returns (sha256, seconds, status)."""
    h = hashlib.sha256()

    def body():
        left = size
        while left > 0:
            b = block[:min(len(block), left)]
            h.update(b)
            left -= len(b)
            yield b

    conn = http.client.HTTPConnection(node.host, node.port, timeout=600, source_address=(USER, 0))
    t = time.monotonic()
    conn.request("POST", "/files", body=body(), headers={"X-Dest-Path": path, "Content-Length": str(size)})
    r = conn.getresponse()
    out = r.read()
    conn.close()
    return h.hexdigest(), time.monotonic() - t, r.status, out


def stream_download(node, path):
    conn = http.client.HTTPConnection(node.host, node.port, timeout=600, source_address=(USER, 0))
    h = hashlib.sha256()
    n = 0
    t = time.monotonic()
    conn.request("GET", "/files?path=" + q(path), headers={"Accept": "application/octet-stream"})
    r = conn.getresponse()
    assert r.status == 200
    while True:
        c = r.read(4 * MIB)
        if not c:
            break
        h.update(c)
        n += len(c)
    conn.close()
    return h.hexdigest(), time.monotonic() - t, n


@pytest.fixture
def tmpfs_memory(node):
    """The container's filesystem is a tmpfs (nspawn --volatile=overlay): a
    file written there is memory charged to the writer's cgroup, which a
    disk's page cache would not be. For the 1 GiB test the worker's unit
    and slice get room for the file itself; the worker's own RSS is what
    the test bounds."""
    if MODE != "system":
        yield
        return
    drops = [(Path("/run/systemd/system/tailkitd@files.service.d/90-test-tmpfs.conf"), "Service", "3G"),
             (Path("/run/systemd/system/tailkitd.slice.d/90-test-tmpfs.conf"), "Slice", "4G")]
    for path, section, limit in drops:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"[{section}]\nMemoryMax={limit}\n")
    reload_sandbox(node)
    yield
    for path, _, _ in drops:
        path.unlink()
    reload_sandbox(node)


def test_large_upload_and_download(node, tree, tmpfs_memory):
    """1 GiB under the real systemd (256 MiB on the host): identical sha256
    both ways, the worker's peak RSS under 32 MiB."""
    size = (1024 if MODE == "system" else 256) * MIB
    block = os.urandom(4 * MIB + 17)        # not a multiple of any buffer size
    path = tree.a("big/large.bin")
    want, up_s, status, out = stream_upload(node, path, size, block)
    assert status == 200, out
    assert json.loads(out)["bytes_written"] == size
    got, down_s, n = stream_download(node, path)
    assert n == size and got == want
    peak = worker_peak_rss_kib(node)
    print(f"\nfiles: {size // MIB} MiB upload {size / MIB / up_s:.0f} MiB/s, download {size / MIB / down_s:.0f} MiB/s, "
          f"worker peak RSS {peak / 1024:.1f} MiB")
    if not os.environ.get("TAILKITD_SANITIZED"):
        assert peak < 32 * 1024, f"peak RSS {peak} KiB"
    tree.p("big/large.bin").unlink()


def test_concurrent_writers_never_show_half_a_file(node, tree):
    """Readers of a file being replaced see the old or the new content, whole."""
    a, b = b"A" * (2 * MIB), b"B" * (2 * MIB)
    assert put(node, tree.a("app/atomic"), a).status == 200
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            r = read(node, tree.a("app/atomic"), raw=True)
            if r.status == 200 and r.body not in (a, b):
                bad.append(len(r.body))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(10):
            assert put(node, tree.a("app/atomic"), b if i % 2 == 0 else a).status == 200
    finally:
        stop.set()
        t.join()
    assert not bad, bad


def test_journal_names_no_content(node, tree):
    assert put(node, tree.a("app/logged.txt"), b"CONTENT-NEVER-LOGGED").status == 200
    def found():
        return [l for l in node.logs("files") if l.get("msg") == "file received"
                and l.get("file_path") == tree.a("app/logged.txt")]
    recs = wait_for(found, what="the 'file received' line")
    assert recs[0].get("caller") == "alice-laptop"
    assert not any("CONTENT-NEVER-LOGGED" in json.dumps(l) for l in node.logs("files"))


# --- the sandbox -------------------------------------------------------------

def generator_binary(node):
    if MODE == "system":
        for d in ("/usr/lib/systemd/system-generators", "/lib/systemd/system-generators"):
            p = Path(d) / "tailkitd-files-generator"
            if p.exists():
                return p
        raise AssertionError("tailkitd-files-generator is not installed")
    build = Path(os.environ.get("TAILKITD_BUILD_DIR", Path(__file__).resolve().parents[2] / "build")).resolve()
    return build / "src/files/tailkitd-files-generator"


def test_generator_writes_the_write_rules(node, tree, tmp_path):
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "files.toml").write_text(
        '[["/srv/a b/"]]\nwrite = true\n[["/srv/ro/"]]\nread = true\n'
        '[[path]]\ndir = "/srv/go%x/"\nallow = ["write"]\n[["/srv/q\\"uote/"]]\nwrite = true\n')
    out = tmp_path / "gen"
    out.mkdir()
    env = dict(os.environ, TAILKITD_CONFIG_DIR=str(conf))
    subprocess.run([str(generator_binary(node)), str(out), str(out), str(out)], env=env, check=True)
    text = (out / "tailkitd@files.service.d" / "50-files-writable.conf").read_text()
    lines = [l for l in text.splitlines() if not l.startswith("#")]
    assert lines == ["[Service]", 'ReadWritePaths="-/srv/a b/"', 'ReadWritePaths="-/srv/go%%x/"',
                     'ReadWritePaths="-/srv/q\\"uote/"'], text
    # No files.toml, or an invalid one: nothing is opened up.
    for content in (None, '[["/srv/x/"]]\nwrite = 1\n'):
        shutil.rmtree(out)
        out.mkdir()
        if content is None:
            (conf / "files.toml").unlink()
        else:
            (conf / "files.toml").write_text(content)
        subprocess.run([str(generator_binary(node)), str(out)], env=env, check=True, capture_output=True)
        assert not (out / "tailkitd@files.service.d" / "50-files-writable.conf").exists()


def systemctl_show(prop, unit="tailkitd@files.service"):
    return subprocess.run(["systemctl", "show", "-P", prop, unit], capture_output=True, text=True,
                          check=True).stdout.strip()


@system_only
def test_worker_is_sandboxed(node, tree):
    assert read(node, tree.a("app/hello.txt")).status == 200       # the worker runs
    assert systemctl_show("ProtectSystem") == "strict"
    rw = systemctl_show("ReadWritePaths")
    paths = {p.lstrip("-").rstrip("/") for p in rw.split()}
    assert {f"{tree.base}/{d}" for d in ("app", "wo", "go", "small", "big")} <= paths, rw
    assert f"{tree.base}/ro" not in paths and "/run/tailkitd/jobs" in paths, rw
    pid = node.worker_pid("files")
    status = Path(f"/proc/{pid}/status").read_text()
    bnd = int(next(l.split()[1] for l in status.splitlines() if l.startswith("CapBnd:")), 16)
    # CHOWN 0, DAC_OVERRIDE 1, DAC_READ_SEARCH 2, FOWNER 3, FSETID 4, SYS_ADMIN 21
    assert bnd == (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 21), hex(bnd)
    # Outside the write rules the filesystem is read-only to it, even where a read rule is.
    r = put(node, tree.a("ro/x"), b"x")
    assert r.status == 403


@system_only
def test_new_write_rule_needs_daemon_reload(node, rules):
    late = Path("/srv/tkfiles-late")
    late.mkdir(exist_ok=True)
    try:
        rules.write_rules(rules.rules() + f'\n[["{late}/"]]\nwrite = true\nread = true\n')
        subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)
        r = put(node, f"{late}/x", b"x")
        assert r.status == 503 and "daemon-reload" in r.json()["hint"], r
        reload_sandbox(node)
        assert put(node, f"{late}/x", b"x").status == 200
        assert (late / "x").read_bytes() == b"x"
    finally:
        shutil.rmtree(late, ignore_errors=True)
        rules.write_rules()
        reload_sandbox(node)


# --- post_recv hooks ---------------------------------------------------------

HOOK_TOOL = "files-hooks"


def hook_command(name, script):
    return {"name": name, "description": f"test hook {name}", "acl_cap": "example.com/cap/files-hooks",
            "exec_parts": ["/bin/sh", "-c", script], "timeout": 30 * 1_000_000_000}


@pytest.fixture
def hooks(node, rules):
    h = rules.p("hooks")
    node.install_tool(HOOK_TOOL, {
        "name": HOOK_TOOL, "version": "1.0.0", "tsnet_host": "x",
        "commands": [
            hook_command("show", 'cat "$TAILKITD_RECEIVED_PATH"'),
            hook_command("fail", "echo failing >&2; exit 3"),
            hook_command("tkfiles-marker", f'echo ran > {h}/marker'),
        ]})
    rules.write_rules(rules.rules(
        f'\n[["{h}/"]]\nread = true\nwrite = true\npost_recv = ["{HOOK_TOOL}/show", "tkfiles-marker"]\n'
        f'\n[["{h}/failing/"]]\nwrite = true\npost_recv = ["{HOOK_TOOL}/fail", "{HOOK_TOOL}/tkfiles-marker"]\n'
        f'\n[["{h}/broken/"]]\nwrite = true\npost_recv = ["no-such-command"]\n'))
    (h / "failing").mkdir(exist_ok=True)
    (h / "broken").mkdir(exist_ok=True)
    reload_sandbox(node)
    yield rules
    node.remove_tool(HOOK_TOOL)
    rules.write_rules()
    reload_sandbox(node)
    for p in ("marker",):
        if (h / p).exists():
            (h / p).unlink()


def wait_job(node, job_id):
    def final():
        r = node.get(f"/exec/jobs/{job_id}")
        if r.status == 200 and r.json()["status"] in ("completed", "failed", "cancelled"):
            return r.json()
        return None
    return wait_for(final, timeout=60, interval=0.2, what=f"job {job_id}")


@system_only
def test_post_recv_hooks_see_the_new_content(node, hooks):
    r = put(node, hooks.a("hooks/conf.txt"), b"version two\n")
    assert r.status == 200, r
    j = r.json()
    assert j["status"] == "accepted" and j["written_to"] == hooks.a("hooks/conf.txt") and j["job_id"]
    job = wait_job(node, j["job_id"])
    assert job["status"] == "completed", job
    assert job["stdout"] == "version two\n"
    assert hooks.p("hooks/marker").read_text() == "ran\n"          # the second hook ran after it
    assert (job["tool"], job["command"]) == ("files", "post_recv")
    # The multipart form runs them too.
    hooks.p("hooks/marker").unlink()
    r = receive(node, hooks.a("hooks/conf.txt"), b"version three\n")
    job = wait_job(node, r.json()["job_id"])
    assert job["stdout"] == "version three\n" and hooks.p("hooks/marker").exists()


@system_only
def test_failing_hook_stops_the_chain(node, hooks):
    r = put(node, hooks.a("hooks/failing/x"), b"x")
    assert r.status == 200, r
    job = wait_job(node, r.json()["job_id"])
    assert job["status"] == "failed" and job["exit_code"] == 3, job
    assert f"{HOOK_TOOL}/fail" in job["error"], job
    assert "failing" in job["stderr"]
    assert not hooks.p("hooks/marker").exists()                    # the second hook never ran


@system_only
def test_hook_naming_no_command_is_a_config_error(node, hooks):
    r = put(node, hooks.a("hooks/broken/x"), b"x")
    assert r.status == 503 and "no-such-command" in r.json()["hint"], r
    assert not hooks.p("hooks/broken/x").exists()                  # refused before the body
    out = subprocess.run(["tailkitd", "--check-config"], capture_output=True, text=True)
    assert out.returncode == 1 and "no-such-command" in out.stderr, out
