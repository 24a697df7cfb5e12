//! The rules every zone obeys before it is served, whatever its source.
//!
//! Loaders only parse; this module checks the zone as a whole (RFC 1034
//! section 3.6.2 and 4.2.1, RFC 2181) and reports every violation at the place
//! of the offending record, so that a zone which fails here never reaches a
//! snapshot and never replaces one that is serving.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use hickory_proto::rr::{LowerName, RecordType};

use super::error::{ZoneError, ZoneErrors};
use super::place::Place;
use super::{MAX_TTL, Zone};

/// Checks `zone` against the zone invariants listed on [`Zone`].
pub fn validate_zone(zone: &Zone) -> Result<(), ZoneErrors> {
    let mut errors = Vec::new();
    let origin = LowerName::new(&zone.origin);
    let file_place = || match &zone.source {
        Some(path) => Place::file(&std::sync::Arc::from(path.display().to_string())),
        None => Place::file(&std::sync::Arc::from(format!("<zone {}>", zone.origin))),
    };

    // (owner, type) -> where the first record of that RRset was written.
    let mut rrsets: HashMap<(LowerName, RecordType), &Place> = HashMap::new();
    // owner -> where its CNAME is, and where its first non-CNAME data is.
    let mut cnames: HashMap<LowerName, &Place> = HashMap::new();
    let mut others: HashMap<LowerName, (&Place, RecordType)> = HashMap::new();
    let mut seen: HashMap<(LowerName, RecordType, Vec<u8>), &Place> = HashMap::new();
    let mut soa_count = 0;
    let mut apex_ns = false;

    for sourced in &zone.records {
        let record = &sourced.record;
        let place = &sourced.place;
        let owner = LowerName::new(&record.name);
        let rtype = record.record_type();
        let mut error = |message: String| errors.push(ZoneError::new(place.clone(), message));

        if !origin.zone_of(&owner) {
            error(format!(
                "{} is outside the zone {} (names must end in the origin)",
                record.name, zone.origin
            ));
            continue;
        }
        if record.ttl > MAX_TTL {
            error(format!(
                "TTL {} is out of range (at most {MAX_TTL}, RFC 2181 section 8)",
                record.ttl
            ));
        }
        match rtype {
            RecordType::SOA if owner != origin => {
                error(format!(
                    "SOA record at {}: the SOA belongs at the zone apex {}",
                    record.name, zone.origin
                ));
            }
            RecordType::SOA => {
                soa_count += 1;
                if soa_count > 1 {
                    error("a second SOA record: a zone has exactly one".into());
                }
            }
            RecordType::NS if owner == origin => apex_ns = true,
            _ => {}
        }
        // RFC 1034 3.6.2: a CNAME owner holds no other data (DNSSEC's RRSIG and NSEC excepted, RFC 4035 2.5).
        if rtype == RecordType::CNAME {
            match cnames.entry(owner.clone()) {
                Entry::Occupied(first) => error(format!(
                    "a second CNAME at {} (first at {}): a name has at most one CNAME",
                    record.name,
                    first.get()
                )),
                Entry::Vacant(v) => {
                    v.insert(place);
                }
            }
            if let Some((other_place, other_type)) = others.get(&owner) {
                error(format!(
                    "CNAME at {} beside other data ({other_type} at {other_place}): a CNAME owner can hold nothing else (RFC 1034 3.6.2)",
                    record.name
                ));
            }
        } else if !matches!(rtype, RecordType::RRSIG | RecordType::NSEC) {
            if let Some(cname_place) = cnames.get(&owner) {
                error(format!(
                    "{rtype} at {} beside a CNAME (at {cname_place}): a CNAME owner can hold nothing else (RFC 1034 3.6.2)",
                    record.name
                ));
            }
            others.entry(owner.clone()).or_insert((place, rtype));
        }
        rrsets.entry((owner.clone(), rtype)).or_insert(place);
        match rdata_key(record) {
            Some(key) => match seen.entry((owner, rtype, key)) {
                Entry::Occupied(first) => error(format!(
                    "duplicate record: the same {rtype} at {} is already at {}",
                    record.name,
                    first.get()
                )),
                Entry::Vacant(v) => {
                    v.insert(place);
                }
            },
            None => error(format!(
                "{rtype} record at {} cannot be encoded",
                record.name
            )),
        }
    }
    if soa_count == 0 {
        errors.push(ZoneError::new(
            file_place(),
            format!("zone {} has no SOA record at its apex", zone.origin),
        ));
    }
    if !apex_ns {
        errors.push(ZoneError::new(
            file_place(),
            format!("zone {} has no NS record at its apex", zone.origin),
        ));
    }
    ZoneErrors(errors).into_result()
}

/// The canonical wire form of a record's RDATA (names lower-cased, RFC 4034
/// 6.2), so that duplicates differing only in case are found.
fn rdata_key(record: &hickory_proto::rr::Record) -> Option<Vec<u8>> {
    use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
    let mut bytes = Vec::new();
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_canonical_form(true);
    record.data.emit(&mut encoder).ok()?;
    Some(bytes)
}
