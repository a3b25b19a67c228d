"""Worker-core behaviours every integration inherits: path decoding, body
caps on chunked uploads."""

import socket
import uuid

from conftest import USER


def chunked_put(node, path, size):
    s = socket.socket()
    s.settimeout(20)
    s.bind((USER, 0))
    s.connect((node.host, node.port))
    s.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"v" * 65536
    sent = 0
    try:
        while sent < size:
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += len(chunk)
        s.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return data


def test_encoded_slash_in_path_is_400(node):
    r = node.get("/vars/myapp/a%2Fb")
    assert r.status == 400
    assert r.json()["error"] == "invalid path"
    assert node.get("/tools/a%2fb").status == 400


def test_chunked_body_just_over_the_cap_gets_413(node):
    env = "core-" + uuid.uuid4().hex[:8]
    data = chunked_put(node, f"/vars/myapp/{env}/BIG", 1536 * 1024)
    assert data.startswith(b"HTTP/1.1 413 "), data[:200]
    assert node.get(f"/vars/myapp/{env}").json() == {}


def test_endless_chunked_body_is_cut_off(node):
    env = "core-" + uuid.uuid4().hex[:8]
    data = chunked_put(node, f"/vars/myapp/{env}/BIG", 8 * 1024 * 1024)
    assert data == b"" or data.startswith(b"HTTP/1.1 413 ")
    assert node.get(f"/vars/myapp/{env}").json() == {}


def test_deleting_an_absent_key_creates_no_scope(node):
    env = "core-" + uuid.uuid4().hex[:8]
    assert node.request("DELETE", f"/vars/myapp/{env}/NOPE").status == 204
    scopes = node.get("/vars").json()
    myapp = [s for s in scopes if s["project"] == "myapp"][0]
    assert env not in myapp["envs"]
    assert not (node.state_dir / "vars" / "myapp" / f"{env}.json").exists()
