//! Matrix federation delegation declared in a zone, and its SRV records.
//!
//! A `[[matrix]]` section in a TOML zone says "the homeserver for server name
//! S lives at target:port". It expands into the SRV RRset at
//! `_matrix-fed._tcp.S` (Matrix spec v1.8+) and, unless turned off, the
//! deprecated `_matrix._tcp.S` that older homeservers still query (the
//! homeserver differences are in `src/matrix/homeservers.rs`). It may also declare the
//! `.well-known/matrix/server` answer served for S and the certificate chain
//! served at the target, which the lint and `fedns explain` read.

use std::path::PathBuf;

use hickory_proto::rr::rdata::SRV;
use hickory_proto::rr::{Name, RData, Record};

use super::SourcedRecord;
use super::place::Place;

/// The current federation SRV service label (Matrix spec v1.8, MSC4040).
pub const MATRIX_FED_SERVICE: &str = "_matrix-fed";
/// The deprecated federation SRV service label, still queried by most homeservers.
pub const MATRIX_LEGACY_SERVICE: &str = "_matrix";
/// The port a homeserver uses when nothing says otherwise.
pub const DEFAULT_FEDERATION_PORT: u16 = 8448;

/// One SRV target of a delegation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvTarget {
    /// RFC 2782 priority (lower is tried first).
    pub priority: u16,
    /// RFC 2782 weight among records of equal priority.
    pub weight: u16,
    /// The port the homeserver listens on at `target`.
    pub port: u16,
    /// The host to connect to (absolute).
    pub target: Name,
}

/// A delegation of Matrix server name `server_name` as declared in a zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixDelegation {
    /// The server name S (absolute): the SRV owners are `_matrix-fed._tcp.S`
    /// and `_matrix._tcp.S`.
    pub server_name: Name,
    /// The SRV targets; empty when the delegation uses `.well-known` only.
    pub targets: Vec<SrvTarget>,
    /// Also publish the deprecated `_matrix._tcp` RRset.
    pub legacy_srv: bool,
    /// TTL of the SRV records (the zone default when `None`).
    pub ttl: Option<u32>,
    /// The `m.server` value served at `https://S/.well-known/matrix/server`, if declared.
    pub well_known: Option<String>,
    /// The PEM certificate chain served at the target, if declared (relative
    /// paths are relative to the zone file).
    pub certificate: Option<PathBuf>,
    /// Where the `[[matrix]]` section is.
    pub place: Place,
}

impl MatrixDelegation {
    /// The owner of the current federation SRV RRset: `_matrix-fed._tcp.S`.
    pub fn fed_owner(&self) -> Option<Name> {
        srv_owner(MATRIX_FED_SERVICE, &self.server_name)
    }

    /// The owner of the deprecated federation SRV RRset: `_matrix._tcp.S`.
    pub fn legacy_owner(&self) -> Option<Name> {
        srv_owner(MATRIX_LEGACY_SERVICE, &self.server_name)
    }

    /// The SRV records this delegation publishes, each placed at the
    /// `[[matrix]]` section that declared it.
    pub fn srv_records(&self, default_ttl: u32) -> Vec<SourcedRecord> {
        let ttl = self.ttl.unwrap_or(default_ttl);
        let mut owners: Vec<Name> = self.fed_owner().into_iter().collect();
        if self.legacy_srv {
            owners.extend(self.legacy_owner());
        }
        owners
            .iter()
            .flat_map(|owner| {
                self.targets.iter().filter_map(move |t| {
                    let record = Record::from_rdata(
                        owner.clone(),
                        ttl,
                        RData::SRV(SRV::new(t.priority, t.weight, t.port, t.target.clone())),
                    );
                    // An SRV record with a valid target name always encodes.
                    SourcedRecord::new(&record, self.place.clone()).ok()
                })
            })
            .collect()
    }
}

/// `_service._tcp.<server_name>`, or `None` if that name would be too long.
pub fn srv_owner(service: &str, server_name: &Name) -> Option<Name> {
    let prefix = Name::from_labels([service.as_bytes(), b"_tcp".as_slice()]).ok()?;
    prefix.append_domain(server_name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn delegation(legacy: bool) -> MatrixDelegation {
        let file: Arc<str> = Arc::from("t.toml");
        MatrixDelegation {
            server_name: Name::from_ascii("example.org.").unwrap(),
            targets: vec![SrvTarget {
                priority: 10,
                weight: 0,
                port: 443,
                target: Name::from_ascii("synapse.example.org.").unwrap(),
            }],
            legacy_srv: legacy,
            ttl: None,
            well_known: None,
            certificate: None,
            place: Place::new(&file, 3, 1),
        }
    }

    #[test]
    fn expands_to_fed_and_legacy_srv() {
        let records = delegation(true).srv_records(300);
        let owners: Vec<String> = records.iter().map(|r| r.name().to_string()).collect();
        assert_eq!(
            owners,
            ["_matrix-fed._tcp.example.org.", "_matrix._tcp.example.org."]
        );
        assert!(records.iter().all(|r| r.ttl() == 300 && r.place.line == 3));
    }

    #[test]
    fn legacy_srv_can_be_turned_off() {
        let records = delegation(false).srv_records(300);
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].name().to_string(),
            "_matrix-fed._tcp.example.org."
        );
    }
}
