//! Authenticated denial of existence for pre-signed zones: the NSEC chain
//! (RFC 4034 4, RFC 4035 3.1.3) and the NSEC3 chain (RFC 5155), indexed so
//! that the record proving a name absent is found by binary search.
//!
//! fedns signs nothing: these records come from the zone (file or
//! transfer), and the engine only picks the right ones.

use std::cmp::Ordering;

use hickory_proto::dnssec::Nsec3HashAlgorithm;
use hickory_proto::rr::{Name, RecordType};

use super::{Node, RRset};
use crate::proto::name::label_offsets;

/// A name in RFC 4034 6.1 canonical order: its labels from the root down,
/// lower-cased; `Vec` ordering of these is canonical DNS name order.
pub type CanonicalKey = Vec<Vec<u8>>;

/// The canonical-order key of a name given as lower-cased wire bytes.
pub fn canonical_key(key: &[u8]) -> CanonicalKey {
    let mut labels: Vec<Vec<u8>> = label_offsets(key)
        .filter_map(|o| {
            let len = usize::from(*key.get(o)?);
            (len > 0)
                .then(|| key.get(o + 1..o + 1 + len).map(<[u8]>::to_vec))
                .flatten()
        })
        .collect();
    labels.reverse();
    labels
}

/// The owners of the zone's NSEC records in canonical order.
#[derive(Debug, Default)]
pub struct NsecChain {
    owners: Vec<(CanonicalKey, Box<[u8]>)>,
}

impl NsecChain {
    /// The octets the chain holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.owners.capacity() * std::mem::size_of::<(CanonicalKey, Box<[u8]>)>()
            + self
                .owners
                .iter()
                .map(|(key, owner)| {
                    std::mem::size_of_val::<[u8]>(owner)
                        + key.capacity() * std::mem::size_of::<Vec<u8>>()
                        + key.iter().map(Vec::capacity).sum::<usize>()
                })
                .sum::<usize>()
    }

    /// A chain of the given (name key) owners.
    pub fn new(owners: impl IntoIterator<Item = Box<[u8]>>) -> NsecChain {
        let mut owners: Vec<_> = owners.into_iter().map(|k| (canonical_key(&k), k)).collect();
        owners.sort();
        NsecChain { owners }
    }

    /// True when the zone has no NSEC records.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// The owner (name key) of the NSEC that matches or covers the name
    /// keyed `key`: the last owner at or before it in canonical order
    /// (the apex, first in the zone, covers nothing before itself).
    pub fn covering(&self, key: &[u8]) -> Option<&[u8]> {
        let target = canonical_key(key);
        let at = match self.owners.binary_search_by(|(k, _)| k.cmp(&target)) {
            Ok(i) => i,
            Err(0) => self.owners.len().checked_sub(1)?,
            Err(i) => i - 1,
        };
        self.owners.get(at).map(|(_, k)| &**k)
    }
}

/// The zone's NSEC3 records by hash, and the parameters to hash with.
#[derive(Debug, Default)]
pub struct Nsec3Chain {
    salt: Vec<u8>,
    iterations: u16,
    nodes: Vec<(Vec<u8>, Node)>,
}

impl Nsec3Chain {
    /// The octets the chain holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.salt.len()
            + self.nodes.capacity() * std::mem::size_of::<(Vec<u8>, Node)>()
            + self
                .nodes
                .iter()
                .map(|(hash, node)| hash.capacity() + node.heap_bytes())
                .sum::<usize>()
    }

    /// A chain of NSEC3 `nodes` (owner `<base32hex hash>.<origin>`), hashed
    /// with `salt` and `iterations` (from NSEC3PARAM). Owners whose first
    /// label is not a base32hex hash are left out.
    pub fn new(salt: Vec<u8>, iterations: u16, nodes: Vec<Node>) -> Nsec3Chain {
        let mut nodes: Vec<(Vec<u8>, Node)> = nodes
            .into_iter()
            .filter_map(|n| {
                let hash = data_encoding::BASE32HEX_NOPAD
                    .decode(&n.first_label().to_ascii_uppercase())
                    .ok()?;
                Some((hash, n))
            })
            .collect();
        nodes.sort_by(|a, b| a.0.cmp(&b.0));
        Nsec3Chain {
            salt,
            iterations,
            nodes,
        }
    }

    /// True when the zone has no NSEC3 records.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The NSEC3 nodes, in hash order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().map(|(_, n)| n)
    }

    /// The NSEC3 nodes with their owner hashes, in hash order.
    pub fn hashed_nodes(&self) -> impl Iterator<Item = (&[u8], &Node)> {
        self.nodes.iter().map(|(h, n)| (h.as_slice(), n))
    }

    /// The NSEC3 hash of `name` (RFC 5155 5).
    pub fn hash(&self, name: &Name) -> Option<Vec<u8>> {
        Nsec3HashAlgorithm::SHA1
            .hash(&self.salt, name, self.iterations)
            .ok()
            .map(|d| d.as_ref().to_vec())
    }

    /// The NSEC3 whose owner hash equals `hash`.
    pub fn matching(&self, hash: &[u8]) -> Option<&Node> {
        self.nodes
            .binary_search_by(|(h, _)| h.as_slice().cmp(hash))
            .ok()
            .map(|i| &self.nodes[i].1)
    }

    /// The NSEC3 whose interval covers `hash` (the last owner hash below it,
    /// wrapping around to the last of the chain).
    pub fn covering(&self, hash: &[u8]) -> Option<&Node> {
        let at = match self.nodes.binary_search_by(|(h, _)| h.as_slice().cmp(hash)) {
            Ok(i) => i,
            Err(0) => self.nodes.len().checked_sub(1)?,
            Err(i) => i - 1,
        };
        self.nodes.get(at).map(|(_, n)| n)
    }

    /// True if the NSEC3 `node` has the opt-out flag (RFC 5155 3.1.2.1).
    pub fn is_opt_out(node: &Node) -> bool {
        node.rrset(RecordType::NSEC3)
            .and_then(RRset::first_rdata)
            .is_some_and(|r| match r {
                hickory_proto::rr::RData::DNSSEC(
                    hickory_proto::dnssec::rdata::DNSSECRData::NSEC3(n),
                ) => n.opt_out(),
                _ => false,
            })
    }
}

/// Canonical comparison of two names given as lower-cased wire bytes.
pub fn canonical_cmp(a: &[u8], b: &[u8]) -> Ordering {
    canonical_key(a).cmp(&canonical_key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::name::name_key;

    fn key(s: &str) -> Box<[u8]> {
        name_key(&Name::from_ascii(s).unwrap())
    }

    #[test]
    fn canonical_order_is_rfc4034_section_6_1() {
        // The example list of RFC 4034 6.1, in order (the \200 and \001 labels left out).
        let names = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "*.z.example.",
        ];
        for pair in names.windows(2) {
            assert_eq!(
                canonical_cmp(&key(pair[0]), &key(pair[1])),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn covering_finds_the_predecessor() {
        let chain = NsecChain::new(["example.", "b.example.", "d.example."].map(key));
        assert_eq!(
            chain.covering(&key("c.example.")),
            Some(&*key("b.example."))
        );
        assert_eq!(
            chain.covering(&key("b.example.")),
            Some(&*key("b.example.")),
            "a match"
        );
        assert_eq!(
            chain.covering(&key("x.d.example.")),
            Some(&*key("d.example."))
        );
        assert_eq!(
            chain.covering(&key("e.example.")),
            Some(&*key("d.example.")),
            "the last covers to the end"
        );
    }
}
