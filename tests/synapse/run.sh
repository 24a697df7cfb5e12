#!/usr/bin/env bash
# Interop suite: fedns's predictions (`fedns explain`, `fedns check`) against
# what real Synapse homeservers do, one delegation style at a time.
#
# Everything runs in a private network namespace on loopback addresses only:
# fedns answers DNS on 127.0.0.1:53 there, a private CA minted at run time
# signs every certificate, an "observer" homeserver O is asked (through its
# notary endpoint /_matrix/key/v2/query) to fetch each target's signing key,
# and O's debug log plus a SNI-logging pass-through proxy in front of each
# target show where O really connected, with which SNI, and whether TLS
# verification passed.
#
# Usage (as root):  tests/synapse/run.sh
# Environment:
#   FEDNS_BIN      the fedns binary (default: target/debug/fedns of this repo)
#   SYNAPSE_VENV   virtualenv for Synapse (default /tmp/fedns-synapse-venv;
#                  created with `python3 -m venv` and filled from PyPI if missing)
#   PYTHON         interpreter used to create the venv (default python3)
#   KEEP_WORK=1    keep the work directory (logs, configs, certs) after the run
#   STYLES         space-separated subset of styles to run (default: all)
#
# Exit status: 0 when every style matches, 1 on a mismatch, 2 on a setup error.

set -euo pipefail

T0=$SECONDS
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FEDNS_BIN=${FEDNS_BIN:-target/debug/fedns}
case $FEDNS_BIN in /*) ;; *) FEDNS_BIN=$ROOT/$FEDNS_BIN ;; esac
SYNAPSE_VERSION=1.163.2
VENV=${SYNAPSE_VENV:-/tmp/fedns-synapse-venv}
PYTHON=${PYTHON:-python3}
NS=fedns-syn-$$
WORK=$(mktemp -d /tmp/fedns-synapse.XXXXXX)
PIDS=()
ALL_STYLES="direct srv srv-badcert wk-port wk-srv legacy-srv wildcard-srv wk-port-badcert wk-srv-badcert"
STYLES=${STYLES:-$ALL_STYLES}

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # Bounded wait for them to go, then KILL what is left.
    local end=$((SECONDS + 10))
    for pid in "${PIDS[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "/etc/netns/$NS"
    if [[ ${KEEP_WORK:-0} == 1 || $rc -ne 0 && ${KEEP_WORK_ON_FAIL:-1} == 1 ]]; then
        say "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# wait_for DESCRIPTION SECONDS COMMAND...: poll COMMAND until it succeeds or
# the deadline passes (then fail the run).
wait_for() {
    local desc=$1 timeout=$2
    shift 2
    local end=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "timed out after ${timeout}s waiting for $desc"
        sleep 0.2
    done
}

nsx() { ip netns exec "$NS" "$@"; }

# start NAME COMMAND...: run COMMAND in the namespace in the background, its
# output in $WORK/NAME.out, and remember its PID (ip netns exec execs the
# command, so the PID is the command's own).
start() {
    local name=$1
    shift
    ip netns exec "$NS" "$@" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
}

# ---------------------------------------------------------------- preflight
[[ $(id -u) == 0 ]] || die "needs root (network namespaces, port 53 and 443)"
for tool in ip openssl curl jq; do
    command -v "$tool" >/dev/null || die "needs $tool"
done
[[ -x $FEDNS_BIN ]] || die "no fedns binary at $FEDNS_BIN (set FEDNS_BIN)"

# ---------------------------------------------------------------- Synapse venv
venv_has_synapse() {
    [[ -x $VENV/bin/python ]] &&
        [[ $("$VENV/bin/python" -c 'import synapse; print(synapse.__version__)' 2>/dev/null) == "$SYNAPSE_VERSION" ]]
}
if ! venv_has_synapse; then
    t_install=$SECONDS
    if [[ ! -x $VENV/bin/python ]]; then
        if ! "$PYTHON" -m venv "$VENV" 2>"$WORK/venv.err"; then
            say "python3 -m venv failed; installing python3-venv"
            rm -rf "$VENV"
            apt-get install -y -q python3-venv >/dev/null || die "apt-get install python3-venv failed"
            "$PYTHON" -m venv "$VENV" || die "cannot create $VENV"
        fi
    fi
    say "installing matrix-synapse==$SYNAPSE_VERSION into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q "matrix-synapse==$SYNAPSE_VERSION" || die "pip install matrix-synapse failed"
    venv_has_synapse || die "synapse $SYNAPSE_VERSION not importable from $VENV"
    say "installed Synapse $SYNAPSE_VERSION in $((SECONDS - t_install))s"
fi
PY=$VENV/bin/python
T_SETUP=$SECONDS

# ---------------------------------------------------------------- the lab
# Style table: style|server name S|.well-known body ("" for none)|
#              host the peer connects to|its address|port|name on the certificate
STYLE_TABLE="
direct|direct.lab.test||direct.lab.test|127.0.0.11|8448|direct.lab.test
srv|srv.lab.test||synapse.srv.lab.test|127.0.0.12|8448|srv.lab.test
srv-badcert|srvbad.lab.test||synapse.srvbad.lab.test|127.0.0.13|8448|synapse.srvbad.lab.test
wk-port|wkport.lab.test|{\"m.server\": \"hs.wkport.lab.test:8449\"}|hs.wkport.lab.test|127.0.0.24|8449|hs.wkport.lab.test
wk-srv|wksrv.lab.test|{\"m.server\": \"hs.wksrv.lab.test\"}|node1.wksrv.lab.test|127.0.0.25|8448|hs.wksrv.lab.test
legacy-srv|legacy.lab.test||synapse.legacy.lab.test|127.0.0.16|8448|legacy.lab.test
wildcard-srv|wild.lab.test||synapse.wild.lab.test|127.0.0.17|8448|wild.lab.test
wk-port-badcert|wkportbad.lab.test|{\"m.server\": \"hs.wkportbad.lab.test:8449\"}|hs.wkportbad.lab.test|127.0.0.28|8449|wkportbad.lab.test
wk-srv-badcert|wksrvbad.lab.test|{\"m.server\": \"hs.wksrvbad.lab.test\"}|node1.wksrvbad.lab.test|127.0.0.29|8448|node1.wksrvbad.lab.test
"
# The first seven are the delegation styles; the last two are the pitfalls of
# the .well-known styles: a certificate for S where the delegated host D:port
# needs one for D, and a certificate for the SRV target where D is needed.
# Expected Synapse outcome (a sanity check of the lab itself).
declare -A EXPECT=([direct]=ok [srv]=ok [srv-badcert]=tls-fail [wk-port]=ok [wk-srv]=ok [legacy-srv]=ok [wildcard-srv]=ok
    [wk-port-badcert]=tls-fail [wk-srv-badcert]=tls-fail)
OBS=obs.lab.test
OBS_ADDR=127.0.0.10
# Addresses of the .well-known web servers (port 443 of S).
declare -A WK_ADDR=([wkport.lab.test]=127.0.0.14 [wksrv.lab.test]=127.0.0.15 [wkportbad.lab.test]=127.0.0.18
    [wksrvbad.lab.test]=127.0.0.19)

declare -A S_OF WK_OF HOST_OF ADDR_OF PORT_OF CERTNAME_OF
while IFS='|' read -r style s wk host addr port certname; do
    [[ -n $style ]] || continue
    S_OF[$style]=$s WK_OF[$style]=$wk HOST_OF[$style]=$host ADDR_OF[$style]=$addr
    PORT_OF[$style]=$port CERTNAME_OF[$style]=$certname
done <<<"$STYLE_TABLE"
for style in $STYLES; do [[ -n ${S_OF[$style]:-} ]] || die "unknown style $style (known: $ALL_STYLES)"; done

# ---- zones (RFC 1035 master files, one per server name)
ZONES=$WORK/zones
mkdir -p "$ZONES"
zone() { # zone ORIGIN RECORDS...
    local origin=$1
    shift
    {
        printf '$ORIGIN %s.\n$TTL 300\n' "$origin"
        printf '@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$origin" "$origin"
        printf '@ IN NS ns.%s.\n' "$origin"
        printf 'ns IN A 127.0.0.1\n'
        printf '%s\n' "$@"
    } >"$ZONES/$origin.zone"
}
zone obs.lab.test "@ IN A $OBS_ADDR"
zone direct.lab.test "@ IN A 127.0.0.11"
zone srv.lab.test \
    "_matrix-fed._tcp IN SRV 10 0 8448 synapse.srv.lab.test." \
    "synapse IN A 127.0.0.12"
zone srvbad.lab.test \
    "_matrix-fed._tcp IN SRV 10 0 8448 synapse.srvbad.lab.test." \
    "synapse IN A 127.0.0.13"
zone wkport.lab.test \
    "@ IN A ${WK_ADDR[wkport.lab.test]}" \
    "hs IN A 127.0.0.24"
zone wksrv.lab.test \
    "@ IN A ${WK_ADDR[wksrv.lab.test]}" \
    "_matrix-fed._tcp.hs IN SRV 10 0 8448 node1.wksrv.lab.test." \
    "node1 IN A 127.0.0.25"
zone wkportbad.lab.test \
    "@ IN A ${WK_ADDR[wkportbad.lab.test]}" \
    "hs IN A 127.0.0.28"
zone wksrvbad.lab.test \
    "@ IN A ${WK_ADDR[wksrvbad.lab.test]}" \
    "_matrix-fed._tcp.hs IN SRV 10 0 8448 node1.wksrvbad.lab.test." \
    "node1 IN A 127.0.0.29"
zone legacy.lab.test \
    "_matrix._tcp IN SRV 10 0 8448 synapse.legacy.lab.test." \
    "synapse IN A 127.0.0.16"
zone wild.lab.test \
    "*._tcp IN SRV 10 0 8448 synapse.wild.lab.test." \
    "synapse IN A 127.0.0.17"

# ---- private CA and certificates
PKI=$WORK/pki
mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 30 -subj "/CN=fedns synapse interop CA $$" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
cert() { # cert NAME: $PKI/NAME.pem (leaf only) and $PKI/NAME.key, valid for DNS:NAME only
    local name=$1
    [[ ! -e $PKI/$name.pem ]] || return 0
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=$name" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$name" >"$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 30 -extfile "$PKI/$name.ext" -out "$PKI/$name.pem" 2>/dev/null
}
cert "$OBS"
for style in $STYLES; do cert "${CERTNAME_OF[$style]}"; done
for style in $STYLES; do [[ -z ${WK_OF[$style]} ]] || cert "${S_OF[$style]}"; done

# ---- homeservers
KEYGEN_ARGS=()
declare -A HS_DIR
hs_setup() { # hs_setup SERVER_NAME FED_ADDR FED_PORT CERTNAME [CLIENT_ADDR:PORT]
    local s=$1 addr=$2 port=$3 certname=$4 client=${5:-}
    local d=$WORK/hs/$s
    mkdir -p "$d/media"
    HS_DIR[$s]=$d
    cat >"$d/log.yaml" <<EOF
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
filters:
  context:
    (): synapse.logging.context.LoggingContextFilter
    request: ""
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: $d/homeserver.log
    filters: [context]
loggers:
  synapse.http:
    level: DEBUG
  synapse.crypto.keyring:
    level: DEBUG
  synapse.storage.SQL:
    level: INFO
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
EOF
    {
        cat <<EOF
server_name: "$s"
pid_file: $d/homeserver.pid
report_stats: false
enable_registration: false
listeners:
  - port: $port
    bind_addresses: ['$addr']
    type: http
    tls: true
    x_forwarded: false
    resources:
      - names: [federation, keys]
        compress: false
EOF
        if [[ -n $client ]]; then
            cat <<EOF
  - port: ${client##*:}
    bind_addresses: ['${client%:*}']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client, keys]
        compress: false
EOF
        fi
        cat <<EOF
tls_certificate_path: $PKI/$certname.pem
tls_private_key_path: $PKI/$certname.key
federation_verify_certificates: true
federation_custom_ca_list:
  - $PKI/ca.pem
ip_range_whitelist:
  - 127.0.0.0/8
trusted_key_servers: []
suppress_key_server_warning: true
database:
  name: sqlite3
  args:
    database: $d/homeserver.db
log_config: $d/log.yaml
media_store_path: $d/media
signing_key_path: $d/signing.key
macaroon_secret_key: "$(openssl rand -hex 16)"
form_secret: "$(openssl rand -hex 16)"
presence:
  enabled: false
enable_metrics: false
EOF
    } >"$d/homeserver.yaml"
    KEYGEN_ARGS+=("$d/signing.key")
}
hs_setup "$OBS" "$OBS_ADDR" 8448 "$OBS" "$OBS_ADDR:8008"
# Each target homeserver listens 10000 ports above the advertised port; the
# SNI proxy holds the advertised address:port and relays to it.
PROXY_MAPS=()
for style in $STYLES; do
    s=${S_OF[$style]} addr=${ADDR_OF[$style]} port=${PORT_OF[$style]}
    hs_setup "$s" "$addr" $((port + 10000)) "${CERTNAME_OF[$style]}"
    PROXY_MAPS+=("$addr:$port=$addr:$((port + 10000))")
done
# Signing keys, with Synapse's own library (signedjson).
"$PY" - "${KEYGEN_ARGS[@]}" <<'EOF'
import sys
from signedjson.key import generate_signing_key, write_signing_keys
for i, path in enumerate(sys.argv[1:]):
    with open(path, "w") as f:
        write_signing_keys(f, [generate_signing_key("a_%04d" % i)])
EOF
key_id_of() { awk '{print $1 ":" $2; exit}' "${HS_DIR[$1]}/signing.key"; }

# ---- .well-known servers config
WK_JSON=$WORK/wellknown.json
{
    printf '['
    sep=
    for style in $STYLES; do
        s=${S_OF[$style]}
        [[ -n ${WK_OF[$style]} ]] || continue
        jq -n --arg listen "${WK_ADDR[$s]}:443" --arg cert "$PKI/$s.pem" --arg key "$PKI/$s.key" \
            --arg body "${WK_OF[$style]}" '{listen:$listen, cert:$cert, key:$key, body:$body}' |
            { printf '%s' "$sep"; cat; }
        sep=,
    done
    printf ']\n'
} >"$WK_JSON"

# ---------------------------------------------------------------- namespace
ip netns add "$NS"
mkdir -p "/etc/netns/$NS"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"/etc/netns/$NS/resolv.conf"
# A hosts file of our own, so the host's /etc/hosts cannot answer lab names.
printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$NS/hosts"
nsx ip link set lo up

start fedns "$FEDNS_BIN" serve --zones "$ZONES" --listen 127.0.0.1:53
wait_for "fedns on 127.0.0.1:53" 20 nsx "$FEDNS_BIN" explain "$OBS" --dns 127.0.0.1:53 --timeout 1s

start sniproxy "$PY" "$HERE/labnet.py" sniproxy "$WORK/sniproxy.log" "${PROXY_MAPS[@]}"
if [[ $(jq length "$WK_JSON") -gt 0 ]]; then
    start wellknown "$PY" "$HERE/labnet.py" wellknown "$WORK/wellknown.log" "$WK_JSON"
    wait_for ".well-known servers" 20 grep -qx ready "$WORK/wellknown.log"
fi
wait_for "SNI proxy" 20 grep -qx ready "$WORK/sniproxy.log"

for s in "${!HS_DIR[@]}"; do
    start "synapse-$s" "$PY" -m synapse.app.homeserver -c "${HS_DIR[$s]}/homeserver.yaml"
done
hs_ready() { # hs_ready ADDR PORT
    nsx curl -sk --max-time 2 -o /dev/null -w '%{http_code}' "https://$1:$2/_matrix/key/v2/server" | grep -qx 200
}
wait_for "observer Synapse" 120 nsx curl -s --max-time 2 -o /dev/null "http://$OBS_ADDR:8008/health"
for style in $STYLES; do
    wait_for "Synapse ${S_OF[$style]}" 120 hs_ready "${ADDR_OF[$style]}" $((PORT_OF[$style] + 10000))
done
say "lab up in $((SECONDS - T_SETUP))s (namespace $NS, work $WORK)"

# ---------------------------------------------------------------- the styles
OLOG=${HS_DIR[$OBS]}/homeserver.log
FAILS=0
ROWS=()
FMT='%-15s %-8s %-51s %-33s %-40s %-28s %-19s %s'
printf -v HEADER "$FMT" STYLE "STEP e/s" "EXPLAIN host:port / SNI" "SYNAPSE connected to" \
    "TARGET saw (addr / SNI)" "SYNAPSE outcome" "CHECK verdict" RESULT

for style in $STYLES; do
    s=${S_OF[$style]} wk=${WK_OF[$style]}
    sdir=$WORK/styles/$style
    mkdir -p "$sdir"
    why=()

    # -- fedns's prediction
    explain_args=(explain "$s" --zones "$ZONES" --format json)
    check_args=(check "$ZONES/$s.zone" --server-name "$s" --cert "${HOST_OF[$style]}=$PKI/${CERTNAME_OF[$style]}.pem"
        --ca "$PKI/ca.pem" --no-system-roots --format json)
    if [[ -n $wk ]]; then
        explain_args+=(--well-known "$wk")
        check_args+=(--well-known "$s=$wk")
    fi
    "$FEDNS_BIN" "${explain_args[@]}" >"$sdir/explain.json" 2>"$sdir/explain.err" || true
    "$FEDNS_BIN" "${check_args[@]}" >"$sdir/check.json" 2>"$sdir/check.err" || true
    e_host=$(jq -r '.result.host // "-"' "$sdir/explain.json" 2>/dev/null || echo "?")
    e_port=$(jq -r '.result.port // "-"' "$sdir/explain.json" 2>/dev/null || echo "?")
    e_sni=$(jq -r '.result.sni // "-"' "$sdir/explain.json" 2>/dev/null || echo "?")
    e_addrs=$(jq -r '(.result.addresses // []) | join(",")' "$sdir/explain.json" 2>/dev/null || echo "")
    crt_errors=$(jq -r '[.findings[] | select((.rule | startswith("CRT")) and .severity == "error") | .rule] | unique | join(",")' \
        "$sdir/check.json" 2>/dev/null || echo "?")
    [[ $crt_errors != "?" ]] || why+=("fedns check gave no JSON")
    check_verdict=${crt_errors:+CRT error ($crt_errors)}
    check_verdict=${check_verdict:-no CRT error}

    # -- what Synapse does: ask O for S's key, with a far-future minimum.
    olines=$(wc -l <"$OLOG")
    plines=$(wc -l <"$WORK/sniproxy.log")
    key_id=$(key_id_of "$s")
    jq -n --arg s "$s" --arg k "$key_id" '{server_keys: {($s): {($k): {minimum_valid_until_ts: 9999999999999}}}}' >"$sdir/query.json"
    t_q=$SECONDS
    nsx curl -s --max-time 90 -X POST -H 'Content-Type: application/json' --data @"$sdir/query.json" \
        "http://$OBS_ADDR:8008/_matrix/key/v2/query" >"$sdir/response.json" || true
    q_secs=$((SECONDS - t_q))
    tail -n +"$((olines + 1))" "$OLOG" >"$sdir/observer.log"
    tail -n +"$((plines + 1))" "$WORK/sniproxy.log" >"$sdir/sniproxy.log"

    # Synapse's connection: the first "Connecting to HOST:PORT" of this query
    # (synapse/http/federation/matrix_federation_agent.py, DEBUG).
    o_conn=$(grep -oP ' - Connecting to \K[^ ]+:[0-9]+$' "$sdir/observer.log" | head -n1 || true)
    o_conn=${o_conn:--}
    o_conns=$(grep -oP ' - Connecting to \K[^ ]+:[0-9]+$' "$sdir/observer.log" | sort -u | paste -sd, || true)
    # What reached the target: the proxy's listen address and the SNI sent.
    p_listen=$(grep -oP '^sni listen=\K[^ ]+' "$sdir/sniproxy.log" | sort -u | paste -sd, || true)
    p_sni=$(grep -oP '^sni listen=[^ ]+ sni=\K[^ ]+' "$sdir/sniproxy.log" | sort -u | paste -sd, || true)
    # The outcome: O returns S's key, or it does not and its log says why.
    got_key=$(jq -r --arg s "$s" --arg k "$key_id" \
        '[.server_keys[]? | select(.server_name == $s and (.verify_keys | has($k)))] | length' \
        "$sdir/response.json" 2>/dev/null || echo 0)
    if [[ $got_key -ge 1 ]]; then
        outcome=ok
        outcome_text="keys fetched"
    elif grep -q 'DNSMismatch' "$sdir/observer.log"; then
        outcome=tls-fail
        outcome_text="TLS fail (DNSMismatch)"
    elif grep -qiE 'certificate verify failed|VerificationError|SSL routines' "$sdir/observer.log"; then
        outcome=tls-fail
        outcome_text="TLS fail (other)"
    else
        outcome=fail
        outcome_text="FAILED (not TLS)"
    fi

    # Synapse's path through the spec's steps, from its log: a .well-known
    # with m.server (step 3.x) or not, then which lookup decided.
    o_wk=$(grep -oP "Response from \.well-known: \{'m\.server': '\K[^']+" "$sdir/observer.log" | head -n1 || true)
    if [[ -n $o_wk ]]; then base=3. name=${o_wk}; else base="" name=$s; fi
    name=${name%:*}
    if grep -qF "from deprecated SRV lookup for $name" "$sdir/observer.log"; then
        o_step=$([[ -n $base ]] && echo 3.4 || echo 5)
    elif grep -qF "from SRV lookup for $name" "$sdir/observer.log"; then
        o_step=$([[ -n $base ]] && echo 3.3 || echo 4)
    elif grep -qF "No SRV records for $name" "$sdir/observer.log"; then
        o_step=$([[ -n $base ]] && echo 3.5 || echo 6)
    elif ! grep -qF "Looking up SRV record for" "$sdir/observer.log"; then
        o_step=$([[ -n $base ]] && echo 3.2 || echo 2) # an explicit port: no SRV lookup
    else
        o_step="?"
    fi
    e_step=$(jq -r '.result.step // "-"' "$sdir/explain.json" 2>/dev/null || echo "?")

    # -- compare
    [[ $e_step == "$o_step" ]] || why+=("explain decided at step $e_step, Synapse's log shows step $o_step")
    [[ $e_host:$e_port == "$o_conn" ]] || why+=("explain says $e_host:$e_port, Synapse connected to $o_conn")
    [[ $o_conns == "$o_conn" ]] || why+=("Synapse connected to several endpoints: $o_conns")
    [[ $p_sni == "$e_sni" ]] || why+=("explain says SNI $e_sni, Synapse sent ${p_sni:-nothing}")
    [[ -n $p_listen && ",$e_addrs," == *",${p_listen%:*},"* ]] ||
        why+=("Synapse reached ${p_listen:-nothing}, explain's addresses are ${e_addrs:-none}")
    crt_says_fail=no
    [[ -z $crt_errors ]] || crt_says_fail=yes
    syn_tls_fail=no
    [[ $outcome != tls-fail ]] || syn_tls_fail=yes
    [[ $crt_says_fail == "$syn_tls_fail" ]] || why+=("check: $check_verdict, Synapse: $outcome_text")
    [[ $outcome == "${EXPECT[$style]}" ]] || why+=("lab: expected Synapse outcome ${EXPECT[$style]}, got $outcome")
    if [[ -n $wk ]]; then
        # Synapse must have read the same .well-known that explain was given.
        m_server=$(jq -r '."m.server"' <<<"$wk")
        grep -qF "Response from .well-known: {'m.server': '$m_server'}" "$sdir/observer.log" ||
            why+=("no 'Response from .well-known' with m.server $m_server in O's log")
    fi

    if ((${#why[@]} == 0)); then result=PASS; else result=FAIL FAILS=$((FAILS + 1)); fi
    printf -v row "$FMT" "$style" "$e_step/$o_step" "$e_host:$e_port / $e_sni" "$o_conn" \
        "${p_listen:--} / ${p_sni:--}" "$outcome_text (${q_secs}s)" "$check_verdict" "$result"
    ROWS+=("$row")
    printf '%s\n' "$row" >&2
    for w in "${why[@]}"; do
        ROWS+=("                ! $w")
        printf '                ! %s\n' "$w" >&2
    done
done

echo
echo "fedns $("$FEDNS_BIN" --version | awk '{print $2}') vs Synapse $SYNAPSE_VERSION (namespace $NS)"
echo "$HEADER"
printf '%s\n' "${ROWS[@]}"
n=$(wc -w <<<"$STYLES")
echo "$((n - FAILS)) passed, $FAILS failed"
echo "total time: $((SECONDS - T0))s (venv check/install $((T_SETUP - T0))s)"
((FAILS == 0)) || exit 1
