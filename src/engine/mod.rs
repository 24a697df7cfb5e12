//! The answer engine: a pure function from a question and the zones to the
//! sections of an authoritative response. No I/O, no clock, no randomness,
//! so it is tested exhaustively without sockets and cached safely.
//!
//! The algorithm is RFC 1034 4.3.2, step by step, with the refinements that
//! later RFCs made:
//!
//! 1. Find the zone with the longest apex above QNAME; none: REFUSED.
//! 2. Walk down from the apex, one label at a time. A name on the way that
//!    holds NS (a zone cut) ends the walk with a referral: AA clear, the NS
//!    RRset in authority, glue in additional. The deepest name that exists is
//!    the closest encloser (RFC 4592 3.3.1); empty non-terminals exist
//!    (RFC 8020), so `_tcp.example.org` is NODATA, never NXDOMAIN.
//! 3. QNAME exists: answer its RRset, follow a CNAME inside the zone (RFC
//!    1034 3.6.2, RFC 6604 for the rcode of a chain), or NODATA with the SOA
//!    (RFC 2308 2.2).
//! 4. QNAME does not exist: the wildcard `*.<closest encloser>` answers if
//!    present (RFC 4592 section 3.3.3: only there, so an existing name blocks
//!    it and names below an existing name are NXDOMAIN); otherwise NXDOMAIN
//!    with the SOA (RFC 2308 2.1).
//!
//! Additional section: the in-zone addresses of every NS, MX and SRV target
//! in the answer and authority sections (all of them, not the first).
//!
//! DNSSEC (RFC 4035 3.1, RFC 5155 7.2), for a signed zone and a query with
//! DO: every RRset from zone data comes with its RRSIGs, negative answers
//! and wildcard answers with the NSEC or NSEC3 records that prove them
//! ([`denial`]), referrals with the DS RRset or the proof that there is none.
//! fedns signs nothing; it picks the records the zone carries.

mod additional;
mod denial;

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::proto::name::{label_offsets, wildcard_key, write_name_key};
use crate::snapshot::{Node, RRset, ZoneMatch, ZoneSet, ZoneSnapshot};

/// How long a CNAME chain inside one zone may be before the engine stops
/// following it (a loop, or a chain no resolver would chase either).
pub const MAX_CNAME_CHAIN: usize = 16;

/// The transport a question arrived on: it decides how much ANY returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: minimal ANY (RFC 8482).
    Udp,
    /// TCP: full ANY.
    Tcp,
}

/// The sections of an authoritative answer, before encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The response code.
    pub rcode: ResponseCode,
    /// The AA bit: set on answers from zone data, clear on referrals and refusals.
    pub authoritative: bool,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section.
    pub authorities: Vec<Record>,
    /// The additional section (without OPT: the front end adds it).
    pub additionals: Vec<Record>,
    /// True for a referral: if its glue does not fit, the response must be
    /// truncated rather than sent without it (RFC 9471).
    pub referral: bool,
    /// An Extended DNS Error (RFC 8914) to send with EDNS: info code and text.
    pub ede: Option<(u16, &'static str)>,
}

impl Answer {
    /// An empty answer with `rcode` and no AA bit.
    pub fn empty(rcode: ResponseCode) -> Answer {
        Answer {
            rcode,
            authoritative: false,
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
            referral: false,
            ede: None,
        }
    }

    /// An empty answer with `rcode` and an Extended DNS Error.
    pub fn error(rcode: ResponseCode, code: u16, text: &'static str) -> Answer {
        Answer {
            ede: Some((code, text)),
            ..Answer::empty(rcode)
        }
    }
}

/// Answers `qname`/`qtype` (class IN) from `zones`, without DNSSEC records.
///
/// `qname` is the name as the client sent it: answer records owned by it
/// carry it unchanged, so they compress against the question and echo the
/// client's case.
pub fn answer(zones: &ZoneSet, qname: &Name, qtype: RecordType, transport: Transport) -> Answer {
    answer_with_dnssec(zones, qname, qtype, transport, false)
}

/// [`answer`], with the DO bit of the query (RFC 3225): `dnssec_ok` asks
/// for RRSIGs and denial-of-existence proofs from signed zones.
pub fn answer_with_dnssec(
    zones: &ZoneSet,
    qname: &Name,
    qtype: RecordType,
    transport: Transport,
    dnssec_ok: bool,
) -> Answer {
    let mut key = Vec::with_capacity(qname.len() + 2);
    write_name_key(qname, &mut key);
    let zone = match zones.find_zone(&key) {
        Some(ZoneMatch::Serving(zone)) => zone,
        // A configured zone without usable data (RFC 1035 4.3.5: past expire).
        Some(ZoneMatch::Unavailable(_)) => {
            return Answer::error(
                ResponseCode::ServFail,
                14,
                "zone not loaded: no transfer yet, or past its expire",
            );
        }
        None => return Answer::error(ResponseCode::Refused, 20, "not authoritative for this name"),
    };
    let mut answer = Answer::empty(ResponseCode::NoError);
    answer.authoritative = true;
    let dnssec = dnssec_ok && zone.is_signed();
    ZoneAnswer {
        zone,
        answer: &mut answer,
        transport,
        dnssec,
    }
    .resolve(qname, key, qtype);
    additional::add_target_addresses(zone, &mut answer, dnssec);
    answer
}

/// The state of answering within one zone.
struct ZoneAnswer<'z, 'a> {
    zone: &'z Arc<ZoneSnapshot>,
    answer: &'a mut Answer,
    transport: Transport,
    /// DO was set and the zone is signed: add RRSIGs and proofs.
    dnssec: bool,
}

/// Where the walk from the apex toward QNAME ended.
enum Descent<'z> {
    /// QNAME exists (it may be an empty non-terminal).
    Found(&'z Node),
    /// A zone cut above (or at) QNAME: refer to it.
    Cut(&'z Node),
    /// A DNAME at this node, strictly above QNAME, redirects it (RFC 6672).
    Dname(&'z Node),
    /// QNAME does not exist; the closest encloser's key starts at this offset.
    Missing { closest_encloser: usize },
}

/// What answering one name produced.
enum Outcome {
    /// The RRset(s) asked for.
    Positive,
    /// A CNAME to follow.
    Alias(Name),
    /// The name exists without the type.
    NoData,
}

impl<'z> ZoneAnswer<'z, '_> {
    /// Answers one name, then each CNAME target in the same zone.
    fn resolve(&mut self, qname: &Name, mut key: Vec<u8>, qtype: RecordType) {
        let mut owner = qname.clone();
        let mut visited: Vec<Vec<u8>> = Vec::new();
        for _ in 0..MAX_CNAME_CHAIN {
            let next = match self.descend(&key, qtype) {
                Descent::Cut(cut) => {
                    self.referral(cut, &key);
                    return;
                }
                Descent::Found(node) => self.answer_existing(node, &key, &owner, qtype),
                Descent::Dname(node) => self.substitute(node, &owner, qtype),
                Descent::Missing { closest_encloser } => {
                    self.answer_missing(&key, closest_encloser, &owner, qtype)
                }
            };
            let Some(target) = next else { return };
            visited.push(std::mem::take(&mut key));
            write_name_key(&target, &mut key);
            // Stop at a loop, or where the chain leaves this zone: the resolver
            // continues from there (RFC 1034 4.3.2 step 3a).
            if visited.contains(&key) || !key.ends_with(self.zone.origin_key()) {
                return;
            }
            owner = target;
        }
    }

    /// Walks from the apex down to `key`, stopping at the first zone cut.
    fn descend(&self, key: &[u8], qtype: RecordType) -> Descent<'z> {
        let origin_len = self.zone.origin_key().len();
        // Offsets of the ancestors strictly below the apex, deepest first.
        let offsets: Vec<usize> = label_offsets(key)
            .take_while(|&o| key.len() - o > origin_len)
            .collect();
        let mut closest_encloser = key.len() - origin_len;
        // A DNAME at the apex redirects every name below it (RFC 6672 2.3).
        if closest_encloser > 0
            && let Some(apex) = self.zone.apex()
            && apex.rrset(RecordType::DNAME).is_some()
        {
            return Descent::Dname(apex);
        }
        for &offset in offsets.iter().rev() {
            let Some(node) = self.zone.node(&key[offset..]) else {
                return Descent::Missing { closest_encloser };
            };
            // The parent side of a cut answers DS at the cut itself (RFC 4035 3.1.4.1).
            if node.is_zone_cut && !(offset == 0 && qtype == RecordType::DS) {
                return Descent::Cut(node);
            }
            // A DNAME owner answers for itself; the names below it are
            // redirected (RFC 6672 3.2, step 3.c of RFC 1034 4.3.2).
            if offset > 0 && node.rrset(RecordType::DNAME).is_some() {
                return Descent::Dname(node);
            }
            closest_encloser = offset;
        }
        match self.zone.node(&key[closest_encloser..]) {
            Some(node) if closest_encloser == 0 => Descent::Found(node),
            _ => Descent::Missing { closest_encloser },
        }
    }

    /// QNAME is below the DNAME at `node` (RFC 6672 3.2): the DNAME (with
    /// its signatures), then a CNAME synthesised from it, owned by QNAME,
    /// with the DNAME's TTL and never signed, whose target is followed like
    /// any CNAME's. A target longer than a name may be is YXDOMAIN (RFC
    /// 6672 2.2).
    fn substitute(&mut self, node: &'z Node, owner: &Name, qtype: RecordType) -> Option<Name> {
        let set = node.rrset(RecordType::DNAME)?;
        // hickory has no DNAME type: its RDATA is one uncompressed name.
        let wire = set.rdata_wire().next()?;
        let target = {
            use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
            Name::read(&mut BinDecoder::new(wire)).ok()?
        };
        let dname_owner = node.name();
        self.push_answer(set, &dname_owner);
        let kept =
            usize::from(owner.num_labels()).saturating_sub(usize::from(dname_owner.num_labels()));
        let synthesised = Name::from_labels(owner.iter().take(kept))
            .and_then(|prefix| prefix.append_domain(&target));
        let Ok(mut synthesised) = synthesised else {
            self.answer.rcode = ResponseCode::YXDomain;
            return None;
        };
        synthesised.set_fqdn(true);
        self.answer.answers.push(Record::from_rdata(
            owner.clone(),
            set.ttl,
            RData::CNAME(hickory_proto::rr::rdata::CNAME(synthesised.clone())),
        ));
        // Asked for the CNAME itself: that is the answer.
        (qtype != RecordType::CNAME).then_some(synthesised)
    }

    /// QNAME exists: its data, a CNAME, or NODATA with its proof.
    fn answer_existing(
        &mut self,
        node: &'z Node,
        key: &[u8],
        owner: &Name,
        qtype: RecordType,
    ) -> Option<Name> {
        match self.answer_rrsets(node, owner, qtype) {
            Outcome::Positive => None,
            Outcome::Alias(target) => Some(target),
            Outcome::NoData => {
                self.negative_soa();
                if self.dnssec {
                    self.nodata_proof(node, key);
                }
                None
            }
        }
    }

    /// QNAME does not exist: synthesise from `*.<closest encloser>` or say NXDOMAIN.
    fn answer_missing(
        &mut self,
        key: &[u8],
        closest_encloser: usize,
        owner: &Name,
        qtype: RecordType,
    ) -> Option<Name> {
        let mut wild = Vec::with_capacity(key.len() + 2);
        wildcard_key(&key[closest_encloser..], &mut wild);
        match self.zone.node(&wild) {
            Some(source) if !source.is_zone_cut => match self.answer_rrsets(source, owner, qtype) {
                Outcome::Positive => {
                    if self.dnssec {
                        self.wildcard_answer_proof(key, closest_encloser);
                    }
                    None
                }
                Outcome::Alias(target) => {
                    if self.dnssec {
                        self.wildcard_answer_proof(key, closest_encloser);
                    }
                    Some(target)
                }
                Outcome::NoData => {
                    self.negative_soa();
                    if self.dnssec {
                        self.wildcard_nodata_proof(key, closest_encloser, source, &wild);
                    }
                    None
                }
            },
            _ => {
                self.answer.rcode = ResponseCode::NXDomain;
                self.negative_soa();
                if self.dnssec {
                    self.nxdomain_proof(key, closest_encloser);
                }
                None
            }
        }
    }

    /// Puts the RRset(s) of `node` matching `qtype` in the answer, owned by `owner`.
    fn answer_rrsets(&mut self, node: &'z Node, owner: &Name, qtype: RecordType) -> Outcome {
        match qtype {
            RecordType::ANY => {
                let candidates = node.rrsets.iter().filter(|s| is_any_candidate(s.rtype));
                let sets: Vec<&RRset> = match self.transport {
                    // RFC 8482 4.2: one RRset is enough over UDP.
                    Transport::Udp => candidates.take(1).collect(),
                    Transport::Tcp => candidates.collect(),
                };
                for set in &sets {
                    self.push_answer(set, owner);
                }
                if sets.is_empty() {
                    Outcome::NoData
                } else {
                    Outcome::Positive
                }
            }
            // Signatures asked for by type are answered minimally, like ANY
            // (RFC 8482's reasoning; Knot does the same): the RRSIGs of the
            // first signed RRset at the name, in type order.
            RecordType::RRSIG => {
                let sigs: Vec<Record> = node
                    .rrsets
                    .iter()
                    .find(|s| !s.rrsigs().is_empty())
                    .map(|s| s.rrsigs().iter().map(|r| with_owner(r, owner)).collect())
                    .unwrap_or_default();
                if sigs.is_empty() {
                    return Outcome::NoData;
                }
                self.answer.answers.extend(sigs);
                Outcome::Positive
            }
            _ => {
                if let Some(set) = node.rrset(qtype) {
                    self.push_answer(set, owner);
                    return Outcome::Positive;
                }
                // NSEC may sit beside a CNAME (RFC 4035 2.5): it is this name's
                // own data, so the CNAME is not followed for it.
                if qtype != RecordType::NSEC
                    && let Some(cname) = node.rrset(RecordType::CNAME)
                {
                    self.push_answer(cname, owner);
                    return match cname.first_rdata() {
                        Some(RData::CNAME(target)) => Outcome::Alias(target.0),
                        _ => Outcome::Positive,
                    };
                }
                Outcome::NoData
            }
        }
    }

    /// The RRset (and with DNSSEC its RRSIGs) in the answer, owned by `owner`.
    fn push_answer(&mut self, set: &RRset, owner: &Name) {
        self.answer.answers.extend(set.records(owner));
        if self.dnssec {
            self.answer
                .answers
                .extend(set.rrsigs().iter().map(|r| with_owner(r, owner)));
        }
    }

    /// The RRset of `node` and its RRSIGs in the authority section, once.
    fn push_authority(&mut self, node: &Node, set: &RRset) {
        let present = self
            .answer
            .authorities
            .iter()
            .any(|r| r.record_type() == set.rtype && r.name.eq_ignore_root(&node.name()));
        if present || set.is_empty() {
            return;
        }
        self.answer.authorities.extend(set.records(&node.name()));
        if self.dnssec {
            self.answer.authorities.extend(set.rrsigs().iter().cloned());
        }
    }

    /// The SOA in authority for NXDOMAIN and NODATA, with the negative TTL of
    /// RFC 2308 section 3: the smaller of the SOA's TTL and its MINIMUM
    /// (RRSIGs keep their TTL: their original TTL field must stay valid).
    fn negative_soa(&mut self) {
        let Some(apex) = self.zone.apex() else {
            return;
        };
        let Some(soa) = apex.rrset(RecordType::SOA) else {
            return;
        };
        let ttl = soa.ttl.min(self.zone.soa().minimum);
        // A zone has one SOA record (validated); the snapshot keeps it decoded.
        if let Some(mut record) = self.zone.soa_record() {
            record.ttl = ttl;
            self.answer.authorities.push(record);
        }
        if self.dnssec {
            self.answer.authorities.extend(soa.rrsigs().iter().map(|r| {
                let mut r = r.clone();
                r.ttl = ttl;
                r
            }));
        }
    }

    /// A referral to the zone below `cut`. If the chain already produced an
    /// answer, the referral is part of an authoritative response (AA stays set).
    /// With DNSSEC: the DS RRset, or the proof that the child is unsigned.
    fn referral(&mut self, cut: &'z Node, key: &[u8]) {
        if self.answer.answers.is_empty() {
            self.answer.authoritative = false;
        }
        self.answer.referral = true;
        if let Some(ns) = cut.rrset(RecordType::NS) {
            // The NS set at a cut is the child's: never signed by the parent.
            self.answer.authorities.extend(ns.records(&cut.name()));
        }
        if self.dnssec {
            match cut.rrset(RecordType::DS) {
                Some(ds) => self.push_authority(cut, ds),
                None => self.no_ds_proof(cut, key),
            }
        }
    }
}

/// Types that ANY returns: zone data, not DNSSEC metadata.
fn is_any_candidate(rtype: RecordType) -> bool {
    !matches!(
        rtype,
        RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
    )
}

/// `record` with its owner replaced by `owner` (the name as the client wrote it).
fn with_owner(record: &Record, owner: &Name) -> Record {
    let mut r = record.clone();
    r.name = owner.clone();
    r
}

#[cfg(test)]
mod tests;
