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

use hickory_proto::rr::Record;
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use super::ZoneSnapshot;

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
pub fn diff(old: &ZoneSnapshot, new: &ZoneSnapshot) -> Option<Diff> {
    let old_soa = old.soa_record()?;
    let new_soa = new.soa_record()?;
    let old_keys: HashSet<Vec<u8>> = old.records_except_soa().map(|r| record_key(&r)).collect();
    let new_keys: HashSet<Vec<u8>> = new.records_except_soa().map(|r| record_key(&r)).collect();
    let removed: Vec<Record> = old
        .records_except_soa()
        .filter(|r| !new_keys.contains(&record_key(r)))
        .collect();
    let added: Vec<Record> = new
        .records_except_soa()
        .filter(|r| !old_keys.contains(&record_key(r)))
        .collect();
    let soa_changed = record_key(&old_soa) != record_key(&new_soa);
    (soa_changed || !removed.is_empty() || !added.is_empty()).then_some(Diff {
        from_soa: old_soa,
        to_soa: new_soa,
        removed,
        added,
    })
}
