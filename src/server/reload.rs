//! Loading and reloading the served zones from their files.
//!
//! A reload reads every source again and builds a new [`ZoneSet`]. A zone
//! whose file fails to load keeps the version that is serving (its errors are
//! reported with their places); the others are replaced. The caller swaps
//! the whole set in one store, so no query ever sees a mix of versions.

use std::path::PathBuf;
use std::sync::Arc;

use hickory_proto::rr::Name;

use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::zone::load::{ZoneDirLoad, load_zone_files, load_zones_dir};
use crate::zone::{Place, Zone, ZoneErrors};

/// Where the served zones come from.
#[derive(Clone, Debug)]
pub enum ZoneSources {
    /// Every `*.toml` and `*.zone` file in a directory (read again on reload,
    /// so files added or removed there are picked up).
    Dir(PathBuf),
    /// These files.
    Files(Vec<PathBuf>),
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
    /// Zones whose records changed but whose serial did not: secondaries
    /// will not see the change (and IXFR history restarts).
    pub serial_not_increased: Vec<LoadedZone>,
}

/// Decides whether freshly loaded, valid zones may be served (the lint's
/// `--strict` mode says no when they have delegation errors).
pub type LoadGate = dyn Fn(&[&Zone]) -> bool + Send + Sync;

/// Loads every zone of `sources`, keeping the zones of `current` whose files
/// fail. `gate` sees the valid zones first; if it refuses them, nothing
/// changes and the report says so.
pub fn load(sources: &ZoneSources, current: &ZoneSet, gate: &LoadGate) -> (ZoneSet, LoadReport) {
    let loaded = load_zones(sources, current, gate);
    release_freed_memory();
    loaded
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

fn load_zones(sources: &ZoneSources, current: &ZoneSet, gate: &LoadGate) -> (ZoneSet, LoadReport) {
    let ZoneDirLoad { zones, failures } = match sources {
        ZoneSources::Dir(dir) => match load_zones_dir(dir) {
            Ok(load) => load,
            Err(e) => {
                let file: Arc<str> = Arc::from(dir.display().to_string());
                ZoneDirLoad {
                    zones: Vec::new(),
                    failures: vec![(
                        dir.clone(),
                        ZoneErrors::one(
                            Place::file(&file),
                            format!("cannot read zone directory: {e}"),
                        ),
                    )],
                }
            }
        },
        ZoneSources::Files(files) => load_zone_files(files),
    };
    let mut report = LoadReport::default();
    if !gate(&zones.iter().collect::<Vec<_>>()) {
        report.refused = true;
        report.failed = failures;
        return (current.clone(), report);
    }
    let mut snapshots = Vec::new();
    for zone in zones {
        match ZoneSnapshot::build(zone) {
            Ok(snapshot) => {
                // The diff from the serving version, for IXFR.
                let snapshot = match current.zone(snapshot.origin()) {
                    Some(previous) => {
                        let (snapshot, serial_ok) = snapshot.succeeding(previous);
                        if !serial_ok {
                            report.serial_not_increased.push(describe(&snapshot));
                        }
                        snapshot
                    }
                    None => snapshot,
                };
                report.loaded.push(describe(&snapshot));
                snapshots.push(Arc::new(snapshot));
            }
            Err(e) => {
                // validate_zone rules this out; report it rather than trust it.
                let file: Arc<str> = Arc::from("<snapshot>");
                report
                    .failed
                    .push((PathBuf::new(), ZoneErrors::one(Place::file(&file), e)));
            }
        }
    }
    for (path, errors) in failures {
        let previous = current.zones().into_iter().find(|z| {
            z.source() == Some(&path)
                || (matches!(sources, ZoneSources::Dir(_)) && same_file(z.source(), &path))
        });
        if let Some(previous) = previous
            && !snapshots.iter().any(|s| s.origin() == previous.origin())
        {
            report.kept.push(describe(previous));
            snapshots.push(Arc::clone(previous));
        }
        report.failed.push((path, errors));
    }
    (ZoneSet::new(snapshots), report)
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
