//! The one HTTPS client: `fedns explain --fetch`, `fedns check
//! --fetch-well-known` and the live probe all connect through it.
//!
//! [`connect_tls`] makes a TLS handshake that records the chain the server
//! presents and the verdict of the usual (webpki) verification, and goes on
//! either way, so that a caller judges the name and the chain separately (as
//! the probe's LIVE003/LIVE004/LIVE005 need) or refuses an invalid one (as a
//! homeserver fetching `.well-known` does). [`TlsSession::get`] sends one
//! HTTP/1.1 request with `Connection: close` and reads the response by RFC
//! 9112: `Transfer-Encoding: chunked`, else `Content-Length`, else until the
//! connection closes; bodies are capped (homeservers read at most 50 KiB of
//! `.well-known`), and every read is bounded by a deadline.
//!
//! Written on rustls directly because the recording verifier is the point:
//! an HTTP crate would hide the presented chain behind its own verification.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

pub use crate::proto::tls::Presented;
use crate::proto::tls::RecordingVerifier;

/// The longest status line plus headers the client reads.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The default body cap (the `.well-known` limit of Synapse and Dendrite).
pub const DEFAULT_BODY_CAP: usize = 50 * 1024;
/// Most interim (1xx) responses skipped before the final one.
const MAX_INTERIM: usize = 4;

/// Why a TLS connection could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// TCP connect failed (refused, unreachable, timeout).
    #[error("TCP connect to {addr} failed: {message}")]
    Tcp {
        /// The address.
        addr: SocketAddr,
        /// What happened.
        message: String,
    },
    /// The TLS handshake failed (alert, EOF, timeout, protocol error).
    #[error("TLS handshake with {addr} failed: {message}")]
    Handshake {
        /// The address.
        addr: SocketAddr,
        /// What happened.
        message: String,
    },
    /// The server speaks no TLS version the client offers (1.2, 1.3): it
    /// answered with a `protocol_version` alert or an older ServerHello.
    #[error("TLS handshake with {addr} failed: {message}")]
    OldProtocol {
        /// The address.
        addr: SocketAddr,
        /// What happened.
        message: String,
    },
    /// The name cannot be sent as SNI.
    #[error("{0} cannot be used as a TLS server name")]
    BadName(String),
}

/// Why an HTTP exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A socket or TLS error, or the deadline passed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The response is not HTTP/1.x.
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
}

/// An established TLS connection and what the server presented.
pub struct TlsSession {
    stream: StreamOwned<ClientConnection, TcpStream>,
    /// The chain and the verdict.
    pub presented: Presented,
    deadline: Instant,
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("presented", &self.presented.chain.len())
            .finish()
    }
}

/// Connects to `addr` and handshakes with `name` as SNI (none for an IP
/// address), verifying against `roots` but completing the handshake anyway
/// ([`Presented::problem`] holds the verdict). Every step is bounded by
/// `timeout`.
pub fn connect_tls(
    addr: SocketAddr,
    name: &ServerName<'static>,
    roots: &Arc<RootCertStore>,
    timeout: Duration,
) -> Result<TlsSession, ConnectError> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(RecordingVerifier::new(Some(roots), &provider));
    let handshake_error = |message: String| ConnectError::Handshake { addr, message };
    let mut config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| handshake_error(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&verifier) as Arc<dyn ServerCertVerifier>)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut conn = ClientConnection::new(Arc::new(config), name.clone())
        .map_err(|e| handshake_error(e.to_string()))?;
    let deadline = Instant::now() + timeout;
    let mut tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| ConnectError::Tcp {
        addr,
        message: describe_io(&e),
    })?;
    let setup = |tcp: &TcpStream| -> io::Result<()> {
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        tcp.set_nodelay(true)
    };
    setup(&tcp).map_err(|e| ConnectError::Tcp {
        addr,
        message: e.to_string(),
    })?;
    // Bounded: each round trip moves the handshake on or fails; 32 is far more than TLS needs.
    for _ in 0..32 {
        if !conn.is_handshaking() {
            break;
        }
        if Instant::now() > deadline {
            return Err(handshake_error(format!("no handshake within {timeout:?}")));
        }
        match conn.complete_io(&mut tcp) {
            Ok((0, 0)) => {
                return Err(handshake_error(
                    "the server closed the connection during the handshake".into(),
                ));
            }
            Ok(_) => {}
            Err(e) if is_old_protocol(&e) => {
                return Err(ConnectError::OldProtocol {
                    addr,
                    message: describe_io(&e),
                });
            }
            Err(e) => return Err(handshake_error(describe_io(&e))),
        }
    }
    if conn.is_handshaking() {
        return Err(handshake_error("the handshake did not complete".into()));
    }
    let presented = verifier.presented();
    Ok(TlsSession {
        stream: StreamOwned::new(conn, tcp),
        presented,
        deadline: Instant::now() + timeout,
    })
}

/// True when a handshake failed because the server speaks only TLS below
/// 1.2 (RFC 8996 deprecates 1.0 and 1.1).
fn is_old_protocol(e: &io::Error) -> bool {
    use rustls::{AlertDescription, PeerIncompatible};
    matches!(
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::AlertReceived(
            AlertDescription::ProtocolVersion
        )) | Some(rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
                | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
        ))
    )
}

fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "timed out".into(),
        io::ErrorKind::UnexpectedEof => "the server closed the connection (EOF)".into(),
        _ => e.to_string(),
    }
}

/// A response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body, at most the cap.
    pub body: Vec<u8>,
    /// The body was longer than the cap.
    pub over_cap: bool,
}

impl HttpResponse {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A reader that fails once its deadline has passed.
struct DeadlineReader<R> {
    inner: R,
    deadline: Instant,
}

impl<R: Read> Read for DeadlineReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() > self.deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "response not complete before the deadline",
            ));
        }
        match self.inner.read(buf) {
            // A close without close_notify ends a body read "until close" all the same.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            other => other,
        }
    }
}

impl TlsSession {
    /// Sends `GET path` with `Host: host` and reads the response, the body
    /// capped at `cap` bytes. The session is used up (`Connection: close`).
    pub fn get(
        mut self,
        host: &str,
        path: &str,
        cap: usize,
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fedns/{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        self.stream.write_all(request.as_bytes())?;
        self.stream.flush()?;
        let deadline = self.deadline.max(Instant::now() + timeout);
        let mut reader = BufReader::new(DeadlineReader {
            inner: self.stream,
            deadline,
        });
        read_response(&mut reader, cap)
    }
}

/// Reads one HTTP/1.1 response (skipping interim 1xx responses).
pub fn read_response<R: BufRead>(reader: &mut R, cap: usize) -> Result<HttpResponse, HttpError> {
    for _ in 0..=MAX_INTERIM {
        let (status, headers) = read_head(reader)?;
        if (100..200).contains(&status) {
            continue;
        }
        let mut response = HttpResponse {
            status,
            headers,
            body: Vec::new(),
            over_cap: false,
        };
        if status == 204 || status == 304 {
            return Ok(response);
        }
        let chunked = response.header("transfer-encoding").is_some_and(|te| {
            te.to_ascii_lowercase()
                .split(',')
                .any(|t| t.trim() == "chunked")
        });
        let (body, over) = if chunked {
            read_chunked(reader, cap)?
        } else if let Some(len) = response.header("content-length") {
            let len: u64 = len
                .trim()
                .parse()
                .map_err(|_| HttpError::Malformed(format!("bad Content-Length {len:?}")))?;
            read_capped(&mut reader.take(len), cap)?
        } else {
            read_capped(reader, cap)?
        };
        response.body = body;
        response.over_cap = over;
        return Ok(response);
    }
    Err(HttpError::Malformed(
        "too many interim (1xx) responses".into(),
    ))
}

/// Reads the status line and headers.
fn read_head<R: BufRead>(reader: &mut R) -> Result<(u16, Vec<(String, String)>), HttpError> {
    let mut total = 0;
    let status_line = read_line(reader, &mut total)?;
    if status_line.is_empty() {
        return Err(HttpError::Malformed(
            "the server closed the connection without a response".into(),
        ));
    }
    let status = parse_status_line(&status_line)?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut total)?;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    Ok((status, headers))
}

/// One CRLF- (or LF-) terminated line without its terminator; counts bytes
/// against [`MAX_HEADER_BYTES`].
fn read_line<R: BufRead>(reader: &mut R, total: &mut usize) -> Result<String, HttpError> {
    let mut line = Vec::new();
    let limit = (MAX_HEADER_BYTES.saturating_sub(*total) + 1) as u64;
    reader.take(limit).read_until(b'\n', &mut line)?;
    *total += line.len();
    if *total > MAX_HEADER_BYTES {
        return Err(HttpError::Malformed(format!(
            "headers longer than {MAX_HEADER_BYTES} bytes"
        )));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// The status code of `HTTP/1.x NNN reason`.
pub fn parse_status_line(line: &str) -> Result<u16, HttpError> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        let shown: String = line.chars().take(60).collect();
        return Err(HttpError::Malformed(format!(
            "not an HTTP/1.x status line: {shown:?}"
        )));
    }
    code.parse()
        .map_err(|_| HttpError::Malformed(format!("bad status code {code:?}")))
}

/// Reads up to `cap` bytes, then checks whether more follow.
fn read_capped<R: Read>(reader: &mut R, cap: usize) -> Result<(Vec<u8>, bool), HttpError> {
    let mut body = Vec::new();
    reader.take(cap as u64 + 1).read_to_end(&mut body)?;
    let over = body.len() > cap;
    body.truncate(cap);
    Ok((body, over))
}

/// Decodes a chunked body (RFC 9112 7.1), keeping at most `cap` bytes.
fn read_chunked<R: BufRead>(reader: &mut R, cap: usize) -> Result<(Vec<u8>, bool), HttpError> {
    let mut body = Vec::new();
    let mut over = false;
    let mut total = 0;
    // Bounded: the loop stops once the body passes the cap or the last chunk arrives.
    loop {
        let size_line = read_line(reader, &mut total)?;
        total = 0;
        let size_text = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Malformed(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers until the empty line.
            for _ in 0..64 {
                if read_line(reader, &mut total)?.is_empty() {
                    break;
                }
            }
            return Ok((body, over));
        }
        let room = cap.saturating_sub(body.len());
        let mut chunk = Vec::new();
        reader.take(size as u64).read_to_end(&mut chunk)?;
        if chunk.len() < size {
            return Err(HttpError::Malformed(
                "the connection closed inside a chunk".into(),
            ));
        }
        if chunk.len() > room {
            over = true;
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, over));
        }
        body.extend_from_slice(&chunk);
        read_line(reader, &mut total)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str, cap: usize) -> HttpResponse {
        read_response(&mut raw.as_bytes(), cap).unwrap()
    }

    #[test]
    fn reads_content_length_bodies() {
        let r = parse(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}extra",
            100,
        );
        assert_eq!(
            (r.status, r.body.as_slice(), r.over_cap),
            (200, b"{}".as_slice(), false)
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
    }

    #[test]
    fn reads_chunked_bodies_with_extensions_and_trailers() {
        let r = parse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n",
            100,
        );
        assert_eq!(r.body, b"{\"a\":1}");
        assert!(!r.over_cap);
    }

    #[test]
    fn reads_until_close_without_length() {
        let r = parse("HTTP/1.0 404 Not Found\r\n\r\n<html>nope</html>", 100);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (404, b"<html>nope</html>".as_slice())
        );
    }

    #[test]
    fn caps_bodies_and_says_so() {
        let big = "x".repeat(200);
        let r = parse(
            &format!("HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n{big}"),
            50,
        );
        assert_eq!((r.body.len(), r.over_cap), (50, true));
        let r = parse(
            &format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nc8\r\n{big}\r\n0\r\n\r\n"
            ),
            50,
        );
        assert_eq!((r.body.len(), r.over_cap), (50, true));
        let r = parse(&format!("HTTP/1.1 200 OK\r\n\r\n{big}"), 200);
        assert_eq!((r.body.len(), r.over_cap), (200, false));
    }

    #[test]
    fn skips_interim_responses() {
        let r = parse(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            10,
        );
        assert_eq!(r.status, 204);
    }

    #[test]
    fn rejects_what_is_not_http() {
        assert!(read_response(&mut b"SSH-2.0-OpenSSH\r\n\r\n".as_slice(), 10).is_err());
        assert!(read_response(&mut b"".as_slice(), 10).is_err());
        assert!(
            read_response(
                &mut b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".as_slice(),
                10
            )
            .is_err()
        );
        let endless_header = format!(
            "HTTP/1.1 200 OK\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEADER_BYTES)
        );
        assert!(read_response(&mut endless_header.as_bytes(), 10).is_err());
    }
}
