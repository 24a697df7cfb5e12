//! The zone model: what every source (TOML, RFC 1035 master file, transfer)
//! parses into, and the validation every zone passes before it is served.
//!
//! A [`Zone`] is a flat list of records, each with the [`Place`] it came
//! from, plus the Matrix delegations declared for it. It is the source side of
//! the data flow; [`crate::snapshot`] turns a valid zone into the indexed,
//! immutable form the answer engine reads.

pub mod duration;
pub mod error;
pub mod load;
pub mod master;
pub mod matrix;
pub mod owner_index;
pub mod place;
pub mod rdata_text;
pub mod record;
pub mod toml_lines;
pub mod toml_sections;
pub mod toml_write;
pub mod toml_zone;
pub mod validate;

use std::path::PathBuf;

use hickory_proto::rr::{Name, Record, RecordType};

pub use error::{ZoneError, ZoneErrors};
pub use load::{ZoneDirLoad, load_zone_file, load_zones_dir};
pub use matrix::MatrixDelegation;
pub use place::Place;
pub use record::SourcedRecord;

/// The largest TTL a record may carry (RFC 2181 section 8: 2^31 - 1).
pub const MAX_TTL: u32 = 0x7fff_ffff;

/// A zone as loaded from one source, before indexing.
///
/// Invariants after [`validate::validate_zone`] succeeded: every owner is at or
/// below `origin`; exactly one SOA, at the origin; at least one NS at the
/// origin; no CNAME beside other data; no duplicate records; TTLs within
/// [`MAX_TTL`].
#[derive(Clone, Debug, Default)]
pub struct Zone {
    /// The zone apex, absolute.
    pub origin: Name,
    /// Every record, in source order.
    pub records: Vec<SourcedRecord>,
    /// Matrix delegations declared for this zone (TOML `[[matrix]]`); their
    /// SRV records are already expanded into `records`.
    pub matrix: Vec<MatrixDelegation>,
    /// The file this zone was read from, when it came from one.
    pub source: Option<PathBuf>,
}

impl Zone {
    /// The SOA record at the apex, if the zone has one.
    pub fn soa(&self) -> Option<Record> {
        self.records
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA)
            .map(SourcedRecord::record)
            .find(|r| r.name == self.origin)
    }

    /// The SOA serial, if the zone has an SOA.
    pub fn serial(&self) -> Option<u32> {
        self.soa().and_then(|r| match r.data {
            hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
            _ => None,
        })
    }
}
