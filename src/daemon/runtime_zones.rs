//! Secondary zones added at run time by `fedns ctl zone-add`, kept in
//! `ctl-zones.toml` in the data directory so that they survive a restart.
//!
//! The file is fedns's own (written whole, atomically: temporary file,
//! fsync, rename); a person may read it, or delete an entry while the
//! server is stopped. A damaged file stops the start with its place, rather
//! than silently forgetting zones.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hickory_proto::rr::Name;
use serde::{Deserialize, Serialize};

use crate::config::SecondaryConfig;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "ctl-zones.toml";

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    zone: Vec<Entry>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    primaries: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tsig_key: Option<String>,
}

/// The zones added at run time, and where they are kept.
#[derive(Debug)]
pub struct RuntimeZones {
    path: PathBuf,
    zones: Vec<SecondaryConfig>,
}

impl RuntimeZones {
    /// Reads the file in `data_dir` (none yet: no zones).
    pub fn open(data_dir: &Path) -> anyhow::Result<RuntimeZones> {
        let path = data_dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let zones = parse(&text).map_err(|(offset, message)| {
            let (line, column) = crate::zone::toml_zone::line_column(&text, offset);
            anyhow::anyhow!("{}:{line}:{column}: {message}", path.display())
        })?;
        Ok(RuntimeZones { path, zones })
    }

    /// The zones, in the order they were added.
    pub fn zones(&self) -> &[SecondaryConfig] {
        &self.zones
    }

    /// True if `zone` was added at run time.
    pub fn contains(&self, zone: &Name) -> bool {
        self.zones.iter().any(|z| &z.zone == zone)
    }

    /// Adds `zone` and writes the file; on a write error nothing changes.
    pub fn add(&mut self, zone: SecondaryConfig) -> Result<(), String> {
        let mut zones = self.zones.clone();
        zones.push(zone);
        self.write(zones)
    }

    /// Removes `zone` and writes the file; on a write error nothing changes.
    pub fn remove(&mut self, zone: &Name) -> Result<(), String> {
        let zones = self
            .zones
            .iter()
            .filter(|z| &z.zone != zone)
            .cloned()
            .collect();
        self.write(zones)
    }

    fn write(&mut self, zones: Vec<SecondaryConfig>) -> Result<(), String> {
        let file = File {
            zone: zones
                .iter()
                .map(|z| Entry {
                    name: z.zone.to_ascii(),
                    primaries: z.primaries.iter().map(ToString::to_string).collect(),
                    tsig_key: z.tsig_key.clone(),
                })
                .collect(),
        };
        let text = format!(
            "# Secondary zones added by `fedns ctl zone-add` (fedns rewrites this file).\n\n{}",
            toml::to_string(&file).map_err(|e| e.to_string())?
        );
        crate::store::files::write_atomically(&self.path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        self.zones = zones;
        Ok(())
    }
}

/// The zones of the file's text; an error is (byte offset, message).
fn parse(text: &str) -> Result<Vec<SecondaryConfig>, (usize, String)> {
    let file: File = toml::from_str(text).map_err(|e| {
        (
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_owned(),
        )
    })?;
    file.zone
        .into_iter()
        .map(|entry| {
            let at = text.find(&entry.name).unwrap_or(0);
            let mut zone = Name::from_ascii(&entry.name)
                .map_err(|e| (at, format!("bad zone name {:?}: {e}", entry.name)))?;
            zone.set_fqdn(true);
            let primaries = entry
                .primaries
                .iter()
                .map(|p| {
                    p.parse::<SocketAddr>()
                        .map_err(|_| (at, format!("zone {zone}: bad primary {p:?}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if primaries.is_empty() {
                return Err((at, format!("zone {zone} has no primaries")));
            }
            Ok(SecondaryConfig {
                zone,
                primaries,
                tsig_key: entry.tsig_key,
                catalog: false,
                tls: None,
                tls_client: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_survive_a_reopen_and_a_damaged_file_names_its_place() {
        let dir = std::env::temp_dir().join(format!("fedns-rtz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut zones = RuntimeZones::open(&dir).unwrap();
        assert!(zones.zones().is_empty());
        let zone: Name = "example.net.".parse().unwrap();
        zones
            .add(SecondaryConfig {
                zone: zone.clone(),
                primaries: vec!["127.0.0.1:5301".parse().unwrap()],
                tsig_key: Some("xfr-key".into()),
                catalog: false,
                tls: None,
                tls_client: None,
            })
            .unwrap();
        let again = RuntimeZones::open(&dir).unwrap();
        assert!(again.contains(&zone));
        assert_eq!(again.zones()[0].tsig_key.as_deref(), Some("xfr-key"));
        zones.remove(&zone).unwrap();
        assert!(RuntimeZones::open(&dir).unwrap().zones().is_empty());

        std::fs::write(
            dir.join(FILE_NAME),
            "[[zone]]\nname = \"example.net\"\nprimaries = [\"nowhere\"]\n",
        )
        .unwrap();
        let e = RuntimeZones::open(&dir).unwrap_err().to_string();
        assert!(
            e.contains("ctl-zones.toml:2:9: zone example.net.: bad primary"),
            "{e}"
        );
        std::fs::write(dir.join(FILE_NAME), "[[zone]]\nnam = 1\n").unwrap();
        let e = RuntimeZones::open(&dir).unwrap_err().to_string();
        assert!(e.contains("ctl-zones.toml:2:1:"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
