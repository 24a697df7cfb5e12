//! Response rate limiting (RRL), in the style of BIND, Knot and NSD.
//!
//! An authoritative server on the internet is used as an amplifier: spoofed
//! queries make it send large answers to a victim. RRL counts the responses
//! each client network receives per *kind* of response (the same answer, the
//! same NXDOMAIN under one domain, the same error), and past a rate it stops
//! answering, except for every `slip`-th response, which it sends truncated
//! (TC=1, no records) so a real client behind that address retries over TCP,
//! where spoofing is impossible.
//!
//! Accounting is a token bucket per (client prefix, response kind): `rate`
//! tokens per second, at most `rate * window` saved up. The table is bounded:
//! each shard is emptied when full (a flood churns it, it cannot grow it).
//! Only UDP is limited.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// What to do with a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RrlAction {
    /// Send it.
    Send,
    /// Send it truncated (TC=1, no records): a real client retries over TCP.
    Slip,
    /// Send nothing.
    Drop,
}

/// Rate limiting settings (`[rate_limit]` in fedns.toml).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrlConfig {
    /// Responses per second per client network and response kind.
    pub responses_per_second: u32,
    /// Seconds over which unused allowance accumulates (burst = rate x window).
    pub window: Duration,
    /// Every `slip`-th limited response is sent truncated; 0 = never, 1 = all.
    pub slip: u32,
    /// Client prefix length for IPv4 (24 = a /24 counts as one client).
    pub ipv4_prefix: u8,
    /// Client prefix length for IPv6.
    pub ipv6_prefix: u8,
    /// Clients never limited. Loopback is exempt unless `limit_loopback`.
    pub exempt: Vec<IpNet>,
    /// Limit loopback clients too (for tests and labs).
    pub limit_loopback: bool,
    /// Buckets kept at most (memory bound).
    pub max_entries: usize,
}

impl Default for RrlConfig {
    fn default() -> Self {
        RrlConfig {
            responses_per_second: 20,
            window: Duration::from_secs(15),
            slip: 2,
            ipv4_prefix: 24,
            ipv6_prefix: 56,
            exempt: Vec::new(),
            limit_loopback: false,
            max_entries: 100_000,
        }
    }
}

/// The kind of a response, read from its bytes: responses of one kind to
/// one client network share a bucket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// A positive answer or referral: per (QNAME, QTYPE).
    Answer(Box<[u8]>),
    /// NXDOMAIN: per parent of QNAME, so a random-subdomain flood is one kind.
    NxDomain(Box<[u8]>),
    /// NODATA: per QNAME.
    NoData(Box<[u8]>),
    /// Errors (REFUSED, FORMERR, SERVFAIL...): one kind.
    Error,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    limited: u32,
}

const SHARDS: usize = 16;

/// The rate limiter. Shared by all UDP workers.
#[derive(Debug)]
pub struct ResponseRateLimiter {
    config: RrlConfig,
    shards: Vec<Mutex<HashMap<(IpNet, Kind), Bucket>>>,
    hasher: RandomState,
}

impl ResponseRateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RrlConfig) -> ResponseRateLimiter {
        ResponseRateLimiter {
            config,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    /// The limiter's settings.
    pub fn config(&self) -> &RrlConfig {
        &self.config
    }

    /// Decides about `response` (already encoded) to `client` at `now`.
    pub fn check(&self, client: IpAddr, response: &[u8], now: Instant) -> RrlAction {
        if (client.is_loopback() && !self.config.limit_loopback)
            || self.config.exempt.iter().any(|n| n.contains(&client))
        {
            return RrlAction::Send;
        }
        let Some(kind) = kind_of(response) else {
            return RrlAction::Send;
        };
        let prefix = match client {
            IpAddr::V4(_) => self.config.ipv4_prefix,
            IpAddr::V6(_) => self.config.ipv6_prefix,
        };
        let Ok(network) = IpNet::new(client, prefix).map(|n| n.trunc()) else {
            return RrlAction::Send;
        };
        let key = (network, kind);
        let shard = &self.shards[(self.hasher.hash_one(&key) as usize) % SHARDS];
        let Ok(mut table) = shard.lock() else {
            return RrlAction::Send;
        };
        if table.len() >= self.config.max_entries / SHARDS && !table.contains_key(&key) {
            table.clear();
        }
        let rate = f64::from(self.config.responses_per_second.max(1));
        let burst = rate * self.config.window.as_secs_f64().max(1.0);
        let bucket = table.entry(key).or_insert(Bucket {
            tokens: burst,
            updated: now,
            limited: 0,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return RrlAction::Send;
        }
        bucket.limited = bucket.limited.wrapping_add(1);
        match self.config.slip {
            0 => RrlAction::Drop,
            n if bucket.limited % n == 0 => RrlAction::Slip,
            _ => RrlAction::Drop,
        }
    }
}

/// The kind of an encoded response (`None`: not something to limit).
fn kind_of(response: &[u8]) -> Option<Kind> {
    let rcode = response.get(3)? & 0x0f;
    let qdcount = u16::from_be_bytes([*response.get(4)?, *response.get(5)?]);
    let ancount = u16::from_be_bytes([*response.get(6)?, *response.get(7)?]);
    let nscount = u16::from_be_bytes([*response.get(8)?, *response.get(9)?]);
    if qdcount != 1 {
        return Some(Kind::Error);
    }
    let question = question_lowercase(response)?;
    Some(match rcode {
        0 if ancount > 0 || nscount > 0 && !is_nodata(response) => Kind::Answer(question),
        0 => Kind::NoData(question),
        3 => Kind::NxDomain(parent_of(&question)),
        _ => Kind::Error,
    })
}

/// NODATA carries the SOA in authority with AA set and no answer; a
/// referral carries NS with AA clear. The AA bit tells them apart.
fn is_nodata(response: &[u8]) -> bool {
    response.get(2).is_some_and(|b| b & 0x04 != 0)
}

/// The question (QNAME lower-cased, QTYPE), from offset 12.
fn question_lowercase(response: &[u8]) -> Option<Box<[u8]>> {
    let mut at = 12;
    loop {
        let len = usize::from(*response.get(at)?);
        if len == 0 || len > 63 {
            break;
        }
        at += 1 + len;
    }
    let mut q = response.get(12..at + 3)?.to_vec();
    q[..at - 12].make_ascii_lowercase();
    Some(q.into_boxed_slice())
}

/// The parent of the QNAME in a question key (first label dropped).
fn parent_of(question: &[u8]) -> Box<[u8]> {
    match question.first() {
        Some(&len) if len > 0 && usize::from(len) < question.len() => {
            question[1 + usize::from(len)..].into()
        }
        _ => question.into(),
    }
}

/// The truncated form of a response: header with TC set and the question,
/// no records (RFC 1035 4.1.1; what RRL's "slip" sends).
pub fn slipped(response: &[u8]) -> Option<Vec<u8>> {
    let mut at = 12;
    loop {
        let len = usize::from(*response.get(at)?);
        if len == 0 || len > 63 {
            break;
        }
        at += 1 + len;
    }
    let mut out = response.get(..at + 5)?.to_vec();
    out[2] |= 0x02; // TC
    out[6..12].fill(0); // no answer, authority or additional records
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
    use hickory_proto::rr::{Name, RecordType};

    fn response(name: &str, rcode: ResponseCode, answers: usize) -> Vec<u8> {
        let mut m = Message::new(1, MessageType::Response, OpCode::Query);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
        m.metadata.response_code = rcode;
        m.metadata.authoritative = true;
        for _ in 0..answers {
            m.add_answer(hickory_proto::rr::Record::from_rdata(
                Name::from_ascii(name).unwrap(),
                60,
                hickory_proto::rr::RData::A(hickory_proto::rr::rdata::A::new(192, 0, 2, 1)),
            ));
        }
        m.to_vec().unwrap()
    }

    fn limiter(rate: u32, slip: u32) -> ResponseRateLimiter {
        ResponseRateLimiter::new(RrlConfig {
            responses_per_second: rate,
            window: Duration::from_secs(1),
            slip,
            ..RrlConfig::default()
        })
    }

    #[test]
    fn a_flood_is_limited_and_slips_every_nth() {
        let rrl = limiter(5, 2);
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        let r = response("www.example.org.", ResponseCode::NoError, 1);
        let now = Instant::now();
        let actions: Vec<RrlAction> = (0..10).map(|_| rrl.check(client, &r, now)).collect();
        assert_eq!(
            actions.iter().filter(|a| **a == RrlAction::Send).count(),
            5,
            "the burst"
        );
        assert_eq!(
            actions[5..],
            [
                RrlAction::Drop,
                RrlAction::Slip,
                RrlAction::Drop,
                RrlAction::Slip,
                RrlAction::Drop
            ]
        );
        // A second later the allowance is back.
        assert_eq!(
            rrl.check(client, &r, now + Duration::from_secs(1)),
            RrlAction::Send
        );
    }

    #[test]
    fn the_client_network_is_the_unit() {
        let rrl = limiter(1, 0);
        let r = response("www.example.org.", ResponseCode::NoError, 1);
        let now = Instant::now();
        assert_eq!(
            rrl.check("198.51.100.1".parse().unwrap(), &r, now),
            RrlAction::Send
        );
        assert_eq!(
            rrl.check("198.51.100.200".parse().unwrap(), &r, now),
            RrlAction::Drop,
            "same /24"
        );
        assert_eq!(
            rrl.check("198.51.101.1".parse().unwrap(), &r, now),
            RrlAction::Send,
            "another /24"
        );
        assert_eq!(
            rrl.check("2001:db8:0:1::1".parse().unwrap(), &r, now),
            RrlAction::Send
        );
        assert_eq!(
            rrl.check("2001:db8:0:1::ffff".parse().unwrap(), &r, now),
            RrlAction::Drop,
            "same /56"
        );
    }

    #[test]
    fn random_subdomains_share_one_nxdomain_bucket() {
        let rrl = limiter(2, 0);
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        let now = Instant::now();
        let sent = (0..10)
            .filter(|i| {
                rrl.check(
                    client,
                    &response(&format!("rnd{i}.example.org."), ResponseCode::NXDomain, 0),
                    now,
                ) == RrlAction::Send
            })
            .count();
        assert_eq!(sent, 2);
        // Another kind of response to the same client is still answered.
        assert_eq!(
            rrl.check(
                client,
                &response("www.example.org.", ResponseCode::NoError, 1),
                now
            ),
            RrlAction::Send
        );
    }

    #[test]
    fn loopback_and_exempt_networks_are_not_limited() {
        let mut config = RrlConfig {
            responses_per_second: 1,
            window: Duration::from_secs(1),
            ..RrlConfig::default()
        };
        config.exempt = vec!["192.0.2.0/24".parse().unwrap()];
        let rrl = ResponseRateLimiter::new(config);
        let r = response("www.example.org.", ResponseCode::NoError, 1);
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(
                rrl.check("127.0.0.1".parse().unwrap(), &r, now),
                RrlAction::Send
            );
            assert_eq!(
                rrl.check("192.0.2.5".parse().unwrap(), &r, now),
                RrlAction::Send
            );
        }
    }

    #[test]
    fn the_table_is_bounded() {
        let rrl = ResponseRateLimiter::new(RrlConfig {
            max_entries: 160,
            ..RrlConfig::default()
        });
        let now = Instant::now();
        for i in 0..10_000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + (i << 8)));
            rrl.check(
                ip,
                &response("www.example.org.", ResponseCode::NoError, 1),
                now,
            );
        }
        let total: usize = rrl.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total <= 160, "{total}");
    }

    #[test]
    fn slipped_responses_are_truncated_and_well_formed() {
        let r = response("www.example.org.", ResponseCode::NoError, 3);
        let s = slipped(&r).unwrap();
        let m = Message::from_vec(&s).unwrap();
        assert!(m.metadata.truncation);
        assert!(m.answers.is_empty());
        assert_eq!(m.queries[0].name().to_string(), "www.example.org.");
    }
}
