"""tailkitctl (issue #12): every subcommand against a running tailkitd, in
table and --json modes; exit codes per error class; install-tool's checks
(the exec worker's own code) and atomic writes; --all over the fake
tailscaled's fleet status (tests/fake-tailscaled/fixtures/status-fleet.json)
with one node that never answers; the progress bar on a TTY only.

tailkitctl connects from 127.0.0.2 (--source), the peer with every cap.
Exec jobs, units and the journal need the real systemd (system layer).
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import (MODE, NOCAPS, STRANGER, USER, free_port, system_only,
                      tailkitctl_path, wait_for)

CTL = tailkitctl_path()
EXIT = dict(ok=0, local=1, usage=2, unreachable=3, unauthorized=4, forbidden=5,
            not_found=6, unavailable=7, http=8, job_failed=10, fleet=11)


def run(node, *args, src=USER, glob=(), input=None, timeout=60, env=None, node_spec=None):
    where = [] if "--all" in glob else ["--node", node_spec or f"{node.host}:{node.port}"]
    cmd = [str(CTL), *where, "--source", src, "--socket", str(node.fake.sock), *glob, *args]
    e = dict(os.environ, TAILKITD_CONFIG_DIR=str(node.config_dir), **(env or {}))
    return subprocess.run(cmd, capture_output=True, text=True, input=input, timeout=timeout, env=e)


def ok(p):
    assert p.returncode == 0, (p.args, p.returncode, p.stdout, p.stderr)
    return p


def both(node, *args, **kw):
    """The table output and the parsed --json output of one command."""
    table = ok(run(node, *args, **kw)).stdout
    js = json.loads(ok(run(node, *args, glob=("--json",), **kw)).stdout)
    return table, js


# --- help and usage -----------------------------------------------------------

COMMANDS = ["health", "tools", "exec", "job", "vars", "files", "units", "journal",
            "docker", "metrics", "install-tool", "uninstall-tool", "peers", "sd"]


def test_help_for_every_command():
    p = subprocess.run([str(CTL), "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "usage: tailkitctl" in p.stdout
    for c in COMMANDS:
        assert c in p.stdout
        q = subprocess.run([str(CTL), c, "--help"], capture_output=True, text=True)
        assert q.returncode == 0 and q.stdout.startswith(f"usage: tailkitctl [OPTIONS] {c}"), (c, q)


def test_usage_errors_exit_2(node):
    assert run(node, "nosuch").returncode == EXIT["usage"]
    assert run(node, "exec", "onlytool").returncode == EXIT["usage"]
    assert run(node, "exec", "t", "c", "noequals").returncode == EXIT["usage"]
    assert run(node, "metrics", "bogus").returncode == EXIT["usage"]
    p = run(node, "health", glob=("--tag", "tag:x"))
    assert p.returncode == EXIT["usage"] and "--all" in p.stderr


# --- errors and exit codes ----------------------------------------------------

def test_exit_codes_per_error_class(node, fake):
    p = run(node, "health", src=STRANGER)
    assert p.returncode == EXIT["unauthorized"] and "HTTP 401" in p.stderr, p
    p = run(node, "tools", src=NOCAPS)
    assert p.returncode == EXIT["forbidden"] and "HTTP 403" in p.stderr, p
    p = run(node, "tools", "no-such-tool")
    assert p.returncode == EXIT["not_found"] and "HTTP 404" in p.stderr, p
    p = run(node, "vars", "set", "myapp", "prod", "lower", "x")
    assert p.returncode == EXIT["http"] and "HTTP 400" in p.stderr, p
    fake.set_mode("nobackend")
    p = run(node, "health")
    assert p.returncode == EXIT["unavailable"] and "HTTP 503" in p.stderr and "hint:" in p.stderr, p
    fake.set_mode("normal")
    p = run(node, "health", node_spec=f"127.0.0.1:{free_port()}")
    assert p.returncode == EXIT["unreachable"] and "hint:" in p.stderr, p


# --- health, tools, vars, metrics (host and system) ---------------------------

def test_health(node):
    table, js = both(node, "health")
    assert table.startswith("ok ") and js["status"] == "ok" and js["hostname"] in table


TOOL = {
    "name": "ctldemo", "version": "1.0.0", "tsnet_host": "ctldemo",
    "commands": [
        {"name": "say", "description": "echoes its arg", "acl_cap": "tailscale.com/cap/devbox",
         "exec_parts": ["/bin/echo", "said:", "{{.msg}}"], "timeout": 10_000_000_000,
         "args": [{"name": "msg", "type": "string", "required": True, "pattern": "^[a-z ]+$"}]},
        {"name": "nap", "description": "sleeps", "acl_cap": "tailscale.com/cap/devbox",
         "exec_parts": ["/bin/sleep", "30"], "timeout": 60_000_000_000},
        {"name": "fail", "description": "exits 3", "acl_cap": "tailscale.com/cap/devbox",
         "exec_parts": ["/bin/sh", "-c", "echo oops >&2; exit 3"], "timeout": 10_000_000_000},
    ],
}


@pytest.fixture
def installed(node, tmp_path):
    f = tmp_path / "ctldemo.json"
    f.write_text(json.dumps(TOOL, indent=2))
    ok(run(node, "install-tool", str(f)))
    yield f
    ok(run(node, "uninstall-tool", "ctldemo"))


def test_tools_table_and_json(node, installed):
    table, js = both(node, "tools")
    assert any(t["name"] == "ctldemo" for t in js)
    line = next(l for l in table.splitlines() if l.startswith("ctldemo"))
    assert "1.0.0" in line and "say nap fail" in line
    table, js = both(node, "tools", "ctldemo")
    assert js["name"] == "ctldemo" and "say" in table and "msg" in table and "echoes its arg" in table


def test_vars_every_form(node):
    ok(run(node, "vars", "delete", "myapp", "ctl"))
    out = ok(run(node, "vars", "set", "myapp", "ctl", "GREETING", "hello world")).stdout
    assert "GREETING set" in out
    js = json.loads(ok(run(node, "vars", "set", "myapp", "ctl", "MULTI", "-", glob=("--json",),
                           input="line1\nline2 $x \"q\"\n")).stdout)
    assert js["status"] == "ok"
    assert ok(run(node, "vars", "get", "myapp", "ctl", "GREETING")).stdout == "hello world\n"
    table, js = both(node, "vars", "get", "myapp", "ctl")
    assert js == {"GREETING": "hello world", "MULTI": 'line1\nline2 $x "q"'}
    assert "GREETING" in table and "hello world" in table
    _, js = both(node, "vars", "get", "myapp", "ctl", "MULTI")
    assert js["value"] == 'line1\nline2 $x "q"'
    env = ok(run(node, "vars", "env", "myapp", "ctl")).stdout
    assert 'GREETING="hello world"' in env
    # The env form reads back exactly through sh.
    shown = subprocess.run(["sh", "-c", 'set -a; . /dev/stdin; printf %s "$MULTI"'], input=env,
                           capture_output=True, text=True).stdout
    assert shown == 'line1\nline2 $x "q"'
    table, js = both(node, "vars", "list")
    assert any(s["project"] == "myapp" for s in js) and "myapp" in table and "monitoring" in table
    assert "MULTI deleted" in ok(run(node, "vars", "delete", "myapp", "ctl", "MULTI")).stdout
    assert json.loads(ok(run(node, "vars", "env", "myapp", "ctl", glob=("--json",))).stdout) == \
        {"GREETING": "hello world"}
    ok(run(node, "vars", "delete", "myapp", "ctl"))
    assert run(node, "vars", "get", "myapp", "ctl", "GREETING").returncode == EXIT["not_found"]


@pytest.mark.parametrize("section", ["all", "host", "cpu", "memory", "disk", "network", "processes"])
def test_metrics(node, section):
    table, js = both(node, "metrics", section)
    header = {"all": "HOST", "host": "HOST", "cpu": "CPU", "memory": "MEMORY", "disk": "PATH",
              "network": "INTERFACE", "processes": "PID"}[section]
    assert table.split()[0] == header, table
    if section == "all":
        assert {"host", "cpu", "memory"} <= set(js)
    elif section == "memory":
        assert js["virtual"]["total"] > 0 and "ram" in table
    elif section == "host":
        assert js["hostname"] in table


# --- install-tool --------------------------------------------------------------

def tool_files(node):
    return sorted(os.listdir(node.tools_dir)) if node.tools_dir.exists() else []


BAD = {
    "relative binary": (lambda t: t["commands"][0].update(exec_parts=["echo", "{{.msg}}"]),
                        "absolute"),
    "undeclared template": (lambda t: t["commands"][0].update(exec_parts=["/bin/echo", "{{.nope}}"]),
                            'undeclared arg "nope"'),
    "unsupported template": (lambda t: t["commands"][0].update(exec_parts=["/bin/echo", "{{if .msg}}x{{end}}"]),
                             "unsupported template"),
    "bad pattern": (lambda t: t["commands"][0]["args"][0].update(pattern="^([a-z+$"),
                    "pattern does not compile"),
    "duplicate command": (lambda t: t["commands"].append(dict(t["commands"][1])),
                          'command "nap" is declared twice'),
    "missing binary": (lambda t: t["commands"][0].update(exec_parts=["/nonexistent/bin", "x"]),
                       "does not exist"),
    "empty acl_cap": (lambda t: t["commands"][0].update(acl_cap=""), "acl_cap"),
    "zero timeout": (lambda t: t["commands"][0].update(timeout=0), "timeout"),
    "empty version": (lambda t: t.update(version=""), "version"),
    "bad name": (lambda t: t.update(name="../evil"), "must match"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_install_tool_refuses_invalid(node, tmp_path, case):
    mutate, message = BAD[case]
    t = json.loads(json.dumps(TOOL))
    mutate(t)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(t))
    before = tool_files(node)
    p = run(node, "install-tool", str(f))
    assert p.returncode == EXIT["local"] and message in p.stderr and "nothing was written" in p.stderr, (case, p)
    assert tool_files(node) == before


def test_install_tool_writes_atomically_and_uninstalls(node, tmp_path):
    f = tmp_path / "t.json"
    f.write_text(json.dumps(TOOL, indent=2))
    p = ok(run(node, "install-tool", str(f), glob=("--json",)))
    assert json.loads(p.stdout)["name"] == "ctldemo"
    dest = node.tools_dir / "ctldemo.json"
    assert dest.read_text() == f.read_text() and (dest.stat().st_mode & 0o777) == 0o644
    assert not [n for n in tool_files(node) if n.startswith(".tailkit-tmp-")]
    assert "removed" in ok(run(node, "uninstall-tool", "ctldemo")).stdout
    assert not dest.exists()
    assert "not installed" in ok(run(node, "uninstall-tool", "ctldemo")).stdout


def test_install_tool_json_is_valid_for_any_path(node, tmp_path):
    """--json output is built with json-c: a --dir with a quote, a backslash,
    a newline and a tab still gives JSON that names it exactly."""
    f = tmp_path / "t.json"
    f.write_text(json.dumps(TOOL))
    odd = tmp_path / 'we"ird\\dir\nwith\ttabs'
    p = ok(run(node, "install-tool", "--dir", str(odd), str(f), glob=("--json",)))
    js = json.loads(p.stdout)
    assert js == {"installed": f"{odd}/ctldemo.json", "name": "ctldemo", "commands": 3}, p.stdout
    assert (odd / "ctldemo.json").read_text() == f.read_text()
    js = json.loads(ok(run(node, "uninstall-tool", "--dir", str(odd), "ctldemo", glob=("--json",))).stdout)
    assert js == {"removed": True, "path": f"{odd}/ctldemo.json"}
    js = json.loads(ok(run(node, "uninstall-tool", "--dir", str(odd), "ctldemo", glob=("--json",))).stdout)
    assert js == {"removed": False, "path": f"{odd}/ctldemo.json"}


def test_vars_delete_json(node):
    ok(run(node, "vars", "set", "myapp", "ctljs", "K", "v"))
    assert json.loads(ok(run(node, "vars", "delete", "myapp", "ctljs", "K", glob=("--json",))).stdout) == \
        {"deleted": True}
    assert json.loads(ok(run(node, "vars", "delete", "myapp", "ctljs", glob=("--json",))).stdout) == \
        {"deleted": True}


# --- exec and jobs (transient scopes: the real systemd) -------------------------

@system_only
def test_install_tool_then_exec_runs_at_once(node, installed):
    out = ok(run(node, "exec", "ctldemo", "say", "msg=hello there", "--wait")).stdout
    assert out == "said: hello there\n"
    js = json.loads(ok(run(node, "exec", "ctldemo", "say", "msg=hi", "--wait", glob=("--json",))).stdout)
    assert js["status"] == "completed" and js["stdout"] == "said: hi\n" and js["exit_code"] == 0
    p = run(node, "exec", "ctldemo", "say", "msg=NO CAPS")
    assert p.returncode == EXIT["http"] and "msg" in p.stderr
    p = run(node, "exec", "ctldemo", "fail", "--wait")
    assert p.returncode == EXIT["job_failed"] and "oops" in p.stderr and "exit code 3" in p.stderr


@system_only
def test_job_show_wait_cancel(node, installed):
    out = ok(run(node, "exec", "ctldemo", "say", "msg=later")).stdout
    job_id = out.split()[1]
    assert len(job_id) == 26 and "accepted" in out
    js = json.loads(ok(run(node, "job", job_id, "--wait", glob=("--json",))).stdout)
    assert js["status"] == "completed"
    table, js = both(node, "job", job_id)
    assert js["job_id"] == job_id and "completed" in table and "said: later" in table
    js = json.loads(ok(run(node, "exec", "ctldemo", "nap", glob=("--json",))).stdout)
    nap = js["job_id"]
    wait_for(lambda: json.loads(ok(run(node, "job", nap, glob=("--json",))).stdout)["status"] == "running",
             what="nap running")
    assert "cancelling" in ok(run(node, "job", nap, "--cancel")).stdout
    p = run(node, "job", nap, "--wait")
    assert p.returncode == EXIT["job_failed"]
    assert run(node, "job", "01JZZZZZZZZZZZZZZZZZZZZZZZ").returncode == EXIT["not_found"]


# --- files ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def ctl_files(node):
    base = Path("/srv/tkctl") if MODE == "system" else node.workdir / "ctlfiles"
    toml = node.config_dir / "files.toml"
    saved = toml.read_text() if toml.exists() else None
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    (base / "hello.txt").write_text("hello\n")
    (base / "sub").mkdir()
    toml.write_text(f'[["{base}/"]]\nread = true\nwrite = true\n')

    def reload():
        if MODE == "system":
            subprocess.run(["systemctl", "daemon-reload"], check=True)
            subprocess.run(["systemctl", "stop", "tailkitd@files.service"], check=True)
    reload()
    yield base
    if saved is not None:
        toml.write_text(saved)
    else:
        toml.unlink()
    shutil.rmtree(base, ignore_errors=True)
    reload()


def test_files_send_get_ls(node, ctl_files, tmp_path):
    src = tmp_path / "up.bin"
    src.write_bytes(bytes(range(256)) * 40)
    out = ok(run(node, "files", "send", str(src), f"{ctl_files}/sub/up.bin")).stdout
    assert f"{ctl_files}/sub/up.bin: 10240 bytes written" in out
    js = json.loads(ok(run(node, "files", "send", str(src), f"{ctl_files}/up2.bin", glob=("--json",))).stdout)
    assert js["bytes_written"] == 10240
    assert (ctl_files / "sub/up.bin").read_bytes() == src.read_bytes()
    dest = tmp_path / "down.bin"
    ok(run(node, "files", "get", f"{ctl_files}/sub/up.bin", str(dest)))
    assert dest.read_bytes() == src.read_bytes() and not list(tmp_path.glob("*.tailkitctl-part"))
    assert ok(run(node, "files", "get", f"{ctl_files}/hello.txt")).stdout == "hello\n"
    js = json.loads(ok(run(node, "files", "get", f"{ctl_files}/hello.txt", glob=("--json",))).stdout)
    assert js["content"] == "hello\n"
    table, js = both(node, "files", "ls", f"{ctl_files}/")
    names = {e["name"] for e in js}
    assert {"hello.txt", "sub", "up2.bin"} <= names and "sub/" in table and "hello.txt" in table
    p = run(node, "files", "get", f"{ctl_files}/missing")
    assert p.returncode == EXIT["not_found"]
    p = run(node, "files", "get", "/etc/shadow")
    assert p.returncode == EXIT["forbidden"]


def test_files_send_progress_bar_on_tty_only(node, ctl_files, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(200 * 1024 * 1024)
    args = [str(CTL), "--node", f"{node.host}:{node.port}", "--source", USER,
            "files", "send", str(big), f"{ctl_files}/big.bin"]
    env = dict(os.environ, TAILKITD_CONFIG_DIR=str(node.config_dir), TERM="dumb")
    start = time.monotonic()
    piped = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    piped_s = time.monotonic() - start
    assert piped.returncode == 0, piped
    assert "\r" not in piped.stderr and "[" not in piped.stderr and piped.stderr == "", piped.stderr
    (ctl_files / "big.bin").unlink()     # room for the second copy on a small disk
    # Under a pseudo-terminal (script(1)): a bar that reaches 100 %.
    cmd = " ".join(f"'{a}'" for a in args)
    tty = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, env=env, timeout=300)
    assert tty.returncode == 0, tty
    out = tty.stdout.decode()     # bytes: text mode would turn the \r into \n
    assert "\r" in out and "100%" in out and "200.0 MiB / 200.0 MiB" in out, out[-500:]
    assert "#" * 30 in out
    assert (ctl_files / "big.bin").stat().st_size == 200 * 1024 * 1024
    (ctl_files / "big.bin").unlink()
    print(f"200 MiB send, piped: {piped_s:.2f} s")


# --- systemd units and the journal ---------------------------------------------

@system_only
def test_units_every_form(node):
    table, js = both(node, "units")
    assert any(u["Name"] == "tailkitd.socket" for u in js)
    assert "tailkitd.socket" in table and table.split()[:2] == ["UNIT", "LOAD"]
    table, js = both(node, "units", "status", "tailkitd.socket")
    assert js and "ActiveState" in table
    table, js = both(node, "units", "file", "tailkitd.socket")
    assert "[Socket]" in js["content"] and table.startswith("# ") and "[Socket]" in table
    subprocess.run(["systemctl", "stop", "systemd-journal-flush.service"], capture_output=True)
    name = "ctl-test-dummy.service"
    Path(f"/run/systemd/system/{name}").write_text(
        "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/echo ctl-dummy-ran\n")
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    try:
        out = ok(run(node, "units", "start", name, "--wait")).stdout
        assert subprocess.run(["systemctl", "is-active", name], capture_output=True, text=True).stdout.strip() == "active"
        js = json.loads(ok(run(node, "units", "restart", name, "--wait", glob=("--json",))).stdout)
        assert js["status"] == "completed"
        js = json.loads(ok(run(node, "units", "stop", name, glob=("--json",))).stdout)
        assert js["job_id"]
        ok(run(node, "job", js["job_id"], "--wait"))
        table = ok(run(node, "journal", name, "-n", "5")).stdout
        assert "ctl-dummy-ran" in table
        js = json.loads(ok(run(node, "journal", name, "-n", "5", glob=("--json",))).stdout)
        assert any("ctl-dummy-ran" in e["Fields"].get("MESSAGE", "") for e in js)
        js = json.loads(ok(run(node, "journal", "-n", "3", "-p", "info", glob=("--json",))).stdout)
        assert 1 <= len(js) <= 3
    finally:
        subprocess.run(["systemctl", "stop", name], capture_output=True)
        Path(f"/run/systemd/system/{name}").unlink()
        subprocess.run(["systemctl", "daemon-reload"], check=True)


@system_only
def test_journal_follow(node):
    tag = f"ctl-follow-{os.getpid()}"
    proc = subprocess.Popen([str(CTL), "--node", f"{node.host}:{node.port}", "--source", USER,
                             "journal", "-n", "1", "-f"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        subprocess.run(["logger", "-t", "ctltest", tag], check=True)
        seen = []

        def reader():
            for line in proc.stdout:
                seen.append(line)
                if tag in line:
                    return
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(15)
        assert any(tag in l and "ctltest" in l for l in seen), seen[-5:]
    finally:
        proc.terminate()
        proc.wait(5)


# --- docker (when its worker is installed) --------------------------------------

def test_docker_answers_or_names_the_integration(node):
    p = run(node, "docker", "ps")
    if p.returncode == 0:
        assert p.stdout.split()[:2] == ["Id", "Names"]
        js = json.loads(ok(run(node, "docker", "ps", glob=("--json",))).stdout)
        assert isinstance(js, list)
    else:
        # No docker worker or no docker.toml here: a 503 whose hint says which.
        assert p.returncode == EXIT["unavailable"] and "hint:" in p.stderr, p


# --- docker against a real Engine ------------------------------------------------
# test_docker.py's dockerd (private on the host, docker.service in the
# container) and its docker.toml fixture, not a copy of them.

from test_docker import IMAGE, docker, dockerd_usable, engine  # noqa: E402,F401 (fixtures)

needs_dockerd = pytest.mark.skipif(not dockerd_usable(),
                                   reason="needs dockerd, the docker CLI and busybox-static (scripts/install-deps.sh)")


def rows(table):
    header, *rest = table.splitlines()
    return header.split(), rest


def fields(table):
    """A FIELD VALUE table as a dict (empty values too)."""
    header, lines = rows(table)
    assert header == ["FIELD", "VALUE"], table
    return {k: v.strip() for k, _, v in (l.partition(" ") for l in lines)}


@needs_dockerd
def test_docker_containers_inspect_logs_stats(node, docker):
    cid = docker.run("tk-ctl", "sh", "-c", "echo ctl-out; echo ctl-err >&2; trap 'exit 0' TERM; sleep 1000 & wait")
    stopped = docker.cli("create", "--network", "none", "--name", "tk-ctl-created", IMAGE, "true")
    wait_for(lambda: docker.logs("tk-ctl").count("\n") == 2, what="the container's output")
    for verb in ("ps", "containers"):
        table, js = both(node, "docker", verb)
        assert {cid, stopped} <= {c["Id"] for c in js}
        header, lines = rows(table)
        assert header == ["Id", "Names", "Image", "State", "Status"], table
        row = next(l for l in lines if l.startswith(cid[:12])).split()
        assert row[1:4] == ["tk-ctl", IMAGE, "running"], row
        row = next(l for l in lines if l.startswith(stopped[:12])).split()
        assert row[1:4] == ["tk-ctl-created", IMAGE, "created"], row

    table, js = both(node, "docker", "inspect", "tk-ctl")
    assert js["Id"] == cid == docker.inspect("tk-ctl")["Id"] and js["State"]["Running"] is True
    f = fields(table)
    assert f["Id"] == cid and f["Name"] == "/tk-ctl" and f["Path"] == "sh" and "AppArmorProfile" in f, f

    table, js = both(node, "docker", "logs", "tk-ctl")
    assert sorted(table.splitlines()) == ["ctl-err", "ctl-out"] and js == {"logs": table}
    assert ok(run(node, "docker", "logs", "tk-ctl", "-n", "1")).stdout == table.splitlines(True)[-1]

    table, js = both(node, "docker", "stats", "tk-ctl", timeout=60)
    assert js["id"] == cid and js["name"] == "/tk-ctl" and "memory_stats" in js
    f = fields(table)
    assert f["id"] == cid and f["name"] == "/tk-ctl", f

    p = run(node, "docker", "inspect", "tk-ctl-nosuch")
    assert p.returncode == EXIT["not_found"] and "No such container: tk-ctl-nosuch" in p.stderr, p
    docker.cli("rm", "-f", "tk-ctl", "tk-ctl-created")


@needs_dockerd
def test_docker_images(node, docker):
    table, js = both(node, "docker", "images")
    image = next(i for i in js if f"{IMAGE}:latest" in (i.get("RepoTags") or []))
    assert image["Id"] == docker.inspect(IMAGE)["Id"]
    header, lines = rows(table)
    assert header == ["Id", "RepoTags", "Size"], table
    row = next(l for l in lines if l.startswith(image["Id"].removeprefix("sha256:")[:12])).split()
    assert row[1] == f"{IMAGE}:latest" and row[3] in ("KiB", "MiB"), row


def running(docker, name):
    return docker.inspect(name)["State"]["Running"]


@needs_dockerd
def test_docker_stop_start_are_jobs(node, docker):
    docker.run("tk-ctl-life")
    # Accepted, not waited for: the job id (the Engine does the rest).
    out = ok(run(node, "docker", "stop", "tk-ctl-life")).stdout
    assert out.startswith("job ") and out.endswith(" accepted\n") and len(out.split()[1]) == 26, out
    wait_for(lambda: not running(docker, "tk-ctl-life"), what="the container to stop")
    js = json.loads(ok(run(node, "docker", "start", "tk-ctl-life", glob=("--json",))).stdout)
    assert js["status"] == "accepted" and len(js["job_id"]) == 26, js
    wait_for(lambda: running(docker, "tk-ctl-life"), what="the container to start")
    for action in ("start", "stop", "restart"):
        p = run(node, "docker", action, "tk-ctl-none", "--wait")
        assert p.returncode == EXIT["not_found"] and "No such container" in p.stderr, (action, p)
    docker.cli("rm", "-f", "tk-ctl-life")


@system_only
@needs_dockerd
def test_docker_stop_start_wait(node, docker):
    """--wait polls the job (served by the exec worker) to its end."""
    docker.run("tk-ctl-wait")
    out = ok(run(node, "docker", "stop", "tk-ctl-wait", "--wait")).stdout
    assert out == "stop tk-ctl-wait: done\n", out
    assert not running(docker, "tk-ctl-wait")
    js = json.loads(ok(run(node, "docker", "start", "tk-ctl-wait", "--wait", glob=("--json",))).stdout)
    assert js["status"] == "completed" and js["tool"] == "docker" and js["command"] == "start", js
    assert js["stdout"] == "start tk-ctl-wait: done\n" and running(docker, "tk-ctl-wait")
    # Already running: the Engine's 304, a job that completed doing nothing.
    out = ok(run(node, "docker", "start", "tk-ctl-wait", "--wait")).stdout
    assert "already in that state" in out, out
    js = json.loads(ok(run(node, "docker", "restart", "tk-ctl-wait", "--wait", glob=("--json",))).stdout)
    assert js["status"] == "completed" and running(docker, "tk-ctl-wait"), js
    table, js = both(node, "job", js["job_id"])
    assert js["command"] == "restart" and "completed" in table
    docker.cli("rm", "-f", "tk-ctl-wait")


# --- fleet -----------------------------------------------------------------------

class Forwarder:
    """alpha and beta (127.0.0.1:PORT in status-fleet.json) are the tailkitd
    under test: connections are relayed from the caller's own source address,
    so tailkitd resolves the same peer."""

    def __init__(self, node, port):
        self.node = node
        self.sock = socket.create_server(("127.0.0.1", port))
        self.stop = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop:
            try:
                conn, (peer, _) = self.sock.accept()
            except OSError:
                return
            up = socket.create_connection((self.node.host, self.node.port), source_address=(peer, 0))
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.fixture
def fleet(node, fake):
    port = free_port()
    fake.set_mode("normal", status="status-fleet.json")
    fwd = Forwarder(node, port)
    hang = socket.create_server(("127.0.0.30", port), backlog=64)   # gamma: accepts, never answers
    yield port
    hang.close()
    fwd.close()


def test_all_two_results_one_error_bounded_by_timeout(node, fleet):
    start = time.monotonic()
    p = run(node, "health", glob=("--all", "--port", str(fleet), "--timeout", "2"))
    elapsed = time.monotonic() - start
    lines = p.stdout.splitlines()
    assert p.returncode == EXIT["fleet"], p
    assert [l.split(":")[0] for l in lines if ": ok " in l] == ["tailkitd-alpha", "tailkitd-beta"], lines
    errors = [l for l in lines if l.startswith("tailkitd-gamma: error:")]
    assert len(errors) == 1 and "imed out" in errors[0], lines
    assert not any(l.startswith(("tailkitd-delta", "laptop")) for l in lines)   # offline / no tailkitd
    assert "skipped 1 peer" in p.stderr and "laptop" in p.stderr
    assert elapsed < 2 + 1.5, elapsed
    print(f"--all with a hung node, --timeout 2: {elapsed:.2f} s")


def test_all_json_and_selection(node, fleet):
    glob = ("--all", "--port", str(fleet), "--timeout", "2", "--json")
    p = run(node, "metrics", "memory", glob=glob)
    results = [json.loads(l) for l in p.stdout.splitlines()]
    assert p.returncode == EXIT["fleet"]
    assert [(r["node"], r["ok"]) for r in results] == [
        ("tailkitd-alpha", True), ("tailkitd-beta", True), ("tailkitd-gamma", False)]
    assert results[0]["result"]["virtual"]["total"] > 0 and results[2]["exit_code"] == EXIT["unreachable"]
    p = run(node, "health", glob=glob + ("--tag", "tag:db"))
    assert p.returncode == 0 and [json.loads(l)["node"] for l in p.stdout.splitlines()] == ["tailkitd-beta"]
    p = run(node, "health", glob=("--all", "--port", str(fleet), "--match", "*-alpha"))
    assert p.returncode == 0 and p.stdout.startswith("tailkitd-alpha: ok"), p
    table, js = both(node, "peers")
    assert [x["name"] for x in js] == ["laptop", "tailkitd-alpha", "tailkitd-beta", "tailkitd-delta", "tailkitd-gamma"]
    assert "tag:web" in table


def test_sd_prints_prometheus_service_discovery(node, fleet):
    """`tailkitctl sd`: the online peers as Prometheus file/HTTP SD JSON, one
    target group each, with the metrics path and tailnet labels."""
    p = ok(run(node, "sd", glob=("--port", "9999")))
    groups = json.loads(p.stdout)
    by_name = {g["labels"]["tailnet_hostname"]: g for g in groups}
    assert "tailkitd-delta" not in by_name          # offline
    assert {"tailkitd-alpha", "tailkitd-beta", "tailkitd-gamma"} <= set(by_name), by_name
    for g in groups:
        assert set(g) == {"targets", "labels"} and len(g["targets"]) == 1, g
        host, _, port = g["targets"][0].rpartition(":")
        assert port == "9999" and host, g
        assert g["labels"]["__metrics_path__"] == "/integrations/metrics/prometheus"
        tags = g["labels"]["tailnet_tags"]
        assert tags == "" or (tags.startswith(",") and tags.endswith(",")), tags
    assert ",tag:web," in by_name["tailkitd-alpha"]["labels"]["tailnet_tags"]
    beta = json.loads(ok(run(node, "sd", glob=("--tag", "tag:db"))).stdout)
    assert [g["labels"]["tailnet_hostname"] for g in beta] == ["tailkitd-beta"]
    assert beta[0]["targets"][0].endswith(":80")
    alpha = json.loads(ok(run(node, "sd", glob=("--match", "*-alpha"))).stdout)
    assert [g["labels"]["tailnet_hostname"] for g in alpha] == ["tailkitd-alpha"]


def test_node_by_tailnet_name(node, fleet):
    # --node NAME is looked up in the peer list (HostName or tailkitd-NAME).
    p = ok(run(node, "health", node_spec=f"alpha:{fleet}"))
    assert p.stdout.startswith("ok ")


# --- man pages and completion ------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.mark.skipif(not (REPO / "man").is_dir(), reason="needs the source tree")
@pytest.mark.parametrize("page", ["tailkitd.8", "tailkitd.conf.5", "tailkitctl.1"])
def test_man_page_renders_without_warnings(page):
    src = REPO / "man" / page
    p = subprocess.run(["groff", "-ww", "-man", "-z", str(src)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    p = subprocess.run(["man", "--warnings", "-l", str(src)], capture_output=True, text=True,
                       env=dict(os.environ, MANPAGER="cat", MANWIDTH="80"))
    assert p.returncode == 0 and p.stderr == "" and "NAME" in p.stdout, p.stderr


@pytest.mark.skipif(not (REPO / "completion").is_dir(), reason="needs the source tree")
def test_bash_completion():
    script = (f"source {REPO}/completion/tailkitctl.bash; "
              "COMP_WORDS=(tailkitctl --json docker compose u); COMP_CWORD=4; _tailkitctl; echo ${COMPREPLY[@]}; "
              "COMP_WORDS=(tailkitctl me); COMP_CWORD=1; _tailkitctl; echo ${COMPREPLY[@]}")
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.splitlines()
    assert out == ["up", "metrics"], out


# --- the optional tailscaled for tailkitd ------------------------------------------

@system_only
def test_tailscaled_unit_verifies_and_is_disabled(tmp_path):
    """tailscaled is not in Debian: stand-ins at its paths let
    systemd-analyze check everything else; the unit is never started."""
    stubs = [Path("/usr/sbin/tailscaled"), Path("/usr/bin/tailscale")]
    made = [s for s in stubs if not s.exists()]
    for s in made:
        s.write_text("#!/bin/sh\nexit 0\n")
        s.chmod(0o755)
    try:
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", "tailkitd-tailscaled.service"],
                           capture_output=True, text=True)
        assert p.returncode == 0 and p.stderr.strip() == "", p
        state = subprocess.run(["systemctl", "is-enabled", "tailkitd-tailscaled.service"],
                               capture_output=True, text=True).stdout.strip()
        assert state == "disabled", state
        assert Path("/usr/share/doc/tailkitd/tailkitd-tailscaled/listen-loopback.conf").exists()
    finally:
        for s in made:
            s.unlink()


@needs_dockerd
def test_docker_networks_volumes_info_rm_rmi_compose(node, docker):
    """The remaining read and delete subcommands against the real Engine, in
    table and --json modes, agreeing with the docker CLI."""
    docker.cli("volume", "create", "tk-ctl-vol")
    table, js = both(node, "docker", "networks")
    assert {n["Name"] for n in js} >= {"none", "host"}, js
    assert "none" in table
    table, js = both(node, "docker", "volumes")
    names = {v["Name"] for v in js["Volumes"] or []}
    assert "tk-ctl-vol" in names and "tk-ctl-vol" in table, js
    table, js = both(node, "docker", "info")
    assert js["ID"] == json.loads(docker.cli("info", "--format", "{{json .}}"))["ID"]
    assert js["ID"] in table

    docker.cli("create", "--network", "none", "--name", "tk-ctl-rm", IMAGE, "true")
    ok(run(node, "docker", "rm", "tk-ctl-rm"))
    assert docker.cli("ps", "-aq", "--filter", "name=^tk-ctl-rm$") == ""
    p = run(node, "docker", "rm", "tk-ctl-rm")
    assert p.returncode == EXIT["not_found"], p

    docker.cli("tag", IMAGE, "tk-ctl-tag:1")
    ok(run(node, "docker", "rmi", "tk-ctl-tag:1"))
    assert docker.cli("images", "-q", "tk-ctl-tag:1") == ""
    assert docker.inspect(IMAGE)["Id"]          # the tagged image itself stays

    table, js = both(node, "docker", "compose", "ls")
    assert isinstance(js, list), js
    docker.cli("volume", "rm", "tk-ctl-vol")


@needs_dockerd
def test_docker_pull_waits_for_the_job(node, docker):
    """`docker pull` through tailkitctl from a registry on loopback: the job
    pulls the image (waited for on the system layer, where exec serves it)."""
    from test_docker import Registry
    saved = subprocess.run([docker.cli_path, "-H", f"unix://{docker.sock}", "save", IMAGE], capture_output=True,
                           check=True, timeout=60).stdout
    registry = Registry(saved, "tk/ctlpull", "1")
    ref = f"127.0.0.1:{registry.port}/tk/ctlpull:1"
    try:
        docker.cli("rmi", ref, check=False)
        if MODE == "system":
            js = json.loads(ok(run(node, "docker", "pull", ref, "--wait", glob=("--json",), timeout=120)).stdout)
            assert js["status"] == "completed" and js["command"] == "pull", js
        else:
            out = ok(run(node, "docker", "pull", ref)).stdout
            assert out.startswith("job ") and out.endswith(" accepted\n"), out
        wait_for(lambda: docker.cli("images", "-q", ref), timeout=60, what="the pulled image")
    finally:
        registry.close()
        docker.cli("rmi", ref, check=False)


@system_only
@needs_dockerd
def test_docker_compose_and_swarm_through_tailkitctl(node, docker):
    from test_docker import COMPOSE_YML
    d = Path("/srv/tk-ctl-compose")
    d.mkdir(parents=True, exist_ok=True)
    (d / "compose.yml").write_text(COMPOSE_YML)
    ok(run(node, "docker", "compose", "up", "tkctl", "-f", str(d / "compose.yml"), "--wait", timeout=120))
    table, js = both(node, "docker", "compose", "ls")
    assert "tkctl" in {p["name"] for p in js} and "tkctl" in table, js
    js = json.loads(ok(run(node, "docker", "compose", "show", "tkctl", glob=("--json",))).stdout)
    assert len(js["containers"]) == 1, js
    ok(run(node, "docker", "compose", "down", "tkctl", "--wait", timeout=120))
    assert docker.cli("ps", "-aq", "--filter", "label=com.docker.compose.project=tkctl") == ""

    # Not a swarm member: the Engine's 503 and message, exit code "unavailable".
    p = run(node, "docker", "swarm", "info")
    assert p.returncode == EXIT["unavailable"] and "swarm" in p.stderr.lower(), p
    docker.cli("swarm", "init", "--advertise-addr", "127.0.0.1")
    try:
        js = json.loads(ok(run(node, "docker", "swarm", "info", glob=("--json",))).stdout)
        assert js["ID"] == docker.api_json("/swarm")["ID"]
        table, js = both(node, "docker", "swarm", "nodes")
        assert [n["ID"] for n in js] == [n["ID"] for n in docker.api_json("/nodes")]
        ok(run(node, "docker", "swarm", "services"))
        ok(run(node, "docker", "swarm", "tasks"))
    finally:
        docker.cli("swarm", "leave", "--force", check=False)
