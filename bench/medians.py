#!/usr/bin/env python3
"""Medians of bench/run-peers.sh results, and the issue-6 targets.

  medians.py --bench SHARED_BENCH_DIR OUT_DIR

OUT_DIR holds h<HOSTS>/run<N>/ (peers.sh results) and load.tsv. Reads the
runs with the shared summarize.py, so the numbers are the ones its tables
show. Standard library only.
"""

import glob
import importlib.util
import os
import re
import statistics
import sys


def load_summarize(bench):
    spec = importlib.util.spec_from_file_location("summarize", os.path.join(bench, "summarize.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec="%.1f"):
    return "?" if v is None else spec % v


def ratio(a, b):
    return a / b if a is not None and b else None


def main(argv):
    if len(argv) != 3 or argv[0] != "--bench":
        sys.exit(__doc__)
    summarize, out = load_summarize(argv[1]), argv[2]
    # (hosts, server, mode) -> list of rows, one per run
    cells = {}
    hosts_seen = []
    for hdir in sorted(glob.glob(os.path.join(out, "h*")), key=lambda p: int(re.sub(r"\D", "", os.path.basename(p)) or 0)):
        if not os.path.isdir(hdir):
            continue
        hosts = int(os.path.basename(hdir)[1:])
        hosts_seen.append(hosts)
        for run in sorted(glob.glob(os.path.join(hdir, "run*"))):
            for r in summarize.load_run(run):
                try:
                    r["rss"] = int(r["rss_kb"])
                except (TypeError, ValueError):
                    r["rss"] = None
                cells.setdefault((hosts, r["server"], r["mode"]), []).append(r)

    def m(hosts, server, mode, key):
        return med([r.get(key) for r in cells.get((hosts, server, mode), [])])

    def runs(hosts, server, mode):
        return len(cells.get((hosts, server, mode), []))

    servers = ["fedns", "nsd", "knot"]
    print("### Server CPU per answered query (us), medians of %s runs\n" % (
        "/".join(str(runs(h, "fedns", "udp")) for h in hosts_seen) or "0"))
    print("| hosts | mode | fedns | NSD | Knot | fedns/NSD | fedns/Knot | fedns QPS | fedns lost | fedns NOERROR/NXDOMAIN % | NSD NOERROR/NXDOMAIN % |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    modes = ["udp", "tcp", "udp-A", "udp-AAAA", "udp-SRV", "udp-NXDOMAIN", "udp-NODATA"]
    for hosts in hosts_seen:
        for mode in modes:
            if not any((hosts, s, mode) in cells for s in servers):
                continue
            f, n, k = (m(hosts, s, mode, "us_per_q") for s in servers)

            def rc(server):
                rows = cells.get((hosts, server, mode), [])
                if not rows:
                    return "?"
                r = rows[0]["rcodes"]
                return "%.1f/%.1f" % (r.get("NOERROR", (0, 0.0))[1], r.get("NXDOMAIN", (0, 0.0))[1])

            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                hosts, mode, fmt(f), fmt(n), fmt(k), fmt(ratio(f, n), "%.2f"), fmt(ratio(f, k), "%.2f"),
                fmt(m(hosts, "fedns", mode, "qps"), "%.0f"), fmt(m(hosts, "fedns", mode, "lost"), "%.0f"),
                rc("fedns"), rc("nsd")))

    if len(hosts_seen) >= 2:
        lo, hi = hosts_seen[0], hosts_seen[-1]
        print("\n### Negative answers: cost at %d hosts vs %d hosts (us/query, medians)\n" % (hi, lo))
        print("| server | class | %d hosts | %d hosts | ratio |" % (lo, hi))
        print("|---|---|---:|---:|---:|")
        for s in servers:
            for mode in ["udp-NXDOMAIN", "udp-NODATA"]:
                a, b = m(lo, s, mode, "us_per_q"), m(hi, s, mode, "us_per_q")
                if a is None and b is None:
                    continue
                print("| %s | %s | %s | %s | %s |" % (s, mode[4:], fmt(a), fmt(b), fmt(ratio(b, a), "%.2f")))

        print("\n### Resident memory at %d hosts (KB, VmRSS after each run: median over runs of the largest)\n" % hi)
        print("| server | RSS KB | vs Knot |")
        print("|---|---:|---:|")
        peak = {}
        for s in servers:
            # the largest RSS seen in each run (the cache fills as runs go)
            by_run = {}
            for run in sorted(glob.glob(os.path.join(out, "h%d" % hi, "run*"))):
                vals = []
                for meta in glob.glob(os.path.join(run, "%s.*.meta" % s)):
                    d = summarize.read_meta(meta)
                    try:
                        vals.append(int(d.get("rss_kb", "")))
                    except ValueError:
                        pass
                if vals:
                    by_run[run] = max(vals)
            peak[s] = med(list(by_run.values()))
        for s in servers:
            print("| %s | %s | %s |" % (s, fmt(peak.get(s), "%.0f"), fmt(ratio(peak.get(s), peak.get("knot")), "%.2f")))

    load = os.path.join(out, "load.tsv")
    if os.path.exists(load):
        print("\n### Load time and peak RSS after load (start to first SOA answer, pinned to one core)\n")
        print("| server | hosts | load s | VmHWM KB | VmRSS KB |")
        print("|---|---:|---:|---:|---:|")
        with open(load) as f:
            for line in f.read().splitlines()[1:]:
                parts = line.split("\t")
                if len(parts) == 5:
                    print("| %s |" % " | ".join(parts))


if __name__ == "__main__":
    main(sys.argv[1:])
