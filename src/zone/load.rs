//! Reading zones from disk: one file, or every zone file in a directory.
//!
//! `NAME.toml` is a TOML zone and `NAME.zone` an RFC 1035 master file; in both
//! the origin defaults to `NAME.`. Every zone is validated here, so what this
//! module returns can be indexed and served.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::error::ZoneErrors;
use super::master::parse_master;
use super::place::Place;
use super::toml_zone::parse_toml_zone;
use super::validate::validate_zone;
use super::{SourcedRecord, Zone};

/// The largest zone file fedns reads (a guard against pointing it at the wrong file).
pub const MAX_ZONE_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The kind of zone source, from the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneFormat {
    /// Zone-style TOML (`.toml`).
    Toml,
    /// RFC 1035 master file (`.zone`).
    Master,
}

impl ZoneFormat {
    /// The format of `path` by its extension, if it is a zone file.
    pub fn of(path: &Path) -> Option<ZoneFormat> {
        match path.extension()?.to_str()? {
            "toml" => Some(ZoneFormat::Toml),
            "zone" => Some(ZoneFormat::Master),
            _ => None,
        }
    }
}

/// Loads and validates one zone file.
pub fn load_zone_file(path: &Path) -> Result<Zone, ZoneErrors> {
    let zone = read_zone_file(path)?;
    validate_zone(&zone)?;
    Ok(zone)
}

/// Reads one zone file: parsed, not yet validated. For a caller that
/// validates as it builds (`fedns serve` does, with
/// [`validate_zone_indexed`](crate::zone::validate::validate_zone_indexed),
/// so that the zone's records are sorted once).
pub fn read_zone_file(path: &Path) -> Result<Zone, ZoneErrors> {
    let file: Arc<str> = Arc::from(path.display().to_string());
    let fail = |message: String| ZoneErrors::one(Place::file(&file), message);
    let format = ZoneFormat::of(path)
        .ok_or_else(|| fail("not a zone file: the name must end in .toml or .zone".into()))?;
    let size = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read: {e}")))?
        .len();
    if size > MAX_ZONE_FILE_BYTES {
        return Err(fail(format!(
            "file is {size} bytes; fedns reads zone files up to {MAX_ZONE_FILE_BYTES}"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let default_origin = origin_from_file_name(path);
    let zone = match format {
        ZoneFormat::Toml => parse_toml_zone(&text, &file, default_origin.as_ref())?,
        ZoneFormat::Master => {
            let origin = default_origin
                .ok_or_else(|| fail("cannot take a zone name from this file name".into()))?;
            master_zone(&text, &file, origin, path)?
        }
    };
    Ok(zone)
}

fn master_zone(text: &str, file: &Arc<str>, origin: Name, path: &Path) -> Result<Zone, ZoneErrors> {
    let records: Vec<SourcedRecord> = parse_master(text, file, &origin)?;
    Ok(Zone {
        origin,
        records,
        matrix: Vec::new(),
        source: Some(path.to_path_buf()),
    })
}

/// `zones/example.org.toml` -> `example.org.`
pub fn origin_from_file_name(path: &Path) -> Option<Name> {
    let stem = path.file_stem()?.to_str()?;
    let mut name = Name::from_ascii(stem).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// What loading (or reading) a directory produced: the zones, and the
/// errors of the files that failed (one entry per failed file).
#[derive(Debug, Default)]
pub struct ZoneDirLoad {
    /// The zones, in file-name order: valid ones when loaded
    /// ([`load_zones_dir`], [`load_zone_files`]), parsed ones when read
    /// ([`read_zones_dir`], [`read_zone_files`]).
    pub zones: Vec<Zone>,
    /// Files that failed, with all their errors.
    pub failures: Vec<(PathBuf, ZoneErrors)>,
}

/// Loads every `*.toml` and `*.zone` file directly in `dir`.
///
/// Two files for the same origin are an error for the second (in file-name
/// order); the first is kept.
pub fn load_zones_dir(dir: &Path) -> std::io::Result<ZoneDirLoad> {
    Ok(load_zone_files(&zone_files_in(dir)?))
}

/// [`load_zones_dir`] without validation (see [`read_zone_file`]).
pub fn read_zones_dir(dir: &Path) -> std::io::Result<ZoneDirLoad> {
    Ok(read_zone_files(&zone_files_in(dir)?))
}

/// The zone files directly in `dir`, in name order.
fn zone_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && ZoneFormat::of(p).is_some())
        .collect();
    // One directory's entries differ in their names only: compared as
    // strings they sort as paths do, without `Path`'s walk over components
    // (which was 40 % of starting on 10 000 zones).
    paths.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    Ok(paths)
}

/// Loads the given zone files (see [`load_zones_dir`]).
pub fn load_zone_files(paths: &[PathBuf]) -> ZoneDirLoad {
    zone_files(paths, load_zone_file)
}

/// [`load_zone_files`] without validation (see [`read_zone_file`]).
pub fn read_zone_files(paths: &[PathBuf]) -> ZoneDirLoad {
    zone_files(paths, read_zone_file)
}

/// The zones of `paths`, each read by `read`; a second file for an origin
/// is an error for that file.
fn zone_files(paths: &[PathBuf], read: fn(&Path) -> Result<Zone, ZoneErrors>) -> ZoneDirLoad {
    let mut out = ZoneDirLoad::default();
    // Origins seen so far, to the index of their zone (a hash, not a scan:
    // a directory of 10 000 zones would make a scan quadratic).
    let mut seen: std::collections::HashMap<crate::proto::name::NameKey, usize> =
        std::collections::HashMap::new();
    for path in paths {
        match read(path) {
            Ok(zone) => {
                let key = crate::proto::name::name_key(&zone.origin);
                if let Some(&first) = seen.get(&key) {
                    let file: Arc<str> = Arc::from(path.display().to_string());
                    let first_file = out.zones[first]
                        .source
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    out.failures.push((
                        path.clone(),
                        ZoneErrors::one(
                            Place::file(&file),
                            format!("zone {} is already loaded from {first_file}", zone.origin),
                        ),
                    ));
                } else {
                    seen.insert(key, out.zones.len());
                    out.zones.push(zone);
                }
            }
            Err(errors) => out.failures.push((path.clone(), errors)),
        }
    }
    out
}
