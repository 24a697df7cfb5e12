//! Encoded answers, kept per zone set: the fast path of issue 6.
//!
//! The cache is filled only with bytes the full path produced for the same
//! [`AnswerKey`], and it belongs to one [`ServedZones`]: a reload or a
//! transfer builds a new `ServedZones` with an empty cache, so a cached
//! answer can never outlive or disagree with the zones it came from.
//!
//! Layout, for the CPU cache as much as for memory: each shard packs its
//! responses end to end in one buffer, and maps the key's 64-bit hash
//! (keyed SipHash, computed once per lookup) to where a response lies: 24
//! bytes of map and the response itself, no allocation per answer. The
//! question is not stored twice: it is inside the response (at offset 12,
//! lower-cased), and a hit is declared only when those bytes and the other
//! request facts equal the key, so a hash collision is a miss, never a
//! wrong answer. A hit is copied out (and personalised) under the shard's
//! lock: 16 shards, and a copy of a few hundred bytes, keep that short.
//!
//! Bounded in count and in bytes: each shard holds at most `capacity /
//! SHARDS` answers and [`DEFAULT_BYTES`]` / SHARDS` octets of them, and is
//! emptied when either is reached (a random-subdomain flood churns the
//! cache; it cannot grow it).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Arc, Mutex};

use super::fast_path::AnswerKey;
use crate::snapshot::ZoneSet;

const SHARDS: usize = 16;

/// The default number of cached answers.
pub const DEFAULT_CAPACITY: usize = 200_000;

/// The default bound on the octets of all cached answers together.
pub const DEFAULT_BYTES: usize = 32 << 20;

/// Offset of the question section in a DNS message.
const QUESTION_AT: usize = 12;

/// Where one cached response lies in its shard's buffer, and the request
/// facts it was made for.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// [`AnswerKey::facts`].
    facts: u32,
    /// Offset of the response in [`Shard::bytes`].
    at: u32,
    /// Its length (a DNS message is at most 65535 octets).
    len: u16,
}

/// One shard: responses packed in `bytes`, found through `slots`.
#[derive(Debug, Default)]
struct Shard {
    slots: HashMap<u64, Slot, BuildHasherDefault<PassThrough>>,
    bytes: Vec<u8>,
}

impl Shard {
    /// The response for `key`, if the slot for its hash holds it.
    fn response(&self, hash: u64, key: &AnswerKey) -> Option<&[u8]> {
        let slot = self.slots.get(&hash)?;
        let start = slot.at as usize;
        let response = self.bytes.get(start..start + usize::from(slot.len))?;
        let question = key.question();
        let same_question = response
            .get(QUESTION_AT..QUESTION_AT + question.len())
            .is_some_and(|q| q == question);
        (slot.facts == key.facts() && same_question).then_some(response)
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.bytes.clear();
    }
}

/// The map's keys are already SipHash outputs: use them as they are.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; fold anything else in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A sharded map from question to encoded response.
#[derive(Debug)]
pub struct AnswerCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    bytes_per_shard: usize,
    hasher: RandomState,
}

impl AnswerCache {
    /// An empty cache holding up to `capacity` answers of [`DEFAULT_BYTES`] in all.
    pub fn new(capacity: usize) -> AnswerCache {
        AnswerCache::with_bytes(capacity, DEFAULT_BYTES)
    }

    /// An empty cache holding up to `capacity` answers of `bytes` in all.
    pub fn with_bytes(capacity: usize, bytes: usize) -> AnswerCache {
        // Offsets are u32; a shard never needs more.
        let bytes_per_shard = (bytes / SHARDS).clamp(1, u32::MAX as usize);
        let shard = || {
            Mutex::new(Shard {
                slots: HashMap::default(),
                // Reserved, not touched: the kernel backs only the pages that
                // answers are written to, and the buffer never moves (a grown
                // copy would leave its old pages behind in the heap).
                bytes: Vec::with_capacity(bytes_per_shard),
            })
        };
        AnswerCache {
            shards: (0..SHARDS).map(|_| shard()).collect(),
            per_shard: (capacity / SHARDS).max(1),
            bytes_per_shard,
            hasher: RandomState::new(),
        }
    }

    /// The key's hash, and its shard (from the hash's top bits: the map uses
    /// the low ones).
    fn locate(&self, key: &AnswerKey) -> (u64, &Mutex<Shard>) {
        let hash = self.hasher.hash_one(key);
        (hash, &self.shards[(hash >> 60) as usize % SHARDS])
    }

    /// `use_response` applied to the cached response for `key` (under the
    /// shard's lock: it should copy what it needs and return).
    pub fn get_with<R>(&self, key: &AnswerKey, use_response: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (hash, shard) = self.locate(key);
        let shard = shard.lock().ok()?;
        shard.response(hash, key).map(use_response)
    }

    /// A copy of the cached response for `key`.
    pub fn get(&self, key: &AnswerKey) -> Option<Vec<u8>> {
        self.get_with(key, <[u8]>::to_vec)
    }

    /// Remembers `response` for `key`. A response that does not carry the
    /// key's question at offset 12 is not kept (it could never be found),
    /// nor one larger than a shard's share of the bytes.
    pub fn insert(&self, key: AnswerKey, response: &[u8]) {
        let question = key.question();
        let carries_question = response
            .get(QUESTION_AT..QUESTION_AT + question.len())
            .is_some_and(|q| q == question);
        let Ok(len) = u16::try_from(response.len()) else {
            return;
        };
        if !carries_question || response.len() > self.bytes_per_shard {
            return;
        }
        let (hash, shard) = self.locate(&key);
        let Ok(mut shard) = shard.lock() else {
            return;
        };
        let full = shard.slots.len() >= self.per_shard && !shard.slots.contains_key(&hash);
        if full || shard.bytes.len() + response.len() > self.bytes_per_shard {
            shard.clear();
        }
        let Ok(at) = u32::try_from(shard.bytes.len()) else {
            return;
        };
        shard.bytes.extend_from_slice(response);
        shard.slots.insert(
            hash,
            Slot {
                facts: key.facts(),
                at,
                len,
            },
        );
    }

    /// How many answers are cached.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.slots.len()))
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
    pub zones: Arc<ZoneSet>,
    /// Encoded answers from exactly these zones.
    pub answers: AnswerCache,
}

impl ServedZones {
    /// A new version with an empty answer cache.
    pub fn new(zones: impl Into<Arc<ZoneSet>>) -> ServedZones {
        ServedZones {
            zones: zones.into(),
            answers: AnswerCache::new(DEFAULT_CAPACITY),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The cache's rule (issue 6): what it returns is byte for byte what the
    //! full path returns for the same request, over many generated queries.

    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};

    use super::*;
    use crate::engine::Transport;
    use crate::server::fast_path::SimpleQuery;
    use crate::server::wire::{respond, respond_uncached};
    use crate::testing::zones_from_toml;

    /// Every answer shape: data, CNAME (in zone and out), wildcard, empty
    /// non-terminal, delegation with glue, SRV/MX/NS targets for the
    /// additional section, a TXT RRset too big for 512 octets.
    const ZONE: &str = r#"
origin = "example.org."
[soa]
mname = "ns1"
rname = "hostmaster"
serial = 7
[[record]]
name = "@"
NS = ["ns1", "ns2.example.net."]
A = ["192.0.2.1"]
MX = ["10 mail"]
[[record]]
name = "ns1"
A = ["192.0.2.53"]
AAAA = ["2001:db8::53"]
[[record]]
name = "mail"
A = ["192.0.2.25"]
[[record]]
name = "www"
CNAME = "@"
[[record]]
name = "away"
CNAME = "elsewhere.example.net."
[[record]]
name = "*.wild"
A = ["192.0.2.80"]
TXT = ["wild"]
[[record]]
name = "a.b.ent"
A = ["192.0.2.81"]
[[record]]
name = "sub"
NS = ["ns.sub"]
[[record]]
name = "ns.sub"
A = ["192.0.2.99"]
[[record]]
name = "big"
TXT = [
  "big-txt-0-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-2-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-3-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-4-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-5-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
]
[[matrix]]
server_name = "@"
target = "synapse"
port = 8448
[[record]]
name = "synapse"
A = ["192.0.2.10"]
AAAA = ["2001:db8::10"]
"#;

    const NAMES: &[&str] = &[
        "example.org.",
        "ns1.example.org.",
        "mail.example.org.",
        "www.example.org.",
        "away.example.org.",
        "x.wild.example.org.",
        "deep.er.wild.example.org.",
        "wild.example.org.",
        "*.wild.example.org.",
        "b.ent.example.org.",
        "ent.example.org.",
        "a.b.ent.example.org.",
        "sub.example.org.",
        "host.sub.example.org.",
        "ns.sub.example.org.",
        "big.example.org.",
        "nope.example.org.",
        "a.b.nope.example.org.",
        "_matrix-fed._tcp.example.org.",
        "_tcp.example.org.",
        "synapse.example.org.",
        "example.com.",
        "org.",
        ".",
    ];

    const TYPES: &[RecordType] = &[
        RecordType::A,
        RecordType::AAAA,
        RecordType::TXT,
        RecordType::NS,
        RecordType::SOA,
        RecordType::ANY,
        RecordType::SRV,
        RecordType::MX,
        RecordType::CNAME,
        RecordType::DS,
        RecordType::AXFR,
        RecordType::Unknown(65280),
    ];

    /// A small deterministic generator (xorshift).
    struct Rng(u32);

    impl Rng {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            self.next() as usize % n
        }
    }

    fn mixed_case(name: &str, rng: &mut Rng) -> String {
        name.chars()
            .map(|c| {
                if rng.next().is_multiple_of(2) {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }

    fn request(name: &str, qtype: RecordType, rng: &mut Rng) -> Vec<u8> {
        let mut m = Message::new(rng.next() as u16, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        m.metadata.recursion_desired = rng.next().is_multiple_of(2);
        m.metadata.checking_disabled = rng.next().is_multiple_of(4);
        let payloads = [
            None,
            Some(100),
            Some(512),
            Some(1232),
            Some(1400),
            Some(4096),
        ];
        if let Some(payload) = payloads[rng.below(payloads.len())] {
            let mut e = Edns::new();
            e.set_max_payload(payload);
            e.set_dnssec_ok(rng.next().is_multiple_of(2));
            m.set_edns(e);
        }
        m.to_vec().unwrap()
    }

    /// The full path's response with the client's question put back: the
    /// reference the cache must equal (the full path writes the question
    /// lower-cased).
    fn reference(zones: &ZoneSet, request: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let mut response = respond_uncached(zones, &Default::default(), None, request, transport)?;
        let mut at = QUESTION_AT;
        while let Some(&len) = request.get(at) {
            if len == 0 || len > 63 {
                break;
            }
            at += 1 + usize::from(len);
        }
        if response
            .get(QUESTION_AT..at)
            .is_some_and(|q| q.eq_ignore_ascii_case(&request[QUESTION_AT..at]))
        {
            response[QUESTION_AT..at].copy_from_slice(&request[QUESTION_AT..at]);
        }
        Some(response)
    }

    #[test]
    fn cached_answers_equal_the_full_path_over_generated_queries() {
        let cold = zones_from_toml(&[ZONE]);
        let warm = ServedZones::new(zones_from_toml(&[ZONE]));
        let mut rng = Rng(0x9e37_79b9);
        let (mut compared, mut hits) = (0, 0);
        for round in 0..4_000u32 {
            let name = mixed_case(NAMES[rng.below(NAMES.len())], &mut rng);
            let qtype = TYPES[rng.below(TYPES.len())];
            let transport = if round.is_multiple_of(3) {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            // Ask twice, the second time with another ID, flags and case:
            // the second answer comes from the cache when the first filled it.
            for _ in 0..2 {
                let bytes = request(&mixed_case(&name, &mut rng), qtype, &mut rng);
                let before = SimpleQuery::parse(&bytes, transport)
                    .and_then(|q| warm.answers.get(&q.key))
                    .is_some();
                let got = respond(&warm, &bytes, transport);
                let want = reference(&cold, &bytes, transport);
                assert_eq!(got, want, "{name} {qtype} {transport:?} (cached: {before})");
                compared += 1;
                hits += usize::from(before);
            }
        }
        assert_eq!(compared, 8_000);
        assert!(hits > 3_000, "the cache answered {hits} of {compared}");
    }

    fn key(question: &[u8], limit: u16) -> AnswerKey {
        AnswerKey::new(question, None, limit, Transport::Udp).unwrap()
    }

    /// A response carrying `question` at offset 12.
    fn response_for(question: &[u8]) -> Vec<u8> {
        let mut r = vec![0x12, 0x34, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        r.extend_from_slice(question);
        r
    }

    #[test]
    fn a_hit_needs_the_same_question_and_request_facts() {
        let q = b"\x03www\x07example\x03org\x00\x00\x01\x00\x01";
        let cache = AnswerCache::new(100);
        cache.insert(key(q, 512), &response_for(q));
        assert_eq!(
            cache.get(&key(q, 512)).as_deref(),
            Some(&response_for(q)[..])
        );
        assert!(cache.get(&key(q, 1232)).is_none(), "another size limit");
        let tcp = AnswerKey::new(q, None, 512, Transport::Tcp).unwrap();
        assert!(cache.get(&tcp).is_none(), "another transport");
        let edns = AnswerKey::new(q, Some(false), 512, Transport::Udp).unwrap();
        assert!(cache.get(&edns).is_none(), "EDNS");
        let aaaa = b"\x03www\x07example\x03org\x00\x00\x1c\x00\x01";
        assert!(cache.get(&key(aaaa, 512)).is_none(), "another type");
    }

    #[test]
    fn a_response_without_the_keys_question_is_not_kept() {
        let q = b"\x03www\x07example\x03org\x00\x00\x01\x00\x01";
        let other = b"\x03ftp\x07example\x03org\x00\x00\x01\x00\x01";
        let cache = AnswerCache::new(100);
        cache.insert(key(q, 512), &response_for(other));
        cache.insert(key(q, 512), &response_for(q)[..12]);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_shard_is_emptied_not_grown() {
        let cache = AnswerCache::new(SHARDS); // one answer per shard
        for i in 0..1_000u32 {
            let mut q = b"\x04name\x07example\x03org\x00\x00\x01\x00\x01".to_vec();
            q[1..5].copy_from_slice(&i.to_be_bytes());
            cache.insert(key(&q, 512), &response_for(&q));
            assert!(cache.len() <= SHARDS);
        }
    }

    #[test]
    fn a_shard_is_emptied_when_its_bytes_run_out() {
        // 100 octets a shard: two 34-octet responses fit, a third does not.
        let cache = AnswerCache::with_bytes(100_000, SHARDS * 100);
        for i in 0..1_000u32 {
            let mut q = b"\x04name\x07example\x03org\x00\x00\x01\x00\x01".to_vec();
            q[1..5].copy_from_slice(&i.to_be_bytes());
            let response = response_for(&q);
            assert_eq!(response.len(), 34);
            cache.insert(key(&q, 512), &response);
            assert!(cache.len() <= 2 * SHARDS);
        }
        let q = b"\x03big\x07example\x03org\x00\x00\x10\x00\x01";
        let mut big = response_for(q);
        big.resize(101, 0);
        let before = cache.len();
        cache.insert(key(q, 512), &big);
        assert!(
            cache.get(&key(q, 512)).is_none(),
            "larger than a shard's share"
        );
        assert!(cache.len() <= before);
    }

    #[test]
    fn a_new_version_starts_empty() {
        let served = ServedZones::new(zones_from_toml(&[ZONE]));
        let mut rng = Rng(7);
        let bytes = request("www.example.org.", RecordType::A, &mut rng);
        respond(&served, &bytes, Transport::Udp);
        assert!(!served.answers.is_empty());
        // A reload builds a new ServedZones: its cache knows nothing of the old one.
        let reloaded = ServedZones::new(zones_from_toml(&[ZONE]));
        assert!(reloaded.answers.is_empty());
    }
}
