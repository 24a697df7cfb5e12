//! The step machine of the Matrix server-server API's "Resolving server
//! names" (its numbered table of steps), over any [`Resolver`].
//!
//! [`resolve`] walks the steps in order and records every one of them,
//! taken or skipped, with the DNS lookups it made, the `.well-known` it read
//! and why it went the way it did; then the [`Target`]: where to connect,
//! the SNI and `Host` header to send, and the name the certificate must be
//! valid for. Steps that are not reached are still listed (skipped, with the
//! reason), so every resolution has all eleven steps.

use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};

use super::dns::{DnsError, Lookup, Resolver, lookup};
use super::homeservers;
use super::server_name::ServerName;
use super::well_known::{self, WellKnown, WellKnownSource};
use crate::zone::matrix::{
    DEFAULT_FEDERATION_PORT, MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE, srv_owner,
};

/// The steps of the spec's table, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepId {
    /// 1: `S` is an IP literal.
    IpLiteral,
    /// 2: `S` has an explicit port.
    ExplicitPort,
    /// 3: `GET https://S/.well-known/matrix/server`.
    WellKnown,
    /// 3.1: `m.server` is an IP literal.
    DelegatedIpLiteral,
    /// 3.2: `m.server` is `D:port`.
    DelegatedPort,
    /// 3.3: SRV `_matrix-fed._tcp.D`.
    DelegatedFedSrv,
    /// 3.4: SRV `_matrix._tcp.D` (deprecated).
    DelegatedLegacySrv,
    /// 3.5: A/AAAA of `D`, port 8448.
    DelegatedDefault,
    /// 4: SRV `_matrix-fed._tcp.S`.
    FedSrv,
    /// 5: SRV `_matrix._tcp.S` (deprecated).
    LegacySrv,
    /// 6: A/AAAA of `S`, port 8448.
    Default,
}

impl StepId {
    /// Every step, in the order of the spec's table.
    pub const ALL: [StepId; 11] = [
        StepId::IpLiteral,
        StepId::ExplicitPort,
        StepId::WellKnown,
        StepId::DelegatedIpLiteral,
        StepId::DelegatedPort,
        StepId::DelegatedFedSrv,
        StepId::DelegatedLegacySrv,
        StepId::DelegatedDefault,
        StepId::FedSrv,
        StepId::LegacySrv,
        StepId::Default,
    ];

    /// The step's number in the spec's table: "1", "2", "3", "3.1".."3.5", "4", "5", "6".
    pub fn number(self) -> &'static str {
        match self {
            StepId::IpLiteral => "1",
            StepId::ExplicitPort => "2",
            StepId::WellKnown => "3",
            StepId::DelegatedIpLiteral => "3.1",
            StepId::DelegatedPort => "3.2",
            StepId::DelegatedFedSrv => "3.3",
            StepId::DelegatedLegacySrv => "3.4",
            StepId::DelegatedDefault => "3.5",
            StepId::FedSrv => "4",
            StepId::LegacySrv => "5",
            StepId::Default => "6",
        }
    }

    /// The step's condition, in the spec's terms (S = server name, D = delegated host).
    pub fn condition(self) -> &'static str {
        match self {
            StepId::IpLiteral => "S is an IP literal",
            StepId::ExplicitPort => "S has an explicit port",
            StepId::WellKnown => "GET https://S/.well-known/matrix/server",
            StepId::DelegatedIpLiteral => "m.server is an IP literal",
            StepId::DelegatedPort => "m.server is D:port",
            StepId::DelegatedFedSrv => "SRV _matrix-fed._tcp.D",
            StepId::DelegatedLegacySrv => "SRV _matrix._tcp.D (deprecated)",
            StepId::DelegatedDefault => "A/AAAA of D, port 8448",
            StepId::FedSrv => "SRV _matrix-fed._tcp.S",
            StepId::LegacySrv => "SRV _matrix._tcp.S (deprecated)",
            StepId::Default => "A/AAAA of S, port 8448",
        }
    }
}

/// One step of a resolution, taken or skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Which step.
    pub id: StepId,
    /// True for the steps on the path to the result.
    pub taken: bool,
    /// Why it was taken or skipped, in words.
    pub reason: String,
    /// The DNS lookups made at this step, with the records seen.
    pub lookups: Vec<Lookup>,
    /// What the `.well-known` said (step 3 only).
    pub well_known: Option<WellKnown>,
    /// Where real homeservers differ from the spec at this step.
    pub differences: Vec<String>,
}

impl Step {
    fn new(id: StepId, taken: bool, reason: impl Into<String>) -> Step {
        Step {
            id,
            taken,
            reason: reason.into(),
            lookups: Vec::new(),
            well_known: None,
            differences: Vec::new(),
        }
    }
}

/// The priority and weight of an SRV record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrvRank {
    /// RFC 2782 priority (lower first).
    pub priority: u16,
    /// RFC 2782 weight.
    pub weight: u16,
}

impl SrvRank {
    /// The order peers try targets in, as a sort key (a stable sort keeps
    /// the answer's order among equals): priority ascending, then the
    /// heaviest weight first, the deterministic reading of RFC 2782's
    /// weighted choice that `explain` and the probe share.
    pub fn order_key(self) -> (u16, u16) {
        (self.priority, u16::MAX - self.weight)
    }
}

/// One host and port a homeserver may connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The host name (without the root dot) or IP address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Its addresses (empty when it has none).
    pub addresses: Vec<IpAddr>,
    /// For SRV targets: the record's priority and weight.
    pub srv: Option<SrvRank>,
}

/// Where federation traffic for `S` goes, and the TLS and HTTP names it uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The step that decided.
    pub step: StepId,
    /// Where to connect, most preferred first (several only for SRV).
    pub endpoints: Vec<Endpoint>,
    /// The TLS server name indication sent (`None` for IP literals).
    pub sni: Option<String>,
    /// The HTTP `Host` header sent.
    pub host_header: String,
    /// The name the certificate must be valid for (an IP for IP literals).
    pub certificate_name: String,
}

impl Target {
    /// The preferred endpoint.
    pub fn first(&self) -> Option<&Endpoint> {
        self.endpoints.first()
    }

    /// The preferred host.
    pub fn host(&self) -> &str {
        self.first().map_or("", |e| e.host.as_str())
    }

    /// The preferred port.
    pub fn port(&self) -> u16 {
        self.first().map_or(DEFAULT_FEDERATION_PORT, |e| e.port)
    }

    /// The addresses of the preferred endpoint.
    pub fn addresses(&self) -> &[IpAddr] {
        self.first().map_or(&[], |e| e.addresses.as_slice())
    }
}

/// A whole resolution of one server name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The server name resolved.
    pub server_name: ServerName,
    /// Where the DNS answers came from ([`Resolver::describe`]).
    pub dns: String,
    /// All eleven steps, in the spec's order.
    pub steps: Vec<Step>,
    /// The delegated server name `D`, when the `.well-known` was valid.
    pub delegated: Option<ServerName>,
    /// Where traffic goes; `None` when nothing can be reached (SRV target `.`).
    pub result: Option<Target>,
    /// Why federation to `S` fails, when it does (no target, no addresses).
    pub failure: Option<String>,
}

impl Resolution {
    /// The step with this id.
    pub fn step(&self, id: StepId) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The step that decided the result.
    pub fn decisive_step(&self) -> Option<&Step> {
        let id = self.result.as_ref().map(|t| t.step)?;
        self.step(id)
    }

    /// The steps a homeserver evaluates, in order, ending at the one that
    /// decided: 1, 2, 3, then 3.1 to 3.5 after a valid `.well-known` or 4
    /// to 6 after a failed one. Without a result (an SRV target `.`), the
    /// path ends at the step whose condition held.
    pub fn path(&self) -> Vec<StepId> {
        let decided = self.result.as_ref().map(|t| t.step);
        let delegated = self.step(StepId::WellKnown).is_some_and(|s| s.taken);
        let rest: &[StepId] = if delegated {
            &StepId::ALL[3..8]
        } else {
            &StepId::ALL[8..]
        };
        let mut path = Vec::new();
        for &id in StepId::ALL[..3].iter().chain(rest) {
            path.push(id);
            let held = self.step(id).is_some_and(|s| s.taken);
            if Some(id) == decided || (held && id != StepId::WellKnown) {
                break;
            }
        }
        path
    }
}

/// Resolves `server_name` as the spec says a homeserver does: DNS through
/// `resolver`, the `.well-known` from `well_known`.
///
/// Errors only when DNS could not be asked at all (no answer, garbage);
/// everything a homeserver would see, including DNS error codes and a failed
/// `.well-known`, is part of the [`Resolution`].
pub fn resolve(
    server_name: &ServerName,
    resolver: &dyn Resolver,
    well_known: &WellKnownSource,
) -> Result<Resolution, DnsError> {
    let mut m = Machine {
        resolver,
        steps: Vec::new(),
        delegated: None,
        result: None,
        failure: None,
    };
    m.run(server_name, well_known)?;
    Ok(Resolution {
        server_name: server_name.clone(),
        dns: resolver.describe(),
        steps: m.steps,
        delegated: m.delegated,
        result: m.result,
        failure: m.failure,
    })
}

/// The state of one resolution.
struct Machine<'r> {
    resolver: &'r dyn Resolver,
    steps: Vec<Step>,
    delegated: Option<ServerName>,
    result: Option<Target>,
    failure: Option<String>,
}

/// The three steps that follow a name without a port: SRV `_matrix-fed`,
/// SRV `_matrix`, then A/AAAA on 8448.
struct Chain {
    fed: StepId,
    legacy: StepId,
    default: StepId,
}

const S_CHAIN: Chain = Chain {
    fed: StepId::FedSrv,
    legacy: StepId::LegacySrv,
    default: StepId::Default,
};
const D_CHAIN: Chain = Chain {
    fed: StepId::DelegatedFedSrv,
    legacy: StepId::DelegatedLegacySrv,
    default: StepId::DelegatedDefault,
};

/// What an SRV lookup found.
struct SrvFound {
    lookup: Lookup,
    /// The records, as (rank, port, target), in answer order.
    records: Vec<(SrvRank, u16, Name)>,
}

impl<'r> Machine<'r> {
    fn run(&mut self, s: &ServerName, source: &WellKnownSource) -> Result<(), DnsError> {
        // Step 1.
        if let Some(ip) = s.ip() {
            let port = s.port().unwrap_or(DEFAULT_FEDERATION_PORT);
            self.steps.push(Step::new(
                StepId::IpLiteral,
                true,
                format!("{s} is an IP literal: connect to {} directly, no DNS and no .well-known; no SNI is sent and the certificate must hold the IP address (an iPAddress SAN)", socket_text(ip, port)),
            ));
            self.result = Some(ip_target(StepId::IpLiteral, ip, port, s.as_str()));
            self.skip_rest("not reached: step 1 decided (S is an IP literal)");
            return Ok(());
        }
        let host = s.host_text();
        self.steps.push(Step::new(
            StepId::IpLiteral,
            false,
            format!("{host} is a host name, not an IP literal"),
        ));
        let Some(host_name) = s.dns_name() else {
            self.failure = Some(format!("{host} cannot be written as a DNS name"));
            self.skip_rest("not reached: S is not a usable DNS name");
            return Ok(());
        };

        // Step 2.
        if let Some(port) = s.port() {
            self.connect_to_host(StepId::ExplicitPort, &host_name, &host, port, s.as_str(), |via| {
                format!(
                    "{s} has the explicit port {port}: no .well-known and no SRV; connect to the A/AAAA of {host}{via} on port {port}, with SNI {host} and Host: {s}"
                )
            })?;
            self.skip_rest("not reached: an explicit port in S disables .well-known and SRV lookups (step 2 decided)");
            return Ok(());
        }
        self.steps.push(Step::new(
            StepId::ExplicitPort,
            false,
            format!("{s} has no explicit port"),
        ));

        // Step 3.
        let report = well_known::obtain(source, &host_name, self.resolver)?;
        match report.outcome.clone() {
            Ok(d) => {
                let mut step = Step::new(
                    StepId::WellKnown,
                    true,
                    format!(
                        "the .well-known is valid: m.server is {d}, so the delegated host D is {}{}; SRV records at {host} are ignored",
                        d.host_text(),
                        d.port().map(|p| format!(", port {p}")).unwrap_or_default()
                    ),
                );
                step.differences = homeservers::well_known_behaviour();
                step.well_known = Some(report);
                self.steps.push(step);
                self.delegated = Some(d.clone());
                self.delegated_steps(&d)?;
                self.ignored_srv_at_s(&host_name, &host)?;
            }
            Err(error) => {
                let mut step = Step::new(
                    StepId::WellKnown,
                    false,
                    format!(
                        "the .well-known failed: {error}; homeservers go on at step 4 (SRV at {host})"
                    ),
                );
                step.differences = homeservers::well_known_behaviour();
                step.well_known = Some(report);
                self.steps.push(step);
                self.skip_through(
                    StepId::DelegatedDefault,
                    "not reached: step 3 failed (no delegated server name)",
                );
                self.srv_chain(&S_CHAIN, &host_name, &host, s.as_str())?;
            }
        }
        Ok(())
    }

    /// Steps 3.1 to 3.5, for the delegated server name `d`.
    fn delegated_steps(&mut self, d: &ServerName) -> Result<(), DnsError> {
        if let Some(ip) = d.ip() {
            let port = d.port().unwrap_or(DEFAULT_FEDERATION_PORT);
            self.steps.push(Step::new(
                StepId::DelegatedIpLiteral,
                true,
                format!("m.server {d} is an IP literal: connect to {}, with Host: {d}; no SNI is sent and the certificate must hold the IP address", socket_text(ip, port)),
            ));
            self.result = Some(ip_target(StepId::DelegatedIpLiteral, ip, port, d.as_str()));
            self.skip_through(
                StepId::DelegatedDefault,
                "not reached: step 3.1 decided (m.server is an IP literal)",
            );
            return Ok(());
        }
        let host = d.host_text();
        self.steps.push(Step::new(
            StepId::DelegatedIpLiteral,
            false,
            format!("m.server {d} is a host name, not an IP literal"),
        ));
        let Some(d_name) = d.dns_name() else {
            self.failure = Some(format!("{host} cannot be written as a DNS name"));
            self.skip_through(
                StepId::DelegatedDefault,
                "not reached: m.server is not a usable DNS name",
            );
            return Ok(());
        };
        if let Some(port) = d.port() {
            self.connect_to_host(StepId::DelegatedPort, &d_name, &host, port, d.as_str(), |via| {
                format!(
                    "m.server {d} has the port {port}: no SRV lookups; connect to the A/AAAA of {host}{via} on port {port}, with SNI {host} and Host: {d}; the certificate must be valid for {host}"
                )
            })?;
            self.skip_through(
                StepId::DelegatedDefault,
                "not reached: a port in m.server disables SRV lookups (step 3.2 decided)",
            );
            return Ok(());
        }
        self.steps.push(Step::new(
            StepId::DelegatedPort,
            false,
            format!("m.server {d} has no port"),
        ));
        self.srv_chain(&D_CHAIN, &d_name, &host, &host)
    }

    /// SRV `_matrix-fed._tcp.X`, then `_matrix._tcp.X`, then X:8448.
    /// `x_text` is X as written (the SNI and certificate name), `host_header` the Host header.
    fn srv_chain(
        &mut self,
        chain: &Chain,
        x: &Name,
        x_text: &str,
        host_header: &str,
    ) -> Result<(), DnsError> {
        let fed_owner = owner(MATRIX_FED_SERVICE, x);
        let legacy_owner = owner(MATRIX_LEGACY_SERVICE, x);

        let mut fed_step = Step::new(chain.fed, false, String::new());
        let fed = self.srv_lookup(&fed_owner, &mut fed_step)?;
        let fed_status = fed.lookup.status();
        if !fed.records.is_empty() {
            self.srv_taken(fed_step, &fed, &fed_owner, x_text, host_header)?;
            let mut legacy_step = Step::new(chain.legacy, false, String::new());
            let legacy = self.srv_lookup(&legacy_owner, &mut legacy_step)?;
            let summary = legacy_summary(&fed, &legacy, x_text);
            legacy_step.reason = format!(
                "not asked: {} has records, and {} is only asked when it has none",
                name_text(&fed_owner),
                name_text(&legacy_owner)
            );
            legacy_step.differences = homeservers::legacy_srv_not_asked(&summary);
            self.steps.push(legacy_step);
            self.steps.push(Step::new(
                chain.default,
                false,
                format!("not reached: step {} decided", chain.fed.number()),
            ));
            return Ok(());
        }
        fed_step.reason = format!(
            "no SRV records at {}: {}; homeservers go on at step {}",
            name_text(&fed_owner),
            describe_negative(&fed.lookup, self.resolver),
            chain.legacy.number()
        );
        if fed_status == "SERVFAIL" {
            fed_step.differences = homeservers::servfail_on_fed_srv();
        }
        fed_step.differences.push(homeservers::fed_srv_versions());
        self.steps.push(fed_step);

        let mut legacy_step = Step::new(chain.legacy, false, String::new());
        let legacy = self.srv_lookup(&legacy_owner, &mut legacy_step)?;
        legacy_step.differences = homeservers::legacy_srv_reached(&fed_status);
        if !legacy.records.is_empty() {
            self.srv_taken(legacy_step, &legacy, &legacy_owner, x_text, host_header)?;
            self.steps.push(Step::new(
                chain.default,
                false,
                format!("not reached: step {} decided", chain.legacy.number()),
            ));
            return Ok(());
        }
        legacy_step.reason = format!(
            "no SRV records at {}: {}; homeservers go on at step {}",
            name_text(&legacy_owner),
            describe_negative(&legacy.lookup, self.resolver),
            chain.default.number()
        );
        self.steps.push(legacy_step);

        self.connect_to_host(chain.default, x, x_text, DEFAULT_FEDERATION_PORT, host_header, |via| {
            format!(
                "no SRV records: connect to the A/AAAA of {x_text}{via} on port {DEFAULT_FEDERATION_PORT}, with SNI {x_text} and Host: {host_header}; the certificate must be valid for {x_text}"
            )
        })
    }

    /// An SRV step that found records: resolves the targets and sets the result.
    fn srv_taken(
        &mut self,
        mut step: Step,
        found: &SrvFound,
        owner: &Name,
        x_text: &str,
        host_header: &str,
    ) -> Result<(), DnsError> {
        step.taken = true;
        let usable: Vec<&(SrvRank, u16, Name)> = found
            .records
            .iter()
            .filter(|(_, _, t)| !t.is_root())
            .collect();
        let root_only = usable.is_empty();
        if root_only {
            step.reason = format!(
                "{} has the single target \".\": the service is decidedly not available here (RFC 2782); federation with {x_text} is switched off",
                name_text(owner)
            );
            step.differences.extend(homeservers::srv_target_root());
            self.failure = Some(format!(
                "the SRV record at {} has target \".\": nothing to connect to",
                name_text(owner)
            ));
            self.steps.push(step);
            return Ok(());
        }
        if usable.len() < found.records.len() {
            step.differences.push("a target \".\" mixed with other records is ignored (RFC 2782 allows \".\" only alone)".to_owned());
        }
        let mut endpoints = Vec::new();
        for (rank, port, target) in &usable {
            let before = step.lookups.len();
            let addresses = self.addresses(target, &mut step)?;
            if step.lookups[before..]
                .iter()
                .any(|l| l.cnames().next().is_some())
            {
                step.differences
                    .push(homeservers::srv_target_is_cname(&name_text(target)));
            }
            endpoints.push(Endpoint {
                host: name_text(target),
                port: *port,
                addresses,
                srv: Some(*rank),
            });
        }
        let first_in_answer = endpoints.first().map(endpoint_text).unwrap_or_default();
        endpoints.sort_by_key(|e| e.srv.map(SrvRank::order_key));
        let preferred = endpoints.first().map(endpoint_text).unwrap_or_default();
        if endpoints.len() > 1 {
            step.differences.extend(homeservers::several_srv_records(
                &first_in_answer,
                &preferred,
            ));
        }
        let targets_differ = endpoints
            .iter()
            .any(|e| !e.host.eq_ignore_ascii_case(x_text));
        step.reason = format!(
            "{} has {} record{}: connect to {preferred} with SNI {x_text} and Host: {host_header}; the certificate must be valid for {x_text}{}",
            name_text(owner),
            found.records.len(),
            if found.records.len() == 1 { "" } else { "s" },
            if targets_differ {
                ", not for the SRV target"
            } else {
                ""
            }
        );
        if let Some(first) = endpoints.first() {
            self.no_addresses_failure(&first.host, &first.addresses);
        }
        self.result = Some(Target {
            step: step.id,
            endpoints,
            sni: Some(x_text.to_owned()),
            host_header: host_header.to_owned(),
            certificate_name: x_text.to_owned(),
        });
        self.steps.push(step);
        Ok(())
    }

    /// Steps 4 and 5 after a valid `.well-known`: not asked, but the records
    /// there are shown, since they are the classic pitfall.
    fn ignored_srv_at_s(&mut self, s_name: &Name, s_text: &str) -> Result<(), DnsError> {
        for (id, service) in [
            (StepId::FedSrv, MATRIX_FED_SERVICE),
            (StepId::LegacySrv, MATRIX_LEGACY_SERVICE),
        ] {
            let owner = owner(service, s_name);
            let mut step = Step::new(id, false, String::new());
            let found = self.srv_lookup(&owner, &mut step)?;
            step.reason = if found.records.is_empty() {
                format!(
                    "not asked: the .well-known is valid (and {} has no records anyway)",
                    name_text(&owner)
                )
            } else {
                format!(
                    "not asked: the .well-known is valid, so the {} record{} at {} {} ignored; they count only when the .well-known of {s_text} fails",
                    found.records.len(),
                    if found.records.len() == 1 { "" } else { "s" },
                    name_text(&owner),
                    if found.records.len() == 1 {
                        "is"
                    } else {
                        "are"
                    },
                )
            };
            self.steps.push(step);
        }
        self.steps.push(Step::new(
            StepId::Default,
            false,
            "not reached: the .well-known is valid (step 3 decided)",
        ));
        Ok(())
    }

    /// Looks up the SRV RRset at `owner`, recording the lookup on `step`.
    fn srv_lookup(&self, owner: &Name, step: &mut Step) -> Result<SrvFound, DnsError> {
        let l = lookup(self.resolver, owner, RecordType::SRV)?;
        let records = if l.rcode == ResponseCode::NoError {
            l.data()
                .filter_map(|r| match &r.data {
                    RData::SRV(srv) => Some((
                        SrvRank {
                            priority: srv.priority,
                            weight: srv.weight,
                        },
                        srv.port,
                        srv.target.clone(),
                    )),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        step.lookups.push(l.clone());
        Ok(SrvFound { lookup: l, records })
    }

    /// A and AAAA of `name` (CNAMEs followed), recording both lookups on `step`.
    fn addresses(&self, name: &Name, step: &mut Step) -> Result<Vec<IpAddr>, DnsError> {
        let mut out = Vec::new();
        for rtype in [RecordType::A, RecordType::AAAA] {
            let l = lookup(self.resolver, name, rtype)?;
            out.extend(l.addresses());
            step.lookups.push(l);
        }
        Ok(out)
    }

    fn no_addresses_failure(&mut self, host: &str, addresses: &[IpAddr]) {
        if addresses.is_empty() && self.failure.is_none() {
            self.failure = Some(format!(
                "{host} has no A or AAAA records: there is no address to connect to"
            ));
        }
    }

    /// Marks every step not yet recorded as skipped with `reason`.
    fn skip_rest(&mut self, reason: &str) {
        self.skip_through(StepId::Default, reason);
    }

    /// Marks every step from the next one to `last` (inclusive) as not
    /// reached. Steps are pushed in [`StepId::ALL`] order, so the next one
    /// is `ALL[steps.len()]`.
    fn skip_through(&mut self, last: StepId, reason: &str) {
        let next = self.steps.len();
        let Some(end) = StepId::ALL.iter().position(|&id| id == last) else {
            return;
        };
        for id in StepId::ALL.iter().take(end + 1).skip(next) {
            self.steps.push(Step::new(*id, false, reason));
        }
    }

    /// The step that decides on one host: connect to the A/AAAA of `name`
    /// (written `host`, which is also the SNI and the certificate name) on
    /// `port`. `reason` gets " (through the CNAME to x)" or "".
    fn connect_to_host(
        &mut self,
        id: StepId,
        name: &Name,
        host: &str,
        port: u16,
        host_header: &str,
        reason: impl FnOnce(&str) -> String,
    ) -> Result<(), DnsError> {
        let mut step = Step::new(id, true, String::new());
        let addresses = self.addresses(name, &mut step)?;
        step.reason = reason(&via_cname(&step.lookups));
        self.no_addresses_failure(host, &addresses);
        self.result = Some(host_target(id, host, port, addresses, host_header, host));
        self.steps.push(step);
        Ok(())
    }
}

fn owner(service: &str, base: &Name) -> Name {
    srv_owner(service, base).unwrap_or_else(|| base.clone())
}

/// A name without its root dot, as people write host names.
fn name_text(name: &Name) -> String {
    let text = name.to_string();
    match text.strip_suffix('.') {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => text,
    }
}

fn socket_text(ip: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(ip, port).to_string()
}

fn endpoint_text(e: &Endpoint) -> String {
    format!("{}:{}", e.host, e.port)
}

fn ip_target(step: StepId, ip: IpAddr, port: u16, host_header: &str) -> Target {
    Target {
        step,
        endpoints: vec![Endpoint {
            host: ip.to_string(),
            port,
            addresses: vec![ip],
            srv: None,
        }],
        sni: None,
        host_header: host_header.to_owned(),
        certificate_name: ip.to_string(),
    }
}

fn host_target(
    step: StepId,
    host: &str,
    port: u16,
    addresses: Vec<IpAddr>,
    host_header: &str,
    certificate_name: &str,
) -> Target {
    Target {
        step,
        endpoints: vec![Endpoint {
            host: host.to_owned(),
            port,
            addresses,
            srv: None,
        }],
        sni: Some(host.to_owned()),
        host_header: host_header.to_owned(),
        certificate_name: certificate_name.to_owned(),
    }
}

/// " (through the CNAME to x)" when the address lookups followed a CNAME.
fn via_cname(lookups: &[Lookup]) -> String {
    let target = lookups
        .iter()
        .flat_map(|l| l.cnames())
        .last()
        .and_then(|r| match &r.data {
            RData::CNAME(c) => Some(name_text(&c.0)),
            _ => None,
        });
    match target {
        Some(t) => format!(" (through the CNAME to {t}, allowed since spec v1.6)"),
        None => String::new(),
    }
}

/// Why a lookup found no records, in words.
fn describe_negative(l: &Lookup, resolver: &dyn Resolver) -> String {
    match l.status().as_str() {
        "NXDOMAIN" => "NXDOMAIN (the name does not exist)".to_owned(),
        "NODATA" => "NODATA (the name exists, without SRV records)".to_owned(),
        "SERVFAIL" => format!(
            "{} answered SERVFAIL; the spec treats that as no record",
            resolver.describe()
        ),
        "REFUSED" => format!(
            "{} answered REFUSED (it holds no zone for this name; a homeserver would ask the public DNS)",
            resolver.describe()
        ),
        "REFERRAL" => format!(
            "{} refers this name to another server (a zone cut), which fedns explain does not follow",
            resolver.describe()
        ),
        other => format!("{} answered {other}", resolver.describe()),
    }
}

/// What older homeservers find at `_matrix._tcp.X`.
fn legacy_summary(fed: &SrvFound, legacy: &SrvFound, x_text: &str) -> String {
    if legacy.records.is_empty() {
        return format!(
            "nothing ({}), so they connect to {x_text}:{DEFAULT_FEDERATION_PORT}",
            legacy.lookup.status()
        );
    }
    let mut a: Vec<String> = fed
        .records
        .iter()
        .map(|(r, p, t)| format!("{} {} {p} {t}", r.priority, r.weight))
        .collect();
    let mut b: Vec<String> = legacy
        .records
        .iter()
        .map(|(r, p, t)| format!("{} {} {p} {t}", r.priority, r.weight))
        .collect();
    a.sort();
    b.sort();
    let n = legacy.records.len();
    let plural = if n == 1 { "" } else { "s" };
    if a == b {
        format!("{n} record{plural}, the same as `_matrix-fed._tcp`")
    } else {
        format!(
            "{n} record{plural} that differ from `_matrix-fed._tcp`: old and new homeservers go to different places"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::dns::ZoneResolver;
    use crate::testing::zones_from_toml;

    const HEAD: &str = "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"192.0.2.1\"]\n";

    fn run(body: &str, s: &str, wk: WellKnownSource) -> Resolution {
        let zones = zones_from_toml(&[&format!("{HEAD}{body}")]);
        let resolver = ZoneResolver::new(&zones, "test zones");
        resolve(&ServerName::parse(s).unwrap(), &resolver, &wk).unwrap()
    }

    fn none() -> WellKnownSource {
        WellKnownSource::Unavailable("none".into())
    }

    fn taken(r: &Resolution) -> Vec<&'static str> {
        r.steps
            .iter()
            .filter(|s| s.taken)
            .map(|s| s.id.number())
            .collect()
    }

    #[test]
    fn every_resolution_lists_all_eleven_steps_in_order() {
        for (body, s) in [
            ("", "192.0.2.7"),
            ("", "example.org:443"),
            ("", "example.org"),
        ] {
            let r = run(body, s, none());
            let numbers: Vec<&str> = r.steps.iter().map(|s| s.id.number()).collect();
            assert_eq!(
                numbers,
                [
                    "1", "2", "3", "3.1", "3.2", "3.3", "3.4", "3.5", "4", "5", "6"
                ],
                "{s}"
            );
        }
    }

    #[test]
    fn plain_a_record_ends_at_step_6() {
        let r = run("", "example.org", none());
        assert_eq!(taken(&r), ["6"]);
        let t = r.result.unwrap();
        assert_eq!(
            (t.host(), t.port(), t.certificate_name.as_str()),
            ("example.org", 8448, "example.org")
        );
        assert_eq!(t.addresses(), ["192.0.2.1".parse::<IpAddr>().unwrap()]);
        assert!(r.failure.is_none());
    }

    #[test]
    fn srv_orders_by_priority_then_weight() {
        let body = "[[record]]\nname = \"_matrix-fed._tcp\"\nSRV = [\"20 0 443 b.example.org.\", \"10 5 443 c.example.org.\", \"10 50 8448 a.example.org.\"]\n[[record]]\nname = \"a\"\nA = [\"192.0.2.2\"]\n";
        let r = run(body, "example.org", none());
        assert_eq!(taken(&r), ["4"]);
        let t = r.result.clone().unwrap();
        let order: Vec<&str> = t.endpoints.iter().map(|e| e.host.as_str()).collect();
        assert_eq!(order, ["a.example.org", "c.example.org", "b.example.org"]);
        assert_eq!((t.port(), t.sni.as_deref()), (8448, Some("example.org")));
        let step = r.step(StepId::FedSrv).unwrap();
        assert!(
            step.differences
                .iter()
                .any(|d| d.contains("first record of the DNS answer: b.example.org:443")),
            "{:?}",
            step.differences
        );
    }

    #[test]
    fn srv_target_dot_alone_has_no_result() {
        let body = "[[record]]\nname = \"_matrix-fed._tcp\"\nSRV = [\"0 0 0 .\"]\n";
        let r = run(body, "example.org", none());
        assert_eq!(taken(&r), ["4"]);
        assert!(r.result.is_none());
        assert!(r.failure.unwrap().contains("target \".\""));
    }

    #[test]
    fn no_addresses_is_a_failure_with_a_result() {
        let r = run("", "nothing.example.org", none());
        let t = r.result.unwrap();
        assert!(t.addresses().is_empty());
        assert!(r.failure.unwrap().contains("no A or AAAA"));
    }

    /// Answers SERVFAIL for one name, the zones for the rest.
    struct Failing<'z> {
        inner: ZoneResolver<'z>,
        name: Name,
    }

    impl Resolver for Failing<'_> {
        fn query(
            &self,
            name: &Name,
            rtype: RecordType,
        ) -> Result<super::super::dns::DnsResponse, DnsError> {
            if *name == self.name {
                return Ok(super::super::dns::DnsResponse {
                    rcode: ResponseCode::ServFail,
                    answers: Vec::new(),
                    referral: false,
                    synthesised: Vec::new(),
                });
            }
            self.inner.query(name, rtype)
        }

        fn describe(&self) -> String {
            "a failing server".into()
        }
    }

    #[test]
    fn servfail_on_the_fed_srv_name_goes_on_and_names_the_homeservers_that_stop() {
        let zones = zones_from_toml(&[&format!(
            "{HEAD}[[record]]\nname = \"_matrix._tcp\"\nSRV = [\"10 0 8448 example.org.\"]\n"
        )]);
        let resolver = Failing {
            inner: ZoneResolver::new(&zones, "zones"),
            name: Name::from_ascii("_matrix-fed._tcp.example.org.").unwrap(),
        };
        let r = resolve(
            &ServerName::parse("example.org").unwrap(),
            &resolver,
            &none(),
        )
        .unwrap();
        assert_eq!(taken(&r), ["5"]);
        let fed = r.step(StepId::FedSrv).unwrap();
        assert!(fed.reason.contains("answered SERVFAIL"), "{}", fed.reason);
        assert!(
            fed.differences
                .iter()
                .any(|d| d.starts_with("Synapse: SERVFAIL on the SRV name is fatal"))
        );
        assert!(
            fed.differences
                .iter()
                .any(|d| d.contains("Dendrite: falls through"))
        );
        let legacy = r.step(StepId::LegacySrv).unwrap();
        assert!(legacy.differences[0].contains("Synapse never gets here"));
    }

    #[test]
    fn names_outside_the_zones_are_refused_and_explained() {
        let r = run("", "example.net", none());
        let step = r.step(StepId::FedSrv).unwrap();
        assert!(step.reason.contains("REFUSED"), "{}", step.reason);
    }
}
