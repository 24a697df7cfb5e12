//! Log lines that remote input causes, limited so that no sender can fill
//! the log: at most one line per client network and kind of event per
//! interval, carrying how many events the silent stretch before it had.
//!
//! A refused NOTIFY, a refused transfer, a bad TSIG are worth a line: an
//! operator wants to see that a secondary is misconfigured or that someone
//! is probing. A thousand of them a second are worth one line a minute.
//! The events themselves are counted in the metrics, every one.
//!
//! Clients are grouped by network (IPv4 /24, IPv6 /56, as response rate
//! limiting groups them), so a spoofer cycling through addresses does not
//! get a line per address. The table is bounded ([`MAX_TRACKED`] entries):
//! when full, entries older than the interval are dropped, and if that does
//! not free room, every further network shares one overflow entry.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often one network may cause one kind of log line.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// The most (network, kind) pairs remembered at once.
pub const MAX_TRACKED: usize = 4096;

/// A network and a kind of event.
type Key = (u128, &'static str);

/// When a (network, kind) last logged, and what was suppressed since.
#[derive(Debug)]
struct Entry {
    logged: Instant,
    suppressed: u64,
}

/// Decides which remote-caused events get a log line.
#[derive(Debug)]
pub struct LogLimiter {
    interval: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Default for LogLimiter {
    fn default() -> Self {
        LogLimiter::new(INTERVAL)
    }
}

impl LogLimiter {
    /// A limiter allowing one line per network and kind every `interval`.
    pub fn new(interval: Duration) -> LogLimiter {
        LogLimiter {
            interval,
            entries: Mutex::default(),
        }
    }

    /// Whether an event of `kind` from `peer` at `now` gets a log line:
    /// `Some(n)` with the `n` events suppressed since the last line, or
    /// `None` to stay silent.
    pub fn allow(&self, peer: IpAddr, kind: &'static str, now: Instant) -> Option<u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = (network(peer), kind);
        if !entries.contains_key(&key) && entries.len() >= MAX_TRACKED {
            let interval = self.interval;
            entries.retain(|_, e| now.duration_since(e.logged) < interval);
            if entries.len() >= MAX_TRACKED {
                key = (u128::MAX, kind);
            }
        }
        match entries.get_mut(&key) {
            Some(e) if now.duration_since(e.logged) < self.interval => {
                e.suppressed += 1;
                None
            }
            Some(e) => {
                let suppressed = std::mem::take(&mut e.suppressed);
                e.logged = now;
                Some(suppressed)
            }
            None => {
                entries.insert(
                    key,
                    Entry {
                        logged: now,
                        suppressed: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

/// The network of `peer`: its /24 (IPv4) or /56 (IPv6), as a number.
fn network(peer: IpAddr) -> u128 {
    match peer {
        IpAddr::V4(v4) => u128::from(u32::from(v4) & 0xffff_ff00),
        IpAddr::V6(v6) => u128::from(v6) & !((1u128 << 72) - 1) | 1,
    }
}

/// " (and N more like it in the last minute)" for a line that follows
/// suppressed ones; empty when none were.
pub fn suppressed_note(suppressed: u64) -> String {
    if suppressed == 0 {
        String::new()
    } else {
        format!(" (and {suppressed} more like it since the last such line)")
    }
}

impl LogLimiter {
    /// A request from `peer` was refused: counted in `metrics` by `kind`,
    /// and `message` logged (with the peer) unless this network caused the
    /// same kind of refusal within the last minute. The one way the
    /// transfer, NOTIFY and UPDATE code report a refusal.
    pub fn refused(
        &self,
        metrics: &crate::metrics::Metrics,
        peer: std::net::SocketAddr,
        kind: &'static str,
        message: impl FnOnce() -> String,
    ) {
        metrics.count_refused(kind);
        if let Some(suppressed) = self.allow(peer.ip(), kind, Instant::now()) {
            tracing::warn!(%peer, "{}{}", message(), suppressed_note(suppressed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_network_and_kind_per_interval_with_the_count() {
        let limiter = LogLimiter::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.200".parse().unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(limiter.allow(a, "notify", t0), Some(0));
        assert_eq!(limiter.allow(b, "notify", t0), None, "same /24");
        assert_eq!(limiter.allow(a, "transfer", t0), Some(0), "another kind");
        assert_eq!(
            limiter.allow(other, "notify", t0),
            Some(0),
            "another network"
        );
        for _ in 0..1000 {
            assert_eq!(
                limiter.allow(a, "notify", t0 + Duration::from_secs(1)),
                None
            );
        }
        assert_eq!(
            limiter.allow(a, "notify", t0 + Duration::from_secs(61)),
            Some(1001)
        );
    }

    #[test]
    fn the_table_stays_bounded_under_spoofed_sources() {
        let limiter = LogLimiter::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let mut lines = 0;
        for i in 0..(MAX_TRACKED as u32 * 4) {
            let peer = IpAddr::from(std::net::Ipv4Addr::from(i << 8));
            if limiter.allow(peer, "notify", t0).is_some() {
                lines += 1;
            }
        }
        assert_eq!(lines, MAX_TRACKED + 1, "then one overflow line");
        assert!(limiter.entries.lock().unwrap().len() <= MAX_TRACKED + 1);
    }
}
