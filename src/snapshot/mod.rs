//! Immutable, indexed zones: what the answer engine reads.
//!
//! A [`ZoneSnapshot`] is built once per load or transfer from a validated
//! [`Zone`] and never changes; a reload or transfer builds a new one and swaps
//! it in ([`ZoneSet`] behind an `ArcSwap` in the server). Every lookup the
//! engine needs is a hash probe on a [`NameKey`]: exact name, each ancestor
//! on the way to the closest encloser, zone cuts, the wildcard `*.<closest
//! encloser>`. Empty non-terminals are stored as nodes without RRsets, so
//! "does this name exist" (RFC 8020) is one probe and NXDOMAIN never scans.
//!
//! RRSIGs are kept with the RRset they cover, ready for DNSSEC answers.

pub mod denial;
pub mod history;
pub mod name_key;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::zone::{MatrixDelegation, Zone};
use history::ZoneHistory;
use name_key::label_offsets;
pub use name_key::{NameKey, name_key};

/// All the records of one owner name and type, with one TTL (RFC 2181 5.2).
#[derive(Clone, Debug)]
pub struct RRset {
    /// The type of every record in `records`.
    pub rtype: RecordType,
    /// The TTL of the set (the first record's, as Knot and BIND do when they differ).
    pub ttl: u32,
    /// The records, owner as written in the zone, TTL = `ttl`.
    pub records: Vec<Record>,
    /// The RRSIGs covering this set (empty in unsigned zones).
    pub rrsigs: Vec<Record>,
}

/// One name of the zone: its RRsets, or none for an empty non-terminal.
#[derive(Clone, Debug)]
pub struct Node {
    /// The owner name, as first written in the zone.
    pub name: Name,
    /// RRsets sorted by type code; empty for an empty non-terminal.
    pub rrsets: Vec<RRset>,
    /// True when this name is a zone cut: it has NS records and is not the apex.
    pub is_zone_cut: bool,
}

impl Node {
    /// The RRset of type `rtype` at this name.
    pub fn rrset(&self, rtype: RecordType) -> Option<&RRset> {
        self.rrsets
            .binary_search_by_key(&u16::from(rtype), |s| u16::from(s.rtype))
            .ok()
            .map(|i| &self.rrsets[i])
    }

    /// True for an empty non-terminal (a name that exists only because names below it do).
    pub fn is_empty_non_terminal(&self) -> bool {
        self.rrsets.is_empty()
    }
}

/// One zone, indexed for answering. Immutable once built.
#[derive(Debug)]
pub struct ZoneSnapshot {
    origin: Name,
    origin_key: NameKey,
    serial: u32,
    soa: SOA,
    nodes: HashMap<NameKey, Node>,
    record_count: usize,
    matrix: Vec<MatrixDelegation>,
    source: Option<PathBuf>,
    history: ZoneHistory,
    nsec: denial::NsecChain,
    nsec3: Option<denial::Nsec3Chain>,
    signed: bool,
}

impl ZoneSnapshot {
    /// Indexes a validated zone. Fails only if the zone has no SOA at its apex
    /// (which [`crate::zone::validate::validate_zone`] rules out).
    pub fn build(zone: Zone) -> Result<ZoneSnapshot, String> {
        let origin_key = name_key(&zone.origin);
        let mut nodes: HashMap<NameKey, Node> = HashMap::new();
        // NSEC3 records and their signatures live apart from the name tree:
        // their owners are hashes, not names of the zone (RFC 5155 7.2.8).
        let mut nsec3_nodes: HashMap<NameKey, Node> = HashMap::new();
        let mut rrsigs: Vec<Record> = Vec::new();
        let record_count = zone.records.len();
        for sourced in zone.records {
            let record = sourced.record;
            match &record.data {
                RData::DNSSEC(DNSSECRData::RRSIG(_)) => rrsigs.push(record),
                RData::DNSSEC(DNSSECRData::NSEC3(_)) => {
                    add_to_rrset(node_entry(&mut nsec3_nodes, &record.name), record)
                }
                _ => add_to_rrset(node_entry(&mut nodes, &record.name), record),
            }
        }
        for sig in rrsigs {
            let covered = match &sig.data {
                RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => rrsig.input().type_covered,
                _ => continue,
            };
            let tree = if covered == RecordType::NSEC3 {
                &mut nsec3_nodes
            } else {
                &mut nodes
            };
            let node = node_entry(tree, &sig.name);
            match node.rrsets.iter_mut().find(|s| s.rtype == covered) {
                Some(set) => set.rrsigs.push(sig),
                // A signature without its RRset is still zone data (served on RRSIG queries).
                None => add_to_rrset(node, sig),
            }
        }
        // Empty non-terminals: every ancestor between a name and the origin exists.
        let keys: Vec<NameKey> = nodes.keys().cloned().collect();
        for key in keys {
            for offset in label_offsets(&key).skip(1) {
                let ancestor = &key[offset..];
                if ancestor.len() < origin_key.len() || nodes.contains_key(ancestor) {
                    break;
                }
                let name = name_from_key_of(&nodes, &key, offset);
                nodes.insert(
                    ancestor.into(),
                    Node {
                        name,
                        rrsets: Vec::new(),
                        is_zone_cut: false,
                    },
                );
            }
        }
        for (key, node) in nodes.iter_mut() {
            node.rrsets.sort_by_key(|s| u16::from(s.rtype));
            node.is_zone_cut = **key != *origin_key && node.rrset(RecordType::NS).is_some();
        }
        let soa = nodes
            .get(&origin_key)
            .and_then(|n| n.rrset(RecordType::SOA))
            .and_then(|s| s.records.first())
            .and_then(|r| match &r.data {
                RData::SOA(soa) => Some(soa.clone()),
                _ => None,
            })
            .ok_or_else(|| format!("zone {} has no SOA at its apex", zone.origin))?;
        let nsec = denial::NsecChain::new(
            nodes
                .iter()
                .filter(|(_, n)| n.rrset(RecordType::NSEC).is_some())
                .map(|(k, _)| k.clone()),
        );
        let nsec3_param = nodes
            .get(&origin_key)
            .and_then(|n| n.rrset(RecordType::NSEC3PARAM))
            .and_then(|s| s.records.first())
            .and_then(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::NSEC3PARAM(p)) => {
                    Some((p.salt().to_vec(), p.iterations()))
                }
                _ => None,
            });
        let nsec3 = match nsec3_param {
            Some((salt, iterations)) if !nsec3_nodes.is_empty() => {
                let mut list: Vec<Node> = nsec3_nodes.into_values().collect();
                for n in &mut list {
                    n.rrsets.sort_by_key(|s| u16::from(s.rtype));
                }
                Some(denial::Nsec3Chain::new(salt, iterations, list))
            }
            _ => None,
        };
        let signed = nodes
            .get(&origin_key)
            .is_some_and(|n| n.rrset(RecordType::DNSKEY).is_some());
        Ok(ZoneSnapshot {
            nsec,
            nsec3,
            signed,
            origin: zone.origin,
            origin_key,
            serial: soa.serial,
            soa,
            nodes,
            record_count,
            matrix: zone.matrix,
            source: zone.source,
            history: ZoneHistory::default(),
        })
    }

    /// The zone apex.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The apex as a [`NameKey`].
    pub fn origin_key(&self) -> &[u8] {
        &self.origin_key
    }

    /// The SOA serial of this version.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The SOA RDATA.
    pub fn soa(&self) -> &SOA {
        &self.soa
    }

    /// The apex SOA RRset.
    pub fn soa_rrset(&self) -> Option<&RRset> {
        self.apex().and_then(|n| n.rrset(RecordType::SOA))
    }

    /// The apex node.
    pub fn apex(&self) -> Option<&Node> {
        self.nodes.get(&*self.origin_key)
    }

    /// The node with this key, if the name exists (including empty non-terminals).
    pub fn node(&self, key: &[u8]) -> Option<&Node> {
        self.nodes.get(key)
    }

    /// How many records the zone holds (RRSIGs included).
    pub fn record_count(&self) -> usize {
        self.record_count
    }

    /// The Matrix delegations declared for this zone.
    pub fn matrix(&self) -> &[MatrixDelegation] {
        &self.matrix
    }

    /// The file this version was loaded from.
    pub fn source(&self) -> Option<&PathBuf> {
        self.source.as_ref()
    }

    /// True when the zone is signed (its apex has DNSKEY): DO queries get
    /// signatures and proofs of non-existence.
    pub fn is_signed(&self) -> bool {
        self.signed
    }

    /// The NSEC chain (empty in NSEC3 and unsigned zones).
    pub fn nsec_chain(&self) -> &denial::NsecChain {
        &self.nsec
    }

    /// The NSEC3 chain, if the zone has NSEC3PARAM and NSEC3 records.
    pub fn nsec3_chain(&self) -> Option<&denial::Nsec3Chain> {
        self.nsec3.as_ref()
    }

    /// The diffs that lead to this version (for IXFR).
    pub fn history(&self) -> &ZoneHistory {
        &self.history
    }

    /// This version, with `history` as the diffs leading to it.
    pub fn with_history(mut self, history: ZoneHistory) -> ZoneSnapshot {
        self.history = history;
        self
    }

    /// This version as the successor of `previous`: its history is
    /// `previous`'s plus the diff between them. Same serial and same records:
    /// the history carries over; same serial and other records: the history
    /// is dropped (IXFR clients then get the whole zone) and `false` says the
    /// serial should have been increased.
    pub fn succeeding(self, previous: &ZoneSnapshot) -> (ZoneSnapshot, bool) {
        match history::diff(previous, &self) {
            None => {
                let h = previous.history.clone();
                (self.with_history(h), true)
            }
            Some(_) if previous.serial == self.serial => {
                (self.with_history(ZoneHistory::default()), false)
            }
            Some(d) => {
                let h = ZoneHistory::extended(&previous.history, d);
                (self.with_history(h), true)
            }
        }
    }

    /// Every record but the apex SOA, RRSIGs and NSEC3 included, in no particular order.
    pub fn records_except_soa(&self) -> impl Iterator<Item = &Record> {
        let origin = &self.origin_key;
        let names = self.nodes.iter().flat_map(move |(key, node)| {
            node.rrsets.iter().flat_map(move |set| {
                // The apex SOA itself is the version marker; its signatures are data.
                let records: &[Record] = if set.rtype == RecordType::SOA && key == origin {
                    &[]
                } else {
                    &set.records
                };
                records.iter().chain(set.rrsigs.iter())
            })
        });
        names.chain(self.nsec3_nodes().flat_map(node_records))
    }

    /// Every record, in no particular order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.nodes().flat_map(node_records)
    }

    /// The NSEC3 records' nodes (not names of the zone: see [`denial`]).
    fn nsec3_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nsec3.iter().flat_map(|c| c.nodes())
    }

    /// Every node, in no particular order: the names of the zone (empty
    /// non-terminals included) and the NSEC3 owners.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values().chain(self.nsec3_nodes())
    }
}

fn node_records(node: &Node) -> impl Iterator<Item = &Record> {
    node.rrsets
        .iter()
        .flat_map(|set| set.records.iter().chain(set.rrsigs.iter()))
}

fn node_entry<'a>(nodes: &'a mut HashMap<NameKey, Node>, name: &Name) -> &'a mut Node {
    nodes.entry(name_key(name)).or_insert_with(|| Node {
        name: name.clone(),
        rrsets: Vec::new(),
        is_zone_cut: false,
    })
}

fn add_to_rrset(node: &mut Node, mut record: Record) {
    let rtype = record.record_type();
    match node.rrsets.iter_mut().find(|s| s.rtype == rtype) {
        Some(set) => {
            record.ttl = set.ttl;
            set.records.push(record);
        }
        None => node.rrsets.push(RRset {
            rtype,
            ttl: record.ttl,
            records: vec![record],
            rrsigs: Vec::new(),
        }),
    }
}

/// The name of the ancestor at `offset` of the node keyed `key`, keeping the
/// case the zone author wrote.
fn name_from_key_of(nodes: &HashMap<NameKey, Node>, key: &[u8], offset: usize) -> Name {
    let labels_to_drop = label_offsets(key).take_while(|&o| o < offset).count();
    match nodes.get(key) {
        Some(node) => {
            let keep = node.name.num_labels() as usize - labels_to_drop;
            node.name.trim_to(keep)
        }
        None => Name::root(),
    }
}

/// Every zone fedns serves, keyed by apex. Immutable; replaced as a whole.
///
/// Besides zones with data, the set holds zones that are configured but
/// cannot be answered from (a secondary before its first transfer, or past
/// its SOA expire): questions for those get SERVFAIL, never another zone's
/// answer or REFUSED.
#[derive(Clone, Debug, Default)]
pub struct ZoneSet {
    zones: HashMap<NameKey, Arc<ZoneSnapshot>>,
    unavailable: HashMap<NameKey, Name>,
}

/// The zone that answers for a name.
#[derive(Debug)]
pub enum ZoneMatch<'a> {
    /// A zone with data.
    Serving(&'a Arc<ZoneSnapshot>),
    /// A configured zone with no usable data: SERVFAIL.
    Unavailable(&'a Name),
}

impl ZoneSet {
    /// A set holding `zones` (a later zone with the same apex replaces an earlier one).
    pub fn new(zones: impl IntoIterator<Item = Arc<ZoneSnapshot>>) -> ZoneSet {
        ZoneSet {
            zones: zones
                .into_iter()
                .map(|z| (z.origin_key.clone(), z))
                .collect(),
            unavailable: HashMap::new(),
        }
    }

    /// The zone that is authoritative for the name keyed `qname`: the one with
    /// the longest apex that is an ancestor of (or equal to) `qname`.
    pub fn find_zone(&self, qname: &[u8]) -> Option<ZoneMatch<'_>> {
        label_offsets(qname).find_map(|offset| {
            let suffix = &qname[offset..];
            match self.zones.get(suffix) {
                Some(zone) => Some(ZoneMatch::Serving(zone)),
                None => self.unavailable.get(suffix).map(ZoneMatch::Unavailable),
            }
        })
    }

    /// The zone with exactly this apex, if it has data.
    pub fn zone(&self, origin: &Name) -> Option<&Arc<ZoneSnapshot>> {
        self.zones.get(&*name_key(origin))
    }

    /// A copy of this set with `zone` added, replacing the zone of the same apex.
    pub fn with_zone(&self, zone: Arc<ZoneSnapshot>) -> ZoneSet {
        let mut zones = self.zones.clone();
        let mut unavailable = self.unavailable.clone();
        unavailable.remove(&zone.origin_key);
        zones.insert(zone.origin_key.clone(), zone);
        ZoneSet { zones, unavailable }
    }

    /// A copy of this set where `origin` answers SERVFAIL (its data, if any, is dropped).
    pub fn with_unavailable(&self, origin: &Name) -> ZoneSet {
        let key = name_key(origin);
        let mut zones = self.zones.clone();
        zones.remove(&key);
        let mut unavailable = self.unavailable.clone();
        unavailable.insert(key, origin.clone());
        ZoneSet { zones, unavailable }
    }

    /// True if `origin` is in the set, with data or not.
    pub fn contains(&self, origin: &Name) -> bool {
        let key = name_key(origin);
        self.zones.contains_key(&key) || self.unavailable.contains_key(&key)
    }

    /// Every zone with data, sorted by apex name.
    pub fn zones(&self) -> Vec<&Arc<ZoneSnapshot>> {
        let mut zones: Vec<_> = self.zones.values().collect();
        zones.sort_by(|a, b| a.origin.cmp(&b.origin));
        zones
    }

    /// The apexes of the zones without usable data.
    pub fn unavailable(&self) -> impl Iterator<Item = &Name> {
        self.unavailable.values()
    }

    /// How many zones with data the set holds.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// True when no zone with data is loaded.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}
