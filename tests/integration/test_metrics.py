"""The metrics worker (/integrations/metrics): shapes as gopsutil v4 JSON,
caps and metrics.toml sections, bounded parameters, values that agree with
free/df/ip/nproc, and a hung mount that cannot hold a response."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import METRICS_TOML, MODE, NOCAPS, READONLY, STRANGER, USER, host_only, system_only

BASE = "/integrations/metrics"
HOST_KEYS = ["hostname", "uptime", "bootTime", "procs", "os", "platform", "platformFamily", "platformVersion",
             "kernelVersion", "kernelArch", "virtualizationSystem", "virtualizationRole", "hostId"]
VIRT_KEYS = ["total", "available", "used", "usedPercent", "free", "active", "inactive", "wired", "laundry",
             "buffers", "cached", "writeBack", "dirty", "writeBackTmp", "shared", "slab", "sreclaimable",
             "sunreclaim", "pageTables", "swapCached", "commitLimit", "committedAS", "highTotal", "highFree",
             "lowTotal", "lowFree", "swapTotal", "swapFree", "mapped", "vmallocTotal", "vmallocUsed",
             "vmallocChunk", "hugePagesTotal", "hugePagesFree", "hugePagesRsvd", "hugePagesSurp", "hugePageSize",
             "anonHugePages"]
SWAP_KEYS = ["total", "used", "free", "usedPercent", "sin", "sout", "pgIn", "pgOut", "pgFault", "pgMajFault"]
DISK_KEYS = ["path", "fstype", "total", "free", "used", "usedPercent", "inodesTotal", "inodesUsed", "inodesFree",
             "inodesUsedPercent"]
NET_KEYS = ["name", "bytesSent", "bytesRecv", "packetsSent", "packetsRecv", "errin", "errout", "dropin",
            "dropout", "fifoin", "fifoout"]
INFO_KEYS = ["cpu", "vendorId", "family", "model", "stepping", "physicalId", "coreId", "cores", "modelName", "mhz",
             "cacheSize", "flags", "microcode"]


@pytest.fixture
def metrics_toml(node):
    """Rewrites metrics.toml for one test (read per request), restored after."""
    path = node.config_dir / "integrations" / "metrics.toml"

    def write(text):
        path.write_text(text)
    yield write
    path.write_text(METRICS_TOML)


def test_available(node):
    r = node.get(f"{BASE}/available")
    assert r.status == 200 and r.json() == {"available": True}


def test_available_false_without_config(node, metrics_toml):
    path = node.config_dir / "integrations" / "metrics.toml"
    path.unlink()
    r = node.get(f"{BASE}/available")
    assert r.status == 200 and r.json() == {"available": False}
    r = node.get(f"{BASE}/host")
    assert r.status == 503 and "metrics.toml" in r.json()["hint"]


def test_shapes(node):
    host = node.get(f"{BASE}/host").json()
    assert list(host) == HOST_KEYS and host["os"] == "linux" and host["procs"] > 0
    mem = node.get(f"{BASE}/memory").json()
    assert list(mem["virtual"]) == VIRT_KEYS and list(mem["swap"]) == SWAP_KEYS
    cpu = node.get(f"{BASE}/cpu").json()
    assert list(cpu["info"][0]) == INFO_KEYS
    assert len(cpu["percent_per_cpu"]) == os.cpu_count() and 0 <= cpu["percent_total"] <= 100
    assert len(cpu["times"]) == os.cpu_count() and cpu["times"][0]["cpu"] == "cpu0"
    disk = node.get(f"{BASE}/disk").json()
    assert list(disk[0]) == DISK_KEYS and disk[0]["path"] == "/"
    net = node.get(f"{BASE}/network").json()
    assert "lo" in [n["name"] for n in net] and list(net[0]) == NET_KEYS
    all_ = node.get(f"{BASE}/all").json()
    assert set(all_) == {"host", "cpu", "memory", "disk", "network", "processes"}
    assert node.get(f"{BASE}/").json().keys() == all_.keys()


def test_missing_disk_path_reported_not_fatal(node):
    disk = node.get(f"{BASE}/disk").json()
    assert disk[1] == {"path": "/nonexistent-tailkitd-test", "error": "path does not exist"}


def test_caps(node):
    r = node.get(f"{BASE}/host", src=NOCAPS)
    assert r.status == 403 and "tailkitd-metrics" in r.json()["error"]
    assert node.get(f"{BASE}/host", src=STRANGER).status == 401
    assert node.get(f"{BASE}/host", src=READONLY).status == 200


def test_nocaps_learns_nothing(node, metrics_toml):
    before = node.get(f"{BASE}/processes", src=NOCAPS)
    metrics_toml("[host]\nenabled = true\n")
    after = node.get(f"{BASE}/processes", src=NOCAPS)
    assert before.status == after.status == 403 and before.body == after.body


def test_disabled_section_403_naming_it(node, metrics_toml):
    metrics_toml("[host]\nenabled = true\n")
    for section in ("cpu", "memory", "disk", "network", "processes"):
        r = node.get(f"{BASE}/{section}")
        assert r.status == 403, section
        assert r.json()["error"] == f"{section} metrics not enabled in metrics.toml"
    assert list(node.get(f"{BASE}/all").json()) == ["host"]


def test_per_core_and_swap_honoured(node, metrics_toml):
    metrics_toml("[cpu]\nenabled = true\n[memory]\nenabled = true\n")
    cpu = node.get(f"{BASE}/cpu").json()
    assert cpu["percent_per_cpu"] == [] and "times" not in cpu
    assert node.get(f"{BASE}/memory").json()["swap"] is None


def test_interfaces_filter(node, metrics_toml):
    metrics_toml('[network]\nenabled = true\ninterfaces = ["lo", "nosuch0"]\n')
    assert [n["name"] for n in node.get(f"{BASE}/network").json()] == ["lo"]


def test_processes_limit_and_cmdline(node):
    r = node.get(f"{BASE}/processes")
    procs = r.json()
    assert len(procs) == 5 and all("cmdline" in p for p in procs)
    assert [p["cpu_percent"] for p in procs] == sorted((p["cpu_percent"] for p in procs), reverse=True)
    assert len(node.get(f"{BASE}/processes?limit=2").json()) == 2
    ro = node.get(f"{BASE}/processes", src=READONLY).json()
    assert ro and all("cmdline" not in p for p in ro)
    assert all("cmdline" not in p for p in node.get(f"{BASE}/all", src=READONLY).json()["processes"])


@pytest.mark.parametrize("query", ["limit=6", "limit=-1", "limit=1e3", "limit=", "limit=99999999999",
                                   "interval_ms=1001", "interval_ms=abc"])
def test_parameters_bounded(node, query):
    path = f"{BASE}/processes" if query.startswith("limit") else f"{BASE}/cpu"
    r = node.get(f"{path}?{query}")
    assert r.status == 400, r


def test_interval(node):
    t = time.monotonic()
    r = node.get(f"{BASE}/cpu?interval_ms=300")
    assert r.status == 200 and time.monotonic() - t >= 0.3


def test_methods(node):
    r = node.request("POST", f"{BASE}/host")
    assert r.status == 405 and "GET" in r.headers["allow"]
    assert node.request("HEAD", f"{BASE}/memory").status == 200
    assert node.get(f"{BASE}/nosuch").status == 404


def _free_b():
    out = subprocess.run(["free", "-b"], capture_output=True, text=True, check=True).stdout.splitlines()
    mem = out[1].split()
    swap = out[2].split()
    return dict(total=int(mem[1]), free=int(mem[3]), available=int(mem[6]), swap_total=int(swap[1]))


def test_agrees_with_free_df_ip_nproc(node):
    """Same machine, a second apart: totals exact, moving figures within drift."""
    mem = node.get(f"{BASE}/memory").json()
    f = _free_b()
    v = mem["virtual"]
    assert v["total"] == f["total"] and mem["swap"]["total"] == f["swap_total"]
    for k in ("free", "available"):
        assert abs(v[k] - f[k]) < 64 * 1024 * 1024, k
    assert v["used"] == v["total"] - v["free"] - v["buffers"] - v["cached"]
    assert abs(v["usedPercent"] - v["used"] / v["total"] * 100) < 1e-9

    nproc = int(subprocess.run(["nproc", "--all"], capture_output=True, text=True, check=True).stdout)
    assert len(node.get(f"{BASE}/cpu").json()["info"]) == nproc

    d = node.get(f"{BASE}/disk").json()[0]
    df = subprocess.run(["df", "-B1", "--output=size,used,avail,itotal,iused", "/"],
                        capture_output=True, text=True, check=True).stdout.splitlines()[1].split()
    assert d["total"] == int(df[0]) and d["inodesTotal"] == int(df[3])
    for k, i in (("used", 1), ("free", 2)):
        assert abs(d[k] - int(df[i])) < 256 * 1024 * 1024, k

    links = {l["ifname"]: l for l in json.loads(subprocess.run(["ip", "-s", "-j", "link"], capture_output=True,
                                                               text=True, check=True).stdout)}
    net = {n["name"]: n for n in node.get(f"{BASE}/network").json()}
    assert set(net) == set(links)
    for name, l in links.items():
        st = l["stats64"]
        # Counters only grow; a second of traffic at most in between.
        assert 0 <= net[name]["bytesRecv"] - st["rx"]["bytes"] < 10 * 1024 * 1024 or \
            0 <= st["rx"]["bytes"] - net[name]["bytesRecv"] < 10 * 1024 * 1024
        assert net[name]["errin"] == st["rx"]["errors"] and net[name]["errout"] == st["tx"]["errors"]


def test_sees_every_process(node, metrics_toml):
    """The worker's sandbox (DynamicUser, ProtectProc=default, ProcSubset=all)
    hides no process: /processes ranks all of them, not only its own, and
    /host counts them all."""
    metrics_toml("[processes]\nenabled = true\nlimit = 100\n[host]\nenabled = true\n")
    visible = [p for p in os.listdir("/proc") if p.isdigit()]
    pids = {p["pid"] for p in node.get(f"{BASE}/processes?limit=100").json()}
    assert len(pids) >= min(100, len(visible)) - 5, (len(pids), len(visible))
    assert pids - {node.worker_pid("metrics")}
    if len(visible) < 90:      # all of them fit in the answer
        assert 1 in pids and os.getpid() in pids
    assert abs(node.get(f"{BASE}/host").json()["procs"] - len(visible)) < 20


@system_only
def test_worker_is_a_dynamic_user(node):
    assert node.get(f"{BASE}/host").status == 200
    status = Path(f"/proc/{node.worker_pid('metrics')}/status").read_text()
    uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
    assert 61184 <= uid <= 65519, uid      # systemd's DynamicUser= range


@system_only
def test_network_sees_new_interfaces(node):
    """Interfaces of the container's own network namespace, odd names too,
    over netlink from the sandboxed worker; counters as `ip -s -j link`
    (read after, so never smaller). veth and bridge: this kernel has no
    dummy driver."""
    names = ["veth1a2b.100", "wg-ts", "br-0123456789ab"]
    try:
        subprocess.run(["ip", "link", "add", names[0], "type", "veth", "peer", "name", names[1]], check=True)
        subprocess.run(["ip", "link", "add", names[2], "type", "bridge"], check=True)
        for n in names:
            subprocess.run(["ip", "link", "set", n, "up"], check=True)
        net = {n["name"]: n for n in node.get(f"{BASE}/network").json()}
        links = {l["ifname"]: l for l in json.loads(subprocess.run(["ip", "-s", "-j", "link"], capture_output=True,
                                                                   text=True, check=True).stdout)}
        assert set(names) <= set(net) and set(net) == set(links)
        for n in names:
            assert 0 <= links[n]["stats64"]["tx"]["packets"] - net[n]["packetsSent"] < 100
    finally:
        for n in names[0], names[2]:
            subprocess.run(["ip", "link", "del", n], capture_output=True)


HANG_DIR = "/srv/tailkitd-test-hang"


@pytest.fixture
def hung_mount():
    """A real hang: a direct autofs mount whose daemon (this test) never
    answers. Any lookup of the mount point from another process group then
    blocks in the kernel in autofs_wait(), as on a dead NFS server, until the
    daemon answers or the mount is made catatonic."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount autofs")
    if "autofs" not in Path("/proc/filesystems").read_text():
        pytest.skip("no autofs in this kernel")
    os.makedirs(HANG_DIR, exist_ok=True)
    r, w = os.pipe()
    # The "daemon" is a process group of its own (the automounter's group is
    # exempt from waiting); it never reads the pipe.
    daemon = subprocess.Popen(["sleep", "600"], process_group=0)
    subprocess.run(["mount", "-t", "autofs", "-o", f"fd={w},pgrp={daemon.pid},minproto=5,maxproto=5,direct",
                    "tailkitd-test", HANG_DIR], pass_fds=[w], check=True)
    try:
        yield HANG_DIR
    finally:
        # umount from the daemon's own group, which the mount never makes wait.
        subprocess.run(["umount", "-l", HANG_DIR], timeout=10, process_group=daemon.pid)
        os.close(w)
        os.close(r)
        daemon.kill()
        daemon.wait()


def test_hung_mount_reported_within_2s(node, metrics_toml, hung_mount):
    metrics_toml(f'[disk]\nenabled = true\npaths = ["/", "{hung_mount}"]\n[host]\nenabled = true\n')
    for _ in range(2):   # the second time, the stuck probe is not repeated
        t = time.monotonic()
        r = node.get(f"{BASE}/disk", timeout=5)
        took = time.monotonic() - t
        assert r.status == 200 and took < 2.0, took
        d = r.json()
        assert d[0]["path"] == "/" and d[0]["total"] > 0
        assert d[1] == {"path": hung_mount, "error": "filesystem did not answer in time"}
    # The worker still serves everything else at once.
    t = time.monotonic()
    assert node.get(f"{BASE}/host").status == 200 and time.monotonic() - t < 1.0
