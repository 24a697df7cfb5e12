//! The rules every zone obeys before it is served, whatever its source.
//!
//! Loaders only parse; this module checks the zone as a whole (RFC 1034
//! section 3.6.2 and 4.2.1, RFC 2181) and reports every violation at the place
//! of the offending record, so that a zone which fails here never reaches a
//! snapshot and never replaces one that is serving.

use hickory_proto::rr::RecordType;

use super::error::{ZoneError, ZoneErrors};
use super::owner_index::{Entry, OwnerIndex};
use super::place::Place;
use super::{MAX_TTL, SourcedRecord, Zone};
use crate::proto::name::{label_offsets, name_key};

/// Checks `zone` against the zone invariants listed on [`Zone`].
///
/// Memory stays small on big zones (a few bytes per record besides the
/// zone): owners are indexed as lower-cased wire names in one arena, sorted,
/// and checked group by group; canonical RDATA is only built for RRsets of
/// two records or more, where duplicates can be.
pub fn validate_zone(zone: &Zone) -> Result<(), ZoneErrors> {
    validate_zone_indexed(zone).map(drop)
}

/// [`validate_zone`], which also gives back the owner index it built, for
/// [`ZoneSnapshot::build_indexed`](crate::snapshot::ZoneSnapshot::build_indexed)
/// to use instead of sorting the same records again.
pub fn validate_zone_indexed(zone: &Zone) -> Result<OwnerIndex, ZoneErrors> {
    // (record index, error): sorted by record at the end, so errors come in
    // the order of the zone text whatever the order the checks ran in.
    let mut errors: Vec<(usize, ZoneError)> = Vec::new();
    let origin_key = name_key(&zone.origin);
    let file_place = || match &zone.source {
        Some(path) => Place::file(&std::sync::Arc::from(path.display().to_string())),
        None => Place::file(&std::sync::Arc::from(format!("<zone {}>", zone.origin))),
    };
    let index = match OwnerIndex::new(&zone.records, &zone.origin) {
        Ok(index) => index,
        Err(message) => return Err(ZoneErrors(vec![ZoneError::new(file_place(), message)])),
    };
    let mut soa_count = 0;
    let mut apex_ns = false;

    // Record by record: the owner is ours, the TTL fits, the SOA is at the apex.
    for (i, sourced) in zone.records.iter().enumerate() {
        let mut error =
            |message: String| errors.push((i, ZoneError::new(sourced.place.clone(), message)));
        if !index.in_zone(i) {
            error(format!(
                "{} is outside the zone {} (names must end in the origin)",
                sourced.name(),
                zone.origin
            ));
            continue;
        }
        if sourced.ttl() > MAX_TTL {
            error(format!(
                "TTL {} is out of range (at most {MAX_TTL}, RFC 2181 section 8)",
                sourced.ttl()
            ));
        }
        let at_apex = sourced.owner_wire().eq_ignore_ascii_case(&origin_key);
        match sourced.record_type() {
            RecordType::SOA if !at_apex => {
                error(format!(
                    "SOA record at {}: the SOA belongs at the zone apex {}",
                    sourced.name(),
                    zone.origin
                ));
            }
            RecordType::SOA => {
                soa_count += 1;
                if soa_count > 1 {
                    error("a second SOA record: a zone has exactly one".into());
                }
            }
            RecordType::NS if at_apex => apex_ns = true,
            _ => {}
        }
    }

    // Owner by owner: RFC 1034 3.6.2, a CNAME owner holds no other data
    // (DNSSEC's RRSIG and NSEC excepted, RFC 4035 2.5).
    let ours = |run: &&[Entry]| {
        run.first()
            .is_some_and(|e| index.in_zone(e.record as usize))
    };
    for owner in index.owners().filter(ours) {
        cname_conflicts(zone, owner, &mut errors);
    }
    dname_conflicts(zone, &index, &mut errors);
    // RRset by RRset: no record twice (compared in canonical form, so case
    // differences in names do not hide a duplicate). Every RDATA encodes:
    // a SourcedRecord is made of its wire form.
    for rrset in index.rrsets().filter(ours) {
        duplicates(zone, rrset, &mut errors);
    }

    errors.sort_by_key(|(i, _)| *i);
    let mut errors: Vec<ZoneError> = errors.into_iter().map(|(_, e)| e).collect();
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
    ZoneErrors(errors).into_result().map(|()| index)
}

/// The CNAME errors at one owner (entries sorted by type, then position).
fn cname_conflicts(zone: &Zone, owner: &[Entry], errors: &mut Vec<(usize, ZoneError)>) {
    let cname = u16::from(RecordType::CNAME);
    let is_other = |e: &&Entry| {
        e.rtype != cname
            && e.rtype != u16::from(RecordType::RRSIG)
            && e.rtype != u16::from(RecordType::NSEC)
    };
    let first_cname = owner
        .iter()
        .filter(|e| e.rtype == cname)
        .map(|e| e.record)
        .min();
    let Some(first_cname) = first_cname else {
        return;
    };
    let first_other = owner.iter().filter(is_other).min_by_key(|e| e.record);
    let at = |i: u32| &zone.records[i as usize];
    for e in owner {
        let here = at(e.record);
        let mut error = |message: String| {
            errors.push((
                e.record as usize,
                ZoneError::new(here.place.clone(), message),
            ))
        };
        if e.rtype == cname {
            if e.record != first_cname {
                error(format!(
                    "a second CNAME at {} (first at {}): a name has at most one CNAME",
                    here.name(),
                    at(first_cname).place
                ));
            }
            if let Some(other) = first_other.filter(|o| o.record < e.record) {
                error(format!(
                    "CNAME at {} beside other data ({} at {}): a CNAME owner can hold nothing else (RFC 1034 3.6.2)",
                    here.name(),
                    RecordType::from(other.rtype),
                    at(other.record).place
                ));
            }
        } else if is_other(&e) && first_cname < e.record {
            error(format!(
                "{} at {} beside a CNAME (at {}): a CNAME owner can hold nothing else (RFC 1034 3.6.2)",
                RecordType::from(e.rtype),
                here.name(),
                at(first_cname).place
            ));
        }
    }
}

/// The DNAME errors of a zone (RFC 6672 2.4): one DNAME per name, and no
/// data at any name below a DNAME owner (such names are never answered:
/// the DNAME redirects them). A DNAME beside a CNAME is a CNAME conflict.
fn dname_conflicts(zone: &Zone, index: &OwnerIndex, errors: &mut Vec<(usize, ZoneError)>) {
    let dname = u16::from(RecordType::DNAME);
    let owners: std::collections::HashMap<&[u8], u32> = index
        .entries()
        .iter()
        .filter(|e| e.rtype == dname && index.in_zone(e.record as usize))
        .map(|e| (index.key(e), e.record))
        .collect();
    if owners.is_empty() {
        return;
    }
    let at = |i: u32| &zone.records[i as usize];
    for rrset in index
        .rrsets()
        .filter(|r| r.len() > 1 && r[0].rtype == dname)
    {
        for e in &rrset[1..] {
            errors.push((
                e.record as usize,
                ZoneError::new(
                    at(e.record).place.clone(),
                    format!(
                        "a second DNAME at {} (first at {}): a name has at most one DNAME (RFC 6672 2.4)",
                        at(e.record).name(),
                        at(rrset[0].record).place
                    ),
                ),
            ));
        }
    }
    for e in index.entries() {
        let key = index.key(e);
        let above = label_offsets(key)
            .skip(1)
            .find_map(|offset| owners.get(&key[offset..]));
        if let Some(&owner) = above {
            // Glue-like data below a DNAME is as unreachable as any other.
            errors.push((
                e.record as usize,
                ZoneError::new(
                    at(e.record).place.clone(),
                    format!(
                        "{} at {} is below the DNAME at {} ({}): names below a DNAME owner cannot hold data (RFC 6672 2.4)",
                        RecordType::from(e.rtype),
                        at(e.record).name(),
                        at(owner).name(),
                        at(owner).place
                    ),
                ),
            ));
        }
    }
}

/// The duplicate errors of one RRset (entries in zone order).
fn duplicates(zone: &Zone, rrset: &[Entry], errors: &mut Vec<(usize, ZoneError)>) {
    if rrset.len() < 2 {
        return;
    }
    let at = |e: &Entry| &zone.records[e.record as usize];
    let mut keyed: Vec<(Vec<u8>, &Entry)> =
        rrset.iter().map(|e| (canonical_rdata(at(e)), e)).collect();
    // Stable: among equal RDATA the first written comes first.
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    for same in keyed.chunk_by(|a, b| a.0 == b.0) {
        let first = at(same[0].1);
        for (_, e) in &same[1..] {
            let r = at(e);
            errors.push((
                e.record as usize,
                ZoneError::new(
                    r.place.clone(),
                    format!(
                        "duplicate record: the same {} at {} is already at {}",
                        r.record_type(),
                        r.name(),
                        first.place
                    ),
                ),
            ));
        }
    }
}

/// The canonical wire form of a record's RDATA (names lower-cased, RFC 4034
/// 6.2), so that duplicates differing only in case are found. RDATA that
/// does not re-encode (none does) is compared as stored.
fn canonical_rdata(record: &SourcedRecord) -> Vec<u8> {
    use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
    let mut bytes = Vec::new();
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_canonical_form(true);
    match record.data().emit(&mut encoder) {
        Ok(()) => bytes,
        Err(_) => record.rdata_wire().to_vec(),
    }
}

#[cfg(test)]
mod dname_tests {
    use crate::zone::Zone;
    use crate::zone::master::parse_master;
    use std::sync::Arc;

    fn errors(text: &str) -> String {
        let file: Arc<str> = Arc::from("d.zone");
        let origin = "d.test.".parse().unwrap();
        let records = parse_master(text, &file, &origin).unwrap();
        let zone = Zone {
            origin,
            records,
            ..Zone::default()
        };
        super::validate_zone(&zone).map_or_else(|e| e.to_string(), |()| String::new())
    }

    const HEAD: &str = "$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n";

    #[test]
    fn dname_rules_of_rfc6672_are_enforced_with_places() {
        assert_eq!(
            errors(&format!("{HEAD}old DNAME new.d.test.\nold A 192.0.2.2\n")),
            ""
        );
        let below = errors(&format!(
            "{HEAD}old DNAME new.d.test.\nwww.old A 192.0.2.2\n"
        ));
        assert!(
            below.contains("d.zone:6:") && below.contains("is below the DNAME at old.d.test."),
            "{below}"
        );
        let two = errors(&format!("{HEAD}old DNAME a.d.test.\nold DNAME b.d.test.\n"));
        assert!(two.contains("a second DNAME at old.d.test."), "{two}");
        let cname = errors(&format!("{HEAD}old DNAME a.d.test.\nold CNAME b.d.test.\n"));
        assert!(cname.contains("beside"), "{cname}");
    }
}
