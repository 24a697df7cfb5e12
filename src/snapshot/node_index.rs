//! The names of one zone, found by lower-cased key (RFC 4343).
//!
//! Every node keeps its owner name as the zone wrote it. Lookups come with
//! the lower-cased wire key of the query name. A map from key to node would
//! hold each name twice (and a key allocation per name); this table holds
//! the nodes alone, hashes each owner as its lower-cased form, and compares
//! owners to keys without regard to ASCII case. Names are hashed with
//! hashbrown's default (foldhash, seeded at random per index), a few times
//! cheaper than std's SipHash on short keys; the seed keeps the table's
//! layout unpredictable to whoever chooses the names. On a zone of 100 000 names
//! that is about 5 MB less than a `HashMap<NameKey, Node>`.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::Node;
use crate::proto::name::MAX_NAME_WIRE_LEN;

/// The nodes of a zone, by owner name compared case-insensitively.
#[derive(Debug, Default)]
pub struct NodeIndex {
    table: HashTable<Node>,
    hasher: DefaultHashBuilder,
}

impl NodeIndex {
    /// An empty index with room for `capacity` nodes.
    pub fn with_capacity(capacity: usize) -> NodeIndex {
        NodeIndex {
            table: HashTable::with_capacity(capacity),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// The hash of a lower-cased wire key.
    fn hash_key(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The hash of a node: its owner, lower-cased.
    fn hash_node(hasher: &DefaultHashBuilder, node: &Node) -> u64 {
        let owner = node.owner_wire();
        let mut lower = [0u8; MAX_NAME_WIRE_LEN];
        let len = owner.len().min(MAX_NAME_WIRE_LEN);
        // Length octets are below 64, so only the letters of labels change.
        for (to, from) in lower.iter_mut().zip(&owner[..len]) {
            *to = from.to_ascii_lowercase();
        }
        hasher.hash_one(&lower[..len])
    }

    /// The node whose owner lower-cased is `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Node> {
        self.table.find(self.hash_key(key), |n| {
            n.owner_wire().eq_ignore_ascii_case(key)
        })
    }

    /// True when a node has this lower-cased key.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Adds `node`; a node with the same owner (in any case) is replaced.
    pub fn insert(&mut self, node: Node) {
        let hasher = &self.hasher;
        let hash = Self::hash_node(hasher, &node);
        let owner = node.owner_wire();
        match self
            .table
            .find_mut(hash, |n| n.owner_wire().eq_ignore_ascii_case(owner))
        {
            Some(existing) => *existing = node,
            None => {
                self.table
                    .insert_unique(hash, node, |n| Self::hash_node(hasher, n));
            }
        }
    }

    /// Every node, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Node> {
        self.table.iter()
    }

    /// The octets the index and its nodes hold on the heap: the table's
    /// slots (a node and a control octet each), and each node's own.
    pub fn heap_bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<Node>() + 1)
            + self.iter().map(Node::heap_bytes).sum::<usize>()
    }
}
