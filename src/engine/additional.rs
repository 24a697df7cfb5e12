//! The additional section: addresses of the hosts the answer names.
//!
//! For every NS, MX and SRV record in the answer and authority sections, the
//! A and AAAA RRsets of its target, when the target is in the same zone:
//! authoritative data, glue below a zone cut (a referral is useless without
//! it, and an SRV or MX target there is delegated data we hold as glue), or
//! an address synthesised from a wildcard (RFC 4592) for a target that only
//! exists through one. This is what Knot does; the differential suite holds
//! fedns to it.

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::Answer;
use crate::proto::name::{label_offsets, wildcard_key, write_name_key};
use crate::snapshot::{Node, ZoneSnapshot};

/// Appends the in-zone addresses of every NS/MX/SRV target to `answer`.
pub(super) fn add_target_addresses(zone: &ZoneSnapshot, answer: &mut Answer, dnssec: bool) {
    let targets: Vec<Name> = answer
        .answers
        .iter()
        .chain(answer.authorities.iter())
        .filter_map(target_of)
        .collect();
    let mut seen: Vec<Vec<u8>> = Vec::with_capacity(targets.len());
    let mut key = Vec::new();
    for target in targets {
        write_name_key(&target, &mut key);
        if seen.contains(&key) || !key.ends_with(zone.origin_key()) {
            continue;
        }
        seen.push(key.clone());
        match zone.node(&key) {
            Some(node) => push_addresses(node, None, answer, dnssec),
            None => {
                if let Some(source) = wildcard_source(zone, &key) {
                    push_addresses(source, Some(&target), answer, dnssec);
                }
            }
        }
    }
}

/// The A and AAAA RRsets of `node` (with their RRSIGs when `dnssec`; glue
/// has none), owned by `owner` when synthesised from a wildcard.
fn push_addresses(node: &Node, owner: Option<&Name>, answer: &mut Answer, dnssec: bool) {
    for rtype in [RecordType::A, RecordType::AAAA] {
        if let Some(set) = node.rrset(rtype) {
            let owner = owner.cloned().unwrap_or_else(|| node.name());
            answer.additionals.extend(set.records(&owner));
            if dnssec {
                answer.additionals.extend(set.rrsigs().iter().map(|r| {
                    let mut r = r.clone();
                    r.name = owner.clone();
                    r
                }));
            }
        }
    }
}

/// The wildcard that synthesises a missing name keyed `key`: `*.<closest
/// encloser>`, unless a zone cut lies on the way (then the name is not ours).
fn wildcard_source<'z>(zone: &'z ZoneSnapshot, key: &[u8]) -> Option<&'z Node> {
    let origin_len = zone.origin_key().len();
    let mut closest_encloser = None;
    for offset in label_offsets(key).skip(1) {
        if key.len() - offset < origin_len {
            break;
        }
        if let Some(node) = zone.node(&key[offset..]) {
            if node.is_zone_cut {
                return None;
            }
            closest_encloser.get_or_insert(offset);
        }
    }
    let mut wild = Vec::with_capacity(key.len() + 2);
    wildcard_key(&key[closest_encloser?..], &mut wild);
    zone.node(&wild).filter(|n| !n.is_zone_cut)
}

/// The target host of an NS, MX or SRV record.
fn target_of(record: &Record) -> Option<Name> {
    match &record.data {
        RData::NS(ns) => Some(ns.0.clone()),
        RData::MX(mx) => Some(mx.exchange.clone()),
        RData::SRV(srv) if !srv.target.is_root() => Some(srv.target.clone()),
        _ => None,
    }
}
