//! What the fuzz targets check, one function per target: each takes the
//! fuzzer's bytes and panics when fedns breaks a promise on them.
//!
//! - [`packet`]: the packet path as the UDP and TCP loops drive it (query,
//!   NOTIFY and AXFR/IXFR dispatch, TSIG, the answer cache): never a panic,
//!   and every response decodes, is a response, echoes the ID and fits the
//!   transport (1232 bytes over UDP, 65535 over TCP).
//! - [`toml_zone`]: the TOML zone loader; a zone it accepts round-trips
//!   through `write_toml_zone` and `write_master` to the same records.
//! - [`master_file`]: the RFC 1035 parser, with the same round trips.
//! - [`transfer`]: the AXFR and IXFR readers of the secondary, fed a stream
//!   of length-prefixed messages; a transfer they accept is well-formed.
//!
//! The same file is compiled into the repository's `cargo test`
//! (`tests/fuzz_properties.rs`), which replays `fuzz/corpus/` through these
//! functions and feeds them property-test inputs, so the checks run on
//! stable Rust without libFuzzer.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use fedns::config::Config;
use fedns::engine::Transport;
use fedns::proto::tsig::{KeyRing, TsigKey};
use fedns::server::ServedZones;
use fedns::server::wire::{
    MAX_TCP_MESSAGE, MAX_UDP_PAYLOAD, RequestKind, request_kind, respond_with_keys,
};
use fedns::snapshot::{ZoneSet, ZoneSnapshot};
use fedns::xfr::XfrContext;
use fedns::xfr::client::{IxfrOutcome, read_transfer_messages};
use fedns::xfr::policy::{TransferPolicy, ZonePolicies, ZonePolicy};
use fedns::xfr::primary::transfer_response;
use fedns::zone::Zone;
use fedns::zone::master::{parse_master, write_master};
use fedns::zone::toml_write::{
    canonical_order, record_lines, toml_problems, write_toml_zone_with_comments,
};
use fedns::zone::toml_zone::parse_toml_zone;
use fedns::zone::validate::validate_zone;
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::{Name, RData, RecordType};

/// The zone the packet target answers from: every kind of answer the engine
/// gives (referral, wildcard, CNAME chain, truncation, Matrix SRV).
pub const PACKET_ZONE: &str = r#"
origin = "example.org."
ttl = "1h"
[soa]
mname = "ns1"
rname = "hostmaster"
serial = 2026010101
[[record]]
name = "@"
NS = ["ns1", "ns2.example.net."]
A = ["192.0.2.1"]
MX = ["10 mail"]
TXT = ["v=spf1 mx -all"]
[[record]]
name = "ns1"
A = ["192.0.2.53"]
AAAA = ["2001:db8::53"]
[[record]]
name = "mail"
A = ["192.0.2.25"]
[[record]]
name = "*.wild"
A = ["192.0.2.99"]
[[record]]
name = "www"
CNAME = "alias"
[[record]]
name = "alias"
CNAME = "@"
[[record]]
name = "sub"
NS = ["ns.sub"]
[[record]]
name = "ns.sub"
A = ["192.0.2.77"]
[[record]]
name = "big"
TXT = [
  "0-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "2-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "3-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "4-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "5-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "6-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
]
[[record]]
name = "synapse"
A = ["192.0.2.20"]
AAAA = ["2001:db8::20"]
[[matrix]]
server_name = "@"
target = "synapse"
port = 443
"#;

/// The TSIG key the packet target knows (so signed requests are verified).
pub const PACKET_KEY: (&str, &str, &str) = (
    "fuzz-key",
    "hmac-sha256",
    "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ==",
);

/// The zone the transfer target reads transfers of.
pub const TRANSFER_ZONE: &str = "example.org.";

struct Fixture {
    served: ServedZones,
    xfr: XfrContext,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let file: Arc<str> = Arc::from("packet-zone.toml");
        let zone = parse_toml_zone(PACKET_ZONE, &file, None).unwrap_or_else(|e| panic!("{e}"));
        validate_zone(&zone).unwrap_or_else(|e| panic!("{e}"));
        let snapshot = ZoneSnapshot::build(zone).unwrap_or_else(|e| panic!("{e}"));
        let served = ServedZones::new(ZoneSet::new([Arc::new(snapshot)]));
        let (name, algorithm, secret) = PACKET_KEY;
        let key = TsigKey::new(name, algorithm, secret).unwrap_or_else(|e| panic!("{e}"));
        let config = Config::parse(
            &format!("[[tsig_key]]\nname = \"{name}\"\nsecret = \"{secret}\"\n[transfer]\nallow = [\"127.0.0.0/8\", \"key:{name}\"]\n"),
            std::path::Path::new("fuzz.toml"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let xfr = XfrContext {
            policies: ZonePolicies::new(ZonePolicy {
                allow: TransferPolicy::new(config.transfer_allow),
                ..ZonePolicy::default()
            }),
            keys: Arc::new(KeyRing::new(vec![key])),
            ..XfrContext::default()
        };
        Fixture { served, xfr }
    })
}

/// An identity with every option on, so the fuzzer reaches NSID, the CHAOS
/// names and ZONEVERSION.
fn identity() -> fedns::server::wire::Identity {
    fedns::server::wire::Identity {
        nsid: Some(b"fuzz-nsid".to_vec()),
        id: Some("fuzz".into()),
        version: Some("fedns fuzz".into()),
        cookies: Some(fedns::server::cookies::CookieSecrets {
            current: *b"fuzz-cookie-key!",
            previous: None,
        }),
    }
}

/// The packet path: `data` as a UDP datagram and as a TCP message.
pub fn packet(data: &[u8]) {
    let f = fixture();
    let peer = SocketAddr::from(([127, 0, 0, 1], 40_000));
    for transport in [Transport::Udp, Transport::Tcp] {
        let responses: Vec<Vec<u8>> = match (request_kind(data), transport) {
            (RequestKind::Transfer, Transport::Tcp) => transfer_response(
                &f.xfr,
                &f.served.zones,
                data,
                peer,
                fedns::proto::Channel::Plain,
            ),
            (RequestKind::Notify, _) => fedns::xfr::notify::handle_notify(&f.xfr, data, peer)
                .into_iter()
                .collect(),
            _ => respond_with_keys(
                &f.served,
                &f.xfr.keys,
                &identity(),
                Some(peer.ip()),
                data,
                transport,
            )
            .into_iter()
            .collect(),
        };
        for response in &responses {
            check_response(data, response, transport);
        }
    }
}

/// A response decodes, is a response, echoes the request ID and fits.
fn check_response(request: &[u8], response: &[u8], transport: Transport) {
    let limit = match transport {
        Transport::Udp => usize::from(MAX_UDP_PAYLOAD),
        Transport::Tcp => MAX_TCP_MESSAGE,
    };
    assert!(
        response.len() <= limit,
        "{transport:?} response of {} bytes",
        response.len()
    );
    let message = Message::from_vec(response)
        .unwrap_or_else(|e| panic!("undecodable response {response:02x?}: {e}"));
    assert_eq!(message.metadata.message_type, MessageType::Response);
    if let [a, b, ..] = request {
        assert_eq!(
            message.metadata.id,
            u16::from_be_bytes([*a, *b]),
            "the ID is echoed"
        );
    }
}

/// The TOML zone loader, and the writers' round trips on what it accepts.
pub fn toml_zone(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file: Arc<str> = Arc::from("fuzz.toml");
    let origin = Name::from_ascii("fuzz.test.").unwrap_or_else(|e| panic!("{e}"));
    let Ok(zone) = parse_toml_zone(text, &file, Some(&origin)) else {
        return;
    };
    let _ = validate_zone(&zone);
    check_round_trips(&zone, text);
}

/// The master-file parser, and the writers' round trips on what it accepts.
/// Inputs with `$INCLUDE` are skipped: the parser would read files from disk.
pub fn master_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if text.to_ascii_lowercase().contains("$include") {
        return;
    }
    let file: Arc<str> = Arc::from("/nonexistent/fuzz.test.zone");
    let origin = Name::from_ascii("fuzz.test.").unwrap_or_else(|e| panic!("{e}"));
    let Ok(records) = parse_master(&text, &file, &origin) else {
        return;
    };
    let zone = Zone {
        origin,
        records,
        matrix: Vec::new(),
        source: None,
    };
    let _ = validate_zone(&zone);
    check_round_trips(&zone, "");
}

/// `zone` written as a master file and (when the format can hold it) as
/// TOML reads back to the same records; formatting the TOML is idempotent.
fn check_round_trips(zone: &Zone, toml_source: &str) {
    let expected = record_lines(&zone.origin, &zone.records);
    let master = write_master(&zone.origin, &canonical_order(zone));
    let file: Arc<str> = Arc::from("<written master file>");
    let again = parse_master(&master, &file, &zone.origin)
        .unwrap_or_else(|e| panic!("written master file does not read back: {e}\n{master}"));
    assert_eq!(
        expected,
        record_lines(&zone.origin, &again),
        "master round trip\n{master}"
    );
    if !toml_problems(zone).is_empty() {
        return;
    }
    let toml = write_toml_zone_with_comments(zone, toml_source);
    let file: Arc<str> = Arc::from("<written TOML>");
    let back: Zone = parse_toml_zone(&toml, &file, None)
        .unwrap_or_else(|e| panic!("written TOML does not read back: {e}\n{toml}"));
    assert_eq!(
        expected,
        record_lines(&back.origin, &back.records),
        "TOML round trip\n{toml}"
    );
    assert_eq!(
        zone.matrix.len(),
        back.matrix.len(),
        "[[matrix]] sections\n{toml}"
    );
    assert_eq!(
        write_toml_zone_with_comments(&back, &toml),
        toml,
        "fmt is idempotent"
    );
}

/// Splits `data` into transfer messages: 4 bytes of the secondary's serial,
/// then messages each preceded by a 16-bit length (the last may be short).
pub fn split_transfer_input(data: &[u8]) -> (u32, Vec<&[u8]>) {
    let (serial, mut rest) = match data {
        [a, b, c, d, rest @ ..] => (u32::from_be_bytes([*a, *b, *c, *d]), rest),
        _ => (0, &[][..]),
    };
    let mut messages = Vec::new();
    while let [hi, lo, body @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(body.len());
        let (message, tail) = body.split_at(len);
        messages.push(message);
        rest = tail;
    }
    (serial, messages)
}

/// The transfer readers on a stream of messages (see [`split_transfer_input`];
/// the query ID is taken from the first message, so the ID check passes).
pub fn transfer(data: &[u8]) {
    let (ours, messages) = split_transfer_input(data);
    let id = match messages.first() {
        Some([a, b, ..]) => u16::from_be_bytes([*a, *b]),
        _ => 0,
    };
    let zone = Name::from_ascii(TRANSFER_ZONE).unwrap_or_else(|e| panic!("{e}"));
    let (axfr, ixfr) = read_transfer_messages(&zone, id, ours, &messages);
    if let Ok(Some(records)) = axfr {
        check_full_transfer(&zone, &records);
    }
    match ixfr {
        Ok(Some(IxfrOutcome::Full(records))) => check_full_transfer(&zone, &records),
        Ok(Some(IxfrOutcome::Incremental { diffs, soa })) => {
            let new_serial =
                serial_of(&soa).unwrap_or_else(|| panic!("IXFR ends without a SOA: {soa:?}"));
            assert_eq!(
                diffs.first().map(|d| d.from_serial),
                Some(ours),
                "IXFR starts at our serial"
            );
            for pair in diffs.windows(2) {
                assert_eq!(
                    pair[0].to_serial, pair[1].from_serial,
                    "IXFR sequences chain"
                );
            }
            assert_eq!(
                diffs.last().map(|d| d.to_serial),
                Some(new_serial),
                "IXFR ends at the new serial"
            );
            for record in diffs.iter().flat_map(|d| d.removed.iter().chain(&d.added)) {
                assert!(zone.zone_of(&record.name), "{} outside {zone}", record.name);
            }
        }
        _ => {}
    }
}

/// A complete AXFR: the zone's SOA first, every record inside the zone.
fn check_full_transfer(zone: &Name, records: &[hickory_proto::rr::Record]) {
    let first = records
        .first()
        .unwrap_or_else(|| panic!("an empty transfer was accepted"));
    assert_eq!(first.record_type(), RecordType::SOA, "the SOA comes first");
    assert!(first.name.eq_ignore_root(zone));
    for record in records {
        assert!(zone.zone_of(&record.name), "{} outside {zone}", record.name);
    }
}

fn serial_of(record: &hickory_proto::rr::Record) -> Option<u32> {
    match &record.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    }
}
