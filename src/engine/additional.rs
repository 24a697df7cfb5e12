//! The additional section: addresses of the hosts the answer names.
//!
//! For every NS, MX and SRV record in the answer and authority sections, the
//! A and AAAA RRsets of its target, when the target is in the same zone.
//! Authoritative data is used as is; below a zone cut only NS targets get
//! their glue (a referral is useless without it), never MX or SRV targets
//! (occluded data is not ours to serve).

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::Answer;
use crate::snapshot::ZoneSnapshot;
use crate::snapshot::name_key::{label_offsets, write_name_key};

/// Appends the in-zone addresses of every NS/MX/SRV target to `answer`.
pub(super) fn add_target_addresses(zone: &ZoneSnapshot, answer: &mut Answer) {
    let targets: Vec<(Name, bool)> = answer
        .answers
        .iter()
        .chain(answer.authorities.iter())
        .filter_map(target_of)
        .collect();
    let mut seen: Vec<Vec<u8>> = Vec::with_capacity(targets.len());
    let mut key = Vec::new();
    for (target, is_ns) in targets {
        write_name_key(&target, &mut key);
        if seen.contains(&key) || !key.ends_with(zone.origin_key()) {
            continue;
        }
        seen.push(key.clone());
        if !is_ns && is_below_zone_cut(zone, &key) {
            continue;
        }
        let Some(node) = zone.node(&key) else {
            continue;
        };
        for rtype in [RecordType::A, RecordType::AAAA] {
            if let Some(set) = node.rrset(rtype) {
                answer.additionals.extend(set.records.iter().cloned());
            }
        }
    }
}

/// The target host of an NS, MX or SRV record, and whether it is an NS target.
fn target_of(record: &Record) -> Option<(Name, bool)> {
    match &record.data {
        RData::NS(ns) => Some((ns.0.clone(), true)),
        RData::MX(mx) => Some((mx.exchange.clone(), false)),
        RData::SRV(srv) if !srv.target.is_root() => Some((srv.target.clone(), false)),
        _ => None,
    }
}

/// True if the name keyed `key` is at or below a zone cut of `zone` (glue or occluded).
fn is_below_zone_cut(zone: &ZoneSnapshot, key: &[u8]) -> bool {
    let origin_len = zone.origin_key().len();
    label_offsets(key)
        .take_while(|&o| key.len() - o > origin_len)
        .any(|o| zone.node(&key[o..]).is_some_and(|n| n.is_zone_cut))
}
