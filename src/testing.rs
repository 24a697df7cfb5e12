//! Test support: zones from TOML text, without files.

use std::sync::Arc;

use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::zone::toml_zone::parse_toml_zone;
use crate::zone::validate::validate_zone;

/// Builds a zone set from TOML zone texts; panics on errors (tests only).
pub(crate) fn zones_from_toml(texts: &[&str]) -> ZoneSet {
    ZoneSet::new(texts.iter().map(|text| Arc::new(snapshot_from_toml(text))))
}

/// Builds one zone's snapshot from TOML zone text; panics on errors.
pub(crate) fn snapshot_from_toml(text: &str) -> ZoneSnapshot {
    let file: Arc<str> = Arc::from("test.toml");
    let zone = parse_toml_zone(text, &file, None).unwrap_or_else(|e| panic!("{e}"));
    validate_zone(&zone).unwrap_or_else(|e| panic!("{e}"));
    ZoneSnapshot::build(zone).expect("snapshot")
}
