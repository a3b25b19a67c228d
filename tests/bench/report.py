#!/usr/bin/python3
"""Turns tests/bench/bench.py's JSON into tests/bench/RESULTS.md (called by
tests/bench/run). Each row: the median over rounds of each side, the ratio
tailkitd / peer per round, its median and spread (min–max over rounds), the
target and whether the median meets it.

  report.py results.json --rounds N --commit C --machine TEXT
"""

import argparse
import datetime
import json
import statistics


def ratios(rounds, a="a", b="b"):
    return [r[a] / r[b] for r in rounds if r.get(b)]


def fmt_spread(xs, prec=2):
    if not xs:
        return "—"
    return f"{min(xs):.{prec}f}–{max(xs):.{prec}f}"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class Table:
    def __init__(self):
        self.rows = []

    def add(self, what, metric, mine, peer, ratio, spread, target, met):
        self.rows.append((what, metric, mine, peer, ratio, spread, target,
                          "—" if met is None else ("yes" if met else "**no**")))

    def ratio_row(self, what, metric, rounds, unit, target_op, target, a="a", b="b", prec=2, invert=False):
        rs = ratios(rounds, a, b)
        if invert:      # higher is better for tailkitd: report tailkitd / peer as is
            pass
        m = med(rs)
        met = m <= target if target_op == "<=" else m >= target
        self.add(what, metric, f"{med([r[a] for r in rounds]):.{prec}f} {unit}",
                 f"{med([r[b] for r in rounds]):.{prec}f} {unit}", f"{m:.2f}", fmt_spread(rs),
                 f"{target_op} {target}", met)

    def markdown(self):
        head = ("what", "metric", "tailkitd (median)", "peer (median)", "ratio (median)", "ratio spread (min–max)",
                "target", "met")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in self.rows]
        return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--commit", default="?")
    ap.add_argument("--machine", default="?")
    ap.add_argument("--notes", help="a markdown file appended after the table")
    args = ap.parse_args()
    res = json.load(open(args.results))
    t = Table()

    if "cold" in res:
        t.ratio_row("cold request: GET /health, everything idle → answer, vs gatewayd GET /machine socket-activated",
                    "median ms ratio", res["cold"]["rounds"], "ms", "<=", 1.3, prec=1)
    if "cold" in res:
        rd = res["cold"]["rounds"]
        if "dispatcher_start_ms" in rd[0]:
            t.add("— where the cold request goes: unit start (inactive → active) of dispatcher + tools worker, "
                  "vs gatewayd's", "ms, from the units' timestamps",
                  f"{med([r['dispatcher_start_ms'] for r in rd]):.1f} + {med([r['worker_start_ms'] for r in rd]):.1f} ms",
                  f"{med([r['gatewayd_start_ms'] for r in rd]):.1f} ms", "—", "—", "—", None)
    for name, v in res.get("cold-sandbox", {}).items():
        rd = v["rounds"]
        rs = ratios(rd)
        t.add(f"— experiment: the cold request with both units' sandbox cut down to \"{name}\" "
              f"(a runtime drop-in; not shipped): dispatcher + worker start "
              f"{med([r['dispatcher_start_ms'] for r in rd]):.1f} + {med([r['worker_start_ms'] for r in rd]):.1f} ms",
              "median ms ratio", f"{med([r['a'] for r in rd]):.1f} ms", f"{med([r['b'] for r in rd]):.1f} ms",
              f"{med(rs):.2f}", fmt_spread(rs), "—", None)
    if "warm" in res:
        rd = res["warm"]["rounds"]
        t.ratio_row("warm GET /health vs gatewayd GET /machine, new connection each", "median ratio", rd, "ms",
                    "<=", 1.2)
        t.ratio_row("— same, p99", "p99 ratio", rd, "ms", "<=", 1.5, a="a_p99", b="b_p99")
    for c, v in sorted(res.get("throughput", {}).items(), key=lambda kv: int(kv[0])):
        t.ratio_row(f"warm throughput, wrk -c{c} (gatewayd keeps connections alive; tailkitd: see notes)",
                    "req/s ratio", v["rounds"], "req/s", ">=", 1.0, prec=0)
    if "exec" in res:
        t.ratio_row("exec /bin/true POST → completed vs systemd-run --scope /bin/true", "median ratio",
                    res["exec"]["rounds"], "ms", "<=", 1.0)
    if "journal" in res:
        t.ratio_row("journal: last 5,000 entries of a unit as JSON vs gatewayd /entries (Range, unit match)",
                    "entries/s ratio", res["journal"]["rounds"], "entries/s", ">=", 1.2, prec=0)
    if "metrics" in res:
        t.ratio_row("metrics /all vs node_exporter /metrics (dispatcher + worker CPU vs the exporter's)",
                    "CPU-seconds per request ratio", res["metrics"]["rounds"], "CPU ms/req", "<=", 0.5)
    if "files" in res:
        rd = res["files"]["rounds"]
        for k in ("up", "down"):
            rs = [r[k] for r in rd]
            m = med(rs)
            t.add(f"1 GiB {'upload' if k == 'up' else 'download'} vs cp on the same disk", "throughput ratio",
                  f"{med([r[k + '_mibs'] for r in rd]):.0f} MiB/s", f"{med([r['cp_mibs'] for r in rd]):.0f} MiB/s",
                  f"{m:.2f}", fmt_spread(rs), ">= 0.8", m >= 0.8)
    if "docker" in res:
        t.ratio_row("docker GET /containers vs curl --unix-socket on the docker socket", "latency ratio",
                    res["docker"]["rounds"], "ms", "<=", 1.2)
    if "memory" in res:
        m = res["memory"]
        d = m["dispatcher_kib"] / 1024
        t.add("memory: dispatcher RSS", "MiB", f"{d:.1f} MiB", "—", "—", "one sample", "<= 2 MiB", d <= 2)
        gwk = m["gatewayd_kib"]
        for w, k in sorted(m["workers_kib"].items()):
            t.add(f"memory: {w} worker RSS vs gatewayd's", "RSS ratio", f"{k / 1024:.1f} MiB", f"{gwk / 1024:.1f} MiB",
                  f"{k / gwk:.2f}" if gwk else "—", "one sample", "<= 1.0", k <= gwk if gwk else None)
        t.add("processes when idle (tailkitd units active after the idle timeout)", "count",
              str(m["idle_processes"]), "—", "—", "one sample", "0", m["idle_processes"] == 0)

    print("# tailkitd benchmarks: results\n")
    print("Written by `tests/bench/run` (issue 13): every row measured side by side with its peer in one run,")
    print(f"alternating A B A B over {args.rounds} rounds; a row's ratio is tailkitd / peer per round, its median and")
    print("min–max over the rounds. Not a test: nothing here is part of CI's pass/fail.\n")
    print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}")
    print(f"- commit: {args.commit}")
    print("- machine (inside the bench container):")
    for line in args.machine.splitlines():
        print(f"  - {line}")
    if "localapi" in res:
        la = res["localapi"]
        print(f"- LocalAPI double (tests/bench/fast-localapi.c) whois latency, new connection each, Python client: "
              f"median {la['median_us']:.0f} µs, p99 {la['p99_us']:.0f} µs")
    print()
    print(t.markdown())
    if args.notes:
        print()
        print(open(args.notes).read().rstrip())


if __name__ == "__main__":
    main()
