"""GET /integrations/metrics/prometheus: node_exporter's names and labels for
what tailkitd collects, tailkitd_* counters of its own, the text format and
OpenMetrics by Accept, the metrics caps and metrics.toml sections. The values
are checked against /proc; the families against a real prometheus-node-exporter
run side by side; under the real systemd, a real Prometheus server scrapes both
(its source address is the container's 127.0.0.1, which the LocalAPI double
maps to a tailnet peer only for that test)."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import (METRICS_TOML, MODE, NOCAPS, READONLY, STRANGER, USER, free_port, system_only,
                      wait_for)

BASE = "/integrations/metrics"
PROM = f"{BASE}/prometheus"
# What a Prometheus 2.42 server sends.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{NAME}={LABEL_VALUE})(?:,{NAME}={LABEL_VALUE})*)?\}})? (\S+)$")
LABEL = re.compile(rf"({NAME})=({LABEL_VALUE})")


def parse(text, openmetrics=False, strict=True):
    """A strict reader of the exposition: every line well-formed, a family's
    HELP and TYPE once and before its samples, samples contiguous, values
    numbers. Returns {family: {"type", "samples": [(name, labels, value)]}}."""
    families, current, order = {}, None, []
    lines = text.split("\n")
    assert lines[-1] == "", "the body ends with a newline"
    lines = lines[:-1]
    if openmetrics:
        assert lines[-1] == "# EOF", "OpenMetrics ends with # EOF"
        lines = lines[:-1]
    for line in lines:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert name not in families, f"family {name} given twice"
            families[name] = {"type": None, "samples": []}
            current = name
            order.append(name)
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            assert name == current, f"TYPE {name} without its HELP"
            allowed = ("counter", "gauge", "unknown") if openmetrics else ("counter", "gauge", "untyped")
            # node_exporter's own go_* and process_* have summaries and histograms.
            assert typ in allowed or (not strict and typ in ("summary", "histogram"))
            families[name]["type"] = typ
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            fam = families[current]
            base = name
            if fam["type"] == "counter" and openmetrics:
                assert name == current + "_total", f"{name}: OpenMetrics counter samples end in _total"
            elif fam["type"] in ("summary", "histogram"):
                assert name in (current, current + "_sum", current + "_count", current + "_bucket")
            else:
                assert name == current, f"sample {name} outside its family {current}"
            float(value)
            fam["samples"].append((base, dict((k, json.loads(v)) for k, v in LABEL.findall(labels)), float(value)))
    return families


def scrape(node, src=USER, accept=None, path=PROM):
    r = node.get(path, src=src, headers={"Accept": accept} if accept else {})
    return r


def meminfo():
    out = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0])
    return out


@pytest.fixture
def metrics_toml(node):
    path = node.config_dir / "integrations" / "metrics.toml"
    yield path.write_text
    path.write_text(METRICS_TOML)


def test_text_format_with_node_exporter_names(node):
    r = scrape(node)
    assert r.status == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    fams = parse(r.body.decode())
    for name in ["node_cpu_seconds_total", "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes",
                 "node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_network_receive_bytes_total",
                 "node_network_transmit_bytes_total", "node_load1", "node_load5", "node_load15",
                 "node_boot_time_seconds", "node_uname_info", "node_context_switches_total",
                 "tailkitd_requests_total", "tailkitd_worker_starts_total", "tailkitd_jobs_started_total"]:
        assert name in fams, f"{name} missing"
    assert fams["node_cpu_seconds_total"]["type"] == "counter"
    assert fams["node_memory_MemTotal_bytes"]["type"] == "gauge"

    # Values as the kernel gives them (MemTotal does not move).
    assert fams["node_memory_MemTotal_bytes"]["samples"][0][2] == meminfo()["MemTotal"] * 1024
    cpus = {s[1]["cpu"] for s in fams["node_cpu_seconds_total"]["samples"]}
    assert len(cpus) == os.cpu_count()
    modes = {s[1]["mode"] for s in fams["node_cpu_seconds_total"]["samples"]}
    assert modes == {"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
    # Seconds, not ticks: idle time is below the time since boot.
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    assert all(s[2] <= uptime + 5 for s in fams["node_cpu_seconds_total"]["samples"] if s[1]["mode"] == "idle")
    btime = int(next(l.split()[1] for l in Path("/proc/stat").read_text().splitlines() if l.startswith("btime ")))
    assert fams["node_boot_time_seconds"]["samples"][0][2] == btime

    # Filesystems: "/" with its labels; the missing configured path is a device error.
    fs = {s[1]["mountpoint"]: s for s in fams["node_filesystem_size_bytes"]["samples"]}
    assert set(fs["/"][1]) == {"device", "fstype", "mountpoint"} and fs["/"][1]["fstype"]
    st = os.statvfs("/")
    assert fs["/"][2] == st.f_blocks * st.f_frsize
    errors = {s[1]["mountpoint"]: s[2] for s in fams["node_filesystem_device_error"]["samples"]}
    assert errors == {"/": 0, "/nonexistent-tailkitd-test": 1}

    # Every interface the kernel lists, with its counters.
    devs = {s[1]["device"] for s in fams["node_network_receive_bytes_total"]["samples"]}
    assert "lo" in devs and devs == set(os.listdir("/sys/class/net"))


def test_openmetrics_by_accept(node):
    r = scrape(node, accept=PROMETHEUS_ACCEPT)
    assert r.status == 200
    assert r.headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    fams = parse(r.body.decode(), openmetrics=True)
    assert fams["node_cpu_seconds"]["type"] == "counter"
    assert fams["node_cpu_seconds"]["samples"][0][0] == "node_cpu_seconds_total"
    assert "node_vmstat_pgfault" in fams and fams["node_vmstat_pgfault"]["type"] == "unknown"

    # /all: JSON unless the client prefers OpenMetrics.
    r = scrape(node, path=f"{BASE}/all")
    assert r.status == 200 and r.headers["content-type"].startswith("application/json") and "memory" in r.json()
    r = scrape(node, path=f"{BASE}/all", accept="application/openmetrics-text; version=1.0.0")
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    parse(r.body.decode(), openmetrics=True)
    r = scrape(node, path=f"{BASE}/all", accept="application/json, application/openmetrics-text;q=0.5")
    assert r.headers["content-type"].startswith("application/json")
    r = scrape(node, accept="text/plain")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_same_caps_as_json(node):
    assert scrape(node, src=NOCAPS).status == 403
    assert scrape(node, src=STRANGER).status == 401
    assert scrape(node, src=READONLY).status == 200
    # HEAD, as for every GET.
    assert node.request("HEAD", PROM).status == 200


def test_sections_follow_metrics_toml(node, metrics_toml):
    metrics_toml('[memory]\nenabled = true\nswap = false\n\n[cpu]\nenabled = true\nper_core = false\n')
    fams = parse(scrape(node).body.decode())
    assert "node_memory_MemTotal_bytes" in fams and "node_memory_SwapTotal_bytes" not in fams
    assert not any(n.startswith("node_vmstat_pswp") for n in fams)
    assert "node_load1" in fams and "node_cpu_seconds_total" not in fams
    for absent in ("node_filesystem_size_bytes", "node_network_receive_bytes_total", "node_uname_info"):
        assert absent not in fams
    # tailkitd's own counters are not a section: they stay.
    assert "tailkitd_requests_total" in fams


def self_counters(node):
    fams = parse(scrape(node).body.decode())
    req = {(s[1]["worker"], s[1]["status"]): s[2] for s in fams["tailkitd_requests_total"]["samples"]}
    starts = {s[1]["worker"]: s[2] for s in fams["tailkitd_worker_starts_total"]["samples"]}
    return req, starts


def test_self_counters(node):
    """Counted by each worker in its own file: vars (the tailkitd user) and
    tools (tailkitd-tools) here, read by the metrics worker (a DynamicUser)."""
    assert node.get("/vars").status == 200
    assert node.get("/tools").status == 200
    before, starts = self_counters(node)
    where = subprocess.run(["ls", "-lnR", "/run/tailkitd-stats/"] if MODE == "system" else ["true"],
                           capture_output=True, text=True).stdout
    assert starts.get("metrics", 0) >= 1 and starts.get("vars", 0) >= 1 and starts.get("tools", 0) >= 1, where
    assert node.get("/vars").status == 200
    assert node.get("/vars").status == 200
    assert node.get("/vars", src=NOCAPS).status == 403
    assert node.get("/tools").status == 200
    after, _ = self_counters(node)
    # This test's requests, at least (other clients may add to them).
    assert after[("vars", "200")] >= before.get(("vars", "200"), 0) + 2
    assert after[("vars", "403")] >= before.get(("vars", "403"), 0) + 1
    assert after[("tools", "200")] >= before.get(("tools", "200"), 0) + 1
    # The scrape that produced `before` was counted once it completed.
    assert after[("metrics", "200")] >= before.get(("metrics", "200"), 0) + 1


# ---- side by side with prometheus-node-exporter -------------------------------

@pytest.fixture(scope="module")
def node_exporter():
    if not os.path.exists(NODE_EXPORTER):
        pytest.skip("prometheus-node-exporter is not installed")
    port = free_port()
    # Debian's default leaves out lo, the container's only interface; ours has it.
    proc = subprocess.Popen([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
                             "--collector.netdev.device-exclude=^$"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    try:
        wait_for(up, timeout=20, what="node exporter")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_families_match_node_exporter(node, node_exporter):
    with urllib.request.urlopen(f"http://127.0.0.1:{node_exporter}/metrics", timeout=10) as r:
        theirs = parse(r.read().decode(), strict=False)
    ours = parse(scrape(node).body.decode())
    # A collector that failed on this machine (node_exporter's netdev in a
    # container whose netlink it cannot read) is listed, not held against us.
    failed = {s[1]["collector"] for s in theirs.get("node_scrape_collector_success", {"samples": []})["samples"]
              if s[2] == 0}
    collector_of = {"node_network_": "netdev", "node_filesystem_": "filesystem", "node_memory_": "meminfo",
                    "node_vmstat_": "vmstat", "node_cpu_": "cpu", "node_load": "loadavg", "node_uname_": "uname"}
    rows, missing, different = [], [], []
    for name in sorted(n for n in ours if n.startswith("node_")):
        our_labels = {tuple(sorted(s[1])) for s in ours[name]["samples"]}
        if name not in theirs:
            collector = next((c for p, c in collector_of.items() if name.startswith(p)), None)
            if collector in failed:
                rows.append(f"{name:55} {'|'.join(','.join(l) for l in our_labels):40} "
                            f"(node_exporter's {collector} collector failed here)")
                continue
            missing.append(name)
            rows.append(f"{name:55} {'|'.join(','.join(l) for l in our_labels):40} -")
            continue
        their_labels = {tuple(sorted(s[1])) for s in theirs[name]["samples"]}
        rows.append(f"{name:55} {'|'.join(','.join(l) for l in our_labels):40} "
                    f"{'|'.join(','.join(l) for l in their_labels)}")
        if our_labels != their_labels or ours[name]["type"] != theirs[name]["type"]:
            different.append(name)
    print("\nfamily (tailkitd labels | node_exporter labels)\n" + "\n".join(rows))
    assert not missing, f"families node_exporter does not have: {missing}"
    assert not different, f"label names or types differ: {different}"
    assert len(rows) >= 40


# ---- a real Prometheus server (under the real systemd) --------------------------

PROMETHEUS = "/usr/bin/prometheus"


def prom_query(port, path, **params):
    url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())["data"]


@system_only
def test_prometheus_scrapes_tailkitd(node, node_exporter, fake):
    """Prometheus connects from the container's 127.0.0.1 (it cannot choose a
    source address); the LocalAPI double answers whois for 127.0.0.1 as the
    read-only peer ci-runner-3 while this test runs, as tailscaled would for
    the Prometheus node's tailnet address."""
    fake.set_mode("normal", peers={"127.0.0.1": "tagged-readonly.json"})
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="tailkitd-prom-"))
    (work / "prometheus.yml").write_text(f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tailkitd
    metrics_path: {PROM}
    static_configs:
      - targets: ["127.0.0.1:{node.port}"]
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:{node_exporter}"]
""")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=open(work / "prometheus.log", "wb"))
    try:
        def value(query):
            try:
                res = prom_query(port, "/api/v1/query", query=query)["result"]
            except OSError:
                return None
            return res or None

        res = wait_for(lambda: value('node_memory_MemTotal_bytes{job="tailkitd"}'), timeout=60,
                       what="Prometheus to ingest tailkitd's samples")
        assert float(res[0]["value"][1]) == meminfo()["MemTotal"] * 1024
        assert wait_for(lambda: value('node_memory_MemTotal_bytes{job="node"}'), timeout=30, what="node exporter")
        # A few scrapes of each, then the scrape durations side by side.
        wait_for(lambda: (value('count_over_time(scrape_duration_seconds{job="tailkitd"}[1m]) >= 5') and
                          value('count_over_time(scrape_duration_seconds{job="node"}[1m]) >= 5')),
                 timeout=60, what="five scrapes of each")
        for job in ("tailkitd", "node"):
            avg = value(f'avg_over_time(scrape_duration_seconds{{job="{job}"}}[1m])')
            mx = value(f'max_over_time(scrape_duration_seconds{{job="{job}"}}[1m])')
            print(f"\nscrape_duration_seconds {job}: avg {float(avg[0]['value'][1]) * 1000:.1f} ms, "
                  f"max {float(mx[0]['value'][1]) * 1000:.1f} ms")

        # The same peer without the metrics cap: the target goes down with 403.
        fake.set_mode("normal", peers={"127.0.0.1": "no-caps.json"})

        def down():
            targets = prom_query(port, "/api/v1/targets")["activeTargets"]
            t = next(t for t in targets if t["labels"]["job"] == "tailkitd")
            return t if t["health"] == "down" and "403" in t["lastError"] else None
        t = wait_for(down, timeout=30, what="the tailkitd target to go down with 403")
        print(f"target without the cap: {t['health']}: {t['lastError']}")
        assert value('up{job="tailkitd"} == 0')
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(work, ignore_errors=True)
