#!/usr/bin/env bash
# bench/peers.sh - fedns, NSD and Knot answering the same zone under dnsperf:
# server CPU time per answered query, UDP and TCP, side by side, with the
# floor (bench/floor.c: the same batched syscalls, no lookup) on UDP.
#
#   bench/peers.sh                          # 10 000 hosts, 3 interleaved runs
#   RUNS=1 DURATION=5 bench/peers.sh        # a quick look
#   HOSTS=100000 MODES=udp bench/peers.sh
#   HOSTS=100000 MODES=udp SERVERS="fedns fedns-toml knot nsd" bench/peers.sh
#                                           # loading: master file and TOML
#
# The zone: HOSTS hosts with an A and an AAAA record each, the Matrix SRV
# pair, at lab.test. The queries (written once, deterministic): 40 % A,
# 30 % AAAA, 10 % SRV, 10 % NXDOMAIN, 10 % NODATA. Every server loads the
# same master file.
#
# Each run, for each mode (udp, tcp) and server, interleaved: the server
# starts pinned to CPU 0 (dnsperf on CPU 1 when the machine has two), is
# ready when it answers the zone's SOA, then dnsperf sends queries for
# DURATION seconds (CLIENTS connections over TCP). The figure is the
# server's CPU time (user + system, /proc/PID/stat, its child processes
# included) in that window divided
# by the queries dnsperf saw answered; lost queries are reported beside it.
# Also per server and run: seconds from start to the first SOA answer, the
# CPU seconds it had used by then, and its RSS after the UDP run (NSD: main
# process and children).
#
# Everything binds 127.0.0.1; every wait is bounded; every process is started
# and stopped by its PID. Needs dnsperf, knotd, nsd, dig, taskset, python3, cc.
#
# The floor answers UDP only and loads nothing: it has no TCP row and no
# load or RSS figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOSTS=${HOSTS:-10000}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-8}
MODES=${MODES:-udp tcp}
SERVERS=${SERVERS:-fedns nsd knot floor}
OUT=${OUT:-/tmp/fedns-bench/peers/$(date -u +%Y%m%dT%H%M%SZ)}
PORT=${PORT:-5350}
LIMIT=${LIMIT:-120}

source "$ROOT/bench/lib.sh"
require peers "apt-get install -y dnsperf knot nsd bind9-dnsutils gcc" dnsperf knotd nsd dig python3 cc
fedns_binary
mkdir -p "$OUT"
cc -O2 -o "$OUT/floor" "$ROOT/bench/floor.c"

# ------------------------------------------------------------ zone and queries --
write_lab_zone "$OUT/lab.test.zone" "$HOSTS"
python3 - "$OUT" "$HOSTS" << 'EOF'
import random, sys
out, hosts = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
with open(f"{out}/queries.txt", "w") as q:
    for _ in range(100_000):
        r, i = rng.random(), rng.randrange(hosts)
        if r < 0.4:
            q.write(f"host{i}.lab.test A\n")
        elif r < 0.7:
            q.write(f"host{i}.lab.test AAAA\n")
        elif r < 0.8:
            q.write("_matrix-fed._tcp.lab.test SRV\n")
        elif r < 0.9:
            q.write(f"nohost{i}.lab.test A\n")
        else:
            q.write(f"host{i}.lab.test MX\n")
EOF

# ------------------------------------------------------------------ configs --
printf 'listen = ["127.0.0.1:%s"]\ndata_dir = "%s/fedns-data"\n[tcp]\nmax_connections = 64\n[[zone]]\nname = "lab.test"\nfile = "%s/lab.test.zone"\n' \
    "$PORT" "$OUT" "$OUT" > "$OUT/fedns.toml"
# fedns-toml: the same zone as a TOML zone file (fedns zone import).
if [[ " $SERVERS " == *" fedns-toml "* ]]; then
    "$FEDNS_BIN" zone import --origin lab.test --log warn "$OUT/lab.test.zone" > "$OUT/lab.test.toml"
    sed 's/lab\.test\.zone/lab.test.toml/' "$OUT/fedns.toml" > "$OUT/fedns-toml.toml"
fi
mkdir -p "$OUT/nsd" "$OUT/knot/db"
cat > "$OUT/nsd/nsd.conf" << EOF
server:
    ip-address: 127.0.0.1@$PORT
    port: $PORT
    username: ""
    chroot: ""
    zonesdir: "$OUT"
    database: ""
    pidfile: "$OUT/nsd/nsd.pid"
    xfrdfile: "$OUT/nsd/xfrd.state"
    zonelistfile: "$OUT/nsd/zone.list"
    xfrdir: "$OUT/nsd"
    server-count: 1
    verbosity: 0
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: lab.test
    zonefile: "$OUT/lab.test.zone"
EOF
cat > "$OUT/knot/knot.conf" << EOF
server:
    rundir: "$OUT/knot"
    listen: 127.0.0.1@$PORT
    background-workers: 1
    udp-workers: 1
    tcp-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$OUT/knot/db"
template:
  - id: default
    storage: "$OUT"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: lab.test
    file: "lab.test.zone"
EOF

# ----------------------------------------------------------------- measures --
descendants() { # pid -> it and every process below it (NSD serves in a grandchild)
    local p
    echo "$1"
    for p in $(pgrep -P "$1" 2> /dev/null); do descendants "$p"; done
}
cpu_ticks() { # pid -> CPU ticks (user + system) of it and its descendants
    local total=0 p v
    for p in $(descendants "$1"); do
        # Fields after "pid (comm) ": comm may hold spaces ("nsd: main").
        v=$(sed 's/.*) //' "/proc/$p/stat" 2> /dev/null | awk '{print $12 + $13}')
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
rss_kb() { # pids... -> summed VmRSS in kB
    local total=0 p v
    for p in "$@"; do
        v=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2> /dev/null || echo 0)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
start_server() { # server log; sets PID, LOAD_S (seconds to the first SOA answer) and LOAD_CPU (CPU seconds used by then)
    local start deadline
    start=$(now)
    case $1 in
        fedns) "${PIN_SERVER[@]}" "$FEDNS_BIN" serve --config "$OUT/fedns.toml" --log warn > "$2" 2>&1 & ;;
        fedns-toml) "${PIN_SERVER[@]}" "$FEDNS_BIN" serve --config "$OUT/fedns-toml.toml" --log warn > "$2" 2>&1 & ;;
        nsd) "${PIN_SERVER[@]}" nsd -d -c "$OUT/nsd/nsd.conf" > "$2" 2>&1 & ;;
        knot) "${PIN_SERVER[@]}" knotd -c "$OUT/knot/knot.conf" > "$2" 2>&1 & ;;
        floor) "${PIN_SERVER[@]}" "$OUT/floor" "$PORT" > "$2" 2>&1 & ;;
    esac
    PID=$!
    deadline=$((SECONDS + LIMIT))
    until dig +time=1 +tries=1 +short -p "$PORT" @127.0.0.1 lab.test SOA 2> /dev/null | grep -q hostmaster; do
        ((SECONDS < deadline)) || { echo "peers: $1 did not start" >&2; return 1; }
        sleep 0.02
    done
    LOAD_S=$(python3 -c "print(round($(now) - $start, 3))")
    LOAD_CPU=$(python3 -c "import os; print(round($(cpu_ticks "$PID") / os.sysconf('SC_CLK_TCK'), 2))")
}

run_one() { # server run
    local server=$1 run=$2 mode before after rss d=$OUT/$1-$2
    mkdir -p "$d"
    start_server "$server" "$d/server.log" # in this shell: it sets PID
    [[ -n $PID ]] || return 1
    for mode in $MODES; do
        [[ $server == floor && $mode != udp ]] && continue
        before=$(cpu_ticks "$PID")
        "${PIN_CLIENT[@]}" timeout $((DURATION + 30)) dnsperf -m "$mode" -s 127.0.0.1 -p "$PORT" \
            -d "$OUT/queries.txt" -c "$([[ $mode == udp ]] && echo 1 || echo "$CLIENTS")" \
            -l "$DURATION" > "$d/$mode.dnsperf" 2>&1
        after=$(cpu_ticks "$PID")
        python3 - "$server" "$run" "$mode" "$before" "$after" "$d/$mode.dnsperf" << 'EOF' | tee -a "$OUT/results.tsv"
import os, re, sys
server, run, mode, before, after, path = sys.argv[1:]
text = open(path).read()
completed = int(re.search(r"Queries completed:\s+(\d+)", text).group(1))
lost = int(re.search(r"Queries lost:\s+(\d+)", text).group(1))
cpu = (int(after) - int(before)) / os.sysconf("SC_CLK_TCK")
print(f"{server}\t{run}\t{mode}\t{completed}\t{lost}\t{cpu:.2f}\t{cpu * 1e6 / completed if completed else 0:.2f}")
EOF
    done
    # shellcheck disable=SC2046
    rss=$(rss_kb $(descendants "$PID"))
    [[ $server == floor ]] || printf '%s\t%s\t%s\t%s\t%s\n' "$server" "$run" "$LOAD_S" "$rss" "$LOAD_CPU" >> "$OUT/load.tsv"
    stop_server
}

printf 'server\trun\tmode\tqueries\tlost\tcpu_s\tus_per_query\n' > "$OUT/results.tsv"
printf 'server\trun\tload_s\trss_kb\tload_cpu_s\n' > "$OUT/load.tsv"
echo "peers: $HOSTS hosts, $RUNS run(s) of ${DURATION}s per mode ($MODES), results in $OUT" >&2
for ((r = 1; r <= RUNS; r++)); do
    for s in $SERVERS; do run_one "$s" "$r"; done
done

python3 - "$OUT" "$HOSTS" << 'EOF'
import statistics, sys
out, hosts = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(f"{out}/results.tsv")][1:]
load = [l.rstrip("\n").split("\t") for l in open(f"{out}/load.tsv")][1:]
servers = []
for r in rows:
    if r[0] not in servers:
        servers.append(r[0])
peers = [p for p in servers if p != "fedns"]
def med(values):
    return statistics.median(values) if values else 0.0
print(f"\n{hosts} hosts, medians of {max(int(r[1]) for r in rows)} run(s)\n")
print("| | " + " | ".join(servers) + " | " + " | ".join(f"fedns / {p}" for p in peers) + " |")
print("|---|" + "---:|" * (len(servers) + len(peers)))
for mode in dict.fromkeys(r[2] for r in rows):
    m = {s: med([float(r[6]) for r in rows if r[0] == s and r[2] == mode]) for s in servers}
    lost = {s: sum(int(r[4]) for r in rows if r[0] == s and r[2] == mode) for s in servers}
    print(f"| {mode.upper()}, us of server CPU per query | " + " | ".join(f"{m[s]:.1f}" if m[s] else "-" for s in servers) + " | "
          + " | ".join(f"{m['fedns'] / m[p]:.2f}" if m[p] else "-" for p in peers) + " |")
    if any(lost.values()):
        print(f"| {mode.upper()}, queries lost (all runs) | " + " | ".join(str(lost[s]) for s in servers) + " |" + " |" * len(peers))
for label, col, scale, fmt in [("start to first SOA answer", 2, 1, "{:.2f} s"), ("CPU to first SOA answer", 4, 1, "{:.2f} s"), ("RSS serving", 3, 1024, "{:.0f} MB")]:
    m = {s: med([float(r[col]) / scale for r in load if r[0] == s]) for s in servers}
    print(f"| {label} | " + " | ".join(fmt.format(m[s]) if m[s] else "-" for s in servers) + " | "
          + " | ".join(f"{m['fedns'] / m[p]:.2f}" if m[p] else "-" for p in peers) + " |")
EOF
