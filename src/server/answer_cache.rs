//! Encoded answers, kept per zone set: the fast path of issue 6.
//!
//! The cache is filled only with bytes the full path produced for the same
//! [`AnswerKey`], and it belongs to one [`ServedZones`]: a reload or a
//! transfer builds a new `ServedZones` with an empty cache, so a cached
//! answer can never outlive or disagree with the zones it came from.
//!
//! Bounded: each shard holds at most `capacity / SHARDS` answers and is
//! emptied when full (a random-subdomain flood churns the cache; it cannot
//! grow it).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use super::fast_path::AnswerKey;
use crate::snapshot::ZoneSet;

const SHARDS: usize = 16;

/// The default number of cached answers.
pub const DEFAULT_CAPACITY: usize = 200_000;

/// A sharded map from question to encoded response.
#[derive(Debug)]
pub struct AnswerCache {
    shards: Vec<Mutex<HashMap<AnswerKey, Arc<[u8]>>>>,
    per_shard: usize,
    hasher: RandomState,
}

impl AnswerCache {
    /// An empty cache holding up to `capacity` answers.
    pub fn new(capacity: usize) -> AnswerCache {
        AnswerCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: (capacity / SHARDS).max(1),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &AnswerKey) -> &Mutex<HashMap<AnswerKey, Arc<[u8]>>> {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    /// The cached response for `key`.
    pub fn get(&self, key: &AnswerKey) -> Option<Arc<[u8]>> {
        self.shard(key).lock().ok()?.get(key).cloned()
    }

    /// Remembers `response` for `key`.
    pub fn insert(&self, key: AnswerKey, response: &[u8]) {
        let Ok(mut shard) = self.shard(&key).lock() else {
            return;
        };
        if shard.len() >= self.per_shard {
            shard.clear();
        }
        shard.insert(key, Arc::from(response));
    }

    /// How many answers are cached.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.len()))
            .sum()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The zones being served and the answers encoded from them: one version,
/// swapped as a whole.
#[derive(Debug)]
pub struct ServedZones {
    /// The zones.
    pub zones: ZoneSet,
    /// Encoded answers from exactly these zones.
    pub answers: AnswerCache,
}

impl ServedZones {
    /// A new version with an empty answer cache.
    pub fn new(zones: ZoneSet) -> ServedZones {
        ServedZones {
            zones,
            answers: AnswerCache::new(DEFAULT_CAPACITY),
        }
    }
}
