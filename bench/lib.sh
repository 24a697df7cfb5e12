# bench/lib.sh - what the side-by-side benchmark scripts share; sourced by
# every script in bench/.
#
#   fedns_binary    sets FEDNS_BIN: as given, else the release build (built
#                   first unless NO_BUILD=1)
#   now             the time in seconds, with nanoseconds
#   PID, stop_server
#                   the server a run started: stopped by PID (TERM, up to
#                   10 s, then KILL), and on exit whatever happens
#   require NAME HINT TOOL...
#                   exits with the apt-get line HINT when a tool is missing
#   PIN_SERVER, PIN_CLIENT
#                   taskset prefixes: the server on CPU 0, the client on
#                   CPU 1 (empty on a single core or without taskset)
#   write_lab_zone FILE HOSTS
#                   the benchmark zone lab.test: HOSTS hosts with an A and
#                   an AAAA each, and the Matrix SRV pair (bench/peers.sh,
#                   bench/axfr.sh)
#   medians_table TSV COLUMN LABEL
#                   one Markdown table row: the median of COLUMN (0-based)
#                   per server (first column) and fedns's ratio to each peer

fedns_binary() {
    if [[ -z ${FEDNS_BIN:-} ]]; then
        [[ ${NO_BUILD:-0} == 1 ]] || (cd "$ROOT" && cargo build --release --bin fedns) >&2
        FEDNS_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/fedns
    fi
}

now() { date +%s.%N; }

require() {
    local name=$1 hint=$2 t
    shift 2
    for t in "$@"; do
        command -v "$t" > /dev/null || { echo "$name: missing $t; install: $hint" >&2; exit 1; }
    done
}

PIN_SERVER=() PIN_CLIENT=()
if command -v taskset > /dev/null && (($(nproc) >= 2)); then
    PIN_SERVER=(taskset -c 0) PIN_CLIENT=(taskset -c 1)
fi

PID=
stop_server() {
    [[ -n $PID ]] || return 0
    kill -TERM "$PID" 2> /dev/null || true
    for ((w = 0; w < 100; w++)); do kill -0 "$PID" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2> /dev/null || true
    wait "$PID" 2> /dev/null || true
    PID=
}
trap stop_server EXIT

write_lab_zone() {
    python3 - "$1" "$2" << 'PYEOF'
import sys
path, hosts = sys.argv[1], int(sys.argv[2])
with open(path, "w") as z:
    z.write("$ORIGIN lab.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 198.18.0.53\n")
    z.write("_matrix-fed._tcp SRV 10 0 8448 host0\n_matrix._tcp SRV 10 0 8448 host0\n")
    for i in range(hosts):
        z.write(f"host{i} A 198.18.{i // 256 % 256}.{i % 256}\nhost{i} AAAA 2001:db8:1::{(i + 1) >> 16:x}:{(i + 1) & 0xffff:x}\n")
PYEOF
}

medians_table() {
    python3 - "$@" << 'PYEOF'
import statistics, sys
path, column, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
servers = []
for r in rows:
    if r[0] not in servers:
        servers.append(r[0])
med = {s: statistics.median(float(r[column]) for r in rows if r[0] == s) for s in servers}
peers = [p for p in servers if p != "fedns"]
print()
print("| | " + " | ".join(servers) + " | " + " | ".join(f"fedns / {p}" for p in peers) + " |")
print("|---|" + "---:|" * (len(servers) + len(peers)))
print(f"| {label} | " + " | ".join(f"{med[s]:.0f}" for s in servers) + " | "
      + " | ".join(f"{med['fedns'] / med[p]:.2f}" if med[p] else "-" for p in peers) + " |")
PYEOF
}
