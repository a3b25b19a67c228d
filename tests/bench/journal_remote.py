#!/usr/bin/python3
"""systemd-journal-remote pulling a unit's journal from tailkitd against
pulling it from systemd-journal-gatewayd, on the real systemd, in one run
(not part of CI; asserts nothing but counts).

6000 native entries are logged by one transient unit; then, alternately,
`systemd-journal-remote --getter='curl … URL' --output=X.journal` pulls the
last 5000 of them in the journal export format
(Accept: application/vnd.fdo.journal) from
  tailkitd:  /integrations/systemd/units/<unit>/journal/entries?lines=5000
             (curl --interface 127.0.0.2: a tailnet peer of the LocalAPI
             double; the whole journalctl -u match set)
  gatewayd:  /entries?_SYSTEMD_UNIT=<unit> with Range: entries=:-4999:5000
and writes them into a fresh journal file. The time is the whole pull,
journal-remote's writing included; entries/s from the median of 7 pulls, and
both files must hold 5000 entries (journalctl --file).

Run with tests/bench/run.sh journal_remote.py; needs systemd-journal-remote
(/lib/systemd/systemd-journal-remote and -gatewayd) in the container.
"""

import json
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

N_LOG, LINES, PULLS = 6000, 5000, 7
REMOTE = "/lib/systemd/systemd-journal-remote"
GATEWAYD = "/lib/systemd/systemd-journal-gatewayd"

LOGGER = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect("/run/systemd/journal/socket")
for i in range(int(sys.argv[1])):
    msg = f"bench line {i} " + "x" * 80
    buf = b""
    for k, v in (("MESSAGE", msg), ("PRIORITY", "6"), ("TKD_SEQ", str(i))):
        v = v.encode()
        buf += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
    s.send(buf)
time.sleep(1)
"""


def pull(getter, work):
    out = Path(tempfile.mktemp(dir=work, suffix=".journal"))
    t0 = time.perf_counter()
    subprocess.run([REMOTE, f"--getter={getter}", f"--output={out}", "--split-mode=none"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.perf_counter() - t0
    n = len(subprocess.run(["journalctl", "--file", str(out), "-o", "cat"], capture_output=True,
                           text=True).stdout.splitlines())
    out.unlink()
    return t, n


def main():
    unit = f"tkd-remote-{uuid.uuid4().hex[:6]}.service"
    Path("/run/tkd-bench-logger.py").write_text(LOGGER)
    subprocess.run(["systemd-run", "--quiet", "--wait", "--collect", f"--unit={unit}", "/usr/bin/python3",
                    "/run/tkd-bench-logger.py", str(N_LOG)], check=True)
    subprocess.run(["journalctl", "--sync"], check=True)
    work = tempfile.mkdtemp(prefix="tkd-remote-")
    gw = subprocess.Popen([GATEWAYD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        accept = "-H 'Accept: application/vnd.fdo.journal'"
        tk = (f"curl -sS --fail {accept} --interface 127.0.0.2 "
              f"http://127.0.0.1/integrations/systemd/units/{unit}/journal/entries?lines={LINES}")
        gwg = (f"curl -sS --fail {accept} -H 'Range: entries=:-{LINES - 1}:{LINES}' "
               f"http://127.0.0.1:19531/entries?_SYSTEMD_UNIT={unit}")
        pull(tk, work), pull(gwg, work)       # warm both
        tk_t, gw_t, tk_n, gw_n = [], [], 0, 0
        for _ in range(PULLS):
            t, tk_n = pull(tk, work)
            tk_t.append(t)
            t, gw_n = pull(gwg, work)
            gw_t.append(t)
    finally:
        gw.terminate()
        gw.wait()
        shutil.rmtree(work, ignore_errors=True)
    tk_m, gw_m = statistics.median(tk_t), statistics.median(gw_t)
    print(f"journal-remote pull of {LINES}: tailkitd {tk_n} entries, median {tk_m * 1000:.0f} ms, "
          f"{tk_n / tk_m:,.0f} entries/s; journal-gatewayd {gw_n} entries, median {gw_m * 1000:.0f} ms, "
          f"{gw_n / gw_m:,.0f} entries/s; ratio {tk_m / gw_m:.2f}x the time")
    print("BENCH_JSON", json.dumps({"a": tk_n / tk_m, "b": gw_n / gw_m, "a_entries": tk_n, "b_entries": gw_n}))


if __name__ == "__main__":
    main()
