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
# verification passed. Then `fedns check --probe --fetch-well-known`, run in
# the same namespace, must find a CRT/LIVE error exactly when O got no key
# (the LIVE verdict column). The plumbing is in lib.sh (shared with
# examples/lab-federation/synapse-lab.sh).
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
# shellcheck source=lib.sh
. "$HERE/lib.sh"
lab_init fedns-syn fedns-synapse
ALL_STYLES="direct srv srv-badcert wk-port wk-srv legacy-srv wildcard-srv wk-port-badcert wk-srv-badcert"
STYLES=${STYLES:-$ALL_STYLES}

# ---------------------------------------------------------------- preflight
lab_preflight

# ---------------------------------------------------------------- Synapse venv
lab_venv
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
pki_init "fedns synapse interop CA $$"
cert "$OBS"
for style in $STYLES; do cert "${CERTNAME_OF[$style]}"; done
for style in $STYLES; do [[ -z ${WK_OF[$style]} ]] || cert "${S_OF[$style]}"; done

# ---- homeservers
hs_setup "$OBS" "$OBS_ADDR" 8448 "$OBS" "$OBS_ADDR:8008"
# Each target homeserver listens 10000 ports above the advertised port; the
# SNI proxy holds the advertised address:port and relays to it.
PROXY_MAPS=()
for style in $STYLES; do
    s=${S_OF[$style]} addr=${ADDR_OF[$style]} port=${PORT_OF[$style]}
    hs_setup "$s" "$addr" $((port + 10000)) "${CERTNAME_OF[$style]}"
    PROXY_MAPS+=("$addr:$port=$addr:$((port + 10000))")
done
hs_keygen

# ---- .well-known servers config
WK_ARGS=()
for style in $STYLES; do
    s=${S_OF[$style]}
    [[ -z ${WK_OF[$style]} ]] || WK_ARGS+=("${WK_ADDR[$s]}:443" "$s" "${WK_OF[$style]}")
done
WK_JSON=$WORK/wellknown.json
wellknown_json "$WK_JSON" "${WK_ARGS[@]}"

# ---------------------------------------------------------------- namespace
netns_up "$ZONES"
wait_dns "$OBS"
helpers_up PROXY_MAPS "$WK_JSON"
hs_start_all
wait_for "observer Synapse" 120 nsx curl -s --max-time 2 -o /dev/null "http://$OBS_ADDR:8008/health"
hs_wait_all
say "lab up in $((SECONDS - T_SETUP))s (namespace $NS, work $WORK)"

# ---------------------------------------------------------------- the styles
FAILS=0
ROWS=()
FMT='%-15s %-8s %-51s %-33s %-40s %-28s %-19s %-28s %s'
printf -v HEADER "$FMT" STYLE "STEP e/s" "EXPLAIN host:port / SNI" "SYNAPSE connected to" \
    "TARGET saw (addr / SNI)" "SYNAPSE outcome" "CHECK verdict" "LIVE verdict (--probe)" RESULT

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
    key_query "$OBS" "$OBS_ADDR:8008" "$s" "$sdir"
    o_conn=$Q_CONN o_conns=$Q_CONNS p_listen=$Q_LISTEN p_sni=$Q_SNI
    outcome=$Q_OUTCOME outcome_text=$Q_OUTCOME_TEXT o_step=$Q_STEP q_secs=$Q_SECS
    e_step=$(jq -r '.result.step // "-"' "$sdir/explain.json" 2>/dev/null || echo "?")

    # -- fedns's live verdict: `check --probe` inside the namespace, through
    # the same DNS server, trust store and addresses Synapse used, after
    # Synapse's query (so the proxy log of the query holds only Synapse).
    # --fetch-well-known for every style: Synapse asks https://S/.well-known
    # first whatever the style, and so does the probe.
    plines=$(wc -l <"$WORK/sniproxy.log")
    t_p=$SECONDS
    nsx timeout 90 "$FEDNS_BIN" check "$ZONES/$s.zone" --server-name "$s" --probe --fetch-well-known \
        --dns 127.0.0.1:53 --ca "$PKI/ca.pem" --no-system-roots --timeout 5 --format json \
        >"$sdir/live.json" 2>"$sdir/live.err" || true
    p_secs=$((SECONDS - t_p))
    tail -n +"$((plines + 1))" "$WORK/sniproxy.log" >"$sdir/live.sniproxy.log"
    live_errors=$(jq -r '[.findings[] | select((.rule | startswith("CRT") or startswith("LIVE")) and .severity == "error") | .rule] | unique | join(",")' \
        "$sdir/live.json" 2>/dev/null || echo "?")
    [[ $live_errors != "?" ]] || why+=("fedns check --probe gave no JSON")
    live_verdict=${live_errors:+error ($live_errors)}
    live_verdict="${live_verdict:-no CRT/LIVE error} (${p_secs}s)"
    # Where the probe went: its first handshake must reach the address
    # Synapse reached with the SNI Synapse sent (later ones may differ: the
    # LIVE005 retry with SNI = the target's own name).
    live_first=$(grep -m1 -oP '^sni listen=\K[^ ]+ sni=[^ ]+' "$sdir/live.sniproxy.log" || true)
    [[ $live_first == "$p_listen sni=$p_sni" ]] ||
        why+=("the probe's first connection was ${live_first:-nothing}, Synapse's $p_listen sni=$p_sni")

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
    # The live verdict against the whole outcome: keys fetched <=> no error.
    live_says_fail=no
    [[ -z $live_errors ]] || live_says_fail=yes
    syn_fail=no
    [[ $outcome == ok ]] || syn_fail=yes
    [[ $live_says_fail == "$syn_fail" ]] || why+=("check --probe: $live_verdict, Synapse: $outcome_text")
    [[ $outcome == "${EXPECT[$style]}" ]] || why+=("lab: expected Synapse outcome ${EXPECT[$style]}, got $outcome")
    if [[ -n $wk ]]; then
        # Synapse must have read the same .well-known that explain was given.
        m_server=$(jq -r '."m.server"' <<<"$wk")
        grep -qF "Response from .well-known: {'m.server': '$m_server'}" "$sdir/observer.log" ||
            why+=("no 'Response from .well-known' with m.server $m_server in O's log")
        # ... and the probe fetched it too (WK001 names the delegation).
        jq -e --arg d "$m_server" '[.findings[] | select(.rule == "WK001" and (.message | contains($d)))] | length > 0' \
            "$sdir/live.json" >/dev/null 2>&1 || why+=("the probe did not fetch the .well-known (no WK001 for $m_server)")
    fi

    if ((${#why[@]} == 0)); then result=PASS; else result=FAIL FAILS=$((FAILS + 1)); fi
    printf -v row "$FMT" "$style" "$e_step/$o_step" "$e_host:$e_port / $e_sni" "$o_conn" \
        "${p_listen:--} / ${p_sni:--}" "$outcome_text (${q_secs}s)" "$check_verdict" "$live_verdict" "$result"
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
