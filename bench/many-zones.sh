#!/usr/bin/env bash
# bench/many-zones.sh - fedns, Knot and NSD serving the same N small zones
# (default 10 000): start time, memory, and reload times, side by side.
#
#   bench/many-zones.sh                 # 10 000 zones, 3 interleaved runs
#   ZONES=1000 RUNS=1 bench/many-zones.sh
#
# For each run and each server (fedns, knot, nsd; SERVERS overrides):
#   start     seconds from exec to the SOA answer of the last zone listed
#             (every zone is loaded by then: each server loads before it
#             answers, and the last zone is polled until it answers);
#   rss       VmRSS of the serving process once started (NSD: its serving
#             child as well as the main process, summed);
#   one       seconds from asking for one zone to be reloaded (its file
#             changed, serial + 1) to the new serial being answered:
#             `fedns ctl reload Z`, `knotc zone-reload Z`, `nsd-control reload Z`;
#   all       the same for a reload of everything (SIGHUP for fedns and
#             Knot, `nsd-control reload` for NSD) after one zone changed.
# Then the medians per server and the ratios to Knot and NSD.
#
# Zones are master files, 4 records each (SOA, NS, A for the NS, A at the
# apex): the shape of a lab's or a hoster's many small zones. Everything
# binds 127.0.0.1 only; every wait is bounded; every process is started
# and stopped by its PID. Needs knotd, knotc, nsd, nsd-control, dig.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ZONES=${ZONES:-10000}
RUNS=${RUNS:-3}
SERVERS=${SERVERS:-fedns knot nsd}
OUT=${OUT:-/tmp/fedns-bench/many-zones/$(date -u +%Y%m%dT%H%M%SZ)}
PORT=${PORT:-5320}
LIMIT=${LIMIT:-300}   # seconds any one wait may take

source "$ROOT/bench/lib.sh"
require many-zones "apt-get install -y knot knot-dnsutils nsd bind9-dnsutils" knotd knotc nsd nsd-control dig python3
fedns_binary
mkdir -p "$OUT"
Z=$OUT/zones
mkdir -p "$Z"

# ---------------------------------------------------------------- zones --
zone_name() { printf 'zone%05d.test.' "$1"; }
write_zone() { # index serial
    local n
    n=$(zone_name "$1")
    printf '$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %s 7200 900 1209600 300\n@ NS ns1\nns1 A 198.18.0.53\n@ A 198.18.%d.%d\n' \
        "$n" "$2" "$(($1 / 256 % 256))" "$(($1 % 256))" > "$Z/${n}zone"
}
if [[ ! -f $Z/.done ]]; then
    for ((i = 0; i < ZONES; i++)); do write_zone "$i" 1; done
    touch "$Z/.done"
fi
LAST=$(zone_name $((ZONES - 1)))
CHANGED=$(zone_name $((ZONES / 2)))

# -------------------------------------------------------------- configs --
fedns_conf() {
    local d=$1
    mkdir -p "$d"
    printf 'listen = ["127.0.0.1:%s"]\nzones_dir = "%s"\ndata_dir = "%s/data"\n' "$PORT" "$Z" "$d" > "$d/fedns.toml"
}
knot_conf() {
    local d=$1 i n
    mkdir -p "$d/db"
    {
        printf 'server:\n    rundir: "%s"\n    listen: 127.0.0.1@%s\n' "$d" "$PORT"
        printf 'log:\n  - target: stderr\n    any: warning\n'
        printf 'database:\n    storage: "%s/db"\n' "$d"
        printf 'template:\n  - id: default\n    storage: "%s"\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n' "$Z"
        printf 'zone:\n'
        for ((i = 0; i < ZONES; i++)); do
            n=$(zone_name "$i")
            printf '  - domain: %s\n    file: "%szone"\n' "$n" "$n"
        done
    } > "$d/knot.conf"
}
nsd_conf() {
    local d=$1 i n
    mkdir -p "$d"
    {
        printf 'server:\n    ip-address: 127.0.0.1@%s\n    port: %s\n    username: ""\n    chroot: ""\n' "$PORT" "$PORT"
        printf '    zonesdir: "%s"\n    database: ""\n    pidfile: "%s/nsd.pid"\n    xfrdfile: "%s/xfrd.state"\n' "$Z" "$d" "$d"
        printf '    zonelistfile: "%s/zone.list"\n    xfrdir: "%s"\n    server-count: 1\n    verbosity: 0\n' "$d" "$d"
        printf 'remote-control:\n    control-enable: yes\n    control-interface: "%s/nsd.ctl"\n' "$d"
        for ((i = 0; i < ZONES; i++)); do
            n=$(zone_name "$i")
            printf 'zone:\n    name: %s\n    zonefile: "%szone"\n' "$n" "$n"
        done
    } > "$d/nsd.conf"
}

# ------------------------------------------------------------- measures --
serial_of() { dig +time=1 +tries=1 +short -p "$PORT" @127.0.0.1 "$1" SOA 2> /dev/null | awk '{print $3}'; }
wait_serial() { # zone serial -> seconds waited, or fails after LIMIT
    local start deadline
    start=$(now)
    deadline=$((SECONDS + LIMIT))
    until [[ $(serial_of "$1") == "$2" ]]; do
        ((SECONDS < deadline)) || { echo "many-zones: $1 never reached serial $2" >&2; return 1; }
        sleep 0.02
    done
    python3 -c "print(round($(now) - $start, 3))"
}
rss_kb() { # pids... -> summed VmRSS in kB
    local total=0 p v
    for p in "$@"; do
        v=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2> /dev/null || echo 0)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

run_one() { # server run
    local server=$1 run=$2 d=$OUT/$1-$2 start t_start rss one all pids
    rm -rf "$d"
    write_zone $((ZONES / 2)) 1
    "${server}_conf" "$d"
    start=$(now)
    case $server in
        fedns) "$FEDNS_BIN" serve --config "$d/fedns.toml" --log warn > "$d/log" 2>&1 & ;;
        knot) knotd -c "$d/knot.conf" > "$d/log" 2>&1 & ;;
        nsd) nsd -d -c "$d/nsd.conf" > "$d/log" 2>&1 & ;;
    esac
    PID=$!
    wait_serial "$LAST" 1 > /dev/null
    t_start=$(python3 -c "print(round($(now) - $start, 3))")
    sleep 1
    pids=$PID
    [[ $server == nsd ]] && pids="$PID $(pgrep -P "$PID" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    rss=$(rss_kb $pids)
    write_zone $((ZONES / 2)) 2
    case $server in
        fedns) "$FEDNS_BIN" ctl --config "$d/fedns.toml" reload "$CHANGED" > /dev/null ;;
        knot) knotc -c "$d/knot.conf" zone-reload "$CHANGED" > /dev/null ;;
        nsd) nsd-control -c "$d/nsd.conf" reload "$CHANGED" > /dev/null ;;
    esac
    one=$(wait_serial "$CHANGED" 2)
    write_zone $((ZONES / 2)) 3
    case $server in
        fedns | knot) kill -HUP "$PID" ;;
        nsd) nsd-control -c "$d/nsd.conf" reload > /dev/null ;;
    esac
    all=$(wait_serial "$CHANGED" 3)
    stop_server
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$run" "$t_start" "$rss" "$one" "$all" | tee -a "$OUT/results.tsv"
}

printf 'server\trun\tstart_s\trss_kb\treload_one_s\treload_all_s\n' > "$OUT/results.tsv"
echo "many-zones: $ZONES zones, $RUNS run(s), results in $OUT" >&2
for ((r = 1; r <= RUNS; r++)); do
    for s in $SERVERS; do run_one "$s" "$r"; done
done
write_zone $((ZONES / 2)) 1

python3 - "$OUT/results.tsv" "$ZONES" << 'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
servers = []
for r in rows:
    if r[0] not in servers:
        servers.append(r[0])
cols = [("start", 2, "s"), ("RSS", 3, "MB"), ("reload one zone", 4, "s"), ("reload all", 5, "s")]
med = {}
for s in servers:
    for name, i, _ in cols:
        vals = [float(r[i]) for r in rows if r[0] == s]
        med[s, name] = statistics.median(vals) / (1024 if name == "RSS" else 1)
print(f"\n{sys.argv[2]} zones, medians of {len([r for r in rows if r[0] == servers[0]])} run(s)\n")
print("| | " + " | ".join(servers) + " | " + " | ".join(f"fedns / {p}" for p in servers if p != "fedns") + " |")
print("|---|" + "---:|" * (2 * len(servers) - 1))
for name, _, unit in cols:
    cells = [f"{med[s, name]:.3f} {unit}" if unit == "s" else f"{med[s, name]:.0f} {unit}" for s in servers]
    ratios = [f"{med['fedns', name] / med[p, name]:.2f}" if med[p, name] else "-" for p in servers if p != "fedns"]
    print(f"| {name} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
EOF
