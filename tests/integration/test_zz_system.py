"""Only under the real systemd: units, socket activation, idle exit to zero
processes, re-activation, the journal, and a clean stop."""

import glob
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import USER, system_only, wait_for

pytestmark = system_only

UNITS = ["tailkitd.socket", "tailkitd.service", "tailkitd@.socket", "tailkitd@.service",
         "tailkitd.slice", "tailkitd-jobs.slice"]


def run(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check)


def main_pid(unit):
    return int(run("systemctl", "show", "-P", "MainPID", unit).stdout.strip())


def test_units_verify_clean():
    # Templates are verified through the instance we ship.
    units = [u.replace("@.", "@tools.") for u in UNITS]
    r = run("systemd-analyze", "verify", *units, check=False)
    lines = [l for l in (r.stdout + r.stderr).splitlines() if "tailkitd" in l]
    assert r.returncode == 0 and not lines, r.stdout + r.stderr


@pytest.mark.parametrize("unit", ["tailkitd.service", "tailkitd@tools.service"])
def test_security_exposure_is_ok(unit):
    out = run("systemd-analyze", "security", "--no-pager", unit, check=False).stdout
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
    assert m, out[-2000:]
    print(f"{unit}: exposure {m.group(1)}")
    assert float(m.group(1)) <= 2.0, out


@pytest.fixture
def short_idle():
    """idle_timeout = 2 for the processes started during the test."""
    conf = Path("/etc/tailkitd/tailkitd.conf")
    saved = conf.read_text()
    conf.write_text(saved.replace("idle_timeout = 60", "idle_timeout = 2"))
    run("systemctl", "stop", "tailkitd.service", "tailkitd@*.service")
    yield
    conf.write_text(saved)
    run("systemctl", "stop", "tailkitd.service", "tailkitd@*.service")


def test_socket_activation_idle_exit_and_reactivation(node, short_idle):
    assert main_pid("tailkitd.service") == 0
    assert main_pid("tailkitd@tools.service") == 0
    assert node.get("/tools").status == 200
    assert main_pid("tailkitd.service") > 0
    assert main_pid("tailkitd@tools.service") > 0
    wait_for(lambda: main_pid("tailkitd.service") == 0 and main_pid("tailkitd@tools.service") == 0,
             timeout=20, interval=0.25, what="both tailkitd processes to exit when idle")
    assert run("pgrep", "-f", "/usr/libexec/tailkitd/", check=False).stdout.strip() == ""
    assert run("systemctl", "is-active", "tailkitd.socket").stdout.strip() == "active"

    assert node.get("/tools").status == 200
    assert main_pid("tailkitd.service") > 0
    assert main_pid("tailkitd@tools.service") > 0


def test_rapid_reactivation_does_not_trip_start_limits(node):
    """Idle exit makes starts routine: 12 cold starts in a few seconds must all
    be served, and the sockets must stay up (systemd's default is 5 in 10 s)."""
    for _ in range(12):
        run("systemctl", "stop", "tailkitd.service", "tailkitd@*.service")
        assert node.get("/tools").status == 200
    for unit in ("tailkitd.socket", "tailkitd@tools.socket"):
        assert run("systemctl", "is-active", unit, check=False).stdout.strip() == "active", unit


def test_journal_has_audit_lines_with_the_caller(node):
    assert node.get("/tools", src=USER).status == 200

    def audited():
        out = run("journalctl", "--no-pager", "-o", "json", "TAILKITD_COMPONENT=tools",
                  "TAILKITD_CALLER=alice-laptop", "TAILKITD_PATH=/tools").stdout
        return out.strip()
    wait_for(audited, timeout=10, what="audit line in the journal")
    out = run("journalctl", "--no-pager", "TAILKITD_COMPONENT=tools", "TAILKITD_CALLER=alice-laptop").stdout
    assert "GET /tools 200" in out


@pytest.fixture
def restart_afterwards(node):
    yield
    run("systemctl", "start", "tailkitd.socket")
    wait_for(lambda: node.try_connect(), what="socket listening again")


def test_zz_stop_leaves_nothing_behind(node, restart_afterwards):
    assert node.get("/tools").status == 200
    run("systemctl", "stop", "tailkitd.socket")
    wait_for(lambda: run("pgrep", "-f", "/usr/libexec/tailkitd/", check=False).stdout.strip() == "",
             timeout=10, what="no tailkitd process")
    for unit in ("tailkitd.service", "tailkitd@tools.service", "tailkitd@tools.socket"):
        assert run("systemctl", "is-active", unit, check=False).stdout.strip() in ("inactive", "failed")
        assert run("systemctl", "is-failed", unit, check=False).stdout.strip() != "failed", unit
    # Only the job records stay (tmpfiles.d's /run/tailkitd/jobs, by design).
    assert [p for p in glob.glob("/run/tailkitd/*") if p != "/run/tailkitd/jobs"] == []
    mount_points = [l.split()[4] for l in Path("/proc/self/mountinfo").read_text().splitlines()]
    assert [m for m in mount_points if "tailkitd" in m] == []
