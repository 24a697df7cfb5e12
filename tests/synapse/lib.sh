# Shared by tests/synapse/run.sh and examples/lab-federation/synapse-lab.sh:
# a network namespace with fedns as its DNS server, a per-run CA, real
# Synapse homeservers, the labnet.py helpers (SNI-logging proxy, .well-known
# web servers), and reading a key query's outcome out of Synapse's log.
#
# Source it, then call lab_init NAMESPACE_PREFIX WORKDIR_PREFIX. Every
# process started with `start` is remembered by PID and stopped (TERM, then
# KILL after 10 s) on exit; the namespace and /etc/netns/NS go too.
#
# Sets ROOT (the repository) and FEDNS_BIN (an absolute path: the caller's
# FEDNS_BIN, relative to ROOT, default target/debug/fedns).

SYNAPSE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SYNAPSE_LIB_DIR/../.." && pwd)
FEDNS_BIN=${FEDNS_BIN:-target/debug/fedns}
case $FEDNS_BIN in /*) ;; *) FEDNS_BIN=$ROOT/$FEDNS_BIN ;; esac
SYNAPSE_VERSION=1.163.2
LABNET=$SYNAPSE_LIB_DIR/labnet.py

say() { printf '%s\n' "$*" >&2; }
die() { say "${0##*/}: $*"; exit 2; }

# lab_init NS_PREFIX WORK_PREFIX: sets NS, WORK, PIDS and the exit traps.
lab_init() {
    VENV=${SYNAPSE_VENV:-/tmp/fedns-synapse-venv}
    PYTHON=${PYTHON:-python3}
    NS=$1-$$
    WORK=$(mktemp -d "/tmp/$2.XXXXXX")
    PIDS=()
    trap lab_cleanup EXIT
    trap 'exit 2' INT TERM
}

lab_cleanup() {
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

lab_preflight() {
    [[ $(id -u) == 0 ]] || die "needs root (network namespaces, port 53 and 443)"
    local tool
    for tool in ip openssl curl jq timeout; do
        command -v "$tool" >/dev/null || die "needs $tool"
    done
    [[ -x $FEDNS_BIN ]] || die "no fedns binary at $FEDNS_BIN (set FEDNS_BIN)"
}

# lab_venv: make sure $VENV has Synapse $SYNAPSE_VERSION; sets PY.
venv_has_synapse() {
    [[ -x $VENV/bin/python ]] &&
        [[ $("$VENV/bin/python" -c 'import synapse; print(synapse.__version__)' 2>/dev/null) == "$SYNAPSE_VERSION" ]]
}
lab_venv() {
    if ! venv_has_synapse; then
        local t_install=$SECONDS
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
}

# ---------------------------------------------------------------- PKI
# pki_init SUBJECT: a CA in $PKI/ca.pem (key $PKI/ca.key).
pki_init() {
    PKI=$WORK/pki
    mkdir -p "$PKI"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 30 -subj "/CN=$1" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null
}
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

# ---------------------------------------------------------------- homeservers
KEYGEN_ARGS=()
declare -A HS_DIR HS_FED
hs_setup() { # hs_setup SERVER_NAME FED_ADDR FED_PORT CERTNAME [CLIENT_ADDR:PORT]
    local s=$1 addr=$2 port=$3 certname=$4 client=${5:-}
    local d=$WORK/hs/$s
    mkdir -p "$d/media"
    HS_DIR[$s]=$d
    HS_FED[$s]=$addr:$port
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
# Signing keys for every hs_setup so far, with Synapse's own library (signedjson).
hs_keygen() {
    "$PY" - "${KEYGEN_ARGS[@]}" <<'EOF'
import sys
from signedjson.key import generate_signing_key, write_signing_keys
for i, path in enumerate(sys.argv[1:]):
    with open(path, "w") as f:
        write_signing_keys(f, [generate_signing_key("a_%04d" % i)])
EOF
}
key_id_of() { awk '{print $1 ":" $2; exit}' "${HS_DIR[$1]}/signing.key"; }
hs_start_all() {
    local s
    for s in "${!HS_DIR[@]}"; do
        start "synapse-$s" "$PY" -m synapse.app.homeserver -c "${HS_DIR[$s]}/homeserver.yaml"
    done
}
hs_ready() { # hs_ready ADDR PORT: the federation listener answers the key endpoint
    nsx curl -sk --max-time 2 -o /dev/null -w '%{http_code}' "https://$1:$2/_matrix/key/v2/server" | grep -qx 200
}
hs_wait_all() { # every homeserver's federation listener, bounded
    local s
    for s in "${!HS_DIR[@]}"; do
        wait_for "Synapse $s" 120 hs_ready "${HS_FED[$s]%:*}" "${HS_FED[$s]##*:}"
    done
}

# wellknown_json FILE LISTEN CERTNAME BODY...: the labnet.py wellknown config
# (groups of three arguments).
wellknown_json() {
    local out=$1 sep=
    shift
    {
        printf '['
        while (($# >= 3)); do
            jq -n --arg listen "$1" --arg cert "$PKI/$2.pem" --arg key "$PKI/$2.key" \
                --arg body "$3" '{listen:$listen, cert:$cert, key:$key, body:$body}' |
                { printf '%s' "$sep"; cat; }
            sep=,
            shift 3
        done
        printf ']\n'
    } >"$out"
}

# ---------------------------------------------------------------- namespace
# netns_up ZONES_DIR: the namespace, its resolv.conf and hosts, and fedns
# serving ZONES_DIR on 127.0.0.1:53 inside it.
netns_up() {
    ip netns add "$NS"
    mkdir -p "/etc/netns/$NS"
    printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"/etc/netns/$NS/resolv.conf"
    # A hosts file of our own, so the host's /etc/hosts cannot answer lab names.
    printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$NS/hosts"
    nsx ip link set lo up
    start fedns "$FEDNS_BIN" serve --zones "$1" --listen 127.0.0.1:53
}
# wait_dns NAME: fedns answers in the namespace.
wait_dns() {
    wait_for "fedns on 127.0.0.1:53" 20 nsx "$FEDNS_BIN" explain "$1" --dns 127.0.0.1:53 --timeout 1s
}
# helpers_up SNIPROXY_MAPS_ARRAY_NAME WELLKNOWN_JSON: labnet.py sniproxy (log
# $WORK/sniproxy.log) and, when the config is not empty, labnet.py wellknown.
helpers_up() {
    local -n maps=$1
    local wk=$2
    start sniproxy "$PY" "$LABNET" sniproxy "$WORK/sniproxy.log" "${maps[@]}"
    if [[ -n $wk && $(jq length "$wk") -gt 0 ]]; then
        start wellknown "$PY" "$LABNET" wellknown "$WORK/wellknown.log" "$wk"
        wait_for ".well-known servers" 20 grep -qx ready "$WORK/wellknown.log"
    fi
    wait_for "SNI proxy" 20 grep -qx ready "$WORK/sniproxy.log"
}

# ---------------------------------------------------------------- a key query
# key_query FETCHER CLIENT_ADDR:PORT S DIR: ask FETCHER (its notary endpoint
# POST /_matrix/key/v2/query, on its plain client listener) for S's current
# key with a far-future minimum, so it must fetch. Writes DIR/query.json,
# DIR/response.json, DIR/observer.log (FETCHER's log lines of this query) and
# DIR/sniproxy.log (the proxy's lines of this query), and sets:
#   Q_SECS     seconds the query took
#   Q_CONN     FETCHER's first "Connecting to HOST:PORT" ("-" for none)
#   Q_CONNS    every such endpoint, comma-separated
#   Q_LISTEN   the proxy addresses reached, Q_SNI the SNIs they saw
#   Q_OUTCOME  ok | tls-fail | fail, Q_OUTCOME_TEXT for people
#   Q_TLS_LINE FETCHER's log line with the DNSMismatch/verification error
#   Q_WK       the m.server of the .well-known FETCHER read ("" for none)
#   Q_STEP     the spec step FETCHER's log shows
key_query() {
    local fetcher=$1 client=$2 s=$3 dir=$4
    local flog=${HS_DIR[$fetcher]}/homeserver.log
    mkdir -p "$dir"
    local flines plines key_id t_q got_key
    flines=$(wc -l <"$flog")
    plines=$(wc -l <"$WORK/sniproxy.log")
    key_id=$(key_id_of "$s")
    jq -n --arg s "$s" --arg k "$key_id" '{server_keys: {($s): {($k): {minimum_valid_until_ts: 9999999999999}}}}' >"$dir/query.json"
    t_q=$SECONDS
    nsx curl -s --max-time 90 -X POST -H 'Content-Type: application/json' --data @"$dir/query.json" \
        "http://$client/_matrix/key/v2/query" >"$dir/response.json" || true
    Q_SECS=$((SECONDS - t_q))
    tail -n +"$((flines + 1))" "$flog" >"$dir/observer.log"
    tail -n +"$((plines + 1))" "$WORK/sniproxy.log" >"$dir/sniproxy.log"

    # The connection: the first "Connecting to HOST:PORT" of this query
    # (synapse/http/federation/matrix_federation_agent.py, DEBUG).
    Q_CONN=$(grep -oP ' - Connecting to \K[^ ]+:[0-9]+$' "$dir/observer.log" | head -n1 || true)
    Q_CONN=${Q_CONN:--}
    Q_CONNS=$(grep -oP ' - Connecting to \K[^ ]+:[0-9]+$' "$dir/observer.log" | sort -u | paste -sd, || true)
    # What reached the target: the proxy's listen address and the SNI sent.
    Q_LISTEN=$(grep -oP '^sni listen=\K[^ ]+' "$dir/sniproxy.log" | sort -u | paste -sd, || true)
    Q_SNI=$(grep -oP '^sni listen=[^ ]+ sni=\K[^ ]+' "$dir/sniproxy.log" | sort -u | paste -sd, || true)
    # The outcome: S's key in the response, or not and the log says why.
    got_key=$(jq -r --arg s "$s" --arg k "$key_id" \
        '[.server_keys[]? | select(.server_name == $s and (.verify_keys | has($k)))] | length' \
        "$dir/response.json" 2>/dev/null || echo 0)
    Q_TLS_LINE=$(grep -m1 -iE 'DNSMismatch|certificate verify failed|VerificationError|SSL routines' "$dir/observer.log" || true)
    if [[ $got_key -ge 1 ]]; then
        Q_OUTCOME=ok Q_OUTCOME_TEXT="keys fetched"
    elif grep -q 'DNSMismatch' "$dir/observer.log"; then
        Q_OUTCOME=tls-fail Q_OUTCOME_TEXT="TLS fail (DNSMismatch)"
        Q_TLS_LINE=$(grep -m1 'DNSMismatch' "$dir/observer.log")
    elif [[ -n $Q_TLS_LINE ]]; then
        Q_OUTCOME=tls-fail Q_OUTCOME_TEXT="TLS fail (other)"
    else
        Q_OUTCOME=fail Q_OUTCOME_TEXT="FAILED (not TLS)"
    fi

    # The path through the spec's steps: a .well-known with m.server (step
    # 3.x) or not, then which lookup decided.
    Q_WK=$(grep -oP "Response from \.well-known: \{'m\.server': '\K[^']+" "$dir/observer.log" | head -n1 || true)
    local base name
    if [[ -n $Q_WK ]]; then base=3. name=$Q_WK; else base="" name=$s; fi
    name=${name%:*}
    if grep -qF "from deprecated SRV lookup for $name" "$dir/observer.log"; then
        Q_STEP=$([[ -n $base ]] && echo 3.4 || echo 5)
    elif grep -qF "from SRV lookup for $name" "$dir/observer.log"; then
        Q_STEP=$([[ -n $base ]] && echo 3.3 || echo 4)
    elif grep -qF "No SRV records for $name" "$dir/observer.log"; then
        Q_STEP=$([[ -n $base ]] && echo 3.5 || echo 6)
    elif ! grep -qF "Looking up SRV record for" "$dir/observer.log"; then
        Q_STEP=$([[ -n $base ]] && echo 3.2 || echo 2) # an explicit port: no SRV lookup
    else
        Q_STEP="?"
    fi
}
