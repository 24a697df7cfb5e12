//! `fedns check`: the lint for Matrix SRV delegation and its TLS certificate
//! pitfalls.
//!
//! With SRV delegation a homeserver connects to the SRV *target* but sends SNI
//! and `Host` for the *server name* and demands a certificate valid for the
//! server name (Matrix spec, server-server API, "Resolving server names").
//! This module finds the ways a zone, a certificate chain or a live
//! deployment gets that wrong, and says so in words that teach.
//!
//! The rules are a fixed catalogue ([`Rule`], each with its `--explain`
//! text below); each produces [`Finding`]s that carry the real names and the
//! `file:line` of the record at fault:
//!
//! - [`srv`]: SRV001-SRV031, offline, from zone data and the declared server
//!   names and `.well-known` delegations ([`delegation`]);
//! - [`cert`]: CRT001-CRT011, on a PEM chain, with RFC 6125 / RFC 9525 name
//!   matching and trust from the system roots plus private CAs;
//! - [`probe`]: LIVE001-LIVE019 and WK001-WK005, a live probe over DNS
//!   ([`dns`]) and HTTPS ([`crate::matrix::https`]);
//! - [`render`]: human and JSON output; [`check`]: the `fedns check` driver.
//!
//! The rules judge; they have no DNS or HTTP semantics of their own: server
//! names, `.well-known` bodies, CNAME following, SRV order and HTTPS are
//! [`crate::matrix`]'s, and what a zone answers is the answer engine's
//! ([`srv::ZoneIndex`]).
//!
//! `fedns serve` runs the offline rules on every load through
//! [`load_gate`] (on the snapshots it publishes, [`offline_findings_served`])
//! and [`log_findings`]; `fedns check` through [`offline_findings`].

pub mod cert;
pub mod check;
pub mod delegation;
pub mod dns;
pub mod dnssec;
pub mod probe;
pub mod render;
pub mod srv;

use std::fmt;

use serde::Serialize;

use hickory_proto::rr::RecordType;

use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::zone::{Place, Zone};

/// How bad a finding is.
///
/// Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice: nothing is broken.
    Info,
    /// Breaks federation with some homeservers, or will break it soon.
    Warning,
    /// Federation is broken, or an RFC MUST is violated.
    Error,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of the lint decides a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// From zone data and declared delegations, no network.
    Offline,
    /// From a PEM certificate chain.
    Certificate,
    /// From the live probe (`--probe`).
    Live,
    /// From the `.well-known/matrix/server` document.
    WellKnown,
}

impl Stage {
    /// How a user gets this stage to run.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Offline => "offline, from zone data",
            Stage::Certificate => "with --cert NAME=chain.pem or `certificate` in [[matrix]]",
            Stage::Live => "live, with --probe",
            Stage::WellKnown => {
                "with --probe --fetch-well-known (WK003 also offline, on a declared .well-known)"
            }
        }
    }
}

/// One rule of the catalogue: its id, default severity and teaching texts.
#[derive(Debug)]
pub struct RuleInfo {
    /// `SRV025`, `CRT002`, ...
    pub id: &'static str,
    /// The severity a finding of this rule has unless it says otherwise
    /// (CRT007 varies with the time left).
    pub severity: Severity,
    /// Where the rule is decided.
    pub stage: Stage,
    /// One line: the condition.
    pub title: &'static str,
    /// Why it breaks federation: which homeservers, what they print.
    pub why: &'static str,
    /// The general fix (findings may give a specific one with real names).
    pub fix: &'static str,
    /// The long explanation printed by `fedns check --explain ID`.
    pub explanation: &'static str,
}

macro_rules! catalogue {
    ($( $variant:ident {
        id: $id:literal,
        severity: $severity:ident,
        stage: $stage:ident,
        title: $title:literal,
        why: $why:literal,
        fix: $fix:literal,
        explanation: $explanation:literal $(,)?
    } )*) => {
        /// A rule of the lint catalogue (`fedns check --list-rules`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule, in catalogue order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The catalogue entry of this rule.
            pub fn info(self) -> &'static RuleInfo {
                match self {
                    $(Rule::$variant => &RuleInfo {
                        id: $id,
                        severity: Severity::$severity,
                        stage: Stage::$stage,
                        title: $title,
                        why: $why,
                        fix: $fix,
                        explanation: $explanation,
                    },)*
                }
            }
        }
    };
}

impl Rule {
    /// The rule id, such as `SRV025`.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// The rule with this id (case-insensitive), if there is one.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.id().eq_ignore_ascii_case(id.trim()))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// One problem found: which rule, how bad, about which name, where, and what
/// to do, with the real names in every text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule that fired.
    pub rule: Rule,
    /// Its severity (the rule's default unless the rule grades it).
    pub severity: Severity,
    /// What is wrong, with the real names.
    pub message: String,
    /// The owner, server name or host concerned.
    pub name: String,
    /// The zone record or section this comes from, if any.
    pub place: Option<Place>,
    /// Why it breaks, when the finding says it better than the catalogue.
    pub why: Option<String>,
    /// The fix, when the finding says it better than the catalogue.
    pub fix: Option<String>,
}

impl Finding {
    /// A finding of `rule` about `name`, at the rule's default severity.
    pub fn new(rule: Rule, name: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            severity: rule.info().severity,
            message: message.into(),
            name: name.into(),
            place: None,
            why: None,
            fix: None,
        }
    }

    /// Located at `place`.
    pub fn at(mut self, place: Option<&Place>) -> Finding {
        self.place = place.cloned();
        self
    }

    /// With a specific explanation of why it breaks.
    pub fn why(mut self, why: impl Into<String>) -> Finding {
        self.why = Some(why.into());
        self
    }

    /// With a specific fix.
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }

    /// At another severity than the rule's default.
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    /// The why text: the finding's own, or the catalogue's.
    pub fn why_text(&self) -> &str {
        self.why.as_deref().unwrap_or(self.rule.info().why)
    }

    /// The fix text: the finding's own, or the catalogue's.
    pub fn fix_text(&self) -> &str {
        self.fix.as_deref().unwrap_or(self.rule.info().fix)
    }
}

/// Counts of findings by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Findings of severity error.
    pub errors: usize,
    /// Findings of severity warning.
    pub warnings: usize,
    /// Findings of severity info.
    pub infos: usize,
}

impl Summary {
    /// Counts `findings`.
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }
}

/// Sorts findings for output: errors first, then by file, line, rule and
/// name; drops exact duplicates (a `[[matrix]]` section publishes two RRsets
/// from one line, and both may say the same thing).
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| place_key(a).cmp(&place_key(b)))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.message.cmp(&b.message))
    });
    findings.dedup();
}

fn place_key(f: &Finding) -> (bool, &str, u32, u32) {
    match &f.place {
        Some(p) => (false, &p.file, p.line, p.column),
        None => (true, "", 0, 0),
    }
}

/// The offline rules on loaded zones: what `fedns check` runs. Server names
/// and `.well-known` delegations come from the zones' `[[matrix]]`
/// sections; questions of DNS semantics are answered over snapshots of the
/// zones built for the purpose (see [`srv::ZoneIndex`]).
pub fn offline_findings(zones: &[&Zone]) -> Vec<Finding> {
    offline_findings_in(zones, None)
}

/// The offline rules over `zones` as written (extracts made by
/// [`lint_extract`] will do) and `served`, the same zones as `fedns serve`
/// answers them: what the server runs on every load, reload and update,
/// with the snapshots it publishes (no copy of a zone is made).
pub fn offline_findings_served(zones: &[&Zone], served: &ZoneSet) -> Vec<Finding> {
    offline_findings_in(zones, Some(served))
}

fn offline_findings_in(zones: &[&Zone], served: Option<&ZoneSet>) -> Vec<Finding> {
    let declared = delegation::Declared::from_zones(zones);
    let index = match served {
        Some(served) => srv::ZoneIndex::serving(zones, served),
        None => srv::ZoneIndex::new(zones),
    };
    let mut findings = srv::srv_findings_in(&index, &declared);
    let now = crate::proto::tsig::unix_now();
    findings.extend(
        zones
            .iter()
            .flat_map(|z| dnssec::signature_findings(z, now)),
    );
    sort_findings(&mut findings);
    findings
}

/// What the offline rules read of a zone as written, kept while the zone
/// itself is consumed by the snapshot that serves it: the SOA, every SRV,
/// CNAME and DNAME record, every record at an owner with an underscore
/// label among its first two (service owners, misspelt ones included) or
/// at a wildcard, and the RRSIGs that SIG001/SIG002 report. Everything
/// else (the A and AAAA records of a big zone above all) is answered from
/// the snapshot. The offline rules give the same findings on the extract,
/// with the snapshot, as on the whole zone.
pub fn lint_extract(zone: &Zone) -> Zone {
    let now = crate::proto::tsig::unix_now();
    let expire = dnssec::soa_expire(zone);
    let records = zone
        .records
        .iter()
        .filter(|r| read_as_written(r.owner_wire(), r.record_type(), || r.data(), now, expire))
        .cloned()
        .collect();
    Zone {
        origin: zone.origin.clone(),
        records,
        matrix: zone.matrix.clone(),
        source: zone.source.clone(),
    }
}

/// Whether the offline rules read a record with this owner (in wire form)
/// and type as written (see [`lint_extract`]); `data` is asked for RRSIGs
/// only. Read on the wire: no name is decoded for the bulk of a zone.
pub fn read_as_written(
    owner: &[u8],
    rtype: RecordType,
    data: impl FnOnce() -> hickory_proto::rr::RData,
    now: u64,
    expire: u64,
) -> bool {
    read_by_name_and_type(owner, rtype)
        || (rtype == RecordType::RRSIG && dnssec::is_signature_problem(&data(), now, expire))
}

/// [`read_as_written`] as far as the owner (in wire form) and the type
/// decide it: SOA, SRV, CNAME and DNAME records, wildcards, and owners with
/// an underscore label among their first two.
fn read_by_name_and_type(owner: &[u8], rtype: RecordType) -> bool {
    let label = |at: usize| {
        let len = usize::from(*owner.get(at)?);
        owner.get(at + 1..at + 1 + len)
    };
    let mut first_two = crate::proto::name::label_offsets(owner)
        .take(2)
        .filter_map(label);
    let wildcard = label(0) == Some(b"*".as_slice());
    matches!(
        rtype,
        RecordType::SOA | RecordType::SRV | RecordType::CNAME | RecordType::DNAME
    ) || wildcard
        || first_two.any(|label| label.starts_with(b"_"))
}

/// What the offline rules read as written of each served zone, taken out
/// of its snapshot (placed at the zone's file: a snapshot keeps no line
/// numbers). With the snapshots themselves it is all the rules need; see
/// [`lint_extract`].
pub fn served_extracts(zones: &ZoneSet) -> Vec<Zone> {
    let now = crate::proto::tsig::unix_now();
    zones
        .zones()
        .iter()
        .filter_map(|snapshot| {
            let expire = u64::from(snapshot.soa().expire.max(0).unsigned_abs());
            // Judged node by node and RRset by RRset on the wire form: only
            // what is kept is decoded.
            let mut records = Vec::new();
            for node in snapshot.nodes() {
                let owner = node.owner_wire();
                let mut name = None;
                for set in node.rrsets.iter() {
                    let signatures = set.rrsigs().iter().cloned();
                    if set.rtype == RecordType::RRSIG {
                        let name = name.get_or_insert_with(|| node.name());
                        let sigs = set.records(name).chain(signatures);
                        records.extend(sigs.filter(|r| {
                            read_as_written(owner, r.record_type(), || r.data.clone(), now, expire)
                        }));
                        continue;
                    }
                    if read_by_name_and_type(owner, set.rtype) {
                        records.extend(set.records(name.get_or_insert_with(|| node.name())));
                    }
                    records.extend(signatures.filter(|sig| {
                        read_as_written(owner, sig.record_type(), || sig.data.clone(), now, expire)
                    }));
                }
            }
            snapshot.zone_of(records, |_| None).ok()
        })
        .collect()
}

/// The load gate `fedns serve` runs on every load and reload: the offline
/// rules on the zones just loaded (their extracts, and the snapshots about
/// to be published), findings logged with their places; with `strict`,
/// zones with an error are refused (the daemon keeps what it has).
pub fn load_gate(
    strict: bool,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
) -> crate::store::files::LoadGate {
    let judge = move |zones: &[&Zone], served: &ZoneSet| {
        let findings = offline_findings_served(zones, served);
        let errors = log_findings(&findings);
        if let Some(metrics) = &metrics {
            metrics.set_findings(findings_per_zone(zones, &findings));
        }
        if errors > 0 && !strict {
            tracing::warn!(
                "fedns check found {errors} error(s) in the Matrix delegation of the zones loaded; serving them anyway (--strict refuses)"
            );
        }
        !(strict && errors > 0)
    };
    crate::store::files::LoadGate {
        keep: Box::new(lint_extract),
        judge: Box::new(judge),
    }
}

/// The lint gate of a dynamic update: the offline rules on the updated
/// zone (as written, and as it would be served), logging only the findings
/// the update brought (the zone's older findings were logged when it
/// loaded); with `strict`, an update that brings an error is refused. The
/// version served now is read again only when the updated zone has
/// findings at all.
pub fn update_gate(
    strict: bool,
) -> impl Fn(&Zone, &ZoneSet, &std::sync::Arc<ZoneSnapshot>) -> bool + Send + Sync {
    move |updated: &Zone, served: &ZoneSet, current: &std::sync::Arc<ZoneSnapshot>| {
        let findings = offline_findings_served(&[updated], served);
        if findings.is_empty() {
            return true;
        }
        let old_zone = current.to_zone().unwrap_or_default();
        let old_served = ZoneSet::new([std::sync::Arc::clone(current)]);
        let known: std::collections::HashSet<(Rule, String, String)> =
            offline_findings_served(&[&old_zone], &old_served)
                .into_iter()
                .map(|f| (f.rule, f.name, f.message))
                .collect();
        let fresh: Vec<Finding> = findings
            .into_iter()
            .filter(|f| !known.contains(&(f.rule, f.name.clone(), f.message.clone())))
            .collect();
        let errors = log_findings(&fresh);
        !(strict && errors > 0)
    }
}

/// Counts findings per (zone, severity): a finding belongs to the zone
/// whose apex is the longest suffix of the name it is about.
fn findings_per_zone(zones: &[&Zone], findings: &[Finding]) -> Vec<((String, &'static str), u64)> {
    let mut counts: std::collections::BTreeMap<(String, &'static str), u64> =
        std::collections::BTreeMap::new();
    for f in findings {
        let name = f.name.trim_end_matches('.').to_ascii_lowercase();
        let zone = zones
            .iter()
            .map(|z| {
                z.origin
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase()
            })
            .filter(|o| name == *o || name.ends_with(&format!(".{o}")))
            .max_by_key(|o| o.len())
            .unwrap_or_default();
        *counts
            .entry((format!("{zone}."), f.severity.as_str()))
            .or_default() += 1;
    }
    counts.into_iter().collect()
}

/// Logs findings through `tracing` (errors as errors, warnings as warnings,
/// infos as info) and returns how many are errors.
pub fn log_findings(findings: &[Finding]) -> usize {
    for f in findings {
        let at = f
            .place
            .as_ref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        let hint = format!("(fedns check --explain {})", f.rule);
        match f.severity {
            Severity::Error => {
                tracing::error!("{at}{} {}: {} {hint}", f.severity, f.rule, f.message)
            }
            Severity::Warning => {
                tracing::warn!("{at}{} {}: {} {hint}", f.severity, f.rule, f.message)
            }
            Severity::Info => tracing::info!("{at}{} {}: {} {hint}", f.severity, f.rule, f.message),
        }
    }
    Summary::of(findings).errors
}

catalogue! {
    Srv001 {
        id: "SRV001",
        severity: Error,
        stage: Offline,
        title: "Matrix-looking SRV owner that is misspelt or not TCP",
        why: "Homeservers look up exactly `_matrix-fed._tcp.NAME` (Matrix spec v1.8 and later) and `_matrix._tcp.NAME` (deprecated). Any other spelling (`_matrix_fed`, `_matrixfed`, `_matrix-federation`) or protocol label (`_udp`, a missing `_tcp`) is never queried: the records are dead and peers fall back to NAME:8448.",
        fix: "Rename the owner to `_matrix-fed._tcp.NAME` and keep `_matrix._tcp.NAME` beside it for older homeservers; federation runs over TCP only. In a TOML zone, a [[matrix]] section writes both for you.",
        explanation: "Service names in SRV owners are matched byte for byte (case aside): RFC 2782 builds the owner as `_Service._Proto.Name`, and the Matrix specification fixes Service = `matrix-fed` (since v1.8, MSC4040) or the deprecated `matrix`, and Proto = `tcp`. A record at `_matrix_fed._tcp.example.org`, `_matrix-federation._tcp.example.org`, `_matrix-fed._udp.example.org` or `_matrix-fed.example.org` is valid DNS, so no DNS server complains, but no homeserver ever asks for it.\n\nThe failure is silent: the homeserver finds no SRV record, falls back to example.org:8448 (or the next step of the resolution algorithm), and federation breaks only if nothing listens there, typically with a connection refused or timeout in the peer's logs.\n\nFix the owner name. In a TOML zone prefer a [[matrix]] section, which writes `_matrix-fed._tcp` and `_matrix._tcp` correctly.",
    }
    Srv002 {
        id: "SRV002",
        severity: Warning,
        stage: Offline,
        title: "`_matrix-identity._tcp` or another `_matrix-*` service, but no federation SRV",
        why: "Only `_matrix-fed._tcp` and `_matrix._tcp` are used for federation. An identity-server or client SRV record does not tell a homeserver where the federation API is; it falls back to .well-known or NAME:8448.",
        fix: "If NAME is a Matrix server name, add `_matrix-fed._tcp.NAME` (and `_matrix._tcp.NAME`) pointing at the homeserver, or serve https://NAME/.well-known/matrix/server.",
        explanation: "Some deployments publish `_matrix-identity._tcp` (identity servers) or other `_matrix-*` services and assume federation is covered. It is not: the server-server API resolves a server name through .well-known, then `_matrix-fed._tcp`, then `_matrix._tcp`, then NAME:8448. A name with Matrix service records but no federation SRV is often a delegation that was half done.\n\nIf federation works through .well-known or on NAME:8448, this warning is harmless; otherwise add the federation SRV records.",
    }
    Srv003 {
        id: "SRV003",
        severity: Error,
        stage: Offline,
        title: "Federation SRV at a name that is neither a server name nor a delegated host",
        why: "A homeserver queries federation SRV records only at the server name S (when .well-known is absent or fails) or at the delegated host D named in `m.server`. Records anywhere else, typically at the SRV target's own name, are never looked up.",
        fix: "Move the records to `_matrix-fed._tcp.S` for your server name S; or declare the name as a server name ([[matrix]] in the zone, or --server-name); or make it the `m.server` of S's .well-known.",
        explanation: "A common mistake is to publish `_matrix-fed._tcp.matrix.example.org` because the homeserver runs on matrix.example.org while the server name (the part after the colon in user IDs) is example.org. Peers resolving example.org never look there.\n\nThe SRV records that count are: `_matrix-fed._tcp.S` / `_matrix._tcp.S` when S has no valid .well-known, and `_matrix-fed._tcp.D` / `_matrix._tcp.D` when .well-known says `{\"m.server\": \"D\"}` without a port. fedns knows S from [[matrix]] sections and --server-name, and D from their `well_known` and --well-known.\n\nWhen no server name is declared for a zone at all, every name with federation SRV records is taken as a server name and this rule stays quiet.",
    }
    Srv004 {
        id: "SRV004",
        severity: Warning,
        stage: Offline,
        title: "Only the deprecated `_matrix._tcp` SRV exists",
        why: "`_matrix._tcp` is deprecated since Matrix spec v1.8 (MSC4040). Synapse (1.93+) and Dendrite (0.13.3+) still fall back to it when `_matrix-fed._tcp` is absent, but servers that dropped it (tuwunel 1.0 to 1.4 did, and broke federation) will not find you.",
        fix: "Publish the same records at `_matrix-fed._tcp.NAME` as well (a [[matrix]] section writes both).",
        explanation: "The Matrix spec renamed the federation SRV service from `matrix` to `matrix-fed` in v1.8 (2023, MSC4040), because `_matrix._tcp` was registered for something else. Homeservers query `_matrix-fed._tcp` first and, for now, fall back to `_matrix._tcp`; the fallback is deprecated and will go away.\n\nPublish both RRsets with identical contents; remove `_matrix._tcp` only when no peer you care about needs it.",
    }
    Srv005 {
        id: "SRV005",
        severity: Info,
        stage: Offline,
        title: "Only `_matrix-fed._tcp` exists (older homeservers will not see it)",
        why: "Homeservers older than spec v1.8 query only `_matrix._tcp`: Synapse before 1.93, Dendrite before 0.13.3, Conduit before 0.7.0. They fall back to NAME:8448 and fail if nothing listens there.",
        fix: "Also publish `_matrix._tcp.NAME` with the same records until your peers are upgraded (`legacy_srv = true`, the default of [[matrix]]).",
        explanation: "Publishing only the new `_matrix-fed._tcp` RRset is correct for up-to-date peers. Peers running homeservers released before late 2023 do not know it and look up `_matrix._tcp` only. Keeping both RRsets, identical, costs nothing.",
    }
    Srv006 {
        id: "SRV006",
        severity: Warning,
        stage: Offline,
        title: "`_matrix-fed._tcp` and `_matrix._tcp` RRsets differ",
        why: "New homeservers use `_matrix-fed._tcp` (Synapse reads `_matrix._tcp` only when no `_matrix-fed` record exists), older ones `_matrix._tcp`. With different contents, old and new peers reach different hosts or ports: federation works for some servers and not others.",
        fix: "Make both RRsets identical (a [[matrix]] section writes both from one declaration).",
        explanation: "The two RRsets are two names for the same thing during the migration from `_matrix._tcp` to `_matrix-fed._tcp`. When they disagree, which peer reaches which target depends on its homeserver software and version, which makes failures look random. Unless you are deliberately migrating, keep them identical.",
    }
    Srv010 {
        id: "SRV010",
        severity: Error,
        stage: Offline,
        title: "Target `.` mixed with other records",
        why: "RFC 2782: target \".\" means \"decidedly not available\" and is meant as the only record. Mixed with real targets, homeservers disagree: the Conduit family uses the first record of the answer and may pick \".\", others skip it.",
        fix: "Remove the \".\" record (or remove the others, if federation is meant to be off).",
        explanation: "RFC 2782 defines a target of \".\" as an explicit statement that the service is not offered at this name. It makes sense only as the sole record of the RRset. In an RRset with real targets its meaning is undefined, and real homeservers differ: Synapse ignores it unless it is alone, the Conduit family takes whatever record comes first in the DNS answer, and resolvers may rotate the order.",
    }
    Srv011 {
        id: "SRV011",
        severity: Warning,
        stage: Offline,
        title: "The single record has target `.` (federation explicitly off)",
        why: "A lone record with target \".\" tells peers the service is not available. Synapse refuses to connect and does not fall back to NAME:8448.",
        fix: "If you want federation, point the record at the homeserver's host and port; if not, this is deliberate and can stay.",
        explanation: "`_matrix-fed._tcp.example.org. SRV 0 0 0 .` switches federation off for example.org in Synapse (it raises an error instead of trying example.org:8448). This is sometimes a leftover from a template. If federation should work, replace it with a real target.",
    }
    Srv012 {
        id: "SRV012",
        severity: Error,
        stage: Offline,
        title: "Port 0",
        why: "Nothing can listen on TCP port 0; every connection attempt fails at once.",
        fix: "Use the port of the federation listener or its reverse proxy: usually 8448 or 443.",
        explanation: "Port 0 usually comes from a template or a typo. Only a record with target \".\" may have port 0 (the port is meaningless there).",
    }
    Srv013 {
        id: "SRV013",
        severity: Info,
        stage: Offline,
        title: "Port other than 443 or 8448",
        why: "Not wrong in itself, but federation normally runs on 8448 or 443, and firewalls and hosting providers often block other ports from outside.",
        fix: "Make sure the port is open from the internet (fedns check --probe connects to it).",
        explanation: "Any port works as long as peers can reach it and it serves the federation API over TLS. Unusual ports are a frequent source of \"works from inside, not from outside\" failures.",
    }
    Srv014 {
        id: "SRV014",
        severity: Error,
        stage: Offline,
        title: "SRV target is an in-zone CNAME",
        why: "RFC 2782: the target must have A/AAAA records and must not be an alias. Synapse tolerates a CNAME target, but the Matrix federation tester and strict resolvers reject it, and other implementations may fail to connect.",
        fix: "Point the SRV record at the canonical name (the CNAME's target), or replace the CNAME at the target with A/AAAA records.",
        explanation: "RFC 2782 says of the target: \"The name MUST NOT be an alias (in the sense of RFC 1034 or RFC 2181)\". Resolvers follow the CNAME anyway in most cases, which is why it often seems to work; but behaviour is not guaranteed and additional-section processing (the addresses a DNS server adds to the SRV answer) does not follow aliases. Use the canonical name.",
    }
    Srv015 {
        id: "SRV015",
        severity: Error,
        stage: Offline,
        title: "In-zone target has no A/AAAA records",
        why: "Peers resolve the target's A and AAAA records to connect; there are none, so federation fails with a DNS lookup error.",
        fix: "Add A and/or AAAA records for the target, or fix the target name.",
        explanation: "The target is inside a zone fedns checks, and that zone has no address for it (no A, no AAAA, no wildcard that would synthesise one). Often the target name is misspelt, or the address records were put at another name.",
    }
    Srv016 {
        id: "SRV016",
        severity: Info,
        stage: Offline,
        title: "Target outside the zones checked",
        why: "fedns cannot see the target's addresses or its certificate offline.",
        fix: "Run `fedns check --probe` to resolve the target and test it live.",
        explanation: "The target is in a zone fedns was not given. Nothing is wrong with that; the offline rules just cannot check its addresses. The live probe resolves and connects to it.",
    }
    Srv017 {
        id: "SRV017",
        severity: Error,
        stage: Offline,
        title: "Target is an IP address or not a host name",
        why: "RFC 2782: the target is a domain name with address records. `192.0.2.10.` is a name with four numeric labels that resolves to nothing, and names with `_`, spaces or other characters are not host names (RFC 952, RFC 1123).",
        fix: "Give the host a name with A/AAAA records and use that name as the target.",
        explanation: "SRV cannot carry an address. Writing an IPv4 address as the target creates a lookup for a name like `10.2.0.192.` which fails. Host names are letters, digits and hyphens (LDH) in labels that do not start or end with a hyphen.",
    }
    Srv018 {
        id: "SRV018",
        severity: Error,
        stage: Offline,
        title: "Target repeats the origin (forgotten trailing dot)",
        why: "A name without a trailing dot is relative to the zone origin: `synapse.example.org` in zone example.org means synapse.example.org.example.org, which does not exist.",
        fix: "End absolute names with a dot (`synapse.example.org.`), or write them relative (`synapse`).",
        explanation: "The classic master-file mistake. fedns flags targets of the form X.ORIGIN.ORIGIN, and X.ORIGIN where X itself ends in the origin's top-level label (`matrix.example.net.example.org`), both of which are almost always a forgotten trailing dot.",
    }
    Srv019 {
        id: "SRV019",
        severity: Warning,
        stage: Offline,
        title: "Target has only private or reserved addresses",
        why: "Peers on the internet cannot route to private addresses, and Synapse blocks them by default (its `ip_range_blacklist` covers RFC 1918, loopback, link-local, CGNAT, multicast and the documentation ranges), so even a peer on the same network refuses to connect.",
        fix: "Publish public addresses; in a lab or a closed federation, allow the ranges on every peer (Synapse: `ip_range_whitelist`).",
        explanation: "Split-horizon and lab setups often point the target at 10.x, 192.168.x or 172.16-31.x addresses. Federation then only works between peers that both can route there and have disabled their outbound IP blocklist. fedns uses Synapse's default list: 127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 192.0.0.0/24, 169.254.0.0/16, 192.88.99.0/24, 198.18.0.0/15, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4, ::1/128, fe80::/10, fc00::/7, 2001:db8::/32, ff00::/8, fec0::/10.",
    }
    Srv020 {
        id: "SRV020",
        severity: Info,
        stage: Offline,
        title: "Target has only IPv4 or only IPv6 addresses",
        why: "Peers with only the other address family cannot reach the homeserver (IPv6-only peers are rare but exist; IPv4-only peers are common).",
        fix: "Publish both A and AAAA records if the host has both.",
        explanation: "Not an error: most federation happens over IPv4. But an IPv6-only target is unreachable for most peers, and an IPv4-only one for IPv6-only peers.",
    }
    Srv021 {
        id: "SRV021",
        severity: Info,
        stage: Offline,
        title: "Several SRV records",
        why: "Synapse and Dendrite honour priority and weight, but the Conduit family (Conduit, conduwuit, tuwunel, continuwuity) uses only the first record of the DNS answer, whose order resolvers may change.",
        fix: "Make every target a working homeserver endpoint with a certificate for the server name; do not rely on priorities for peers of the Conduit family.",
        explanation: "Several records for failover or load sharing are fine as long as every target works on its own. Peers running Conduit-derived servers ignore priority and weight and take the first record they see.",
    }
    Srv022 {
        id: "SRV022",
        severity: Info,
        stage: Offline,
        title: "Weight 0 mixed with weight > 0 at one priority",
        why: "RFC 2782: records with weight 0 have a very small chance of being selected when others at the same priority have a positive weight; they act as near-never fallbacks, which is rarely what was meant.",
        fix: "Give every record at a priority a positive weight, or all weight 0.",
        explanation: "Weights share load among records of equal priority in proportion to their weight. A weight-0 record beside positive weights gets almost no traffic.",
    }
    Srv023 {
        id: "SRV023",
        severity: Info,
        stage: Offline,
        title: "Duplicate records (the same target and port twice)",
        why: "The same target:port listed twice with different priority or weight skews load sharing and adds nothing; exact duplicates are already refused when the zone loads (RFC 2181 section 5).",
        fix: "Keep one record per target:port.",
        explanation: "fedns refuses exactly identical records when it loads a zone. This rule catches the remaining kind: one endpoint listed more than once with different priorities or weights, usually a copy-and-paste leftover.",
    }
    Srv024 {
        id: "SRV024",
        severity: Info,
        stage: Offline,
        title: "TTL below 60 or above 86400 seconds",
        why: "Synapse caches SRV answers for their TTL: below a minute every federation request may cost a DNS lookup; above a day a change of target takes days to reach peers.",
        fix: "Use a TTL between 300 and 3600 seconds; lower it a day before a planned move.",
        explanation: "Very short TTLs load resolvers and slow federation; very long ones make mistakes and moves sticky.",
    }
    Srv025 {
        id: "SRV025",
        severity: Warning,
        stage: Offline,
        title: "SRV target differs from the owner's name: the certificate there must be valid for the server name, not for the target",
        why: "Peers connect to the SRV target and port, but send SNI and Host for the server name and check the certificate against the server name. A certificate only for the target fails: Synapse logs `DNSMismatch(... hostname=b'SERVER')`, Go-based servers `x509: certificate is valid for TARGET, not SERVER`; a reverse proxy routing by name answers 404, 421 or a TLS alert for the unknown SNI.",
        fix: "Either serve a certificate for the server name on the target, or delegate with .well-known instead.",
        explanation: "This is the pitfall fedns exists for. With `_matrix-fed._tcp.example.org. SRV 10 0 443 matrix.example.org.`, a homeserver resolving example.org connects to matrix.example.org:443, sends SNI example.org and `Host: example.org`, and requires a certificate valid for example.org (Matrix spec, \"Resolving server names\", steps 3.3 to 5; the SRV target is only where to connect). Public CAs do not issue SRV-ID certificates, so a dNSName for the server name on the certificate is the only way.\n\nTwo layouts comply:\n\n1. SRV only: keep `_matrix-fed._tcp.example.org. SRV 10 0 443 matrix.example.org.` and serve, on matrix.example.org:443, a certificate for example.org (it may list matrix.example.org too), with the reverse proxy accepting SNI and Host example.org.\n\n2. .well-known: serve `{\"m.server\": \"matrix.example.org:443\"}` at https://example.org/.well-known/matrix/server (or without the port and with SRV at `_matrix-fed._tcp.matrix.example.org.`); then peers connect to matrix.example.org and require a certificate for matrix.example.org.\n\nThis is a warning, not an error, because the zone alone cannot show which certificate is served; give it with --cert TARGET=chain.pem (CRT rules) or probe it with --probe (LIVE rules).",
    }
    Srv026 {
        id: "SRV026",
        severity: Info,
        stage: Offline,
        title: "SRV at the server name while a .well-known is declared for it",
        why: "When https://S/.well-known/matrix/server gives a valid `m.server`, homeservers do not look at SRV records at S; those are used only when .well-known fails.",
        fix: "Nothing to do if they are a deliberate fallback; make sure their targets present a certificate for S. Otherwise remove them to avoid confusion.",
        explanation: "The Matrix resolution algorithm tries .well-known before SRV (MSC1831). With a valid .well-known, the SRV that counts is at the delegated host D, and the certificate must be valid for D. The SRV records at S come into play only when .well-known fails (an error, a non-200 answer, bad JSON): then peers connect to their targets and require a certificate for S.",
    }
    Srv027 {
        id: "SRV027",
        severity: Info,
        stage: Offline,
        title: "`m.server` has a port, so SRV records at the delegated host are never queried",
        why: "An explicit port in `m.server` makes homeservers connect to D:port directly (spec step 3.2); the SRV records at D are dead.",
        fix: "Drop the port from `m.server` if the SRV records at D should be used, or remove the records.",
        explanation: "`{\"m.server\": \"matrix.example.org:443\"}` means: connect to matrix.example.org on port 443, certificate for matrix.example.org. SRV lookups are skipped entirely, so `_matrix-fed._tcp.matrix.example.org` has no effect.",
    }
    Srv028 {
        id: "SRV028",
        severity: Info,
        stage: Offline,
        title: "Nothing tells peers where the server name is",
        why: "No .well-known is declared, there are no federation SRV records and no A/AAAA at the server name: peers end at S:8448 and find no address.",
        fix: "Add a [[matrix]] delegation (SRV), declare the .well-known you serve, or give S address records where the homeserver listens on 8448.",
        explanation: "A server name must lead somewhere: .well-known on S:443, SRV at S, or A/AAAA of S with the homeserver on port 8448. If the .well-known is served by a web server outside this zone, declare it with `well_known` in [[matrix]] or --well-known so that fedns can check the rest.",
    }
    Srv029 {
        id: "SRV029",
        severity: Warning,
        stage: Offline,
        title: "A wildcard covers the federation SRV owner",
        why: "Queries for a name that does not exist are answered from the wildcard (RFC 4592): a wildcard SRV or CNAME then answers `_matrix-fed._tcp` or `_matrix._tcp` lookups with records nobody meant for federation.",
        fix: "Publish the federation SRV RRsets explicitly (both names), or narrow the wildcard.",
        explanation: "RFC 4592 synthesises answers from `*.parent` for every non-existent name below parent. A wildcard with SRV or CNAME data sends homeservers to whatever it says; one with only A records makes SRV queries answer NODATA (harmless) but CNAME wildcards are followed by resolvers. Owning the exact names removes the ambiguity.",
    }
    Srv030 {
        id: "SRV030",
        severity: Error,
        stage: Offline,
        title: "The SRV owner also has a CNAME",
        why: "RFC 1034 3.6.2: a name with a CNAME holds no other data. Resolvers answer the CNAME and ignore the SRV records, or fail.",
        fix: "Remove the CNAME, or the SRV records.",
        explanation: "A CNAME beside other data is a protocol violation; which answer a peer gets depends on the server and resolver. fedns refuses such zones when it loads them from files; this rule reports it on zones built by other means.",
    }
    Srv031 {
        id: "SRV031",
        severity: Info,
        stage: Offline,
        title: "Server name has upper-case letters",
        why: "DNS ignores case, but Matrix carries the server name byte for byte in user IDs, room IDs, event signatures and the key server's `server_name`; a server name with capitals mismatches peers that write it in lower case.",
        fix: "Use the server name in lower case everywhere (homeserver config, zone, certificates).",
        explanation: "Server names are compared as strings in the Matrix protocol. `Example.org` and `example.org` are the same DNS name but different Matrix server names. Pick lower case.",
    }
    Crt001 {
        id: "CRT001",
        severity: Error,
        stage: Certificate,
        title: "No dNSName SAN matches the required name",
        why: "Homeservers check the certificate against the server name (or the delegated host), per RFC 6125 / RFC 9525: only dNSName subjectAltNames count. None matches, so the TLS handshake fails at every peer.",
        fix: "Get a certificate whose subjectAltName lists the required name.",
        explanation: "The required name N is the server name S when SRV records at S are used, or the delegated host D when .well-known delegates to D. The certificate must list N as a dNSName in its subjectAltName extension (a wildcard `*.parent` matches exactly one label: `*.example.org` covers `matrix.example.org`, not `example.org` nor `a.b.example.org`).",
    }
    Crt002 {
        id: "CRT002",
        severity: Error,
        stage: Certificate,
        title: "Certificate is valid for the SRV target but not for the server name (the classic pitfall)",
        why: "Peers connect to the SRV target but check the certificate against the server name. Synapse logs `DNSMismatch(... hostname=b'SERVER')`, Go-based servers `x509: certificate is valid for TARGET, not SERVER`.",
        fix: "Add the server name to the certificate's SANs (and serve it for SNI = server name), or switch to .well-known delegation to the target.",
        explanation: "The certificate names the host people think of as \"the Matrix server\" (the SRV target), which is what a browser would want. Federation wants the server name. See `fedns check --explain SRV025` for the two compliant layouts.",
    }
    Crt003 {
        id: "CRT003",
        severity: Error,
        stage: Certificate,
        title: "Wildcard `*.N` present, but N is the apex it does not cover",
        why: "RFC 6125 / RFC 9525: a wildcard matches exactly one whole label, so `*.example.org` does not cover `example.org`. Every TLS client rejects it.",
        fix: "Add the bare name (example.org) as a SAN beside the wildcard.",
        explanation: "Wildcard certificates are common for \"all our hosts\", and the server name is often the bare domain. Certificates from public CAs usually list both `example.org` and `*.example.org`; a certificate with only the wildcard fails for the apex.",
    }
    Crt004 {
        id: "CRT004",
        severity: Error,
        stage: Certificate,
        title: "No subjectAltName extension (name only in the CN)",
        why: "RFC 6125 / RFC 9525 clients match names in the subjectAltName only; the Common Name is ignored by rustls, Go since 1.15 and current OpenSSL-based stacks. Every peer rejects the certificate.",
        fix: "Reissue the certificate with the names as dNSName subjectAltNames.",
        explanation: "Certificates with the host name only in the subject CN are a relic; CAs stopped issuing them long ago, but home-made ones (old openssl recipes) still lack the SAN extension.",
    }
    Crt005 {
        id: "CRT005",
        severity: Error,
        stage: Certificate,
        title: "Self-signed, or not chaining to a trusted root",
        why: "Certificates must chain to a trusted CA (Matrix spec since r0.1.0, 2019; Synapse verifies since 1.0.0). Peers reject self-signed certificates and unknown issuers with `certificate verify failed` / `x509: certificate signed by unknown authority`.",
        fix: "Use a certificate from a public CA (e.g. ACME/Let's Encrypt); in a lab, issue from your private CA and give every peer the CA (Synapse: `federation_custom_ca_list`; fedns: --ca).",
        explanation: "fedns trusts the system roots plus every --ca FILE, so a lab federation with a private CA is checked like a public one: pass the lab CA with --ca. Self-signed certificates stopped working for federation in 2019.",
    }
    Crt006 {
        id: "CRT006",
        severity: Warning,
        stage: Certificate,
        title: "Leaf only: the intermediate chain is missing",
        why: "TLS servers must send the intermediates. Browsers fetch missing ones (AIA), homeservers do not: Synapse (OpenSSL) and Go fail with an unknown-issuer error, so \"it works in my browser\" but not for federation.",
        fix: "Serve the full chain (with certbot: fullchain.pem, not cert.pem).",
        explanation: "The file holds only the end-entity certificate and its issuer is not a trust anchor. Configure the web server or reverse proxy with the chain file. If the issuer is itself a root you gave with --ca, the leaf alone is complete and this rule stays quiet.",
    }
    Crt007 {
        id: "CRT007",
        severity: Error,
        stage: Certificate,
        title: "Expired or not yet valid (error), expires within 7 days (warning) or 30 days (info)",
        why: "Peers reject certificates outside their validity period; federation stops the moment it expires.",
        fix: "Renew the certificate (and check that renewal is automated and reloads the server).",
        explanation: "Checked for every certificate of the chain, not only the leaf. A certificate that is not yet valid usually means a wrong clock on the machine that made it.",
    }
    Crt008 {
        id: "CRT008",
        severity: Error,
        stage: Certificate,
        title: "Extended key usage present without serverAuth",
        why: "When the extendedKeyUsage extension is present, TLS clients require id-kp-serverAuth in it; a certificate for clientAuth or code signing only is rejected.",
        fix: "Reissue the certificate with serverAuth (TLS Web Server Authentication) in its extended key usage.",
        explanation: "RFC 5280 4.2.1.12: if the extension is present, the certificate may only be used for the purposes listed. A server certificate needs id-kp-serverAuth.",
    }
    Crt009 {
        id: "CRT009",
        severity: Error,
        stage: Certificate,
        title: "The required name is an IP literal without a matching iPAddress SAN",
        why: "With an IP-literal server name or `m.server`, peers connect without SNI and require an iPAddress subjectAltName equal to the address; a dNSName with the address's text does not count.",
        fix: "Add the address as an iPAddress SAN, or use a DNS name as server name.",
        explanation: "Matrix allows IP literals as server names and in `m.server` (spec steps 1 and 3.1). Few CAs issue certificates for IP addresses; labs often use a private CA for it.",
    }
    Crt010 {
        id: "CRT010",
        severity: Warning,
        stage: Certificate,
        title: "RSA key below 2048 bits or SHA-1 signature",
        why: "rustls and webpki reject SHA-1 signatures and RSA keys below 2048 bits, and OpenSSL at its default security level does too; modern peers refuse the chain.",
        fix: "Reissue with an RSA key of at least 2048 bits (or ECDSA P-256) and a SHA-256 signature.",
        explanation: "Weak keys and SHA-1 are mostly found in old lab CAs and self-made certificates. The root's self-signature is not checked (it is never verified).",
    }
    Crt011 {
        id: "CRT011",
        severity: Info,
        stage: Certificate,
        title: "Non-standard wildcard (partial label or not left-most)",
        why: "RFC 9525 allows `*` only as the whole left-most label. Partial wildcards (`m*.example.org`) and wildcards further right (`a.*.example.org`) are not matched by rustls or Go, and by OpenSSL only in some modes.",
        fix: "Use whole-label wildcards (`*.example.org`) or list the names explicitly.",
        explanation: "RFC 6125 tolerated partial-label wildcards as a legacy; RFC 9525 forbids them. fedns never counts them as a match.",
    }
    Live001 {
        id: "LIVE001",
        severity: Error,
        stage: Live,
        title: "TCP connect to the target fails",
        why: "Peers cannot reach the target on this address and port: connection refused (nothing listens), or a timeout (firewall).",
        fix: "Start the listener, open the port in the firewall, or fix the SRV port or the address records.",
        explanation: "fedns connects to every address of every target with a bounded timeout. A refusal means the host is up but nothing listens on the port; a timeout usually means a firewall drops the packets.",
    }
    Live002 {
        id: "LIVE002",
        severity: Error,
        stage: Live,
        title: "TLS handshake aborted for SNI = the required name",
        why: "The server closed the connection or sent an alert when asked for the required name: typically a reverse proxy with no virtual host (and no default certificate) for the server name. Peers see `handshake failure` or `unrecognized name`.",
        fix: "Configure the TLS listener (reverse proxy) to accept SNI for the required name and serve a certificate for it.",
        explanation: "SNI carries the server name, not the SRV target. Reverse proxies choose the virtual host and certificate by SNI; one that only knows the target's name may refuse the handshake outright.",
    }
    Live003 {
        id: "LIVE003",
        severity: Error,
        stage: Live,
        title: "The presented certificate is not valid for the required name",
        why: "Peers verify the certificate against the server name (or delegated host); this one does not match. Synapse logs `DNSMismatch`, Go `x509: certificate is valid for ..., not ...`.",
        fix: "Serve a certificate that lists the required name for SNI = the required name.",
        explanation: "fedns handshakes with SNI = N and checks the certificate presented against N with RFC 6125 / RFC 9525 rules.",
    }
    Live004 {
        id: "LIVE004",
        severity: Error,
        stage: Live,
        title: "The presented chain does not verify",
        why: "Unknown authority (self-signed, private CA the peer does not have), an incomplete chain, or an expired certificate: peers abort the handshake.",
        fix: "Serve the full chain from a CA your peers trust (give a private lab CA to fedns with --ca and to the peers).",
        explanation: "fedns verifies the chain as served (not the one on disk) against the system roots plus --ca files.",
    }
    Live005 {
        id: "LIVE005",
        severity: Error,
        stage: Live,
        title: "Not valid for the required name, but valid for the target's own name (the classic pitfall, live)",
        why: "The target is fine for itself: a second handshake with SNI = the target verifies. It is set up for the target's name, not for the server name peers ask for.",
        fix: "Serve a certificate for the server name on the target (SNI and Host = server name), or delegate with .well-known to the target.",
        explanation: "The live form of CRT002 / SRV025. See `fedns check --explain SRV025` for the two compliant layouts.",
    }
    Live006 {
        id: "LIVE006",
        severity: Error,
        stage: Live,
        title: "`GET /_matrix/key/v2/server` with `Host:` the required name is not 200",
        why: "Peers fetch the server's signing keys from this endpoint with Host = the server name; a 404, 421 or other status means the request reached something that is not the homeserver, usually a reverse proxy that routes by the target's name.",
        fix: "Route requests with Host = the server name (and SNI = the server name) to the homeserver's federation listener.",
        explanation: "Reverse proxies route by Host. With SRV delegation the Host is the server name, which the proxy may not know; it then answers from its default site.",
    }
    Live007 {
        id: "LIVE007",
        severity: Error,
        stage: Live,
        title: "The key response is not JSON",
        why: "The request reached a website, not the homeserver: the reverse proxy serves HTML for Host = the server name.",
        fix: "Route `/_matrix/` for Host = the server name to the homeserver.",
        explanation: "A 200 with an HTML page is a typical sign that the server name's website answers on the federation port.",
    }
    Live008 {
        id: "LIVE008",
        severity: Error,
        stage: Live,
        title: "`server_name` in the key response differs from the server name",
        why: "The homeserver reached is configured for another server name; peers reject keys for the wrong server.",
        fix: "Point the delegation at the homeserver of this server name, or fix its `server_name` setting.",
        explanation: "The signing-key response names the server it belongs to. A mismatch means the SRV or .well-known points at the wrong homeserver (for example a shared host serving several server names without routing by Host).",
    }
    Live009 {
        id: "LIVE009",
        severity: Error,
        stage: Live,
        title: "Signing key expired or no ed25519 key",
        why: "Peers need a current ed25519 verify key to check events; a `valid_until_ts` in the past or no `ed25519:` key makes them refuse the server's events.",
        fix: "Check the homeserver's signing key configuration and clock.",
        explanation: "`/_matrix/key/v2/server` returns `verify_keys` with `ed25519:ID` entries and `valid_until_ts` in milliseconds since the epoch.",
    }
    Live010 {
        id: "LIVE010",
        severity: Warning,
        stage: Live,
        title: "`GET /_matrix/federation/v1/version` fails",
        why: "The version endpoint is what the federation tester and admins use to identify the server; its failure usually means `/_matrix/federation/` is not routed to the homeserver.",
        fix: "Route `/_matrix/federation/` (and `/_matrix/key/`) to the homeserver's federation listener.",
        explanation: "Not fatal by itself, but a strong sign of incomplete reverse-proxy routing.",
    }
    Live011 {
        id: "LIVE011",
        severity: Warning,
        stage: Live,
        title: "Addresses of one target behave differently (split brain)",
        why: "Peers pick an address at random (or by address family); when the IPv4 and IPv6 addresses, or several A records, lead to different servers or certificates, federation works for some peers and not others.",
        fix: "Make every address of the target serve the same homeserver with the same certificate (check the AAAA record especially).",
        explanation: "A stale AAAA record pointing at an old host is the usual cause.",
    }
    Live012 {
        id: "LIVE012",
        severity: Error,
        stage: Live,
        title: "The SRV name answers SERVFAIL, REFUSED or times out",
        why: "Synapse treats a SERVFAIL on the SRV lookup as fatal (no fallback); conduwuit and tuwunel abort too. Dendrite and continuwuity fall back to S:8448.",
        fix: "Make the authoritative servers answer the SRV name (NOERROR with records, or NOERROR/NODATA, or NXDOMAIN).",
        explanation: "A DNS error is not the same as \"no records\": homeservers that see an error give up rather than fall through to the next step.",
    }
    Live013 {
        id: "LIVE013",
        severity: Error,
        stage: Live,
        title: "The empty non-terminal `_tcp.NAME` answers NXDOMAIN",
        why: "`_tcp.NAME` exists (names exist below it), so it must answer NOERROR/NODATA (RFC 8020). QNAME-minimising resolvers (RFC 9156) ask for `_tcp.NAME` first and stop at an NXDOMAIN: the SRV records become invisible to their users.",
        fix: "Fix the authoritative DNS server (some servers and DNS providers get empty non-terminals wrong).",
        explanation: "RFC 8020: NXDOMAIN means nothing exists at or below the name. Answering NXDOMAIN for an empty non-terminal lets resolvers prune the whole subtree.",
    }
    Live014 {
        id: "LIVE014",
        severity: Error,
        stage: Live,
        title: "The key response is not signed by the server, or its signature does not verify",
        why: "Peers verify `/_matrix/key/v2/server` with the ed25519 key it lists: an unsigned response, one signed by another name, or a signature that fails over the canonical JSON means the keys are not accepted, and nothing from the server is.",
        fix: "Serve the homeserver's own key response unaltered (a proxy that rewrites or re-serialises JSON breaks the signature); check the signing key file.",
        explanation: "The Matrix spec (appendix \"Signing JSON\"): remove `signatures` and `unsigned`, write the rest as canonical JSON (sorted keys, no whitespace, integers only), sign it with ed25519; the signature sits at `signatures[server_name][\"ed25519:ID\"]` in unpadded base64, and ID names a key in `verify_keys`.",
    }
    Live015 {
        id: "LIVE015",
        severity: Error,
        stage: Live,
        title: "A verify key is not a 32-byte ed25519 key",
        why: "An `ed25519:` verify key is 32 bytes in unpadded base64; anything else cannot verify a signature, so peers cannot check the server's events with it.",
        fix: "Regenerate or restore the homeserver's signing key (Synapse: `signing_key_path`).",
        explanation: "`verify_keys[\"ed25519:ID\"].key` carries the raw 32-byte public key (RFC 8032) in unpadded base64, 43 characters.",
    }
    Live016 {
        id: "LIVE016",
        severity: Error,
        stage: Live,
        title: "The keys expire within the hour (`valid_until_ts`)",
        why: "Peers cache keys until `valid_until_ts`; a value less than an hour away makes them ask again all the time, and a peer that asks with `minimum_valid_until_ts` later than it gets no usable key.",
        fix: "Check the homeserver's clock and key validity settings (Synapse: `key_refresh_interval`, default one day).",
        explanation: "Synapse publishes keys valid for a day (`key_refresh_interval`) and refreshes them before then.",
    }
    Live017 {
        id: "LIVE017",
        severity: Warning,
        stage: Live,
        title: "The keys claim to be valid more than 7 days ahead",
        why: "The spec advises a short validity: a key that leaks or is replaced stays trusted by peers until `valid_until_ts`, and peers cap what they honour (Synapse caps at 7 days for room versions that enforce it).",
        fix: "Lower the validity (Synapse: `key_refresh_interval`) to a day or so.",
        explanation: "Room versions 5 and later require keys to be valid at the time of the event, and servers cap `valid_until_ts` at a week when they store it.",
    }
    Live018 {
        id: "LIVE018",
        severity: Error,
        stage: Live,
        title: "The key response is not served as `application/json`",
        why: "Synapse refuses a federation response whose Content-Type is not `application/json` (\"Remote server sent Content-Type header of ...\"), even when the body is valid JSON.",
        fix: "Let the homeserver set the Content-Type, or fix the reverse proxy that overrides it.",
        explanation: "The server-server API responses are JSON with `Content-Type: application/json` (parameters such as `charset=utf-8` are allowed).",
    }
    Live019 {
        id: "LIVE019",
        severity: Error,
        stage: Live,
        title: "The server speaks only TLS older than 1.2",
        why: "TLS 1.0 and 1.1 are deprecated (RFC 8996); rustls-based homeservers (the Conduit family), Go (Dendrite) and OpenSSL 3 at its default security level do not connect below TLS 1.2.",
        fix: "Enable TLS 1.2 and 1.3 on the federation listener or its reverse proxy.",
        explanation: "The probe offers TLS 1.2 and 1.3 only, as modern peers do; a server that answers with a `protocol_version` alert, or a ServerHello below 1.2, has no version in common with them.",
    }
    Wk001 {
        id: "WK001",
        severity: Info,
        stage: WellKnown,
        title: ".well-known for the server name is valid: SRV at S is ignored, the required certificate name is now D",
        why: "With a valid .well-known, homeservers follow `m.server` and never look at SRV records at S; the certificate must be valid for the delegated host D.",
        fix: "Nothing to fix; check the certificate at D.",
        explanation: "MSC1831 made .well-known the first step. Its `m.server` value D (or D:port) decides where peers connect and which name the certificate must have.",
    }
    Wk002 {
        id: "WK002",
        severity: Warning,
        stage: WellKnown,
        title: ".well-known body over 50 KiB",
        why: "Synapse and Dendrite stop reading the body at 50 KiB and treat it as invalid.",
        fix: "Serve a small JSON document: `{\"m.server\": \"host:port\"}`.",
        explanation: "The .well-known document needs only the `m.server` key; a CMS page, a redirect to a large HTML page or a document padded with other keys can exceed the limit. Peers treat the cut-off body as invalid JSON and fall back to SRV records at the server name.",
    }
    Wk003 {
        id: "WK003",
        severity: Warning,
        stage: WellKnown,
        title: ".well-known invalid (not 200, bad JSON, no `m.server`, redirect loop)",
        why: "An invalid .well-known makes homeservers fall back to SRV at the server name and then S:8448; Synapse caches the failure for an hour.",
        fix: "Serve `{\"m.server\": \"host[:port]\"}` with status 200 and Content-Type application/json at https://S/.well-known/matrix/server.",
        explanation: "Also checked offline on a `well_known` in [[matrix]] or --well-known S=JSON: the value must be a server name (host, IPv4, [IPv6], optional :port).",
    }
    Wk004 {
        id: "WK004",
        severity: Info,
        stage: WellKnown,
        title: "Cache-Control max-age below 300 s or above 48 h, or no-store",
        why: "Synapse caches .well-known for the max-age, clamped to 5 minutes..48 hours (24 h +/- 10 % without one); extreme values are ignored or make changes slow.",
        fix: "Send `Cache-Control: max-age=3600` or leave it out.",
        explanation: "Not an error: homeservers clamp the value. It mostly tells you how long a change takes to reach peers.",
    }
    Sig001 {
        id: "SIG001",
        severity: Error,
        stage: Offline,
        title: "an RRSIG in the zone has expired or is not yet valid",
        why: "Validating resolvers check the signature's validity period against their clock: outside it, the answer is bogus and they return SERVFAIL, so the names it covers disappear for most of the internet.",
        fix: "Re-sign the zone on the primary (or fix the signer's clock) and transfer it again; fedns serves signatures as it receives them and does not sign.",
        explanation: "Every RRSIG carries an inception and an expiration time (RFC 4034 3.1.5). A validator (RFC 4035 5.3.1) rejects a signature outside that window. fedns serves pre-signed zones exactly as the primary signed them, so a zone whose signer stopped re-signing, or a copy restored from an old backup, serves expired signatures. The finding names the earliest signature concerned and how many others are in the same state.",
    }
    Sig002 {
        id: "SIG002",
        severity: Warning,
        stage: Offline,
        title: "an RRSIG expires before the zone's SOA expire would run out",
        why: "A secondary that loses its primary keeps serving its copy until SOA expire; signatures that expire earlier turn the zone bogus for validating resolvers while the secondary still answers.",
        fix: "Sign with a validity longer than the SOA expire (signers usually re-sign well before expiry), or lower the SOA expire.",
        explanation: "RFC 1034 4.3.5 lets a secondary answer from its last copy until the SOA expire has passed since the last successful refresh; RFC 6781 4.4.2 recommends signature validity periods that cover it. When the remaining validity is shorter, a primary outage of that length turns correct data into bogus answers on every secondary. The finding names the earliest expiring signature and how long it has left.",
    }
    Wk005 {
        id: "WK005",
        severity: Warning,
        stage: WellKnown,
        title: ".well-known differs between the addresses of the server name",
        why: "Peers reach a random address of S; different answers mean different delegations for different peers.",
        fix: "Serve the same .well-known on every address of S (check the AAAA record).",
        explanation: "Typically an old web server still answering on the IPv6 address.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extract_keeps_what_the_rules_read_as_written_judged_on_the_wire() {
        let wire = |text: &str| {
            let mut out = Vec::new();
            let root = hickory_proto::rr::Name::root();
            crate::zone::rdata_text::push_name_text(&mut out, text, &root).unwrap();
            out
        };
        let kept =
            |owner: &str, rtype| read_as_written(&wire(owner), rtype, || unreachable!(), 0, 0);
        assert!(kept("*.example.org.", RecordType::A));
        assert!(kept("_matrix-fed._tcp.example.org.", RecordType::A));
        assert!(kept("x._tcp.example.org.", RecordType::TXT));
        assert!(kept("example.org.", RecordType::SOA));
        assert!(kept("host.example.org.", RecordType::SRV));
        assert!(!kept("host.example.org.", RecordType::A));
        assert!(!kept("a.b._c.example.org.", RecordType::AAAA));
        assert!(!kept("a*.example.org.", RecordType::A));
        assert!(!kept(".", RecordType::NS));
        assert!(!read_as_written(
            &[],
            RecordType::A,
            || unreachable!(),
            0,
            0
        ));
    }

    #[test]
    fn catalogue_has_every_rule_once_with_texts() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), 28 + 11 + 19 + 5 + 2); // SRV, CRT, LIVE, WK, SIG
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        for rule in Rule::ALL {
            let info = rule.info();
            assert!(!info.title.is_empty() && !info.why.is_empty() && !info.fix.is_empty());
            assert!(
                info.explanation.len() > 60,
                "{} needs a longer explanation",
                info.id
            );
        }
    }

    #[test]
    fn rules_parse_from_ids_case_insensitively() {
        assert_eq!(Rule::from_id("srv025"), Some(Rule::Srv025));
        assert_eq!(Rule::from_id(" CRT002 "), Some(Rule::Crt002));
        assert_eq!(Rule::from_id("SRV999"), None);
    }

    #[test]
    fn severities_order_and_count() {
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
        let f = |s| Finding::new(Rule::Srv013, "x", "m").severity(s);
        let s = Summary::of(&[f(Severity::Error), f(Severity::Info), f(Severity::Info)]);
        assert_eq!((s.errors, s.warnings, s.infos), (1, 0, 2));
    }

    #[test]
    fn sorting_puts_errors_first_and_drops_duplicates() {
        let a = Finding::new(Rule::Srv013, "x", "m");
        let b = Finding::new(Rule::Srv012, "x", "m");
        let mut v = vec![a.clone(), b.clone(), a.clone()];
        sort_findings(&mut v);
        assert_eq!(v, vec![b, a]);
    }

    /// The extract with the snapshots (what `fedns serve` lints), and the
    /// snapshots alone (the dashboard), find what the whole zones find.
    #[test]
    fn extracts_and_snapshots_find_what_whole_zones_find() {
        let dir = std::env::temp_dir().join(format!("fedns-lint-extract-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let zone = "$ORIGIN example.org.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1\n\
                    ns1 A 198.51.100.1\nhs A 10.0.0.1\nhs.new A 198.51.100.20\nold DNAME new\n\
                    _matrix-fed._tcp SRV 10 0 8448 hs.old\n_matrix._tcp SRV 10 0 8448 alias\nalias CNAME hs\n\
                    matrix._tcp.b SRV 10 0 8448 hs\n*._tcp.c SRV 10 0 0 hs.wild\n*.wild A 198.51.100.40\n\
                    sub NS ns.elsewhere.net.\n_matrix-fed._tcp.d SRV 10 0 8448 x.sub\n";
        let path = dir.join("example.org.zone");
        std::fs::write(&path, zone).expect("write the zone");
        let lab =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab-federation/zones");
        let mut zones: Vec<Zone> = vec![crate::zone::load_zone_file(&path).expect("loads")];
        for entry in std::fs::read_dir(&lab).expect("lab zones") {
            zones.push(crate::zone::load_zone_file(&entry.expect("entry").path()).expect("loads"));
        }
        // Snapshots keep no line numbers: messages that cite a place cite the file.
        let without_lines = |text: &str| {
            let mut out = String::new();
            let mut rest = text;
            while let Some(i) = rest.find(".zone:").or_else(|| rest.find(".toml:")) {
                out.push_str(&rest[..i + 5]);
                rest = rest[i + 5..].trim_start_matches(|c: char| c == ':' || c.is_ascii_digit());
            }
            out.push_str(rest);
            out
        };
        let key = |f: &Finding| (f.rule, f.name.clone(), without_lines(&f.message));
        let whole = offline_findings(&zones.iter().collect::<Vec<_>>());
        assert!(whole.len() > 10, "{whole:#?}");
        let extracts: Vec<Zone> = zones.iter().map(lint_extract).collect();
        let served = ZoneSet::new(
            zones
                .iter()
                .map(|z| std::sync::Arc::new(ZoneSnapshot::build(z.clone()).expect("builds"))),
        );
        let gated = offline_findings_served(&extracts.iter().collect::<Vec<_>>(), &served);
        assert_eq!(gated, whole);
        let extracted = served_extracts(&served);
        let mut from_snapshots: Vec<_> =
            offline_findings_served(&extracted.iter().collect::<Vec<_>>(), &served)
                .iter()
                .map(key)
                .collect();
        let mut expected: Vec<_> = whole.iter().map(key).collect();
        from_snapshots.sort();
        expected.sort();
        assert_eq!(from_snapshots, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
