//! The DNS side of resolution: a [`Resolver`] asks one question and returns
//! the response; [`lookup`] follows CNAME chains across responses the way a
//! stub resolver does, so that every implementation only has to ask.
//!
//! Two implementations:
//!
//! - [`ZoneResolver`]: offline, against a loaded [`ZoneSet`], through the
//!   same [`engine::answer`] the server runs, so what it sees is exactly what
//!   `fedns serve` would answer. Names outside the zones answer REFUSED.
//! - [`DnsResolver`]: live, to one DNS server (`--dns ADDR:PORT`: fedns
//!   itself, or any authoritative or recursive server) with hickory-proto
//!   messages over UDP, retried over TCP when the answer is truncated. Every
//!   exchange is bounded by a timeout and a number of tries.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::engine::{self, Transport};
use crate::snapshot::ZoneSet;

/// How many CNAMEs [`lookup`] follows before it gives up (a loop or an absurd chain).
pub const MAX_CNAME_HOPS: usize = 8;
/// The EDNS UDP payload size a [`DnsResolver`] advertises (the DNS flag day 2020 value).
pub const EDNS_UDP_SIZE: u16 = 1232;
/// Datagrams with a foreign ID a [`DnsResolver`] skips before giving up on an exchange.
const MAX_STRAY_DATAGRAMS: usize = 16;

/// A question could not be answered at all (no response, or garbage).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// Nothing came back in time.
    #[error(
        "no answer from the DNS server {server} for {question} after {tries} tries of {timeout:?} each"
    )]
    Timeout {
        /// The server asked.
        server: SocketAddr,
        /// The question, as `NAME TYPE`.
        question: String,
        /// How many UDP tries were made.
        tries: u32,
        /// The timeout of each try.
        timeout: Duration,
    },
    /// The server could not be reached (for example connection refused).
    #[error("cannot reach the DNS server {server} ({transport}) for {question}: {reason}")]
    Unreachable {
        /// The server asked.
        server: SocketAddr,
        /// UDP or TCP.
        transport: &'static str,
        /// The question, as `NAME TYPE`.
        question: String,
        /// The operating system's words.
        reason: String,
    },
    /// The response could not be used.
    #[error("bad response from the DNS server {server} for {question}: {reason}")]
    BadResponse {
        /// The server asked.
        server: SocketAddr,
        /// The question, as `NAME TYPE`.
        question: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The parts of a DNS response that resolution reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsResponse {
    /// The response code.
    pub rcode: ResponseCode,
    /// The answer section.
    pub answers: Vec<Record>,
    /// True for a referral: no answer, NS records in authority, AA clear.
    pub referral: bool,
    /// Owners in the answer that do not exist in the zone, with the
    /// wildcard that synthesised their records (RFC 4592). Known offline
    /// only: on the wire a synthesised record looks like any other.
    pub synthesised: Vec<(Name, Name)>,
}

/// Something that answers DNS questions (class IN).
pub trait Resolver {
    /// Asks `name`/`rtype` once. CNAME chains inside one response are
    /// returned as the server sent them; [`lookup`] follows the rest.
    fn query(&self, name: &Name, rtype: RecordType) -> Result<DnsResponse, DnsError>;

    /// Where the answers come from, for people: "zones in ./zones",
    /// "the DNS server 127.0.0.1:5300".
    fn describe(&self) -> String;
}

/// The outcome of [`lookup`]: every record seen on the way (CNAMEs
/// included) and the response code of the last question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The name asked for first.
    pub name: Name,
    /// The type asked for.
    pub rtype: RecordType,
    /// The response code of the last response (NOERROR with no data of
    /// `rtype` is NODATA).
    pub rcode: ResponseCode,
    /// The answer records of every response, in order (CNAMEs and data).
    pub records: Vec<Record>,
    /// The last response was a referral to another server.
    pub referral: bool,
    /// The CNAME chain was cut (a loop, or longer than [`MAX_CNAME_HOPS`]).
    pub chain_cut: bool,
    /// Owners answered by a wildcard, with the wildcard (offline only).
    pub synthesised: Vec<(Name, Name)>,
}

impl Lookup {
    /// The records of the type asked for (the data at the end of any CNAME chain).
    pub fn data(&self) -> impl Iterator<Item = &Record> {
        self.records
            .iter()
            .filter(move |r| r.record_type() == self.rtype)
    }

    /// True when records of the type asked for were found.
    pub fn found(&self) -> bool {
        self.rcode == ResponseCode::NoError && self.data().next().is_some()
    }

    /// The CNAMEs followed, in order.
    pub fn cnames(&self) -> impl Iterator<Item = &Record> {
        self.records
            .iter()
            .filter(|r| r.record_type() == RecordType::CNAME)
    }

    /// What the last response said, in DNS terms: NOERROR, NODATA, NXDOMAIN,
    /// SERVFAIL, REFUSED, REFERRAL...
    pub fn status(&self) -> String {
        if self.referral {
            return "REFERRAL".to_owned();
        }
        if self.rcode == ResponseCode::NoError && !self.found() {
            return "NODATA".to_owned();
        }
        rcode_name(self.rcode)
    }

    /// The IP addresses among the records (A and AAAA data).
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.data()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                _ => None,
            })
            .collect()
    }
}

/// The mnemonic of a response code (`NOERROR`, `NXDOMAIN`, ...).
pub fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// Asks `resolver` for `name`/`rtype`, following CNAMEs: within a response,
/// and by asking again at the end of the chain when the data is not there
/// (at most [`MAX_CNAME_HOPS`] CNAMEs in all; a loop stops the chain).
pub fn lookup(resolver: &dyn Resolver, name: &Name, rtype: RecordType) -> Result<Lookup, DnsError> {
    let mut out = Lookup {
        name: name.clone(),
        rtype,
        rcode: ResponseCode::NoError,
        records: Vec::new(),
        referral: false,
        chain_cut: false,
        synthesised: Vec::new(),
    };
    let mut current = name.clone();
    let mut visited: Vec<Name> = vec![current.clone()];
    for _ in 0..=MAX_CNAME_HOPS {
        let response = resolver.query(&current, rtype)?;
        out.rcode = response.rcode;
        out.referral = response.referral;
        out.records.extend(response.answers.iter().cloned());
        out.synthesised.extend(response.synthesised.iter().cloned());
        if response.rcode != ResponseCode::NoError {
            return Ok(out);
        }
        // Follow the chain inside this response.
        let mut end = current.clone();
        for _ in 0..=MAX_CNAME_HOPS {
            let has_data = response
                .answers
                .iter()
                .any(|r| r.name == end && r.record_type() == rtype);
            let next = response.answers.iter().find_map(|r| match &r.data {
                RData::CNAME(target) if r.name == end && rtype != RecordType::CNAME => {
                    Some(target.0.clone())
                }
                _ => None,
            });
            match next {
                Some(target) if !has_data => {
                    if visited.contains(&target) || visited.len() > MAX_CNAME_HOPS {
                        out.chain_cut = true;
                        return Ok(out);
                    }
                    visited.push(target.clone());
                    end = target;
                }
                _ => break,
            }
        }
        let answered = response
            .answers
            .iter()
            .any(|r| r.name == end && r.record_type() == rtype);
        if answered || end == current {
            return Ok(out);
        }
        // The chain left what this response covers: ask at its end.
        current = end;
    }
    out.chain_cut = true;
    Ok(out)
}

// ------------------------------------------------------------- offline --

/// Answers from loaded zones, exactly as `fedns serve` would (TCP semantics:
/// nothing is truncated).
pub struct ZoneResolver<'z> {
    zones: &'z ZoneSet,
    label: String,
}

impl<'z> ZoneResolver<'z> {
    /// A resolver over `zones`; `label` says where they came from ("zones in ./zones").
    pub fn new(zones: &'z ZoneSet, label: impl Into<String>) -> Self {
        ZoneResolver {
            zones,
            label: label.into(),
        }
    }
}

/// The wildcard whose records answer for `owner`, when `owner` does not
/// exist in its zone: `*.` its closest encloser (RFC 4592 section 3.3.1).
/// `fedns explain` names it; the lint judges the records it synthesises.
pub fn wildcard_source(zones: &ZoneSet, owner: &Name) -> Option<Name> {
    let key = crate::proto::name::name_key(owner);
    let crate::snapshot::ZoneMatch::Serving(zone) = zones.find_zone(&key)? else {
        return None;
    };
    if zone.node(&key).is_some() {
        return None;
    }
    let mut encloser = owner.base_name();
    while zone
        .node(&crate::proto::name::name_key(&encloser))
        .is_none()
    {
        if encloser.num_labels() <= zone.origin().num_labels() {
            return None;
        }
        encloser = encloser.base_name();
    }
    let wildcard = encloser.prepend_label("*").ok()?;
    zone.node(&crate::proto::name::name_key(&wildcard))
        .is_some()
        .then_some(wildcard)
}

impl Resolver for ZoneResolver<'_> {
    fn query(&self, name: &Name, rtype: RecordType) -> Result<DnsResponse, DnsError> {
        let answer = engine::answer(self.zones, name, rtype, Transport::Tcp);
        let mut synthesised: Vec<(Name, Name)> = Vec::new();
        for record in &answer.answers {
            if let Some(wildcard) = wildcard_source(self.zones, &record.name)
                && !synthesised.iter().any(|(owner, _)| *owner == record.name)
            {
                synthesised.push((record.name.clone(), wildcard));
            }
        }
        Ok(DnsResponse {
            rcode: answer.rcode,
            answers: answer.answers,
            referral: answer.referral,
            synthesised,
        })
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

// ---------------------------------------------------------------- live --

/// Asks one DNS server over UDP, and over TCP when the UDP answer is truncated.
#[derive(Clone, Debug)]
pub struct DnsResolver {
    server: SocketAddr,
    timeout: Duration,
    tries: u32,
}

impl DnsResolver {
    /// A resolver asking `server`; each UDP try and the TCP exchange wait at
    /// most `timeout`; UDP is tried `tries` times (at least once).
    pub fn new(server: SocketAddr, timeout: Duration, tries: u32) -> Self {
        DnsResolver {
            server,
            timeout,
            tries: tries.max(1),
        }
    }

    fn exchange(&self, name: &Name, rtype: RecordType) -> Result<Message, DnsError> {
        let question = format!("{name} {rtype}");
        let id = crate::proto::query_id::random_id();
        let query = build_query(id, name, rtype);
        let wire = query
            .to_vec()
            .map_err(|e| self.bad(&question, format!("cannot encode the query: {e}")))?;
        let mut last_unreachable = None;
        for _ in 0..self.tries {
            match self.udp_once(&wire, id, &question) {
                Ok(Some(response)) => {
                    if response.metadata.truncation {
                        return self.tcp(&wire, id, &question);
                    }
                    return Ok(response);
                }
                Ok(None) => {}
                Err(e @ DnsError::BadResponse { .. }) => return Err(e),
                Err(e) => last_unreachable = Some(e),
            }
        }
        Err(last_unreachable.unwrap_or(DnsError::Timeout {
            server: self.server,
            question,
            tries: self.tries,
            timeout: self.timeout,
        }))
    }

    /// One UDP try: `Ok(None)` on timeout.
    fn udp_once(&self, wire: &[u8], id: u16, question: &str) -> Result<Option<Message>, DnsError> {
        let unreachable = |e: std::io::Error| DnsError::Unreachable {
            server: self.server,
            transport: "UDP",
            question: question.to_owned(),
            reason: e.to_string(),
        };
        let local: SocketAddr = match self.server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).map_err(unreachable)?;
        socket.connect(self.server).map_err(unreachable)?;
        socket.send(wire).map_err(unreachable)?;
        let deadline = Instant::now() + self.timeout;
        let mut buf = vec![0u8; 65_535];
        for _ in 0..MAX_STRAY_DATAGRAMS {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            socket.set_read_timeout(Some(left)).map_err(unreachable)?;
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(unreachable(e)),
            };
            let Some(bytes) = buf.get(..n) else { continue };
            if n < 2 || u16::from_be_bytes([bytes[0], bytes[1]]) != id {
                continue;
            }
            return self.decode(bytes, question).map(Some);
        }
        Ok(None)
    }

    fn tcp(&self, wire: &[u8], id: u16, question: &str) -> Result<Message, DnsError> {
        let io = |e: std::io::Error| {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                DnsError::Timeout {
                    server: self.server,
                    question: format!("{question} (TCP)"),
                    tries: 1,
                    timeout: self.timeout,
                }
            } else {
                DnsError::Unreachable {
                    server: self.server,
                    transport: "TCP",
                    question: question.to_owned(),
                    reason: e.to_string(),
                }
            }
        };
        let len =
            u16::try_from(wire.len()).map_err(|_| self.bad(question, "query too long".into()))?;
        let mut stream = TcpStream::connect_timeout(&self.server, self.timeout).map_err(io)?;
        stream.set_read_timeout(Some(self.timeout)).map_err(io)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(wire);
        stream.write_all(&framed).map_err(io)?;
        let mut len_buf = [0u8; 2];
        stream.read_exact(&mut len_buf).map_err(io)?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len_buf))];
        stream.read_exact(&mut body).map_err(io)?;
        let message = self.decode(&body, question)?;
        if message.metadata.id != id {
            return Err(self.bad(
                question,
                format!(
                    "TCP response ID {} does not match the query's {id}",
                    message.metadata.id
                ),
            ));
        }
        Ok(message)
    }

    fn decode(&self, bytes: &[u8], question: &str) -> Result<Message, DnsError> {
        let message = Message::from_vec(bytes)
            .map_err(|e| self.bad(question, format!("cannot decode: {e}")))?;
        if message.metadata.message_type != MessageType::Response {
            return Err(self.bad(question, "the message is not a response".into()));
        }
        Ok(message)
    }

    fn bad(&self, question: &str, reason: String) -> DnsError {
        DnsError::BadResponse {
            server: self.server,
            question: question.to_owned(),
            reason,
        }
    }
}

impl Resolver for DnsResolver {
    fn query(&self, name: &Name, rtype: RecordType) -> Result<DnsResponse, DnsError> {
        let message = self.exchange(name, rtype)?;
        let question = format!("{name} {rtype}");
        match message.queries.first() {
            Some(q) if q.name() == name && q.query_type() == rtype => {}
            Some(q) => {
                return Err(self.bad(
                    &question,
                    format!(
                        "it answers another question ({} {})",
                        q.name(),
                        q.query_type()
                    ),
                ));
            }
            // Some servers drop the question from error responses.
            None if message.metadata.response_code != ResponseCode::NoError => {}
            None => return Err(self.bad(&question, "it has no question section".into())),
        }
        let referral = message.metadata.response_code == ResponseCode::NoError
            && message.answers.is_empty()
            && !message.metadata.authoritative
            && message
                .authorities
                .iter()
                .any(|r| r.record_type() == RecordType::NS);
        Ok(DnsResponse {
            rcode: message.metadata.response_code,
            answers: message.answers,
            referral,
            synthesised: Vec::new(),
        })
    }

    fn describe(&self) -> String {
        format!("the DNS server {}", self.server)
    }
}

/// A query for `name`/`rtype` IN with RD set (so a recursive server answers
/// too) and EDNS with [`EDNS_UDP_SIZE`].
fn build_query(id: u16, name: &Name, rtype: RecordType) -> Message {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_UDP_SIZE);
    message.set_edns(edns);
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::zones_from_toml;

    const ZONE: &str = "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"192.0.2.1\"]\n[[record]]\nname = \"www\"\nCNAME = \"@\"\n[[record]]\nname = \"out\"\nCNAME = \"host.example.net.\"\n[[record]]\nname = \"loop1\"\nCNAME = \"loop2\"\n[[record]]\nname = \"loop2\"\nCNAME = \"loop1\"\n";
    const OTHER: &str = "origin = \"example.net.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\n[[record]]\nname = \"host\"\nAAAA = [\"2001:db8::5\"]\n";

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn follows_a_cname_inside_the_zone() {
        let zones = zones_from_toml(&[ZONE]);
        let resolver = ZoneResolver::new(&zones, "test");
        let l = lookup(&resolver, &name("www.example.org."), RecordType::A).unwrap();
        assert!(l.found());
        assert_eq!(l.cnames().count(), 1);
        assert_eq!(l.addresses(), vec!["192.0.2.1".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn follows_a_cname_into_another_zone_by_asking_again() {
        let zones = zones_from_toml(&[ZONE, OTHER]);
        let resolver = ZoneResolver::new(&zones, "test");
        let l = lookup(&resolver, &name("out.example.org."), RecordType::AAAA).unwrap();
        assert_eq!(
            l.addresses(),
            vec!["2001:db8::5".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(l.status(), "NOERROR");
    }

    #[test]
    fn a_cname_out_of_the_zones_ends_refused() {
        let zones = zones_from_toml(&[ZONE]);
        let resolver = ZoneResolver::new(&zones, "test");
        let l = lookup(&resolver, &name("out.example.org."), RecordType::A).unwrap();
        assert_eq!(l.status(), "REFUSED");
        assert_eq!(l.cnames().count(), 1);
    }

    #[test]
    fn a_cname_loop_stops() {
        let zones = zones_from_toml(&[ZONE]);
        let resolver = ZoneResolver::new(&zones, "test");
        let l = lookup(&resolver, &name("loop1.example.org."), RecordType::A).unwrap();
        assert!(!l.found());
        assert!(l.chain_cut || l.status() == "NODATA", "{l:?}");
    }

    #[test]
    fn negative_answers_have_their_names() {
        let zones = zones_from_toml(&[ZONE]);
        let resolver = ZoneResolver::new(&zones, "test");
        assert_eq!(
            lookup(&resolver, &name("nope.example.org."), RecordType::A)
                .unwrap()
                .status(),
            "NXDOMAIN"
        );
        assert_eq!(
            lookup(&resolver, &name("example.org."), RecordType::SRV)
                .unwrap()
                .status(),
            "NODATA"
        );
    }

    #[test]
    fn an_unreachable_server_is_an_error_in_bounded_time() {
        // A port nobody listens on: connection refused, or a timeout.
        let Ok(probe) = UdpSocket::bind("127.0.0.1:0") else {
            return;
        };
        let Ok(addr) = probe.local_addr() else { return };
        drop(probe);
        let resolver = DnsResolver::new(addr, Duration::from_millis(200), 2);
        let e = resolver
            .query(&name("example.org."), RecordType::A)
            .unwrap_err();
        assert!(
            matches!(e, DnsError::Timeout { .. } | DnsError::Unreachable { .. }),
            "{e}"
        );
        assert!(e.to_string().contains(&addr.to_string()), "{e}");
    }
}
