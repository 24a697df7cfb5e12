#!/usr/bin/env bash
# bench/run-peers.sh - fedns next to NSD and Knot under dnsperf, the way the
# shared harness measures every peer (../shared/bench/peers.sh: server pinned
# to CPU 1, dnsperf to CPU 0, server CPU time per answered query).
#
#   bench/run-peers.sh                      # 3 interleaved runs, then the table
#   RUNS=1 HOSTS_LIST=10000 bench/run-peers.sh
#
# What it does:
#   1. cargo build --release (skip with NO_BUILD=1; FEDNS_BIN overrides);
#   2. writes an EXTRA_SERVERS_FILE registering fedns on port 5310;
#   3. RUNS times (interleaved: every run measures every server and size once):
#        HOSTS=10000            mixed UDP and TCP + one UDP run per query class
#        HOSTS=1000 and 100000  UDP mixed + NXDOMAIN and NODATA classes (scaling)
#      with ONLY=fedns,knot,nsd (SERVERS overrides);
#   4. times the start of each server on the largest zone (load to first SOA
#      answer) and records its peak RSS (VmHWM) after load;
#   5. prints summarize.py's tables and the medians (bench/medians.py).
#
# Environment: FEDNS_SHARED (default ../shared beside the repo), RUNS (3),
# HOSTS_LIST ("1000 10000 100000"), MIX_HOSTS (10000: the size measured with
# TCP and all classes), DURATION/SPLIT_DURATION/... (passed to peers.sh),
# OUT (results root, default /tmp/fedns-bench/run-peers/<utc time>),
# FEDNS_ZONE_FORMAT (auto|zone|toml: what fedns loads; auto = the master file
# when this fedns reads master files, else the same zone converted to TOML).
#
# Everything binds 127.0.0.1 only; every load is bounded by dnsperf -l; every
# process is started and stopped by PID (lib.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${FEDNS_SHARED:-$ROOT/../shared}
BENCH=$SHARED/bench
[[ -f $BENCH/peers.sh && -f $BENCH/lib.sh ]] || {
    echo "run-peers: $BENCH/peers.sh not found (set FEDNS_SHARED to the shared/ dir)" >&2; exit 1; }
BENCH=$(cd "$BENCH" && pwd)

for t in dnsperf knotd nsd dig taskset python3; do
    command -v "$t" >/dev/null || {
        echo "run-peers: missing $t; install: apt-get install -y dnsperf knot nsd bind9 bind9-dnsutils" >&2
        exit 1; }
done

RUNS=${RUNS:-3}
HOSTS_LIST=${HOSTS_LIST:-1000 10000 100000}
MIX_HOSTS=${MIX_HOSTS:-10000}
SERVERS=${SERVERS:-fedns,knot,nsd}
export SCRATCH=${SCRATCH:-/tmp/fedns-bench}
OUT=${OUT:-$SCRATCH/run-peers/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

# ------------------------------------------------------------------ build --
if [[ -z ${FEDNS_BIN:-} ]]; then
    if [[ ${NO_BUILD:-0} != 1 ]]; then
        (cd "$ROOT" && cargo build --release --bin fedns) >&2
    fi
    FEDNS_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/fedns
fi
[[ -x $FEDNS_BIN ]] || { echo "run-peers: no fedns binary at $FEDNS_BIN" >&2; exit 1; }
FEDNS_BIN=$(cd "$(dirname "$FEDNS_BIN")" && pwd)/$(basename "$FEDNS_BIN")

# Does this fedns read RFC 1035 master files?  (A one-record zone, checked.)
probe=$OUT/probe
mkdir -p "$probe"
# shellcheck disable=SC2016  # a literal master file
printf '$ORIGIN probe.test.\n$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\n' \
    > "$probe/probe.test.zone"
master_ok=0
"$FEDNS_BIN" --log error check "$probe/probe.test.zone" > /dev/null 2>&1 && master_ok=1
FORMAT=${FEDNS_ZONE_FORMAT:-auto}
if [[ $FORMAT = auto ]]; then
    if [[ $master_ok = 1 ]]; then FORMAT=zone; else FORMAT=toml; fi
fi
echo "run-peers: fedns $FEDNS_BIN serves the .$FORMAT zone (master files supported: $master_ok)" >&2

# ------------------------------------------------------------ extra server --
# Sourced by lib.sh's register_peers.  FEDNS_BIN is expanded now (written
# into the file); PORT, DATA and ZONE_FILE are escaped so that they expand in
# the server's own `bash -c "exec ..."`, where lib.sh exports them.
EXTRA=$OUT/fedns-server.sh
# shellcheck disable=SC2016  # expanded by the server's bash -c, not here
if [[ $FORMAT = zone ]]; then
    zone_arg='\"\$ZONE_FILE\"'
else
    zone_arg='\"\$DATA/example.test.toml\"'
fi
cat > "$EXTRA" <<EOF
# written by bench/run-peers.sh
register_server fedns 5310 "'$FEDNS_BIN' --log warn serve --listen 127.0.0.1:\\\$PORT --zone $zone_arg"
EOF

# The data of one size: genzone.py's zone and queries (lib.sh's ensure_data
# makes them on first use), and its TOML twin when fedns needs it.
data_dir() { echo "$SCRATCH/data-$1"; }
prepare_data() {  # hosts
    local d
    d=$(data_dir "$1")
    if [[ ! -s $d/example.test.zone || ! -s $d/queries.txt ]]; then
        python3 "$BENCH/genzone.py" --hosts "$1" --queries "${NQUERIES:-100000}" \
            --seed "${SEED:-20240101}" --out-dir "$d" > /dev/null
    fi
    if [[ $FORMAT = toml && ( ! -s $d/example.test.toml || $d/example.test.zone -nt $d/example.test.toml ) ]]; then
        python3 "$ROOT/bench/zone2toml.py" "$d/example.test.zone" "$d/example.test.toml"
    fi
}

peers() {  # hosts run-label
    local hosts=$1 label=$2 modes=udp classes="NXDOMAIN NODATA"
    if [[ $hosts = "$MIX_HOSTS" ]]; then modes="udp tcp"; classes="A AAAA SRV NXDOMAIN NODATA"; fi
    echo "== run $label, $hosts hosts ==" >&2
    HOSTS=$hosts DATA=$(data_dir "$hosts") ONLY=$SERVERS MODES=$modes SPLIT=1 \
        SPLIT_CLASSES=$classes EXTRA_SERVERS_FILE=$EXTRA \
        RESULTS=$OUT/h$hosts/run$label \
        bash "$BENCH/peers.sh" > "$OUT/h$hosts.run$label.log" || {
            echo "run-peers: peers.sh failed for $hosts hosts, run $label (see $OUT/h$hosts.run$label.log)" >&2
            return 1; }
}

# ------------------------------------------------------------- load time --
# Start each server alone on the largest zone, pinned like peers.sh does,
# time it until it answers the SOA (polled every 50 ms), and read its peak
# RSS (VmHWM) and RSS then.  fedns is timed on the master file (when it reads
# them) and on the same zone as TOML (LOAD_TOML=0 skips that).
load_times() {  # hosts
    local hosts=$1 d
    d=$(data_dir "$hosts")
    [[ ${LOAD_TOML:-1} = 1 && ! -s $d/example.test.toml ]] && \
        python3 "$ROOT/bench/zone2toml.py" "$d/example.test.zone" "$d/example.test.toml"
    (
        # shellcheck source=/dev/null
        source "$BENCH/lib.sh"
        DATA=$d
        ZONE_FILE=$d/example.test.zone
        LOG_DIR=$OUT/load-logs
        mkdir -p "$LOG_DIR" "$RUN"  # RUN: set by lib.sh
        register_peers 2> /dev/null
        ONLY=knot,nsd filter_servers
        [[ $master_ok = 1 ]] && register_server fedns-zone 5311 \
            "'$FEDNS_BIN' --log warn serve --listen 127.0.0.1:\$PORT --zone \"\$ZONE_FILE\""
        [[ ${LOAD_TOML:-1} = 1 ]] && register_server fedns-toml 5312 \
            "'$FEDNS_BIN' --log warn serve --listen 127.0.0.1:\$PORT --zone \"\$DATA/example.test.toml\""
        trap 'stop_all' EXIT
        local name pid t0 t1 ready hwm rss i
        for name in "${SERVER_NAMES[@]}"; do
            t0=$(date +%s.%N)
            PORT=${SERVER_PORT[$name]} ZONE_FILE=$ZONE_FILE DATA=$DATA ZONE_NAME=$ZONE_NAME RUN=$RUN \
                taskset -c "$SERVER_CPU" bash -c "exec ${SERVER_CMD[$name]}" \
                > "$LOG_DIR/$name.log" 2>&1 < /dev/null &
            pid=$!
            SERVER_PID[$name]=$pid
            ready=0
            for ((i = 0; i < ${LOAD_TIMEOUT:-600} * 10; i++)); do
                kill -0 "$pid" 2> /dev/null || break
                if [[ $(dig +short +time=1 +tries=1 -p "${SERVER_PORT[$name]}" @127.0.0.1 \
                        "$ZONE_NAME" SOA 2> /dev/null) == *" $EXPECT_SERIAL "* ]]; then
                    ready=1
                    break
                fi
                sleep 0.05
            done
            t1=$(date +%s.%N)
            hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status" 2> /dev/null || echo '?')
            rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2> /dev/null || echo '?')
            if [[ $ready = 1 ]]; then
                printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$hosts" \
                    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" "$hwm" "$rss"
            else
                printf '%s\t%s\tfailed\t%s\t%s\n' "$name" "$hosts" "$hwm" "$rss"
            fi
            stop_server "$name"
        done
    )
}

for h in $HOSTS_LIST; do prepare_data "$h"; done

for ((r = 1; r <= RUNS; r++)); do
    for h in $HOSTS_LIST; do
        peers "$h" "$r" || true
    done
done

largest=$(printf '%s\n' $HOSTS_LIST | sort -n | tail -1)
{
    printf 'server\thosts\tload_s\tpeak_rss_kb\trss_kb\n'
    load_times "$largest"
} > "$OUT/load.tsv"

# ------------------------------------------------------------------ tables --
for h in $HOSTS_LIST; do
    runs=("$OUT/h$h"/run*)
    [[ -d ${runs[0]} ]] || continue
    echo
    echo "## $h hosts"
    echo
    python3 "$BENCH/summarize.py" "${runs[@]}"
done > "$OUT/summary.md"
cat "$OUT/summary.md"
echo
python3 "$ROOT/bench/medians.py" --bench "$BENCH" "$OUT" | tee "$OUT/medians.md"
echo "run-peers: results in $OUT (fedns served the .$FORMAT zone)" >&2
