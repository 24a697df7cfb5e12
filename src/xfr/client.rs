//! The secondary's client side of the wire: the SOA serial check and AXFR
//! in, read straight off a tokio TCP stream.
//!
//! Every message is checked before the next is read: ID, QR, rcode, TSIG
//! (RFC 8945, unsigned intermediate messages allowed), records inside the
//! zone, class IN. The transfer ends at the second SOA with the first one's
//! serial (RFC 5936 2.2); a connection that closes before it, or a peer that
//! sends more, fails the whole transfer and changes nothing. Time, bytes and
//! records are bounded so a slow or hostile primary cannot hold us.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::xot::XotClient;

use crate::proto::serial::is_newer;
use crate::proto::tsig::{ResponseVerifier, TsigFailure, TsigKey, sign_request, unix_now};
use crate::zone::{Place, SourcedRecord};

/// Limits of one transfer.
#[derive(Clone, Copy, Debug)]
pub struct TransferLimits {
    /// Connecting to the primary.
    pub connect_timeout: Duration,
    /// Waiting for any one message.
    pub message_timeout: Duration,
    /// The whole transfer.
    pub total_timeout: Duration,
    /// Bytes received in all.
    pub max_bytes: usize,
    /// Records received in all.
    pub max_records: usize,
}

impl Default for TransferLimits {
    fn default() -> Self {
        TransferLimits {
            connect_timeout: Duration::from_secs(5),
            message_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(600),
            max_bytes: 512 * 1024 * 1024,
            max_records: 10_000_000,
        }
    }
}

/// Why a SOA check or a transfer failed. Each names the primary.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Network trouble.
    #[error("{primary}: {what}: {cause}")]
    Io {
        /// The primary.
        primary: SocketAddr,
        /// What we were doing.
        what: &'static str,
        /// The error (not a `source`: the message already carries it).
        cause: std::io::Error,
    },
    /// A deadline passed.
    #[error("{primary}: timed out {what}")]
    Timeout {
        /// The primary.
        primary: SocketAddr,
        /// What we were waiting for.
        what: &'static str,
    },
    /// The primary refused to answer the SOA query (Knot answers its
    /// catalog zones by transfer only).
    #[error("{primary}: refused the SOA query for {zone}")]
    SoaRefused {
        /// The primary.
        primary: SocketAddr,
        /// The zone asked for.
        zone: Name,
    },
    /// The primary said no, or answered nonsense.
    #[error("{primary}: {message}")]
    Protocol {
        /// The primary.
        primary: SocketAddr,
        /// What is wrong.
        message: String,
    },
    /// The signature did not verify.
    #[error("{primary}: TSIG: {cause}")]
    Tsig {
        /// The primary.
        primary: SocketAddr,
        /// What failed.
        cause: TsigFailure,
    },
}

fn protocol(primary: SocketAddr, message: impl Into<String>) -> TransferError {
    TransferError::Protocol {
        primary,
        message: message.into(),
    }
}

fn query_message(zone: &Name, qtype: RecordType) -> Message {
    let mut m = Message::new(
        crate::proto::query_id::random_id(),
        MessageType::Query,
        OpCode::Query,
    );
    m.add_query(Query::query(zone.clone(), qtype));
    m
}

/// Asks `primary` for the zone's SOA serial, over UDP, falling back to TCP
/// when the answer is truncated or UDP gets no answer. With `tls`, over
/// TLS only: nothing about the zone travels in the clear.
pub async fn soa_serial(
    primary: SocketAddr,
    zone: &Name,
    key: Option<&Arc<TsigKey>>,
    timeout: Duration,
    tls: Option<&XotClient>,
) -> Result<u32, TransferError> {
    if tls.is_some() {
        return soa_serial_tcp(primary, zone, key, timeout, tls).await;
    }
    match soa_serial_udp(primary, zone, key, timeout).await {
        Ok(Some(serial)) => Ok(serial),
        Ok(None) | Err(TransferError::Timeout { .. }) => {
            soa_serial_tcp(primary, zone, key, timeout, None).await
        }
        Err(e) => Err(e),
    }
}

async fn soa_serial_udp(
    primary: SocketAddr,
    zone: &Name,
    key: Option<&Arc<TsigKey>>,
    timeout: Duration,
) -> Result<Option<u32>, TransferError> {
    let io = |what, source| TransferError::Io {
        primary,
        what,
        cause: source,
    };
    let bind: SocketAddr = if primary.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(bind)
        .await
        .map_err(|e| io("binding a UDP socket", e))?;
    socket
        .connect(primary)
        .await
        .map_err(|e| io("connecting UDP", e))?;
    let query = query_message(zone, RecordType::SOA);
    let (bytes, mut verifier) = encode_signed(&query, key, primary)?;
    socket
        .send(&bytes)
        .await
        .map_err(|e| io("sending the SOA query", e))?;
    let mut buf = vec![0u8; 4096];
    let deadline = Instant::now() + timeout;
    // Datagrams with another ID are ignored (at most a few, within the deadline).
    for _ in 0..8 {
        let left = deadline.saturating_duration_since(Instant::now());
        let len = match tokio::time::timeout(left, socket.recv(&mut buf)).await {
            Ok(r) => r.map_err(|e| io("reading the SOA answer", e))?,
            Err(_) => {
                return Err(TransferError::Timeout {
                    primary,
                    what: "waiting for the SOA answer",
                });
            }
        };
        let Ok(response) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        if response.metadata.id != query.metadata.id
            || response.metadata.message_type != MessageType::Response
        {
            continue;
        }
        if response.metadata.truncation {
            return Ok(None);
        }
        if let Some(v) = verifier.as_mut() {
            v.verify(&buf[..len])
                .map_err(|source| TransferError::Tsig {
                    primary,
                    cause: source,
                })?;
        }
        return soa_from(&response, zone, primary).map(Some);
    }
    Err(TransferError::Timeout {
        primary,
        what: "waiting for a SOA answer with our ID",
    })
}

async fn soa_serial_tcp(
    primary: SocketAddr,
    zone: &Name,
    key: Option<&Arc<TsigKey>>,
    timeout: Duration,
    tls: Option<&XotClient>,
) -> Result<u32, TransferError> {
    let query = query_message(zone, RecordType::SOA);
    let (bytes, mut verifier) = encode_signed(&query, key, primary)?;
    let mut stream = connect(primary, tls, timeout).await?;
    write_framed(&mut stream, &bytes, primary, timeout).await?;
    let message = read_framed(&mut stream, primary, timeout, 65_535).await?;
    let response = Message::from_vec(&message)
        .map_err(|e| protocol(primary, format!("undecodable SOA answer: {e}")))?;
    if let Some(v) = verifier.as_mut() {
        v.verify(&message).map_err(|source| TransferError::Tsig {
            primary,
            cause: source,
        })?;
    }
    soa_from(&response, zone, primary)
}

fn soa_from(response: &Message, zone: &Name, primary: SocketAddr) -> Result<u32, TransferError> {
    if response.metadata.response_code == ResponseCode::Refused {
        return Err(TransferError::SoaRefused {
            primary,
            zone: zone.clone(),
        });
    }
    if response.metadata.response_code != ResponseCode::NoError {
        return Err(protocol(
            primary,
            format!(
                "answered {} to the SOA query for {zone}",
                response.metadata.response_code
            ),
        ));
    }
    if !response.metadata.authoritative {
        return Err(protocol(
            primary,
            format!("is not authoritative for {zone} (AA clear)"),
        ));
    }
    response
        .answers
        .iter()
        .find_map(|r| match &r.data {
            RData::SOA(soa) if r.name.eq_ignore_root(zone) => Some(soa.serial),
            _ => None,
        })
        .ok_or_else(|| protocol(primary, format!("no SOA for {zone} in its answer")))
}

fn encode_signed(
    query: &Message,
    key: Option<&Arc<TsigKey>>,
    primary: SocketAddr,
) -> Result<(Vec<u8>, Option<ResponseVerifier>), TransferError> {
    let mut bytes = query
        .to_vec()
        .map_err(|e| protocol(primary, format!("cannot encode the query: {e}")))?;
    let verifier = key.map(|key| {
        let now = unix_now();
        let mac = sign_request(&mut bytes, key, now);
        ResponseVerifier::new(Arc::clone(key), mac, now)
    });
    Ok((bytes, verifier))
}

/// Sends `message` to `server` over TCP as it is (its ID and any TSIG
/// untouched) and returns the first response: how an UPDATE to a
/// secondary zone is forwarded to its primary (RFC 2136 section 6).
pub async fn exchange_tcp(
    server: SocketAddr,
    message: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, TransferError> {
    let mut stream = connect(server, None, timeout).await?;
    write_framed(&mut stream, message, server, timeout).await?;
    read_framed(&mut stream, server, timeout, usize::from(u16::MAX)).await
}

/// A byte stream to a primary: TCP, or TLS over TCP (XoT).
trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> Duplex for S {}
type Connection = Box<dyn Duplex>;

/// Connects to `primary` over TCP and, with `tls`, completes a TLS
/// handshake (XoT), all within `timeout`.
async fn connect(
    primary: SocketAddr,
    tls: Option<&XotClient>,
    timeout: Duration,
) -> Result<Connection, TransferError> {
    let connected = async {
        let tcp = TcpStream::connect(primary).await?;
        let _ = tcp.set_nodelay(true);
        match tls {
            None => Ok::<Connection, std::io::Error>(Box::new(tcp)),
            Some(tls) => {
                let stream: Connection = Box::new(tls.handshake(tcp, primary).await?);
                Ok(stream)
            }
        }
    };
    let what = if tls.is_some() {
        "connecting over TLS"
    } else {
        "connecting"
    };
    match tokio::time::timeout(timeout, connected).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(source)) => Err(TransferError::Io {
            primary,
            what,
            cause: source,
        }),
        Err(_) => Err(TransferError::Timeout { primary, what }),
    }
}

async fn write_framed(
    stream: &mut Connection,
    bytes: &[u8],
    primary: SocketAddr,
    timeout: Duration,
) -> Result<(), TransferError> {
    let len = u16::try_from(bytes.len()).map_err(|_| protocol(primary, "query too large"))?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    match tokio::time::timeout(timeout, stream.write_all(&framed)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(TransferError::Io {
            primary,
            what: "sending the query",
            cause: source,
        }),
        Err(_) => Err(TransferError::Timeout {
            primary,
            what: "sending the query",
        }),
    }
}

async fn read_framed(
    stream: &mut Connection,
    primary: SocketAddr,
    timeout: Duration,
    budget: usize,
) -> Result<Vec<u8>, TransferError> {
    let read = async {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let len = usize::from(u16::from_be_bytes(len));
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await?;
        Ok::<_, std::io::Error>(body)
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(body)) if body.len() > budget => {
            Err(protocol(primary, "transfer exceeds the size limit"))
        }
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(protocol(
            primary,
            "closed the connection before the transfer was complete",
        )),
        Ok(Err(source)) => Err(TransferError::Io {
            primary,
            what: "reading the transfer",
            cause: source,
        }),
        Err(_) => Err(TransferError::Timeout {
            primary,
            what: "waiting for the next transfer message",
        }),
    }
}

/// Decodes one message of a transfer stream and checks what every message
/// must satisfy: our ID, a response, NOERROR (`kind` names the transfer in
/// the error).
fn transfer_message(
    bytes: &[u8],
    id: u16,
    primary: SocketAddr,
    kind: &str,
    zone: &Name,
) -> Result<Message, TransferError> {
    let m = Message::from_vec(bytes)
        .map_err(|e| protocol(primary, format!("undecodable transfer message: {e}")))?;
    if m.metadata.id != id || m.metadata.message_type != MessageType::Response {
        return Err(protocol(
            primary,
            "a transfer message with the wrong ID or not a response",
        ));
    }
    if m.metadata.response_code != ResponseCode::NoError {
        return Err(protocol(
            primary,
            format!(
                "refused the {kind} of {zone} ({})",
                m.metadata.response_code
            ),
        ));
    }
    Ok(m)
}

/// A reader of a transfer stream, fed one message at a time.
trait StreamReader {
    /// What a complete stream yields.
    type Output;
    /// Takes one message; `Some` when the stream is complete.
    fn push(&mut self, message: &[u8]) -> Result<Option<Self::Output>, TransferError>;
    /// Records taken so far (for the limit).
    fn record_count(&self) -> usize;
}

/// Reads a transfer off `stream` into `reader`: every message within the
/// time, byte and record limits and, when signed, TSIG-verified before the
/// reader sees it. Returns the reader's output, messages and bytes read.
async fn read_stream<R: StreamReader>(
    stream: &mut Connection,
    primary: SocketAddr,
    limits: TransferLimits,
    started: Instant,
    mut verifier: Option<&mut ResponseVerifier>,
    mut reader: R,
) -> Result<(R::Output, usize, usize), TransferError> {
    let (mut received, mut messages) = (0usize, 0usize);
    loop {
        let left = limits.total_timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(TransferError::Timeout {
                primary,
                what: "for the whole transfer",
            });
        }
        let message = read_framed(
            stream,
            primary,
            left.min(limits.message_timeout),
            limits.max_bytes - received,
        )
        .await?;
        received += message.len() + 2;
        messages += 1;
        if let Some(v) = verifier.as_deref_mut() {
            v.verify(&message)
                .map_err(|cause| TransferError::Tsig { primary, cause })?;
        }
        if let Some(output) = reader.push(&message)? {
            if let Some(v) = verifier.as_deref() {
                v.finish()
                    .map_err(|cause| TransferError::Tsig { primary, cause })?;
            }
            return Ok((output, messages, received));
        }
        if reader.record_count() > limits.max_records {
            return Err(protocol(
                primary,
                format!("transfer exceeds {} records", limits.max_records),
            ));
        }
    }
}

/// A completed AXFR: the records (the closing SOA not repeated) and how many
/// messages and bytes it took.
#[derive(Debug)]
pub struct Transferred {
    /// Every record, the SOA first, in wire form as it arrived (each message
    /// is decoded and its records packed before the next is read, so a
    /// transfer never holds the zone as decoded records).
    pub records: Vec<SourcedRecord>,
    /// Messages received.
    pub messages: usize,
    /// Bytes received.
    pub bytes: usize,
}

/// Transfers `zone` from `primary` by AXFR over TCP.
pub async fn axfr(
    primary: SocketAddr,
    zone: &Name,
    key: Option<&Arc<TsigKey>>,
    limits: TransferLimits,
    tls: Option<&XotClient>,
) -> Result<Transferred, TransferError> {
    let started = Instant::now();
    let query = query_message(zone, RecordType::AXFR);
    let (bytes, mut verifier) = encode_signed(&query, key, primary)?;
    let mut stream = connect(primary, tls, limits.connect_timeout).await?;
    write_framed(&mut stream, &bytes, primary, limits.message_timeout).await?;
    let reader = AxfrReader::new(zone.clone(), query.metadata.id, primary);
    let (records, messages, bytes) = read_stream(
        &mut stream,
        primary,
        limits,
        started,
        verifier.as_mut(),
        reader,
    )
    .await?;
    Ok(Transferred {
        records,
        messages,
        bytes,
    })
}

/// Checks and collects the records of an AXFR stream, message by message.
struct AxfrReader {
    zone: Name,
    id: u16,
    primary: SocketAddr,
    records: Vec<SourcedRecord>,
    /// Where the records come from: `<AXFR from PRIMARY>`.
    place: Place,
    serial: Option<u32>,
    /// A record's wire form, written here before it is kept.
    scratch: Vec<u8>,
}

impl AxfrReader {
    fn new(zone: Name, id: u16, primary: SocketAddr) -> AxfrReader {
        let source: Arc<str> = Arc::from(format!("<AXFR from {primary}>"));
        AxfrReader {
            zone,
            id,
            primary,
            records: Vec::new(),
            place: Place::file(&source),
            serial: None,
            scratch: Vec::new(),
        }
    }

    /// Takes one message; `Ok(true)` when the closing SOA was in it.
    fn push_message(&mut self, bytes: &[u8]) -> Result<bool, TransferError> {
        let p = self.primary;
        let m = transfer_message(bytes, self.id, p, "transfer", &self.zone)?;
        let mut answers = m.answers.into_iter();
        while let Some(record) = answers.next() {
            if record.dns_class != DNSClass::IN {
                return Err(protocol(
                    p,
                    format!("record of class {} in the transfer", record.dns_class),
                ));
            }
            if !self.zone.zone_of(&record.name) {
                return Err(protocol(
                    p,
                    format!("{} is outside the zone {}", record.name, self.zone),
                ));
            }
            let soa_serial = match &record.data {
                RData::SOA(soa) if record.name.eq_ignore_root(&self.zone) => Some(soa.serial),
                _ => None,
            };
            match (self.serial, soa_serial) {
                (None, Some(serial)) => self.serial = Some(serial),
                (None, None) => {
                    return Err(protocol(
                        p,
                        "the transfer does not start with the zone's SOA",
                    ));
                }
                (Some(first), Some(last)) if first == last => {
                    if answers.next().is_some() {
                        return Err(protocol(p, "records after the closing SOA"));
                    }
                    return Ok(true);
                }
                (Some(first), Some(other)) => {
                    return Err(protocol(
                        p,
                        format!(
                            "a SOA with serial {other} inside a transfer of serial {first} (IXFR-style answer to AXFR?)"
                        ),
                    ));
                }
                (Some(_), None) => {}
            }
            let packed = SourcedRecord::from_record(&record, self.place.clone(), &mut self.scratch)
                .map_err(|e| protocol(p, format!("a record that cannot be kept: {e}")))?;
            self.records.push(packed);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, SOA};

    pub(super) fn soa(serial: u32) -> Record {
        let n = Name::from_ascii("example.org.").unwrap();
        Record::from_rdata(
            n.clone(),
            300,
            RData::SOA(SOA::new(n.clone(), n, serial, 1, 1, 1, 1)),
        )
    }

    pub(super) fn a(name: &str) -> Record {
        Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            300,
            RData::A(A::new(192, 0, 2, 1)),
        )
    }

    fn message(id: u16, records: Vec<Record>) -> Vec<u8> {
        let mut m = Message::new(id, MessageType::Response, OpCode::Query);
        m.metadata.authoritative = true;
        m.answers = records;
        m.to_vec().unwrap()
    }

    fn reader() -> AxfrReader {
        AxfrReader::new(
            Name::from_ascii("example.org.").unwrap(),
            7,
            "127.0.0.1:53".parse().unwrap(),
        )
    }

    #[test]
    fn reads_a_stream_split_over_messages() {
        let mut r = reader();
        assert!(
            !r.push_message(&message(7, vec![soa(5), a("a.example.org.")]))
                .unwrap()
        );
        assert!(
            r.push_message(&message(7, vec![a("b.example.org."), soa(5)]))
                .unwrap()
        );
        assert_eq!(
            r.records.len(),
            3,
            "SOA, a, b: the closing SOA is not repeated"
        );
    }

    #[test]
    fn rejects_bad_streams() {
        let e = reader()
            .push_message(&message(7, vec![a("a.example.org.")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not start with the zone's SOA"), "{e}");
        let e = reader()
            .push_message(&message(8, vec![soa(5)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("wrong ID"), "{e}");
        let e = reader()
            .push_message(&message(7, vec![soa(5), a("www.example.net.")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside the zone"), "{e}");
        let e = reader()
            .push_message(&message(7, vec![soa(5), soa(4)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("serial 4 inside a transfer of serial 5"), "{e}");
        let e = reader()
            .push_message(&message(
                7,
                vec![soa(5), a("a.example.org."), soa(5), a("b.example.org.")],
            ))
            .unwrap_err()
            .to_string();
        assert!(e.contains("after the closing SOA"), "{e}");
        let mut refused = Message::new(7, MessageType::Response, OpCode::Query);
        refused.metadata.response_code = ResponseCode::Refused;
        let e = reader()
            .push_message(&refused.to_vec().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("refused the transfer"), "{e}");
    }
}

/// What an IXFR brought.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per transfer; boxing buys nothing
pub enum IxfrOutcome {
    /// The primary has nothing newer (a single SOA).
    UpToDate,
    /// Differences to apply, oldest first, ending at the primary's version.
    Incremental {
        /// The diffs.
        diffs: Vec<IncomingDiff>,
        /// The new SOA.
        soa: Record,
    },
    /// The primary sent the whole zone (RFC 1995 4 allows it).
    Full(Vec<Record>),
}

/// One difference sequence of an IXFR.
#[derive(Debug, Default)]
pub struct IncomingDiff {
    /// The serial it applies to.
    pub from_serial: u32,
    /// The serial it produces.
    pub to_serial: u32,
    /// Records to delete.
    pub removed: Vec<Record>,
    /// Records to add.
    pub added: Vec<Record>,
}

/// Asks `primary` for the changes since `current_serial` by IXFR over TCP.
pub async fn ixfr(
    primary: SocketAddr,
    zone: &Name,
    current_soa: &Record,
    key: Option<&Arc<TsigKey>>,
    limits: TransferLimits,
    tls: Option<&XotClient>,
) -> Result<(IxfrOutcome, usize, usize), TransferError> {
    let started = Instant::now();
    let mut query = query_message(zone, RecordType::IXFR);
    query.authorities.push(current_soa.clone());
    let current_serial = match &current_soa.data {
        RData::SOA(soa) => soa.serial,
        _ => return Err(protocol(primary, "our current version has no SOA")),
    };
    let (bytes, mut verifier) = encode_signed(&query, key, primary)?;
    let mut stream = connect(primary, tls, limits.connect_timeout).await?;
    write_framed(&mut stream, &bytes, primary, limits.message_timeout).await?;
    let reader = IxfrReader::new(zone.clone(), query.metadata.id, primary, current_serial);
    read_stream(
        &mut stream,
        primary,
        limits,
        started,
        verifier.as_mut(),
        reader,
    )
    .await
}

/// Where an IXFR stream is (RFC 1995 4).
#[derive(Debug)]
enum IxfrState {
    /// Nothing read yet.
    Start,
    /// The new SOA read; the next record decides the format.
    AfterFirst,
    /// Inside a difference sequence, deleting.
    Removing,
    /// Inside a difference sequence, adding.
    Adding,
    /// An AXFR-style answer.
    Full,
}

impl StreamReader for AxfrReader {
    type Output = Vec<SourcedRecord>;

    fn push(&mut self, message: &[u8]) -> Result<Option<Vec<SourcedRecord>>, TransferError> {
        Ok(self
            .push_message(message)?
            .then(|| std::mem::take(&mut self.records)))
    }

    fn record_count(&self) -> usize {
        self.records.len()
    }
}

impl StreamReader for IxfrReader {
    type Output = IxfrOutcome;

    fn push(&mut self, message: &[u8]) -> Result<Option<IxfrOutcome>, TransferError> {
        self.push_message(message)
    }

    fn record_count(&self) -> usize {
        self.record_count
    }
}

struct IxfrReader {
    zone: Name,
    id: u16,
    primary: SocketAddr,
    ours: u32,
    new_soa: Option<Record>,
    new_serial: u32,
    state: IxfrState,
    diffs: Vec<IncomingDiff>,
    full: Vec<Record>,
    record_count: usize,
}

impl IxfrReader {
    fn new(zone: Name, id: u16, primary: SocketAddr, ours: u32) -> IxfrReader {
        IxfrReader {
            zone,
            id,
            primary,
            ours,
            new_soa: None,
            new_serial: 0,
            state: IxfrState::Start,
            diffs: Vec::new(),
            full: Vec::new(),
            record_count: 0,
        }
    }

    /// Takes one message; `Some` when the stream is complete.
    fn push_message(&mut self, bytes: &[u8]) -> Result<Option<IxfrOutcome>, TransferError> {
        let p = self.primary;
        let m = transfer_message(bytes, self.id, p, "IXFR", &self.zone)?;
        let count = m.answers.len();
        for (i, record) in m.answers.into_iter().enumerate() {
            let last_in_message = i + 1 == count;
            self.record_count += 1;
            if record.dns_class != DNSClass::IN || !self.zone.zone_of(&record.name) {
                return Err(protocol(
                    p,
                    format!(
                        "{} (class {}) does not belong in zone {}",
                        record.name, record.dns_class, self.zone
                    ),
                ));
            }
            let soa = match &record.data {
                RData::SOA(s) if record.name.eq_ignore_root(&self.zone) => Some(s.serial),
                _ => None,
            };
            match (&self.state, soa) {
                (IxfrState::Start, Some(serial)) => {
                    self.new_serial = serial;
                    self.new_soa = Some(record);
                    self.state = IxfrState::AfterFirst;
                    if last_in_message && !is_newer(serial, self.ours) {
                        return Ok(Some(IxfrOutcome::UpToDate));
                    }
                }
                (IxfrState::Start, None) => {
                    return Err(protocol(
                        p,
                        "the IXFR answer does not start with the zone's SOA",
                    ));
                }
                (IxfrState::AfterFirst, Some(serial)) if serial == self.ours => {
                    self.diffs.push(IncomingDiff {
                        from_serial: serial,
                        ..Default::default()
                    });
                    self.state = IxfrState::Removing;
                }
                (IxfrState::AfterFirst, Some(serial)) if serial == self.new_serial => {
                    // AXFR-style answer of a zone holding only its SOA.
                    return Ok(Some(IxfrOutcome::Full(
                        self.new_soa.iter().cloned().collect(),
                    )));
                }
                (IxfrState::AfterFirst, Some(serial)) => {
                    return Err(protocol(
                        p,
                        format!("IXFR starts from serial {serial}, we hold {}", self.ours),
                    ));
                }
                (IxfrState::AfterFirst, None) => {
                    self.full.extend(self.new_soa.iter().cloned());
                    self.full.push(record);
                    self.state = IxfrState::Full;
                }
                (IxfrState::Full, Some(serial)) if serial == self.new_serial => {
                    if !last_in_message {
                        return Err(protocol(p, "records after the closing SOA"));
                    }
                    return Ok(Some(IxfrOutcome::Full(std::mem::take(&mut self.full))));
                }
                (IxfrState::Full, Some(serial)) => {
                    return Err(protocol(
                        p,
                        format!("a SOA with serial {serial} inside an AXFR-style answer"),
                    ));
                }
                (IxfrState::Full, None) => self.full.push(record),
                (IxfrState::Removing, Some(serial)) => {
                    if let Some(d) = self.diffs.last_mut() {
                        d.to_serial = serial;
                    }
                    self.state = IxfrState::Adding;
                }
                (IxfrState::Removing, None) => {
                    if let Some(d) = self.diffs.last_mut() {
                        d.removed.push(record);
                    }
                }
                (IxfrState::Adding, None) => {
                    if let Some(d) = self.diffs.last_mut() {
                        d.added.push(record);
                    }
                }
                (IxfrState::Adding, Some(serial)) => {
                    let current_to = self.diffs.last().map_or(0, |d| d.to_serial);
                    if serial == self.new_serial && current_to == self.new_serial {
                        if !last_in_message {
                            return Err(protocol(p, "records after the closing SOA"));
                        }
                        let soa = self.new_soa.clone().ok_or_else(|| protocol(p, "no SOA"))?;
                        return Ok(Some(IxfrOutcome::Incremental {
                            diffs: std::mem::take(&mut self.diffs),
                            soa,
                        }));
                    }
                    if serial != current_to {
                        return Err(protocol(
                            p,
                            format!("IXFR sequences do not chain: {current_to} then {serial}"),
                        ));
                    }
                    self.diffs.push(IncomingDiff {
                        from_serial: serial,
                        ..Default::default()
                    });
                    self.state = IxfrState::Removing;
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod ixfr_tests {
    use super::tests::{a, soa};
    use super::*;

    fn message(records: Vec<Record>) -> Vec<u8> {
        let mut m = Message::new(9, MessageType::Response, OpCode::Query);
        m.answers = records;
        m.to_vec().unwrap()
    }

    fn reader(ours: u32) -> IxfrReader {
        IxfrReader::new(
            Name::from_ascii("example.org.").unwrap(),
            9,
            "127.0.0.1:53".parse().unwrap(),
            ours,
        )
    }

    #[test]
    fn reads_incremental_sequences_across_messages() {
        let mut r = reader(1);
        assert!(
            r.push(&message(vec![
                soa(3),
                soa(1),
                a("old.example.org."),
                soa(2)
            ]))
            .unwrap()
            .is_none()
        );
        let outcome = r
            .push(&message(vec![
                a("mid.example.org."),
                soa(2),
                soa(3),
                a("new.example.org."),
                soa(3),
            ]))
            .unwrap();
        match outcome {
            Some(IxfrOutcome::Incremental { diffs, soa }) => {
                assert_eq!(diffs.len(), 2);
                assert_eq!(
                    (
                        diffs[0].from_serial,
                        diffs[0].to_serial,
                        diffs[0].removed.len(),
                        diffs[0].added.len()
                    ),
                    (1, 2, 1, 1)
                );
                assert_eq!(
                    (
                        diffs[1].from_serial,
                        diffs[1].to_serial,
                        diffs[1].removed.len(),
                        diffs[1].added.len()
                    ),
                    (2, 3, 0, 1)
                );
                assert_eq!(soa.record_type(), RecordType::SOA);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_a_single_soa_as_up_to_date_and_axfr_style_as_full() {
        assert!(matches!(
            reader(5).push(&message(vec![soa(5)])).unwrap(),
            Some(IxfrOutcome::UpToDate)
        ));
        let full = reader(1)
            .push(&message(vec![
                soa(2),
                a("a.example.org."),
                a("b.example.org."),
                soa(2),
            ]))
            .unwrap();
        assert!(matches!(full, Some(IxfrOutcome::Full(records)) if records.len() == 3));
    }

    #[test]
    fn rejects_sequences_that_do_not_start_at_our_serial_or_do_not_chain() {
        let e = reader(1)
            .push(&message(vec![soa(3), soa(2), soa(3), soa(3)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("starts from serial 2, we hold 1"), "{e}");
        let e = reader(1)
            .push(&message(vec![
                soa(4),
                soa(1),
                soa(2),
                soa(3),
                soa(4),
                soa(4),
            ]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("do not chain"), "{e}");
    }
}

/// Feeds transfer messages to the AXFR and the IXFR reader, as a transfer of
/// `zone` with query ID `id` from a secondary holding serial `ours` would.
/// Returns what each reader made of them: `Ok(None)` while incomplete.
/// An entry point for the fuzz targets (`fuzz/`) and property tests; the
/// server does not use it.
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn read_transfer_messages(
    zone: &Name,
    id: u16,
    ours: u32,
    messages: &[&[u8]],
) -> (
    Result<Option<Vec<Record>>, TransferError>,
    Result<Option<IxfrOutcome>, TransferError>,
) {
    let primary = SocketAddr::from(([127, 0, 0, 1], 53));
    let axfr = feed(AxfrReader::new(zone.clone(), id, primary), messages)
        .map(|done| done.map(|records| records.iter().map(SourcedRecord::record).collect()));
    (
        axfr,
        feed(IxfrReader::new(zone.clone(), id, primary, ours), messages),
    )
}

/// Feeds `messages` to `reader` until it completes or they run out.
fn feed<R: StreamReader>(
    mut reader: R,
    messages: &[&[u8]],
) -> Result<Option<R::Output>, TransferError> {
    for message in messages {
        if let Some(output) = reader.push(message)? {
            return Ok(Some(output));
        }
    }
    Ok(None)
}
