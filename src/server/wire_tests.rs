//! Protocol edges of the front end, on bytes (no sockets).

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use proptest::prelude::*;

use super::{Transport, respond};
use crate::server::ServedZones;
use crate::snapshot::ZoneSet;
use crate::testing::zones_from_toml;

const ZONE: &str = r#"
origin = "example.org."
[soa]
mname = "ns1"
rname = "hostmaster"
serial = 1
[[record]]
name = "@"
NS = ["ns1"]
[[record]]
name = "ns1"
A = ["192.0.2.53"]
[[record]]
name = "big"
TXT = [
  "big-txt-record-0-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-record-1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-record-2-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-record-3-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-record-4-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-record-5-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-record-6-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  "big-txt-record-7-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
]
[[record]]
name = "huge"
TXT = [
  "%1", "%2", "%3", "%4", "%5", "%6", "%7", "%8", "%9", "%10", "%11", "%12", "%13", "%14", "%15", "%16",
]
"#;

fn zones() -> ServedZones {
    ServedZones::new(zone_set())
}

fn zone_set() -> ZoneSet {
    // 16 TXT records of 200 bytes: about 3.4 KB, too big for any UDP response.
    let long = "y".repeat(200);
    let mut text = ZONE.to_string();
    for i in (1..=16).rev() {
        text = text.replace(&format!("\"%{i}\""), &format!("\"{i}-{long}\""));
    }
    zones_from_toml(&[&text])
}

fn query(name: &str, qtype: RecordType, edns: Option<Edns>) -> Message {
    let mut m = Message::new(0x1234, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    m.metadata.recursion_desired = true;
    if let Some(e) = edns {
        m.set_edns(e);
    }
    m
}

fn edns(payload: u16, version: u8, dnssec_ok: bool) -> Edns {
    let mut e = Edns::new();
    e.set_max_payload(payload);
    e.set_version(version);
    e.set_dnssec_ok(dnssec_ok);
    e
}

fn ask(m: &Message, transport: Transport) -> (Vec<u8>, Message) {
    let bytes = respond(&zones(), &m.to_vec().unwrap(), transport).expect("a response");
    let decoded = Message::from_vec(&bytes).expect("a well-formed response");
    (bytes, decoded)
}

#[test]
fn response_echoes_id_question_and_rd_and_sets_qr_aa() {
    let (_, r) = ask(
        &query("NS1.example.ORG.", RecordType::A, None),
        Transport::Udp,
    );
    assert_eq!(r.metadata.id, 0x1234);
    assert_eq!(r.metadata.message_type, MessageType::Response);
    assert!(
        r.metadata.authoritative && r.metadata.recursion_desired && !r.metadata.recursion_available
    );
    assert_eq!(
        r.queries[0].name().to_string(),
        "NS1.example.ORG.",
        "question echoed as sent"
    );
    assert_eq!(r.answers[0].name.to_string(), "NS1.example.ORG.");
}

#[test]
fn answer_owner_is_compressed_against_the_question() {
    let (bytes, _) = ask(
        &query("ns1.example.org.", RecordType::A, None),
        Transport::Udp,
    );
    // header 12 + question (17 + 4) = 33: the answer owner is a pointer to offset 12.
    assert_eq!(&bytes[33..35], &[0xC0, 0x0C]);
}

#[test]
fn responses_to_responses_and_runts_are_dropped() {
    let mut m = query("example.org.", RecordType::SOA, None);
    m.metadata.message_type = MessageType::Response;
    assert!(respond(&zones(), &m.to_vec().unwrap(), Transport::Udp).is_none());
    assert!(respond(&zones(), &[0u8; 11], Transport::Udp).is_none());
    assert!(respond(&zones(), &[], Transport::Tcp).is_none());
}

#[test]
fn no_question_or_two_questions_is_formerr() {
    let mut none = Message::new(7, MessageType::Query, OpCode::Query);
    none.set_edns(edns(1232, 0, false));
    let (_, r) = ask(&none, Transport::Udp);
    assert_eq!(r.metadata.response_code, ResponseCode::FormErr);
    assert!(r.edns.is_some(), "OPT in the response to a query with OPT");

    let mut two = query("example.org.", RecordType::SOA, None);
    two.add_query(Query::query(
        Name::from_ascii("example.org.").unwrap(),
        RecordType::NS,
    ));
    let (_, r) = ask(&two, Transport::Udp);
    assert_eq!(r.metadata.response_code, ResponseCode::FormErr);
}

#[test]
fn garbage_after_the_header_is_formerr_with_the_request_id() {
    let mut bytes = query("example.org.", RecordType::SOA, None)
        .to_vec()
        .unwrap();
    bytes.truncate(bytes.len() - 3);
    let r = Message::from_vec(&respond(&zones(), &bytes, Transport::Udp).unwrap()).unwrap();
    assert_eq!(r.metadata.response_code, ResponseCode::FormErr);
    assert_eq!(r.metadata.id, 0x1234);
}

#[test]
fn unknown_opcode_is_notimp() {
    let mut m = query("example.org.", RecordType::SOA, None);
    m.metadata.op_code = OpCode::Unknown(3);
    let (_, r) = ask(&m, Transport::Udp);
    assert_eq!(r.metadata.response_code, ResponseCode::NotImp);
    assert!(r.answers.is_empty());
}

#[test]
fn edns_version_above_zero_is_badvers_with_an_opt_of_version_zero() {
    let (_, r) = ask(
        &query("example.org.", RecordType::SOA, Some(edns(1232, 1, false))),
        Transport::Udp,
    );
    // 16 is both BADVERS and BADSIG (RFC 6891, 8945); hickory decodes it as BADSIG.
    assert_eq!(u16::from(r.metadata.response_code), 16);
    assert_eq!(r.edns.as_ref().map(|e| e.version()), Some(0));
    assert!(r.answers.is_empty());
}

#[test]
fn opt_is_returned_only_when_asked_and_do_is_echoed() {
    let (_, plain) = ask(
        &query("example.org.", RecordType::SOA, None),
        Transport::Udp,
    );
    assert!(plain.edns.is_none());
    let (_, with) = ask(
        &query("example.org.", RecordType::SOA, Some(edns(4096, 0, true))),
        Transport::Udp,
    );
    let e = with.edns.expect("OPT");
    assert_eq!(e.max_payload(), 1232);
    assert!(e.flags().dnssec_ok);
}

#[test]
fn big_answer_without_edns_is_truncated_cleanly() {
    let (bytes, r) = ask(
        &query("big.example.org.", RecordType::TXT, None),
        Transport::Udp,
    );
    assert!(bytes.len() <= 512);
    assert!(r.metadata.truncation);
    assert!(r.answers.is_empty(), "no partial answer section");
    assert_eq!(r.queries.len(), 1);
}

#[test]
fn big_answer_fits_with_edns_1232() {
    let (bytes, r) = ask(
        &query(
            "big.example.org.",
            RecordType::TXT,
            Some(edns(1232, 0, false)),
        ),
        Transport::Udp,
    );
    assert!(!r.metadata.truncation);
    assert_eq!(r.answers.len(), 8);
    assert!(bytes.len() <= 1232);
}

#[test]
fn udp_payload_is_capped_at_1232_whatever_the_client_says() {
    let (bytes, r) = ask(
        &query(
            "huge.example.org.",
            RecordType::TXT,
            Some(edns(65000, 0, false)),
        ),
        Transport::Udp,
    );
    assert!(r.metadata.truncation);
    assert!(bytes.len() <= 1232);
    let (_, tcp) = ask(
        &query(
            "huge.example.org.",
            RecordType::TXT,
            Some(edns(65000, 0, false)),
        ),
        Transport::Tcp,
    );
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), 16, "TCP carries the whole answer");
}

#[test]
fn zone_transfers_over_udp_are_refused() {
    for qtype in [RecordType::AXFR, RecordType::IXFR] {
        let (_, r) = ask(&query("example.org.", qtype, None), Transport::Udp);
        assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    }
}

#[test]
fn other_classes_are_refused() {
    let mut m = query("example.org.", RecordType::SOA, None);
    let mut q = m.queries[0].clone();
    q.set_query_class(hickory_proto::rr::DNSClass::CH);
    m.queries = vec![q];
    let (_, r) = ask(&m, Transport::Udp);
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
}

#[test]
fn a_compression_loop_in_the_question_is_formerr_not_a_hang() {
    // Header with QDCOUNT=1, then a name that points at itself.
    let mut bytes = vec![0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    bytes.extend_from_slice(&[0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01]);
    let r = Message::from_vec(&respond(&zones(), &bytes, Transport::Udp).unwrap()).unwrap();
    assert_eq!(r.metadata.response_code, ResponseCode::FormErr);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random bytes never panic, and whatever comes back decodes.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let zones = zones();
        for transport in [Transport::Udp, Transport::Tcp] {
            if let Some(response) = respond(&zones, &bytes, transport) {
                prop_assert!(Message::from_vec(&response).is_ok());
            }
        }
    }

    /// A valid query with bytes flipped or cut never panics.
    #[test]
    fn mutated_queries_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in any::<usize>(),
    ) {
        let mut bytes = query("big.example.org.", RecordType::TXT, Some(edns(1232, 0, true))).to_vec().unwrap();
        for (at, value) in flips {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Some(response) = respond(&zones(), &bytes, Transport::Udp) {
            prop_assert!(response.len() <= 1232);
            prop_assert!(Message::from_vec(&response).is_ok());
        }
    }
}

/// The answer cache gives byte for byte what the full path gives, for many
/// generated queries: every case pattern, type, EDNS shape and transport,
/// with the cache warmed by a differently-cased copy of each question.
#[test]
fn cached_answers_equal_the_full_path_byte_for_byte() {
    let names = [
        "example.org.",
        "ns1.example.org.",
        "big.example.org.",
        "huge.example.org.",
        "nope.example.org.",
        "a.b.nope.example.org.",
        "example.com.",
        "org.",
    ];
    let types = [
        RecordType::A,
        RecordType::AAAA,
        RecordType::TXT,
        RecordType::NS,
        RecordType::SOA,
        RecordType::ANY,
        RecordType::SRV,
        RecordType::MX,
    ];
    let edns_shapes: [Option<Edns>; 4] = [
        None,
        Some(edns(512, 0, false)),
        Some(edns(1232, 0, true)),
        Some(edns(4096, 0, false)),
    ];
    let cold_zones = zone_set();
    let warm = ServedZones::new(zone_set());
    let mut seed: u32 = 0x2545_f491;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let mut compared = 0;
    for name in names {
        for qtype in types {
            for e in &edns_shapes {
                for transport in [Transport::Udp, Transport::Tcp] {
                    let mixed: String = name
                        .chars()
                        .map(|c| {
                            if next() % 2 == 0 {
                                c.to_ascii_uppercase()
                            } else {
                                c
                            }
                        })
                        .collect();
                    let mut warmup = query(&name.to_ascii_uppercase(), qtype, e.clone());
                    warmup.metadata.id = next() as u16;
                    let _ = respond(&warm, &warmup.to_vec().unwrap(), transport);
                    let mut q = query(&mixed, qtype, e.clone());
                    q.metadata.id = next() as u16;
                    q.metadata.recursion_desired = next() % 2 == 0;
                    q.metadata.checking_disabled = next() % 2 == 0;
                    let bytes = q.to_vec().unwrap();
                    let cached = respond(&warm, &bytes, transport).unwrap();
                    let full = super::restore_question_case(
                        super::respond_uncached(
                            &cold_zones,
                            &Default::default(),
                            None,
                            &bytes,
                            transport,
                        )
                        .unwrap(),
                        &bytes,
                    );
                    assert_eq!(cached, full, "{mixed} {qtype} {e:?} {transport:?}");
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 8 * 8 * 4 * 2);
    assert!(!warm.answers.is_empty(), "the cache was used");
}

/// A signed answer that does not fit is truncated whole (RFC 4035 3.1.1):
/// never the RRset without its RRSIGs.
#[test]
fn signed_answers_that_do_not_fit_with_their_signatures_are_truncated() {
    let sig = "TXT 13 3 300 20381231000000 20260101000000 12345 example.org. ".to_string()
        + &"A".repeat(86)
        + "==";
    let text = ZONE.to_string()
        + "[[record]]\nname = \"@\"\nDNSKEY = [\"256 3 13 "
        + &"B".repeat(86)
        + "==\"]\n"
        + "[[record]]\nname = \"signed\"\nttl = 300\nTXT = [\""
        + &"s".repeat(200)
        + "\", \""
        + &"t".repeat(200)
        + "\"]\nRRSIG = [\""
        + &sig
        + "\"]\n";
    let served = ServedZones::new(zones_from_toml(&[&text]));
    let ask_signed = |payload: u16, dnssec_ok: bool| {
        let bytes = query(
            "signed.example.org.",
            RecordType::TXT,
            Some(edns(payload, 0, dnssec_ok)),
        )
        .to_vec()
        .unwrap();
        Message::from_vec(&respond(&served, &bytes, Transport::Udp).unwrap()).unwrap()
    };
    let full = ask_signed(1232, true);
    assert!(!full.metadata.truncation);
    let types: Vec<RecordType> = full.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(
        types,
        [RecordType::TXT, RecordType::TXT, RecordType::RRSIG],
        "the RRset and its signature"
    );
    let small = ask_signed(512, true);
    assert!(
        small.metadata.truncation,
        "does not fit in 512 bytes with its signature"
    );
    // Signatures follow every RRset of the section (Knot's order), so a cut
    // falls before them: the data that fits, unsigned, and TC=1, which
    // tells every client to ignore the response and ask over TCP (RFC 2181
    // 9). The DNAME differential against Knot checks the same shape.
    assert!(
        small
            .answers
            .iter()
            .all(|r| r.record_type() == RecordType::TXT),
        "{:?}",
        small.answers
    );
    let unsigned = ask_signed(512, false);
    assert!(
        !unsigned.metadata.truncation,
        "without DO the same answer fits"
    );
    assert!(
        unsigned
            .answers
            .iter()
            .all(|r| r.record_type() == RecordType::TXT)
    );
}

/// Regression (found by the packet fuzzer): a query of the fast path's shape
/// whose EDNS option the full decoder rejects (an empty client-subnet
/// option) gets FORMERR, never a panic, and nothing is cached.
#[test]
fn an_undecodable_edns_option_is_formerr_not_a_panic() {
    let mut bytes = query("ns1.example.org.", RecordType::A, None)
        .to_vec()
        .unwrap();
    bytes[11] = 1; // ARCOUNT = 1
    // OPT: root, type 41, payload 1232, TTL 0, RDLENGTH 4: option 8 (ECS), length 0.
    bytes.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0, 8, 0, 0]);
    let served = zones();
    for _ in 0..2 {
        let response = respond(&served, &bytes, Transport::Udp).expect("an answer");
        let m = Message::from_vec(&response).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
        assert_eq!(m.metadata.id, 0x1234);
    }
    assert!(
        served.answers.is_empty(),
        "error responses without a question are not cached"
    );
}
