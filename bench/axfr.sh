#!/usr/bin/env bash
# bench/axfr.sh - a secondary's first AXFR of a big zone from a Knot
# primary: fedns and Knot as the secondary, side by side.
#
#   bench/axfr.sh                        # 100 000 hosts, 3 interleaved runs
#   HOSTS=10000 RUNS=1 bench/axfr.sh
#
# A Knot primary serves lab.test (HOSTS hosts with an A and an AAAA each,
# the Matrix SRV pair: the zone of bench/peers.sh) on 127.0.0.1:PRIMARY.
# Each run, for each secondary (fedns, then knot; SECONDARIES overrides),
# interleaved: it starts pinned to CPU 0 with no copy of the zone, asks the
# primary for it by AXFR, and is done when it answers the zone's SOA on
# 127.0.0.1:PORT. Reported per run: seconds from exec to that answer, the
# CPU seconds it used to get there (user + system), and its peak RSS
# (VmHWM) then. Then medians, and fedns's ratio to Knot.
#
# Everything binds 127.0.0.1; every wait is bounded; every process is
# started and stopped by its PID. Needs knotd, dig, taskset, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOSTS=${HOSTS:-100000}
RUNS=${RUNS:-3}
SECONDARIES=${SECONDARIES:-fedns knot}
OUT=${OUT:-/tmp/fedns-bench/axfr/$(date -u +%Y%m%dT%H%M%SZ)}
PORT=${PORT:-5340}
PRIMARY=${PRIMARY:-5341}
LIMIT=${LIMIT:-120}

source "$ROOT/bench/lib.sh"
require axfr "apt-get install -y knot bind9-dnsutils" knotd dig python3
fedns_binary
mkdir -p "$OUT/primary/db"

write_lab_zone "$OUT/primary/lab.test.zone" "$HOSTS"

knot_common() { # dir port
    printf 'server:\n    rundir: "%s"\n    listen: 127.0.0.1@%s\n    background-workers: 1\n    udp-workers: 1\n    tcp-workers: 1\n' "$1" "$2"
    printf 'log:\n  - target: stderr\n    any: warning\ndatabase:\n    storage: "%s/db"\n' "$1"
}
{
    knot_common "$OUT/primary" "$PRIMARY"
    printf 'acl:\n  - id: transfer\n    address: 127.0.0.0/8\n    action: transfer\n'
    printf 'zone:\n  - domain: lab.test\n    storage: "%s/primary"\n    file: lab.test.zone\n    zonefile-sync: -1\n    journal-content: none\n    acl: transfer\n' "$OUT"
} > "$OUT/primary/knot.conf"

ticks() { # pid -> CPU ticks (user + system) so far
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# The primary: not pinned, up for the whole script.
knotd -c "$OUT/primary/knot.conf" > "$OUT/primary/knot.log" 2>&1 &
PRIMARY_PID=$!
trap 'stop_server; kill -TERM "$PRIMARY_PID" 2> /dev/null || true; wait "$PRIMARY_PID" 2> /dev/null || true' EXIT
deadline=$((SECONDS + LIMIT))
until dig +time=1 +tries=1 +short -p "$PRIMARY" @127.0.0.1 lab.test SOA 2> /dev/null | grep -q hostmaster; do
    ((SECONDS < deadline)) || { echo "axfr: the Knot primary did not start" >&2; exit 1; }
    sleep 0.05
done

run_one() { # secondary run
    local d=$OUT/$1-$2 start deadline
    rm -rf "$d" && mkdir -p "$d/db"
    case $1 in
        fedns)
            printf 'listen = ["127.0.0.1:%s"]\ndata_dir = "%s/data"\n[[zone]]\nname = "lab.test"\nprimaries = ["127.0.0.1:%s"]\n' \
                "$PORT" "$d" "$PRIMARY" > "$d/fedns.toml"
            start=$(now)
            "${PIN_SERVER[@]}" "$FEDNS_BIN" serve --config "$d/fedns.toml" --log warn > "$d/server.log" 2>&1 &
            ;;
        knot)
            {
                knot_common "$d" "$PORT"
                printf 'remote:\n  - id: primary\n    address: 127.0.0.1@%s\n' "$PRIMARY"
                printf 'zone:\n  - domain: lab.test\n    storage: "%s"\n    file: lab.test.zone\n    master: primary\n    zonefile-sync: -1\n    journal-content: none\n' "$d"
            } > "$d/knot.conf"
            start=$(now)
            "${PIN_SERVER[@]}" knotd -c "$d/knot.conf" > "$d/server.log" 2>&1 &
            ;;
    esac
    PID=$!
    deadline=$((SECONDS + LIMIT))
    until dig +time=1 +tries=1 +short -p "$PORT" @127.0.0.1 lab.test SOA 2> /dev/null | grep -q hostmaster; do
        ((SECONDS < deadline)) || { echo "axfr: $1 did not transfer the zone" >&2; return 1; }
        sleep 0.01
    done
    local done_at cpu hwm
    done_at=$(now)
    cpu=$(ticks "$PID")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" \
        "$(python3 -c "print(round($done_at - $start, 3))")" \
        "$(python3 -c "import os; print(round($cpu / os.sysconf('SC_CLK_TCK'), 2))")" "$hwm" | tee -a "$OUT/axfr.tsv"
    stop_server
}

printf 'secondary\trun\tseconds\tcpu_s\tpeak_kb\n' > "$OUT/axfr.tsv"
echo "axfr: $HOSTS hosts, $RUNS run(s), results in $OUT" >&2
for ((r = 1; r <= RUNS; r++)); do
    for s in $SECONDARIES; do run_one "$s" "$r"; done
done

python3 - "$OUT/axfr.tsv" "$HOSTS" << 'PYEOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
servers = list(dict.fromkeys(r[0] for r in rows))
med = lambda s, c: statistics.median(float(r[c]) for r in rows if r[0] == s)
print(f"\nAXFR in from a Knot primary, {sys.argv[2]} hosts, medians of {max(int(r[1]) for r in rows)} run(s)\n")
ratio = "knot" in servers and "fedns" in servers
print("| | " + " | ".join(servers) + (" | fedns / knot |" if ratio else " |"))
print("|---|" + "---:|" * (len(servers) + ratio))
for label, col, scale, fmt in [("start to first SOA answer", 2, 1, "{:.2f} s"), ("CPU to get there", 3, 1, "{:.2f} s"), ("peak RSS", 4, 1024, "{:.0f} MB")]:
    m = {s: med(s, col) / scale for s in servers}
    print(f"| {label} | " + " | ".join(fmt.format(m[s]) for s in servers)
          + (f" | {m['fedns'] / m['knot']:.2f} |" if ratio else " |"))
PYEOF
