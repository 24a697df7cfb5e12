//! TEMPORARY stand-in, replaced by the RFC 1035 master-file parser.
use std::sync::Arc;

use hickory_proto::rr::{Name, Record};

use super::SourcedRecord;
use super::error::ZoneErrors;
use super::place::Place;

pub fn parse_master(
    text: &str,
    file: &Arc<str>,
    origin: &Name,
) -> Result<Vec<SourcedRecord>, ZoneErrors> {
    let _ = (text, origin);
    Err(ZoneErrors::one(
        Place::file(file),
        "master files not supported yet",
    ))
}

pub fn write_master(origin: &Name, records: &[Record]) -> String {
    let _ = (origin, records);
    String::new()
}
