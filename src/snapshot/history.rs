//! The differences between successive versions of a zone, for IXFR
//! (RFC 1995).
//!
//! Each snapshot carries the history that leads to it: a list of diffs,
//! oldest first, each from one serial to the next. A reload or transfer
//! computes the diff between the serving version and the new one and
//! appends it; the history is capped, and a client whose serial is older
//! than the oldest diff gets the whole zone instead.

use std::collections::HashSet;
use std::sync::Arc;

use hickory_proto::rr::{Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use super::{Node, RRset, ZoneSnapshot};

/// How many diffs a zone keeps.
pub const MAX_DIFFS: usize = 32;
/// How many records all kept diffs may hold together.
pub const MAX_DIFF_RECORDS: usize = 1_000_000;

/// The change from one version of a zone to the next.
#[derive(Clone, Debug)]
pub struct Diff {
    /// The SOA of the older version.
    pub from_soa: Record,
    /// The SOA of the newer version.
    pub to_soa: Record,
    /// Records in the older version only (the SOA excluded).
    pub removed: Vec<Record>,
    /// Records in the newer version only (the SOA excluded).
    pub added: Vec<Record>,
}

impl Diff {
    fn size(&self) -> usize {
        self.removed.len() + self.added.len() + 2
    }
}

/// The diffs leading to a version, oldest first; consecutive (each one's
/// `to` serial is the next one's `from`).
#[derive(Clone, Debug, Default)]
pub struct ZoneHistory {
    diffs: Vec<Arc<Diff>>,
}

impl ZoneHistory {
    /// The history of `previous` followed by `diff`, trimmed to the caps.
    pub fn extended(previous: &ZoneHistory, diff: Diff) -> ZoneHistory {
        let mut diffs = previous.diffs.clone();
        diffs.push(Arc::new(diff));
        let mut total: usize = diffs.iter().map(|d| d.size()).sum();
        while diffs.len() > MAX_DIFFS || (total > MAX_DIFF_RECORDS && diffs.len() > 1) {
            total -= diffs[0].size();
            diffs.remove(0);
        }
        ZoneHistory { diffs }
    }

    /// The diffs from `serial` to the newest, if the history reaches back to it.
    pub fn since(&self, serial: u32) -> Option<&[Arc<Diff>]> {
        let start = self
            .diffs
            .iter()
            .position(|d| soa_serial(&d.from_soa) == Some(serial))?;
        Some(&self.diffs[start..])
    }

    /// How many diffs are kept.
    pub fn len(&self) -> usize {
        self.diffs.len()
    }

    /// True when no diff is kept.
    pub fn is_empty(&self) -> bool {
        self.diffs.is_empty()
    }
}

fn soa_serial(record: &Record) -> Option<u32> {
    match &record.data {
        hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
        _ => None,
    }
}

/// A record as comparable bytes: lower-cased owner, type, class, TTL and
/// canonical RDATA.
pub fn record_key(record: &Record) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_canonical_form(true);
    let mut lower = record.clone();
    lower.name = record.name.to_lowercase();
    let _ = lower.emit(&mut encoder);
    bytes
}

/// The diff from `old` to `new`, or `None` when they hold the same records.
///
/// Walks the two versions name by name and compares RRsets as stored (type,
/// TTL, wire RDATA, signatures): only RRsets that differ are decoded and
/// compared record by record in canonical form. So a reload of a big zone
/// costs no copy of either version, only the records that changed.
pub fn diff(old: &ZoneSnapshot, new: &ZoneSnapshot) -> Option<Diff> {
    let old_soa = old.soa_record()?;
    let new_soa = new.soa_record()?;
    let mut changes = Changes::default();
    let origin = new.origin_key();
    for node in new.name_nodes() {
        let apex = node.owner_wire().eq_ignore_ascii_case(origin);
        changes.node(old.same_name(node), Some(node), apex);
    }
    for node in old.name_nodes() {
        if new.same_name(node).is_none() {
            let apex = node.owner_wire().eq_ignore_ascii_case(old.origin_key());
            changes.node(Some(node), None, apex);
        }
    }
    // NSEC3 records, matched by owner hash.
    let (old_nsec3, new_nsec3) = (old.nsec3_chain(), new.nsec3_chain());
    for (hash, node) in new_nsec3.into_iter().flat_map(|c| c.hashed_nodes()) {
        changes.node(old_nsec3.and_then(|c| c.matching(hash)), Some(node), false);
    }
    for (hash, node) in old_nsec3.into_iter().flat_map(|c| c.hashed_nodes()) {
        if new_nsec3.and_then(|c| c.matching(hash)).is_none() {
            changes.node(Some(node), None, false);
        }
    }
    let Changes { removed, added } = changes;
    let soa_changed = record_key(&old_soa) != record_key(&new_soa);
    (soa_changed || !removed.is_empty() || !added.is_empty()).then_some(Diff {
        from_soa: old_soa,
        to_soa: new_soa,
        removed,
        added,
    })
}

/// The records of one RRset and its signatures (the RRset's own records
/// only `with_data`).
fn rrset_records(side: Option<(&Node, &RRset)>, with_data: bool) -> Vec<Record> {
    let Some((node, set)) = side else {
        return Vec::new();
    };
    let mut records: Vec<Record> = Vec::new();
    if with_data {
        records.extend(set.records(&node.name()));
    }
    records.extend(set.rrsigs().iter().cloned());
    records
}

fn record_keys(records: &[Record]) -> HashSet<Vec<u8>> {
    records.iter().map(record_key).collect()
}

/// The records removed and added so far.
#[derive(Default)]
struct Changes {
    removed: Vec<Record>,
    added: Vec<Record>,
}

impl Changes {
    /// The changes at one name: `old` and `new` are its node in each version
    /// (at least one of them). At the apex the SOA itself is left out (it is
    /// the version marker), not its signatures.
    fn node(&mut self, old: Option<&Node>, new: Option<&Node>, apex: bool) {
        let mut rtypes: Vec<RecordType> = old
            .into_iter()
            .chain(new)
            .flat_map(|n| n.rrsets.iter().map(|s| s.rtype))
            .collect();
        rtypes.sort_by_key(|t| u16::from(*t));
        rtypes.dedup();
        for rtype in rtypes {
            let before = old.and_then(|n| n.rrset(rtype).map(|s| (n, s)));
            let after = new.and_then(|n| n.rrset(rtype).map(|s| (n, s)));
            if let (Some((_, a)), Some((_, b))) = (before, after)
                && a == b
            {
                continue;
            }
            let with_data = !(apex && rtype == RecordType::SOA);
            let (before, after) = (
                rrset_records(before, with_data),
                rrset_records(after, with_data),
            );
            let (before_keys, after_keys) = (record_keys(&before), record_keys(&after));
            self.removed.extend(
                before
                    .into_iter()
                    .filter(|r| !after_keys.contains(&record_key(r))),
            );
            self.added.extend(
                after
                    .into_iter()
                    .filter(|r| !before_keys.contains(&record_key(r))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::Zone;
    use crate::zone::master::parse_master;

    fn snapshot(body: &str, serial: u32) -> ZoneSnapshot {
        let origin: hickory_proto::rr::Name = "example.org.".parse().unwrap();
        let text = format!("$TTL 300\n@ SOA ns1 hostmaster {serial} 2 3 4 5\n@ NS ns1\n{body}");
        let records = parse_master(&text, &std::sync::Arc::from("t.zone"), &origin).unwrap();
        ZoneSnapshot::build(Zone {
            origin,
            records,
            ..Zone::default()
        })
        .unwrap()
    }

    fn texts(records: &[Record]) -> Vec<String> {
        let mut t: Vec<String> = records.iter().map(|r| r.to_string()).collect();
        t.sort();
        t
    }

    #[test]
    fn the_diff_holds_exactly_the_records_that_changed() {
        let old = snapshot(
            "ns1 A 192.0.2.53\nwww A 192.0.2.1\nwww A 192.0.2.2\ngone TXT bye\nttl 60 A 192.0.2.9\nsame MX 10 Mail\n",
            1,
        );
        let new = snapshot(
            "ns1 A 192.0.2.53\nwww A 192.0.2.1\nwww A 192.0.2.3\nnew.sub TXT hi\nttl 120 A 192.0.2.9\nSAME MX 10 mail\n",
            2,
        );
        let d = diff(&old, &new).unwrap();
        assert_eq!(
            texts(&d.removed),
            [
                "gone.example.org. 300 IN TXT bye",
                "ttl.example.org. 60 IN A 192.0.2.9",
                "www.example.org. 300 IN A 192.0.2.2",
            ]
        );
        assert_eq!(
            texts(&d.added),
            [
                "new.sub.example.org. 300 IN TXT hi",
                "ttl.example.org. 120 IN A 192.0.2.9",
                "www.example.org. 300 IN A 192.0.2.3",
            ]
        );
        assert!(matches!(d.to_soa.data, hickory_proto::rr::RData::SOA(ref s) if s.serial == 2));
    }

    #[test]
    fn the_same_records_make_no_diff_whatever_the_case() {
        let old = snapshot("www A 192.0.2.1\nmx MX 10 Mail\n", 5);
        let new = snapshot("WWW A 192.0.2.1\nmx MX 10 mail\n", 5);
        assert!(diff(&old, &new).is_none());
    }

    #[test]
    fn only_the_serial_changed_is_a_diff_without_records() {
        let old = snapshot("www A 192.0.2.1\n", 5);
        let new = snapshot("www A 192.0.2.1\n", 6);
        let d = diff(&old, &new).unwrap();
        assert!(d.removed.is_empty() && d.added.is_empty());
    }
}
