//! Zones from files: the first load and every reload, turned into edits of
//! the [`ZoneStore`](super::ZoneStore).
//!
//! A reload reads every source again. A zone whose file fails to load keeps
//! the version that is serving (its errors are reported with their places):
//! no edit is made for it. A zone whose file is gone is removed. The caller
//! applies the edits in one batch, so no query ever sees a mix of versions,
//! and zones that did not change are not rebuilt by anyone downstream.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::Edit;
use crate::proto::name::NameKey;
use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::zone::load::{ZoneDirLoad, read_zone_file, read_zone_files, read_zones_dir};
use crate::zone::validate::validate_zone_indexed;
use crate::zone::{Place, Zone, ZoneErrors};

/// Where the zones served from files come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneSources {
    /// Every `*.toml` and `*.zone` file in this directory (read again on
    /// reload, so files added or removed there are picked up).
    pub dir: Option<PathBuf>,
    /// These files, besides the directory's.
    pub files: Vec<PathBuf>,
}

impl ZoneSources {
    /// Every zone file of a directory.
    pub fn dir(dir: impl Into<PathBuf>) -> ZoneSources {
        ZoneSources {
            dir: Some(dir.into()),
            files: Vec::new(),
        }
    }

    /// Exactly these files.
    pub fn files(files: Vec<PathBuf>) -> ZoneSources {
        ZoneSources { dir: None, files }
    }

    /// True when no file or directory is named (a server of secondary
    /// zones only).
    pub fn is_empty(&self) -> bool {
        self.dir.is_none() && self.files.is_empty()
    }

    /// The sources for people: the directory and the files.
    pub fn describe(&self) -> String {
        self.dir
            .iter()
            .chain(&self.files)
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One zone now being served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedZone {
    /// Its apex.
    pub origin: Name,
    /// Its SOA serial.
    pub serial: u32,
    /// How many records it holds.
    pub records: usize,
    /// The file it came from.
    pub source: Option<PathBuf>,
}

/// What a load or reload did.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Zones loaded from their files now.
    pub loaded: Vec<LoadedZone>,
    /// Files that failed, with every error found.
    pub failed: Vec<(PathBuf, ZoneErrors)>,
    /// Zones whose file failed and that keep serving their previous version.
    pub kept: Vec<LoadedZone>,
    /// True when the load gate (`fedns serve --strict` and the lint) refused
    /// the new zones: the set returned is the current one, unchanged.
    pub refused: bool,
    /// Zones no longer served: their file is gone.
    pub removed: Vec<Name>,
}

/// Decides whether freshly loaded, valid zones may be served (the lint's
/// `--strict` mode says no when they have delegation errors), judging them
/// as written and as they would be served, without a copy of either: `keep`
/// takes what the gate reads of each zone as written before the zone is
/// consumed by its snapshot; `judge` sees those and the snapshots.
pub struct LoadGate {
    /// What the gate keeps of a zone as written (its places included).
    pub keep: Box<dyn Fn(&Zone) -> Zone + Send + Sync>,
    /// Whether the zones (what `keep` kept, and the snapshots) may be served.
    pub judge: Box<Judge>,
}

/// The judgement of a [`LoadGate`]: the zones as kept, and as served.
pub type Judge = dyn Fn(&[&Zone], &ZoneSet) -> bool + Send + Sync;

impl LoadGate {
    /// Validates `zones` (as read, not yet validated), builds the
    /// snapshots of the valid ones and asks the gate: the snapshots when it
    /// lets them through, `None` when it refuses. A zone that fails
    /// validation, or whose snapshot cannot be built (no SOA, which
    /// validation rules out), is an error for its file. Validation's owner
    /// index is the build's: the records are sorted once.
    fn pass(&self, zones: Vec<Zone>) -> (Option<Vec<ZoneSnapshot>>, Vec<(PathBuf, ZoneErrors)>) {
        let mut failed = Vec::new();
        let mut valid = Vec::with_capacity(zones.len());
        for zone in zones {
            match validate_zone_indexed(&zone) {
                Ok(index) => valid.push((zone, index)),
                Err(errors) => failed.push((zone.source.clone().unwrap_or_default(), errors)),
            }
        }
        let kept: Vec<Zone> = valid.iter().map(|(z, _)| (self.keep)(z)).collect();
        let mut built = Vec::with_capacity(valid.len());
        for (zone, index) in valid {
            let path = zone.source.clone().unwrap_or_default();
            match ZoneSnapshot::build_indexed(zone, index) {
                Ok(snapshot) => built.push(Arc::new(snapshot)),
                Err(e) => {
                    let file: Arc<str> = Arc::from(path.display().to_string());
                    failed.push((path, ZoneErrors::one(Place::file(&file), e)));
                }
            }
        }
        let served = ZoneSet::new(built.iter().cloned());
        let refs: Vec<&Zone> = kept.iter().filter(|z| served.contains(&z.origin)).collect();
        let admitted = (self.judge)(&refs, &served);
        drop(served);
        if !admitted {
            return (None, failed);
        }
        // The set is gone, so each snapshot has one owner again.
        let snapshots = built
            .into_iter()
            .filter_map(|s| Arc::try_unwrap(s).ok())
            .collect();
        (Some(snapshots), failed)
    }
}

/// What a load or reload of the zone files produced.
#[derive(Debug, Default)]
pub struct FileLoad {
    /// The edits to apply to the store (in one batch).
    pub edits: Vec<Edit>,
    /// What happened, for the log.
    pub report: LoadReport,
    /// The zones the files own after the edits are applied (loaded now, or
    /// kept because their file failed).
    pub zones: HashSet<NameKey>,
}

/// Loads every zone of `sources`. `current` is what is served and
/// `owned` the zones that came from files before (a zone in `owned` whose
/// file is gone is removed; secondary zones are never in it). `gate` sees
/// the valid zones first; if it refuses them, there are no edits and the
/// report says so.
pub fn load(
    sources: &ZoneSources,
    current: &ZoneSet,
    owned: &HashSet<NameKey>,
    gate: &LoadGate,
    journals: Option<&Path>,
) -> FileLoad {
    let loaded = load_zones(sources, current, owned, gate, journals);
    release_freed_memory();
    loaded
}

/// Loads one zone file again (`fedns ctl reload ZONE`): the edit that
/// publishes it, or its errors (the serving version stays).
pub fn load_one(
    path: &Path,
    gate: &LoadGate,
    journals: Option<&Path>,
) -> Result<(Edit, LoadedZone), ZoneErrors> {
    let zone = read_zone_file(path)?;
    let zone = match journals {
        Some(dir) => with_journal(zone, dir, JournalWrites::Apply)?,
        None => zone,
    };
    let (admitted, mut failed) = gate.pass(vec![zone]);
    if let Some((_, errors)) = failed.pop() {
        return Err(errors);
    }
    let Some(snapshot) = admitted.and_then(|mut s| s.pop()) else {
        let file: Arc<str> = Arc::from(path.display().to_string());
        return Err(ZoneErrors::one(
            Place::file(&file),
            "--strict: the zone has delegation errors (logged above); still serving the previous version".to_string(),
        ));
    };
    release_freed_memory();
    let described = describe(&snapshot);
    Ok((Edit::Publish(Box::new(snapshot)), described))
}

/// Hands the pages that parsing freed back to the kernel. Parsing a big
/// zone (TOML above all) allocates many times the zone's size in small
/// pieces; freed, they stay in the process between the snapshot's
/// allocations, and the server would go on holding them while it serves.
/// Called after each load, and by the daemon once a replaced version is
/// dropped.
pub fn release_freed_memory() {
    // glibc only; other allocators return memory their own way.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's free lists; it touches
    // no memory the program owns and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn load_zones(
    sources: &ZoneSources,
    current: &ZoneSet,
    owned: &HashSet<NameKey>,
    gate: &LoadGate,
    journals: Option<&Path>,
) -> FileLoad {
    let mut found = ZoneDirLoad::default();
    if let Some(dir) = &sources.dir {
        match read_zones_dir(dir) {
            Ok(load) => found = load,
            Err(e) => {
                let file: Arc<str> = Arc::from(dir.display().to_string());
                found.failures.push((
                    dir.clone(),
                    ZoneErrors::one(
                        Place::file(&file),
                        format!("cannot read zone directory: {e}"),
                    ),
                ));
            }
        }
    }
    if !sources.files.is_empty() {
        let mut paths: Vec<PathBuf> = found
            .zones
            .iter()
            .filter_map(|z| z.source.clone())
            .collect();
        let extra: Vec<PathBuf> = sources
            .files
            .iter()
            .filter(|f| !paths.iter().any(|p| same_path(p, f)))
            .cloned()
            .collect();
        paths.extend(extra.iter().cloned());
        let mut more = read_zone_files(&extra);
        // Two files for one zone: the directory's comes first.
        more.zones.retain(|zone| {
            let clash = found.zones.iter().find(|z| z.origin == zone.origin);
            if let Some(first) = clash {
                let file: Arc<str> = Arc::from(
                    zone.source
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                );
                more.failures.push((
                    zone.source.clone().unwrap_or_default(),
                    ZoneErrors::one(
                        Place::file(&file),
                        format!(
                            "zone {} is already loaded from {}",
                            zone.origin,
                            first
                                .source
                                .as_ref()
                                .map(|p| p.display().to_string())
                                .unwrap_or_default()
                        ),
                    ),
                ));
            }
            clash.is_none()
        });
        found.zones.extend(more.zones);
        found.failures.extend(more.failures);
    }
    let ZoneDirLoad {
        mut zones,
        mut failures,
    } = found;
    if let Some(dir) = journals {
        let mut merged = Vec::with_capacity(zones.len());
        for zone in zones {
            let path = zone.source.clone().unwrap_or_default();
            match with_journal(zone, dir, JournalWrites::Apply) {
                Ok(zone) => merged.push(zone),
                Err(errors) => failures.push((path, errors)),
            }
        }
        zones = merged;
    }
    let mut out = FileLoad::default();
    // validate_zone rules out a zone without a snapshot; report it rather than trust it.
    let (admitted, unbuilt) = gate.pass(zones);
    let Some(snapshots) = admitted else {
        out.report.refused = true;
        out.report.failed = failures;
        out.report.failed.extend(unbuilt);
        out.zones = owned.clone();
        return out;
    };
    out.report.failed.extend(unbuilt);
    for snapshot in snapshots {
        out.report.loaded.push(describe(&snapshot));
        out.zones.insert(snapshot.origin_key().into());
        out.edits.push(Edit::Publish(Box::new(snapshot)));
    }
    for (path, errors) in failures {
        let previous = current.zones().into_iter().find(|z| {
            owned.contains(z.origin_key())
                && (z.source() == Some(&path) || same_file(z.source(), &path))
        });
        if let Some(previous) = previous
            && out.zones.insert(previous.origin_key().into())
        {
            out.report.kept.push(describe(previous));
        }
        out.report.failed.push((path, errors));
    }
    for key in owned {
        if !out.zones.contains(key)
            && let Some(zone) = current
                .zones()
                .into_iter()
                .find(|z| z.origin_key() == &**key)
        {
            out.edits.push(Edit::Remove(zone.origin().clone()));
            out.report.removed.push(zone.origin().clone());
        }
    }
    out
}

/// Whether merging a zone file with its journal may rewrite the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JournalWrites {
    /// Serving: a rebased journal is rewritten, a redundant one removed.
    Apply,
    /// Reading only (an export).
    ReadOnly,
}

/// The zone `file_zone` as a file just read it, with the dynamic updates
/// its journal in `data_dir` holds (see [`super::journal::merge`]):
///
/// - no journal: the file as it is;
/// - the file is the journal's base: the updates replayed on top;
/// - the file was edited: the person's changes merged with the updates
///   (journal rewritten over the new file), when the result is a valid
///   zone; else an error naming the file and the journal, and the zone
///   keeps serving what it serves (the journal is untouched);
/// - the file already holds the updates: the file, and the journal goes.
///
/// With [`JournalWrites::ReadOnly`] (`fedns zone export`) the journal is
/// read and never changed.
pub fn with_journal(
    file_zone: Zone,
    data_dir: &Path,
    writes: JournalWrites,
) -> Result<Zone, ZoneErrors> {
    use super::journal::{self, Merged};
    let path = journal::journal_path(data_dir, &file_zone.origin);
    let file_name: Arc<str> = Arc::from(
        file_zone
            .source
            .as_ref()
            .map_or_else(|| "<zone>".into(), |p| p.display().to_string()),
    );
    let error = |message: String| ZoneErrors::one(Place::file(&file_name), message);
    let contents = match journal::read(&path) {
        Ok(Some(c)) if !c.base.is_empty() => c,
        Ok(_) => return Ok(file_zone),
        Err(e) => {
            return Err(error(format!(
                "zone {}: its journal cannot be read ({e}); the zone keeps serving what it serves. Move the journal away to serve the file without its dynamic updates",
                file_zone.origin
            )));
        }
    };
    if contents.torn_bytes > 0 {
        tracing::warn!(
            "zone {}: {}: ignored {} bytes at the end (an update cut off by a crash before it was acknowledged)",
            file_zone.origin,
            path.display(),
            contents.torn_bytes
        );
        if writes == JournalWrites::Apply {
            journal::rewrite(&path, &contents.base, &contents.diffs)
                .map_err(|e| error(e.to_string()))?;
        }
    }
    let file_records: Vec<_> = file_zone.records.iter().map(|r| r.record()).collect();
    let (records, rebased) = match journal::merge(&file_records, &contents) {
        Merged::FileHoldsUpdates => {
            if writes == JournalWrites::ReadOnly {
                return Ok(file_zone);
            }
            journal::remove(&path).map_err(|e| error(e.to_string()))?;
            tracing::info!(
                "zone {}: {} holds the {} dynamic update(s) of {}: journal removed",
                file_zone.origin,
                file_name,
                contents.diffs.len(),
                path.display()
            );
            return Ok(file_zone);
        }
        Merged::Replayed { records, updates } => {
            tracing::info!(
                "zone {}: {updates} dynamic update(s) from {} applied on top of {file_name}",
                file_zone.origin,
                path.display()
            );
            (records, false)
        }
        Merged::Rebased {
            records,
            file_changes,
            updates,
        } => {
            tracing::info!(
                "zone {}: {file_name} changed since the dynamic updates began: its {file_changes} record change(s) merged with {updates} update(s) from {}",
                file_zone.origin,
                path.display()
            );
            (records, true)
        }
    };
    let journal_place: Arc<str> = Arc::from(path.display().to_string());
    // Records the file holds keep their file:line; the rest come from the journal.
    let places: std::collections::HashMap<Vec<u8>, Place> = file_zone
        .records
        .iter()
        .map(|r| {
            (
                crate::snapshot::history::record_key(&r.record()),
                r.place.clone(),
            )
        })
        .collect();
    let mut zone = Zone {
        records: Vec::with_capacity(records.len()),
        ..file_zone
    };
    for record in &records {
        let place = places
            .get(&crate::snapshot::history::record_key(record))
            .cloned()
            .unwrap_or_else(|| Place::file(&journal_place));
        zone.records
            .push(crate::zone::SourcedRecord::new(record, place).map_err(&error)?);
    }
    crate::zone::validate::validate_zone(&zone).map_err(|e| {
        error(format!(
            "zone {}: the file's changes conflict with the {} dynamic update(s) in {}: {e}; the zone keeps serving what it serves. Write the zone with its updates using `fedns zone export --data-dir DIR FILE`, edit that, and reload",
            zone.origin,
            contents.diffs.len(),
            path.display()
        ))
    })?;
    if rebased && writes == JournalWrites::Apply {
        let (removed, added) = journal::difference(&file_records, &records);
        let diff = journal::JournalDiff {
            from_serial: journal::soa_serial_of(&file_records).unwrap_or_default(),
            to_serial: journal::soa_serial_of(&records).unwrap_or_default(),
            removed,
            added,
        };
        journal::rewrite(&path, &file_records, &[diff]).map_err(|e| error(e.to_string()))?;
    }
    Ok(zone)
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

fn same_file(a: Option<&PathBuf>, b: &std::path::Path) -> bool {
    a.is_some_and(|a| a.file_name() == b.file_name())
}

fn describe(snapshot: &ZoneSnapshot) -> LoadedZone {
    LoadedZone {
        origin: snapshot.origin().clone(),
        serial: snapshot.serial(),
        records: snapshot.record_count(),
        source: snapshot.source().cloned(),
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new
/// one, never half of one: a temporary file beside it, fsync, rename, then
/// fsync of the directory. For every file fedns writes for itself (the
/// secondary's copies, the zones added by `fedns ctl`).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |out| out.write_all(bytes))
}

/// [`write_atomically`], with the content written by `write` to a buffered
/// writer (for content too big to hold at once).
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
