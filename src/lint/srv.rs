//! The offline rules SRV001-SRV031: what zone data and the declared server
//! names and `.well-known` delegations say about Matrix SRV delegation.
//!
//! The facts come from RFC 2782 (SRV: `_Service._Proto.Name`, priority,
//! weight, target `.`, no alias targets), RFC 4592 (wildcards), RFC 1034
//! (CNAME), and the Matrix spec's server-name resolution (the SRV RRset at
//! `_matrix-fed._tcp.X` or `_matrix._tcp.X` sends peers to target:port with
//! SNI and `Host` X and a certificate for X). Every finding points at the
//! `file:line` of the record or `[[matrix]]` section at fault.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use hickory_proto::rr::rdata::SRV;
use hickory_proto::rr::{Name, RData, RecordType};

use super::delegation::{Declared, DeclaredServer, Host, WellKnownError, display_name, same_name};
use super::{Finding, Rule};
use crate::engine::{self, Transport};
use crate::matrix::dns::wildcard_source;
use crate::proto::name::name_key;
use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::zone::matrix::{MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE};
use crate::zone::owner_index::OwnerIndex;
use crate::zone::{Place, SourcedRecord, Zone};

/// SRV TTLs outside this range get SRV024.
pub const SRV_TTL_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;

/// Runs every offline SRV rule over `zones`.
pub fn srv_findings(zones: &[&Zone], declared: &Declared) -> Vec<Finding> {
    srv_findings_in(&ZoneIndex::new(zones), declared)
}

/// Runs every offline SRV rule over the zones of `index`.
pub fn srv_findings_in(index: &ZoneIndex<'_>, declared: &Declared) -> Vec<Finding> {
    let mut out = Vec::new();
    let owners = classify_owners(index, &mut out);
    for pair in owners.federation.values() {
        check_federation_pair(index, declared, pair, &mut out);
    }
    check_other_services(declared, &owners, &mut out);
    for server in &declared.servers {
        check_server(index, server, &mut out);
    }
    out
}

// ------------------------------------------------------------ zone index --

/// The loaded zones: their records as written (for the places findings
/// point at), and, for every question of DNS semantics (does a wildcard
/// answer for this name, is it below a zone cut, what addresses does it
/// have), the zones as `fedns serve` answers them.
///
/// Those questions are answered by the answer engine itself, over a
/// snapshot of the zone, and the wildcard by the function `fedns explain`
/// uses ([`crate::matrix::dns::wildcard_source`]): the lint has no idea of
/// its own about existence, empty non-terminals, wildcards, cuts or CNAMEs,
/// so it cannot disagree with what is served or explained.
///
/// Each zone's records are an [`OwnerIndex`] (a dozen bytes a record,
/// sorted by lower-cased wire owner). `fedns serve` gives the snapshots it
/// publishes ([`ZoneIndex::serving`]), so nothing is copied; elsewhere
/// (`fedns check`) the snapshot of a zone is built when a question is
/// first asked about a name in it, and only for that zone.
pub struct ZoneIndex<'z> {
    zones: Vec<&'z Zone>,
    /// `owners[i]` indexes `zones[i].records`.
    owners: Vec<OwnerIndex>,
    /// The zones as served.
    served: Served<'z>,
}

/// Where the zones as served come from.
enum Served<'z> {
    /// The snapshots `fedns serve` publishes.
    Given(&'z ZoneSet),
    /// `[i]`: `zones[i]` as served, built on first use (`None` if it cannot
    /// be: a zone without an SOA, which validation rules out).
    Built(Vec<std::cell::OnceCell<Option<ZoneSet>>>),
}

impl<'z> ZoneIndex<'z> {
    /// Indexes `zones`.
    pub fn new(zones: &[&'z Zone]) -> ZoneIndex<'z> {
        let owners: Vec<OwnerIndex> = zones
            .iter()
            // Fails only past 2^32 records; such a zone is linted as empty.
            .map(|z| OwnerIndex::new(&z.records, &z.origin).unwrap_or_default())
            .collect();
        ZoneIndex {
            zones: zones.to_vec(),
            owners,
            served: Served::Built(zones.iter().map(|_| std::cell::OnceCell::new()).collect()),
        }
    }

    /// Indexes `zones` (as written; extracts will do), with `served`, the
    /// same zones as `fedns serve` answers them.
    pub fn serving(zones: &[&'z Zone], served: &'z ZoneSet) -> ZoneIndex<'z> {
        ZoneIndex {
            served: Served::Given(served),
            ..ZoneIndex::new(zones)
        }
    }

    /// Every record at `name` (in zones whose origin is at or above it), in
    /// zone order.
    fn at<'a>(&'a self, name: &Name) -> impl Iterator<Item = &'z SourcedRecord> + 'a {
        let key = name_key(name);
        let mut found: Vec<(usize, u32)> = Vec::new();
        for (i, (zone, index)) in self.zones.iter().zip(&self.owners).enumerate() {
            if zone.origin.zone_of(name) {
                found.extend(index.find(&key).iter().map(|e| (i, e.record)));
            }
        }
        found.sort_unstable();
        found
            .into_iter()
            .filter_map(move |(zone, record)| self.zones[zone].records.get(record as usize))
    }

    /// The position of the zone holding `name` (the longest origin above it).
    fn position_of(&self, name: &Name) -> Option<usize> {
        self.zones
            .iter()
            .enumerate()
            .filter(|(_, z)| z.origin.zone_of(name))
            .max_by_key(|(_, z)| label_count(&z.origin))
            .map(|(i, _)| i)
    }

    /// The zone holding `name` (the one with the longest origin above it).
    pub fn zone_of(&self, name: &Name) -> Option<&'z Zone> {
        self.position_of(name).map(|i| self.zones[i])
    }

    /// The zone holding `name` as `fedns serve` serves it.
    fn served(&self, name: &Name) -> Option<&ZoneSet> {
        let i = self.position_of(name)?;
        match &self.served {
            Served::Given(set) => Some(set),
            Served::Built(cells) => cells
                .get(i)?
                .get_or_init(|| {
                    let snapshot = ZoneSnapshot::build(self.zones[i].clone()).ok()?;
                    Some(ZoneSet::new([std::sync::Arc::new(snapshot)]))
                })
                .as_ref(),
        }
    }

    /// The records of type `rtype` at `name`, as written.
    pub fn records(&self, name: &Name, rtype: RecordType) -> Vec<&'z SourcedRecord> {
        self.at(name).filter(|r| r.record_type() == rtype).collect()
    }

    /// Whether `name` is at or below a zone cut of its zone (delegated
    /// away): the engine answers it with a referral.
    pub fn is_delegated(&self, name: &Name) -> bool {
        self.served(name).is_some_and(|zones| {
            engine::answer(zones, name, RecordType::A, Transport::Tcp).referral
        })
    }

    /// The wildcard that answers for `name` when `name` does not exist
    /// (RFC 4592: `*.` its closest encloser), as `fedns explain` finds it.
    pub fn wildcard_for(&self, name: &Name) -> Option<Name> {
        wildcard_source(self.served(name)?, name)
    }

    /// The addresses the engine answers for `name` (A and AAAA, at the
    /// name, synthesised from a wildcard, or at the end of a CNAME chain
    /// inside the zone).
    pub fn addresses(&self, name: &Name) -> Vec<IpAddr> {
        let Some(zones) = self.served(name) else {
            return Vec::new();
        };
        [RecordType::A, RecordType::AAAA]
            .into_iter()
            .flat_map(|rtype| engine::answer(zones, name, rtype, Transport::Tcp).answers)
            .filter_map(|r| match r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect()
    }
}

fn label_count(name: &Name) -> usize {
    name.iter().count()
}

// ------------------------------------------------------- owner names --

/// What the owner name of a record says about Matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceOwner {
    /// `_matrix-fed._tcp.X` (legacy: false) or `_matrix._tcp.X` (legacy: true).
    Federation {
        /// The deprecated `_matrix._tcp` service.
        legacy: bool,
        /// X.
        base: Name,
    },
    /// Another `_matrix-*._tcp.X` service (identity server, ...).
    Other {
        /// The service label.
        service: String,
        /// X.
        base: Name,
    },
    /// Looks like a federation SRV owner but is misspelt or not TCP.
    Misspelt {
        /// What is wrong.
        problem: String,
        /// The owner that was probably meant.
        meant: Option<Name>,
    },
    /// Nothing to do with Matrix.
    NotMatrix,
}

/// Spellings (lower case, without `_` and `-`) of the federation service
/// that are not `_matrix-fed`.
const FEDERATION_MISSPELLINGS: &[&str] = &[
    "matrixfed",
    "matrixfederation",
    "matrixfederate",
    "matrixfeds",
    "matrixserver",
];

/// Classifies an owner name by its first two labels.
pub fn classify_owner(owner: &Name) -> ServiceOwner {
    let labels: Vec<String> = owner
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect();
    let (Some(service), proto) = (labels.first(), labels.get(1)) else {
        return ServiceOwner::NotMatrix;
    };
    let proto = proto.map(String::as_str).unwrap_or("");
    let rest_after = |n: usize| owner.trim_to(labels.len().saturating_sub(n));
    let meant = |base: Name| {
        Name::from_labels([MATRIX_FED_SERVICE.as_bytes(), b"_tcp".as_slice()])
            .ok()
            .and_then(|p| p.append_domain(&base).ok())
    };
    let squashed: String = service.chars().filter(|c| *c != '_' && *c != '-').collect();
    let is_fed = service == MATRIX_FED_SERVICE || service == MATRIX_LEGACY_SERVICE;
    let proto_like = proto.starts_with('_');
    if is_fed {
        return match proto {
            "_tcp" => ServiceOwner::Federation {
                legacy: service == MATRIX_LEGACY_SERVICE,
                base: rest_after(2),
            },
            p if proto_like => ServiceOwner::Misspelt {
                problem: format!(
                    "uses the protocol label `{p}`; federation runs over TCP (`_tcp`)"
                ),
                meant: meant(rest_after(2)),
            },
            _ => ServiceOwner::Misspelt {
                problem: "has no protocol label: the `_tcp` between service and name is missing"
                    .into(),
                meant: meant(rest_after(1)),
            },
        };
    }
    let misspelt_fed =
        FEDERATION_MISSPELLINGS.contains(&squashed.as_str()) && service.starts_with('_');
    let missing_underscore = !service.starts_with('_')
        && (squashed == "matrix" || FEDERATION_MISSPELLINGS.contains(&squashed.as_str()))
        && matches!(proto, "_tcp" | "_udp");
    if misspelt_fed || missing_underscore {
        let base = if proto_like {
            rest_after(2)
        } else {
            rest_after(1)
        };
        return ServiceOwner::Misspelt {
            problem: format!("the service label `{service}` is not `{MATRIX_FED_SERVICE}`"),
            meant: meant(base),
        };
    }
    if service.starts_with("_matrix-") && proto == "_tcp" {
        return ServiceOwner::Other {
            service: service.clone(),
            base: rest_after(2),
        };
    }
    ServiceOwner::NotMatrix
}

// ------------------------------------------------------- SRV RRsets --

/// One SRV record and where it was written.
#[derive(Clone, Debug)]
pub struct SrvRecord<'z> {
    /// The record.
    pub sourced: &'z SourcedRecord,
    /// Its RDATA.
    pub srv: SRV,
}

impl SrvRecord<'_> {
    fn place(&self) -> &Place {
        &self.sourced.place
    }

    fn target_is_root(&self) -> bool {
        self.srv.target.is_root()
    }
}

/// The federation SRV RRsets at one base name X.
#[derive(Debug)]
pub struct FederationPair<'z> {
    /// X.
    pub base: Name,
    /// `_matrix-fed._tcp.X`.
    pub fed: Vec<SrvRecord<'z>>,
    /// `_matrix._tcp.X`.
    pub legacy: Vec<SrvRecord<'z>>,
    /// Where the first record of either RRset is.
    pub place: Place,
}

/// The Matrix-looking owners of the zones.
#[derive(Debug, Default)]
pub struct Owners<'z> {
    /// Federation RRsets by base name.
    pub federation: BTreeMap<String, FederationPair<'z>>,
    /// Other `_matrix-*` services: base name -> (service, place).
    pub other: Vec<(Name, String, Place)>,
}

/// Every federation SRV RRset a homeserver can be answered from `zones`:
/// those written at `_matrix-fed._tcp.X` and `_matrix._tcp.X`, and those a
/// wildcard answers for (their records are the wildcard's).
pub fn federation_pairs<'z>(zones: &[&'z Zone]) -> Vec<FederationPair<'z>> {
    let index = ZoneIndex::new(zones);
    let mut findings_not_wanted = Vec::new();
    classify_owners(&index, &mut findings_not_wanted)
        .federation
        .into_values()
        .collect()
}

/// How `record` of the RRset at `_matrix-fed._tcp.BASE` (or `_matrix._tcp`
/// when `legacy`) came to be there, for messages: its owner, or the owner
/// asked for and the wildcard that answered it.
pub fn srv_provenance(record: &SrvRecord<'_>, base: &Name, legacy: bool) -> String {
    let owner = record.sourced.name();
    if owner.is_wildcard() {
        let service = if legacy {
            MATRIX_LEGACY_SERVICE
        } else {
            MATRIX_FED_SERVICE
        };
        format!(
            "{} (synthesised from the wildcard {})",
            owner_text(service, base),
            display_name(&owner)
        )
    } else {
        display_name(&owner)
    }
}

fn classify_owners<'z>(index: &ZoneIndex<'z>, out: &mut Vec<Finding>) -> Owners<'z> {
    let mut owners = Owners::default();
    let mut reported: HashSet<Name> = HashSet::new();
    for zone in &index.zones {
        for sourced in &zone.records {
            let owner = &sourced.name();
            match classify_owner(owner) {
                ServiceOwner::Federation { legacy, base } => {
                    let RData::SRV(srv) = sourced.data() else {
                        continue;
                    };
                    let key = display_name(&base.to_lowercase());
                    let pair = owners
                        .federation
                        .entry(key)
                        .or_insert_with(|| FederationPair {
                            base: base.clone(),
                            fed: Vec::new(),
                            legacy: Vec::new(),
                            place: sourced.place.clone(),
                        });
                    let record = SrvRecord { sourced, srv };
                    if legacy {
                        pair.legacy.push(record)
                    } else {
                        pair.fed.push(record)
                    }
                }
                ServiceOwner::Other { service, base } => {
                    if reported.insert(owner.clone()) {
                        owners.other.push((base, service, sourced.place.clone()));
                    }
                }
                ServiceOwner::Misspelt { problem, meant } => {
                    if reported.insert(owner.clone()) {
                        let owner_text = display_name(owner);
                        let meant_text = meant.as_ref().map(display_name);
                        let message = match &meant_text {
                            Some(m) => format!(
                                "{owner_text} {problem}; homeservers never query it (did you mean {m}?)"
                            ),
                            None => format!("{owner_text} {problem}; homeservers never query it"),
                        };
                        let mut f = Finding::new(Rule::Srv001, owner_text, message)
                            .at(Some(&sourced.place));
                        if let Some(m) = meant_text {
                            f = f.fix(format!("Rename the owner to {m} (and publish the same records at _matrix._tcp{} for older homeservers).", m.strip_prefix("_matrix-fed._tcp").unwrap_or("")));
                        }
                        out.push(f);
                    }
                }
                ServiceOwner::NotMatrix => {}
            }
        }
    }
    add_wildcard_answers(index, &mut owners);
    owners
}

/// Adds the federation RRsets that only a wildcard answers (RFC 4592):
/// with `*._tcp.S SRV ...` (or `*.S SRV ...`) and no `_matrix-fed._tcp.S`,
/// a homeserver asking for `_matrix-fed._tcp.S` gets the wildcard's
/// records, and so must the lint. They keep the wildcard's own place.
fn add_wildcard_answers<'z>(index: &ZoneIndex<'z>, owners: &mut Owners<'z>) {
    let mut synthesised: Vec<(Name, bool, Vec<SrvRecord<'z>>)> = Vec::new();
    for zone in &index.zones {
        for sourced in &zone.records {
            let owner = sourced.name();
            if !owner.is_wildcard() || sourced.record_type() != RecordType::SRV {
                continue;
            }
            let parent = owner.base_name();
            let tcp = parent
                .iter()
                .next()
                .is_some_and(|l| l.eq_ignore_ascii_case(b"_tcp"));
            let base = if tcp { parent.base_name() } else { parent };
            for (service, legacy) in [(MATRIX_FED_SERVICE, false), (MATRIX_LEGACY_SERVICE, true)] {
                let Ok(asked) = Name::from_labels([service.as_bytes(), b"_tcp".as_slice()])
                    .and_then(|p| p.append_domain(&base))
                else {
                    continue;
                };
                if index.wildcard_for(&asked).as_ref() != Some(&owner) || index.is_delegated(&asked)
                {
                    continue;
                }
                let records: Vec<SrvRecord<'z>> = index
                    .records(&owner, RecordType::SRV)
                    .into_iter()
                    .filter_map(|sourced| match sourced.data() {
                        RData::SRV(srv) => Some(SrvRecord { sourced, srv }),
                        _ => None,
                    })
                    .collect();
                if !synthesised
                    .iter()
                    .any(|(b, l, _)| *b == base && *l == legacy)
                {
                    synthesised.push((base.clone(), legacy, records));
                }
            }
        }
    }
    for (base, legacy, records) in synthesised {
        let Some(first) = records.first() else {
            continue;
        };
        let pair = owners
            .federation
            .entry(display_name(&base.to_lowercase()))
            .or_insert_with(|| FederationPair {
                base: base.clone(),
                fed: Vec::new(),
                legacy: Vec::new(),
                place: first.sourced.place.clone(),
            });
        let set = if legacy {
            &mut pair.legacy
        } else {
            &mut pair.fed
        };
        if set.is_empty() {
            *set = records;
        }
    }
}

/// The key an SRV record is compared by across RRsets (target case-insensitive).
fn srv_key(r: &SrvRecord<'_>) -> (u16, u16, u16, String) {
    (
        r.srv.priority,
        r.srv.weight,
        r.srv.port,
        r.srv.target.to_lowercase().to_string(),
    )
}

fn same_rrset(a: &[SrvRecord<'_>], b: &[SrvRecord<'_>]) -> bool {
    let mut x: Vec<_> = a.iter().map(srv_key).collect();
    let mut y: Vec<_> = b.iter().map(srv_key).collect();
    x.sort();
    y.sort();
    x == y
}

fn owner_text(service: &str, base: &Name) -> String {
    let base = display_name(base);
    format!("{service}._tcp.{base}")
}

/// Whether the zone holding `base` says nothing about server names, so that
/// every federation SRV owner in it is taken as a server name.
fn implicit_server_names(index: &ZoneIndex<'_>, declared: &Declared, base: &Name) -> bool {
    let Some(zone) = index.zone_of(base) else {
        return true;
    };
    let in_zone = |name: &Name| zone.origin.zone_of(name);
    zone.matrix.is_empty()
        && !declared.servers.iter().any(|s| {
            s.dns_name().is_some_and(in_zone)
                || s.delegated()
                    .is_some_and(|d| matches!(&d.host, Host::Dns(h) if in_zone(h)))
        })
}

fn check_federation_pair(
    index: &ZoneIndex<'_>,
    declared: &Declared,
    pair: &FederationPair<'_>,
    out: &mut Vec<Finding>,
) {
    let base = display_name(&pair.base);
    let fed_owner = owner_text(MATRIX_FED_SERVICE, &pair.base);
    let legacy_owner = owner_text(MATRIX_LEGACY_SERVICE, &pair.base);
    let place = Some(&pair.place);

    // SRV003: is X a server name or a delegated host?
    let server = declared.server(&pair.base);
    let delegating: Vec<&DeclaredServer> = declared.delegating_to(&pair.base).collect();
    if server.is_none()
        && delegating.is_empty()
        && !implicit_server_names(index, declared, &pair.base)
    {
        let names: Vec<&str> = declared.servers.iter().map(|s| s.text.as_str()).collect();
        out.push(
            Finding::new(
                Rule::Srv003,
                &base,
                format!(
                    "federation SRV records at {base}, but {base} is not a server name ({}) nor the `m.server` of one: no homeserver queries them",
                    names.join(", ")
                ),
            )
            .at(place),
        );
    }

    // SRV004 / SRV005 / SRV006: the two RRsets.
    match (pair.fed.is_empty(), pair.legacy.is_empty()) {
        (true, false) => out.push(
            Finding::new(Rule::Srv004, &base, format!("only the deprecated {legacy_owner} exists; homeservers that dropped it will not find {base}"))
                .at(Some(pair.legacy[0].place()))
                .fix(format!("Publish the same records at {fed_owner} too.")),
        ),
        (false, true) => out.push(
            Finding::new(Rule::Srv005, &base, format!("only {fed_owner} exists; homeservers older than Matrix spec v1.8 query {legacy_owner} only"))
                .at(Some(pair.fed[0].place()))
                .fix(format!("Also publish {legacy_owner} with the same records (legacy_srv = true in [[matrix]]).")),
        ),
        (false, false) if !same_rrset(&pair.fed, &pair.legacy) => out.push(
            Finding::new(
                Rule::Srv006,
                &base,
                format!("{fed_owner} ({}) and {legacy_owner} ({}) differ: new and old homeservers reach different places", describe_rrset(&pair.fed), describe_rrset(&pair.legacy)),
            )
            .at(Some(pair.legacy[0].place())),
        ),
        _ => {}
    }

    // SRV026: SRV at S while S's .well-known is declared.
    if let Some(delegated) = server.and_then(DeclaredServer::delegated) {
        out.push(
            Finding::new(
                Rule::Srv026,
                &base,
                format!("{base} declares a .well-known delegation to {delegated}; peers use it and look at the SRV records at {base} only when .well-known fails, and then require a certificate for {base}"),
            )
            .at(place),
        );
    }

    // SRV029 / SRV030: wildcards and CNAMEs at the owners.
    for (service, records) in [
        (MATRIX_FED_SERVICE, &pair.fed),
        (MATRIX_LEGACY_SERVICE, &pair.legacy),
    ] {
        let Some(owner) = Name::from_labels([service.as_bytes(), b"_tcp".as_slice()])
            .ok()
            .and_then(|p| p.append_domain(&pair.base).ok())
        else {
            continue;
        };
        // Empty, or filled by the wildcard (add_wildcard_answers).
        let from_wildcard = records.iter().all(|r| r.sourced.name().is_wildcard());
        if from_wildcard && let Some(wildcard) = index.wildcard_for(&owner) {
            out.push(wildcard_finding(index, &owner, &wildcard));
        }
        if let Some(cname) = index.records(&owner, RecordType::CNAME).first()
            && !records.is_empty()
        {
            out.push(
                Finding::new(Rule::Srv030, display_name(&owner), format!("{} has a CNAME beside its SRV records (RFC 1034 3.6.2 forbids other data at a CNAME)", display_name(&owner)))
                    .at(Some(&cname.place)),
            );
        }
    }

    // Per-RRset and per-record rules; when both RRsets are the same, once.
    let both_same = !pair.fed.is_empty() && same_rrset(&pair.fed, &pair.legacy);
    let mut rrsets: Vec<(String, &[SrvRecord<'_>])> = Vec::new();
    if !pair.fed.is_empty() {
        let label = if both_same {
            format!("{fed_owner} (and {legacy_owner})")
        } else {
            fed_owner.clone()
        };
        rrsets.push((label, &pair.fed));
    }
    if !pair.legacy.is_empty() && !both_same {
        rrsets.push((legacy_owner.clone(), &pair.legacy));
    }
    for (label, records) in rrsets {
        check_rrset(&label, &pair.base, records, declared, out);
        for record in records {
            check_target(index, &label, record, out);
        }
    }
}

fn describe_rrset(records: &[SrvRecord<'_>]) -> String {
    records
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r.srv.priority,
                r.srv.weight,
                r.srv.port,
                display_target(&r.srv.target)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn display_target(name: &Name) -> String {
    if name.is_root() {
        ".".into()
    } else {
        display_name(name)
    }
}

fn wildcard_finding(index: &ZoneIndex<'_>, owner: &Name, wildcard: &Name) -> Finding {
    let types: Vec<String> = {
        let mut t: Vec<String> = index
            .at(wildcard)
            .map(|r| r.record_type().to_string())
            .collect();
        t.sort();
        t.dedup();
        t
    };
    let effect = if types.iter().any(|t| t == "SRV" || t == "CNAME") {
        format!(
            "its {} data answers SRV lookups for that name",
            types.join("/")
        )
    } else {
        "SRV lookups for that name depend on wildcard synthesis".to_owned()
    };
    let place = index.at(wildcard).next().map(|r| &r.place);
    Finding::new(
        Rule::Srv029,
        display_name(owner),
        format!(
            "{} does not exist, so the wildcard {} covers it: {effect}",
            display_name(owner),
            display_name(wildcard)
        ),
    )
    .at(place)
}

/// SRV010-SRV013, SRV021-SRV025 on one RRset.
fn check_rrset(
    label: &str,
    base: &Name,
    records: &[SrvRecord<'_>],
    declared: &Declared,
    out: &mut Vec<Finding>,
) {
    let base_text = display_name(base);
    let roots = records.iter().filter(|r| r.target_is_root()).count();
    if roots > 0 && records.len() > 1 {
        let at = records
            .iter()
            .find(|r| r.target_is_root())
            .map(|r| r.place());
        out.push(
            Finding::new(
                Rule::Srv010,
                &base_text,
                format!(
                    "{label} mixes target \".\" (service not available) with {} other record(s)",
                    records.len() - roots
                ),
            )
            .at(at),
        );
    } else if roots == 1 {
        out.push(
            Finding::new(Rule::Srv011, &base_text, format!("{label} has a single record with target \".\": federation with {base_text} is explicitly switched off"))
                .at(Some(records[0].place())),
        );
    }
    let live: Vec<&SrvRecord<'_>> = records.iter().filter(|r| !r.target_is_root()).collect();
    if live.len() > 1 {
        out.push(
            Finding::new(Rule::Srv021, &base_text, format!("{label} has {} records ({}); the Conduit family uses only the first one of the DNS answer", live.len(), describe_rrset(records)))
                .at(Some(live[0].place())),
        );
    }
    // SRV022: weight 0 beside positive weights at one priority.
    let mut by_priority: BTreeMap<u16, Vec<u16>> = BTreeMap::new();
    for r in &live {
        by_priority
            .entry(r.srv.priority)
            .or_default()
            .push(r.srv.weight);
    }
    for (priority, weights) in &by_priority {
        if weights.contains(&0) && weights.iter().any(|w| *w > 0) {
            let at = live
                .iter()
                .find(|r| r.srv.priority == *priority && r.srv.weight == 0)
                .map(|r| r.place());
            out.push(Finding::new(Rule::Srv022, &base_text, format!("{label}: at priority {priority} a record with weight 0 sits beside records with positive weights; it is almost never chosen (RFC 2782)")).at(at));
        }
    }
    // SRV023: the same target:port twice.
    let mut seen: HashMap<(String, u16), &SrvRecord<'_>> = HashMap::new();
    for r in &live {
        let key = (r.srv.target.to_lowercase().to_string(), r.srv.port);
        if let Some(first) = seen.get(&key) {
            out.push(
                Finding::new(
                    Rule::Srv023,
                    &base_text,
                    format!(
                        "{label} lists {}:{} twice (also at {})",
                        display_target(&r.srv.target),
                        r.srv.port,
                        first.place()
                    ),
                )
                .at(Some(r.place())),
            );
        } else {
            seen.insert(key, r);
        }
    }
    if let Some(r) = records
        .iter()
        .find(|r| !SRV_TTL_RANGE.contains(&r.sourced.ttl()))
    {
        let ttl = r.sourced.ttl();
        let why = if ttl < *SRV_TTL_RANGE.start() {
            "peers look it up again on almost every request"
        } else {
            "a change of target takes more than a day to reach peers"
        };
        out.push(
            Finding::new(
                Rule::Srv024,
                &base_text,
                format!("{label} has TTL {ttl} s: {why}"),
            )
            .at(Some(r.place())),
        );
    }
    for r in records {
        check_record(label, base, r, declared, out);
    }
}

/// SRV012, SRV013, SRV025 on one record.
fn check_record(
    label: &str,
    base: &Name,
    r: &SrvRecord<'_>,
    declared: &Declared,
    out: &mut Vec<Finding>,
) {
    if r.target_is_root() {
        return;
    }
    let base_text = display_name(base);
    let target = display_target(&r.srv.target);
    let port = r.srv.port;
    if port == 0 {
        out.push(
            Finding::new(
                Rule::Srv012,
                &base_text,
                format!("{label} points at {target} port 0, where nothing can listen"),
            )
            .at(Some(r.place())),
        );
        return;
    }
    if port != 443 && port != 8448 {
        out.push(Finding::new(Rule::Srv013, &base_text, format!("{label} points at {target}:{port}, not the usual 8448 or 443; make sure peers can reach that port")).at(Some(r.place())));
    }
    if !same_name(&r.srv.target, base) {
        out.push(srv025(label, base, declared, &r.srv.target, port).at(Some(r.place())));
    }
}

/// The SRV025 finding for an SRV RRset at `base` pointing at `target:port`,
/// with the two compliant layouts as the fix.
pub fn srv025(label: &str, base: &Name, declared: &Declared, target: &Name, port: u16) -> Finding {
    let s = display_name(base);
    let t = display_name(target);
    let role = if declared.is_delegated_host(base) && !declared.is_server_name(base) {
        "the delegated host"
    } else {
        "the server name"
    };
    Finding::new(
        Rule::Srv025,
        &s,
        format!(
            "{label} sends peers to {t}:{port}; they connect there with SNI {s} and Host: {s}, so the certificate served at {t}:{port} must be valid for {s} ({role}), not just for {t}"
        ),
    )
    .why(format!(
        "Peers connect to the SRV target but check the certificate against {s}. A certificate for {t} alone fails: Synapse logs DNSMismatch(... hostname=b'{s}'), Go-based servers `x509: certificate is valid for {t}, not {s}`; a reverse proxy routing by name answers 404, 421 or a TLS alert for SNI {s}."
    ))
    .fix(format!(
        "Pick one of the two compliant layouts:\n\
         1. SRV only: keep `_matrix-fed._tcp.{s}. SRV 10 0 {port} {t}.` and serve, on {t}:{port}, a certificate for {s} (it may list {t} too), accepting SNI and Host {s}.\n\
         2. .well-known: serve {{\"m.server\": \"{t}:{port}\"}} at https://{s}/.well-known/matrix/server and a certificate for {t} on {t}:{port} (or drop the port and move the SRV records to _matrix-fed._tcp.{t}).\n\
         Check the certificate with: fedns check --cert {t}=chain.pem"
    ))
}

/// SRV014-SRV020 on the target of one record.
fn check_target(index: &ZoneIndex<'_>, label: &str, r: &SrvRecord<'_>, out: &mut Vec<Finding>) {
    if r.target_is_root() {
        return;
    }
    let target = &r.srv.target;
    let t = display_name(target);
    let place = Some(r.place());
    if let Some(problem) = not_a_host_name(target) {
        out.push(
            Finding::new(
                Rule::Srv017,
                &t,
                format!("the target {t} of {label} {problem}"),
            )
            .at(place),
        );
        return;
    }
    let zone_origin = index.zone_of(&r.sourced.name()).map(|z| z.origin.clone());
    if let Some(origin) = zone_origin.as_ref()
        && let Some(meant) = forgotten_trailing_dot(target, origin)
    {
        out.push(
            Finding::new(Rule::Srv018, &t, format!("the target {t} of {label} repeats the origin {}: a forgotten trailing dot? (probably meant {})", display_name(origin), display_name(&meant)))
                .at(place)
                .fix(format!("Write the target as `{}.` (with the dot) or relative to the origin.", display_name(&meant))),
        );
        return;
    }
    if index.zone_of(target).is_none() || index.is_delegated(target) {
        out.push(Finding::new(Rule::Srv016, &t, format!("the target {t} of {label} is outside the zones checked; its addresses and certificate can only be checked live (--probe)")).at(place));
        return;
    }
    if let Some(cname) = index.records(target, RecordType::CNAME).first() {
        let alias_of = match &cname.data() {
            RData::CNAME(c) => display_name(&c.0),
            _ => "?".into(),
        };
        out.push(
            Finding::new(Rule::Srv014, &t, format!("the target {t} of {label} is a CNAME (to {alias_of}, at {}); RFC 2782 requires the canonical name", cname.place))
                .at(place)
                .fix(format!("Point the SRV record at {alias_of} instead, or give {t} its own A/AAAA records.")),
        );
        return;
    }
    let addresses = index.addresses(target);
    if addresses.is_empty() {
        out.push(Finding::new(Rule::Srv015, &t, format!("the target {t} of {label} has no A or AAAA record in its zone: peers cannot connect")).at(place));
        return;
    }
    if addresses.iter().all(|a| is_blocked_address(*a)) {
        let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        out.push(
            Finding::new(Rule::Srv019, &t, format!("the target {t} of {label} has only private or reserved addresses ({}); Synapse blocks them by default and internet peers cannot route them", list.join(", ")))
                .at(place),
        );
    }
    let v4 = addresses.iter().any(IpAddr::is_ipv4);
    let v6 = addresses.iter().any(IpAddr::is_ipv6);
    if v4 != v6 {
        let (has, lacks) = if v4 {
            ("IPv4 (A)", "AAAA")
        } else {
            ("IPv6 (AAAA)", "A")
        };
        out.push(
            Finding::new(
                Rule::Srv020,
                &t,
                format!("the target {t} of {label} has only {has} addresses, no {lacks} record"),
            )
            .at(place),
        );
    }
}

/// Why `name` is not a host name an SRV target may be, if it is not.
pub fn not_a_host_name(name: &Name) -> Option<String> {
    let labels: Vec<&[u8]> = name.iter().collect();
    if labels.len() >= 4
        && labels
            .iter()
            .take(4)
            .all(|l| !l.is_empty() && l.len() <= 3 && l.iter().all(u8::is_ascii_digit))
    {
        let ip: Vec<String> = labels
            .iter()
            .take(4)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        return Some(format!(
            "is an IP address ({}) written as a name; SRV targets must be host names with A/AAAA records",
            ip.join(".")
        ));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-');
        if !ok {
            return Some(format!(
                "has the label {:?}, which is not a host name label (letters, digits, inner hyphens; RFC 952, RFC 1123)",
                String::from_utf8_lossy(label)
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.iter().all(u8::is_ascii_digit))
    {
        return Some("ends in an all-numeric label, which no top-level domain is".into());
    }
    None
}

/// If `target` looks like a relative name written without its trailing dot
/// (`x.example.org.example.org.`, or `x.example.net.example.org.` where the
/// part before the origin ends in the origin's top-level label), the name
/// probably meant.
pub fn forgotten_trailing_dot(target: &Name, origin: &Name) -> Option<Name> {
    let origin_labels = label_count(origin);
    let target_labels = label_count(target);
    if origin_labels == 0 || target_labels <= origin_labels || !origin.zone_of(target) {
        return None;
    }
    let before = target_labels - origin_labels;
    let meant = Name::from_labels(target.iter().take(before))
        .ok()?
        .append_domain(&Name::root())
        .ok()?;
    let tld = origin.iter().next_back()?;
    let meant_tld = String::from_utf8_lossy(meant.iter().next_back()?).to_ascii_lowercase();
    let repeats = origin.zone_of(&meant) && label_count(&meant) >= origin_labels;
    let ends_in_tld =
        meant_tld.as_bytes().eq_ignore_ascii_case(tld) || COMMON_TLDS.contains(&meant_tld.as_str());
    (repeats || (before >= 2 && ends_in_tld)).then_some(meant)
}

/// Top-level domains common enough that `x.<tld>.<origin>` is surely a
/// forgotten trailing dot.
const COMMON_TLDS: &[&str] = &[
    "com", "net", "org", "io", "dev", "app", "info", "me", "eu", "de", "uk", "fr", "nl", "be",
    "ch", "at", "se", "no", "fi", "dk", "pl", "cz", "it", "es", "pt", "ca", "us", "au", "jp", "im",
    "chat", "social", "xyz",
];

/// Whether `ip` is in Synapse's default `ip_range_blacklist` (private,
/// loopback, link-local, CGNAT, documentation and other reserved ranges).
pub fn is_blocked_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 0 && c == 2)
                || (a == 192 && b == 88 && c == 99)
                || (a == 198 && (b == 18 || b == 19))
                || (a == 198 && b == 51 && c == 100)
                || (a == 203 && b == 0 && c == 113)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_blocked_address(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xff00) == 0xff00
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// SRV027, SRV028, SRV031 and the offline WK003 for one declared server name.
fn check_server(index: &ZoneIndex<'_>, server: &DeclaredServer, out: &mut Vec<Finding>) {
    let s = server.text.clone();
    let place = server.place.as_ref();
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        out.push(
            Finding::new(Rule::Srv031, &s, format!("the server name {s} has upper-case letters; Matrix compares server names byte for byte (user IDs, signatures, key responses)"))
                .at(place)
                .fix(format!("Use {} everywhere.", s.to_ascii_lowercase())),
        );
    }
    if let Some(wk) = &server.well_known {
        match &wk.parsed {
            Err(e) => out.push(well_known_invalid(&s, wk.raw.as_str(), e).at(wk.place.as_ref())),
            Ok(delegated) => {
                if let (Host::Dns(d), Some(port)) = (&delegated.host, delegated.port) {
                    let srv_at_d =
                        [MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE]
                            .iter()
                            .find_map(|service| {
                                let owner =
                                    Name::from_labels([service.as_bytes(), b"_tcp".as_slice()])
                                        .ok()?
                                        .append_domain(d)
                                        .ok()?;
                                index
                                    .records(&owner, RecordType::SRV)
                                    .first()
                                    .map(|r| (owner, r.place.clone()))
                            });
                    if let Some((owner, srv_place)) = srv_at_d {
                        out.push(
                            Finding::new(
                                Rule::Srv027,
                                display_name(d),
                                format!("the .well-known of {s} says m.server {delegated} with port {port}, so peers connect to {}:{port} directly and never query {} (at {srv_place})", display_name(d), display_name(&owner)),
                            )
                            .at(wk.place.as_ref()),
                        );
                    }
                }
            }
        }
    }
    // SRV028: only for server names inside the zones checked.
    let Some(name) = server.dns_name() else {
        return;
    };
    if server.well_known.is_some()
        || server.address.port.is_some()
        || index.zone_of(name).is_none()
        || index.is_delegated(name)
    {
        return;
    }
    let has_srv = [MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE]
        .iter()
        .any(|service| {
            Name::from_labels([service.as_bytes(), b"_tcp".as_slice()])
                .ok()
                .and_then(|p| p.append_domain(name).ok())
                .is_some_and(|owner| {
                    !index.records(&owner, RecordType::SRV).is_empty()
                        || index.wildcard_for(&owner).is_some()
                })
        });
    let has_address =
        !index.addresses(name).is_empty() || !index.records(name, RecordType::CNAME).is_empty();
    if !has_srv && !has_address {
        out.push(
            Finding::new(Rule::Srv028, &s, format!("nothing tells peers where {s} is: no .well-known declared, no federation SRV records and no A/AAAA at {s}"))
                .at(place)
                .fix(format!("Add a [[matrix]] section with a target for {s}, declare the .well-known you serve for it (well_known = \"host:port\" or --well-known), or give {s} A/AAAA records with the homeserver on port 8448.")),
        );
    }
}

/// The WK003 finding for an invalid declared `.well-known`.
pub fn well_known_invalid(server: &str, raw: &str, error: &WellKnownError) -> Finding {
    let shown: String = raw.chars().take(80).collect();
    Finding::new(
        Rule::Wk003,
        server,
        format!(
            "the .well-known declared for {server} ({shown:?}) is invalid: {error}; peers fall back to SRV at {server}, then {server}:8448"
        ),
    )
}

/// SRV002: other Matrix services at a name with no federation SRV.
fn check_other_services(declared: &Declared, owners: &Owners<'_>, out: &mut Vec<Finding>) {
    for (base, service, place) in &owners.other {
        let key = display_name(&base.to_lowercase());
        if owners.federation.contains_key(&key) {
            continue;
        }
        if declared
            .server(base)
            .is_some_and(|s| s.well_known.is_some())
        {
            continue;
        }
        let b = display_name(base);
        out.push(
            Finding::new(Rule::Srv002, &b, format!("{service}._tcp.{b} exists but there is no _matrix-fed._tcp.{b} or _matrix._tcp.{b}: the {service} service does not tell homeservers where federation is"))
                .at(Some(place)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME};

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    /// A zone for example.org. from (owner, RDATA) pairs, each on its own
    /// line, and an apex SOA after them (the engine answers only zones that
    /// have one).
    fn zone(records: Vec<(&str, RData)>) -> Zone {
        let file: Arc<str> = Arc::from("t.toml");
        let soa = RData::SOA(hickory_proto::rr::rdata::SOA::new(
            name("ns.example.org."),
            name("hostmaster.example.org."),
            1,
            3600,
            600,
            86400,
            300,
        ));
        let count = records.len();
        Zone {
            origin: name("example.org."),
            records: records
                .into_iter()
                .chain(std::iter::once(("example.org.", soa)))
                .enumerate()
                .map(|(i, (owner, data))| {
                    let line = if i == count { 999 } else { i as u32 + 1 };
                    let record = Record::from_rdata(name(owner), 3600, data);
                    SourcedRecord::new(&record, Place::new(&file, line, 1)).unwrap()
                })
                .collect(),
            matrix: Vec::new(),
            source: None,
        }
    }

    fn srv(p: u16, w: u16, port: u16, target: &str) -> RData {
        RData::SRV(SRV::new(p, w, port, name(target)))
    }

    fn a(ip: &str) -> RData {
        RData::A(A(ip.parse().unwrap()))
    }

    fn aaaa(ip: &str) -> RData {
        RData::AAAA(AAAA(ip.parse().unwrap()))
    }

    fn rules(z: &Zone, declared: &Declared) -> Vec<Rule> {
        let mut r: Vec<Rule> = srv_findings(&[z], declared)
            .iter()
            .map(|f| f.rule)
            .collect();
        r.sort();
        r.dedup();
        r
    }

    fn server(s: &str) -> Declared {
        let mut d = Declared::default();
        d.add_server_name(s).unwrap();
        d
    }

    /// A clean delegation: both RRsets, one target with public v4 and v6.
    fn good() -> Vec<(&'static str, RData)> {
        vec![
            (
                "_matrix-fed._tcp.example.org.",
                srv(10, 0, 8448, "example.org."),
            ),
            (
                "_matrix._tcp.example.org.",
                srv(10, 0, 8448, "example.org."),
            ),
            ("example.org.", a("8.8.8.8")),
            ("example.org.", aaaa("2606:4700::1")),
        ]
    }

    #[test]
    fn a_clean_delegation_has_no_findings() {
        assert_eq!(rules(&zone(good()), &server("example.org")), vec![]);
    }

    #[test]
    fn classifies_owner_names() {
        assert_eq!(
            classify_owner(&name("_matrix-fed._tcp.example.org.")),
            ServiceOwner::Federation {
                legacy: false,
                base: name("example.org.")
            }
        );
        assert_eq!(
            classify_owner(&name("_Matrix._TCP.example.org.")),
            ServiceOwner::Federation {
                legacy: true,
                base: name("example.org.")
            }
        );
        for bad in [
            "_matrix_fed._tcp.example.org.",
            "_matrixfed._tcp.example.org.",
            "_matrix-federation._tcp.example.org.",
            "_matrix-fed._udp.example.org.",
            "_matrix-fed.example.org.",
            "matrix-fed._tcp.example.org.",
        ] {
            match classify_owner(&name(bad)) {
                ServiceOwner::Misspelt { meant, .. } => {
                    assert_eq!(meant, Some(name("_matrix-fed._tcp.example.org.")), "{bad}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            classify_owner(&name("_matrix-identity._tcp.example.org.")),
            ServiceOwner::Other { .. }
        ));
        for fine in [
            "matrix.example.org.",
            "_xmpp-server._tcp.example.org.",
            "example.org.",
            "_tcp.example.org.",
        ] {
            assert_eq!(
                classify_owner(&name(fine)),
                ServiceOwner::NotMatrix,
                "{fine}"
            );
        }
    }

    #[test]
    fn srv001_misspelt_owner() {
        let mut z = good();
        z.push((
            "_matrix_fed._tcp.example.org.",
            srv(10, 0, 8448, "example.org."),
        ));
        let f = srv_findings(&[&zone(z)], &server("example.org"));
        let hit = f.iter().find(|f| f.rule == Rule::Srv001).expect("SRV001");
        assert!(
            hit.message
                .contains("did you mean _matrix-fed._tcp.example.org"),
            "{}",
            hit.message
        );
        assert_eq!(hit.place.as_ref().map(|p| p.line), Some(5));
    }

    #[test]
    fn srv002_identity_service_without_federation() {
        let z = zone(vec![
            (
                "_matrix-identity._tcp.example.org.",
                srv(10, 0, 443, "example.org."),
            ),
            ("example.org.", a("8.8.8.8")),
        ]);
        assert!(rules(&z, &server("example.org")).contains(&Rule::Srv002));
        let mut near = good();
        near.push((
            "_matrix-identity._tcp.example.org.",
            srv(10, 0, 443, "example.org."),
        ));
        assert!(!rules(&zone(near), &server("example.org")).contains(&Rule::Srv002));
    }

    #[test]
    fn srv003_srv_at_a_name_that_is_not_a_server_name() {
        let mut z = good();
        z.push((
            "_matrix-fed._tcp.matrix.example.org.",
            srv(10, 0, 8448, "example.org."),
        ));
        z.push((
            "_matrix._tcp.matrix.example.org.",
            srv(10, 0, 8448, "example.org."),
        ));
        assert!(rules(&zone(z.clone()), &server("example.org")).contains(&Rule::Srv003));
        // Near misses: a delegated host, or no server name declared at all.
        let mut d = server("example.org");
        d.set_well_known("example.org", r#"{"m.server": "matrix.example.org"}"#)
            .unwrap();
        assert!(!rules(&zone(z.clone()), &d).contains(&Rule::Srv003));
        assert!(!rules(&zone(z), &Declared::default()).contains(&Rule::Srv003));
    }

    #[test]
    fn srv004_005_006_the_two_rrsets() {
        let legacy_only = zone(vec![
            (
                "_matrix._tcp.example.org.",
                srv(10, 0, 8448, "example.org."),
            ),
            ("example.org.", a("8.8.8.8")),
            ("example.org.", aaaa("2606:4700::1")),
        ]);
        assert_eq!(
            rules(&legacy_only, &server("example.org")),
            vec![Rule::Srv004]
        );
        let fed_only = zone(vec![
            (
                "_matrix-fed._tcp.example.org.",
                srv(10, 0, 8448, "example.org."),
            ),
            ("example.org.", a("8.8.8.8")),
            ("example.org.", aaaa("2606:4700::1")),
        ]);
        assert_eq!(rules(&fed_only, &server("example.org")), vec![Rule::Srv005]);
        let mut differ = good();
        differ[1] = ("_matrix._tcp.example.org.", srv(10, 0, 443, "example.org."));
        assert!(rules(&zone(differ), &server("example.org")).contains(&Rule::Srv006));
        // Near miss: same records, different case and order.
        let mut same = good();
        same[1] = (
            "_matrix._tcp.example.org.",
            srv(10, 0, 8448, "EXAMPLE.org."),
        );
        assert!(!rules(&zone(same), &server("example.org")).contains(&Rule::Srv006));
    }

    #[test]
    fn srv010_011_target_root() {
        let mut mixed = good();
        mixed.push(("_matrix-fed._tcp.example.org.", srv(0, 0, 0, ".")));
        assert!(rules(&zone(mixed), &server("example.org")).contains(&Rule::Srv010));
        let off = zone(vec![
            ("_matrix-fed._tcp.example.org.", srv(0, 0, 0, ".")),
            ("_matrix._tcp.example.org.", srv(0, 0, 0, ".")),
        ]);
        let r = rules(&off, &server("example.org"));
        assert!(
            r.contains(&Rule::Srv011) && !r.contains(&Rule::Srv010) && !r.contains(&Rule::Srv012),
            "{r:?}"
        );
    }

    #[test]
    fn srv012_013_ports() {
        let mut z = good();
        z[0] = (
            "_matrix-fed._tcp.example.org.",
            srv(10, 0, 0, "example.org."),
        );
        assert!(rules(&zone(z), &server("example.org")).contains(&Rule::Srv012));
        let mut z = good();
        z[0] = (
            "_matrix-fed._tcp.example.org.",
            srv(10, 0, 8008, "example.org."),
        );
        assert!(rules(&zone(z), &server("example.org")).contains(&Rule::Srv013));
        let mut near = good();
        near[0] = (
            "_matrix-fed._tcp.example.org.",
            srv(10, 0, 443, "example.org."),
        );
        near[1] = ("_matrix._tcp.example.org.", srv(10, 0, 443, "example.org."));
        assert!(!rules(&zone(near), &server("example.org")).contains(&Rule::Srv013));
    }

    fn with_target(target: &str, extra: Vec<(&'static str, RData)>) -> Vec<Rule> {
        let t: &'static str = Box::leak(target.to_owned().into_boxed_str());
        let mut z = vec![
            ("_matrix-fed._tcp.example.org.", srv(10, 0, 8448, t)),
            ("_matrix._tcp.example.org.", srv(10, 0, 8448, t)),
        ];
        z.extend(extra);
        rules(&zone(z), &server("example.org"))
    }

    #[test]
    fn srv014_cname_target() {
        let r = with_target(
            "matrix.example.org.",
            vec![
                (
                    "matrix.example.org.",
                    RData::CNAME(CNAME(name("synapse.example.org."))),
                ),
                ("synapse.example.org.", a("8.8.8.8")),
            ],
        );
        assert!(r.contains(&Rule::Srv014));
        let r = with_target(
            "synapse.example.org.",
            vec![
                (
                    "matrix.example.org.",
                    RData::CNAME(CNAME(name("synapse.example.org."))),
                ),
                ("synapse.example.org.", a("8.8.8.8")),
            ],
        );
        assert!(!r.contains(&Rule::Srv014));
    }

    #[test]
    fn srv015_016_addresses() {
        assert!(with_target("synapse.example.org.", vec![]).contains(&Rule::Srv015));
        assert!(
            !with_target(
                "synapse.example.org.",
                vec![("synapse.example.org.", a("8.8.8.8"))]
            )
            .contains(&Rule::Srv015)
        );
        // A wildcard with an address synthesises one: no SRV015.
        assert!(
            !with_target(
                "synapse.example.org.",
                vec![("*.example.org.", a("8.8.8.8"))]
            )
            .contains(&Rule::Srv015)
        );
        let out = with_target("matrix.example.net.", vec![]);
        assert!(out.contains(&Rule::Srv016) && !out.contains(&Rule::Srv015));
        // Below a zone cut: delegated away, so outside.
        let cut = with_target(
            "synapse.sub.example.org.",
            vec![(
                "sub.example.org.",
                RData::NS(hickory_proto::rr::rdata::NS(name("ns.other.net."))),
            )],
        );
        assert!(cut.contains(&Rule::Srv016));
    }

    #[test]
    fn srv017_not_a_host_name() {
        assert!(with_target("192.0.2.10.", vec![]).contains(&Rule::Srv017));
        assert!(with_target("_matrix.example.org.", vec![]).contains(&Rule::Srv017));
        assert!(
            !with_target("s-1.example.org.", vec![("s-1.example.org.", a("8.8.8.8"))])
                .contains(&Rule::Srv017)
        );
        let leading_hyphen = Name::from_labels([b"-a".as_slice(), b"example", b"org"]);
        if let Ok(n) = leading_hyphen {
            assert!(not_a_host_name(&n).is_some());
        }
        assert!(not_a_host_name(&name("a.123.")).is_some());
        assert!(not_a_host_name(&name("1a.example.org.")).is_none());
    }

    #[test]
    fn srv018_forgotten_trailing_dot() {
        assert!(with_target("synapse.example.org.example.org.", vec![]).contains(&Rule::Srv018));
        let origin = name("example.org.");
        assert_eq!(
            forgotten_trailing_dot(&name("matrix.example.net.example.org."), &origin),
            Some(name("matrix.example.net."))
        );
        assert_eq!(
            forgotten_trailing_dot(&name("synapse.example.org."), &origin),
            None
        );
        assert_eq!(
            forgotten_trailing_dot(&name("a.b.example.org."), &origin),
            None
        );
    }

    #[test]
    fn srv019_020_address_kinds() {
        assert!(
            with_target(
                "s.example.org.",
                vec![
                    ("s.example.org.", a("10.0.0.5")),
                    ("s.example.org.", aaaa("fd00::5"))
                ]
            )
            .contains(&Rule::Srv019)
        );
        assert!(
            !with_target(
                "s.example.org.",
                vec![
                    ("s.example.org.", a("10.0.0.5")),
                    ("s.example.org.", aaaa("2606:4700::1"))
                ]
            )
            .contains(&Rule::Srv019)
        );
        assert!(
            with_target("s.example.org.", vec![("s.example.org.", a("8.8.8.8"))])
                .contains(&Rule::Srv020)
        );
        assert!(
            !with_target(
                "s.example.org.",
                vec![
                    ("s.example.org.", a("8.8.8.8")),
                    ("s.example.org.", aaaa("2606:4700::1"))
                ]
            )
            .contains(&Rule::Srv020)
        );
        for blocked in [
            "127.0.0.1",
            "192.168.1.1",
            "172.20.0.1",
            "100.64.0.1",
            "169.254.1.1",
            "203.0.113.5",
            "::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_blocked_address(blocked.parse().unwrap()), "{blocked}");
        }
        for public in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1"] {
            assert!(!is_blocked_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn srv021_022_023_several_records() {
        let mut z = good();
        z.push((
            "_matrix-fed._tcp.example.org.",
            srv(10, 5, 8448, "example.org."),
        ));
        let r = rules(&zone(z.clone()), &server("example.org"));
        assert!(
            r.contains(&Rule::Srv021) && r.contains(&Rule::Srv022) && r.contains(&Rule::Srv023),
            "{r:?}"
        );
        // Near miss: different priorities, different targets.
        let mut near = good();
        near.push((
            "_matrix-fed._tcp.example.org.",
            srv(20, 0, 443, "example.org."),
        ));
        let r = rules(&zone(near), &server("example.org"));
        assert!(
            r.contains(&Rule::Srv021) && !r.contains(&Rule::Srv022) && !r.contains(&Rule::Srv023),
            "{r:?}"
        );
        assert!(!rules(&zone(good()), &server("example.org")).contains(&Rule::Srv021));
    }

    #[test]
    fn srv024_ttl() {
        let mut z = zone(good());
        z.records[0].set_ttl(30);
        assert!(rules(&z, &server("example.org")).contains(&Rule::Srv024));
        z.records[0].set_ttl(60);
        assert!(!rules(&z, &server("example.org")).contains(&Rule::Srv024));
        z.records[0].set_ttl(86_401);
        assert!(rules(&z, &server("example.org")).contains(&Rule::Srv024));
    }

    #[test]
    fn srv025_names_server_target_and_port() {
        let f = srv_findings(
            &[&zone(vec![
                (
                    "_matrix-fed._tcp.example.org.",
                    srv(10, 0, 443, "synapse.example.org."),
                ),
                (
                    "_matrix._tcp.example.org.",
                    srv(10, 0, 443, "synapse.example.org."),
                ),
                ("synapse.example.org.", a("8.8.8.8")),
            ])],
            &server("example.org"),
        );
        let hits: Vec<&Finding> = f.iter().filter(|f| f.rule == Rule::Srv025).collect();
        assert_eq!(hits.len(), 1, "once for two identical RRsets: {f:?}");
        let m = &hits[0].message;
        assert!(
            m.contains("synapse.example.org:443")
                && m.contains("SNI example.org")
                && m.contains("must be valid for example.org"),
            "{m}"
        );
        let fix = hits[0].fix_text();
        assert!(
            fix.contains("1. SRV only")
                && fix.contains("2. .well-known")
                && fix.contains(r#""m.server": "synapse.example.org:443""#),
            "{fix}"
        );
        assert!(!rules(&zone(good()), &server("example.org")).contains(&Rule::Srv025));
    }

    #[test]
    fn srv026_027_well_known() {
        let mut d = server("example.org");
        d.set_well_known("example.org", r#"{"m.server": "matrix.example.org:443"}"#)
            .unwrap();
        let mut z = good();
        z.push((
            "_matrix-fed._tcp.matrix.example.org.",
            srv(10, 0, 443, "matrix.example.org."),
        ));
        let r = rules(&zone(z), &d);
        assert!(
            r.contains(&Rule::Srv026) && r.contains(&Rule::Srv027),
            "{r:?}"
        );
        let mut near = server("example.org");
        near.set_well_known("example.org", r#"{"m.server": "matrix.example.org"}"#)
            .unwrap();
        let r = rules(&zone(vec![("matrix.example.org.", a("8.8.8.8"))]), &near);
        assert!(
            !r.contains(&Rule::Srv026) && !r.contains(&Rule::Srv027),
            "{r:?}"
        );
    }

    #[test]
    fn srv028_nothing_points_anywhere() {
        assert!(
            rules(
                &zone(vec![("www.example.org.", a("8.8.8.8"))]),
                &server("example.org")
            )
            .contains(&Rule::Srv028)
        );
        assert!(
            !rules(
                &zone(vec![("example.org.", a("8.8.8.8"))]),
                &server("example.org")
            )
            .contains(&Rule::Srv028)
        );
        // Outside the zones checked: fedns cannot tell.
        assert!(!rules(&zone(vec![]), &server("example.net")).contains(&Rule::Srv028));
    }

    #[test]
    fn srv029_wildcard_covers_the_owner() {
        let z = zone(vec![
            (
                "_matrix-fed._tcp.example.org.",
                srv(10, 0, 8448, "example.org."),
            ),
            ("*._tcp.example.org.", srv(10, 0, 443, "web.example.org.")),
            ("example.org.", a("8.8.8.8")),
            ("example.org.", aaaa("2606:4700::1")),
        ]);
        let f = srv_findings(&[&z], &server("example.org"));
        let hit = f.iter().find(|f| f.rule == Rule::Srv029).expect("SRV029");
        assert!(
            hit.message.contains("_matrix._tcp.example.org")
                && hit.message.contains("*._tcp.example.org"),
            "{}",
            hit.message
        );
        // Near miss: both owners exist, so the wildcard covers neither.
        let mut near = good();
        near.push(("*._tcp.example.org.", srv(10, 0, 443, "example.org.")));
        assert!(!rules(&zone(near), &server("example.org")).contains(&Rule::Srv029));
    }

    #[test]
    fn srv030_cname_beside_srv() {
        let mut z = good();
        z.push((
            "_matrix-fed._tcp.example.org.",
            RData::CNAME(CNAME(name("other.example.net."))),
        ));
        assert!(rules(&zone(z), &server("example.org")).contains(&Rule::Srv030));
        let mut near = good();
        near.push((
            "_matrix-identity._tcp.example.org.",
            RData::CNAME(CNAME(name("other.example.net."))),
        ));
        assert!(!rules(&zone(near), &server("example.org")).contains(&Rule::Srv030));
    }

    #[test]
    fn srv031_upper_case_server_name() {
        assert!(rules(&zone(good()), &server("Example.org")).contains(&Rule::Srv031));
        assert!(!rules(&zone(good()), &server("example.org")).contains(&Rule::Srv031));
    }

    #[test]
    fn wk003_offline_on_a_declared_well_known() {
        let mut d = server("example.org");
        d.set_well_known("example.org", "<html>").unwrap();
        assert!(rules(&zone(good()), &d).contains(&Rule::Wk003));
    }
}
