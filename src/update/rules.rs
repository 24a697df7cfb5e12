//! RFC 2136 section 3, pure: the prerequisite checks, the prescan of the
//! update section and the changes it makes, over a [`Draft`] of one zone's
//! records. No I/O, no clock, no keys: the caller ([`super::Updater`])
//! authenticates, authorises, validates the result and publishes it.
//!
//! Section numbers below are RFC 2136's. Where the RFC leaves a choice,
//! fedns does what BIND and Knot do:
//!
//! - a record added to an RRset whose TTL differs sets the TTL of the whole
//!   RRset (RFC 2181 section 5.2: one TTL per RRset);
//! - CNAME, DNAME and SOA are singletons: adding one replaces the one there
//!   (the SOA only with a newer serial, 3.4.2.2);
//! - a CNAME is not added beside other data, nor other data beside a CNAME
//!   (3.4.2.2, silently ignored), DNSSEC types aside;
//! - the apex SOA and the last apex NS are never deleted (3.4.2.3, 3.4.2.4).

use std::collections::HashMap;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordData as _, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use crate::proto::name::{NameKey, name_key};

/// One zone's records, grouped by owner, as an update sees and changes
/// them.
#[derive(Clone, Debug)]
pub struct Draft {
    origin: Name,
    /// Records per owner (lower-cased key), in the order they came.
    names: HashMap<NameKey, Vec<Record>>,
    /// Every record taken out and put in since the draft was made, in
    /// order (see [`Draft::changes`]): the journal entry costs the size of
    /// the update, not of the zone.
    removed: Vec<Record>,
    added: Vec<Record>,
}

/// Why an update was rejected: the response code, and a reason for the
/// log and the extended error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// What the client is told.
    pub rcode: ResponseCode,
    /// Why, naming the record.
    pub reason: String,
}

fn reject(rcode: ResponseCode, reason: impl Into<String>) -> Rejection {
    Rejection {
        rcode,
        reason: reason.into(),
    }
}

/// The RDATA a value-dependent prerequisite lists for one RRset, with the
/// owner as written.
type ValueSet = (Name, Vec<Vec<u8>>);

/// RDATA as comparable bytes (canonical form, RFC 4034 section 6.2): two
/// records are "the same RR" (RFC 2136 1.1.1) when owner, type and these
/// match.
pub fn rdata_key(data: &RData) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(32);
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_canonical_form(true);
    let _ = data.emit(&mut encoder);
    bytes
}

/// Types that are never data of their own (3.4.1.3: FORMERR in an update).
fn is_meta(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::ANY
            | RecordType::AXFR
            | RecordType::IXFR
            | RecordType::OPT
            | RecordType::TSIG
            | RecordType::SIG
    ) || matches!(u16::from(rtype), 253 | 254) // MAILB, MAILA
}

/// Types that may sit beside a CNAME (RFC 4035 section 2.5).
fn may_sit_beside_cname(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::RRSIG | RecordType::NSEC | RecordType::CNAME
    )
}

impl Draft {
    /// A draft of zone `origin` holding `records`.
    pub fn new(origin: Name, records: impl IntoIterator<Item = Record>) -> Draft {
        let mut names: HashMap<NameKey, Vec<Record>> = HashMap::new();
        for r in records {
            names.entry(name_key(&r.name)).or_default().push(r);
        }
        Draft {
            origin,
            names,
            removed: Vec::new(),
            added: Vec::new(),
        }
    }

    /// The net change since the draft was made: records removed, records
    /// added. A record taken out and put back (or the reverse) is in
    /// neither.
    pub fn changes(&self) -> (Vec<Record>, Vec<Record>) {
        use crate::snapshot::history::record_key;
        let mut removed: Vec<(Vec<u8>, &Record)> =
            self.removed.iter().map(|r| (record_key(r), r)).collect();
        let mut added: Vec<(Vec<u8>, &Record)> = Vec::new();
        for r in &self.added {
            let key = record_key(r);
            match removed.iter().position(|(k, _)| *k == key) {
                Some(i) => {
                    removed.remove(i);
                }
                None => added.push((key, r)),
            }
        }
        // A record added, then removed again, was never there.
        removed.retain(|(key, _)| match added.iter().position(|(k, _)| k == key) {
            Some(i) => {
                added.remove(i);
                false
            }
            None => true,
        });
        (
            removed.into_iter().map(|(_, r)| r.clone()).collect(),
            added.into_iter().map(|(_, r)| r.clone()).collect(),
        )
    }

    /// Every record, owner by owner.
    pub fn into_records(self) -> Vec<Record> {
        self.names.into_values().flatten().collect()
    }

    /// The zone's SOA serial.
    pub fn serial(&self) -> Option<u32> {
        self.rrset(&self.origin, RecordType::SOA)
            .find_map(|r| match &r.data {
                RData::SOA(s) => Some(s.serial),
                _ => None,
            })
    }

    /// Sets the SOA serial to `serial`.
    pub fn set_serial(&mut self, serial: u32) {
        let Some(records) = self.names.get_mut(&name_key(&self.origin)) else {
            return;
        };
        for r in records.iter_mut() {
            if !matches!(r.data, RData::SOA(_)) {
                continue;
            }
            self.removed.push(r.clone());
            if let RData::SOA(soa) = &mut r.data {
                soa.serial = serial;
            }
            self.added.push(r.clone());
        }
    }

    fn at(&self, name: &Name) -> &[Record] {
        self.names.get(&name_key(name)).map_or(&[], Vec::as_slice)
    }

    fn rrset<'a>(&'a self, name: &Name, rtype: RecordType) -> impl Iterator<Item = &'a Record> {
        self.at(name)
            .iter()
            .filter(move |r| r.record_type() == rtype)
    }

    /// The types present at `name`.
    pub fn types_at(&self, name: &Name) -> Vec<RecordType> {
        let mut types: Vec<RecordType> = self.at(name).iter().map(Record::record_type).collect();
        types.sort_by_key(|t| u16::from(*t));
        types.dedup();
        types
    }

    fn is_apex(&self, name: &Name) -> bool {
        name_key(name) == name_key(&self.origin)
    }

    /// 3.2: checks every prerequisite against the zone as it is.
    pub fn check_prerequisites(&self, prerequisites: &[Record]) -> Result<(), Rejection> {
        // 3.2.3: value-dependent prerequisites, gathered per RRset.
        let mut value_sets: HashMap<(NameKey, RecordType), ValueSet> = HashMap::new();
        for rr in prerequisites {
            let (name, rtype) = (&rr.name, rr.record_type());
            if rr.ttl != 0 {
                return Err(reject(
                    ResponseCode::FormErr,
                    format!("prerequisite {name} {rtype}: TTL must be 0"),
                ));
            }
            if !self.origin.zone_of(name) {
                return Err(reject(
                    ResponseCode::NotZone,
                    format!("prerequisite {name} is outside zone {}", self.origin),
                ));
            }
            let empty = rr.data.is_update();
            match rr.dns_class {
                DNSClass::ANY => {
                    if !empty {
                        return Err(reject(
                            ResponseCode::FormErr,
                            format!("prerequisite {name} {rtype} of class ANY has RDATA"),
                        ));
                    }
                    if rtype == RecordType::ANY {
                        if self.at(name).is_empty() {
                            return Err(reject(
                                ResponseCode::NXDomain,
                                format!("prerequisite: {name} is not in use"),
                            ));
                        }
                    } else if self.rrset(name, rtype).next().is_none() {
                        return Err(reject(
                            ResponseCode::NXRRSet,
                            format!("prerequisite: no {rtype} RRset at {name}"),
                        ));
                    }
                }
                DNSClass::NONE => {
                    if !empty {
                        return Err(reject(
                            ResponseCode::FormErr,
                            format!("prerequisite {name} {rtype} of class NONE has RDATA"),
                        ));
                    }
                    if rtype == RecordType::ANY {
                        if !self.at(name).is_empty() {
                            return Err(reject(
                                ResponseCode::YXDomain,
                                format!("prerequisite: {name} is in use"),
                            ));
                        }
                    } else if self.rrset(name, rtype).next().is_some() {
                        return Err(reject(
                            ResponseCode::YXRRSet,
                            format!("prerequisite: a {rtype} RRset exists at {name}"),
                        ));
                    }
                }
                DNSClass::IN if !empty && !is_meta(rtype) => {
                    value_sets
                        .entry((name_key(name), rtype))
                        .or_insert_with(|| (name.clone(), Vec::new()))
                        .1
                        .push(rdata_key(&rr.data));
                }
                class => {
                    return Err(reject(
                        ResponseCode::FormErr,
                        format!("prerequisite {name} {rtype} has class {class}"),
                    ));
                }
            }
        }
        for ((_, rtype), (name, mut wanted)) in value_sets {
            let mut have: Vec<Vec<u8>> = self
                .rrset(&name, rtype)
                .map(|r| rdata_key(&r.data))
                .collect();
            wanted.sort();
            wanted.dedup();
            have.sort();
            have.dedup();
            if wanted != have {
                return Err(reject(
                    ResponseCode::NXRRSet,
                    format!("prerequisite: the {rtype} RRset at {name} is not the one given"),
                ));
            }
        }
        Ok(())
    }

    /// 3.4.1: checks the update section before anything changes.
    pub fn prescan(&self, updates: &[Record]) -> Result<(), Rejection> {
        for rr in updates {
            let (name, rtype) = (&rr.name, rr.record_type());
            if !self.origin.zone_of(name) {
                return Err(reject(
                    ResponseCode::NotZone,
                    format!("update {name} {rtype} is outside zone {}", self.origin),
                ));
            }
            let empty = rr.data.is_update();
            let bad = match rr.dns_class {
                DNSClass::IN => is_meta(rtype) || empty,
                DNSClass::ANY => {
                    rr.ttl != 0 || !empty || (rtype != RecordType::ANY && is_meta(rtype))
                }
                DNSClass::NONE => rr.ttl != 0 || is_meta(rtype) || empty,
                _ => true,
            };
            if bad {
                return Err(reject(
                    ResponseCode::FormErr,
                    format!(
                        "update {name} {} {rtype} (TTL {}) is not a valid add or delete",
                        rr.dns_class, rr.ttl
                    ),
                ));
            }
        }
        Ok(())
    }

    /// 3.4.2: applies the (prescanned) update section in order.
    pub fn apply(&mut self, updates: &[Record]) {
        for rr in updates {
            match rr.dns_class {
                DNSClass::IN => self.add(rr),
                DNSClass::ANY if rr.record_type() == RecordType::ANY => self.delete_name(&rr.name),
                DNSClass::ANY => self.delete_rrset(&rr.name, rr.record_type()),
                DNSClass::NONE => self.delete_rr(rr),
                _ => {}
            }
        }
    }

    fn add(&mut self, rr: &Record) {
        let rtype = rr.record_type();
        let apex = self.is_apex(&rr.name);
        let mut record = rr.clone();
        record.dns_class = DNSClass::IN;
        let records = self.names.entry(name_key(&rr.name)).or_default();
        let (removed, added) = (&mut self.removed, &mut self.added);
        if rtype == RecordType::SOA {
            let newer = |existing: &Record| match (&existing.data, &record.data) {
                (RData::SOA(old), RData::SOA(new)) => {
                    crate::proto::serial::is_newer(new.serial, old.serial)
                }
                _ => false,
            };
            // Only the apex SOA, and only forward.
            if apex && records.iter().any(|r| r.record_type() == rtype && newer(r)) {
                take(records, removed, |r| r.record_type() == rtype);
                added.push(record.clone());
                records.push(record);
            }
            return;
        }
        let has_cname = records.iter().any(|r| r.record_type() == RecordType::CNAME);
        let has_other = records
            .iter()
            .any(|r| !may_sit_beside_cname(r.record_type()));
        match rtype {
            RecordType::CNAME if has_other => return,
            t if has_cname && !may_sit_beside_cname(t) => return,
            _ => {}
        }
        let key = rdata_key(&record.data);
        if matches!(rtype, RecordType::CNAME | RecordType::DNAME) {
            take(records, removed, |r| {
                r.record_type() == rtype && rdata_key(&r.data) != key
            });
        }
        let mut duplicate = false;
        for r in records.iter_mut().filter(|r| r.record_type() == rtype) {
            if r.ttl != record.ttl {
                removed.push(r.clone());
                r.ttl = record.ttl;
                added.push(r.clone());
            }
            duplicate |= rdata_key(&r.data) == key;
        }
        if !duplicate {
            added.push(record.clone());
            records.push(record);
        }
    }

    fn delete_name(&mut self, name: &Name) {
        let apex = self.is_apex(name);
        self.take_at(name, |r| {
            !(apex && matches!(r.record_type(), RecordType::SOA | RecordType::NS))
        });
    }

    fn delete_rrset(&mut self, name: &Name, rtype: RecordType) {
        if self.is_apex(name) && matches!(rtype, RecordType::SOA | RecordType::NS) {
            return;
        }
        self.take_at(name, |r| r.record_type() == rtype);
    }

    fn delete_rr(&mut self, rr: &Record) {
        let rtype = rr.record_type();
        if rtype == RecordType::SOA {
            return;
        }
        let last_apex_ns = self.is_apex(&rr.name)
            && rtype == RecordType::NS
            && self.rrset(&rr.name, RecordType::NS).count() <= 1;
        if last_apex_ns {
            return;
        }
        let data = rdata_key(&rr.data);
        self.take_at(&rr.name, |r| {
            r.record_type() == rtype && rdata_key(&r.data) == data
        });
    }

    /// Removes the records at `name` that `doomed` picks (noted in the
    /// change log), and the name when nothing is left.
    fn take_at(&mut self, name: &Name, doomed: impl Fn(&Record) -> bool) {
        let key = name_key(name);
        if let Some(records) = self.names.get_mut(&key) {
            take(records, &mut self.removed, doomed);
            if records.is_empty() {
                self.names.remove(&key);
            }
        }
    }
}

/// Moves the records of `records` that `doomed` picks to `removed`.
fn take(records: &mut Vec<Record>, removed: &mut Vec<Record>, doomed: impl Fn(&Record) -> bool) {
    let (gone, kept): (Vec<Record>, Vec<Record>) = records.drain(..).partition(|r| doomed(r));
    removed.extend(gone);
    *records = kept;
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, CNAME, NS, SOA, TXT};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn zone() -> Draft {
        let o = n("example.org.");
        Draft::new(
            o.clone(),
            vec![
                Record::from_rdata(
                    o.clone(),
                    3600,
                    RData::SOA(SOA::new(
                        n("ns1.example.org."),
                        n("h.example.org."),
                        5,
                        1,
                        1,
                        1,
                        1,
                    )),
                ),
                Record::from_rdata(o.clone(), 3600, RData::NS(NS(n("ns1.example.org.")))),
                Record::from_rdata(
                    n("ns1.example.org."),
                    300,
                    RData::A(A::new(198, 51, 100, 1)),
                ),
                Record::from_rdata(
                    n("www.example.org."),
                    300,
                    RData::A(A::new(198, 51, 100, 2)),
                ),
                Record::from_rdata(
                    n("alias.example.org."),
                    300,
                    RData::CNAME(CNAME(n("www.example.org."))),
                ),
            ],
        )
    }

    fn rr(name: &str, class: DNSClass, ttl: u32, data: RData) -> Record {
        let mut r = Record::from_rdata(n(name), ttl, data);
        r.dns_class = class;
        r
    }

    fn empty(name: &str, class: DNSClass, rtype: RecordType) -> Record {
        rr(name, class, 0, RData::Update0(rtype))
    }

    fn txt(text: &str) -> RData {
        RData::TXT(TXT::new(vec![text.into()]))
    }

    fn a(last: u8) -> RData {
        RData::A(A::new(198, 51, 100, last))
    }

    fn rcode(r: Result<(), Rejection>) -> ResponseCode {
        r.err().map_or(ResponseCode::NoError, |e| e.rcode)
    }

    #[test]
    fn every_prerequisite_kind_answers_as_the_rfc_says() {
        let z = zone();
        let check = |p: Record| rcode(z.check_prerequisites(&[p]));
        use DNSClass::{ANY, IN, NONE};
        use ResponseCode::*;
        // 2.4.4 name is in use / 2.4.5 name is not in use
        assert_eq!(
            check(empty("www.example.org.", ANY, RecordType::ANY)),
            NoError
        );
        assert_eq!(
            check(empty("nope.example.org.", ANY, RecordType::ANY)),
            NXDomain
        );
        assert_eq!(
            check(empty("nope.example.org.", NONE, RecordType::ANY)),
            NoError
        );
        assert_eq!(
            check(empty("www.example.org.", NONE, RecordType::ANY)),
            YXDomain
        );
        // 2.4.1 RRset exists (value independent) / 2.4.3 does not exist
        assert_eq!(
            check(empty("www.example.org.", ANY, RecordType::A)),
            NoError
        );
        assert_eq!(
            check(empty("www.example.org.", ANY, RecordType::TXT)),
            NXRRSet
        );
        assert_eq!(
            check(empty("www.example.org.", NONE, RecordType::TXT)),
            NoError
        );
        assert_eq!(
            check(empty("www.example.org.", NONE, RecordType::A)),
            YXRRSet
        );
        // 2.4.2 RRset exists (value dependent)
        assert_eq!(check(rr("WWW.example.org.", IN, 0, a(2))), NoError);
        assert_eq!(check(rr("www.example.org.", IN, 0, a(3))), NXRRSet);
        // Errors of form and place.
        assert_eq!(check(rr("www.example.org.", IN, 60, a(2))), FormErr);
        assert_eq!(check(rr("www.example.org.", ANY, 0, a(2))), FormErr);
        assert_eq!(
            check(rr("www.example.org.", DNSClass::CH, 0, a(2))),
            FormErr
        );
        assert_eq!(
            check(empty("www.example.net.", ANY, RecordType::A)),
            NotZone
        );
        // A value-dependent set must match as a whole.
        let both = [
            rr("www.example.org.", IN, 0, a(2)),
            rr("www.example.org.", IN, 0, a(9)),
        ];
        assert_eq!(rcode(z.check_prerequisites(&both)), NXRRSet);
    }

    #[test]
    fn prescan_rejects_malformed_updates() {
        let z = zone();
        let scan = |u: Record| rcode(z.prescan(&[u]));
        use DNSClass::{ANY, IN, NONE};
        use ResponseCode::*;
        assert_eq!(scan(rr("x.example.org.", IN, 60, txt("t"))), NoError);
        assert_eq!(scan(rr("x.example.net.", IN, 60, txt("t"))), NotZone);
        assert_eq!(scan(empty("x.example.org.", IN, RecordType::ANY)), FormErr);
        assert_eq!(
            scan(rr("x.example.org.", ANY, 5, RData::Update0(RecordType::A))),
            FormErr
        );
        assert_eq!(scan(rr("x.example.org.", ANY, 0, a(1))), FormErr);
        assert_eq!(scan(empty("x.example.org.", ANY, RecordType::ANY)), NoError);
        assert_eq!(scan(rr("x.example.org.", NONE, 0, a(1))), NoError);
        assert_eq!(scan(rr("x.example.org.", NONE, 60, a(1))), FormErr);
        assert_eq!(
            scan(empty("x.example.org.", NONE, RecordType::AXFR)),
            FormErr
        );
    }

    #[test]
    fn adds_and_deletes_follow_the_rfc_and_protect_the_apex() {
        let mut z = zone();
        use DNSClass::{ANY, IN, NONE};
        z.apply(&[
            rr("_acme-challenge.example.org.", IN, 60, txt("one")),
            rr("_acme-challenge.example.org.", IN, 120, txt("two")),
            rr("_acme-challenge.example.org.", IN, 120, txt("two")), // duplicate
            rr("alias.example.org.", IN, 60, a(7)),                  // beside a CNAME: ignored
            rr(
                "www.example.org.",
                IN,
                60,
                RData::CNAME(CNAME(n("x.example.org."))),
            ), // beside data: ignored
            empty("example.org.", ANY, RecordType::ANY),             // apex: SOA and NS stay
            empty("example.org.", ANY, RecordType::NS),
            rr(
                "example.org.",
                NONE,
                0,
                RData::NS(NS(n("ns1.example.org."))),
            ), // the last NS
        ]);
        let t: Vec<&Record> = z
            .rrset(&n("_acme-challenge.example.org."), RecordType::TXT)
            .collect();
        assert_eq!(t.len(), 2);
        assert!(t.iter().all(|r| r.ttl == 120), "one TTL per RRset");
        assert_eq!(
            z.types_at(&n("alias.example.org.")),
            vec![RecordType::CNAME]
        );
        assert_eq!(z.types_at(&n("www.example.org.")), vec![RecordType::A]);
        assert_eq!(
            z.types_at(&n("example.org.")),
            vec![RecordType::NS, RecordType::SOA]
        );
        // Delete one RR, then the RRset, then the name.
        z.apply(&[rr("_acme-challenge.example.org.", NONE, 0, txt("one"))]);
        assert_eq!(
            z.rrset(&n("_acme-challenge.example.org."), RecordType::TXT)
                .count(),
            1
        );
        z.apply(&[empty("_acme-challenge.example.org.", ANY, RecordType::TXT)]);
        assert!(z.types_at(&n("_acme-challenge.example.org.")).is_empty());
        z.apply(&[empty("www.example.org.", ANY, RecordType::ANY)]);
        assert!(z.types_at(&n("www.example.org.")).is_empty());
        // The SOA moves only forward, and is never deleted.
        let soa = |serial| {
            RData::SOA(SOA::new(
                n("ns1.example.org."),
                n("h.example.org."),
                serial,
                1,
                1,
                1,
                1,
            ))
        };
        z.apply(&[rr("example.org.", IN, 3600, soa(4))]);
        assert_eq!(z.serial(), Some(5));
        z.apply(&[
            rr("example.org.", IN, 3600, soa(9)),
            empty("example.org.", ANY, RecordType::SOA),
        ]);
        assert_eq!(z.serial(), Some(9));
        z.set_serial(10);
        assert_eq!(z.serial(), Some(10));
    }

    #[test]
    fn changes_are_the_net_difference() {
        let mut z = zone();
        use DNSClass::{ANY, IN, NONE};
        z.apply(&[
            rr("t.example.org.", IN, 60, txt("gone")),
            rr("t.example.org.", NONE, 0, txt("gone")), // added, then removed
            rr("www.example.org.", NONE, 0, a(2)),
            rr("www.example.org.", IN, 300, a(2)), // removed, then put back
            empty("alias.example.org.", ANY, RecordType::ANY),
            rr("new.example.org.", IN, 60, a(9)),
        ]);
        z.set_serial(6);
        let (removed, added) = z.changes();
        let show = |v: &[Record]| {
            let mut s: Vec<String> = v
                .iter()
                .map(|r| format!("{} {} {}", r.name, r.record_type(), r.data))
                .collect();
            s.sort();
            s
        };
        assert_eq!(
            show(&removed),
            vec![
                "alias.example.org. CNAME www.example.org.",
                "example.org. SOA ns1.example.org. h.example.org. 5 1 1 1 1"
            ]
        );
        assert_eq!(
            show(&added),
            vec![
                "example.org. SOA ns1.example.org. h.example.org. 6 1 1 1 1",
                "new.example.org. A 198.51.100.9"
            ]
        );
    }
}
