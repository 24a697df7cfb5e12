//! SIG001-SIG002: signatures of a pre-signed zone that have run out, or that
//! will run out while a secondary still serves them.
//!
//! fedns serves signed zones as they come (it signs nothing). A secondary
//! cut off from its primary keeps answering until the SOA expire has passed
//! since its last refresh; if the signatures it holds expire before that,
//! every validating resolver sees the zone as bogus in the meantime.

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::RData;

use super::{Finding, Rule, Severity};
use crate::zone::Zone;

/// An RRSIG timestamp (32-bit, RFC 4034 3.1.5 serial arithmetic) as Unix
/// seconds: the value within 2^31 s of `now`.
fn absolute_time(stamp: u32, now: u64) -> u64 {
    let delta = stamp.wrapping_sub(now as u32) as i32;
    now.saturating_add_signed(i64::from(delta))
}

/// Days and hours, for messages.
fn span(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{} days", s / 86_400),
        s => format!("{} hours", s / 3_600),
    }
}

/// The SOA expire of `zone`, in seconds (0 without an SOA).
pub fn soa_expire(zone: &Zone) -> u64 {
    zone.soa()
        .and_then(|r| match &r.data {
            RData::SOA(soa) => Some(u64::from(soa.expire.max(0).unsigned_abs())),
            _ => None,
        })
        .unwrap_or(0)
}

/// Whether `data` is an RRSIG that SIG001 or SIG002 reports at `now` (out
/// of its validity, or expiring within the SOA expire `expire`).
pub fn is_signature_problem(data: &RData, now: u64, expire: u64) -> bool {
    let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = data else {
        return false;
    };
    let input = sig.input();
    let expiration = absolute_time(input.sig_expiration.get(), now);
    let inception = absolute_time(input.sig_inception.get(), now);
    expiration <= now || inception > now || expiration < now + expire
}

/// The signature findings of one zone at time `now` (Unix seconds): one
/// finding per rule, naming the earliest signature concerned and how many
/// others share its fate.
pub fn signature_findings(zone: &Zone, now: u64) -> Vec<Finding> {
    let expire = soa_expire(zone);
    let mut expired = Vec::new();
    let mut early = Vec::new();
    for sourced in &zone.records {
        let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &sourced.data() else {
            continue;
        };
        let input = sig.input();
        let expiration = absolute_time(input.sig_expiration.get(), now);
        let inception = absolute_time(input.sig_inception.get(), now);
        let what = (sourced, input.type_covered, expiration, inception);
        if expiration <= now || inception > now {
            expired.push(what);
        } else if expiration < now + expire {
            early.push(what);
        }
    }
    let mut findings = Vec::new();
    if let Some(&(first, covered, expiration, inception)) = expired.iter().min_by_key(|w| w.2) {
        let state = if inception > now {
            format!("is not valid before {} from now", span(inception - now))
        } else {
            format!("expired {} ago", span(now - expiration))
        };
        findings.push(
            Finding::new(
                Rule::Sig001,
                first.name().to_string(),
                format!(
                    "the RRSIG over {covered} at {} {state}{}: validating resolvers treat these answers as bogus (SERVFAIL)",
                    first.name(),
                    others(expired.len())
                ),
            )
            .at(Some(&first.place)),
        );
    }
    if let Some(&(first, covered, expiration, _)) = early.iter().min_by_key(|w| w.2) {
        findings.push(
            Finding::new(
                Rule::Sig002,
                first.name().to_string(),
                format!(
                    "the RRSIG over {covered} at {} expires in {}, before the SOA expire of {} {}: a secondary cut off from the primary would serve it expired",
                    first.name(),
                    span(expiration - now),
                    zone.origin,
                    span(expire),
                )
                + &others(early.len()),
            )
            .at(Some(&first.place))
            .severity(Severity::Warning),
        );
    }
    findings
}

fn others(count: usize) -> String {
    match count {
        0 | 1 => String::new(),
        n => format!(" (and {} more signatures)", n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::toml_zone::parse_toml_zone;
    use std::sync::Arc;

    const NOW: u64 = 1_800_000_000; // 2027-01-15

    fn zone(expiration: &str, inception: &str) -> Zone {
        let sig = format!(
            "A 13 2 300 {expiration} {inception} 12345 example.org. {}==",
            "A".repeat(86)
        );
        let text = format!(
            "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\nexpire = \"14d\"\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"192.0.2.1\"]\nRRSIG = [\"{sig}\"]\n"
        );
        parse_toml_zone(&text, &Arc::from("z.toml"), None).unwrap()
    }

    fn rules(z: &Zone) -> Vec<(Rule, Severity)> {
        signature_findings(z, NOW)
            .iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    }

    #[test]
    fn an_expired_signature_is_an_error() {
        let z = zone("20270101000000", "20261201000000");
        assert_eq!(rules(&z), [(Rule::Sig001, Severity::Error)]);
        assert!(
            signature_findings(&z, NOW)[0]
                .message
                .contains("expired 14 days ago")
        );
    }

    #[test]
    fn a_signature_not_yet_valid_is_an_error() {
        assert_eq!(
            rules(&zone("20280101000000", "20270201000000")),
            [(Rule::Sig001, Severity::Error)]
        );
    }

    #[test]
    fn a_signature_expiring_before_the_soa_expire_is_a_warning() {
        let z = zone("20270120000000", "20270101000000");
        assert_eq!(rules(&z), [(Rule::Sig002, Severity::Warning)]);
        let f = &signature_findings(&z, NOW)[0];
        assert!(
            f.message
                .contains("expires in 4 days, before the SOA expire of example.org. 14 days"),
            "{}",
            f.message
        );
        assert_eq!(f.place.as_ref().map(|p| p.line), Some(11), "the RRSIG line");
    }

    #[test]
    fn a_signature_valid_beyond_the_soa_expire_is_fine() {
        assert!(rules(&zone("20380101000000", "20270101000000")).is_empty());
    }

    #[test]
    fn timestamps_use_serial_arithmetic() {
        assert_eq!(absolute_time(NOW as u32, NOW), NOW);
        assert_eq!(absolute_time((NOW + 100) as u32, NOW), NOW + 100);
        assert_eq!(absolute_time((NOW - 100) as u32, NOW), NOW - 100);
    }
}
