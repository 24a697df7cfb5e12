//! The journal of a primary zone's dynamic updates: what survives a restart
//! and a reload of the zone file.
//!
//! One file per zone, `DATA_DIR/journal/<zone>.jnl`, of checksummed
//! entries:
//!
//! - first a **base**: every record of the zone as its file held it when
//!   the journal started (so a later edit of the file can be told apart
//!   from the updates, and merged with them: see [`merge`]);
//! - then one **diff** per accepted update: the serials it goes from and
//!   to, the records it removed and the records it added (RFC 1995's form,
//!   so the same data could be served as IXFR).
//!
//! Invariants, and why:
//!
//! - an update is appended and `fsync`ed before its answer is sent and
//!   before it is published, so an update answered NOERROR is on disk;
//! - every entry carries its length and a SHA-256 checksum (the `ring`
//!   already used for TSIG; no new dependency for a CRC). A crash in the
//!   middle of an append leaves a torn last entry: reading stops there,
//!   says so, and the next write rewrites the file without it. A torn
//!   entry was never acknowledged, so nothing acknowledged is lost;
//! - the journal is only ever rewritten whole, with
//!   [`write_atomically`](super::files::write_atomically): a rebase
//!   (new base, one diff to the merged version) leaves the old journal or
//!   the new one, never a mix.
//!
//! Records are stored in DNS wire form with uncompressed names, read back
//! with hickory-proto's decoder: exact, and no text grammar to keep in
//! step with the zone-file parser.
//!
//! File format (all integers big-endian):
//!
//! ```text
//! "FEDNSJ1\n"
//! entry*:  u32 length of payload, 32-byte SHA-256 of payload, payload
//! payload: 0x01 base: u32 serial, records
//!          0x02 diff: u32 from serial, u32 to serial, records removed, records added
//! records: u32 count, then each record as on the wire (owner, type, class IN, TTL, RDATA)
//! ```

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder, NameEncoding,
};

use crate::snapshot::history::record_key;

const MAGIC: &[u8; 8] = b"FEDNSJ1\n";
const BASE: u8 = 1;
const DIFF: u8 = 2;
/// The largest entry read back (a base of a large zone fits; a corrupt
/// length does not make us allocate gigabytes).
const MAX_ENTRY: usize = 1 << 30;

/// One accepted update: the records it removed and added between two serials.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JournalDiff {
    /// The serial before.
    pub from_serial: u32,
    /// The serial after.
    pub to_serial: u32,
    /// Records removed (the old SOA among them).
    pub removed: Vec<Record>,
    /// Records added (the new SOA among them).
    pub added: Vec<Record>,
}

/// A journal as read from disk.
#[derive(Clone, Debug, Default)]
pub struct JournalContents {
    /// The zone's records when the journal started (its file's version).
    pub base: Vec<Record>,
    /// The updates since, in order.
    pub diffs: Vec<JournalDiff>,
    /// Bytes at the end that did not form a whole, intact entry (an append
    /// cut off by a crash), ignored.
    pub torn_bytes: usize,
}

impl JournalContents {
    /// The zone now: the base with every diff applied.
    pub fn current(&self) -> Vec<Record> {
        let mut records = RecordSet::new(self.base.iter().cloned());
        for diff in &self.diffs {
            records.apply(diff);
        }
        records.into_records()
    }
}

/// Errors reading or writing a journal; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not a journal, or an entry inside it is damaged (not
    /// just torn at the end).
    #[error("{path}: {message}")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// What is wrong, with the byte offset.
        message: String,
    },
}

/// The journal file of `zone` under `data_dir`.
pub fn journal_path(data_dir: &Path, zone: &Name) -> PathBuf {
    let mut name = zone.to_lowercase().to_ascii();
    if name.ends_with('.') && name.len() > 1 {
        name.pop();
    }
    // Zone names may hold '/' in escaped form only; keep file names plain.
    let file: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    data_dir.join("journal").join(format!("{file}.jnl"))
}

/// Reads the journal at `path`: `None` when there is none.
pub fn read(path: &Path) -> Result<Option<JournalContents>, JournalError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(JournalError::Io {
                path: path.into(),
                source,
            });
        }
    };
    parse(&bytes)
        .map(Some)
        .map_err(|message| JournalError::Corrupt {
            path: path.into(),
            message,
        })
}

/// Starts the journal at `path` over: `base`, then `diffs`.
pub fn rewrite(path: &Path, base: &[Record], diffs: &[JournalDiff]) -> Result<(), JournalError> {
    let mut bytes = MAGIC.to_vec();
    push_entry(&mut bytes, &base_payload(base));
    for diff in diffs {
        push_entry(&mut bytes, &diff_payload(diff));
    }
    super::files::write_atomically(path, &bytes).map_err(|source| JournalError::Io {
        path: path.into(),
        source,
    })
}

/// Appends `diff` and waits for it to reach the disk. A failed write is
/// cut back off, so the journal never holds a torn entry while the server
/// runs (a crash can still leave one: reading skips it, and the load
/// rewrites the journal without it).
pub fn append(path: &Path, diff: &JournalDiff) -> Result<(), JournalError> {
    let io = |source| JournalError::Io {
        path: path.into(),
        source,
    };
    let mut entry = Vec::new();
    push_entry(&mut entry, &diff_payload(diff));
    let mut file = OpenOptions::new().append(true).open(path).map_err(io)?;
    let length = file.metadata().map_err(io)?.len();
    if let Err(e) = file.write_all(&entry).and_then(|()| file.sync_data()) {
        let _ = file.set_len(length);
        return Err(io(e));
    }
    Ok(())
}

/// Removes the journal at `path` (the zone file now holds everything).
pub fn remove(path: &Path) -> Result<(), JournalError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(JournalError::Io {
            path: path.into(),
            source,
        }),
    }
}

/// What to serve when a zone's file and its journal meet (at start and on
/// every reload).
#[derive(Debug, PartialEq)]
pub enum Merged {
    /// The file already holds every update (it was written from
    /// `fedns zone export`, or by hand to the same records): serve it, and
    /// the journal is no longer needed.
    FileHoldsUpdates,
    /// The file is the journal's base: the updates apply on top of it.
    Replayed {
        /// The zone: the base with every update.
        records: Vec<Record>,
        /// How many updates.
        updates: usize,
    },
    /// A person changed the file since the journal started. Their changes
    /// (file minus base) were applied to the updated zone; the result's
    /// SOA is the file's, with a serial above both.
    Rebased {
        /// The zone: the updated zone with the person's changes.
        records: Vec<Record>,
        /// How many records the person added and removed.
        file_changes: usize,
        /// How many updates were kept.
        updates: usize,
    },
}

/// Merges a zone file's records with the journal (see [`Merged`]). The
/// caller validates the result like any zone and refuses it (keeping what
/// is served, and the journal) when it is invalid: the person's edit
/// conflicts with the updates.
///
/// Applying the person's changes is idempotent: a record they removed that
/// an update removed too stays removed, one they added that an update
/// added too is there once. So a file written from `fedns zone export`
/// (base plus updates) merges to exactly itself.
pub fn merge(file: &[Record], journal: &JournalContents) -> Merged {
    let base = RecordSet::new(journal.base.iter().cloned());
    let file_set = RecordSet::new(file.iter().cloned());
    let current = journal.current();
    if file_set.same_records(&RecordSet::new(current.iter().cloned())) {
        return Merged::FileHoldsUpdates;
    }
    if base.same_records(&file_set) {
        return Merged::Replayed {
            records: current,
            updates: journal.diffs.len(),
        };
    }
    let removed: Vec<Record> = base.minus(&file_set).filter(|r| !is_soa(r)).collect();
    let added: Vec<Record> = file_set.minus(&base).filter(|r| !is_soa(r)).collect();
    let file_changes = removed.len() + added.len();
    let mut merged = RecordSet::new(current.iter().cloned());
    merged.apply(&JournalDiff {
        from_serial: 0,
        to_serial: 0,
        removed,
        added,
    });
    let current_serial = soa_serial_of(&current);
    let file_soa = file.iter().find(|r| is_soa(r)).cloned();
    if let Some(mut soa) = file_soa {
        if let RData::SOA(s) = &mut soa.data
            && let Some(current) = current_serial
            && !crate::proto::serial::is_newer(s.serial, current)
        {
            s.serial = current.wrapping_add(1);
        }
        merged.retain(|r| !is_soa(r));
        merged.insert(soa);
    }
    Merged::Rebased {
        records: merged.into_records(),
        file_changes,
        updates: journal.diffs.len(),
    }
}

/// What turns `old` into `new`: the records removed and the records added
/// (compared in canonical form, TTL included).
pub fn difference(old: &[Record], new: &[Record]) -> (Vec<Record>, Vec<Record>) {
    let old_set = RecordSet::new(old.iter().cloned());
    let new_set = RecordSet::new(new.iter().cloned());
    (
        old_set.minus(&new_set).collect(),
        new_set.minus(&old_set).collect(),
    )
}

/// The SOA serial among `records`.
pub fn soa_serial_of(records: &[Record]) -> Option<u32> {
    records.iter().find_map(|r| match &r.data {
        RData::SOA(s) => Some(s.serial),
        _ => None,
    })
}

fn is_soa(record: &Record) -> bool {
    record.record_type() == RecordType::SOA
}

/// Records keyed by their canonical form: a set. `index` maps each key to
/// the record's slot; a removed record leaves an empty slot.
struct RecordSet {
    records: Vec<Option<Record>>,
    index: std::collections::HashMap<Vec<u8>, usize>,
}

impl RecordSet {
    fn new(records: impl IntoIterator<Item = Record>) -> RecordSet {
        let mut set = RecordSet {
            records: Vec::new(),
            index: Default::default(),
        };
        for r in records {
            set.insert(r);
        }
        set
    }

    fn insert(&mut self, record: Record) {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            self.index.entry(record_key(&record))
        {
            slot.insert(self.records.len());
            self.records.push(Some(record));
        }
    }

    fn remove(&mut self, record: &Record) {
        if let Some(i) = self.index.remove(&record_key(record)) {
            self.records[i] = None;
        }
    }

    fn retain(&mut self, keep: impl Fn(&Record) -> bool) {
        let gone: Vec<Record> = self.iter().filter(|r| !keep(r)).cloned().collect();
        for r in &gone {
            self.remove(r);
        }
    }

    fn apply(&mut self, diff: &JournalDiff) {
        for r in &diff.removed {
            self.remove(r);
        }
        for r in &diff.added {
            self.insert(r.clone());
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().flatten()
    }

    fn same_records(&self, other: &RecordSet) -> bool {
        self.index.len() == other.index.len()
            && self.index.keys().all(|k| other.index.contains_key(k))
    }

    /// The records of `self` that `other` does not hold (keys not recomputed).
    fn minus<'a>(&'a self, other: &'a RecordSet) -> impl Iterator<Item = Record> + 'a {
        self.index
            .iter()
            .filter(|(key, _)| !other.index.contains_key(*key))
            .filter_map(|(_, &i)| self.records[i].clone())
    }

    fn into_records(self) -> Vec<Record> {
        self.records.into_iter().flatten().collect()
    }
}

fn push_entry(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, payload).as_ref());
    out.extend_from_slice(payload);
}

fn base_payload(base: &[Record]) -> Vec<u8> {
    let mut p = vec![BASE];
    p.extend_from_slice(&soa_serial_of(base).unwrap_or(0).to_be_bytes());
    push_records(&mut p, base);
    p
}

fn diff_payload(diff: &JournalDiff) -> Vec<u8> {
    let mut p = vec![DIFF];
    p.extend_from_slice(&diff.from_serial.to_be_bytes());
    p.extend_from_slice(&diff.to_serial.to_be_bytes());
    push_records(&mut p, &diff.removed);
    push_records(&mut p, &diff.added);
    p
}

fn push_records(out: &mut Vec<u8>, records: &[Record]) {
    let mut body = Vec::new();
    let mut count = 0u32;
    for r in records {
        let mut one = Vec::new();
        let mut encoder = BinEncoder::new(&mut one);
        encoder.set_name_encoding(NameEncoding::Uncompressed);
        if r.emit(&mut encoder).is_ok() {
            body.extend_from_slice(&one);
            count += 1;
        }
    }
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&body);
}

fn parse(bytes: &[u8]) -> Result<JournalContents, String> {
    if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err("not a fedns journal (bad magic)".into());
    }
    let mut at = MAGIC.len();
    let mut contents = JournalContents::default();
    let mut have_base = false;
    while at < bytes.len() {
        let Some(payload) = entry_at(bytes, at) else {
            contents.torn_bytes = bytes.len() - at;
            break;
        };
        let entry_start = at;
        at += 4 + 32 + payload.len();
        let mut decoder = BinDecoder::new(payload);
        let bad = |e: &dyn std::fmt::Display| format!("entry at byte {entry_start}: {e}");
        let kind = decoder.read_u8().map_err(|e| bad(&e))?.unverified();
        match (kind, have_base) {
            (BASE, false) => {
                let _serial = read_u32(&mut decoder).map_err(|e| bad(&e))?;
                contents.base = read_records(&mut decoder).map_err(|e| bad(&e))?;
                have_base = true;
            }
            (DIFF, true) => {
                let from_serial = read_u32(&mut decoder).map_err(|e| bad(&e))?;
                let to_serial = read_u32(&mut decoder).map_err(|e| bad(&e))?;
                let removed = read_records(&mut decoder).map_err(|e| bad(&e))?;
                let added = read_records(&mut decoder).map_err(|e| bad(&e))?;
                contents.diffs.push(JournalDiff {
                    from_serial,
                    to_serial,
                    removed,
                    added,
                });
            }
            (BASE, true) => return Err(bad(&"a second base")),
            (DIFF, false) => return Err(bad(&"a diff before the base")),
            (other, _) => return Err(bad(&format!("unknown entry kind {other}"))),
        }
    }
    if !have_base {
        // Only a torn first entry: the journal never got its base.
        return Ok(JournalContents {
            torn_bytes: bytes.len() - MAGIC.len(),
            ..Default::default()
        });
    }
    Ok(contents)
}

/// The payload of the entry at `at`, if a whole one with a good checksum
/// is there.
fn entry_at(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let len = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    if len > MAX_ENTRY {
        return None;
    }
    let sum = bytes.get(at + 4..at + 36)?;
    let payload = bytes.get(at + 36..at + 36 + len)?;
    let actual = ring::digest::digest(&ring::digest::SHA256, payload);
    (actual.as_ref() == sum).then_some(payload)
}

fn read_u32(decoder: &mut BinDecoder<'_>) -> Result<u32, String> {
    decoder
        .read_u32()
        .map(|v| v.unverified())
        .map_err(|e| e.to_string())
}

fn read_records(decoder: &mut BinDecoder<'_>) -> Result<Vec<Record>, String> {
    let count = read_u32(decoder)?;
    let mut records = Vec::with_capacity((count as usize).min(1 << 16));
    for _ in 0..count {
        records.push(Record::read(decoder).map_err(|e| e.to_string())?);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, SOA, TXT};
    use std::collections::HashSet;

    fn soa(serial: u32) -> Record {
        let n = Name::from_ascii("example.org.").unwrap();
        Record::from_rdata(
            n.clone(),
            3600,
            RData::SOA(SOA::new(n.clone(), n, serial, 1, 1, 1, 1)),
        )
    }

    fn a(name: &str, last: u8) -> Record {
        Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            300,
            RData::A(A::new(198, 51, 100, last)),
        )
    }

    fn txt(name: &str, text: &str) -> Record {
        Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            60,
            RData::TXT(TXT::new(vec![text.into()])),
        )
    }

    fn keys(records: &[Record]) -> HashSet<Vec<u8>> {
        records.iter().map(record_key).collect()
    }

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "fedns-journal-{}-{}",
            std::process::id(),
            crate::proto::query_id::random_id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn entries_are_read_back_and_a_torn_tail_is_ignored() {
        let d = dir();
        let path = d.join("z.jnl");
        let base = vec![soa(1), a("www.example.org.", 1)];
        rewrite(&path, &base, &[]).unwrap();
        let diff = JournalDiff {
            from_serial: 1,
            to_serial: 2,
            removed: vec![soa(1)],
            added: vec![soa(2), txt("_acme-challenge.example.org.", "token")],
        };
        append(&path, &diff).unwrap();
        let read_back = read(&path).unwrap().unwrap();
        assert_eq!(read_back.diffs, vec![diff.clone()]);
        assert_eq!(keys(&read_back.base), keys(&base));
        // A crash in the middle of the next append.
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        let mut next = Vec::new();
        push_entry(&mut next, &diff_payload(&diff));
        bytes.extend_from_slice(&next[..next.len() / 2]);
        std::fs::write(&path, &bytes).unwrap();
        let torn = read(&path).unwrap().unwrap();
        assert_eq!(torn.diffs.len(), 1);
        assert_eq!(torn.torn_bytes, next.len() / 2);
        // Rewritten without the tail (as the load does), appends go on.
        rewrite(&path, &torn.base, &torn.diffs).unwrap();
        let diff3 = JournalDiff {
            from_serial: 2,
            to_serial: 3,
            removed: vec![soa(2)],
            added: vec![soa(3)],
        };
        append(&path, &diff3).unwrap();
        let after = read(&path).unwrap().unwrap();
        assert_eq!(after.torn_bytes, 0);
        assert_eq!(after.diffs.len(), 2);
        assert!(std::fs::metadata(&path).unwrap().len() as usize > whole);
        assert_eq!(soa_serial_of(&after.current()), Some(3));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_damaged_entry_in_the_middle_is_an_error_naming_the_offset() {
        let d = dir();
        let path = d.join("z.jnl");
        rewrite(&path, &[soa(1)], &[]).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] = b'X';
        std::fs::write(&path, &bytes).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("bad magic"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
        assert!(read(&path).unwrap().is_none());
    }

    fn journal(base: Vec<Record>, diffs: Vec<JournalDiff>) -> JournalContents {
        JournalContents {
            base,
            diffs,
            torn_bytes: 0,
        }
    }

    fn acme_update() -> JournalDiff {
        JournalDiff {
            from_serial: 1,
            to_serial: 2,
            removed: vec![soa(1)],
            added: vec![soa(2), txt("_acme-challenge.example.org.", "t")],
        }
    }

    #[test]
    fn an_unchanged_file_replays_the_updates() {
        let base = vec![soa(1), a("www.example.org.", 1)];
        let j = journal(base.clone(), vec![acme_update()]);
        let Merged::Replayed { records, updates } = merge(&base, &j) else {
            panic!("not replayed");
        };
        assert_eq!(updates, 1);
        assert_eq!(soa_serial_of(&records), Some(2));
        assert!(keys(&records).contains(&record_key(&txt("_acme-challenge.example.org.", "t"))));
    }

    #[test]
    fn an_edited_file_is_merged_with_the_updates_and_gets_a_higher_serial() {
        let base = vec![soa(1), a("www.example.org.", 1)];
        let j = journal(base, vec![acme_update()]);
        // The person changed www and left the serial alone.
        let file = vec![soa(1), a("www.example.org.", 9)];
        let Merged::Rebased {
            records,
            file_changes,
            updates,
        } = merge(&file, &j)
        else {
            panic!("not rebased");
        };
        assert_eq!((file_changes, updates), (2, 1));
        let k = keys(&records);
        assert!(k.contains(&record_key(&a("www.example.org.", 9))));
        assert!(!k.contains(&record_key(&a("www.example.org.", 1))));
        assert!(k.contains(&record_key(&txt("_acme-challenge.example.org.", "t"))));
        assert_eq!(soa_serial_of(&records), Some(3));
        // A file serial above the updates' is kept.
        let file = vec![soa(10), a("www.example.org.", 9)];
        let Merged::Rebased { records, .. } = merge(&file, &j) else {
            panic!("not rebased");
        };
        assert_eq!(soa_serial_of(&records), Some(10));
    }

    #[test]
    fn an_exported_file_holds_the_updates() {
        let base = vec![soa(1), a("www.example.org.", 1)];
        let j = journal(base, vec![acme_update()]);
        assert_eq!(merge(&j.current(), &j), Merged::FileHoldsUpdates);
    }
}
