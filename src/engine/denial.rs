//! The proofs of DNSSEC negative and wildcard answers: which NSEC (RFC 4035
//! 3.1.3) or NSEC3 (RFC 5155 7.2) records go in the authority section.
//!
//! | answer | NSEC | NSEC3 |
//! |---|---|---|
//! | NXDOMAIN | NSEC covering QNAME, NSEC covering `*.CE` | NSEC3 matching CE, covering the next closer name, covering `*.CE` |
//! | NODATA | NSEC at QNAME (covering it for an empty non-terminal) | NSEC3 matching QNAME (DS with opt-out: the closest provable encloser proof) |
//! | wildcard answer | NSEC covering QNAME | NSEC3 covering the next closer name |
//! | wildcard NODATA | NSEC covering QNAME, NSEC at the wildcard | NSEC3 matching CE, covering the next closer name, matching the wildcard |
//! | referral without DS | NSEC at the cut | NSEC3 matching the cut, or the closest provable encloser proof (opt-out) |
//!
//! CE is the closest encloser; the next closer name is the ancestor of QNAME
//! one label longer than CE.

use hickory_proto::rr::{Name, RecordType};

use super::ZoneAnswer;
use crate::proto::name::{label_offsets, name_key, wildcard_key};
use crate::snapshot::Node;

/// The name spelled by lower-cased wire bytes.
fn name_of(key: &[u8]) -> Option<Name> {
    let labels: Vec<&[u8]> = label_offsets(key)
        .filter_map(|o| {
            let len = usize::from(*key.get(o)?);
            (len > 0).then(|| key.get(o + 1..o + 1 + len)).flatten()
        })
        .collect();
    let mut name = Name::from_labels(labels).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// The offset in `key` of the next closer name: the ancestor one label
/// longer than the closest encloser at `closest_encloser`.
fn next_closer(key: &[u8], closest_encloser: usize) -> Option<usize> {
    label_offsets(key)
        .take_while(|&o| o < closest_encloser)
        .last()
}

impl ZoneAnswer<'_, '_> {
    fn push_denial(&mut self, node: &Node, rtype: RecordType) {
        if let Some(set) = node.rrset(rtype) {
            self.push_authority(node, set);
        }
    }

    /// The NSEC matching or covering the name keyed `key`.
    fn push_nsec_covering(&mut self, key: &[u8]) {
        let zone = self.zone;
        if let Some(owner) = zone.nsec_chain().covering(key)
            && let Some(node) = zone.node(owner)
        {
            self.push_denial(node, RecordType::NSEC);
        }
    }

    fn push_nsec3_matching(&mut self, name: &Name) -> bool {
        let zone = self.zone;
        let Some(chain) = zone.nsec3_chain() else {
            return false;
        };
        match chain.hash(name).and_then(|h| chain.matching(&h)) {
            Some(node) => {
                self.push_denial(node, RecordType::NSEC3);
                true
            }
            None => false,
        }
    }

    fn push_nsec3_covering(&mut self, name: &Name) {
        let zone = self.zone;
        let Some(chain) = zone.nsec3_chain() else {
            return;
        };
        if let Some(node) = chain.hash(name).and_then(|h| chain.covering(&h)) {
            self.push_denial(node, RecordType::NSEC3);
        }
    }

    /// NSEC3 matching CE and covering the next closer name (RFC 5155 7.2.1).
    fn closest_encloser_proof(&mut self, key: &[u8], closest_encloser: usize) {
        if let Some(ce) = name_of(&key[closest_encloser..]) {
            self.push_nsec3_matching(&ce);
        }
        if let Some(nc) = next_closer(key, closest_encloser).and_then(|o| name_of(&key[o..])) {
            self.push_nsec3_covering(&nc);
        }
    }

    fn wildcard_of(key: &[u8], closest_encloser: usize) -> Vec<u8> {
        let mut wild = Vec::with_capacity(key.len() + 2);
        wildcard_key(&key[closest_encloser..], &mut wild);
        wild
    }

    pub(super) fn nxdomain_proof(&mut self, key: &[u8], closest_encloser: usize) {
        let wild = Self::wildcard_of(key, closest_encloser);
        if self.zone.nsec3_chain().is_some() {
            self.closest_encloser_proof(key, closest_encloser);
            if let Some(w) = name_of(&wild) {
                self.push_nsec3_covering(&w);
            }
        } else {
            self.push_nsec_covering(key);
            self.push_nsec_covering(&wild);
        }
    }

    pub(super) fn nodata_proof(&mut self, node: &Node, key: &[u8]) {
        if self.zone.nsec3_chain().is_some() {
            let Some(name) = name_of(key) else { return };
            if !self.push_nsec3_matching(&name) {
                // No NSEC3 for the name (an opt-out delegation asked for DS):
                // prove the closest provable encloser instead (RFC 5155 7.2.4).
                self.closest_provable_encloser_proof(key);
            }
        } else if node.rrset(RecordType::NSEC).is_some() {
            self.push_denial(node, RecordType::NSEC);
        } else {
            // An empty non-terminal has no NSEC: the one covering it proves it has no data.
            self.push_nsec_covering(key);
        }
    }

    pub(super) fn wildcard_answer_proof(&mut self, key: &[u8], closest_encloser: usize) {
        if self.zone.nsec3_chain().is_some() {
            if let Some(nc) = next_closer(key, closest_encloser).and_then(|o| name_of(&key[o..])) {
                self.push_nsec3_covering(&nc);
            }
        } else {
            self.push_nsec_covering(key);
        }
    }

    pub(super) fn wildcard_nodata_proof(
        &mut self,
        key: &[u8],
        closest_encloser: usize,
        source: &Node,
        wild: &[u8],
    ) {
        if self.zone.nsec3_chain().is_some() {
            self.closest_encloser_proof(key, closest_encloser);
            if let Some(w) = name_of(wild) {
                self.push_nsec3_matching(&w);
            }
        } else {
            self.push_nsec_covering(key);
            self.push_denial(source, RecordType::NSEC);
        }
    }

    /// A referral to a child without DS: prove there is none.
    pub(super) fn no_ds_proof(&mut self, cut: &Node, _query_key: &[u8]) {
        if self.zone.nsec3_chain().is_some() {
            let cut_name = cut.name();
            if !self.push_nsec3_matching(&cut_name) {
                self.closest_provable_encloser_proof(&name_key(&cut_name));
            }
        } else {
            self.push_denial(cut, RecordType::NSEC);
        }
    }

    /// For a name without its own NSEC3 (opt-out): the NSEC3 matching the
    /// nearest ancestor that has one, and the opt-out NSEC3 covering the next
    /// closer name (RFC 5155 7.2.7).
    fn closest_provable_encloser_proof(&mut self, key: &[u8]) {
        let zone = self.zone;
        let Some(chain) = zone.nsec3_chain() else {
            return;
        };
        let origin_len = zone.origin_key().len();
        for offset in label_offsets(key).skip(1) {
            if key.len() - offset < origin_len {
                break;
            }
            let Some(ancestor) = name_of(&key[offset..]) else {
                continue;
            };
            if chain
                .hash(&ancestor)
                .and_then(|h| chain.matching(&h))
                .is_some()
            {
                self.closest_encloser_proof(key, offset);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_closer_is_one_label_below_the_closest_encloser() {
        let key = name_key(&Name::from_ascii("a.b.c.example.").unwrap());
        let ce = label_offsets(&key).nth(2).unwrap(); // c.example.
        let nc = next_closer(&key, ce).unwrap();
        assert_eq!(name_of(&key[nc..]).unwrap().to_string(), "b.c.example.");
    }
}
