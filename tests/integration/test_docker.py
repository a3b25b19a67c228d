"""The docker worker against a real Docker Engine (Debian docker.io).

Host layer: a private dockerd started by this module (temporary data-root and
exec-root, a unix socket only, no bridge, no iptables, no IP forwarding, vfs).
System layer: the container's docker.service (tests/system/rootfs.sh
configures it the same way and leaves it disabled; this module starts it).
Either way an image local/busybox is imported from busybox-static, so no
registry is needed, and dockerd runs with debug logging so the tests can
check what reached the Engine.
"""

import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import MODE, NOCAPS, READONLY, STRANGER, USER, wait_for

P = "/integrations/docker"
IMAGE = "local/busybox"
# PID 1 that stops at once on SIGTERM (busybox sh ignores it otherwise).
IDLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
ALL_PERMISSIONS = dict(containers_read=True, containers_write=True, images_read=True, images_write=True,
                       compose_read=True, compose_write=True, swarm_read=True, swarm_write=False)


def docker_cli():
    # /usr/local/bin/docker (a newer CLI) shadows Debian's on these machines.
    for c in ("/usr/bin/docker", shutil.which("docker")):
        if c and os.access(c, os.X_OK):
            return c
    return None


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("docker", timeout=timeout)
        self.unix_path = str(path)

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Engine:
    """The dockerd under test, its CLI and its debug log."""

    def __init__(self, mode, workdir):
        self.mode = mode
        self.workdir = Path(workdir)
        self.proc = None
        if mode == "host":
            self.sock = self.workdir / "docker.sock"
            self.log_file = self.workdir / "dockerd.log"
        else:
            self.sock = Path("/var/run/docker.sock")
        self.cli_path = docker_cli()

    def start(self):
        if self.mode == "system":
            subprocess.run(["systemctl", "start", "docker.service"], check=True, timeout=60)
        else:
            args = ["dockerd", "--debug", "--data-root", str(self.workdir / "data"),
                    "--exec-root", str(self.workdir / "exec"), "--pidfile", str(self.workdir / "dockerd.pid"),
                    "-H", f"unix://{self.sock}", "--iptables=false", "--ip6tables=false", "--bridge=none",
                    "--ip-forward=false", "--storage-driver=vfs"]
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=open(self.log_file, "ab"),
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self.ping, timeout=30, what="dockerd to answer /_ping")

    def stop(self):
        if self.mode == "system":
            subprocess.run(["systemctl", "stop", "docker.service", "docker.socket"], check=True, timeout=60)
            return
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def ping(self):
        try:
            return self.api("GET", "/_ping")[0] == 200
        except OSError:
            return False

    def api(self, method, path, timeout=30):
        conn = UnixHTTPConnection(self.sock, timeout=timeout)
        try:
            conn.request(method, path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def api_json(self, path):
        status, body = self.api("GET", path)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def cli(self, *args, check=True, input=None):
        r = subprocess.run([self.cli_path, "-H", f"unix://{self.sock}", *args], capture_output=True, text=True,
                           timeout=120, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {r.stderr}")
        return r.stdout.strip()

    def logs(self, name):
        """docker logs: stdout and stderr together."""
        r = subprocess.run([self.cli_path, "-H", f"unix://{self.sock}", "logs", name], capture_output=True,
                           text=True, timeout=60)
        return r.stdout + r.stderr

    def inspect(self, name):
        return json.loads(self.cli("inspect", name))[0]

    def log(self):
        """dockerd's debug log so far (it names every API call it serves)."""
        if self.mode == "system":
            return subprocess.run(["journalctl", "--no-pager", "-o", "cat", "-u", "docker.service"],
                                  capture_output=True, text=True).stdout
        return self.log_file.read_text(errors="replace")

    def import_busybox(self):
        root = self.workdir / "busybox-root"
        (root / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy("/bin/busybox", root / "bin" / "busybox")
        for applet in ("sh", "sleep", "echo", "cat", "head", "yes", "true"):
            link = root / "bin" / applet
            if not link.exists():
                link.symlink_to("busybox")
        tar = subprocess.run(["tar", "-C", str(root), "-c", "."], capture_output=True, check=True).stdout
        r = subprocess.run([self.cli_path, "-H", f"unix://{self.sock}", "import", "-c", 'CMD ["/bin/sh"]', "-",
                            IMAGE], input=tar, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr

    def run(self, name, *cmd, args=()):
        self.cli("rm", "-f", name, check=False)
        return self.cli("run", "-d", "--network", "none", "--name", name, *args, IMAGE, *(cmd or IDLE))

    def clean(self):
        ids = self.cli("ps", "-aq", check=False).split()
        if ids:
            self.cli("rm", "-f", *ids, check=False)


def dockerd_usable():
    if MODE == "system":
        return Path("/usr/sbin/dockerd").exists()
    return shutil.which("dockerd") is not None and docker_cli() is not None and Path("/bin/busybox").exists()


pytestmark = pytest.mark.skipif(not dockerd_usable(),
                                reason="needs dockerd, the docker CLI and busybox-static (scripts/install-deps.sh)")


@pytest.fixture(scope="module")
def engine(node):
    workdir = tempfile.mkdtemp(prefix="tk-dockerd-", dir="/tmp")
    e = Engine(MODE, workdir)
    e.start()
    try:
        e.import_busybox()
        yield e
    finally:
        try:
            if e.ping():
                e.clean()
        finally:
            e.stop()
            if MODE == "host":
                subprocess.run(["rm", "-rf", "--one-file-system", workdir], check=False)


def write_config(node, permissions=None, socket_path=None, extra=""):
    perms = dict(ALL_PERMISSIONS, **(permissions or {}))
    text = "[permissions]\n" + "".join(f"{k} = {'true' if v else 'false'}\n" for k, v in perms.items())
    if socket_path:
        text += f'\n[docker]\nsocket = "{socket_path}"\n'
    text += extra
    path = node.config_dir / "integrations" / "docker.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def docker(node, engine):
    """docker.toml with every permission (tests narrow it); the engine."""
    sock = engine.sock if MODE == "host" else None

    def configure(**permissions):
        write_config(node, permissions, sock)

    configure()
    engine.configure = configure
    yield engine
    configure()


def get(node, path, src=USER, **kw):
    return node.get(P + path, src=src, **kw)


def ids(listing):
    return {c["Id"] for c in listing}


# ---- availability, identity, caps, docker.toml ---------------------------------------


def test_available_and_info_pass_through(node, docker):
    r = get(node, "/available")
    assert r.status == 200 and r.json() == {"available": True}
    r = get(node, "/info")
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json")
    info = r.json()
    assert info["ID"] == docker.api_json("/info")["ID"]
    assert r.body.endswith(b"\n")


def test_unconfigured_is_503_and_not_available(node, docker):
    (node.config_dir / "integrations" / "docker.toml").unlink()
    r = get(node, "/containers")
    assert r.status == 503
    assert "docker.toml" in r.json()["hint"]
    assert get(node, "/available").json() == {"available": False}
    # A no-cap peer is told no more than anyone else (SPEC §1.2 order).
    assert get(node, "/containers", src=NOCAPS).status == 503


def test_invalid_config_is_503_naming_the_error(node, docker):
    write_config(node, extra="\n[docker]\nsocket = \"relative.sock\"\n")
    r = get(node, "/containers")
    assert r.status == 503
    assert "docker.toml is invalid" in r.json()["error"]
    assert "absolute path" in r.json()["hint"]


def test_identity_and_caps(node, docker):
    assert get(node, "/containers", src=STRANGER).status == 401
    r = get(node, "/containers", src=NOCAPS)
    assert r.status == 403 and "tailkitd-docker" in r.json()["error"]
    assert get(node, "/containers", src=READONLY).status == 200
    # Read-only cap: no write, whatever docker.toml says; checked before any lookup.
    r = node.request("DELETE", P + "/containers/does-not-exist", src=READONLY)
    assert r.status == 403 and "write" in r.json()["error"]
    r = node.request("DELETE", P + "/images/local/busybox", src=NOCAPS)
    assert r.status == 403


def test_docker_toml_permissions(node, docker):
    cid = docker.run("tk-perm")
    docker.configure(containers_read=False)
    r = get(node, "/containers")
    assert r.status == 403
    assert r.json()["error"] == "containers_read is not enabled in docker.toml"
    assert "containers_read = true" in r.json()["hint"]
    # No lookup happened: an unknown container is refused the same way.
    assert get(node, "/containers/nope/json").status in (403, 404)
    assert get(node, "/containers/nope").status == 403
    docker.configure(containers_write=False)
    r = node.request("DELETE", P + "/containers/tk-perm")
    assert r.status == 403 and "containers_write" in r.json()["error"]
    assert docker.inspect(cid)["State"]["Running"]
    docker.configure(images_write=False)
    r = node.request("DELETE", P + "/images/" + IMAGE)
    assert r.status == 403 and "images_write" in r.json()["error"]
    assert docker.cli("images", "-q", IMAGE)
    docker.configure(swarm_read=False)
    for path in ("/swarm/info", "/swarm/nodes", "/swarm/services", "/swarm/tasks", "/swarm/services/x"):
        r = get(node, path)
        assert r.status == 403 and "swarm_read" in r.json()["error"], path
    docker.configure(compose_read=False)
    assert get(node, "/compose/").status == 403
    docker.configure(images_read=False)
    assert get(node, "/images").status == 403


# ---- containers ---------------------------------------------------------------------


def test_containers_list_and_inspect_agree_with_docker(node, docker):
    running = docker.run("tk-list-running")
    stopped = docker.cli("create", "--network", "none", "--name", "tk-list-stopped", IMAGE, "true")
    r = get(node, "/containers")
    assert r.status == 200
    listed = ids(r.json())
    # Every container by default (the Go seed's ContainerList(All: true)).
    assert {running, stopped} <= listed
    assert listed == ids(docker.api_json("/containers/json?all=1"))
    running_only = ids(get(node, "/containers?all=0").json())
    assert running in running_only and stopped not in running_only
    assert ids(get(node, "/containers?all=true").json()) == listed

    for ref in (running, "tk-list-running", running[:12]):
        r = get(node, "/containers/" + ref)
        assert r.status == 200, r
        mine, theirs = r.json(), docker.inspect(running)
        assert mine["Id"] == theirs["Id"] and mine["State"]["Status"] == theirs["State"]["Status"] == "running"
    assert get(node, "/containers/tk-list-stopped").json()["State"]["Status"] == "created"
    docker.cli("rm", "-f", "tk-list-stopped")


def test_filters_pass_validated_json(node, docker):
    a = docker.run("tk-filter-a", args=("--label", "tk.test=filters"))
    b = docker.run("tk-filter-b")
    f = urllib.parse.quote(json.dumps({"label": ["tk.test=filters"]}))
    r = get(node, "/containers?filters=" + f)
    assert r.status == 200, r
    assert ids(r.json()) == {a}
    assert b not in ids(r.json())
    # The Engine's older map form is accepted too.
    f = urllib.parse.quote(json.dumps({"label": {"tk.test=filters": True}}))
    assert ids(get(node, "/containers?filters=" + f).json()) == {a}


def test_engine_errors_keep_status_and_message(node, docker):
    r = get(node, "/containers/tk-no-such-container")
    assert r.status == 404
    assert "No such container: tk-no-such-container" in r.json()["error"]
    r = node.request("DELETE", P + "/volumes/tk-no-such-volume")
    assert r.status == 404 and "no such volume" in r.json()["error"].lower()
    docker.run("tk-busy")
    r = node.request("DELETE", P + "/containers/tk-busy")
    assert r.status == 409 and "running container" in r.json()["error"]


def test_delete_container_agrees_with_docker(node, docker):
    cid = docker.run("tk-delete")
    r = node.request("DELETE", P + "/containers/tk-delete?force=1")
    assert r.status == 200, r
    assert r.json() == {"id": "tk-delete", "status": "deleted"}
    assert docker.cli("ps", "-aq", "--filter", f"id={cid}") == ""
    assert get(node, "/containers/" + cid).status == 404


def demux(raw):
    """The Engine's multiplexed stream, frame payloads in order."""
    out, i = b"", 0
    while i < len(raw):
        assert raw[i] in (0, 1, 2, 3) and raw[i + 1:i + 4] == b"\0\0\0", raw[i:i + 8]
        n = int.from_bytes(raw[i + 4:i + 8], "big")
        out += raw[i + 8:i + 8 + n]
        i += 8 + n
    return out.decode()


def test_logs_are_demultiplexed(node, docker):
    docker.run("tk-logs", "sh", "-c", "echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2; "
               "trap 'exit 0' TERM; sleep 1000 & wait")
    wait_for(lambda: docker.logs("tk-logs").count("\n") == 4, what="the container's output")
    status, raw = docker.api("GET", "/containers/tk-logs/logs?stdout=1&stderr=1")
    assert status == 200 and raw[0] in (1, 2)
    engine = demux(raw)
    assert sorted(engine.splitlines()) == ["err-1", "err-2", "out-1", "out-2"]
    r = get(node, "/containers/tk-logs/logs")
    assert r.status == 200, r
    # Both streams, in the Engine's order, no 8-byte frame headers left in.
    assert r.json() == {"logs": engine}
    assert get(node, "/containers/tk-logs/logs?tail=1").json()["logs"] == engine.splitlines(True)[-1]
    stamped = get(node, "/containers/tk-logs/logs?timestamps=true&tail=2").json()["logs"].splitlines()
    assert len(stamped) == 2 and stamped[1].endswith(" " + engine.splitlines()[-1]) and stamped[1][:4].isdigit()
    future = int(time.time()) + 3600
    assert get(node, f"/containers/tk-logs/logs?since={future}").json()["logs"] == ""
    assert get(node, "/containers/tk-logs/logs?since=0&tail=all").json()["logs"] == engine


def test_logs_of_a_tty_container_are_raw(node, docker):
    docker.run("tk-tty", "sh", "-c", "echo tty-line; trap 'exit 0' TERM; sleep 1000 & wait", args=("-t",))
    wait_for(lambda: "tty-line" in docker.logs("tk-tty"), what="tty output")
    assert get(node, "/containers/tk-tty/logs").json()["logs"] == "tty-line\r\n"


def test_logs_output_is_capped(node, docker):
    # 2 MiB of 'y' lines: the answer stops at 1 MiB and says so. Long lines:
    # the Engine logs each line as a JSON record, a million short ones take
    # it minutes.
    line = "y" * 1023
    docker.run("tk-biglogs", "sh", "-c", f"yes {line} | head -c 2097152; trap 'exit 0' TERM; sleep 1000 & wait")
    wait_for(lambda: len(demux(docker.api("GET", "/containers/tk-biglogs/logs?stdout=1&stderr=1")[1])) >= 2097152,
             timeout=60, interval=0.5, what="2 MiB of logs")
    r = get(node, "/containers/tk-biglogs/logs?tail=all", timeout=30)
    assert r.status == 200
    body = r.json()
    assert body["truncated"] is True
    assert len(body["logs"]) == 1024 * 1024
    assert set(body["logs"]) == {"y", "\n"}


def test_logs_parameters_are_validated(node, docker):
    docker.run("tk-logs-params")
    for q in ("tail=-1", "tail=abc", "tail=100001", "since=yesterday", "timestamps=maybe", "follow=1",
              "stdout=0", "tail=1&tail=2"):
        r = get(node, "/containers/tk-logs-params/logs?" + q)
        assert r.status == 400, (q, r)


def test_stats_is_one_sample(node, docker):
    cid = docker.run("tk-stats")
    t0 = time.monotonic()
    r = get(node, "/containers/tk-stats/stats", timeout=30)
    assert r.status == 200, r
    assert time.monotonic() - t0 < 10
    s = r.json()
    assert s["id"] == cid
    for key in ("read", "cpu_stats", "precpu_stats", "memory_stats", "pids_stats"):
        assert key in s
    assert get(node, "/containers/tk-stats/stats?stream=true").status == 400


# ---- long operations are jobs -----------------------------------------------------------


def job_result(node, r):
    """The job a 202 answer names, polled to its end where the exec worker
    serves polls (system layer); None on the host layer (no exec worker)."""
    assert r.status == 202, r
    body = r.json()
    assert body["status"] == "accepted" and len(body["job_id"]) == 26, body
    if MODE != "system":
        return None

    def finished():
        j = node.get("/exec/jobs/" + body["job_id"]).json()
        return j if j["status"] in ("completed", "failed", "cancelled") else None
    return wait_for(finished, timeout=60, what=f"job {body['job_id']}")


def state(docker, name):
    return docker.inspect(name)["State"]


def test_container_lifecycle_agrees_with_docker(node, docker):
    cid = docker.run("tk-life", "sh", "-c", "echo hello; trap 'exit 0' TERM; sleep 1000 & wait")
    assert cid in ids(get(node, "/containers").json())

    job = job_result(node, node.request("POST", P + "/containers/tk-life/stop?t=5"))
    wait_for(lambda: not state(docker, "tk-life")["Running"], what="the container to stop")
    if job:
        assert job["status"] == "completed" and job["tool"] == "docker" and job["command"] == "stop", job
        assert "stop tk-life: done" in job["stdout"]
    mine = get(node, "/containers/tk-life").json()["State"]
    assert mine["Status"] == state(docker, "tk-life")["Status"] == "exited"

    job = job_result(node, node.request("POST", P + "/containers/tk-life/start"))
    wait_for(lambda: state(docker, "tk-life")["Running"], what="the container to start")
    started = state(docker, "tk-life")["StartedAt"]
    assert get(node, "/containers/tk-life").json()["State"]["StartedAt"] == started
    if job:
        assert job["status"] == "completed", job
    # Starting a running container: the Engine's 304, a job that did nothing.
    job = job_result(node, node.request("POST", P + "/containers/tk-life/start"))
    if job:
        assert job["status"] == "completed" and "already" in job["stdout"], job

    job = job_result(node, node.request("POST", P + "/containers/tk-life/restart?t=5"))
    wait_for(lambda: state(docker, "tk-life")["StartedAt"] != started and state(docker, "tk-life")["Running"],
             what="the container to restart")
    if job:
        assert job["status"] == "completed", job

    wait_for(lambda: get(node, "/containers/tk-life/logs").json()["logs"] == "hello\n" * 3,
             what="one hello per start")
    assert get(node, "/containers/tk-life/stats", timeout=30).json()["id"] == cid

    assert node.request("DELETE", P + "/containers/tk-life?force=true").status == 200
    assert docker.cli("ps", "-aq", "--filter", "name=^tk-life$") == ""
    assert cid not in ids(get(node, "/containers").json())


def test_actions_on_unknown_containers_are_404_not_jobs(node, docker):
    for action in ("start", "stop", "restart"):
        r = node.request("POST", P + f"/containers/tk-none/{action}")
        assert r.status == 404 and "No such container" in r.json()["error"], (action, r)
    assert node.request("POST", P + "/containers/tk-none/stop?t=601").status == 400
    assert node.request("POST", P + "/containers/tk-none/kill").status == 404


class Registry:
    """A Docker Registry v2 on loopback serving one image (from `docker save`),
    so that a pull has something to fetch with no network."""

    def __init__(self, saved, name, tag):
        with tarfile.open(fileobj=io.BytesIO(saved)) as t:
            meta = json.load(t.extractfile("manifest.json"))[0]
            config = t.extractfile(meta["Config"]).read()
            layers = [gzip.compress(t.extractfile(layer).read(), mtime=0) for layer in meta["Layers"]]
        digest = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
        self.blobs = {digest(b): b for b in [config, *layers]}
        self.manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                       "digest": digest(config)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(b),
                        "digest": digest(b)} for b in layers],
        }).encode()
        self.paths = {f"/v2/{name}/manifests/{tag}", f"/v2/{name}/manifests/{digest(self.manifest)}"}
        self.name = name
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, body):
                if self.path == "/v2/":
                    return self.send(200, b"{}", "application/json")
                if self.path in registry.paths:
                    return self.send(200, registry.manifest, json.loads(registry.manifest)["mediaType"],
                                     digest(registry.manifest))
                prefix = f"/v2/{registry.name}/blobs/"
                if self.path.startswith(prefix) and self.path[len(prefix):] in registry.blobs:
                    d = self.path[len(prefix):]
                    return self.send(200, registry.blobs[d], "application/octet-stream", d)
                self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}', "application/json")

            def send(self, status, body, ctype, dgst=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
                if dgst:
                    self.send_header("Docker-Content-Digest", dgst)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self):
                self.answer(True)

            def do_HEAD(self):
                self.answer(False)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_image_pull_is_a_job(node, docker):
    saved = subprocess.run([docker.cli_path, "-H", f"unix://{docker.sock}", "save", IMAGE], capture_output=True,
                           check=True, timeout=60).stdout
    registry = Registry(saved, "tk/pulled", "1")
    ref = f"127.0.0.1:{registry.port}/tk/pulled:1"
    try:
        docker.cli("rmi", ref, check=False)
        assert docker.cli("images", "-q", ref) == ""
        r = node.request("POST", P + "/images/pull", body=json.dumps({"image": ref}),
                         headers={"Content-Type": "application/json"})
        job = job_result(node, r)
        wait_for(lambda: docker.cli("images", "-q", ref), timeout=60, what="the pulled image")
        if job:
            assert job["status"] == "completed" and job["command"] == "pull", job
            assert "Pulling from tk/pulled" in job["stdout"] and "Status: Downloaded newer image" in job["stdout"]
        assert ref in {t for i in get(node, "/images").json() for t in (i.get("RepoTags") or [])}
        docker.cli("rmi", ref)
        # The Go client's form: ?ref=.
        job = job_result(node, node.request("POST", P + "/images/pull?ref=" + urllib.parse.quote(ref)))
        wait_for(lambda: docker.cli("images", "-q", ref), timeout=60, what="the image pulled with ?ref=")
        # A reference the registry does not have: the job fails with the Engine's error.
        job = job_result(node, node.request("POST", P + f"/images/pull?ref=127.0.0.1:{registry.port}/tk/absent:1"))
        if job:
            assert job["status"] == "failed" and "absent" in job["error"], job
    finally:
        registry.close()
        docker.cli("rmi", ref, check=False)


def test_image_pull_is_checked_before_it_is_a_job(node, docker):
    json_headers = {"Content-Type": "application/json"}
    for body in ('{"image": "../x"}', '{"image": 1}', '{"image": "a", "extra": 1}', "[]", "{"):
        r = node.request("POST", P + "/images/pull", body=body, headers=json_headers)
        assert r.status == 400, (body, r)
    assert node.request("POST", P + "/images/pull").status == 400
    assert node.request("POST", P + "/images/pull?ref=a%20b").status == 400
    r = node.request("POST", P + "/images/pull", body='{"image": "busybox"}', headers={"Content-Type": "text/plain"})
    assert r.status == 400
    docker.configure(images_write=False)
    r = node.request("POST", P + "/images/pull", body='{"image": "busybox"}', headers=json_headers)
    assert r.status == 403 and "images_write" in r.json()["error"]
    assert node.request("POST", P + "/images/pull", src=READONLY).status == 403


# ---- the allowlist and what reaches the Engine -----------------------------------------


HOSTILE = [
    ("GET", "/containers/{id}/archive?path=/etc"),
    ("GET", "/containers/{id}/export"),
    ("POST", "/containers/{id}/exec"),
    ("GET", "/containers/{id}/exec"),
    ("POST", "/containers/{id}/attach"),
    ("GET", "/containers/{id}/top"),
    ("POST", "/commit?container={id}"),
    ("POST", "/build"),
    ("GET", "/containers/..%2F..%2Fv1.41%2Fcontainers%2F{id}%2Farchive"),
    ("GET", "/containers/{id}%2Farchive"),
    ("GET", "/containers/{id}%2farchive"),
    ("GET", "/containers/%2e%2e"),
    ("GET", "/containers/.."),
    ("GET", "/containers/a..b"),
    ("GET", "/containers/..{id}"),
    ("GET", "/containers/{id}%00"),
    ("GET", "/containers/{id}%3Fx=1"),
    ("GET", "/containers/-{id}"),
    ("GET", "/containers/{id}%20"),
    ("GET", "/containers?filters=notjson"),
    ("GET", "/containers?filters=%5B%5D"),
    ("GET", "/containers?filters=%7B%22label%22%3A1%7D"),
    ("GET", "/containers?filters=%7B%22label%22%3A%5B%22a%22%5D%7D%7B%7D"),
    ("GET", "/containers?all=1&all=0"),
    ("GET", "/containers?since=x"),
    ("GET", "/containers/{id}?size=1&extra=1"),
    ("DELETE", "/images/..%2Fcontainers%2F{id}"),
    ("DELETE", "/images/../containers/{id}"),
    ("DELETE", "/images/local//busybox"),
    ("DELETE", "/images/local/busybox/"),
    ("GET", "/networks/{id}/connect"),
    ("POST", "/networks/create"),
    ("GET", "/v1.41/containers/json"),
    ("GET", "/../../containers/json"),
    ("GET", "/swarm/unlockkey"),
    ("GET", "/compose/Bad_Name"),
    ("GET", "/compose/a.b"),
]


def test_hostile_paths_never_reach_the_engine(node, docker):
    cid = docker.run("tk-hostile")
    before = len(docker.log())
    for method, path in HOSTILE:
        r = node.request(method, P + path.format(id=cid))
        assert r.status in (400, 404, 405), (method, path, r)
        assert r.headers["content-type"].startswith("application/json"), (method, path)
    log = docker.log()[before:]
    calls = [line for line in log.splitlines() if "Calling " in line]
    for word in ("archive", "export", "exec", "attach", "/top", "commit", "build", "connect", "notjson",
                 "unlockkey", "a..b", "extra", "since"):
        assert not [c for c in calls if word in c], (word, calls)
    # Only /_ping may have been asked (a version check), nothing with the container in it.
    assert not [c for c in calls if cid[:12] in c], calls
    # The control: a legitimate call does show up in the log the test reads.
    assert get(node, "/containers/tk-hostile/logs?tail=1").status == 200
    assert wait_for(lambda: "/logs?" in docker.log()[before:], what="dockerd's debug log of the control call")


def test_unknown_query_parameters_are_refused(node, docker):
    r = get(node, "/containers?evil=1")
    assert r.status == 400
    assert "evil" in r.json()["error"] and "filters" in r.json()["error"]
    r = get(node, "/info?x=1")
    assert r.status == 400 and "takes none" in r.json()["error"]


# ---- images, networks, volumes ----------------------------------------------------------


def test_images_list_and_delete(node, docker):
    r = get(node, "/images")
    assert r.status == 200
    tags = {t for img in r.json() for t in (img.get("RepoTags") or [])}
    assert IMAGE + ":latest" in tags
    docker.cli("tag", IMAGE, "local/tk-delete-me:1")
    r = node.request("DELETE", P + "/images/local/tk-delete-me:1")
    assert r.status == 200, r
    # The Engine's own answer: [{"Untagged": ...}].
    assert {"Untagged": "local/tk-delete-me:1"} in r.json()
    assert docker.cli("images", "-q", "local/tk-delete-me:1") == ""
    r = node.request("DELETE", P + "/images/local/tk-no-such:1")
    assert r.status == 404 and "No such image" in r.json()["error"]


def test_networks_and_volumes(node, docker):
    r = get(node, "/networks")
    assert r.status == 200
    names = {n["Name"] for n in r.json()}
    assert {"none", "host"} <= names
    r = get(node, "/networks/none")
    assert r.status == 200 and r.json()["Name"] == "none"
    assert r.json()["Id"] == docker.api_json("/networks/none")["Id"]

    docker.cli("volume", "create", "tk-volume")
    r = get(node, "/volumes")
    assert r.status == 200
    assert "tk-volume" in {v["Name"] for v in r.json()["Volumes"]}
    r = node.request("DELETE", P + "/volumes/tk-volume")
    assert r.status == 200 and r.json()["status"] == "deleted"
    assert "tk-volume" not in docker.cli("volume", "ls", "-q").split()


# ---- compose (listing from labels) -----------------------------------------------------


def test_compose_projects_from_labels(node, docker):
    labels = ("--label", "com.docker.compose.project=tkdemo",
              "--label", "com.docker.compose.project.config_files=/srv/tkdemo/compose.yml",
              "--label", "com.docker.compose.project.working_dir=/srv/tkdemo",
              "--label", "com.docker.compose.service=web")
    web = docker.run("tkdemo-web-1", args=labels)
    docker.cli("create", "--network", "none", "--name", "tkdemo-job-1", *labels, IMAGE, "true")
    for path in ("/compose/", "/compose", "/compose/projects"):
        r = get(node, path)
        assert r.status == 200, (path, r)
        demo = [p for p in r.json() if p["name"] == "tkdemo"]
        assert demo == [{"name": "tkdemo", "status": "created(1), running(1)",
                         "config_files": "/srv/tkdemo/compose.yml", "working_dir": "/srv/tkdemo"}], path
    r = get(node, "/compose/tkdemo")
    assert r.status == 200
    p = r.json()
    assert p["name"] == "tkdemo" and len(p["containers"]) == 2
    assert web in ids(p["containers"])
    r = get(node, "/compose/tknothere")
    assert r.status == 404 and "tknothere" in r.json()["error"]
    docker.cli("rm", "-f", "tkdemo-web-1", "tkdemo-job-1")
    assert "tkdemo" not in {p["name"] for p in get(node, "/compose/").json()}


COMPOSE_YML = """\
version: "2.4"
services:
  web:
    image: local/busybox
    command: ["sh", "-c", "echo up; trap 'exit 0' TERM; sleep 1000 & wait"]
    network_mode: none
    stop_signal: SIGKILL
"""


@pytest.mark.skipif(MODE != "system", reason="compose actions run in transient scopes: system layer only")
def test_compose_up_list_down(node, docker):
    d = Path("/srv/tk-compose")
    d.mkdir(parents=True, exist_ok=True)
    (d / "compose.yml").write_text(COMPOSE_YML)
    job = job_result(node, node.request("POST", P + "/compose/tkup/up", body=json.dumps({"file": str(d / "compose.yml")}),
                                        headers={"Content-Type": "application/json"}))
    assert job["status"] == "completed" and job["command"] == "up", job
    r = get(node, "/compose/tkup")
    assert r.status == 200, r
    p = r.json()
    assert p["status"] == "running(1)" and p["config_files"] == str(d / "compose.yml")
    assert len(p["containers"]) == 1 and p["containers"][0]["Labels"]["com.docker.compose.service"] == "web"
    assert p["containers"][0]["Id"] == docker.inspect(p["containers"][0]["Id"])["Id"]
    assert "tkup" in {x["name"] for x in get(node, "/compose/").json()}
    job = job_result(node, node.request("POST", P + "/compose/tkup/restart"))
    assert job["status"] == "completed", job
    job = job_result(node, node.request("POST", P + "/compose/tkup/down"))
    assert job["status"] == "completed", job
    assert get(node, "/compose/tkup").status == 404
    assert "tkup" not in {x["name"] for x in get(node, "/compose/").json()}
    assert docker.cli("ps", "-aq", "--filter", "label=com.docker.compose.project=tkup") == ""


def test_compose_actions_are_checked_before_a_job(node, docker):
    json_headers = {"Content-Type": "application/json"}
    r = node.request("POST", P + "/compose/tkx/up", body='{"file": "/nonexistent/compose.yml"}', headers=json_headers)
    assert r.status == 400 and "not found" in r.json()["error"], r
    for body in ('{"file": "relative.yml"}', '{"file": "/a/../b.yml"}', '{"file": 1}', '{}', '[]'):
        r = node.request("POST", P + "/compose/tkx/up", body=body, headers=json_headers)
        assert r.status == 400, (body, r)
    assert node.request("POST", P + "/compose/tkx/up").status == 400
    assert node.request("POST", P + "/compose/tkx/up?file=relative").status == 400
    r = node.request("POST", P + "/compose/tknone/down")
    assert r.status == 404 and "tknone" in r.json()["error"]
    assert node.request("POST", P + "/compose/tkx/exec").status == 404
    assert node.request("POST", P + "/compose/Bad/down").status == 400
    docker.configure(compose_write=False)
    r = node.request("POST", P + "/compose/tkx/down")
    assert r.status == 403 and "compose_write" in r.json()["error"]
    assert node.request("POST", P + "/compose/tkx/down", src=READONLY).status == 403


# ---- an Engine that is gone or stalled -----------------------------------------------------


def test_engine_stopped_then_started(node, docker):
    assert get(node, "/containers").status == 200
    docker.stop()
    try:
        r = get(node, "/containers")
        assert r.status == 503, r
        assert r.json()["error"] == "docker daemon unreachable"
        assert str(docker.sock) in r.json()["hint"] and "dockerd" in r.json()["hint"]
        assert get(node, "/available").json() == {"available": False}
    finally:
        docker.start()
    # The same worker, no restart: the next request works.
    pid = node.worker_pid("docker")
    r = get(node, "/containers")
    assert r.status == 200, r
    assert node.worker_pid("docker") == pid


def test_stalled_engine_is_503_within_seconds(node, docker, tmp_path):
    # A socket that accepts and never answers (outside /tmp: the installed
    # worker has a PrivateTmp= of its own).
    path = tmp_path / "stalled.sock" if MODE == "host" else Path("/run/tk-stalled.sock")
    if path.exists():
        path.unlink()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    os.chmod(path, 0o666)
    srv.listen(16)
    try:
        write_config(node, socket_path=path)
        t0 = time.monotonic()
        r = get(node, "/containers", timeout=30)
        assert r.status == 503, r
        assert time.monotonic() - t0 < 6
        assert "in time" in r.json()["hint"]
    finally:
        srv.close()
        path.unlink()


# ---- swarm (system layer: swarm init binds TCP, which the host layer must not) ----------


@pytest.mark.skipif(MODE != "system", reason="swarm init binds a TCP port: system layer only")
def test_swarm(node, docker):
    r = get(node, "/swarm/info")
    # Not a swarm member yet: the Engine's own status and message.
    assert r.status == 503 and "not a swarm manager" in r.json()["error"].lower(), r
    docker.cli("swarm", "init", "--advertise-addr", "127.0.0.1")
    try:
        r = get(node, "/swarm/info")
        assert r.status == 200 and r.json()["ID"] == docker.api_json("/swarm")["ID"]
        nodes = get(node, "/swarm/nodes").json()
        assert [n["ID"] for n in nodes] == [n["ID"] for n in docker.api_json("/nodes")]
        assert get(node, "/swarm/services").json() == docker.api_json("/services")
        assert isinstance(get(node, "/swarm/tasks").json(), list)
        assert get(node, "/swarm/services/nope").status == 404
        docker.configure(swarm_read=False)
        assert get(node, "/swarm/nodes").status == 403
    finally:
        docker.cli("swarm", "leave", "--force", check=False)
