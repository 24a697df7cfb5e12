//! The primary's side of transfers: who may transfer a zone, and the AXFR
//! stream (RFC 5936) in as many messages as the zone needs.
//!
//! Transfers are refused unless the zone's `allow` list (its own, or the
//! global `[transfer]` one) lets the client in, by its address range or by
//! the TSIG key it signed with. AXFR is served over TCP
//! only (RFC 5936 4.2); IXFR (RFC 1995) is answered with a single SOA when
//! the client is current and with the whole zone otherwise (RFC 1995 4
//! allows it).

use hickory_proto::op::{
    Header, HeaderCounts, Message, MessageType, Metadata, OpCode, ResponseCode,
};
use hickory_proto::rr::{Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use crate::proto::tsig::{RequestAuth, ResponseSigner};
use crate::snapshot::ZoneSnapshot;

/// Target size of one AXFR message: large enough to be efficient, small
/// enough that a TSIG and the framing always fit under 64 KiB.
pub const AXFR_MESSAGE_TARGET: usize = 16 * 1024;

/// The messages of a full-zone response (AXFR, or IXFR answered in full):
/// SOA, every other record, SOA. Each message holds whole records, echoes
/// the question (first message only) and is signed when `signer` is given.
pub fn full_zone_messages(
    zone: &ZoneSnapshot,
    request: &Message,
    signer: Option<&mut ResponseSigner>,
) -> Vec<Vec<u8>> {
    let Some(soa) = zone.soa_record() else {
        return Vec::new();
    };
    let mut nodes: Vec<(hickory_proto::rr::Name, &crate::snapshot::Node)> =
        zone.nodes().map(|n| (n.name(), n)).collect();
    nodes.sort_by(|a, b| a.0.cmp(&b.0));
    let body = nodes.into_iter().flat_map(|(name, node)| {
        let apex = name.eq_ignore_root(zone.origin());
        node.rrsets
            .iter()
            .filter(move |set| set.rtype != RecordType::SOA || !apex)
            .flat_map(move |set| set.records(&name).chain(set.rrsigs().iter().cloned()))
    });
    let apex_soa_sigs = zone.soa_rrset().map(|s| s.rrsigs()).unwrap_or_default();
    let records = std::iter::once(soa.clone())
        .chain(apex_soa_sigs.iter().cloned())
        .chain(body)
        .chain(std::iter::once(soa));
    stream_messages(records, request, signer)
}

/// The messages of an incremental response (RFC 1995 4): the new SOA, then
/// for each diff the old SOA, the removed records, the new SOA, the added
/// records, and the new SOA again.
pub fn incremental_messages(
    zone: &ZoneSnapshot,
    diffs: &[std::sync::Arc<crate::snapshot::history::Diff>],
    request: &Message,
    signer: Option<&mut ResponseSigner>,
) -> Vec<Vec<u8>> {
    let Some(soa) = zone.soa_record() else {
        return Vec::new();
    };
    let body = diffs.iter().flat_map(|d| {
        std::iter::once(&d.from_soa)
            .chain(d.removed.iter())
            .chain(std::iter::once(&d.to_soa))
            .chain(d.added.iter())
            .cloned()
    });
    let records = std::iter::once(soa.clone())
        .chain(body)
        .chain(std::iter::once(soa));
    stream_messages(records, request, signer)
}

/// Splits `records` into response messages and signs each when asked.
fn stream_messages(
    records: impl Iterator<Item = Record>,
    request: &Message,
    signer: Option<&mut ResponseSigner>,
) -> Vec<Vec<u8>> {
    let mut records = records.peekable();
    let mut messages = Vec::new();
    while records.peek().is_some() {
        let before = messages.len();
        messages.push(encode_message(
            request,
            messages.is_empty(),
            ResponseCode::NoError,
            &mut records,
        ));
        if records.peek().is_some()
            && messages.len() == before + 1
            && count_answers(&messages[before]) == 0
        {
            // A record too large for any message: skip it rather than loop.
            records.next();
        }
    }
    if let Some(signer) = signer {
        for m in &mut messages {
            signer.sign(m);
        }
    }
    messages
}

fn count_answers(message: &[u8]) -> u16 {
    u16::from_be_bytes([message[6], message[7]])
}

/// Encodes one response message: header, the question if `with_question`,
/// then records from `records` while the message stays under
/// [`AXFR_MESSAGE_TARGET`] (at least one record if it fits at all). Names are
/// compressed within the message.
fn encode_message(
    request: &Message,
    with_question: bool,
    rcode: ResponseCode,
    records: &mut std::iter::Peekable<impl Iterator<Item = Record>>,
) -> Vec<u8> {
    let mut metadata = Metadata::new(request.metadata.id, MessageType::Response, OpCode::Query);
    metadata.authoritative = rcode == ResponseCode::NoError;
    metadata.response_code = rcode;
    let mut counts = HeaderCounts {
        queries: 0,
        answers: 0,
        authorities: 0,
        additionals: 0,
    };
    let mut buffer = Vec::with_capacity(AXFR_MESSAGE_TARGET + 512);
    let mut encoder = BinEncoder::new(&mut buffer);
    let _ = Header { metadata, counts }.emit(&mut encoder);
    if with_question
        && let Some(q) = request.queries.first()
        && q.emit(&mut encoder).is_ok()
    {
        counts.queries = 1;
    }
    while let Some(record) = records.peek() {
        let mark = encoder.offset();
        let fits = record.emit(&mut encoder).is_ok()
            && (encoder.offset() <= AXFR_MESSAGE_TARGET || counts.answers == 0);
        if !fits || counts.answers == u16::MAX {
            encoder.set_offset(mark);
            encoder.trim();
            break;
        }
        counts.answers += 1;
        records.next();
    }
    let end = encoder.offset();
    encoder.set_offset(0);
    let _ = Header { metadata, counts }.emit(&mut encoder);
    encoder.set_offset(end);
    drop(encoder);
    buffer
}

/// A response carrying only the zone's SOA (IXFR when the client is current).
pub fn soa_only_message(
    zone: &ZoneSnapshot,
    request: &Message,
    signer: Option<&mut ResponseSigner>,
) -> Vec<u8> {
    let soa = zone.soa_record();
    let mut m = encode_message(
        request,
        true,
        ResponseCode::NoError,
        &mut soa.into_iter().peekable(),
    );
    if let Some(signer) = signer {
        signer.sign(&mut m);
    }
    m
}

/// An error response to a transfer request (REFUSED, NOTAUTH, FORMERR...).
pub fn error_message(request: &Message, rcode: ResponseCode) -> Vec<u8> {
    encode_message(request, true, rcode, &mut std::iter::empty().peekable())
}

/// [`error_message`] with an Extended DNS Error (RFC 8914) in an OPT
/// record, when the request had EDNS (a response may carry OPT only then).
pub fn error_message_with_ede(
    request: &Message,
    rcode: ResponseCode,
    info_code: u16,
    text: &str,
) -> Vec<u8> {
    let mut message = error_message(request, rcode);
    if request.edns.is_some() {
        crate::proto::ede::append_ede(&mut message, info_code, text);
    }
    message
}

/// Answers an AXFR or IXFR request (over TCP, TLS or QUIC: `channel`) from
/// `peer`: the messages to send, in order. The transfer is counted in the
/// metrics.
pub fn transfer_response(
    ctx: &super::XfrContext,
    zones: &crate::snapshot::ZoneSet,
    request: &[u8],
    peer: std::net::SocketAddr,
    channel: crate::proto::Channel,
) -> Vec<Vec<u8>> {
    let messages = transfer_messages(ctx, zones, request, peer, channel);
    if let Some(key) = transfer_metric(request, &messages) {
        ctx.metrics.count_transfer(key);
    }
    messages
}

fn transfer_messages(
    ctx: &super::XfrContext,
    zones: &crate::snapshot::ZoneSet,
    request: &[u8],
    peer: std::net::SocketAddr,
    channel: crate::proto::Channel,
) -> Vec<Vec<u8>> {
    use crate::proto::tsig::{unix_now, verify_request};
    use tracing::info;

    let Ok(message) = Message::from_vec(request) else {
        return Vec::new();
    };
    let Some(question) = message
        .queries
        .first()
        .filter(|_| message.queries.len() == 1)
    else {
        return vec![error_message(&message, ResponseCode::FormErr)];
    };
    let now = unix_now();
    let auth = verify_request(request, &ctx.keys, now);
    let mut signer = match &auth {
        RequestAuth::Malformed(e) => {
            ctx.refused(peer, "transfer-tsig", || {
                format!("transfer request with a malformed TSIG: {e}")
            });
            return vec![error_message(&message, ResponseCode::FormErr)];
        }
        RequestAuth::Failed {
            error, key_name, ..
        } => {
            ctx.refused(peer, "transfer-tsig", || {
                format!(
                    "transfer of {} refused: TSIG {error:?} with key {key_name}",
                    question.name()
                )
            });
            let mut response = error_message(&message, ResponseCode::NotAuth);
            auth.sign_failure(&mut response, now);
            return vec![response];
        }
        RequestAuth::Signed { key, request_mac } => Some(ResponseSigner::new(
            std::sync::Arc::clone(key),
            request_mac.clone(),
            now,
        )),
        RequestAuth::Unsigned => None,
    };
    let sign = |mut m: Vec<u8>, signer: &mut Option<ResponseSigner>| {
        if let Some(s) = signer.as_mut() {
            s.sign(&mut m);
        }
        m
    };
    let Some(zone) = zones.zone(question.name()) else {
        ctx.refused(peer, "transfer-not-ours", || {
            format!(
                "transfer of {} refused: not a zone served here",
                question.name()
            )
        });
        return vec![sign(
            error_message(&message, ResponseCode::NotAuth),
            &mut signer,
        )];
    };
    if !ctx
        .policies
        .of(zone.origin())
        .allow
        .permits(peer.ip(), &auth, channel)
    {
        ctx.refused(peer, "transfer-denied", || {
            format!("transfer of {} refused by its allow list", zone.origin())
        });
        return vec![sign(
            // RFC 8914 18: Prohibited.
            error_message_with_ede(
                &message,
                ResponseCode::Refused,
                18,
                "zone transfer not allowed for this client",
            ),
            &mut signer,
        )];
    }
    if question.query_type() == RecordType::IXFR {
        let client_serial = message.authorities.iter().find_map(|r| match &r.data {
            hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
            _ => None,
        });
        if let Some(theirs) = client_serial
            && !crate::proto::serial::is_newer(zone.serial(), theirs)
        {
            info!(%peer, "IXFR of {} serial {theirs}: client is current", zone.origin());
            return vec![soa_only_message(zone, &message, signer.as_mut())];
        }
        if let Some(theirs) = client_serial
            && let Some(diffs) = zone.history().since(theirs)
        {
            let messages = incremental_messages(zone, diffs, &message, signer.as_mut());
            info!(%peer, "IXFR of {} serial {theirs} -> {} sent: {} diff(s) in {} messages", zone.origin(), zone.serial(), diffs.len(), messages.len());
            return messages;
        }
    }
    let messages = full_zone_messages(zone, &message, signer.as_mut());
    info!(
        %peer,
        "{} of {} serial {} sent: {} records in {} messages",
        question.query_type(),
        zone.origin(),
        zone.serial(),
        zone.record_count(),
        messages.len()
    );
    messages
}

/// How a transfer out shows in the metrics: zone and kind from the
/// request, outcome from the first response message's rcode.
fn transfer_metric(request: &[u8], responses: &[Vec<u8>]) -> Option<crate::metrics::TransferKey> {
    let message = Message::from_vec(request).ok()?;
    let question = message.queries.first()?;
    let ok = responses
        .first()
        .and_then(|r| r.get(3))
        .is_some_and(|b| b & 0x0f == 0);
    Some(crate::metrics::TransferKey {
        zone: question.name().to_lowercase().to_ascii(),
        direction: "out",
        kind: question.query_type().to_string(),
        outcome: if ok { "ok" } else { "refused" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Channel;
    use crate::testing::zones_from_toml;
    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;

    fn zone_with_hosts(n: usize) -> crate::snapshot::ZoneSet {
        let mut text = String::from(
            "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 9\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\n",
        );
        for i in 0..n {
            text.push_str(&format!("[[record]]\nname = \"host{i}\"\nA = [\"192.0.2.{}\"]\nAAAA = [\"2001:db8::{:x}\"]\n", i % 250, i + 1));
        }
        zones_from_toml(&[&text])
    }

    fn axfr_request() -> Message {
        let mut m = Message::new(77, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(
            Name::from_ascii("example.org.").unwrap(),
            RecordType::AXFR,
        ));
        m
    }

    #[test]
    fn a_large_zone_is_split_into_messages_with_soa_first_and_last() {
        let zones = zone_with_hosts(3000);
        let zone = zones
            .zone(&Name::from_ascii("example.org.").unwrap())
            .unwrap();
        let messages = full_zone_messages(zone, &axfr_request(), None);
        assert!(messages.len() > 5, "{} messages", messages.len());
        let mut records = Vec::new();
        for (i, bytes) in messages.iter().enumerate() {
            assert!(bytes.len() <= AXFR_MESSAGE_TARGET + 512);
            let m = Message::from_vec(bytes).unwrap();
            assert_eq!(m.metadata.id, 77);
            assert_eq!(
                m.queries.len(),
                usize::from(i == 0),
                "question in the first message only"
            );
            records.extend(m.answers);
        }
        assert_eq!(records.first().unwrap().record_type(), RecordType::SOA);
        assert_eq!(records.last().unwrap().record_type(), RecordType::SOA);
        assert_eq!(
            records.len(),
            zone.record_count() + 1,
            "every record once, the SOA twice"
        );
    }

    #[test]
    fn transfers_are_refused_by_default_and_allowed_by_address_or_key() {
        use crate::proto::tsig::{KeyRing, TsigKey, sign_request, unix_now};
        use crate::xfr::XfrContext;
        use crate::xfr::policy::{TransferPolicy, TransferRule, ZonePolicies, ZonePolicy};
        let zones = zone_with_hosts(3);
        let peer: std::net::SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let request = axfr_request().to_vec().unwrap();
        let rcode = |messages: &[Vec<u8>]| {
            Message::from_vec(&messages[0])
                .unwrap()
                .metadata
                .response_code
        };

        let default = XfrContext::default();
        assert_eq!(
            rcode(&transfer_response(
                &default,
                &zones,
                &request,
                peer,
                Channel::Plain
            )),
            ResponseCode::Refused
        );
        // With EDNS the refusal says why (RFC 8914 18, Prohibited).
        let mut with_edns = axfr_request();
        with_edns.set_edns(hickory_proto::op::Edns::new());
        let refused = Message::from_vec(
            &transfer_response(
                &default,
                &zones,
                &with_edns.to_vec().unwrap(),
                peer,
                Channel::Plain,
            )[0],
        )
        .unwrap();
        let ede = refused
            .edns
            .as_ref()
            .and_then(|e| e.option(hickory_proto::rr::rdata::opt::EdnsCode::from(15)))
            .cloned();
        assert!(
            matches!(&ede, Some(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(15, data)) if data[..2] == [0, 18]),
            "{ede:?}"
        );

        let by_address = XfrContext {
            policies: ZonePolicies::new(ZonePolicy {
                allow: TransferPolicy::new(vec![TransferRule::Network(
                    "127.0.0.0/8".parse().unwrap(),
                )]),
                ..ZonePolicy::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            rcode(&transfer_response(
                &by_address,
                &zones,
                &request,
                peer,
                Channel::Plain
            )),
            ResponseCode::NoError
        );

        // XoT only (RFC 9103): the same range, over TLS and not otherwise.
        let over_tls_only = XfrContext {
            policies: ZonePolicies::new(ZonePolicy {
                allow: TransferPolicy::new(vec![TransferRule::TlsNetwork(
                    "127.0.0.0/8".parse().unwrap(),
                )]),
                ..ZonePolicy::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            rcode(&transfer_response(
                &over_tls_only,
                &zones,
                &request,
                peer,
                Channel::Plain
            )),
            ResponseCode::Refused
        );
        assert_eq!(
            rcode(&transfer_response(
                &over_tls_only,
                &zones,
                &request,
                peer,
                Channel::Encrypted
            )),
            ResponseCode::NoError
        );

        let key = TsigKey::new("xfr-key", "hmac-sha256", "c2VjcmV0LWtleQ==").unwrap();
        let by_key = XfrContext {
            policies: ZonePolicies::new(ZonePolicy {
                allow: TransferPolicy::new(vec![TransferRule::Key("xfr-key".into())]),
                ..ZonePolicy::default()
            }),
            keys: std::sync::Arc::new(KeyRing::new(vec![key.clone()])),
            ..Default::default()
        };
        assert_eq!(
            rcode(&transfer_response(
                &by_key,
                &zones,
                &request,
                peer,
                Channel::Plain
            )),
            ResponseCode::Refused,
            "unsigned"
        );
        let mut signed = request.clone();
        sign_request(&mut signed, &key, unix_now());
        assert_eq!(
            rcode(&transfer_response(
                &by_key,
                &zones,
                &signed,
                peer,
                Channel::Plain
            )),
            ResponseCode::NoError
        );
        let wrong = TsigKey::new("xfr-key", "hmac-sha256", "d3Jvbmc=").unwrap();
        let mut badly_signed = request.clone();
        sign_request(&mut badly_signed, &wrong, unix_now());
        assert_eq!(
            rcode(&transfer_response(
                &by_key,
                &zones,
                &badly_signed,
                peer,
                Channel::Plain
            )),
            ResponseCode::NotAuth
        );
    }
}
