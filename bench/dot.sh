#!/usr/bin/env bash
# bench/dot.sh - DNS over TLS: queries answered per CPU-second of the
# server, fedns and BIND 9.18 side by side (the one peer in Debian 12 with
# DoT), on the same zone and the same query file.
#
#   bench/dot.sh                       # 3 interleaved runs of 10 s each
#   RUNS=1 SECONDS_PER_RUN=5 bench/dot.sh
#
# Each run: the server starts (pinned to CPU 0 when taskset exists; dnsperf
# to CPU 1), `dnsperf -m dot` keeps CLIENTS connections busy for
# SECONDS_PER_RUN seconds over 127.0.0.1, and the figure is the queries
# dnsperf saw answered divided by the CPU time (user + system, from
# /proc/PID/stat) the server spent in that window. Then the medians and the
# ratio. Zone: 1 000 hosts; queries: their A records. Everything binds
# 127.0.0.1; every wait is bounded; processes are stopped by PID.
# Needs: named (bind9), dnsperf, openssl, dig, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-8}
SERVERS=${SERVERS:-fedns bind}
OUT=${OUT:-/tmp/fedns-bench/dot/$(date -u +%Y%m%dT%H%M%SZ)}
PORT=${PORT:-5340}
TLS_PORT=${TLS_PORT:-5341}
LIMIT=${LIMIT:-60}

source "$ROOT/bench/lib.sh"
require dot "apt-get install -y bind9 dnsperf openssl bind9-dnsutils" named dnsperf openssl dig python3
fedns_binary
mkdir -p "$OUT"

# ------------------------------------------------------ zone, queries, certificate --
{
    printf '$ORIGIN lab.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 198.18.0.53\n'
    for ((i = 0; i < 1000; i++)); do printf 'host%d A 198.18.%d.%d\n' "$i" $((i / 256)) $((i % 256)); done
} > "$OUT/lab.test.zone"
for ((i = 0; i < 1000; i++)); do printf 'host%d.lab.test A\n' "$i"; done > "$OUT/queries.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ns1.lab.test \
    -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2> /dev/null

cat > "$OUT/fedns.toml" << EOF
listen = ["127.0.0.1:$PORT"]
data_dir = "$OUT/fedns-data"
[tls]
listen = ["127.0.0.1:$TLS_PORT"]
certificate = "$OUT/cert.pem"
key = "$OUT/key.pem"
[tcp]
max_connections = 64
[[zone]]
name = "lab.test"
file = "$OUT/lab.test.zone"
EOF
mkdir -p "$OUT/bind"
cat > "$OUT/bind/named.conf" << EOF
tls bench-tls { key-file "$OUT/key.pem"; cert-file "$OUT/cert.pem"; };
options {
    directory "$OUT/bind";
    pid-file "$OUT/bind/named.pid";
    session-keyfile "$OUT/bind/session.key";
    managed-keys-directory "$OUT/bind";
    listen-on port $PORT { 127.0.0.1; };
    listen-on port $TLS_PORT tls bench-tls { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
};
controls { };
zone "lab.test" { type primary; file "$OUT/lab.test.zone"; };
EOF

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_one() { # server run
    local server=$1 run=$2 before after queries deadline
    case $server in
        fedns) "${PIN_SERVER[@]}" "$FEDNS_BIN" serve --config "$OUT/fedns.toml" --log warn > "$OUT/$server-$run.log" 2>&1 & ;;
        bind) "${PIN_SERVER[@]}" named -g -n 1 -c "$OUT/bind/named.conf" > "$OUT/$server-$run.log" 2>&1 & ;;
    esac
    PID=$!
    deadline=$((SECONDS + LIMIT))
    until dig +time=1 +tries=1 +short -p "$PORT" @127.0.0.1 lab.test SOA 2> /dev/null | grep -q hostmaster; do
        ((SECONDS < deadline)) || { echo "dot: $server did not start" >&2; return 1; }
        sleep 0.1
    done
    before=$(cpu_ticks "$PID")
    "${PIN_CLIENT[@]}" timeout $((SECONDS_PER_RUN + 30)) dnsperf -m dot -s 127.0.0.1 -p "$TLS_PORT" \
        -d "$OUT/queries.txt" -c "$CLIENTS" -l "$SECONDS_PER_RUN" -q 200 > "$OUT/$server-$run.dnsperf" 2>&1
    after=$(cpu_ticks "$PID")
    queries=$(awk '/Queries completed:/ {print $3}' "$OUT/$server-$run.dnsperf")
    stop_server
    python3 -c "
import os
ticks = os.sysconf('SC_CLK_TCK')
cpu = ($after - $before) / ticks
print('$server\t$run\t$queries\t%.2f\t%.0f' % (cpu, $queries / cpu if cpu else 0))" | tee -a "$OUT/results.tsv"
}

printf 'server\trun\tqueries\tcpu_s\tqueries_per_cpu_s\n' > "$OUT/results.tsv"
echo "dot: $RUNS run(s) of ${SECONDS_PER_RUN}s, $CLIENTS DoT connections, results in $OUT" >&2
for ((r = 1; r <= RUNS; r++)); do
    for s in $SERVERS; do run_one "$s" "$r"; done
done

medians_table "$OUT/results.tsv" 4 "DoT queries per CPU-second (median)"
