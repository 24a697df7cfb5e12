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
mod node_index;
mod rrset;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::proto::name::label_offsets;
pub use crate::proto::name::{NameKey, name_key};
use crate::proto::octets::Octets;
use crate::zone::owner_index::OwnerIndex;
use crate::zone::record::decode_name;
use crate::zone::{MatrixDelegation, Place, SourcedRecord, Zone};
use history::ZoneHistory;
pub use node_index::NodeIndex;
pub use rrset::RRset;

/// One name of the zone: its RRsets, or none for an empty non-terminal.
#[derive(Clone, Debug)]
pub struct Node {
    /// The owner name in uncompressed wire form, in the case it was first
    /// written in the zone (in place up to 30 octets: 32 bytes here, where
    /// a `Name` takes 80).
    owner: Octets<30>,
    /// RRsets sorted by type code; empty for an empty non-terminal.
    pub rrsets: Box<[RRset]>,
    /// True when this name is a zone cut: it has NS records and is not the apex.
    pub is_zone_cut: bool,
}

impl Node {
    /// The octets this node holds on the heap besides itself: its owner
    /// name, its RRsets and theirs.
    pub fn heap_bytes(&self) -> usize {
        self.owner.heap_bytes()
            + std::mem::size_of_val::<[RRset]>(&self.rrsets)
            + self.rrsets.iter().map(RRset::heap_bytes).sum::<usize>()
    }

    /// The owner name, as first written in the zone.
    pub fn name(&self) -> Name {
        decode_name(&self.owner)
    }

    /// The owner name in uncompressed wire form, case as written.
    pub fn owner_wire(&self) -> &[u8] {
        &self.owner
    }

    /// The owner name's first label (the hash, for an NSEC3 owner).
    pub fn first_label(&self) -> &[u8] {
        let len = self.owner.first().map_or(0, |&l| usize::from(l));
        self.owner.get(1..1 + len).unwrap_or_default()
    }

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

    /// Every record at this name, RRSIGs included, in type order.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let name = self.name();
        self.rrsets
            .iter()
            .flat_map(move |set| set.records(&name).chain(set.rrsigs().iter().cloned()))
    }

    /// The node of one owner, from its records (zone order, sorted by type;
    /// at least one). RRSIGs join the RRset they cover; a signature whose
    /// RRset is absent is still zone data, kept as an RRSIG set (served on
    /// RRSIG queries).
    fn build(
        records: &mut [SourcedRecord],
        origin_key: &[u8],
        scratch: &mut Vec<u8>,
    ) -> Result<Node, String> {
        let owner: Octets<30> = records
            .first()
            .map(|r| Octets::from(r.owner_wire()))
            .unwrap_or_default();
        // Signatures after the data, each part still in type order.
        let is_rrsig = |r: &SourcedRecord| r.record_type() == RecordType::RRSIG;
        if records.iter().any(is_rrsig) {
            records.sort_by_key(is_rrsig);
        }
        let (data, signatures) = records.split_at(records.partition_point(|r| !is_rrsig(r)));
        let types = data.chunk_by(|a, b| a.record_type() == b.record_type());
        let mut rrsets: Vec<RRset> = Vec::with_capacity(types.clone().count());
        for set in types {
            rrsets.push(RRset::from_records(set, scratch)?);
        }
        let mut orphans: Vec<SourcedRecord> = Vec::new();
        for sig in signatures {
            let covered = rrsig_type_covered(sig.rdata_wire());
            match rrsets.iter_mut().find(|s| s.rtype == covered) {
                Some(set) => set.push_rrsig(sig.record()),
                None => orphans.push(sig.clone()),
            }
        }
        if !orphans.is_empty() {
            rrsets.push(RRset::from_records(&orphans, scratch)?);
            rrsets.sort_by_key(|s| u16::from(s.rtype));
        }
        // A zone cut: NS records anywhere but the apex.
        let is_zone_cut = !owner.eq_ignore_ascii_case(origin_key)
            && rrsets.iter().any(|s| s.rtype == RecordType::NS);
        Ok(Node {
            owner,
            rrsets: rrsets.into_boxed_slice(),
            is_zone_cut,
        })
    }
}

/// One zone, indexed for answering. Immutable once built.
#[derive(Debug)]
pub struct ZoneSnapshot {
    origin: Name,
    origin_key: NameKey,
    serial: u32,
    soa: SOA,
    /// The apex SOA as a record, owner as written: decoded once, as every
    /// NXDOMAIN and NODATA answer carries it.
    soa_record: Record,
    nodes: NodeIndex,
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
    ///
    /// Memory: the zone's records are sorted by owner in place, then taken
    /// off the end of the list owner by owner, each node allocated once at
    /// its final size; the list gives back its memory as it shrinks. So the
    /// build never holds the zone twice, and leaves no holes in the heap
    /// that a long-running server would carry.
    pub fn build(zone: Zone) -> Result<ZoneSnapshot, String> {
        let index = OwnerIndex::new(&zone.records, &zone.origin)?;
        ZoneSnapshot::build_indexed(zone, index)
    }

    /// [`ZoneSnapshot::build`] with the owner index of exactly these
    /// records and origin already made (by
    /// [`validate_zone_indexed`](crate::zone::validate::validate_zone_indexed)).
    /// An index of another length is not this zone's: it is made again.
    pub fn build_indexed(zone: Zone, index: OwnerIndex) -> Result<ZoneSnapshot, String> {
        let Zone {
            origin,
            mut records,
            matrix,
            source,
        } = zone;
        let origin_key = name_key(&origin);
        let record_count = records.len();
        let index = if index.len() == records.len() {
            index
        } else {
            OwnerIndex::new(&records, &origin)?
        };
        let owners = index.owners().count();
        let mut nodes = NodeIndex::with_capacity(owners);
        let mut runs: Vec<usize> = Vec::new();
        // Records in index order (nearly the zone's: little moves), so the
        // run of one owner is at the end of the list, and is taken off it
        // in one go.
        let mut positions: Vec<usize> = index.entries().iter().map(|e| e.record as usize).collect();
        apply_order(&mut records, &mut positions);
        drop(positions);
        runs.extend(index.owners().map(<[_]>::len));
        drop(index);
        // NSEC3 records and their signatures live apart from the name tree:
        // their owners are hashes, not names of the zone (RFC 5155 7.2.8).
        let mut nsec3_list: Vec<Node> = Vec::new();
        let mut scratch = Vec::new();
        let is_nsec3_side = |r: &SourcedRecord| match r.record_type() {
            RecordType::NSEC3 => true,
            RecordType::RRSIG => rrsig_type_covered(r.rdata_wire()) == RecordType::NSEC3,
            _ => false,
        };
        while let Some(len) = runs.pop() {
            let start = records.len().saturating_sub(len);
            let run = &mut records[start..];
            // The name's records first, then the NSEC3 side, each in order.
            if run.iter().any(is_nsec3_side) {
                run.sort_by_key(is_nsec3_side);
            }
            let split = run.partition_point(|r| !is_nsec3_side(r));
            let (names_side, nsec3_side) = run.split_at_mut(split);
            if !nsec3_side.is_empty() {
                nsec3_list.push(Node::build(nsec3_side, &origin_key, &mut scratch)?);
            }
            if !names_side.is_empty() {
                nodes.insert(Node::build(names_side, &origin_key, &mut scratch)?);
            }
            records.truncate(start);
            // Give memory back in steps of an eighth, so the list and the
            // nodes built from it are never both whole.
            if records.capacity() - records.len() > records.capacity() / 8 + 64 {
                records.shrink_to_fit();
                runs.shrink_to_fit();
            }
        }
        drop(records);
        add_empty_non_terminals(&mut nodes, &origin_key);
        let soa_record = nodes
            .get(&origin_key)
            .and_then(|apex| apex.rrset(RecordType::SOA)?.first_record(&apex.name()))
            .ok_or_else(|| format!("zone {origin} has no SOA at its apex"))?;
        let RData::SOA(soa) = soa_record.data.clone() else {
            return Err(format!("zone {origin} has no SOA at its apex"));
        };
        let nsec = denial::NsecChain::new(
            nodes
                .iter()
                .filter(|n| n.rrset(RecordType::NSEC).is_some())
                .map(|n| n.owner.to_ascii_lowercase().into_boxed_slice()),
        );
        let nsec3_param = nodes
            .get(&origin_key)
            .and_then(|n| n.rrset(RecordType::NSEC3PARAM))
            .and_then(RRset::first_rdata)
            .and_then(|r| match r {
                RData::DNSSEC(DNSSECRData::NSEC3PARAM(p)) => {
                    Some((p.salt().to_vec(), p.iterations()))
                }
                _ => None,
            });
        let nsec3 = match nsec3_param {
            Some((salt, iterations)) if !nsec3_list.is_empty() => {
                Some(denial::Nsec3Chain::new(salt, iterations, nsec3_list))
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
            origin,
            origin_key,
            serial: soa.serial,
            soa,
            soa_record,
            nodes,
            record_count,
            matrix,
            source,
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
        self.nodes.get(&self.origin_key)
    }

    /// The node with this key, if the name exists (including empty non-terminals).
    pub fn node(&self, key: &[u8]) -> Option<&Node> {
        self.nodes.get(key)
    }

    /// About how many octets of memory the zone takes: the name index, the
    /// nodes, their RRsets and RDATA, and the NSEC and NSEC3 chains (the
    /// IXFR history and the allocator's own overhead apart). `fedns ctl
    /// status` reports it; bytes per record is the figure issue 18 asks for.
    pub fn heap_bytes(&self) -> usize {
        let nsec3 = self
            .nsec3
            .as_ref()
            .map_or(0, denial::Nsec3Chain::heap_bytes);
        std::mem::size_of::<ZoneSnapshot>()
            + self.nodes.heap_bytes()
            + self.nsec.heap_bytes()
            + nsec3
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
    /// `previous`'s plus the diff between them. The same records: the
    /// history carries over; other records under the same serial: the
    /// history is dropped (IXFR clients then get the whole zone), and
    /// [`Succession::NewDataSameSerial`] says the serial should have been
    /// increased.
    pub fn succeeding(self, previous: &ZoneSnapshot) -> (ZoneSnapshot, Succession) {
        match history::diff(previous, &self) {
            None => {
                let h = previous.history.clone();
                (self.with_history(h), Succession::SameData)
            }
            Some(_) if previous.serial == self.serial => (
                self.with_history(ZoneHistory::default()),
                Succession::NewDataSameSerial,
            ),
            Some(d) => {
                let h = ZoneHistory::extended(&previous.history, d);
                (self.with_history(h), Succession::NewData)
            }
        }
    }

    /// Every record but the apex SOA, RRSIGs and NSEC3 included, in no particular order.
    pub fn records_except_soa(&self) -> impl Iterator<Item = Record> + '_ {
        let origin = &self.origin_key;
        let names = self.nodes.iter().flat_map(move |node| {
            // The apex SOA itself is the version marker; its signatures are data.
            let apex_soa = node.owner.eq_ignore_ascii_case(origin);
            let name = node.name();
            node.rrsets.iter().flat_map(move |set| {
                let skip = apex_soa && set.rtype == RecordType::SOA;
                set.records(&name)
                    .filter(move |_| !skip)
                    .chain(set.rrsigs().iter().cloned())
            })
        });
        names.chain(self.nsec3_nodes().flat_map(Node::records))
    }

    /// Every record, in no particular order.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.nodes().flat_map(Node::records)
    }

    /// `records` as a zone with this snapshot's origin, file and Matrix
    /// settings, each record placed where `place` says, else at the zone's
    /// file (a snapshot keeps no line numbers). What the lint and the update
    /// path read a served zone as.
    pub fn zone_of(
        &self,
        records: Vec<Record>,
        place: impl Fn(&Record) -> Option<Place>,
    ) -> Result<Zone, String> {
        let file: Arc<str> = Arc::from(
            self.source()
                .map_or_else(|| self.origin().to_string(), |p| p.display().to_string()),
        );
        let file_place = Place::file(&file);
        let records = records
            .iter()
            .map(|r| SourcedRecord::new(r, place(r).unwrap_or_else(|| file_place.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Zone {
            origin: self.origin().clone(),
            records,
            matrix: self.matrix().to_vec(),
            source: self.source().cloned(),
        })
    }

    /// The zone served, as a zone again (every record placed at the file).
    pub fn to_zone(&self) -> Result<Zone, String> {
        self.zone_of(self.records().collect(), |_| None)
    }

    /// The apex SOA record, owner as the zone wrote it.
    pub fn soa_record(&self) -> Option<Record> {
        Some(self.soa_record.clone())
    }

    /// The names of the zone (empty non-terminals included), in no
    /// particular order; NSEC3 owners are not among them.
    pub fn name_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter()
    }

    /// The node of this version with the same owner name as `node` (of any version).
    pub fn same_name(&self, node: &Node) -> Option<&Node> {
        let owner = node.owner_wire();
        let mut key = [0u8; crate::proto::name::MAX_NAME_WIRE_LEN];
        let key = key.get_mut(..owner.len())?;
        // Length octets are below 64, so only the letters of labels change.
        for (to, from) in key.iter_mut().zip(owner) {
            *to = from.to_ascii_lowercase();
        }
        self.nodes.get(key)
    }

    /// The NSEC3 records' nodes (not names of the zone: see [`denial`]).
    fn nsec3_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nsec3.iter().flat_map(|c| c.nodes())
    }

    /// Every node, in no particular order: the names of the zone (empty
    /// non-terminals included) and the NSEC3 owners.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().chain(self.nsec3_nodes())
    }
}

/// Adds a node without RRsets for every name that exists only because names
/// below it do (RFC 8020: `_tcp.example.org` is NODATA, not NXDOMAIN), between
/// each owner and the origin. The ancestor keeps the case the zone wrote.
fn add_empty_non_terminals(nodes: &mut NodeIndex, origin_key: &[u8]) {
    let mut empty_non_terminals: HashMap<NameKey, Octets<30>> = HashMap::new();
    let mut key = Vec::new();
    for node in nodes.iter() {
        key.clear();
        key.extend(node.owner.iter().map(u8::to_ascii_lowercase));
        for offset in label_offsets(&key).skip(1) {
            let ancestor = &key[offset..];
            if ancestor.len() < origin_key.len()
                || nodes.contains(ancestor)
                || empty_non_terminals.contains_key(ancestor)
            {
                break;
            }
            // The key is the owner lower-cased, so their labels start at the
            // same offsets.
            let owner = node.owner.get(offset..).unwrap_or(ancestor);
            empty_non_terminals.insert(ancestor.into(), Octets::from(owner));
        }
    }
    for owner in empty_non_terminals.into_values() {
        nodes.insert(Node {
            owner,
            rrsets: Box::default(),
            is_zone_cut: false,
        });
    }
}

/// The type an RRSIG covers: the first field of its RDATA (RFC 4034 3.1).
fn rrsig_type_covered(rdata: &[u8]) -> RecordType {
    match rdata {
        [high, low, ..] => RecordType::from(u16::from_be_bytes([*high, *low])),
        _ => RecordType::RRSIG,
    }
}

/// Rearranges `items` so that `items[j]` becomes the old `items[order[j]]`,
/// in place, following each cycle of the permutation once (`order` is left
/// as the identity).
fn apply_order<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut j = start;
        loop {
            let k = order[j];
            order[j] = j;
            if k == start || k == j {
                break;
            }
            items.swap(j, k);
            j = k;
        }
    }
}
/// Every zone fedns serves, keyed by apex. Immutable; replaced as a whole.
///
/// Besides zones with data, the set holds zones that are configured but
/// cannot be answered from (a secondary before its first transfer, or past
/// its SOA expire): questions for those get SERVFAIL, never another zone's
/// answer or REFUSED.
/// How a new version of a zone relates to the one it replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Succession {
    /// The same records (the serial may differ).
    SameData,
    /// Other records under a new serial.
    NewData,
    /// Other records under the same serial: secondaries will not see them.
    NewDataSameSerial,
}

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

    /// Adds `zone`, replacing the zone of the same apex (with or without data).
    pub fn insert(&mut self, zone: Arc<ZoneSnapshot>) {
        self.unavailable.remove(&zone.origin_key);
        self.zones.insert(zone.origin_key.clone(), zone);
    }

    /// Makes `origin` answer SERVFAIL (its data, if any, is dropped).
    pub fn insert_unavailable(&mut self, origin: &Name) {
        let key = name_key(origin);
        self.zones.remove(&key);
        self.unavailable.insert(key, origin.clone());
    }

    /// Drops `origin` from the set, with data or not.
    pub fn remove(&mut self, origin: &Name) {
        let key = name_key(origin);
        self.zones.remove(&key);
        self.unavailable.remove(&key);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn apply_order_is_the_permutation_it_is_given(
            order in (0usize..40).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        ) {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            let expected: Vec<usize> = order.iter().map(|&i| i * 10).collect();
            let mut positions = order.clone();
            apply_order(&mut items, &mut positions);
            prop_assert_eq!(items, expected);
        }
    }

    #[test]
    fn heap_bytes_grow_with_the_records_by_a_plausible_amount_each() {
        let zone_of = |hosts: usize| {
            let mut text = String::from("$TTL 300\n@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\n");
            for i in 0..hosts {
                text.push_str(&format!(
                    "host{i} A 192.0.2.{}\nhost{i} AAAA 2001:db8::{i:x}\n",
                    i % 256
                ));
            }
            let file: std::sync::Arc<str> = std::sync::Arc::from("t.zone");
            let origin: Name = "example.org.".parse().unwrap();
            let records = crate::zone::master::parse_master(&text, &file, &origin).unwrap();
            ZoneSnapshot::build(Zone {
                origin,
                records,
                ..Zone::default()
            })
            .unwrap()
        };
        let (small, big) = (zone_of(1_000), zone_of(3_000));
        let per_record =
            (big.heap_bytes() - small.heap_bytes()) / (big.record_count() - small.record_count());
        // An A record's RDATA is 4 octets and an AAAA's 16; the owner, the
        // node, its RRsets and a table slot come on top, once per name.
        assert!(
            (20..300).contains(&per_record),
            "{per_record} bytes per record"
        );
    }

    #[test]
    fn owners_and_rrsets_keep_zone_order_and_the_first_written_case() {
        let text = "$TTL 300\n@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\n\
            Www A 192.0.2.2\nns1 A 192.0.2.53\nwww AAAA 2001:db8::1\n\
            WWW A 192.0.2.1\na.b.c TXT x\n";
        let file: std::sync::Arc<str> = std::sync::Arc::from("t.zone");
        let origin: Name = "example.org.".parse().unwrap();
        let records = crate::zone::master::parse_master(text, &file, &origin).unwrap();
        let zone = Zone {
            origin,
            records,
            ..Zone::default()
        };
        let count = zone.records.len();
        let snapshot = ZoneSnapshot::build(zone).unwrap();
        assert_eq!(snapshot.record_count(), count);
        let www = snapshot
            .node(&name_key(&"www.example.org.".parse().unwrap()))
            .unwrap();
        assert_eq!(www.name().to_string(), "Www.example.org.");
        let a: Vec<String> = www
            .rrset(RecordType::A)
            .unwrap()
            .rdatas()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(a, ["192.0.2.2", "192.0.2.1"]);
        assert_eq!(www.rrsets.len(), 2);
        // b.c and c are empty non-terminals.
        for ent in ["b.c.example.org.", "c.example.org."] {
            let node = snapshot.node(&name_key(&ent.parse().unwrap())).unwrap();
            assert!(node.is_empty_non_terminal(), "{ent}");
            assert_eq!(node.name().to_string(), ent);
        }
        assert_eq!(snapshot.records().count(), count);
    }
}
