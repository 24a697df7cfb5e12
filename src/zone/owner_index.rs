//! A zone's records grouped by owner and type, in a few bytes a record.
//!
//! Validation (duplicates, CNAME beside other data) and the snapshot build
//! both need the records of one owner, and of one RRset, side by side. A map
//! from `Name` would cost a hundred bytes a record on zones of millions of
//! records; here owners are lower-cased wire names (RFC 4343: names compare
//! case-insensitively), each once in one arena, numbered in the order the
//! zone first names them, and each record is a 16-byte entry ordered by
//! (owner number, type, position in the zone).
//!
//! Why that order (issue 18): nothing reads owners in DNS order, and this
//! one costs a hash lookup per owner and a counting sort, with no
//! comparison sort at all; and since zones write an owner's records
//! together, it is nearly the zone's own order, so the snapshot build that
//! walks the records by it reads memory front to back.

use hashbrown::{DefaultHashBuilder, HashTable};
use hickory_proto::rr::Name;
use std::hash::BuildHasher;

use super::SourcedRecord;
use crate::proto::name::{label_offsets, name_key};

/// One record in the index.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Where its owner's lower-cased wire name starts in the arena.
    key_at: u32,
    /// Its owner's number: owners are numbered as the zone first names them.
    owner: u32,
    key_len: u8,
    /// Its type code.
    pub rtype: u16,
    /// Its position in the records indexed.
    pub record: u32,
}

/// Records ordered by (owner, type, position): owners and RRsets are runs
/// of neighbours, and records of one RRset keep their zone order.
#[derive(Debug, Default)]
pub struct OwnerIndex {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    /// `owner_start[n]`: where owner `n`'s run of entries starts; one more
    /// element at the end, the number of entries.
    owner_start: Vec<u32>,
    /// Owner numbers by their key, for [`OwnerIndex::find`].
    by_key: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// `in_zone[i]`: record `i`'s owner is at or below the origin.
    in_zone: Vec<bool>,
}

impl OwnerIndex {
    /// Indexes `records`; `origin` decides which are in the zone. Fails only
    /// past 2^32 records or octets of names, which no zone file reaches.
    pub fn new(records: &[SourcedRecord], origin: &Name) -> Result<OwnerIndex, String> {
        let too_big =
            || format!("zone {origin} is too large to index (2^32 records or octets of names)");
        let origin = name_key(origin);
        let hasher = DefaultHashBuilder::default();
        let mut by_key: HashTable<u32> = HashTable::new();
        // Each owner's key (where in the arena, how long) and place in the zone.
        let mut owners: Vec<(u32, u8, bool)> = Vec::new();
        let mut arena = Vec::new();
        let mut entries = Vec::with_capacity(records.len());
        let mut in_zone = Vec::with_capacity(records.len());
        let mut key = Vec::new();
        let mut previous: Option<(u32, &[u8])> = None;
        for (i, sourced) in records.iter().enumerate() {
            let record = u32::try_from(i).map_err(|_| too_big())?;
            let owner_wire = sourced.owner_wire();
            // Zone files write an owner's records together: the owner of the
            // record before is the first guess, and needs no lookup.
            let owner = match previous {
                Some((owner, wire)) if wire.eq_ignore_ascii_case(owner_wire) => owner,
                _ => {
                    // Length octets are below 64, so only the letters of labels change.
                    key.clear();
                    key.extend_from_slice(owner_wire);
                    key.make_ascii_lowercase();
                    let hash = hasher.hash_one(&key[..]);
                    let key_of = |n: u32| {
                        let (at, len, _) = owners[n as usize];
                        &arena[at as usize..at as usize + usize::from(len)]
                    };
                    match by_key.find(hash, |&n| key_of(n) == key).copied() {
                        Some(n) => n,
                        None => {
                            let n = u32::try_from(owners.len()).map_err(|_| too_big())?;
                            // At or below the origin: the origin ends the key, at a label.
                            let below = key.len().checked_sub(origin.len()).is_some_and(|at| {
                                key[at..] == *origin && label_offsets(&key).any(|label| label == at)
                            });
                            owners.push((
                                u32::try_from(arena.len()).map_err(|_| too_big())?,
                                // A name's wire form is at most 255 octets (RFC 1035 2.3.4).
                                u8::try_from(key.len()).map_err(|_| too_big())?,
                                below,
                            ));
                            arena.extend_from_slice(&key);
                            by_key.insert_unique(hash, n, |&m| {
                                let (at, len, _) = owners[m as usize];
                                hasher.hash_one(&arena[at as usize..at as usize + usize::from(len)])
                            });
                            n
                        }
                    }
                }
            };
            previous = Some((owner, owner_wire));
            let (key_at, key_len, below) = owners[owner as usize];
            in_zone.push(below);
            entries.push(Entry {
                key_at,
                owner,
                key_len,
                rtype: u16::from(sourced.record_type()),
                record,
            });
        }
        let owner_start = sort_entries(&mut entries, owners.len());
        Ok(OwnerIndex {
            arena,
            entries,
            owner_start,
            by_key,
            hasher,
            in_zone,
        })
    }

    /// True when record `record`'s owner is at or below the origin.
    pub fn in_zone(&self, record: usize) -> bool {
        self.in_zone.get(record).copied().unwrap_or(false)
    }

    /// The owner of `e` as a lower-cased wire name.
    pub fn key(&self, e: &Entry) -> &[u8] {
        &self.arena[e.key_at as usize..e.key_at as usize + usize::from(e.key_len)]
    }

    /// How many records are indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no record is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entries of the owner keyed `key` (a lower-cased wire name).
    pub fn find(&self, key: &[u8]) -> &[Entry] {
        let owner = self.by_key.find(self.hasher.hash_one(key), |&n| {
            self.run(n).first().is_some_and(|e| self.key(e) == key)
        });
        owner.map_or(&[], |&n| self.run(n))
    }

    /// The entries of owner number `n`.
    fn run(&self, n: u32) -> &[Entry] {
        let n = n as usize;
        match (self.owner_start.get(n), self.owner_start.get(n + 1)) {
            (Some(&start), Some(&end)) => &self.entries[start as usize..end as usize],
            _ => &[],
        }
    }

    /// Runs of entries with the same owner.
    pub fn owners(&self) -> impl Iterator<Item = &[Entry]> {
        self.entries.chunk_by(|a, b| a.owner == b.owner)
    }

    /// Runs of entries with the same owner and type.
    pub fn rrsets(&self) -> impl Iterator<Item = &[Entry]> {
        self.entries
            .chunk_by(|a, b| a.owner == b.owner && a.rtype == b.rtype)
    }
}

/// Orders `entries`, given in record order and numbered with `owners`
/// owners, by (owner, type, position); returns where each owner's run
/// starts, and the end. A counting sort by owner keeps record order within
/// each run; a run out of type order (an owner's TXT written before its A)
/// is sorted stably by type.
fn sort_entries(entries: &mut Vec<Entry>, owners: usize) -> Vec<u32> {
    let mut owner_start = vec![0u32; owners + 1];
    for e in entries.iter() {
        owner_start[e.owner as usize + 1] += 1;
    }
    for n in 1..owner_start.len() {
        owner_start[n] += owner_start[n - 1];
    }
    // Already grouped (an owner's records written together, as zones do):
    // nothing moves.
    let grouped = entries.windows(2).all(|w| w[0].owner <= w[1].owner);
    if !grouped {
        let mut next = owner_start.clone();
        let mut sorted = entries.clone();
        for e in entries.iter() {
            let at = &mut next[e.owner as usize];
            sorted[*at as usize] = *e;
            *at += 1;
        }
        *entries = sorted;
    }
    for run in entries.chunk_by_mut(|a, b| a.owner == b.owner) {
        if !run.is_sorted_by_key(|e| e.rtype) {
            run.sort_by_key(|e| e.rtype);
        }
    }
    owner_start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::master::parse_master;
    use std::sync::Arc;

    #[test]
    fn entries_come_in_owner_type_and_zone_order_however_the_zone_mixes_them() {
        let mut state = 0x2545_f491_u32;
        let mut next = |n: u32| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state % n
        };
        for round in 0..300 {
            let len = next(40);
            let owners = 1 + next(6);
            // Owners numbered by first appearance, as `new` numbers them;
            // every third round writes each owner's records together.
            let mut seen = 0;
            let mut entries: Vec<Entry> = (0..len)
                .map(|record| {
                    let owner = if round % 3 == 0 {
                        (record * owners / len.max(1)).min(seen)
                    } else {
                        next(owners).min(seen)
                    };
                    seen = seen.max(owner + 1);
                    Entry {
                        key_at: owner,
                        owner,
                        key_len: 1,
                        rtype: [1, 28, 16, 2][next(4) as usize],
                        record,
                    }
                })
                .collect();
            let mut expected = entries.clone();
            expected.sort_by_key(|e| (e.owner, e.rtype, e.record));
            let starts = sort_entries(&mut entries, seen as usize);
            let fields = |v: &[Entry]| -> Vec<(u32, u16, u32)> {
                v.iter().map(|e| (e.owner, e.rtype, e.record)).collect()
            };
            assert_eq!(fields(&entries), fields(&expected), "round {round}");
            for (n, pair) in starts.windows(2).enumerate() {
                let run = &entries[pair[0] as usize..pair[1] as usize];
                assert!(!run.is_empty() && run.iter().all(|e| e.owner as usize == n));
            }
            assert_eq!(starts.last().copied(), Some(len));
        }
    }

    #[test]
    fn each_owner_is_kept_once_and_its_records_group_wherever_they_are() {
        let origin: Name = "example.org.".parse().unwrap();
        let file: Arc<str> = Arc::from("t.zone");
        let text =
            "$TTL 60\nc A 192.0.2.1\nC AAAA ::1\nd A 192.0.2.4\nc TXT x\nc.example.org. MX 1 d\n";
        let records = parse_master(text, &file, &origin).unwrap();
        let index = OwnerIndex::new(&records, &origin).unwrap();
        // c, d, then c again: one copy of each key.
        assert_eq!(index.arena.len(), 2 * 15);
        let c: Vec<u32> = index
            .find(b"\x01c\x07example\x03org\x00")
            .iter()
            .map(|e| e.record)
            .collect();
        assert_eq!(c, [0, 4, 3, 1]); // A, MX, TXT, AAAA: by type code
        assert_eq!(index.owners().count(), 2);
        assert_eq!(index.rrsets().count(), 5);
    }

    #[test]
    fn owners_and_rrsets_are_runs_in_zone_order_whatever_the_case() {
        let origin: Name = "example.org.".parse().unwrap();
        let file: Arc<str> = Arc::from("t.zone");
        let text = "$TTL 60\nb A 192.0.2.2\nA A 192.0.2.1\nB AAAA ::1\nb A 192.0.2.3\nx.other. A 192.0.2.9\n";
        let records = parse_master(text, &file, &origin).unwrap();
        let index = OwnerIndex::new(&records, &origin).unwrap();
        // Owners come in no set order; within one, types then zone order.
        let mut owners: Vec<Vec<u32>> = index
            .owners()
            .map(|run| run.iter().map(|e| e.record).collect())
            .collect();
        owners.sort();
        assert_eq!(owners, [vec![0, 3, 2], vec![1], vec![4]]);
        let mut rrsets: Vec<Vec<u32>> = index
            .rrsets()
            .map(|run| run.iter().map(|e| e.record).collect())
            .collect();
        rrsets.sort();
        assert_eq!(rrsets, [vec![0, 3], vec![1], vec![2], vec![4]]);
        assert!(index.in_zone(0) && !index.in_zone(4));
        let found: Vec<u32> = index
            .find(b"\x01b\x07example\x03org\x00")
            .iter()
            .map(|e| e.record)
            .collect();
        assert_eq!(found, [0, 3, 2]);
        assert_eq!(
            index.key(&index.find(b"\x01a\x07example\x03org\x00")[0]),
            b"\x01a\x07example\x03org\x00"
        );
        assert!(index.find(b"\x01c\x07example\x03org\x00").is_empty());
    }
}
