//! A zone's records sorted by owner and type, in a few bytes a record.
//!
//! Validation (duplicates, CNAME beside other data) and the snapshot build
//! both need the records of one owner, and of one RRset, side by side. A map
//! from `Name` would cost a hundred bytes a record on zones of millions of
//! records; here owners are lower-cased wire names (RFC 4343: names compare
//! case-insensitively) packed in one arena, and each record is a 12-byte
//! entry sorted by (owner, type, position in the zone).

use hickory_proto::rr::Name;

use super::SourcedRecord;
use crate::proto::name::{label_offsets, name_key};

/// One record in the index.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Where its owner's lower-cased wire name starts in the arena.
    key_at: u32,
    /// [`key_hash`] of that name: the first field of the order.
    hash: u32,
    key_len: u8,
    /// Its type code.
    pub rtype: u16,
    /// Its position in the records indexed.
    pub record: u32,
}

/// Records sorted by (owner, type, position): owners and RRsets are runs
/// of neighbours, and records of one RRset keep their zone order.
///
/// Owners are ordered by a hash of the name first, then by the name: any
/// order that keeps one owner's records together would do (nothing reads
/// the owners in DNS order), and this one settles nearly every comparison
/// of the sort with one integer compare (issue 18: the sort was a third of
/// the instructions of loading a 200 000-record zone).
#[derive(Debug, Default)]
pub struct OwnerIndex {
    arena: Vec<u8>,
    entries: Vec<Entry>,
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
        let mut arena = Vec::new();
        let mut entries = Vec::with_capacity(records.len());
        let mut in_zone = Vec::with_capacity(records.len());
        let mut key = Vec::new();
        // The previous record's owner: zone files write an owner's records
        // together, and a record of the same owner shares its key (one copy
        // in the arena, and equal entries compare without reading it).
        let mut previous: Option<(Entry, bool)> = None;
        for (i, sourced) in records.iter().enumerate() {
            let rtype = u16::from(sourced.record_type());
            let record = u32::try_from(i).map_err(|_| too_big())?;
            if let Some((same, below)) = previous.filter(|(p, _)| {
                let at = p.key_at as usize;
                sourced
                    .owner_wire()
                    .eq_ignore_ascii_case(&arena[at..at + usize::from(p.key_len)])
            }) {
                in_zone.push(below);
                entries.push(Entry {
                    rtype,
                    record,
                    ..same
                });
                continue;
            }
            // Length octets are below 64, so only the letters of labels change.
            key.clear();
            key.extend_from_slice(sourced.owner_wire());
            key.make_ascii_lowercase();
            // At or below the origin: the origin ends the key, at a label.
            let below = key.len().checked_sub(origin.len()).is_some_and(|at| {
                key[at..] == *origin && label_offsets(&key).any(|label| label == at)
            });
            let entry = Entry {
                key_at: u32::try_from(arena.len()).map_err(|_| too_big())?,
                hash: key_hash(&key),
                // A name's wire form is at most 255 octets (RFC 1035 2.3.4).
                key_len: u8::try_from(key.len()).map_err(|_| too_big())?,
                rtype,
                record,
            };
            in_zone.push(below);
            entries.push(entry);
            previous = Some((entry, below));
            arena.extend_from_slice(&key);
        }
        let mut index = OwnerIndex {
            arena,
            entries,
            in_zone,
        };
        sort_entries(&mut index.entries, &index.arena);
        Ok(index)
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

    /// Every entry, sorted.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entries of the owner keyed `key` (a lower-cased wire name).
    pub fn find(&self, key: &[u8]) -> &[Entry] {
        let hash = key_hash(key);
        let start = self
            .entries
            .partition_point(|e| (e.hash, self.key(e)) < (hash, key));
        let len = self.entries[start..]
            .iter()
            .take_while(|e| self.key(e) == key)
            .count();
        &self.entries[start..start + len]
    }

    /// Runs of entries with the same owner.
    pub fn owners(&self) -> impl Iterator<Item = &[Entry]> {
        self.entries.chunk_by(|a, b| self.same_owner(a, b))
    }

    /// Runs of entries with the same owner and type.
    pub fn rrsets(&self) -> impl Iterator<Item = &[Entry]> {
        self.entries
            .chunk_by(|a, b| a.rtype == b.rtype && self.same_owner(a, b))
    }

    /// Whether two entries have one owner (a shared key says so at once).
    fn same_owner(&self, a: &Entry, b: &Entry) -> bool {
        a.key_at == b.key_at || (a.hash == b.hash && self.key(a) == self.key(b))
    }
}

/// Sorts `entries`, given in record order, by (hash, owner, type,
/// position); `arena` holds their keys.
fn sort_entries(entries: &mut [Entry], arena: &[u8]) {
    // The radix sort is stable, so this orders them by (hash, position).
    // Runs of one hash are nearly always one owner's records already in
    // type order; the rest (RRsets of one owner out of type order, two
    // owners with one hash) are put in the full order in place.
    radsort::sort_by_key(entries, |e| e.hash);
    let key = |e: &Entry| &arena[e.key_at as usize..e.key_at as usize + usize::from(e.key_len)];
    let order = |a: &Entry, b: &Entry| {
        (if a.key_at == b.key_at {
            std::cmp::Ordering::Equal
        } else {
            key(a).cmp(key(b))
        })
        .then(a.rtype.cmp(&b.rtype))
        .then(a.record.cmp(&b.record))
    };
    for run in entries.chunk_by_mut(|a, b| a.hash == b.hash) {
        if !run.is_sorted_by(|a, b| order(a, b).is_le()) {
            run.sort_unstable_by(order);
        }
    }
}

/// A hash of a lower-cased wire name (FNV-1a, 32 bits): spreads owners
/// over the order; equal names hash equal, which is all correctness needs.
fn key_hash(key: &[u8]) -> u32 {
    key.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::master::parse_master;
    use std::sync::Arc;

    #[test]
    fn entries_sort_by_hash_owner_type_and_position_even_when_owners_share_a_hash() {
        // Keys of one octet each; hashes chosen to collide across owners.
        let arena = b"abcd";
        let mut state = 0x2545_f491_u32;
        let mut next = |n: u32| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state % n
        };
        for round in 0..200 {
            let len = 1 + next(40);
            let mut entries: Vec<Entry> = (0..len)
                .map(|record| {
                    let owner = next(4);
                    Entry {
                        key_at: owner,
                        // Owners 0 and 1 share a hash; 2 and 3 have their own.
                        hash: [7, 7, 3, 9][owner as usize] * (round % 3 + 1),
                        key_len: 1,
                        rtype: [1, 28, 16, 2][next(4) as usize],
                        record,
                    }
                })
                .collect();
            let mut expected = entries.clone();
            expected.sort_by_key(|e| (e.hash, arena[e.key_at as usize], e.rtype, e.record));
            sort_entries(&mut entries, arena);
            let fields = |v: &[Entry]| -> Vec<(u32, u32, u16, u32)> {
                v.iter()
                    .map(|e| (e.hash, e.key_at, e.rtype, e.record))
                    .collect()
            };
            assert_eq!(fields(&entries), fields(&expected), "round {round}");
        }
    }

    #[test]
    fn neighbours_of_one_owner_share_a_key_and_still_group_with_the_rest() {
        let origin: Name = "example.org.".parse().unwrap();
        let file: Arc<str> = Arc::from("t.zone");
        let text =
            "$TTL 60\nc A 192.0.2.1\nC AAAA ::1\nd A 192.0.2.4\nc TXT x\nc.example.org. MX 1 d\n";
        let records = parse_master(text, &file, &origin).unwrap();
        let index = OwnerIndex::new(&records, &origin).unwrap();
        // c, d, then c again: the fourth record brings its own copy of the
        // key, which the fifth shares.
        assert_eq!(index.arena.len(), 3 * 15);
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
