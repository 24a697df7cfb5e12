//! The live probe (`fedns check --probe`): LIVE001-LIVE019 and, with
//! `--fetch-well-known`, WK001-WK005.
//!
//! For each server name S the probe follows the Matrix resolution steps a
//! homeserver takes (`.well-known` when fetched or declared, then SRV
//! `_matrix-fed._tcp` / `_matrix._tcp`, then port 8448), and for every
//! address of every target it does what a peer does: TLS with SNI = N (the
//! required name), the chain verified against the trust store and matched
//! against N, then `GET /_matrix/key/v2/server` and
//! `GET /_matrix/federation/v1/version` with `Host:` N. The key response is
//! judged as a peer judges it ([`crate::matrix::keys`]): served as
//! `application/json`, signed by the server over its canonical JSON,
//! 32-byte ed25519 keys, `valid_until_ts` more than an hour and at most a
//! week ahead. When the certificate
//! fails for N, a second handshake with SNI = the target tells whether the
//! target is set up for its own name only (LIVE005). Every network step has
//! a bounded timeout, and the number of targets and addresses is capped.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::SRV;
use hickory_proto::rr::{Name, RecordType};

use super::cert::{CertFacts, TrustStore, cert_facts, san_list, server_name, valid_for};
use super::delegation::{
    CertName, DeclaredServer, Host, ServerAddress, display_name, parse_well_known_body,
};
use super::dns::{MAX_ADDRESSES, Resolver};
use super::{Finding, Rule};
use crate::matrix::dns::DnsResolver;
use crate::matrix::fetch::{self, FetchOptions, Url, WELL_KNOWN_PATH};
use crate::matrix::https::{ConnectError, HttpResponse, TlsSession, connect_tls};
use crate::matrix::resolve::SrvRank;
use crate::zone::matrix::{DEFAULT_FEDERATION_PORT, MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE};
use crate::zone::{Place, Zone};

/// The most SRV targets of one name the probe connects to.
pub const MAX_TARGETS: usize = 8;
/// Cache-Control max-age outside this range gets WK004 (Synapse clamps to it).
pub const WELL_KNOWN_MAX_AGE: std::ops::RangeInclusive<u64> = 300..=48 * 3600;
/// `valid_until_ts` closer than this gets LIVE016.
const KEY_VALIDITY_MIN_MS: i64 = 3_600_000;
/// `valid_until_ts` farther than this gets LIVE017 (the spec advises a week at most).
const KEY_VALIDITY_MAX_MS: i64 = 7 * 86_400_000;
/// Body cap for the key and version responses.
const API_BODY_CAP: usize = 256 * 1024;

/// How to probe.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Where names are resolved.
    pub resolver: Resolver,
    /// What is trusted.
    pub trust: TrustStore,
    /// The bound on every network step.
    pub timeout: Duration,
    /// Fetch `https://S/.well-known/matrix/server`.
    pub fetch_well_known: bool,
    /// The port `.well-known` is fetched from (443; other values for labs and tests).
    pub well_known_port: u16,
    /// Seconds since the epoch (key expiry).
    pub now: i64,
}

/// Where a peer connects for S, and what it sends.
#[derive(Clone, Debug)]
struct Route {
    /// N.
    cert_name: CertName,
    /// The `Host` header.
    host_header: String,
    /// The base name whose SRV records apply, if SRV lookups happen.
    srv_base: Option<Name>,
    /// A fixed endpoint when SRV is not used: host (or IP) and port.
    direct: Option<(Host, u16)>,
    /// Where the delegation was declared.
    place: Option<Place>,
}

/// Probes one server name.
pub fn probe_server(server: &DeclaredServer, zones: &[&Zone], opts: &ProbeOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let s = server.text.clone();
    let route = match (&server.address.host, server.address.port) {
        (Host::Ip(ip), port) => Route {
            cert_name: CertName::Ip(*ip),
            host_header: s.clone(),
            srv_base: None,
            direct: Some((Host::Ip(*ip), port.unwrap_or(DEFAULT_FEDERATION_PORT))),
            place: server.place.clone(),
        },
        (Host::Dns(host), Some(port)) => Route {
            cert_name: CertName::Dns(host.clone()),
            host_header: s.clone(),
            srv_base: None,
            direct: Some((Host::Dns(host.clone()), port)),
            place: server.place.clone(),
        },
        (Host::Dns(host), None) => {
            let delegated = if opts.fetch_well_known {
                let expected = server.delegated().is_some() || !has_srv_in_zones(zones, host);
                fetch_well_known(server, host, expected, opts, &mut out)
            } else {
                server.delegated().cloned()
            };
            route_for(server, host, delegated.as_ref())
        }
    };
    let mut targets: Vec<(Host, u16, Option<Place>)> = Vec::new();
    if let Some((host, port)) = &route.direct {
        targets.push((host.clone(), *port, route.place.clone()));
    } else if let Some(base) = &route.srv_base {
        match srv_targets(base, zones, opts, &mut out) {
            Some(found) => targets.extend(found),
            None => return out,
        }
        if targets.is_empty() {
            targets.push((
                Host::Dns(base.clone()),
                DEFAULT_FEDERATION_PORT,
                route.place.clone(),
            ));
        }
    }
    for (host, port, place) in targets.into_iter().take(MAX_TARGETS) {
        probe_target(&s, &route, &host, port, place.as_ref(), opts, &mut out);
    }
    out
}

fn route_for(server: &DeclaredServer, host: &Name, delegated: Option<&ServerAddress>) -> Route {
    match delegated {
        None => Route {
            cert_name: CertName::Dns(host.clone()),
            host_header: server.text.clone(),
            srv_base: Some(host.clone()),
            direct: None,
            place: server.place.clone(),
        },
        Some(d) => {
            let place = server
                .well_known
                .as_ref()
                .and_then(|w| w.place.clone())
                .or_else(|| server.place.clone());
            match (&d.host, d.port) {
                (Host::Ip(ip), port) => Route {
                    cert_name: CertName::Ip(*ip),
                    host_header: d.to_string(),
                    srv_base: None,
                    direct: Some((Host::Ip(*ip), port.unwrap_or(DEFAULT_FEDERATION_PORT))),
                    place,
                },
                (Host::Dns(dh), Some(port)) => Route {
                    cert_name: CertName::Dns(dh.clone()),
                    host_header: d.to_string(),
                    srv_base: None,
                    direct: Some((Host::Dns(dh.clone()), port)),
                    place,
                },
                (Host::Dns(dh), None) => Route {
                    cert_name: CertName::Dns(dh.clone()),
                    host_header: display_name(dh),
                    srv_base: Some(dh.clone()),
                    direct: None,
                    place,
                },
            }
        }
    }
}

/// Whether the zones answer federation SRV records for `base`, written at
/// its owners or synthesised from a wildcard (as homeservers get them).
fn has_srv_in_zones(zones: &[&Zone], base: &Name) -> bool {
    super::srv::federation_pairs(zones)
        .iter()
        .any(|p| p.base.eq_ignore_root(base) && !(p.fed.is_empty() && p.legacy.is_empty()))
}

/// The `m.server` that `https://S/.well-known/matrix/server` names now,
/// fetched as the probe fetches it (findings are the probe's to report):
/// what `check` must know before it judges the zones, since peers follow it.
pub fn fetched_delegation(
    server: &DeclaredServer,
    zones: &[&Zone],
    opts: &ProbeOptions,
) -> Option<ServerAddress> {
    let (Host::Dns(host), None) = (&server.address.host, server.address.port) else {
        return None;
    };
    let expected = !has_srv_in_zones(zones, host);
    fetch_well_known(server, host, expected, opts, &mut Vec::new())
}

fn srv_owners(base: &Name) -> Vec<Name> {
    [MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE]
        .iter()
        .filter_map(|service| {
            Name::from_labels([service.as_bytes(), b"_tcp".as_slice()])
                .ok()?
                .append_domain(base)
                .ok()
        })
        .collect()
}

/// The SRV records the zones answer at `owner` (`_matrix-fed._tcp.X` or
/// `_matrix._tcp.X`), written there or synthesised from a wildcard, each
/// with the place it is written at: the lint's own federation RRsets.
fn zone_srv(zones: &[&Zone], owner: &Name) -> Vec<(SRV, Place)> {
    let legacy = owner
        .iter()
        .next()
        .is_some_and(|l| l.eq_ignore_ascii_case(MATRIX_LEGACY_SERVICE.as_bytes()));
    let base = owner.base_name().base_name();
    super::srv::federation_pairs(zones)
        .into_iter()
        .filter(|p| p.base.eq_ignore_root(&base))
        .flat_map(|p| if legacy { p.legacy } else { p.fed })
        .map(|r| (r.srv.clone(), r.sourced.place.clone()))
        .collect()
}

/// Looks up the federation SRV records at `base` live (LIVE012, LIVE013).
/// Returns the targets in the order peers try them; `None` when federation
/// is explicitly off (a single target `.`).
fn srv_targets(
    base: &Name,
    zones: &[&Zone],
    opts: &ProbeOptions,
    out: &mut Vec<Finding>,
) -> Option<Vec<(Host, u16, Option<Place>)>> {
    let b = display_name(base);
    let mut records: Vec<(SRV, Option<Place>)> = Vec::new();
    let mut any_live = false;
    for owner in srv_owners(base) {
        let o = display_name(&owner);
        let zone_records = zone_srv(zones, &owner);
        let place = zone_records.first().map(|r| r.1.clone());
        match opts.resolver.srv(&owner) {
            Ok((ResponseCode::NoError, found)) if !found.is_empty() => {
                any_live = true;
                if records.is_empty() {
                    records = found.into_iter().map(|s| (s, place.clone())).collect();
                }
            }
            Ok((ResponseCode::NoError | ResponseCode::NXDomain, _)) => {}
            Ok((rcode, _)) => out.push(
                Finding::new(Rule::Live012, &o, format!("the SRV question for {o} answers {rcode}; Synapse gives up on {b} instead of trying the next step"))
                    .at(place.as_ref()),
            ),
            Err(e) => out.push(
                Finding::new(Rule::Live012, &o, format!("the SRV question for {o} got no answer: {e}; Synapse gives up on {b} instead of trying the next step"))
                    .at(place.as_ref()),
            ),
        }
        if records.is_empty() && !zone_records.is_empty() && !any_live {
            // Not published (yet), or unreachable: probe what the zone says.
            records = zone_records
                .into_iter()
                .map(|(s, p)| (s, Some(p)))
                .collect();
        }
    }
    // LIVE013: the empty non-terminal `_tcp.X` must not be NXDOMAIN.
    let expect_tcp = any_live || has_srv_in_zones(zones, base);
    if expect_tcp
        && let Some(tcp) = Name::from_labels([b"_tcp".as_slice()])
            .ok()
            .and_then(|p| p.append_domain(base).ok())
        && let Ok(answer) = opts.resolver.query(&tcp, RecordType::A)
        && answer.rcode == ResponseCode::NXDomain
    {
        let t = display_name(&tcp);
        out.push(Finding::new(Rule::Live013, &t, format!("{t} answers NXDOMAIN although federation SRV records exist below it; QNAME-minimising resolvers stop there and never see them")));
    }
    if records.len() == 1 && records[0].0.target.is_root() {
        return None;
    }
    records.retain(|(s, _)| !s.target.is_root());
    records.sort_by_key(|(s, _)| {
        SrvRank {
            priority: s.priority,
            weight: s.weight,
        }
        .order_key()
    });
    Some(
        records
            .into_iter()
            .map(|(s, p)| (Host::Dns(s.target.clone()), s.port, p))
            .collect(),
    )
}

/// What one address did, for comparing addresses of a target (LIVE011).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Behaviour {
    summary: String,
}

fn probe_target(
    s: &str,
    route: &Route,
    host: &Host,
    port: u16,
    place: Option<&Place>,
    opts: &ProbeOptions,
    out: &mut Vec<Finding>,
) {
    let t = host.to_string();
    let n = route.cert_name.to_string();
    let addresses: Vec<IpAddr> = match host {
        Host::Ip(ip) => vec![*ip],
        Host::Dns(name) => match opts.resolver.addresses(name) {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => {
                out.push(Finding::new(Rule::Live001, &t, format!("{t} has no A or AAAA record: peers resolving {s} cannot connect to {t}:{port}")).at(place));
                return;
            }
            Err(e) => {
                out.push(Finding::new(Rule::Live001, &t, format!("the addresses of {t} cannot be resolved ({e}): peers cannot connect to {t}:{port}")).at(place));
                return;
            }
        },
    };
    let mut behaviours: Vec<(SocketAddr, Behaviour)> = Vec::new();
    for ip in addresses.into_iter().take(MAX_ADDRESSES) {
        let addr = SocketAddr::new(ip, port);
        let behaviour = probe_endpoint(s, route, host, addr, place, opts, out);
        behaviours.push((addr, behaviour));
    }
    if let Some((first_addr, first)) = behaviours.first()
        && let Some((other_addr, other)) = behaviours.iter().find(|(_, b)| b != first)
    {
        out.push(
            Finding::new(
                Rule::Live011,
                &t,
                format!("the addresses of {t} behave differently for {n}: {first_addr} {}, but {other_addr} {}", first.summary, other.summary),
            )
            .at(place),
        );
    }
}

fn probe_endpoint(
    s: &str,
    route: &Route,
    host: &Host,
    addr: SocketAddr,
    place: Option<&Place>,
    opts: &ProbeOptions,
    out: &mut Vec<Finding>,
) -> Behaviour {
    let t = host.to_string();
    let n = route.cert_name.to_string();
    let Some(sni) = server_name(&route.cert_name) else {
        out.push(
            Finding::new(
                Rule::Live002,
                &n,
                format!("{n} cannot be sent as a TLS server name"),
            )
            .at(place),
        );
        return Behaviour {
            summary: "bad name".into(),
        };
    };
    let session = match connect_tls(addr, &sni, &opts.trust.roots, opts.timeout) {
        Ok(session) => session,
        Err(ConnectError::OldProtocol { message, .. }) => {
            out.push(
                Finding::new(
                    Rule::Live019,
                    &t,
                    format!("{t} at {addr} has no TLS version in common with a client offering TLS 1.2 and 1.3: {message}"),
                )
                .at(place),
            );
            return Behaviour {
                summary: "speaks only TLS below 1.2".into(),
            };
        }
        Err(ConnectError::Tcp { message, .. }) => {
            out.push(
                Finding::new(
                    Rule::Live001,
                    &t,
                    format!("TCP connect to {t} at {addr} failed: {message}"),
                )
                .at(place),
            );
            return Behaviour {
                summary: format!("refuses TCP ({message})"),
            };
        }
        Err(e) => {
            let mut message = format!(
                "the TLS handshake with {t} at {addr} for SNI {n} failed: {}",
                error_detail(&e)
            );
            if let Some(facts) = own_name_facts(host, addr, route, opts) {
                message.push_str(&format!("; with SNI {t} it succeeds and presents a certificate for {} (the server is set up for {t}, not for {n})", san_list(&facts)));
            }
            out.push(Finding::new(Rule::Live002, &n, message).at(place));
            return Behaviour {
                summary: "aborts the handshake".into(),
            };
        }
    };
    let leaf = session
        .presented
        .chain
        .first()
        .and_then(|c| cert_facts(c).ok());
    let fingerprint = session
        .presented
        .chain
        .first()
        .map(|c| short_hash(c.as_ref()))
        .unwrap_or_default();
    // The name, judged with RFC 6125 / RFC 9525 matching.
    let name_ok = leaf
        .as_ref()
        .is_some_and(|f| valid_for(f, &route.cert_name));
    // The chain, judged by webpki (name errors aside).
    if let Some(problem) = session
        .presented
        .problem
        .as_ref()
        .filter(|p| !is_name_error(p))
    {
        out.push(
            Finding::new(
                Rule::Live004,
                &n,
                format!(
                    "the chain {t} at {addr} presents does not verify: {}",
                    describe_cert_error(problem)
                ),
            )
            .at(place),
        );
    }
    // The key endpoint, with Host = the required name.
    let key = session.get(
        &route.host_header,
        "/_matrix/key/v2/server",
        API_BODY_CAP,
        opts.timeout,
    );
    let key_summary = match key {
        Err(e) => {
            out.push(Finding::new(Rule::Live006, &n, format!("GET /_matrix/key/v2/server on {addr} with Host: {} got no HTTP response: {e}", route.host_header)).at(place));
            "no HTTP response".to_owned()
        }
        Ok(response) => check_key_response(
            s,
            &route.host_header,
            &n,
            addr,
            &response,
            opts.now,
            place,
            out,
        ),
    };
    // The version endpoint, on a fresh connection.
    if let Ok(session) = connect_tls(addr, &sni, &opts.trust.roots, opts.timeout) {
        match session.get(
            &route.host_header,
            "/_matrix/federation/v1/version",
            API_BODY_CAP,
            opts.timeout,
        ) {
            Ok(r)
                if r.status == 200
                    && json_object(&r.body).is_some_and(|v| v.get("server").is_some()) => {}
            Ok(r) => out.push(
                Finding::new(
                    Rule::Live010,
                    &n,
                    format!(
                        "GET /_matrix/federation/v1/version on {addr} with Host: {} answered {}{}",
                        route.host_header,
                        r.status,
                        if r.status == 200 {
                            " without a JSON `server` object"
                        } else {
                            ""
                        }
                    ),
                )
                .at(place),
            ),
            Err(e) => out.push(
                Finding::new(
                    Rule::Live010,
                    &n,
                    format!("GET /_matrix/federation/v1/version on {addr} failed: {e}"),
                )
                .at(place),
            ),
        }
    }
    // Judged last: the second handshake (SNI = the target) must not overlap
    // the first connection, for servers that serve one connection at a time.
    if !name_ok {
        let sans = leaf
            .as_ref()
            .map(san_list)
            .unwrap_or_else(|| "no parsable certificate".into());
        match own_name_facts(host, addr, route, opts) {
            Some(_) => out.push(
                Finding::new(Rule::Live005, &n, format!("{t} at {addr} presents a certificate for {sans}, not for {n}; with SNI {t} it presents a valid certificate for {t}: it is set up for its own name, but peers resolving {s} ask for {n}"))
                    .at(place)
                    .fix(format!("Serve a certificate for {n} on {t}:{} for SNI {n} (and route Host {n} to the homeserver); or serve {{\"m.server\": \"{t}:{}\"}} at https://{n}/.well-known/matrix/server (fedns check --explain SRV025).", addr.port(), addr.port())),
            ),
            None => out.push(Finding::new(Rule::Live003, &n, format!("{t} at {addr} presents a certificate for {sans}, not for {n}")).at(place)),
        }
    }
    Behaviour {
        summary: format!(
            "presents certificate {fingerprint} and answers the key request with {key_summary}"
        ),
    }
}

fn is_name_error(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. }
        )
    )
}

fn describe_cert_error(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => "unknown issuer (self-signed, a private CA not given with --ca, or intermediates missing)".into(),
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => "a certificate has expired".into(),
        rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => "a certificate is not valid yet".into(),
        rustls::Error::InvalidCertificate(C::BadSignature) => "a signature in the chain does not verify".into(),
        rustls::Error::InvalidCertificate(C::InvalidPurpose | C::InvalidPurposeContext { .. }) => "the leaf is not for TLS servers (extended key usage)".into(),
        other => other.to_string(),
    }
}

fn error_detail(e: &ConnectError) -> String {
    match e {
        ConnectError::Handshake { message, .. }
        | ConnectError::Tcp { message, .. }
        | ConnectError::OldProtocol { message, .. } => message.clone(),
        ConnectError::BadName(n) => format!("{n} is not a valid SNI"),
    }
}

/// When `host` is a DNS name other than N: the facts of the certificate it
/// presents for SNI = itself, if that one is valid (verifies and matches).
fn own_name_facts(
    host: &Host,
    addr: SocketAddr,
    route: &Route,
    opts: &ProbeOptions,
) -> Option<CertFacts> {
    let Host::Dns(target) = host else { return None };
    let own = CertName::Dns(target.clone());
    if own == route.cert_name {
        return None;
    }
    let session: TlsSession =
        connect_tls(addr, &server_name(&own)?, &opts.trust.roots, opts.timeout).ok()?;
    let facts = cert_facts(session.presented.chain.first()?).ok()?;
    (session.presented.problem.is_none() && valid_for(&facts, &own)).then_some(facts)
}

#[allow(clippy::too_many_arguments)]
fn check_key_response(
    s: &str,
    host_header: &str,
    n: &str,
    addr: SocketAddr,
    response: &HttpResponse,
    now: i64,
    place: Option<&Place>,
    out: &mut Vec<Finding>,
) -> String {
    if response.status != 200 {
        let hint = match response.status {
            404 => {
                ": the request reached something that does not serve the federation API for this Host (a reverse proxy routing by the target's name?)"
            }
            421 => {
                ": Misdirected Request, the TLS server does not serve this Host (SNI/Host routing)"
            }
            _ => "",
        };
        out.push(Finding::new(Rule::Live006, n, format!("GET /_matrix/key/v2/server on {addr} with Host: {host_header} answered {}{hint}", response.status)).at(place));
        return format!("status {}", response.status);
    }
    let Some(key) = json_object(&response.body) else {
        let start: String = String::from_utf8_lossy(&response.body)
            .chars()
            .take(40)
            .collect();
        let kind = if start.trim_start().starts_with('<') {
            "an HTML page"
        } else {
            "not JSON"
        };
        let content_type = response.header("content-type").unwrap_or("no Content-Type");
        out.push(Finding::new(Rule::Live007, n, format!("GET /_matrix/key/v2/server on {addr} with Host: {host_header} answered 200 with {kind} ({content_type}, starting {start:?}): a website, not the homeserver")).at(place));
        return "a non-JSON 200".into();
    };
    let server_name = key
        .get("server_name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if !server_name.eq_ignore_ascii_case(s) {
        let shown = if server_name.is_empty() {
            "no server_name".to_owned()
        } else {
            format!("server_name {server_name:?}")
        };
        out.push(Finding::new(Rule::Live008, s, format!("the key response on {addr} carries {shown}, not {s}: the delegation reaches another homeserver")).at(place));
    }
    let content_type = response.header("content-type").unwrap_or("");
    let is_json = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        let shown = if content_type.is_empty() {
            "no Content-Type".to_owned()
        } else {
            format!("Content-Type {content_type:?}")
        };
        out.push(Finding::new(Rule::Live018, n, format!("GET /_matrix/key/v2/server on {addr} answered JSON with {shown}: Synapse refuses a federation response that is not application/json")).at(place));
    }
    let valid_until = key
        .get("valid_until_ts")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    let has_ed25519 = key
        .get("verify_keys")
        .and_then(|v| v.as_object())
        .is_some_and(|keys| keys.keys().any(|k| k.starts_with("ed25519:")));
    let now_ms = now.saturating_mul(1000);
    if !has_ed25519 {
        out.push(
            Finding::new(
                Rule::Live009,
                s,
                format!("the key response on {addr} has no ed25519 verify key"),
            )
            .at(place),
        );
    } else if valid_until < now_ms {
        out.push(Finding::new(Rule::Live009, s, format!("the key response on {addr} says valid_until_ts {valid_until}, which is in the past")).at(place));
    } else if valid_until < now_ms + KEY_VALIDITY_MIN_MS {
        out.push(Finding::new(Rule::Live016, s, format!("the key response on {addr} says valid_until_ts {valid_until}: the keys expire in {} minutes", (valid_until - now_ms) / 60_000)).at(place));
    } else if valid_until > now_ms + KEY_VALIDITY_MAX_MS {
        out.push(Finding::new(Rule::Live017, s, format!("the key response on {addr} says valid_until_ts {valid_until}: {} days ahead, more than the 7 the spec advises", (valid_until - now_ms) / 86_400_000)).at(place));
    }
    let report = crate::matrix::keys::check_key_response(&key, server_name);
    for (key_id, what) in &report.bad_keys {
        out.push(
            Finding::new(
                Rule::Live015,
                s,
                format!(
                    "the key response on {addr} lists {key_id} as {what}, not a 32-byte ed25519 key"
                ),
            )
            .at(place),
        );
    }
    match &report.signature {
        crate::matrix::keys::Signature::Valid { .. } => {}
        crate::matrix::keys::Signature::Missing => out.push(
            Finding::new(
                Rule::Live014,
                s,
                format!(
                    "the key response on {addr} carries no ed25519 signature by {server_name:?}"
                ),
            )
            .at(place),
        ),
        crate::matrix::keys::Signature::Invalid { key_id, reason } => out.push(
            Finding::new(
                Rule::Live014,
                s,
                format!("the key response on {addr} is signed with {key_id}, but {reason}"),
            )
            .at(place),
        ),
    }
    format!("200 for server_name {server_name:?}")
}

fn json_object(body: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A short, stable hash of bytes (FNV-1a), to tell certificates apart in messages.
fn short_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

// ------------------------------------------------------------ .well-known --

/// One fetch of `.well-known/matrix/server` from one address of S.
#[derive(Clone, Debug, PartialEq, Eq)]
enum WellKnownFetch {
    /// A valid document.
    Valid {
        m_server: ServerAddress,
        max_age: Option<MaxAge>,
        over_cap: bool,
    },
    /// An invalid one, or a failure to fetch: why.
    Invalid { problem: String, over_cap: bool },
}

/// What Cache-Control says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaxAge {
    /// `max-age=N`.
    Seconds(u64),
    /// `no-store` or `no-cache`.
    NoStore,
}

/// Reads a Cache-Control header value.
pub fn parse_cache_control(value: &str) -> Option<MaxAge> {
    let mut max_age = None;
    for directive in value.split(',') {
        let d = directive.trim().to_ascii_lowercase();
        if d == "no-store" || d == "no-cache" {
            return Some(MaxAge::NoStore);
        }
        if let Some(n) = d.strip_prefix("max-age=") {
            max_age = n.trim_matches('"').parse().ok().map(MaxAge::Seconds);
        }
    }
    max_age
}

fn fetch_well_known(
    server: &DeclaredServer,
    host: &Name,
    expected: bool,
    opts: &ProbeOptions,
    out: &mut Vec<Finding>,
) -> Option<ServerAddress> {
    let s = server.text.clone();
    let place = server
        .well_known
        .as_ref()
        .and_then(|w| w.place.clone())
        .or_else(|| server.place.clone());
    let addresses = match opts.resolver.addresses(host) {
        Ok(a) => a,
        Err(e) => {
            if expected {
                out.push(Finding::new(Rule::Wk003, &s, format!("cannot fetch https://{s}/.well-known/matrix/server: resolving {s} failed ({e})")).at(place.as_ref()));
            }
            return None;
        }
    };
    if addresses.is_empty() {
        if expected {
            out.push(Finding::new(Rule::Wk003, &s, format!("cannot fetch https://{s}/.well-known/matrix/server: {s} has no A or AAAA record")).at(place.as_ref()));
        }
        return None;
    }
    let mut results: Vec<(IpAddr, WellKnownFetch)> = Vec::new();
    for ip in addresses.into_iter().take(MAX_ADDRESSES) {
        results.push((ip, fetch_from(host, ip, opts)));
    }
    let (first_ip, first) = results.first()?.clone();
    if let Some((other_ip, other)) = results.iter().find(|(_, r)| !same_outcome(r, &first)) {
        out.push(
            Finding::new(Rule::Wk005, &s, format!("the .well-known of {s} differs between its addresses: {first_ip} {}, {other_ip} {}", describe_fetch(&first), describe_fetch(other)))
                .at(place.as_ref()),
        );
    }
    let over = matches!(
        first,
        WellKnownFetch::Valid { over_cap: true, .. }
            | WellKnownFetch::Invalid { over_cap: true, .. }
    );
    if over {
        out.push(Finding::new(Rule::Wk002, &s, format!("the .well-known of {s} (from {first_ip}) is larger than 50 KiB; Synapse and Dendrite stop reading there")).at(place.as_ref()));
    }
    match first {
        WellKnownFetch::Valid {
            m_server, max_age, ..
        } => {
            let n = super::delegation::certificate_name(&server.address, Some(&m_server));
            let declared = server
                .delegated()
                .filter(|d| **d != m_server)
                .map(|d| format!(" (the zone declares {d})"))
                .unwrap_or_default();
            out.push(
                Finding::new(Rule::Wk001, &s, format!("https://{s}/.well-known/matrix/server delegates to {m_server}{declared}: peers ignore SRV records at {s}, and the certificate must be valid for {n}"))
                    .at(place.as_ref()),
            );
            match max_age {
                Some(MaxAge::NoStore) => out.push(Finding::new(Rule::Wk004, &s, format!("the .well-known of {s} is sent with no-store/no-cache; homeservers cache it anyway (Synapse: 24 h without a usable max-age)")).at(place.as_ref())),
                Some(MaxAge::Seconds(age)) if !WELL_KNOWN_MAX_AGE.contains(&age) => out.push(
                    Finding::new(Rule::Wk004, &s, format!("the .well-known of {s} has Cache-Control max-age={age}; Synapse clamps it to 5 minutes..48 hours")).at(place.as_ref()),
                ),
                _ => {}
            }
            Some(m_server)
        }
        WellKnownFetch::Invalid { problem, .. } => {
            if expected {
                out.push(
                    Finding::new(Rule::Wk003, &s, format!("https://{s}/.well-known/matrix/server (from {first_ip}) is invalid: {problem}; peers fall back to SRV at {s}, then {s}:8448"))
                        .at(place.as_ref()),
                );
            }
            None
        }
    }
}

fn same_outcome(a: &WellKnownFetch, b: &WellKnownFetch) -> bool {
    match (a, b) {
        (WellKnownFetch::Valid { m_server: x, .. }, WellKnownFetch::Valid { m_server: y, .. }) => {
            x == y
        }
        (WellKnownFetch::Invalid { .. }, WellKnownFetch::Invalid { .. }) => true,
        _ => false,
    }
}

fn describe_fetch(f: &WellKnownFetch) -> String {
    match f {
        WellKnownFetch::Valid { m_server, .. } => format!("delegates to {m_server}"),
        WellKnownFetch::Invalid { problem, .. } => format!("is invalid ({problem})"),
    }
}

/// Fetches `.well-known` from one address of S, following redirects, as
/// `fedns explain --fetch` does (one fetcher, [`fetch::fetch_from`]).
fn fetch_from(host: &Name, ip: IpAddr, opts: &ProbeOptions) -> WellKnownFetch {
    let invalid = |problem: String, over_cap: bool| WellKnownFetch::Invalid { problem, over_cap };
    let options = FetchOptions {
        roots: std::sync::Arc::clone(&opts.trust.roots),
        connect_to: None,
        timeout: opts.timeout,
    };
    let url = Url {
        host: display_name(host),
        port: opts.well_known_port,
        path: WELL_KNOWN_PATH.to_owned(),
    };
    let Some(dns) = opts.resolver.servers().first() else {
        return invalid("no DNS server to resolve redirects with".into(), false);
    };
    let redirects = DnsResolver::new(*dns, opts.timeout, 2);
    let first = SocketAddr::new(ip, opts.well_known_port);
    let fetched = match fetch::fetch_from(&options, url, Some(first), &redirects) {
        Ok(f) => f,
        Err(e) => return invalid(format!("a redirect's host does not resolve ({e})"), false),
    };
    if let Some(error) = fetched.error {
        return invalid(error, fetched.over_cap);
    }
    let Some(body) = fetched.body else {
        return invalid("no response body".into(), false);
    };
    match parse_well_known_body(&body) {
        Ok(m_server) => WellKnownFetch::Valid {
            m_server,
            max_age: fetched
                .cache_control
                .as_deref()
                .and_then(parse_cache_control),
            over_cap: false,
        },
        Err(e) => invalid(e.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cache_control() {
        assert_eq!(
            parse_cache_control("public, max-age=3600"),
            Some(MaxAge::Seconds(3600))
        );
        assert_eq!(
            parse_cache_control("max-age=\"60\""),
            Some(MaxAge::Seconds(60))
        );
        assert_eq!(parse_cache_control("no-store"), Some(MaxAge::NoStore));
        assert_eq!(parse_cache_control("private"), None);
    }

    #[test]
    fn hashes_are_stable_and_short() {
        assert_eq!(short_hash(b"abc"), short_hash(b"abc"));
        assert_ne!(short_hash(b"abc"), short_hash(b"abd"));
        assert_eq!(short_hash(b"").len(), 8);
    }

    #[test]
    fn routes_follow_the_spec_steps() {
        let n = |s: &str| Name::from_ascii(s).unwrap();
        let server = DeclaredServer {
            text: "example.org".into(),
            address: ServerAddress {
                host: Host::Dns(n("example.org.")),
                port: None,
            },
            well_known: None,
            place: None,
            certificate: None,
            zone: None,
        };
        let r = route_for(&server, &n("example.org."), None);
        assert_eq!(
            (
                r.cert_name.to_string(),
                r.host_header.as_str(),
                r.srv_base.is_some()
            ),
            ("example.org".into(), "example.org", true)
        );
        let d = super::super::delegation::parse_server_address("matrix.example.org:443").unwrap();
        let r = route_for(&server, &n("example.org."), Some(&d));
        assert_eq!(
            (
                r.cert_name.to_string(),
                r.host_header.as_str(),
                r.srv_base.is_none()
            ),
            ("matrix.example.org".into(), "matrix.example.org:443", true)
        );
        let d = super::super::delegation::parse_server_address("matrix.example.org").unwrap();
        let r = route_for(&server, &n("example.org."), Some(&d));
        assert_eq!(r.srv_base, Some(n("matrix.example.org.")));
    }
}
