//! The hot path's parser: the common query shape, read straight off the
//! bytes without building a `Message`.
//!
//! Most queries are one question, uncompressed, with or without a bare OPT
//! record. [`SimpleQuery::parse`] recognises exactly that shape and nothing
//! else; anything unusual (other opcodes, several records, TSIG, cookies are
//! fine as OPT options) returns `None` and goes through the full decoder.
//! The answer for a recognised query comes from [`super::answer_cache`]
//! when it is there, so the cost of a repeated question is this parse, one
//! hash probe and one copy.

use super::wire::{CLASSIC_UDP_PAYLOAD, MAX_TCP_MESSAGE, MAX_UDP_PAYLOAD};
use crate::engine::Transport;

/// Header flag bits (RFC 1035 4.1.1) in the second 16-bit word.
const QR: u16 = 0x8000;
const OPCODE_MASK: u16 = 0x7800;
const RD: u16 = 0x0100;
const CD: u16 = 0x0010;

/// The longest question section: a 255-octet QNAME, QTYPE and QCLASS.
pub const MAX_QUESTION_LEN: usize = 255 + 4;

/// What a cached answer depends on, besides the zones: the lower-cased
/// question, and the request facts that change the response bytes.
///
/// The question is held inline (no allocation per query): a key lives on
/// the stack for one request, and the cache keeps only its hash and facts
/// (the question itself is inside the cached response).
#[derive(Clone)]
pub struct AnswerKey {
    /// QNAME as lower-cased wire bytes, then QTYPE and QCLASS (the question
    /// section exactly as the cached response carries it); `question_len`
    /// bytes are used.
    question: [u8; MAX_QUESTION_LEN],
    question_len: u16,
    /// `None` without EDNS, else the DO bit.
    pub edns_do: Option<bool>,
    /// The response size limit (it decides truncation).
    pub limit: u16,
    /// UDP or TCP (ANY answers differ).
    pub transport: Transport,
}

impl AnswerKey {
    /// A key for `question` (wire form, QNAME already lower-cased); `None`
    /// if it is longer than a question can be.
    pub fn new(
        question: &[u8],
        edns_do: Option<bool>,
        limit: u16,
        transport: Transport,
    ) -> Option<AnswerKey> {
        let mut key = AnswerKey {
            question: [0; MAX_QUESTION_LEN],
            question_len: u16::try_from(question.len()).ok()?,
            edns_do,
            limit,
            transport,
        };
        key.question
            .get_mut(..question.len())?
            .copy_from_slice(question);
        Some(key)
    }

    /// The lower-cased question section (QNAME, QTYPE, QCLASS).
    pub fn question(&self) -> &[u8] {
        &self.question[..usize::from(self.question_len)]
    }

    /// Everything but the question, in 32 bits: the limit, the EDNS state
    /// and the transport.
    pub fn facts(&self) -> u32 {
        let edns = match self.edns_do {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        let transport = match self.transport {
            Transport::Udp => 0,
            Transport::Tcp => 1,
        };
        u32::from(self.limit) | (edns << 16) | (transport << 18)
    }
}

impl PartialEq for AnswerKey {
    fn eq(&self, other: &AnswerKey) -> bool {
        self.question() == other.question() && self.facts() == other.facts()
    }
}

impl Eq for AnswerKey {}

impl std::hash::Hash for AnswerKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.question());
        state.write_u32(self.facts());
    }
}

impl std::fmt::Debug for AnswerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerKey")
            .field("question", &self.question())
            .field("edns_do", &self.edns_do)
            .field("limit", &self.limit)
            .field("transport", &self.transport)
            .finish()
    }
}

/// A query of the common shape.
#[derive(Debug)]
pub struct SimpleQuery {
    /// The message ID.
    pub id: u16,
    /// RD and CD as sent (copied into the response).
    pub flags: u16,
    /// The question section's length (QNAME + QTYPE + QCLASS) at offset 12.
    pub question_len: usize,
    /// The cache key.
    pub key: AnswerKey,
}

impl SimpleQuery {
    /// Recognises the common shape, or returns `None` for the full decoder.
    pub fn parse(bytes: &[u8], transport: Transport) -> Option<SimpleQuery> {
        let word = |at: usize| -> Option<u16> {
            Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
        };
        let id = word(0)?;
        let flags = word(2)?;
        if flags & (QR | OPCODE_MASK) != 0 || word(4)? != 1 || word(6)? != 0 || word(8)? != 0 {
            return None;
        }
        let arcount = word(10)?;
        if arcount > 1 {
            return None;
        }
        // QNAME: uncompressed labels, at most 255 octets (RFC 1035 2.3.4).
        let mut at = 12;
        loop {
            let len = usize::from(*bytes.get(at)?);
            if len == 0 {
                at += 1;
                break;
            }
            if len > 63 {
                return None; // a pointer or an extended label type
            }
            at += 1 + len;
            if at - 12 > 254 {
                return None;
            }
        }
        let qname_end = at;
        at += 4; // QTYPE, QCLASS
        let question_len = at - 12;
        bytes.get(..at)?;
        let edns = if arcount == 1 {
            Some(parse_bare_opt(bytes, at)?)
        } else {
            (at == bytes.len()).then_some(())?;
            None
        };
        // Version > 0 needs BADVERS: the full path.
        if edns.is_some_and(|(_, version, _)| version != 0) {
            return None;
        }
        let limit = match (transport, edns) {
            (Transport::Tcp, _) => MAX_TCP_MESSAGE as u16,
            (Transport::Udp, None) => CLASSIC_UDP_PAYLOAD,
            (Transport::Udp, Some((payload, _, _))) => {
                payload.clamp(CLASSIC_UDP_PAYLOAD, MAX_UDP_PAYLOAD)
            }
        };
        let mut key = AnswerKey::new(&bytes[12..at], edns.map(|(_, _, d)| d), limit, transport)?;
        key.question[..qname_end - 12].make_ascii_lowercase();
        Some(SimpleQuery {
            id,
            flags: flags & (RD | CD),
            question_len,
            key,
        })
    }
}

/// EDNS options whose answer is personal (RFC 5001 NSID, RFC 9660
/// ZONEVERSION, RFC 7873 COOKIE: a server cookie is made for one client).
const NSID_OPTION: u16 = 3;
const COOKIE_OPTION: u16 = super::cookies::COOKIE_OPTION;
const ZONEVERSION_OPTION: u16 = 19;

/// An OPT record that ends the message: root owner, TYPE 41, any options.
/// Returns (UDP payload, version, DO).
fn parse_bare_opt(bytes: &[u8], at: usize) -> Option<(u16, u8, bool)> {
    let opt = bytes.get(at..at + 11)?;
    if opt[0] != 0 || opt[1..3] != [0, 41] {
        return None;
    }
    let payload = u16::from_be_bytes([opt[3], opt[4]]);
    let version = opt[6];
    let dnssec_ok = opt[7] & 0x80 != 0;
    let rdlen = usize::from(u16::from_be_bytes([opt[9], opt[10]]));
    // Options (cookies, padding...) are walked to check their framing, then
    // ignored; NSID, ZONEVERSION and COOKIE ask for data in the response
    // that is not cached, so those queries take the full path.
    let mut o = at + 11;
    let end = o + rdlen;
    while o < end {
        let code = u16::from_be_bytes([*bytes.get(o)?, *bytes.get(o + 1)?]);
        if matches!(code, NSID_OPTION | ZONEVERSION_OPTION | COOKIE_OPTION) {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(o + 2)?, *bytes.get(o + 3)?]));
        o += 4 + len;
    }
    (o == end && end == bytes.len()).then_some((payload, version, dnssec_ok))
}

/// Writes the response for `query` from a cached one: its ID, RD and CD,
/// and the question as the client wrote it (the cached question is
/// lower-cased and of the same length).
///
/// Returns `false` (and leaves `out` empty) when `cached` does not carry the
/// question (an error response to a query the full decoder rejected): such
/// a response cannot be personalised, and must not be cached.
pub fn personalise(cached: &[u8], query: &SimpleQuery, request: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let question = 12..12 + query.question_len;
    if !carries_question(cached, query) || request.len() < question.end {
        return false;
    }
    out.extend_from_slice(cached);
    out[0..2].copy_from_slice(&query.id.to_be_bytes());
    out[2] = (out[2] & !((RD | CD) >> 8) as u8) | ((query.flags & RD) >> 8) as u8;
    out[3] = (out[3] & !(CD as u8)) | (query.flags & CD) as u8;
    out[question.clone()].copy_from_slice(&request[question]);
    true
}

/// True if `response` has one question, the lower-cased one of `query`.
fn carries_question(response: &[u8], query: &SimpleQuery) -> bool {
    response.get(4..6) == Some(&[0, 1])
        && response.get(12..12 + query.question_len) == Some(query.key.question())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};

    fn query(name: &str, edns: Option<u16>) -> Vec<u8> {
        let mut m = Message::new(0xbeef, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
        m.metadata.recursion_desired = true;
        if let Some(p) = edns {
            let mut e = Edns::new();
            e.set_max_payload(p);
            e.set_dnssec_ok(true);
            m.set_edns(e);
        }
        m.to_vec().unwrap()
    }

    #[test]
    fn recognises_a_plain_query_and_lowercases_the_key() {
        let q = SimpleQuery::parse(&query("WwW.Example.ORG.", None), Transport::Udp).unwrap();
        assert_eq!(q.id, 0xbeef);
        assert_eq!(q.flags, RD);
        assert_eq!(
            q.key.question(),
            b"\x03www\x07example\x03org\x00\x00\x01\x00\x01"
        );
        assert_eq!((q.key.edns_do, q.key.limit), (None, 512));
    }

    #[test]
    fn recognises_edns_and_clamps_the_payload() {
        let q = SimpleQuery::parse(&query("example.org.", Some(4096)), Transport::Udp).unwrap();
        assert_eq!((q.key.edns_do, q.key.limit), (Some(true), 1232));
        let q = SimpleQuery::parse(&query("example.org.", Some(100)), Transport::Udp).unwrap();
        assert_eq!(q.key.limit, 512);
    }

    #[test]
    fn leaves_anything_unusual_to_the_full_decoder() {
        let mut bytes = query("example.org.", None);
        bytes.push(0);
        assert!(
            SimpleQuery::parse(&bytes, Transport::Udp).is_none(),
            "trailing bytes"
        );
        let mut response = query("example.org.", None);
        response[2] |= 0x80;
        assert!(
            SimpleQuery::parse(&response, Transport::Udp).is_none(),
            "QR set"
        );
        let short = query("example.org.", None);
        assert!(
            SimpleQuery::parse(&short[..short.len() - 1], Transport::Udp).is_none(),
            "cut"
        );
        let mut pointer = query("example.org.", None);
        pointer[12] = 0xC0;
        assert!(
            SimpleQuery::parse(&pointer, Transport::Udp).is_none(),
            "compressed qname"
        );
    }
}
