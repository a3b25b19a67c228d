"""`systemd-analyze security` of every tailkitd unit under the real systemd:
printed for the README's unit hardening table, and held to the bound that
table documents for each unit. A bound is the figure measured with the
test rootfs's systemd (252) rounded up to a half point: a drop-in that
loosens a sandbox setting fails here until the README (and the reason in
the drop-in) say so."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import system_only

pytestmark = system_only

# unit -> highest accepted exposure (README, Unit hardening). exec is root
# without the sandbox by design: its jobs inherit the worker's namespaces,
# capabilities and system-call filter (tailkitd@exec.service.d/20-exec.conf).
BOUNDS = {
    "tailkitd.service": 0.5,
    "tailkitd@tools.service": 0.5,
    "tailkitd@vars.service": 0.5,
    "tailkitd@files.service": 2.0,
    "tailkitd@exec.service": 9.5,
    "tailkitd@systemd.service": 1.0,
    "tailkitd@docker.service": 1.5,
    "tailkitd@metrics.service": 1.0,
}


def exposure(unit):
    out = subprocess.run(["systemd-analyze", "security", "--no-pager", unit],
                         capture_output=True, text=True).stdout
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\S+)", out)
    assert m, (unit, out[-2000:])
    return float(m.group(1)), m.group(2)


def test_every_worker_has_a_bound():
    """A new worker (its drop-in directory) gets a bound here and a row in
    the README, or this fails."""
    installed = {p.name[:-len(".d")] for p in Path("/usr/lib/systemd/system").glob("tailkitd@?*.service.d")}
    assert installed == {u for u in BOUNDS if "@" in u}, installed


@pytest.mark.parametrize("unit", sorted(BOUNDS))
def test_exposure_within_documented_bound(unit):
    level, word = exposure(unit)
    print(f"{unit}: {level} {word} (bound {BOUNDS[unit]})")
    assert level <= BOUNDS[unit], f"{unit}: exposure {level} {word} above {BOUNDS[unit]}"
