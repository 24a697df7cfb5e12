#!/usr/bin/env bash
# The lab federation with real Synapse homeservers.
#
# Starts the lab's five homeservers (alpha..epsilon, the server names and
# delegation styles of examples/lab-federation/zones) as real Synapse
# instances in a private network namespace, with fedns serving these zones on
# 127.0.0.1:53 inside it, .well-known web servers for beta and gamma, and a
# CA minted for this run that signs the certificates the zones and the README
# name (epsilon gets matrix.epsilon.lab.test: the wrong name). Then alpha
# fetches the keys of beta, gamma, delta and epsilon (and delta fetches
# alpha's), each through the notary endpoint POST /_matrix/key/v2/query, and
# the script prints, per homeserver, where Synapse connected, the address and
# SNI that reached the homeserver, and success, or Synapse's own log line for
# the failure (DNSMismatch for epsilon).
#
# It reuses tests/synapse/lib.sh (the interop suite's namespace, CA,
# Synapse and proxy helpers). Everything stays on loopback addresses inside
# the namespace; the namespace, /etc/netns entry and every process started
# are removed on exit.
#
# Usage (as root, from anywhere):  examples/lab-federation/synapse-lab.sh
# Environment: FEDNS_BIN (default target/debug/fedns of this repo),
#   SYNAPSE_VENV (default /tmp/fedns-synapse-venv; created from PyPI if
#   missing), KEEP_WORK=1 keeps the work directory.
# Exit status: 0 when alpha..delta are reached where fedns explain says and
# epsilon fails with DNSMismatch, 1 otherwise, 2 on a setup error.

set -euo pipefail

T0=$SECONDS
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../tests/synapse/lib.sh
. "$HERE/../../tests/synapse/lib.sh"
lab_init fedns-lab fedns-lab
lab_preflight
lab_venv
T_SETUP=$SECONDS
ZONES=$HERE/zones

# The lab, as the zone files' comments and the README's table say:
# server name | .well-known web server address (port 443) | homeserver
# address | port | the name on its certificate | expected outcome
LAB="
alpha.lab.test||127.0.0.11|8448|alpha.lab.test|ok
beta.lab.test|127.0.0.12|127.0.0.22|8443|hs.beta.lab.test|ok
gamma.lab.test|127.0.0.13|127.0.0.23|8448|hs.gamma.lab.test|ok
delta.lab.test||127.0.0.14|8448|delta.lab.test|ok
epsilon.lab.test||127.0.0.15|8448|matrix.epsilon.lab.test|tls-fail
"
NAMES=()
declare -A WKADDR_OF ADDR_OF PORT_OF CERT_OF EXPECT WKBODY_OF
while IFS='|' read -r s wkaddr addr port certname expect; do
    [[ -n $s ]] || continue
    NAMES+=("$s")
    WKADDR_OF[$s]=$wkaddr ADDR_OF[$s]=$addr PORT_OF[$s]=$port CERT_OF[$s]=$certname EXPECT[$s]=$expect
    zone=$ZONES/$s.toml
    [[ -r $zone ]] || die "no zone file $zone"
    # The table must say what the zone says: the certificate it names
    # (`certificate = "../certs/NAME.pem"`) and its `.well-known` (`well_known =`).
    zcert=$(grep -oP '^certificate = "\.\./certs/\K[^"]+(?=\.pem")' "$zone" || true)
    [[ -z $zcert || $zcert == "$certname" ]] || die "$zone names certificate $zcert, the lab table $certname"
    zwk=$(grep -oP '^well_known = "\K[^"]+' "$zone" || true)
    [[ -n $zwk && -n $wkaddr || -z $zwk && -z $wkaddr ]] ||
        die "$zone: .well-known ${zwk:-none}, but the lab table gives a web server ${wkaddr:-none}"
    WKBODY_OF[$s]=${zwk:+$(jq -cn --arg m "$zwk" '{"m.server": $m}')}
done <<<"$LAB"
FETCHER=alpha.lab.test
FETCHER_CLIENT=127.0.0.11:8008
# Who fetches whom: alpha the other four, delta fetches alpha.
QUERIES="alpha.lab.test:beta.lab.test alpha.lab.test:gamma.lab.test alpha.lab.test:delta.lab.test
    alpha.lab.test:epsilon.lab.test delta.lab.test:alpha.lab.test"
declare -A CLIENT_OF=([alpha.lab.test]=127.0.0.11:8008 [delta.lab.test]=127.0.0.14:8008)

# ---- CA and certificates (leaf only, valid for one DNS name each)
pki_init "fedns lab CA $$"
WK_ARGS=()
for s in "${NAMES[@]}"; do
    cert "${CERT_OF[$s]}"
    if [[ -n ${WKADDR_OF[$s]} ]]; then
        cert "$s" # the web server of https://S/.well-known/matrix/server
        WK_ARGS+=("${WKADDR_OF[$s]}:443" "$s" "${WKBODY_OF[$s]}")
    fi
done
WK_JSON=$WORK/wellknown.json
wellknown_json "$WK_JSON" "${WK_ARGS[@]}"

# ---- homeservers: each listens 10000 ports above its lab port, behind the
# SNI-logging proxy on the lab address and port.
PROXY_MAPS=()
for s in "${NAMES[@]}"; do
    addr=${ADDR_OF[$s]} port=${PORT_OF[$s]}
    hs_setup "$s" "$addr" $((port + 10000)) "${CERT_OF[$s]}" "${CLIENT_OF[$s]:-}"
    PROXY_MAPS+=("$addr:$port=$addr:$((port + 10000))")
done
hs_keygen

# ---- the namespace, fedns serving the lab's zones, the helpers, Synapse
netns_up "$ZONES"
wait_dns "$FETCHER"
helpers_up PROXY_MAPS "$WK_JSON"
hs_start_all
for s in "${!CLIENT_OF[@]}"; do
    wait_for "Synapse $s (client listener)" 120 nsx curl -s --max-time 2 -o /dev/null "http://${CLIENT_OF[$s]}/health"
done
hs_wait_all
T_UP=$SECONDS
say "lab up in $((T_UP - T_SETUP))s (namespace $NS, work $WORK)"

# ---- the key fetches
FMT='%-17s %-15s %-37s %-30s %-41s %s'
printf -v HEADER "$FMT" "HOMESERVER" "FETCHED BY" "fedns explain: step host:port" "SYNAPSE connected to" \
    "HOMESERVER saw (addr / SNI)" "OUTCOME"
ROWS=()
FAILS=0
for q in $QUERIES; do
    fetcher=${q%%:*} s=${q#*:}
    dir=$WORK/queries/$s
    mkdir -p "$dir"
    "$FEDNS_BIN" explain "$s" --zones "$ZONES" --format json >"$dir/explain.json" 2>/dev/null || true
    e=$(jq -r '.result | "\(.step) \(.host):\(.port)"' "$dir/explain.json" 2>/dev/null || echo "?")
    key_query "$fetcher" "${CLIENT_OF[$fetcher]}" "$s" "$dir"
    outcome=$Q_OUTCOME_TEXT
    [[ $Q_OUTCOME != ok ]] || outcome="keys fetched (${Q_SECS}s)"
    printf -v row "$FMT" "$s" "$fetcher" "$e" "$Q_CONN" "${Q_LISTEN:--} / ${Q_SNI:--}" "$outcome"
    ROWS+=("$row")
    [[ -z $Q_TLS_LINE || $Q_OUTCOME == ok ]] || ROWS+=("    $fetcher's log: $Q_TLS_LINE")
    bad=()
    [[ $Q_OUTCOME == "${EXPECT[$s]}" ]] || bad+=("expected ${EXPECT[$s]}, got $Q_OUTCOME")
    [[ ${EXPECT[$s]} != tls-fail ]] || [[ $Q_TLS_LINE == *DNSMismatch* ]] || bad+=("no DNSMismatch in $fetcher's log")
    [[ "${e#* }" == "$Q_CONN" ]] || bad+=("fedns explain says ${e#* }, Synapse connected to $Q_CONN")
    e_sni=$(jq -r '.result.sni // "-"' "$dir/explain.json" 2>/dev/null || echo "?")
    [[ $e_sni == "$Q_SNI" ]] || bad+=("fedns explain says SNI $e_sni, Synapse sent ${Q_SNI:-nothing}")
    [[ "${e%% *}" == "$Q_STEP" ]] || bad+=("fedns explain decided at step ${e%% *}, Synapse's log shows step $Q_STEP")
    for b in "${bad[@]}"; do ROWS+=("    ! $b"); done
    ((${#bad[@]} == 0)) || FAILS=$((FAILS + 1))
done

echo "fedns $("$FEDNS_BIN" --version | awk '{print $2}') serving examples/lab-federation/zones; Synapse $SYNAPSE_VERSION x5 (namespace $NS)"
echo "$HEADER"
printf '%s\n' "${ROWS[@]}"
echo "total time: $((SECONDS - T0))s (venv check $((T_SETUP - T0))s, lab up $((T_UP - T_SETUP))s, queries $((SECONDS - T_UP))s)"
((FAILS == 0)) || exit 1
