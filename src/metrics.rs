//! Metrics in the Prometheus text format, served on a separate address
//! (`metrics_listen`, loopback unless configured otherwise).
//!
//! Query counters are plain atomics indexed by transport, QTYPE and RCODE,
//! read off the response bytes, so counting costs a few nanoseconds on the
//! hot path. Everything else (zones and serials, transfers, secondaries'
//! refresh and expiry, reloads, lint findings) changes rarely and lives
//! behind a mutex.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::proto::clock::unix_now;

use tokio::sync::watch;
use tracing::info;

use crate::web::http::{Handler, Request, Response};

use crate::engine::Transport;

/// The QTYPEs counted by name; every other type counts as `other`.
const QTYPES: [(u16, &str); 15] = [
    (1, "A"),
    (28, "AAAA"),
    (33, "SRV"),
    (16, "TXT"),
    (15, "MX"),
    (2, "NS"),
    (6, "SOA"),
    (5, "CNAME"),
    (12, "PTR"),
    (257, "CAA"),
    (43, "DS"),
    (48, "DNSKEY"),
    (255, "ANY"),
    (252, "AXFR"),
    (251, "IXFR"),
];
const OTHER_QTYPE: usize = QTYPES.len();
/// RCODEs 0..=5 by name, then `other`.
const RCODES: [&str; 7] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "other",
];

/// A transfer, as the metrics see it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TransferKey {
    /// The zone.
    pub zone: String,
    /// `in` or `out`.
    pub direction: &'static str,
    /// `AXFR` or `IXFR`.
    pub kind: String,
    /// `ok` or `failed`.
    pub outcome: &'static str,
}

/// What a secondary zone last did.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecondaryState {
    /// Unix time of the last successful refresh.
    pub last_refresh: Option<u64>,
    /// The SOA expire of the version held, in seconds.
    pub expire: u64,
}

#[derive(Debug, Default)]
struct Slow {
    serials: BTreeMap<String, u32>,
    transfers: BTreeMap<TransferKey, u64>,
    secondaries: BTreeMap<String, SecondaryState>,
    reloads: BTreeMap<&'static str, u64>,
    updates: BTreeMap<&'static str, u64>,
    refused: BTreeMap<&'static str, u64>,
    findings: BTreeMap<(String, &'static str), u64>,
}

/// All counters of one server.
#[derive(Debug)]
pub struct Metrics {
    /// [transport][qtype][rcode]
    queries: Vec<AtomicU64>,
    rate_limited: [AtomicU64; 2],
    slow: Mutex<Slow>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            queries: (0..2 * (QTYPES.len() + 1) * RCODES.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            rate_limited: [AtomicU64::new(0), AtomicU64::new(0)],
            slow: Mutex::new(Slow::default()),
        }
    }
}

impl Metrics {
    /// Counts one answered query from its request and response bytes.
    pub fn count_query(&self, transport: Transport, request: &[u8], response: &[u8]) {
        let qtype = question_type(request).map_or(OTHER_QTYPE, |t| {
            QTYPES
                .iter()
                .position(|(c, _)| *c == t)
                .unwrap_or(OTHER_QTYPE)
        });
        let rcode = response.get(3).map_or(6, |b| usize::from(b & 0x0f).min(6));
        let t = match transport {
            Transport::Udp => 0,
            Transport::Tcp => 1,
        };
        let index = (t * (QTYPES.len() + 1) + qtype) * RCODES.len() + rcode;
        if let Some(counter) = self.queries.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a response rate limiting dropped (`slipped` = sent truncated instead).
    pub fn count_rate_limited(&self, slipped: bool) {
        self.rate_limited[usize::from(slipped)].fetch_add(1, Ordering::Relaxed);
    }

    fn with_slow(&self, f: impl FnOnce(&mut Slow)) {
        if let Ok(mut slow) = self.slow.lock() {
            f(&mut slow);
        }
    }

    /// The serial now served for `zone`.
    pub fn set_serial(&self, zone: &str, serial: u32) {
        self.with_slow(|s| {
            s.serials.insert(zone.to_string(), serial);
        });
    }

    /// A zone is no longer served: its gauges go.
    pub fn forget_zone(&self, zone: &str) {
        self.with_slow(|s| {
            s.serials.remove(zone);
            s.secondaries.remove(zone);
        });
    }

    /// A transfer happened.
    pub fn count_transfer(&self, key: TransferKey) {
        self.with_slow(|s| *s.transfers.entry(key).or_default() += 1);
    }

    /// A secondary zone refreshed successfully (its SOA expire is `expire`).
    pub fn secondary_refreshed(&self, zone: &str, expire: Duration) {
        self.with_slow(|s| {
            s.secondaries.insert(
                zone.to_string(),
                SecondaryState {
                    last_refresh: Some(unix_now()),
                    expire: expire.as_secs(),
                },
            );
        });
    }

    /// A reload ended (`ok`, `partial` or `refused`).
    pub fn count_reload(&self, outcome: &'static str) {
        self.with_slow(|s| *s.reloads.entry(outcome).or_default() += 1);
    }

    /// A signed dynamic update ended (`applied` or `rejected`).
    pub fn count_update(&self, outcome: &'static str) {
        self.with_slow(|s| *s.updates.entry(outcome).or_default() += 1);
    }

    /// A request refused, by kind (NOTIFY from a stranger, a transfer
    /// outside the allow list, a bad TSIG...): every one is counted, even
    /// when its log line is suppressed.
    pub fn count_refused(&self, kind: &'static str) {
        self.with_slow(|s| *s.refused.entry(kind).or_default() += 1);
    }

    /// The lint findings of the last load, per zone and severity.
    pub fn set_findings(&self, counts: Vec<((String, &'static str), u64)>) {
        self.with_slow(|s| s.findings = counts.into_iter().collect());
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP fedns_queries_total Queries answered, by transport, QTYPE and RCODE.\n# TYPE fedns_queries_total counter\n");
        for (t, transport) in ["udp", "tcp"].iter().enumerate() {
            for q in 0..=QTYPES.len() {
                let qtype = QTYPES.get(q).map_or("other", |(_, n)| n);
                for (r, rcode) in RCODES.iter().enumerate() {
                    let n = self.queries[(t * (QTYPES.len() + 1) + q) * RCODES.len() + r]
                        .load(Ordering::Relaxed);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "fedns_queries_total{{transport=\"{transport}\",qtype=\"{qtype}\",rcode=\"{rcode}\"}} {n}"
                        );
                    }
                }
            }
        }
        out.push_str("# HELP fedns_rate_limited_total Responses withheld by rate limiting (dropped, or slipped: sent truncated).\n# TYPE fedns_rate_limited_total counter\n");
        for (i, action) in ["dropped", "slipped"].iter().enumerate() {
            let _ = writeln!(
                out,
                "fedns_rate_limited_total{{action=\"{action}\"}} {}",
                self.rate_limited[i].load(Ordering::Relaxed)
            );
        }
        let Ok(slow) = self.slow.lock() else {
            return out;
        };
        out.push_str("# HELP fedns_zone_serial The SOA serial served for each zone.\n# TYPE fedns_zone_serial gauge\n");
        for (zone, serial) in &slow.serials {
            let _ = writeln!(out, "fedns_zone_serial{{zone=\"{zone}\"}} {serial}");
        }
        out.push_str("# HELP fedns_transfers_total Zone transfers, by zone, direction, kind and outcome.\n# TYPE fedns_transfers_total counter\n");
        for (k, n) in &slow.transfers {
            let _ = writeln!(
                out,
                "fedns_transfers_total{{zone=\"{}\",direction=\"{}\",kind=\"{}\",outcome=\"{}\"}} {n}",
                k.zone, k.direction, k.kind, k.outcome
            );
        }
        let now = unix_now();
        out.push_str("# HELP fedns_secondary_seconds_since_refresh Seconds since each secondary zone last refreshed successfully.\n# TYPE fedns_secondary_seconds_since_refresh gauge\n");
        for (zone, st) in &slow.secondaries {
            if let Some(at) = st.last_refresh {
                let _ = writeln!(
                    out,
                    "fedns_secondary_seconds_since_refresh{{zone=\"{zone}\"}} {}",
                    now.saturating_sub(at)
                );
            }
        }
        out.push_str("# HELP fedns_secondary_seconds_until_expire Seconds until each secondary zone expires without a refresh (0: expired).\n# TYPE fedns_secondary_seconds_until_expire gauge\n");
        for (zone, st) in &slow.secondaries {
            if let Some(at) = st.last_refresh {
                let _ = writeln!(
                    out,
                    "fedns_secondary_seconds_until_expire{{zone=\"{zone}\"}} {}",
                    (at + st.expire).saturating_sub(now)
                );
            }
        }
        out.push_str("# HELP fedns_reloads_total Zone reloads (SIGHUP), by outcome.\n# TYPE fedns_reloads_total counter\n");
        for (outcome, n) in &slow.reloads {
            let _ = writeln!(out, "fedns_reloads_total{{outcome=\"{outcome}\"}} {n}");
        }
        out.push_str("# HELP fedns_updates_total Signed dynamic updates (RFC 2136) that reached the zone, by outcome.\n# TYPE fedns_updates_total counter\n");
        for (outcome, n) in &slow.updates {
            let _ = writeln!(out, "fedns_updates_total{{outcome=\"{outcome}\"}} {n}");
        }
        out.push_str("# HELP fedns_refused_requests_total NOTIFY, transfer and signed requests refused, by kind.\n# TYPE fedns_refused_requests_total counter\n");
        for (kind, n) in &slow.refused {
            let _ = writeln!(out, "fedns_refused_requests_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP fedns_lint_findings Findings of the offline delegation lint at the last load, by zone and severity.\n# TYPE fedns_lint_findings gauge\n");
        for ((zone, severity), n) in &slow.findings {
            let _ = writeln!(
                out,
                "fedns_lint_findings{{zone=\"{zone}\",severity=\"{severity}\"}} {n}"
            );
        }
        out
    }
}

/// The QTYPE of a request's first question (offset 12, uncompressed).
fn question_type(request: &[u8]) -> Option<u16> {
    let mut at = 12;
    loop {
        let len = usize::from(*request.get(at)?);
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        at += 1 + len;
    }
    Some(u16::from_be_bytes([
        *request.get(at + 1)?,
        *request.get(at + 2)?,
    ]))
}

/// Serves `GET /metrics` on `addr` until `shutdown`; returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let handler: Handler = Arc::new(move |request: &Request| match request.path.as_str() {
        "/metrics" | "/" => Response::new(200, "text/plain; version=0.0.4", metrics.render()),
        _ => Response::text(404, "try GET /metrics\n"),
    });
    let local = crate::web::http::serve(addr, "metrics", handler, shutdown).await?;
    info!("metrics on http://{local}/metrics");
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
    use hickory_proto::rr::{Name, RecordType};

    fn bytes(qtype: RecordType, rcode: ResponseCode) -> (Vec<u8>, Vec<u8>) {
        let mut q = Message::new(1, MessageType::Query, OpCode::Query);
        q.add_query(Query::query(
            Name::from_ascii("example.org.").unwrap(),
            qtype,
        ));
        let mut r = q.clone();
        r.metadata.message_type = MessageType::Response;
        r.metadata.response_code = rcode;
        (q.to_vec().unwrap(), r.to_vec().unwrap())
    }

    #[test]
    fn counts_queries_by_transport_type_and_rcode() {
        let m = Metrics::default();
        let (q, r) = bytes(RecordType::SRV, ResponseCode::NoError);
        m.count_query(Transport::Udp, &q, &r);
        m.count_query(Transport::Udp, &q, &r);
        let (q, r) = bytes(RecordType::HINFO, ResponseCode::NXDomain);
        m.count_query(Transport::Tcp, &q, &r);
        let text = m.render();
        assert!(
            text.contains(
                "fedns_queries_total{transport=\"udp\",qtype=\"SRV\",rcode=\"NOERROR\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "fedns_queries_total{transport=\"tcp\",qtype=\"other\",rcode=\"NXDOMAIN\"} 1"
            ),
            "{text}"
        );
    }

    #[test]
    fn renders_zones_transfers_and_secondaries() {
        let m = Metrics::default();
        m.set_serial("example.org.", 7);
        m.count_transfer(TransferKey {
            zone: "example.org.".into(),
            direction: "in",
            kind: "IXFR".into(),
            outcome: "ok",
        });
        m.secondary_refreshed("example.org.", Duration::from_secs(1_209_600));
        m.count_reload("ok");
        let text = m.render();
        assert!(text.contains("fedns_zone_serial{zone=\"example.org.\"} 7"));
        assert!(text.contains("fedns_transfers_total{zone=\"example.org.\",direction=\"in\",kind=\"IXFR\",outcome=\"ok\"} 1"));
        assert!(text.contains("fedns_secondary_seconds_since_refresh{zone=\"example.org.\"} 0"));
        assert!(
            text.contains("fedns_secondary_seconds_until_expire{zone=\"example.org.\"} 120960"),
            "{text}"
        );
        assert!(text.contains("fedns_reloads_total{outcome=\"ok\"} 1"));
    }
}
