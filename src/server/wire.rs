//! From request bytes to response bytes: decoding, the protocol checks of
//! RFC 1035, 6891 (EDNS) and 8482, the engine, and encoding within the size
//! the transport allows.
//!
//! Pure like the engine (no sockets), so every protocol edge is unit-tested
//! here; the UDP and TCP loops only move bytes.

use hickory_proto::op::{
    Header, HeaderCounts, Message, MessageType, Metadata, OpCode, Query, ResponseCode,
};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{DNSClass, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder};

use super::answer_cache::ServedZones;
use super::fast_path::{SimpleQuery, personalise};
use crate::engine::{self, Answer, Transport};
use crate::proto::tsig::{KeyRing, RequestAuth, ResponseSigner, unix_now, verify_request};
use crate::snapshot::ZoneSet;

/// The largest UDP payload fedns sends or advertises (the DNS Flag Day 2020
/// value: fits the IPv6 minimum MTU without fragmentation).
pub const MAX_UDP_PAYLOAD: u16 = 1232;
/// The UDP payload size without EDNS (RFC 1035 4.2.1).
pub const CLASSIC_UDP_PAYLOAD: u16 = 512;
/// The largest message over TCP (the 16-bit length prefix, RFC 1035 4.2.2).
pub const MAX_TCP_MESSAGE: usize = 65_535;
/// The EDNS version fedns speaks (RFC 6891 6.1.3).
pub const EDNS_VERSION: u8 = 0;

/// Size of an OPT record without options: root name, type, class, TTL, RDLENGTH.
const OPT_RECORD_LEN: usize = 11;

/// The EDNS facts of a request that shape the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestEdns {
    /// The client's advertised UDP payload size (values under 512 count as 512).
    pub udp_payload: u16,
    /// The DO bit (RFC 3225): the client wants DNSSEC records.
    pub dnssec_ok: bool,
}

/// Who this server says it is: the NSID option (RFC 5001) and the CHAOS
/// class TXT names operators ask (`id.server`, `hostname.bind`,
/// `version.server`, `version.bind`). Each is off when `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// NSID payload, sent only when a query asks for it.
    pub nsid: Option<Vec<u8>>,
    /// The answer to `id.server` and `hostname.bind` (CH TXT).
    pub id: Option<String>,
    /// The answer to `version.server` and `version.bind` (off by default,
    /// like NSD's `hide-version`).
    pub version: Option<String>,
    /// The secrets of DNS cookies (RFC 7873, RFC 9018); cookies are
    /// ignored when `None`.
    pub cookies: Option<super::cookies::CookieSecrets>,
}

/// EDNS option codes fedns reads or writes.
mod option_code {
    /// RFC 5001.
    pub const NSID: u16 = 3;
    /// RFC 8914.
    pub const EDE: u16 = 15;
    /// RFC 9660.
    pub const ZONEVERSION: u16 = 19;
}

/// Extended DNS Error info codes (RFC 8914 4) fedns sends.
pub mod ede {
    /// 14: the zone is configured but has no data yet (or any more).
    pub const NOT_READY: u16 = 14;
    /// 18: refused by policy (an ACL).
    pub const PROHIBITED: u16 = 18;
    /// 20: not a zone served here.
    pub const NOT_AUTHORITATIVE: u16 = 20;
    /// 21: the operation is not supported (AXFR over UDP, another class).
    pub const NOT_SUPPORTED: u16 = 21;
}

/// Answers one DNS message. `None` means "send nothing": the bytes are not a
/// query we should answer (shorter than a header, or a response: answering
/// those would make us a reflector).
///
/// A query of the common shape is answered from the answer cache when it
/// can be, else by the full path, whose bytes are then cached.
pub fn respond(served: &ServedZones, request: &[u8], transport: Transport) -> Option<Vec<u8>> {
    respond_with_keys(
        served,
        &KeyRing::default(),
        &Identity::default(),
        None,
        request,
        transport,
    )
}

/// [`respond`], with TSIG (RFC 8945) for signed queries: a valid signature
/// gets a signed answer; a bad one gets NOTAUTH with the TSIG error.
pub fn respond_with_keys(
    served: &ServedZones,
    keys: &KeyRing,
    identity: &Identity,
    client: Option<std::net::IpAddr>,
    request: &[u8],
    transport: Transport,
) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    respond_with_keys_into(served, keys, identity, client, request, transport, &mut out)
        .then_some(out)
}

/// [`respond_with_keys`] into `out` (whatever it held is replaced): false
/// when nothing is to be sent. A cached answer is copied into `out` with no
/// allocation once `out` has grown, so a front end that keeps its buffers
/// answers repeated questions without touching the allocator.
pub fn respond_with_keys_into(
    served: &ServedZones,
    keys: &KeyRing,
    identity: &Identity,
    client: Option<std::net::IpAddr>,
    request: &[u8],
    transport: Transport,
    out: &mut Vec<u8>,
) -> bool {
    // The fast-path shape has at most an OPT record: it cannot carry a TSIG.
    let made = match SimpleQuery::parse(request, transport) {
        Some(query) => {
            let cached = served.answers.get_with(&query.key, |cached| {
                personalise(cached, &query, request, out)
            });
            if cached == Some(true) {
                return true;
            }
            let Some(normalised) =
                respond_uncached(&served.zones, identity, None, request, transport)
            else {
                return false;
            };
            if personalise(&normalised, &query, request, out) {
                served.answers.insert(query.key, &normalised);
                return true;
            }
            // The full decoder rejected what the fast parser accepted (an
            // EDNS option hickory cannot decode, say): its error response
            // has no question to personalise, and is not cached.
            Some(normalised)
        }
        // Not a simple query (TSIG, several questions, a response, which
        // is never answered): decoded and answered in full, and signed
        // when the query was.
        None => 'long: {
            if request.get(2).is_some_and(|flags| flags & 0x80 != 0) {
                break 'long None; // a response: never answered, signed or not
            }
            let now = unix_now();
            let auth = verify_request(request, keys, now);
            if let RequestAuth::Failed { .. } = &auth {
                break 'long tsig_error_response(request, &auth, now, transport);
            }
            let Some(answer) =
                respond_uncached(&served.zones, identity, client, request, transport)
            else {
                break 'long None;
            };
            let mut response = restore_question_case(answer, request);
            if let RequestAuth::Signed { key, request_mac } = auth {
                ResponseSigner::new(key, request_mac, now).sign(&mut response);
            }
            Some(response)
        }
    };
    match made {
        Some(response) => {
            *out = response;
            true
        }
        None => false,
    }
}

/// NOTAUTH for a query whose TSIG failed: BADKEY and BADSIG unsigned,
/// BADTIME signed (RFC 8945 5.2).
fn tsig_error_response(
    request: &[u8],
    auth: &RequestAuth,
    now: u64,
    transport: Transport,
) -> Option<Vec<u8>> {
    let message = Message::from_vec(request).ok()?;
    let question = message.queries.first().map(lowercase_question);
    let mut response = restore_question_case(
        encode_response(
            &message.metadata,
            question.as_ref(),
            &Answer::empty(ResponseCode::NotAuth),
            None,
            transport,
        ),
        request,
    );
    auth.sign_failure(&mut response, now);
    Some(response)
}

/// The full path: decode, check, answer, encode. The question is answered
/// and written lower-cased (so answer owners compress against it, whatever
/// case the client used); callers put the client's question back.
pub fn respond_uncached(
    zones: &ZoneSet,
    identity: &Identity,
    client: Option<std::net::IpAddr>,
    request: &[u8],
    transport: Transport,
) -> Option<Vec<u8>> {
    let header = Header::read(&mut BinDecoder::new(request)).ok()?;
    if header.metadata.message_type == MessageType::Response {
        return None;
    }
    let message = match Message::from_vec(request) {
        Ok(message) => message,
        Err(_) => {
            return Some(error_response(
                &header.metadata,
                None,
                None,
                ResponseCode::FormErr,
                transport,
            ));
        }
    };
    let edns = message.edns.as_ref().map(|e| RequestEdns {
        udp_payload: e.max_payload().max(CLASSIC_UDP_PAYLOAD),
        dnssec_ok: e.flags().dnssec_ok,
    });
    let question = (message.queries.len() == 1).then(|| lowercase_question(&message.queries[0]));
    if message.metadata.op_code != OpCode::Query {
        return Some(error_response(
            &message.metadata,
            question.as_ref(),
            edns,
            ResponseCode::NotImp,
            transport,
        ));
    }
    let Some(question) = question else {
        // RFC 1035 4.1.2 allows several questions in theory; no server answers them.
        return Some(error_response(
            &message.metadata,
            None,
            edns,
            ResponseCode::FormErr,
            transport,
        ));
    };
    if message
        .edns
        .as_ref()
        .is_some_and(|e| e.version() > EDNS_VERSION)
    {
        return Some(error_response(
            &message.metadata,
            Some(&question),
            edns,
            ResponseCode::BADVERS,
            transport,
        ));
    }
    let mut options = Vec::new();
    if let (Some(secrets), Some(ip), Some(EdnsOption::Unknown(_, data))) = (
        &identity.cookies,
        client,
        message
            .edns
            .as_ref()
            .and_then(|e| e.option(EdnsCode::Cookie)),
    ) {
        use super::cookies::{Cookie, check, response_cookie};
        let now = unix_now() as u32; // RFC 9018 timestamps wrap like serials
        match check(data, ip, secrets, now) {
            Cookie::Malformed => {
                return Some(error_response(
                    &message.metadata,
                    Some(&question),
                    edns,
                    ResponseCode::FormErr,
                    transport,
                ));
            }
            Cookie::Bad { client } if transport == Transport::Udp => {
                let fresh = response_cookie(&client, ip, secrets, now);
                return Some(encode_response_with_options(
                    &message.metadata,
                    Some(&question),
                    &Answer::empty(ResponseCode::BADCOOKIE),
                    edns,
                    &[(super::cookies::COOKIE_OPTION, fresh)],
                    transport,
                ));
            }
            Cookie::Bad { client } | Cookie::Good { client, .. } => {
                options.push((
                    super::cookies::COOKIE_OPTION,
                    response_cookie(&client, ip, secrets, now),
                ));
            }
        }
    }
    let answer = match (question.query_class(), question.query_type()) {
        (DNSClass::IN, RecordType::AXFR | RecordType::IXFR) => Answer::error(
            ResponseCode::Refused,
            ede::NOT_SUPPORTED,
            "zone transfers are served over TCP only",
        ),
        (DNSClass::IN, qtype) => engine::answer_with_dnssec(
            zones,
            question.name(),
            qtype,
            transport,
            edns.is_some_and(|e| e.dnssec_ok),
        ),
        (DNSClass::CH, qtype) => chaos_answer(identity, &question, qtype),
        _ => Answer::error(
            ResponseCode::Refused,
            ede::NOT_SUPPORTED,
            "only classes IN and CH are served",
        ),
    };
    if let Some(e) = &message.edns {
        if e.option(EdnsCode::NSID).is_some()
            && let Some(nsid) = &identity.nsid
        {
            options.push((option_code::NSID, nsid.clone()));
        }
        // RFC 9660 2.2: a query's ZONEVERSION is empty; a non-empty one is ignored.
        let zone_version_asked = matches!(
            e.option(EdnsCode::from(option_code::ZONEVERSION)),
            Some(EdnsOption::Unknown(_, data)) if data.is_empty()
        );
        if zone_version_asked && let Some(version) = zone_version(zones, &question, &answer) {
            options.push((option_code::ZONEVERSION, version));
        }
    }
    Some(encode_response_with_options(
        &message.metadata,
        Some(&question),
        &answer,
        edns,
        &options,
        transport,
    ))
}

/// The CHAOS-class names operators ask a server about itself (BIND's and
/// NSD's conventions): `id.server` and `hostname.bind` (the identity),
/// `version.server` and `version.bind` (when the version is shown). TXT
/// only; everything else in CHAOS is REFUSED.
fn chaos_answer(identity: &Identity, question: &Query, qtype: RecordType) -> Answer {
    let name = question.name().to_ascii().to_ascii_lowercase();
    let text = match name.as_str() {
        "id.server." | "hostname.bind." => identity.id.as_deref(),
        "version.server." | "version.bind." => identity.version.as_deref(),
        _ => None,
    };
    match (qtype, text) {
        (RecordType::TXT | RecordType::ANY, Some(text)) => {
            let mut record = Record::from_rdata(
                question.name().clone(),
                0,
                hickory_proto::rr::RData::TXT(hickory_proto::rr::rdata::TXT::new(vec![
                    text.to_string(),
                ])),
            );
            record.dns_class = DNSClass::CH;
            Answer {
                authoritative: true,
                answers: vec![record],
                ..Answer::empty(ResponseCode::NoError)
            }
        }
        _ => Answer::error(
            ResponseCode::Refused,
            ede::NOT_SUPPORTED,
            "CHAOS: only TXT for id.server, hostname.bind and, when shown, version.server, version.bind",
        ),
    }
}

/// The ZONEVERSION option data (RFC 9660 2.2) for an answer from a zone:
/// the apex's label count, type 0 (SOA serial), the serial.
fn zone_version(zones: &ZoneSet, question: &Query, answer: &Answer) -> Option<Vec<u8>> {
    if !matches!(answer.rcode, ResponseCode::NoError | ResponseCode::NXDomain) {
        return None;
    }
    let mut key = Vec::new();
    crate::proto::name::write_name_key(question.name(), &mut key);
    let crate::snapshot::ZoneMatch::Serving(zone) = zones.find_zone(&key)? else {
        return None;
    };
    let mut data = vec![zone.origin().num_labels(), 0];
    data.extend_from_slice(&zone.serial().to_be_bytes());
    Some(data)
}

fn lowercase_question(q: &Query) -> Query {
    let mut lower = q.clone();
    lower.set_name(q.name().to_lowercase());
    lower
}

/// Puts the client's QNAME (same bytes but for case) back into a response
/// whose question was written lower-cased.
fn restore_question_case(mut response: Vec<u8>, request: &[u8]) -> Vec<u8> {
    if response.get(4..6) != Some(&[0, 1]) || request.get(4..6) != Some(&[0, 1]) {
        return response;
    }
    let mut at = 12;
    while let Some(&len) = response.get(at) {
        if len == 0 || len > 63 {
            break;
        }
        at += 1 + usize::from(len);
    }
    if let (Some(ours), Some(theirs)) = (response.get(12..at), request.get(12..at))
        && ours.eq_ignore_ascii_case(theirs)
    {
        let theirs = theirs.to_vec();
        response[12..at].copy_from_slice(&theirs);
    }
    response
}

/// What a request asks for, read from its header and question without a
/// full decode: the front end routes transfers and NOTIFY away from the
/// query path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// A query (or anything else `respond` deals with).
    Query,
    /// AXFR or IXFR (TCP only: over UDP they are answered by `respond`).
    Transfer,
    /// NOTIFY (RFC 1996).
    Notify,
    /// UPDATE (RFC 2136).
    Update,
}

/// Classifies a request (see [`RequestKind`]).
pub fn request_kind(bytes: &[u8]) -> RequestKind {
    let Some(&flags) = bytes.get(2) else {
        return RequestKind::Query;
    };
    if flags & 0x80 != 0 {
        return RequestKind::Query; // a response: respond() drops it
    }
    match (flags >> 3) & 0x0f {
        4 => return RequestKind::Notify,
        5 => return RequestKind::Update,
        0 => {}
        _ => return RequestKind::Query,
    }
    let mut at = 12;
    while let Some(&len) = bytes.get(at) {
        if len == 0 || len > 63 {
            break;
        }
        at += 1 + usize::from(len);
    }
    match bytes.get(at + 1..at + 3) {
        Some([0, 252]) | Some([0, 251]) => RequestKind::Transfer,
        _ => RequestKind::Query,
    }
}

/// The size limit for a response to a request with `edns` over `transport`.
pub fn response_limit(edns: Option<RequestEdns>, transport: Transport) -> usize {
    match (transport, edns) {
        (Transport::Tcp, _) => MAX_TCP_MESSAGE,
        (Transport::Udp, None) => usize::from(CLASSIC_UDP_PAYLOAD),
        (Transport::Udp, Some(e)) => {
            usize::from(e.udp_payload.clamp(CLASSIC_UDP_PAYLOAD, MAX_UDP_PAYLOAD))
        }
    }
}

fn error_response(
    request: &Metadata,
    question: Option<&Query>,
    edns: Option<RequestEdns>,
    rcode: ResponseCode,
    transport: Transport,
) -> Vec<u8> {
    encode_response(request, question, &Answer::empty(rcode), edns, transport)
}

/// Encodes a response. Whole RRsets only (RFC 2181 9): if an RRset of the
/// answer section does not fit, the response carries the answer RRsets
/// before it (a DNAME and its CNAME, say, as Knot sends them), no
/// authority, and TC=1, so the client retries over TCP; likewise if the
/// authority section does not fit. Additional RRsets that do not fit are
/// left out (TC=1 only when referral glue had to go, RFC 9471).
pub fn encode_response(
    request: &Metadata,
    question: Option<&Query>,
    answer: &Answer,
    edns: Option<RequestEdns>,
    transport: Transport,
) -> Vec<u8> {
    encode_response_with_options(request, question, answer, edns, &[], transport)
}

/// [`encode_response`], with EDNS options in our OPT record (when the
/// request had EDNS): `options`, then the answer's Extended DNS Error.
pub fn encode_response_with_options(
    request: &Metadata,
    question: Option<&Query>,
    answer: &Answer,
    edns: Option<RequestEdns>,
    options: &[(u16, Vec<u8>)],
    transport: Transport,
) -> Vec<u8> {
    let mut options: Vec<(u16, Vec<u8>)> = options.to_vec();
    if let Some((code, text)) = answer.ede {
        let mut data = code.to_be_bytes().to_vec();
        data.extend_from_slice(text.as_bytes());
        options.push((option_code::EDE, data));
    }
    let limit = response_limit(edns, transport);
    let options_len: usize = options.iter().map(|(_, d)| 4 + d.len()).sum();
    let opt_len = if edns.is_some() {
        OPT_RECORD_LEN + options_len
    } else {
        0
    };
    let record_limit = limit.saturating_sub(opt_len);

    let mut metadata = Metadata::new(request.id, MessageType::Response, request.op_code);
    metadata.recursion_desired = request.recursion_desired;
    metadata.checking_disabled = request.checking_disabled;
    metadata.authoritative = answer.authoritative;
    metadata.response_code = answer.rcode;

    let mut buffer = Vec::with_capacity(512);
    let mut encoder = BinEncoder::new(&mut buffer);
    let mut counts = HeaderCounts {
        queries: 0,
        answers: 0,
        authorities: 0,
        additionals: 0,
    };
    // The header is rewritten with the final counts and flags at the end.
    let header_ok = Header { metadata, counts }.emit(&mut encoder).is_ok();
    if let Some(q) = question
        && q.emit(&mut encoder).is_ok()
    {
        counts.queries = 1;
    }

    let fits = |encoder: &mut BinEncoder<'_>, records: &[Record]| -> Option<u16> {
        let start = encoder.offset();
        for r in records {
            if r.emit(encoder).is_err() || encoder.offset() > record_limit {
                encoder.set_offset(start);
                encoder.trim();
                return None;
            }
        }
        u16::try_from(records.len()).ok()
    };
    // Signatures go after every RRset of the section, as Knot places them:
    // a response truncated in the middle keeps whole unsigned RRsets rather
    // than a signed few (TC=1 tells a validator to ask again over TCP).
    let reordered: Vec<Record>;
    let answers: &[Record] =
        if answer.answers.iter().any(is_rrsig) && !answer.answers.iter().all(is_rrsig) {
            reordered = answer
                .answers
                .iter()
                .filter(|r| !is_rrsig(r))
                .chain(answer.answers.iter().filter(|r| is_rrsig(r)))
                .cloned()
                .collect();
            &reordered
        } else {
            &answer.answers
        };
    for rrset in rrsets(answers) {
        match fits(&mut encoder, rrset) {
            Some(n) => counts.answers += n,
            None => {
                metadata.truncation = true;
                break;
            }
        }
    }
    let after_answers = encoder.offset();
    if !metadata.truncation {
        match fits(&mut encoder, &answer.authorities) {
            Some(n) => counts.authorities = n,
            None => metadata.truncation = true,
        }
    }
    if metadata.truncation {
        encoder.set_offset(after_answers);
        encoder.trim();
        counts.authorities = 0;
    } else {
        for rrset in rrsets(&answer.additionals) {
            match fits(&mut encoder, rrset) {
                Some(n) => counts.additionals += n,
                None => {
                    metadata.truncation |= answer.referral;
                    break;
                }
            }
        }
    }
    if let Some(e) = edns
        && emit_opt(&mut encoder, answer.rcode, e.dnssec_ok, &options).is_ok()
    {
        counts.additionals += 1;
    }
    let end = encoder.offset();
    encoder.set_offset(0);
    let rewritten = Header { metadata, counts }.emit(&mut encoder).is_ok();
    encoder.set_offset(end);
    drop(encoder);
    debug_assert!(header_ok && rewritten, "a 12-byte header always fits");
    buffer
}

/// Splits a section into runs of the same owner and type (its RRsets).
fn rrsets(records: &[Record]) -> impl Iterator<Item = &[Record]> {
    records.chunk_by(|a, b| a.record_type() == b.record_type() && a.name == b.name)
}

fn is_rrsig(record: &Record) -> bool {
    record.record_type() == RecordType::RRSIG
}

/// Writes our OPT record: payload 1232, version 0, the high bits of the
/// rcode (BADVERS is 16), DO echoed (RFC 3225 3), then `options`.
fn emit_opt(
    encoder: &mut BinEncoder<'_>,
    rcode: ResponseCode,
    dnssec_ok: bool,
    options: &[(u16, Vec<u8>)],
) -> Result<(), hickory_proto::ProtoError> {
    encoder.emit(0)?; // root owner
    encoder.emit_u16(u16::from(RecordType::OPT))?;
    encoder.emit_u16(MAX_UDP_PAYLOAD)?;
    let do_bit: u32 = if dnssec_ok { 0x8000 } else { 0 };
    encoder.emit_u32((u32::from(rcode.high()) << 24) | (u32::from(EDNS_VERSION) << 16) | do_bit)?;
    let rdlength: usize = options.iter().map(|(_, d)| 4 + d.len()).sum();
    encoder.emit_u16(u16::try_from(rdlength).unwrap_or(0))?;
    for (code, data) in options.iter().filter(|_| rdlength <= usize::from(u16::MAX)) {
        encoder.emit_u16(*code)?;
        encoder.emit_u16(u16::try_from(data.len()).unwrap_or(0))?;
        encoder.emit_vec(data)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
