"""The systemd worker (/integrations/systemd): units over sd-bus and the
journal over sd-journal, under caps and systemd.toml.

On the host there is no systemd as PID 1 and no system bus: the unit
endpoints answer 503 with a hint, the journal endpoints read the host's
(empty) journal, and every parameter check is exercised there. Under the
real systemd (system layer) the acceptance tests create test units and
compare with systemctl and journalctl."""

import json
import socket
import struct
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import MODE, NOCAPS, READONLY, STRANGER, SYSTEMD_TOML, USER, host_only, system_only, wait_for

BASE = "/integrations/systemd"
UNIT_KEYS = ["Name", "Description", "LoadState", "ActiveState", "SubState", "Followed", "Path", "JobId",
             "JobType", "JobPath"]
ENTRY_KEYS = ["Fields", "Cursor", "RealtimeTimestamp", "MonotonicTimestamp"]


@pytest.fixture
def systemd_toml(node):
    """Rewrites systemd.toml for one test (read per request), restored after."""
    path = node.config_dir / "integrations" / "systemd.toml"

    def write(text):
        path.write_text(text)
    yield write
    path.write_text(SYSTEMD_TOML)


def toml(units="read = true\nwrite = true", journal='enabled = true\nlines = 5000\npriority = "info"'):
    return f"[units]\n{units}\n\n[journal]\n{journal}\n"


# --- everywhere -------------------------------------------------------------

def test_available(node):
    r = node.get(f"{BASE}/available")
    assert r.status == 200
    assert r.json() == {"available": MODE == "system"}


def test_available_false_and_503_without_config(node, systemd_toml):
    (node.config_dir / "integrations" / "systemd.toml").unlink()
    r = node.get(f"{BASE}/available")
    assert r.status == 200 and r.json() == {"available": False}
    for path in ("/units", "/journal", "/units/ssh.service/journal"):
        r = node.get(BASE + path)
        assert r.status == 503, path
        assert "systemd.toml" in r.json()["hint"]


def test_invalid_config_503_names_the_error(node, systemd_toml):
    systemd_toml("[journal]\nlines = 0\n")
    r = node.get(f"{BASE}/journal")
    assert r.status == 503
    assert "'lines' must be between 1 and 10000" in r.json()["hint"]


@host_only
def test_unit_endpoints_503_with_hint_when_the_bus_is_unreachable(node):
    for method, path in (("GET", "/units"), ("GET", "/units/ssh.service"), ("GET", "/units/ssh.service/file"),
                         ("POST", "/units/ssh.service/start"), ("POST", "/units/ssh.service/enable")):
        r = node.request(method, BASE + path)
        assert r.status == 503, (method, path, r)
        body = r.json()
        assert body["error"] == "systemd D-Bus connection unavailable"
        assert "system bus" in body["hint"] and "next request" in body["hint"]


def test_stranger_401(node):
    assert node.get(f"{BASE}/journal", src=STRANGER).status == 401


def test_nocaps_learns_nothing(node):
    # The same answer for a unit that exists, one that does not, and the list.
    answers = {node.get(BASE + p, src=NOCAPS).body for p in (
        "/journal", "/units/tkd-nonexistent.service/journal", "/units/ssh.service/journal")}
    for p in ("/journal", "/units/tkd-nonexistent.service/journal"):
        r = node.get(BASE + p, src=NOCAPS)
        assert r.status == 403
    assert len(answers) == 1
    if MODE == "system":
        for p in ("/units", "/units/tailkitd.socket", "/units/tkd-nonexistent.service"):
            r = node.get(BASE + p, src=NOCAPS)
            assert r.status == 403 and r.body in answers


def test_readonly_cap_cannot_post(node):
    for action in ("start", "stop", "restart", "reload", "enable", "disable"):
        r = node.request("POST", f"{BASE}/units/tkd-nonexistent.service/{action}", src=READONLY)
        if MODE == "host":
            assert r.status == 503     # no bus: availability comes first (SPEC §1.2)
        else:
            assert r.status == 403, action
            assert "tailkitd-systemd write" in r.json()["error"]


def test_journal_shape_and_order(node):
    r = node.get(f"{BASE}/journal?lines=20")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    entries = r.json()
    assert isinstance(entries, list) and len(entries) <= 20
    for e in entries:
        assert list(e) == ENTRY_KEYS
        assert e["Fields"]["__CURSOR"] == e["Cursor"]
        assert int(e["Fields"]["__REALTIME_TIMESTAMP"]) == e["RealtimeTimestamp"]
    stamps = [e["RealtimeTimestamp"] for e in entries]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("query, what", [
    ("lines=5001", "above this node's limit of 5000"),
    ("lines=0", "'lines'"),
    ("lines=-1", "'lines'"),
    ("lines=1e3", "'lines'"),
    ("lines=99999999999999999999", "'lines'"),
    ("priority=verbose", "'priority'"),
    ("priority=8", "'priority'"),
    ("cursor=not%20a%20cursor", "'cursor'"),
    ("cursor=" + "s" * 600, "'cursor'"),
    ("since=yesterday", "'since'"),
    ("since=2024-13-01T00:00:00Z", "'since'"),
    ("until=2024-01-01T00:00:00", "'until'"),
    ("since=@2000&until=@1000", "'since' is after 'until'"),
    ("follow=yes", "'follow'"),
    ("follow=1&timeout=0", "'timeout'"),
    ("follow=1&timeout=301", "'timeout'"),
    ("timeout=5", "'timeout'"),
    ("follow=1&until=@1000", "'follow'"),
])
def test_journal_parameters_bounded(node, query, what):
    for path in ("/journal", "/units/ssh.service/journal"):
        r = node.get(f"{BASE}{path}?{query}")
        assert r.status == 400, (path, query, r)
        assert what in r.json()["error"]


def test_lines_cap_follows_the_config(node, systemd_toml):
    systemd_toml(toml(journal="enabled = true\nlines = 50"))
    assert node.get(f"{BASE}/journal?lines=51").status == 400
    assert node.get(f"{BASE}/journal?lines=50").status == 200


@pytest.mark.parametrize("name", [
    "foo;rm", "foo%3Brm", "a" * 300, "a" * 250 + ".service", "foo%20bar.service", "%24(id).service",
    "foo*.service", "@x.service", "a@b@c.service", "foo.unknowntype", "%C3%A4.service", "foo%00.service",
])
def test_invalid_unit_names_400(node, name):
    r = node.get(f"{BASE}/units/{name}/journal")
    assert r.status == 400, (name, r)
    assert r.json()["error"] == "invalid unit name"
    if MODE == "system":
        for method, suffix in (("GET", ""), ("GET", "/file"), ("POST", "/start"), ("POST", "/enable")):
            r = node.request(method, f"{BASE}/units/{name}{suffix}")
            assert r.status == 400, (method, name, suffix, r)


@pytest.mark.parametrize("path", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a/b.service"])
def test_path_like_unit_names_refused(node, path):
    r = node.get(f"{BASE}/units/{path}/journal")
    assert r.status in (400, 404), (path, r)
    if r.status == 404:
        assert r.json()["error"].startswith("no such endpoint")


def test_journal_disabled_403(node, systemd_toml):
    systemd_toml(toml(journal="enabled = false"))
    for p in ("/journal", "/units/ssh.service/journal"):
        r = node.get(BASE + p)
        assert r.status == 403 and "journal" in r.json()["error"]


def test_system_journal_refused_with_an_allow_list(node, systemd_toml):
    systemd_toml(toml(units='read = true\nallow = ["ssh.service"]'))
    r = node.get(f"{BASE}/journal")
    assert r.status == 403 and "allow" in r.json()["hint"]
    # A unit outside the list: the same 404 as any unknown unit.
    r = node.get(f"{BASE}/units/cron.service/journal")
    assert r.status == 404 and r.json()["error"] == "unit cron.service not found"
    assert node.get(f"{BASE}/units/ssh.service/journal").status == 200


def test_methods(node):
    r = node.request("DELETE", f"{BASE}/journal")
    assert r.status == 405 and "GET" in r.headers["allow"]
    r = node.request("GET", f"{BASE}/units/ssh.service/start")
    assert r.status == 405 and r.headers["allow"] == "POST"
    r = node.request("HEAD", f"{BASE}/journal?lines=3")
    assert r.status == 200 and r.body == b""


def test_follow_is_bounded_in_time(node):
    t0 = time.monotonic()
    r = node.get(f"{BASE}/journal?lines=1&follow=1&timeout=2", timeout=15)
    took = time.monotonic() - t0
    assert r.status == 200 and r.headers["content-type"] == "text/event-stream"
    assert 1.5 <= took < 8, took
    assert r.body.endswith(b"event: end\ndata: {}\n\n")


# --- under the real systemd -------------------------------------------------

def sh(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check).stdout.strip()


def show(unit, *props):
    out = sh("systemctl", "show", unit, "-p", ",".join(props))
    return dict(line.split("=", 1) for line in out.splitlines())


def wait_job(node, job_id, timeout=30):
    def done():
        r = node.get(f"/exec/jobs/{job_id}")
        assert r.status == 200, r
        j = r.json()
        return j if j["status"] in ("completed", "failed", "cancelled") else None
    return wait_for(done, timeout=timeout, interval=0.1, what=f"job {job_id}")


UNIT_DIR = Path("/etc/systemd/system")


@pytest.fixture
def make_unit():
    """Writes test units into /etc/systemd/system; removes them afterwards."""
    made = []

    def make(body, name=None):
        name = name or f"tkd-test-{uuid.uuid4().hex[:8]}.service"
        (UNIT_DIR / name).write_text(textwrap.dedent(body))
        made.append(name)
        sh("systemctl", "daemon-reload")
        return name
    yield make
    for name in made:
        sh("systemctl", "disable", "--now", name, check=False)
        (UNIT_DIR / name).unlink(missing_ok=True)
    if made:
        sh("systemctl", "daemon-reload")
        sh("systemctl", "reset-failed", check=False)


SLEEPER = """\
    [Unit]
    Description=tailkitd test sleeper

    [Service]
    ExecStart=/bin/sleep infinity
    ExecReload=/bin/true

    [Install]
    WantedBy=multi-user.target
"""


def post_job(node, unit, action):
    r = node.request("POST", f"{BASE}/units/{unit}/{action}")
    assert r.status == 202, r
    body = r.json()
    assert body["status"] == "accepted" and body["unit"] == unit
    return wait_job(node, body["job_id"])


@system_only
def test_start_stop_restart_reload_jobs(node, make_unit):
    unit = make_unit(SLEEPER)
    job = post_job(node, unit, "start")
    assert job["status"] == "completed", job
    assert job["tool"] == "systemd" and job["command"] == "start"
    assert sh("systemctl", "is-active", unit, check=False) == "active"
    pid = show(unit, "MainPID")["MainPID"]

    job = post_job(node, unit, "reload")
    assert job["status"] == "completed", job
    assert show(unit, "MainPID")["MainPID"] == pid

    job = post_job(node, unit, "restart")
    assert job["status"] == "completed", job
    assert sh("systemctl", "is-active", unit, check=False) == "active"
    assert show(unit, "MainPID")["MainPID"] != pid

    job = post_job(node, unit, "stop")
    assert job["status"] == "completed", job
    assert sh("systemctl", "is-active", unit, check=False) == "inactive"


UNIT_OPERATOR = "127.0.0.14"   # tailkitd-systemd read+write, nothing of exec
EXEC_WRITER = "127.0.0.13"     # tailkitd-exec write only


@system_only
def test_the_starter_polls_and_cancels_its_unit_jobs_with_the_systemd_cap(node, make_unit):
    """/exec/jobs serves every integration's jobs: the caller that started a
    unit job polls it with tailkitd-systemd write alone; others who may not
    see it get 404 (as for a missing job), a peer without caps 403."""
    unit = make_unit(SLEEPER)
    r = node.request("POST", f"{BASE}/units/{unit}/start", src=UNIT_OPERATOR)
    assert r.status == 202, r
    job_id = r.json()["job_id"]

    def done():
        r = node.get(f"/exec/jobs/{job_id}", src=UNIT_OPERATOR)
        assert r.status == 200, r
        return r.json() if r.json()["status"] != "running" else None
    job = wait_for(done, timeout=30, interval=0.1, what="the unit job")
    assert job["status"] == "completed" and job["tool"] == "systemd", job
    assert node.get(f"/exec/jobs/{job_id}", src=EXEC_WRITER).status == 404
    assert node.get(f"/exec/jobs/{job_id}", src=NOCAPS).status == 403
    assert node.get(f"/exec/jobs/{job_id}", src=USER).status == 200      # exec read: any job
    # Cancelling: the starter reaches the job (409: it already finished);
    # another caller with some write cap sees nothing.
    assert node.request("DELETE", f"/exec/jobs/{job_id}", src=UNIT_OPERATOR).status == 409
    assert node.request("DELETE", f"/exec/jobs/{job_id}", src=EXEC_WRITER).status == 409  # exec write: any job
    assert node.request("DELETE", f"/exec/jobs/{job_id}", src=READONLY).status == 403
    assert node.request("DELETE", f"/exec/jobs/{job_id}", src=NOCAPS).status == 403


@system_only
def test_a_unit_that_fails_to_start_makes_a_failed_job(node, make_unit):
    unit = make_unit("""\
        [Service]
        Type=oneshot
        ExecStart=/bin/false
    """)
    job = post_job(node, unit, "start")
    assert job["status"] == "failed", job
    assert job["error"] == "systemd job result: failed (unit result: exit-code)"
    assert show(unit, "Result")["Result"] == "exit-code"


@system_only
def test_reload_of_a_unit_that_cannot_reload_409(node, make_unit):
    unit = make_unit("[Service]\nExecStart=/bin/sleep infinity\n")
    assert post_job(node, unit, "start")["status"] == "completed"
    r = node.request("POST", f"{BASE}/units/{unit}/reload")
    assert r.status == 409 and "reload" in r.json()["error"].lower(), r


@system_only
def test_unit_state_matches_systemctl_show(node, make_unit):
    unit = make_unit(SLEEPER)
    assert post_job(node, unit, "start")["status"] == "completed"
    r = node.get(f"{BASE}/units/{unit}")
    assert r.status == 200
    u = r.json()
    assert list(u)[:len(UNIT_KEYS)] == UNIT_KEYS
    props = ["Id", "LoadState", "ActiveState", "SubState", "MainPID", "NRestarts", "FragmentPath",
             "UnitFileState", "Result", "ActiveEnterTimestampMonotonic", "ExecMainPID", "Description"]
    want = show(unit, *props)
    assert u["Name"] == unit
    for p in props:
        assert str(u[p]) == want[p], p
    for p in ("ActiveEnterTimestamp", "MemoryCurrent", "CPUUsageNSec", "ControlGroup", "Names"):
        assert p in u, p


@system_only
def test_unknown_and_hidden_units_404_alike(node, systemd_toml, make_unit):
    unit = make_unit(SLEEPER)
    sh("systemctl", "start", unit)
    hint = "GET /integrations/systemd/units lists the units this node exposes"
    for method, suffix in (("GET", ""), ("GET", "/file"), ("POST", "/start"), ("POST", "/enable")):
        r = node.request(method, f"{BASE}/units/tkd-nonexistent.service{suffix}")
        assert r.status == 404, (method, suffix, r)
        assert r.json() == {"error": "unit tkd-nonexistent.service not found", "hint": hint}
    systemd_toml(toml(units='read = true\nwrite = true\nallow = ["tkd-*.service"]'))
    names = [u["Name"] for u in node.get(f"{BASE}/units").json()]
    assert unit in names and all(n.startswith("tkd-") for n in names), names
    # dbus.service exists and runs: outside the list it reads as unknown.
    for method, suffix in (("GET", ""), ("GET", "/file"), ("GET", "/journal"), ("POST", "/start"),
                           ("POST", "/stop"), ("POST", "/enable"), ("POST", "/disable")):
        r = node.request(method, f"{BASE}/units/dbus.service{suffix}")
        assert r.status == 404, (method, suffix, r)
        assert r.json() == {"error": "unit dbus.service not found", "hint": hint}
    assert sh("systemctl", "is-active", "dbus.service", check=False) == "active"
    assert node.get(f"{BASE}/units/{unit}").status == 200


@system_only
def test_units_list_as_unit_status(node):
    def busctl_names():
        out = sh("busctl", "--json=short", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                 "org.freedesktop.systemd1.Manager", "ListUnits")
        return {u[0] for u in json.loads(out)["data"][0]}
    before = busctl_names()
    r = node.get(f"{BASE}/units")
    after = busctl_names()
    assert r.status == 200
    units = r.json()
    assert all(list(u) == UNIT_KEYS for u in units)
    names = {u["Name"] for u in units}
    assert before & after <= names <= before | after
    sock = next(u for u in units if u["Name"] == "tailkitd.socket")
    assert sock["ActiveState"] == "active" and sock["LoadState"] == "loaded"
    assert sock["Path"] == "/org/freedesktop/systemd1/unit/tailkitd_2esocket"


@system_only
def test_unit_file(node, make_unit):
    unit = make_unit(SLEEPER)
    r = node.get(f"{BASE}/units/{unit}/file")
    assert r.status == 200
    assert r.json() == {"unit": unit, "path": str(UNIT_DIR / unit), "content": (UNIT_DIR / unit).read_text()}
    # A name without a type means the service, as for systemctl.
    assert node.get(f"{BASE}/units/{unit[:-len('.service')]}/file").json()["unit"] == unit
    r = node.get(f"{BASE}/units/-.slice/file")
    assert r.status in (200, 404)


@system_only
def test_enable_disable_change_is_enabled(node, make_unit):
    unit = make_unit(SLEEPER)
    assert sh("systemctl", "is-enabled", unit, check=False) == "disabled"
    r = node.request("POST", f"{BASE}/units/{unit}/enable")
    assert r.status == 200, r
    body = r.json()
    assert body["unit"] == unit and body["carries_install_info"] is True
    assert body["changes"] == [{"type": "symlink", "file": f"/etc/systemd/system/multi-user.target.wants/{unit}",
                                "destination": str(UNIT_DIR / unit)}]
    assert sh("systemctl", "is-enabled", unit, check=False) == "enabled"
    r = node.request("POST", f"{BASE}/units/{unit}/disable")
    assert r.status == 200, r
    assert r.json()["changes"] == [{"type": "unlink", "file": f"/etc/systemd/system/multi-user.target.wants/{unit}",
                                    "destination": ""}]
    assert sh("systemctl", "is-enabled", unit, check=False) == "disabled"
    r = node.request("POST", f"{BASE}/units/tkd-nonexistent.service/enable")
    assert r.status == 404


@system_only
def test_readonly_cap_and_config_write_off(node, systemd_toml, make_unit):
    unit = make_unit(SLEEPER)
    assert node.get(f"{BASE}/units", src=READONLY).status == 200
    assert node.get(f"{BASE}/units/{unit}", src=READONLY).status == 200
    assert node.request("POST", f"{BASE}/units/{unit}/start", src=READONLY).status == 403
    systemd_toml(toml(units="read = true\nwrite = false"))
    r = node.request("POST", f"{BASE}/units/{unit}/start")
    assert r.status == 403 and r.json()["error"] == "units.write not enabled in systemd.toml"
    systemd_toml(toml(units="read = false\nwrite = true"))
    r = node.get(f"{BASE}/units")
    assert r.status == 403 and r.json()["error"] == "units.read not enabled in systemd.toml"
    assert sh("systemctl", "is-active", unit, check=False) == "inactive"


# A sender of native journal entries, run as a transient unit so that the
# journal attributes them to it (_SYSTEMD_UNIT).
LOGGER = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.connect("/run/systemd/journal/socket")
def send(**fields):
    buf = b""
    for k, v in fields.items():
        v = str(v).encode()
        buf += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
    s.send(buf)
mode = sys.argv[1]
if mode == "mixed":
    for i in range(500):
        send(MESSAGE=f"line {i}", PRIORITY=i % 8, TKD_SEQ=i)
elif mode == "big":
    send(MESSAGE="".join(chr(65 + i % 26) for i in range(100 * 1024)), PRIORITY=3, TKD_BIG=1)
elif mode == "follow":
    time.sleep(1.5)
    send(MESSAGE="follow marker", PRIORITY=5)
time.sleep(1)
"""


def run_logger(mode, wait=True):
    script = Path("/run/tkd-logger.py")
    script.write_text(LOGGER)
    unit = f"tkd-log-{mode}-{uuid.uuid4().hex[:6]}.service"
    args = ["systemd-run", "--quiet", f"--unit={unit}", "--collect"]
    args += ["--wait"] if wait else ["--no-block"]
    sh(*args, "/usr/bin/python3", str(script), mode)
    return unit


def journalctl(*args):
    out = sh("journalctl", "--no-pager", "-o", "json", *args)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


@pytest.fixture(scope="module")
def mixed_unit():
    if MODE != "system":
        pytest.skip("needs the real systemd")
    unit = run_logger("mixed")
    wait_for(lambda: sum("TKD_SEQ" in e for e in journalctl("-u", unit)) == 500, timeout=20,
             what="500 entries in the journal")
    return unit


@system_only
def test_journal_lines_and_priority_as_journalctl(node, mixed_unit):
    r = node.get(f"{BASE}/units/{mixed_unit}/journal?lines=100&priority=warning")
    assert r.status == 200
    got = r.json()
    want = journalctl("-u", mixed_unit, "-p", "warning", "-n", "100")
    assert len(got) == 100
    assert [e["Cursor"] for e in got] == [e["__CURSOR"] for e in want]
    seqs = [int(e["Fields"]["TKD_SEQ"]) for e in got]
    expected = [i for i in range(500) if i % 8 <= 4][-100:]
    assert seqs == expected
    assert all(int(e["Fields"]["PRIORITY"]) <= 4 for e in got)
    assert all(e["Fields"]["_SYSTEMD_UNIT"] == mixed_unit for e in got)


@system_only
def test_journal_priority_floored_at_the_config(node, mixed_unit, systemd_toml):
    got = node.get(f"{BASE}/units/{mixed_unit}/journal?lines=5000&priority=debug").json()
    assert got and all(int(e["Fields"].get("PRIORITY", 6)) <= 6 for e in got)
    assert [e["Cursor"] for e in got] == [e["__CURSOR"] for e in journalctl("-u", mixed_unit, "-p", "info")]
    systemd_toml(toml(journal='enabled = true\nlines = 5000\npriority = "err"'))
    got = node.get(f"{BASE}/units/{mixed_unit}/journal?lines=5000").json()
    assert {int(e["Fields"]["PRIORITY"]) for e in got} <= {0, 1, 2, 3}
    assert len([e for e in got if "TKD_SEQ" in e["Fields"]]) == len([i for i in range(500) if i % 8 <= 3])


@system_only
def test_journal_cursor_since_until(node, mixed_unit):
    entries = node.get(f"{BASE}/units/{mixed_unit}/journal?lines=5000").json()
    entries = [e for e in entries if "TKD_SEQ" in e["Fields"]]
    assert len(entries) > 100
    c = entries[40]["Cursor"]
    after = node.get(f"{BASE}/units/{mixed_unit}/journal?lines=10&cursor={c}").json()
    assert [e["Cursor"] for e in after] == [e["Cursor"] for e in entries[41:51]]
    t0, t1 = entries[10]["RealtimeTimestamp"], entries[20]["RealtimeTimestamp"]
    ranged = node.get(f"{BASE}/units/{mixed_unit}/journal?lines=5000&since={t0}&until={t1}").json()
    assert [e["Cursor"] for e in ranged] == [e["Cursor"] for e in entries if t0 <= e["RealtimeTimestamp"] <= t1]
    last3 = node.get(f"{BASE}/units/{mixed_unit}/journal?lines=3&until={t1}").json()
    assert [e["Cursor"] for e in last3] == [e["Cursor"] for e in entries if e["RealtimeTimestamp"] <= t1][-3:]
    r = node.get(f"{BASE}/units/{mixed_unit}/journal?cursor=s%3Dabc")
    assert r.status == 400


@system_only
def test_journal_long_field_comes_back_whole(node):
    unit = run_logger("big")
    want = "".join(chr(65 + i % 26) for i in range(100 * 1024))

    def big():
        got = node.get(f"{BASE}/units/{unit}/journal?lines=20&priority=err").json()
        return [e for e in got if e["Fields"].get("TKD_BIG") == "1"]
    entries = wait_for(big, timeout=10, what="the 100 KiB entry")
    assert entries[0]["Fields"]["MESSAGE"] == want


@system_only
def test_system_journal(node):
    got = node.get(f"{BASE}/journal?lines=50").json()
    want = journalctl("-p", "info", "-n", "50")
    # New entries may land between the two reads (the audit lines of this
    # very request): compare the overlap.
    assert len(got) == 50
    assert [e["Cursor"] for e in got][:40] == [e["__CURSOR"] for e in want][:40] or \
        set(e["Cursor"] for e in got[:40]) & set(e["__CURSOR"] for e in want)


@system_only
def test_journal_follow_streams_new_entries(node):
    unit = f"tkd-log-follow-{uuid.uuid4().hex[:6]}.service"
    events = []

    import threading

    def read():
        conn = __import__("http.client").client.HTTPConnection(node.host, node.port, timeout=20,
                                                                source_address=(USER, 0))
        conn.request("GET", f"{BASE}/units/{unit}/journal?follow=1&timeout=5&lines=10")
        resp = conn.getresponse()
        events.append(("status", resp.status, time.monotonic()))
        for line in resp:
            events.append(("line", line.decode(), time.monotonic()))
        conn.close()
    t0 = time.monotonic()
    th = threading.Thread(target=read)
    th.start()
    time.sleep(0.5)
    script = Path("/run/tkd-logger.py")
    script.write_text(LOGGER)
    sh("systemd-run", "--quiet", f"--unit={unit}", "--collect", "--no-block", "/usr/bin/python3", str(script), "follow")
    th.join(20)
    assert events and events[0][1] == 200
    data = [json.loads(l[6:]) for kind, l, _ in events if kind == "line" and l.startswith("data: {\"Fields")]
    assert any(e["Fields"].get("MESSAGE") == "follow marker" for e in data), events
    assert events[-1][1] == "\n" and any(l == "event: end\n" for _, l, _ in events)
    assert 4.5 <= events[-1][2] - t0 < 9


@system_only
def test_bus_down_503_then_reconnect(node):
    try:
        sh("systemctl", "stop", "dbus.socket", "dbus.service")
        r = node.get(f"{BASE}/units")
        assert r.status == 503, r
        assert r.json()["error"] == "systemd D-Bus connection unavailable"
        assert node.get(f"{BASE}/available").json() == {"available": False}
        # The journal does not need the bus.
        assert node.get(f"{BASE}/journal?lines=1").status == 200
    finally:
        sh("systemctl", "start", "dbus.socket", "dbus.service")
    wait_for(lambda: node.get(f"{BASE}/units").status == 200, timeout=20, what="the bus back")
    assert node.get(f"{BASE}/available").json() == {"available": True}


@system_only
def test_worker_sandbox(node):
    props = show("tailkitd@systemd.service", "User", "CapabilityBoundingSet", "ProtectSystem", "PrivateNetwork",
                 "RestrictAddressFamilies", "PrivateUsers", "ReadWritePaths", "SystemCallFilter")
    assert props["ProtectSystem"] == "strict"
    assert props["PrivateNetwork"] == "yes"
    assert props["RestrictAddressFamilies"] == "AF_UNIX"
    assert props["CapabilityBoundingSet"] == "cap_sys_admin"
    assert props["PrivateUsers"] == "no"
    assert props["ReadWritePaths"] == "/run/tailkitd/jobs"
    assert "mount" not in props["SystemCallFilter"].split() or props["SystemCallFilter"].startswith("~")
    out = sh("systemd-analyze", "security", "--no-pager", "tailkitd@systemd.service")
    exposure = float(out.splitlines()[-1].split("exposure level for tailkitd@systemd.service:")[1].split()[0])
    assert exposure <= 2.0, out.splitlines()[-1]
