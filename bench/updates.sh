#!/usr/bin/env bash
# bench/updates.sh - dynamic updates per second, fedns and Knot side by side.
#
#   bench/updates.sh                    # 2000 updates, 3 interleaved runs
#   UPDATES=500 RUNS=1 bench/updates.sh
#   HOSTS=10000 bench/updates.sh        # into a zone of 10 000 hosts
#
# Each run sends UPDATES messages over one TCP connection with `knsupdate -v`
# (TSIG hmac-sha256): single-record adds and deletes, alternating (add
# _acme-challenge.hN TXT, then delete it), each its own UPDATE message
# answered before the next is sent, as an ACME client does. Reported: the
# updates per second (wall clock from the first message to the last
# answer, knsupdate included, the same client for both servers), checked
# afterwards: the serial moved by exactly UPDATES and no TXT is left.
#
# Both servers make every update durable before answering: fedns fsyncs its
# journal, Knot its journal (LMDB) likewise. Knot loads the zone with
# `zonefile-sync: -1` (no flushing to the zone file during the run).
#
# The zone is a master file of HOSTS hosts (default 10: an ACME zone).
# Everything binds 127.0.0.1 only; every wait is bounded; every process is
# started and stopped by its PID. Needs knotd, knsupdate, dig, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
UPDATES=${UPDATES:-2000}
RUNS=${RUNS:-3}
HOSTS=${HOSTS:-10}
SERVERS=${SERVERS:-fedns knot}
OUT=${OUT:-/tmp/fedns-bench/updates/$(date -u +%Y%m%dT%H%M%SZ)}
PORT=${PORT:-5330}
LIMIT=${LIMIT:-300}
SECRET=h2sOGgwTDCAdkOiEo5Uqzd4z4LdDD4iHmk5R4A1fR7s=

source "$ROOT/bench/lib.sh"
require updates "apt-get install -y knot knot-dnsutils bind9-dnsutils" knotd knsupdate dig python3
fedns_binary
mkdir -p "$OUT"

write_zone() { # file
    {
        printf '$ORIGIN lab.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 198.18.0.53\n'
        for ((i = 0; i < HOSTS; i++)); do
            printf 'host%d A 198.18.%d.%d\n' "$i" $((i / 256 % 256)) $((i % 256))
        done
    } > "$1"
}
SCRIPT=$OUT/updates.txt
{
    printf 'server 127.0.0.1 %s\nzone lab.test.\n' "$PORT"
    for ((i = 0; i < UPDATES; i++)); do
        n=$((i / 2))
        if ((i % 2 == 0)); then
            printf 'update add _acme-challenge.h%d.lab.test. 60 TXT "token-%d"\nsend\n' "$n" "$n"
        else
            printf 'update delete _acme-challenge.h%d.lab.test. TXT\nsend\n' "$n"
        fi
    done
} > "$SCRIPT"

fedns_conf() {
    local d=$1
    cat > "$d/fedns.toml" << EOF
listen = ["127.0.0.1:$PORT"]
data_dir = "$d/data"
[[tsig_key]]
name = "acme-key"
secret = "$SECRET"
[[zone]]
name = "lab.test"
file = "$d/lab.test.zone"
[[zone.update]]
key = "acme-key"
names = ["_acme-challenge.*"]
types = ["TXT"]
EOF
}
knot_conf() {
    local d=$1
    mkdir -p "$d/db"
    cat > "$d/knot.conf" << EOF
server:
    rundir: "$d"
    listen: 127.0.0.1@$PORT
log:
  - target: stderr
    any: warning
database:
    storage: "$d/db"
key:
  - id: acme-key
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: acme
    key: acme-key
    action: update
    update-type: TXT
template:
  - id: default
    storage: "$d"
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: lab.test
    file: "lab.test.zone"
    acl: acme
EOF
}

serial() { dig +time=1 +tries=1 +short -p "$PORT" @127.0.0.1 lab.test SOA 2> /dev/null | awk '{print $3}'; }
wait_serial() {
    local deadline=$((SECONDS + LIMIT))
    until [[ $(serial) == "$1" ]]; do
        ((SECONDS < deadline)) || { echo "updates: serial $1 not reached" >&2; return 1; }
        sleep 0.05
    done
}

run_one() { # server run
    local server=$1 run=$2 d=$OUT/$1-$2 start secs left
    rm -rf "$d"
    mkdir -p "$d"
    write_zone "$d/lab.test.zone"
    "${server}_conf" "$d"
    case $server in
        fedns) "$FEDNS_BIN" serve --config "$d/fedns.toml" --log warn > "$d/log" 2>&1 & ;;
        knot) knotd -c "$d/knot.conf" > "$d/log" 2>&1 & ;;
    esac
    PID=$!
    wait_serial 1
    start=$(now)
    timeout "$LIMIT" knsupdate -v -y "hmac-sha256:acme-key:$SECRET" "$SCRIPT" > "$d/knsupdate.log" 2>&1
    secs=$(python3 -c "print(round($(now) - $start, 3))")
    wait_serial $((1 + UPDATES))
    left=$(dig +short -p "$PORT" @127.0.0.1 _acme-challenge.h0.lab.test TXT | wc -l)
    [[ $left == 0 ]] || { echo "updates: $server left a TXT behind" >&2; return 1; }
    stop_server
    printf '%s\t%s\t%s\t%s\n' "$server" "$run" "$secs" "$(python3 -c "print(round($UPDATES / $secs))")" | tee -a "$OUT/results.tsv"
}

printf 'server\trun\tseconds\tupdates_per_s\n' > "$OUT/results.tsv"
echo "updates: $UPDATES updates into a zone of $HOSTS hosts, $RUNS run(s), results in $OUT" >&2
for ((r = 1; r <= RUNS; r++)); do
    for s in $SERVERS; do run_one "$s" "$r"; done
done

medians_table "$OUT/results.tsv" 3 "updates/s (median)"
