#!/usr/bin/env bash
# .ci/conform.sh - protocol conformance spot check of fedns with the shared
# bench harness (../shared/bench/conform.sh: dig/kdig checks of NXDOMAIN and
# NODATA shape, SRV additional section, ANY, REFUSED, AXFR, TC, BADVERS,
# NOTIMP, FORMERR).
#
# Usage:  .ci/conform.sh                  # after cargo build / cargo test
#   FEDNS_SHARED=/path/to/shared          # default: ../shared beside the repo
#   FEDNS_BIN=/path/to/fedns              # default: target/debug/fedns
#
# Prints the table and exits non-zero if fedns failed to start, died, or any
# fedns cell is marked "(!)" (differs from the expected column).  The bench
# dir is read-only: everything is written under a temporary directory.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${FEDNS_SHARED:-$ROOT/../shared}
BENCH=$SHARED/bench
if [[ ! -f $BENCH/conform.sh || ! -f $BENCH/conform_table.py ]]; then
    echo "conform: $BENCH/conform.sh not found (set FEDNS_SHARED to the shared/ dir)" >&2
    exit 1
fi
BENCH=$(cd "$BENCH" && pwd)

export FEDNS_BIN=${FEDNS_BIN:-$ROOT/target/debug/fedns}
if [[ ! -x $FEDNS_BIN ]]; then
    echo "conform: $FEDNS_BIN missing, building it (debug)" >&2
    (cd "$ROOT" && cargo build --bin fedns)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fedns-conform.XXXXXX")
export SCRATCH=$WORK/scratch    # lib.sh: DATA=$SCRATCH/data, RUN=$SCRATCH/run
export RESULTS=$WORK/results
# conform.sh reads no query file, but ensure_data writes one: keep it small.
export NQUERIES=${NQUERIES:-1000}
export ONLY=fedns
export EXTRA_SERVERS_FILE=$ROOT/.ci/conform-servers.sh
# A free loopback port for fedns (UDP and TCP), so a server left on 5310 by
# something else (a benchmark) cannot make the check fail.
FEDNS_CONFORM_PORT=$(python3 - <<'PY'
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        t.close()
        u.close()
    print(port)
    break
PY
)
export FEDNS_CONFORM_PORT
mkdir -p "$SCRATCH" "$RESULTS"

status=0
timeout 600 bash "$BENCH/conform.sh" || status=$?
if [[ $status -ne 0 ]]; then
    echo "conform: conform.sh exited with status $status" >&2
fi

fail=0
for f in FAILED DIED; do
    if [[ -e $RESULTS/fedns.$f ]]; then
        echo "conform: fedns $f: $(cat "$RESULTS/fedns.$f")" >&2
        log=$RESULTS/fedns.server.log
        if [[ -f $log ]]; then
            echo "--- $log (tail) ---" >&2
            tail -30 "$log" >&2
        fi
        fail=1
    fi
done
if [[ ! -s $RESULTS/table.md ]]; then
    echo "conform: no table produced" >&2
    fail=1
else
    # Cells of the fedns column marked (!), as "check: cell".
    bad=$(python3 - "$RESULTS/table.md" <<'PY'
import sys
rows = [l.rstrip("\n") for l in open(sys.argv[1]) if l.startswith("|")]
head = [c.strip() for c in rows[0].strip("|").split("|")]
col = head.index("fedns")
for r in rows[2:]:
    cells = [c.strip() for c in r.strip("|").split("|")]
    if col < len(cells) and "(!)" in cells[col]:
        print("%s -> %s" % (cells[0], cells[col]))
PY
    ) || { echo "conform: could not read the table" >&2; fail=1; }
    if [[ -n ${bad:-} ]]; then
        echo >&2
        echo "conform: fedns differs from the expected behaviour:" >&2
        echo "$bad" >&2
        echo >&2
        while IFS= read -r line; do
            check=${line%%:*}
            [[ -f $RESULTS/fedns/$check.txt ]] || continue
            echo "--- $check: raw output (first 40 lines) ---" >&2
            head -40 "$RESULTS/fedns/$check.txt" >&2
        done <<< "$bad"
        fail=1
    fi
fi
[[ $status -eq 0 ]] || fail=1

if [[ $fail -ne 0 ]]; then
    echo "conform: FAILED (raw output kept in $RESULTS)" >&2
    exit 1
fi
echo "conform: fedns matches the expected column on every check"
rm -rf "$WORK"
