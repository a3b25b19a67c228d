"""The permission matrix: every endpoint × caller × node config, asserting the
exact status in SPEC §1.2's order — identity (401) → integration available
(503) → Tailscale cap (403) → this node's config (403) → the endpoint's own
answer. Generated from the tables below; the expected status is computed by
expected(), the same rule for every row, never written per case.

Under the real systemd every integration is in it; on the host layer the exec
worker is not started (conftest) and systemd has no bus (its rows expect 503).
Headers that try to claim another identity are a second, smaller matrix."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import METRICS_TOML, MODE, STRANGER, SYSTEMD_TOML, VARS_TOML, wait_for

FEATURES = ("tools", "exec", "files", "vars", "docker", "systemd", "metrics")
RW = {"read", "write"}


def every(access):
    return {f: set(access) for f in FEATURES}


# name: (loopback address, {feature: {"read", "write"}} or None for a
# stranger, holds tailscale.com/cap/devbox). tests/fake-tailscaled/README.md.
CALLERS = {
    "stranger":   (STRANGER, None, False),           # not a tailnet peer
    "nocaps":     ("127.0.0.4", {}, False),          # a peer, CapMap null
    "read":       ("127.0.0.3", every({"read"}), False),
    "write":      ("127.0.0.15", every({"write"}), False),
    "readwrite":  ("127.0.0.2", every(RW), True),
    "listed":     ("127.0.0.5", every(RW), False),   # under example.com, listed in tailkitd.conf
    "malformed":  ("127.0.0.16", {}, False),         # every cap holds a malformed element
    "unlisted":   ("127.0.0.17", {}, False),         # every cap under a domain not listed
    "execwriter": ("127.0.0.13", {"exec": {"write"}}, True),
    "systemdrw":  ("127.0.0.14", {"systemd": set(RW)}, False),
}
CONFIGS = ("missing", "denies", "allows")
JOB_FEATURES = ("exec", "files", "systemd", "docker")


def has(caller, feature, access):
    return access in (CALLERS[caller][1] or {}).get(feature, set())


class Ep:
    """One endpoint: access None = identity only; ok = the status once every
    check passed; special(caller, config) replaces the rule for endpoints
    whose node config is not an availability check (exec)."""

    def __init__(self, feature, method, path, access, ok, body=None, headers=None, prepare=None, special=None,
                 denied=403, needs_backend=True):
        self.feature, self.method, self.path, self.access, self.ok = feature, method, path, access, ok
        self.denied, self.needs_backend = denied, needs_backend
        self.body, self.headers, self.prepare, self.special = body, headers or {}, prepare, special

    def id(self):
        return f"{self.method} {self.path}"


def backend_down(ep):
    # The host layer has no system bus: the systemd worker is unavailable
    # (but for the journal, read from files without the bus).
    return MODE == "host" and ep.feature == "systemd" and ep.needs_backend


def expected(ep, caller, config):
    if CALLERS[caller][1] is None:
        return 401
    if ep.special:
        return ep.special(caller, config)
    if ep.access is None:
        return ep.ok
    if config == "missing" or backend_down(ep):
        return 503
    if not has(caller, ep.feature, ep.access):
        return 403
    if config == "denies":
        return ep.denied
    return ep.ok


# --- node configs per integration --------------------------------------------

def files_base(node):
    return Path("/srv/tkmatrix") if MODE == "system" else node.workdir / "matrix-files"


def vars_toml(allow):
    v = "true" if allow else "false"
    return f'[[scope]]\nproject = "matrix"\nread = {v}\nwrite = {v}\n'


def metrics_toml(allow):
    if allow:
        return METRICS_TOML
    return "".join(f"[{s}]\nenabled = false\n\n" for s in ("host", "cpu", "memory", "disk", "network", "processes"))


def systemd_toml(allow):
    if allow:
        return SYSTEMD_TOML
    return "[units]\nread = false\nwrite = false\n\n[journal]\nenabled = false\n"


def docker_toml(allow, sock):
    v = "true" if allow else "false"
    perms = ("containers_read", "containers_write", "images_read", "images_write",
             "compose_read", "compose_write", "swarm_read", "swarm_write")
    text = "[permissions]\n" + "".join(f"{p} = {v}\n" for p in perms)
    if sock:
        text += f'\n[docker]\nsocket = "{sock}"\n'
    return text


def files_toml(node, allow):
    v = "true" if allow else "false"
    return f'[["{files_base(node)}/"]]\nread = {v}\nwrite = {v}\n'


TOOL = {
    "name": "matrixtool", "version": "1.0.0", "tsnet_host": "matrixtool",
    "commands": [{"name": "hello", "description": "prints hello", "acl_cap": "",
                  "exec_parts": ["/bin/echo", "hello"], "timeout": 10_000_000_000, "args": []}],
}


def tool_file(acl_cap=""):
    t = json.loads(json.dumps(TOOL))
    t["commands"][0]["acl_cap"] = acl_cap
    return t


class Matrix:
    """Switches one integration's node config at a time (the workers read
    their config on every request) and restores every file at the end."""

    FILES = ("vars.toml", "files.toml", "integrations/metrics.toml", "integrations/systemd.toml",
             "integrations/docker.toml")

    def __init__(self, node):
        self.node = node
        self.current = {}
        self.saved = {}
        self.docker_sock = None
        self.engine = None
        self.jobs = {}
        for f in self.FILES:
            p = node.config_dir / f
            self.saved[f] = p.read_text() if p.exists() else None

    def write(self, rel, text):
        p = self.node.config_dir / rel
        if text is None:
            if p.exists():
                p.unlink()
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)

    def set(self, feature, config):
        if self.current.get(feature) == config:
            return
        allow = config == "allows"
        missing = config == "missing"
        node = self.node
        if feature == "vars":
            self.write("vars.toml", None if missing else vars_toml(allow))
        elif feature == "files":
            self.write("files.toml", None if missing else files_toml(node, allow))
            reload_files_sandbox()
        elif feature == "metrics":
            self.write("integrations/metrics.toml", None if missing else metrics_toml(allow))
        elif feature == "systemd":
            self.write("integrations/systemd.toml", None if missing else systemd_toml(allow))
        elif feature == "docker":
            self.write("integrations/docker.toml", None if missing else docker_toml(allow, self.docker_sock))
        elif feature == "tools":
            node.install_tool("matrixtool", tool_file())
        elif feature == "exec":
            if missing:
                node.remove_tool("matrixtool")
            else:
                # denies: the command needs tailscale.com/cap/devbox (acl_cap).
                node.install_tool("matrixtool", tool_file("" if allow else "tailscale.com/cap/devbox"))
        self.current[feature] = config

    def restore(self):
        for f, text in self.saved.items():
            self.write(f, text)
        self.node.remove_tool("matrixtool")
        reload_files_sandbox()


def reload_files_sandbox():
    """Under the real systemd the files generator makes write rules'
    directories writable at daemon-reload (README, Files)."""
    if MODE != "system":
        return
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)


# --- preparations for 2xx rows -------------------------------------------------

def seed_var(key):
    def prep(m):
        r = m.node.request("PUT", f"/vars/matrix/dev/{key}", body=b'{"value":"v"}',
                           headers={"Content-Type": "application/json"})
        assert r.status == 200, r
    return prep


def seed_scope(m):
    r = m.node.request("PUT", "/vars/matrix/gone/K", body=b'{"value":"v"}',
                       headers={"Content-Type": "application/json"})
    assert r.status == 200, r


def multipart(path):
    b = "tkm" + uuid.uuid4().hex
    body = (f'--{b}\r\nContent-Disposition: form-data; name="path"\r\n\r\n{path}\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n'
            f'Content-Type: application/octet-stream\r\n\r\nreceived\n\r\n--{b}--\r\n').encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={b}"}


# --- exec: the tool file is its node config; jobs follow the starter rule ----

def exec_post(caller, config):
    if not has(caller, "exec", "write"):
        return 403
    if config == "missing":
        return 404          # no such tool registered
    if config == "denies" and not CALLERS[caller][2]:
        return 403          # the command's acl_cap
    return 202


def job_get(starter):
    def rule(caller, config):
        if has(caller, "exec", "read"):
            return 200
        if not any(has(caller, f, "write") for f in JOB_FEATURES):
            return 403
        return 200 if caller == starter else 404
    return rule


def job_delete(starter):
    def rule(caller, config):
        if has(caller, "exec", "write"):
            return 409      # finished before the matrix asks
        if not any(has(caller, f, "write") for f in JOB_FEATURES):
            return 403
        return 409 if caller == starter else 404
    return rule


# --- the endpoints -------------------------------------------------------------

def endpoints():
    fb = "{fb}"     # files_base(node), filled in when the request is made
    D = "/integrations/docker"
    S = "/integrations/systemd"
    M = "/integrations/metrics"
    put_body = b'{"value":"matrix"}'
    jh = {"Content-Type": "application/json"}
    recv_body, recv_headers = multipart(f"{fb}/received.txt")
    eps = {
        "tools": [
            Ep("tools", "GET", "/tools", "read", 200),
            Ep("tools", "GET", "/tools/matrixtool", "read", 200),
            Ep("tools", "GET", "/health", None, 200),
        ],
        "vars": [
            # The listing shows the scopes with what the node allows on each.
            Ep("vars", "GET", "/vars", "read", 200, denied=200),
            Ep("vars", "GET", "/vars/matrix/dev", "read", 200, prepare=seed_var("SEED")),
            Ep("vars", "GET", "/vars/matrix/dev/SEED", "read", 200, prepare=seed_var("SEED")),
            Ep("vars", "PUT", "/vars/matrix/dev/PUT_KEY", "write", 200, body=put_body, headers=jh),
            Ep("vars", "DELETE", "/vars/matrix/dev/DEL_KEY", "write", 204, prepare=seed_var("DEL_KEY")),
            Ep("vars", "DELETE", "/vars/matrix/gone", "write", 204, prepare=seed_scope),
        ],
        "files": [
            Ep("files", "GET", f"/files?path={fb}/seed.txt", "read", 200),
            Ep("files", "GET", f"/files?dir={fb}/", "read", 200),
            Ep("files", "POST", "/files", "write", 200, body=b"written\n",
               headers={"X-Dest-Path": f"{fb}/written.txt", "Content-Type": "application/octet-stream"}),
            Ep("files", "POST", "/receive", "write", 200, body=recv_body, headers=recv_headers),
        ],
        "metrics": [Ep("metrics", "GET", f"{M}/{s}", "read", 200)
                    for s in ("host", "cpu", "memory", "disk", "network", "processes")]
                   + [Ep("metrics", "GET", f"{M}/available", None, 200)],
        "systemd": [
            Ep("systemd", "GET", f"{S}/units", "read", 200),
            Ep("systemd", "GET", f"{S}/units/tk-matrix.service", "read", 200),
            Ep("systemd", "GET", f"{S}/units/tk-matrix.service/file", "read", 200),
            Ep("systemd", "GET", f"{S}/units/tk-matrix.service/journal", "read", 200, needs_backend=False),
            Ep("systemd", "GET", f"{S}/journal?lines=5", "read", 200, needs_backend=False),
            Ep("systemd", "POST", f"{S}/units/tk-matrix.service/start", "write", 202),
            Ep("systemd", "POST", f"{S}/units/tk-matrix.service/restart", "write", 202),
            Ep("systemd", "POST", f"{S}/units/tk-matrix.service/stop", "write", 202),
            Ep("systemd", "POST", f"{S}/units/tk-matrix.service/enable", "write", 200),
            Ep("systemd", "POST", f"{S}/units/tk-matrix.service/disable", "write", 200),
            Ep("systemd", "GET", f"{S}/available", None, 200),
        ],
        "docker": [
            Ep("docker", "GET", f"{D}/info", "read", 200),
            Ep("docker", "GET", f"{D}/containers", "read", 200),
            Ep("docker", "GET", f"{D}/containers/tk-matrix", "read", 200),
            Ep("docker", "GET", f"{D}/images", "read", 200),
            Ep("docker", "GET", f"{D}/networks", "read", 200),
            Ep("docker", "GET", f"{D}/volumes", "read", 200),
            Ep("docker", "GET", f"{D}/compose", "read", 200),
            Ep("docker", "DELETE", f"{D}/containers/tk-matrix-absent", "write", 404),
            Ep("docker", "DELETE", f"{D}/volumes/tk-matrix-absent", "write", 404),
            Ep("docker", "GET", f"{D}/available", None, 200),
        ],
        "exec": [
            Ep("exec", "POST", "/exec/matrixtool/hello", "write", 202, special=exec_post),
            Ep("exec", "GET", "/exec/jobs/{job:readwrite}", "read", 200, special=job_get("readwrite")),
            Ep("exec", "GET", "/exec/jobs/{job:execwriter}", "read", 200, special=job_get("execwriter")),
            Ep("exec", "DELETE", "/exec/jobs/{job:readwrite}", "write", 409, special=job_delete("readwrite")),
            Ep("exec", "DELETE", "/exec/jobs/{job:execwriter}", "write", 409, special=job_delete("execwriter")),
        ],
    }
    if MODE != "system":
        del eps["exec"]     # the host layer starts no exec worker
    return eps


def docker_usable():
    try:
        from test_docker import dockerd_usable
    except ImportError:
        return False
    return dockerd_usable()


def cases():
    out = []
    for feature, eps in endpoints().items():
        if feature == "docker" and not docker_usable():
            continue
        configs = ("allows",) if feature == "tools" else CONFIGS
        for config in configs:
            for ep in eps:
                for caller in CALLERS:
                    out.append(pytest.param(feature, config, ep.id(), caller,
                                            id=f"{feature}-{config}-{caller}-{ep.id()}"))
    return out


CASES = cases()


@pytest.fixture(scope="module")
def matrix(node):
    m = Matrix(node)
    fb = files_base(node)
    if fb.exists():
        shutil.rmtree(fb)
    fb.mkdir(parents=True)
    (fb / "seed.txt").write_text("seed\n")
    m.eps = {f: {ep.id(): ep for ep in eps} for f, eps in endpoints().items()}
    if MODE == "system":
        Path("/etc/systemd/system/tk-matrix.service").write_text(
            "[Unit]\nDescription=tailkitd permission matrix\n\n[Service]\nType=oneshot\n"
            "RemainAfterExit=yes\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n")
        subprocess.run(["systemctl", "daemon-reload"], check=True)
        start_jobs(m)
    if "docker" in {c.values[0] for c in CASES}:
        start_docker(m, node)
    try:
        yield m
    finally:
        m.restore()
        if m.engine:
            try:
                m.engine.clean()
            finally:
                m.engine.stop()
                if MODE == "host":
                    subprocess.run(["rm", "-rf", "--one-file-system", m.engine_dir], check=False)
        shutil.rmtree(fb, ignore_errors=True)
        if MODE == "system":
            subprocess.run(["systemctl", "disable", "--now", "tk-matrix.service"], check=False)
            Path("/etc/systemd/system/tk-matrix.service").unlink(missing_ok=True)
            subprocess.run(["systemctl", "daemon-reload"], check=False)


def start_jobs(m):
    """One finished exec job started by each of two callers."""
    m.set("exec", "allows")
    for starter in ("readwrite", "execwriter"):
        r = m.node.request("POST", "/exec/matrixtool/hello", src=CALLERS[starter][0])
        assert r.status == 202, r
        job = r.json()["job_id"]
        wait_for(lambda: m.node.get(f"/exec/jobs/{job}").json()["status"] == "completed",
                 what=f"job {job} to complete")
        m.jobs[starter] = job


def start_docker(m, node):
    import tempfile
    from test_docker import Engine
    m.engine_dir = tempfile.mkdtemp(prefix="tk-matrix-dockerd-", dir="/tmp")
    e = Engine(MODE, m.engine_dir)
    e.start()
    m.engine = e
    e.import_busybox()
    e.run("tk-matrix")
    m.docker_sock = e.sock if MODE == "host" else None


def test_matrix_size():
    """The issue asks for at least 300 cases."""
    assert len(CASES) >= 300, len(CASES)


@pytest.mark.parametrize("feature,config,ep_id,caller", CASES)
def test_matrix(node, fake, matrix, feature, config, ep_id, caller):
    ep = matrix.eps[feature][ep_id]
    matrix.set(feature, config)
    want = expected(ep, caller, config)
    if ep.prepare and 200 <= want < 300:
        ep.prepare(matrix)
    fb = str(files_base(node))
    path = ep.path.replace("{fb}", fb)
    for starter, job in matrix.jobs.items():
        path = path.replace(f"{{job:{starter}}}", job)
    body = ep.body.replace(b"{fb}", fb.encode()) if ep.body else None
    headers = {k: v.replace("{fb}", fb) for k, v in ep.headers.items()}
    r = node.request(ep.method, path, src=CALLERS[caller][0], body=body, headers=headers, timeout=30)
    assert r.status == want, (feature, config, caller, ep.method, path, r)
    if want >= 400:
        assert "error" in r.json(), r


# --- headers never change identity ----------------------------------------------

TRICKS = [
    {"X-Forwarded-For": "127.0.0.2"},
    {"X-Forwarded-For": "100.72.210.9, 127.0.0.2"},
    {"X-Real-IP": "127.0.0.2"},
    {"Forwarded": "for=127.0.0.2"},
    {"Forwarded": 'for="[fd7a:115c:a1e0::6a01:d209]:41641";proto=http'},
    {"Host": "127.0.0.2"},
    {"Host": "100.72.210.9:80"},
    {"X-Forwarded-Host": "127.0.0.2", "X-Forwarded-Proto": "https"},
    {"Tailscale-User-Login": "alice@example.com", "Tailscale-User-Name": "Alice Example"},
    {"X-Client-IP": "127.0.0.2", "True-Client-IP": "127.0.0.2", "CF-Connecting-IP": "127.0.0.2"},
]


@pytest.mark.parametrize("trick", TRICKS, ids=lambda t: ",".join(t))
@pytest.mark.parametrize("caller,method,path,want", [
    ("stranger", "GET", "/tools", 401),
    ("stranger", "GET", "/health", 401),
    ("nocaps", "GET", "/tools", 403),
    ("unlisted", "GET", "/integrations/metrics/host", 403),
    ("read", "PUT", "/vars/myapp/dev/TRICK", 403),
])
def test_headers_never_change_identity(node, fake, trick, caller, method, path, want):
    body = b'{"value":"x"}' if method == "PUT" else None
    headers = dict(trick)
    if body:
        headers["Content-Type"] = "application/json"
    r = node.request(method, path, src=CALLERS[caller][0], body=body, headers=headers)
    assert r.status == want, (trick, r)
    # The whois asked about the connection's own address, never a header's.
    whois = [q for q in fake.requests() if q["path"] == "/localapi/v0/whois"]
    if whois:
        assert CALLERS[caller][0] + ":" in whois[-1]["query"].replace("%3A", ":"), whois[-1]
