//! `GET https://S/.well-known/matrix/server` as a homeserver does it: HTTPS
//! with normal X.509 checks (rustls with the ring provider; Mozilla's roots,
//! or only a lab CA given with `--ca`), HTTP/1.1, redirects followed without
//! loops, the body cut off at 50 KiB, and every request bounded in time.
//!
//! The host is found with the same [`Resolver`] as the rest of resolution
//! (A and AAAA of S), unless [`FetchOptions::connect_to`] says where to
//! connect instead (like curl's `--connect-to`, for a lab web server on a
//! port other than 443). Only the HTTP client this needs is here: one
//! request per connection, `Connection: close`, identity encoding.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, RecordType};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName as TlsName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::dns::{DnsError, Lookup, Resolver, lookup};
use super::well_known::MAX_BODY_BYTES;

/// How many redirects a fetch follows.
pub const MAX_REDIRECTS: usize = 10;
/// The most bytes of a response head (status line and headers) read.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The path every homeserver asks for.
pub const WELL_KNOWN_PATH: &str = "/.well-known/matrix/server";

/// The fetch cannot even be set up (a bad `--ca` file).
#[derive(Debug, thiserror::Error)]
pub enum FetchSetupError {
    /// The CA file could not be read.
    #[error("{path}: cannot read the CA certificates: {reason}")]
    CaRead {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The CA file holds no usable certificate.
    #[error(
        "{path}: no CA certificate in it (expected PEM \"-----BEGIN CERTIFICATE-----\" blocks)"
    )]
    CaEmpty {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused the configuration.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// How to fetch: trust, where to connect, how long to wait.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// The TLS client configuration (trust anchors included).
    pub tls: Arc<ClientConfig>,
    /// Connect every request here instead of to the resolved host:443.
    pub connect_to: Option<SocketAddr>,
    /// The most one request (connect, handshake, response) may take.
    pub timeout: Duration,
}

impl FetchOptions {
    /// Options trusting the PEM certificates in `ca_file` only (a lab's
    /// private CA, like Synapse's `federation_custom_ca_list`), or Mozilla's
    /// roots when `ca_file` is `None`.
    pub fn new(
        ca_file: Option<&Path>,
        connect_to: Option<SocketAddr>,
        timeout: Duration,
    ) -> Result<FetchOptions, FetchSetupError> {
        let roots = match ca_file {
            Some(path) => {
                let read_error = |reason: String| FetchSetupError::CaRead {
                    path: path.to_owned(),
                    reason,
                };
                let pem = std::fs::read(path).map_err(|e| read_error(e.to_string()))?;
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| read_error(format!("bad PEM: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| read_error(format!("not a usable CA certificate: {e}")))?;
                }
                if roots.is_empty() {
                    return Err(FetchSetupError::CaEmpty {
                        path: path.to_owned(),
                    });
                }
                roots
            }
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        let tls =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| FetchSetupError::Tls(e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(FetchOptions {
            tls: Arc::new(tls),
            connect_to,
            timeout,
        })
    }
}

/// What a fetch saw. `error` set means the `.well-known` failed (a
/// homeserver goes on at step 4); otherwise `body` is the 200 response's.
#[derive(Clone, Debug, Default)]
pub struct Fetched {
    /// The last URL asked.
    pub url: String,
    /// The URLs that redirected, in order.
    pub redirects: Vec<String>,
    /// The last HTTP status.
    pub status: Option<u16>,
    /// The body of the 200 response.
    pub body: Option<Vec<u8>>,
    /// DNS lookups made to find the web servers.
    pub lookups: Vec<Lookup>,
    /// Why the fetch failed.
    pub error: Option<String>,
}

/// An `https://` URL, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// The host (an IPv6 address without brackets).
    pub host: String,
    /// The port (443 unless given).
    pub port: u16,
    /// The path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// `https://host[:port]/path`.
    pub fn to_text(&self) -> String {
        format!("https://{}{}", self.authority(), self.path)
    }

    /// `host` or `host:port` (brackets around IPv6), as the `Host` header wants it.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Parses an absolute `https://` URL (no user info).
pub fn parse_url(text: &str) -> Result<Url, String> {
    let rest = match text.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => &text[8..],
        _ if text.to_ascii_lowercase().starts_with("http://") => {
            return Err(format!(
                "{text} is plain http: homeservers fetch .well-known over HTTPS only"
            ));
        }
        _ => return Err(format!("{text} is not an https:// URL")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = path.split('#').next().unwrap_or("");
    let path = if path.is_empty() {
        "/".to_owned()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    if authority.contains('@') {
        return Err(format!("{text}: user names in URLs are not followed"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{text}: unclosed '['"))?;
        (host.to_owned(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("{text} has no host"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{text}: bad port {p:?}"))?,
        None => 443,
    };
    Ok(Url { host, port, path })
}

/// The URL a `Location` header points to, relative to `base`.
pub fn resolve_location(base: &Url, location: &str) -> Result<Url, String> {
    let location = location.trim();
    if location.contains("://") {
        return parse_url(location);
    }
    if let Some(rest) = location.strip_prefix("//") {
        return parse_url(&format!("https://{rest}"));
    }
    let path = if location.starts_with('/') {
        location.to_owned()
    } else {
        let dir = base.path.split('?').next().unwrap_or("/");
        let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{location}")
    };
    Ok(Url {
        host: base.host.clone(),
        port: base.port,
        path,
    })
}

/// Fetches `https://host/.well-known/matrix/server`, following redirects.
/// DNS transport errors are returned as errors; everything else that goes
/// wrong is reported in [`Fetched::error`].
pub fn fetch_well_known(
    options: &FetchOptions,
    host: &str,
    resolver: &dyn Resolver,
) -> Result<Fetched, DnsError> {
    let mut fetched = Fetched::default();
    let mut url = Url {
        host: host.to_owned(),
        port: 443,
        path: WELL_KNOWN_PATH.to_owned(),
    };
    let mut visited: Vec<String> = Vec::new();
    for _ in 0..=MAX_REDIRECTS {
        let text = url.to_text();
        fetched.url = text.clone();
        if visited.contains(&text) {
            fetched.error = Some(format!("redirect loop: {text} was already visited"));
            return Ok(fetched);
        }
        visited.push(text.clone());
        let addresses = match (options.connect_to, url.host.parse::<IpAddr>()) {
            (Some(addr), _) => vec![addr],
            (None, Ok(ip)) => vec![SocketAddr::new(ip, url.port)],
            (None, Err(_)) => {
                let ips = web_server_addresses(&url.host, resolver, &mut fetched.lookups)?;
                if ips.is_empty() {
                    fetched.error = Some(format!(
                        "{}: the host {} has no A or AAAA records",
                        text, url.host
                    ));
                    return Ok(fetched);
                }
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, url.port))
                    .collect()
            }
        };
        let response = match get(options, &url, &addresses) {
            Ok(r) => r,
            Err(e) => {
                fetched.error = Some(format!("{text}: {e}"));
                return Ok(fetched);
            }
        };
        fetched.status = Some(response.status);
        match response.status {
            200 => {
                match response.body {
                    Ok(body) => fetched.body = Some(body),
                    Err(e) => fetched.error = Some(format!("{text}: {e}")),
                }
                return Ok(fetched);
            }
            301 | 302 | 303 | 307 | 308 => {
                let Some(location) = response.location else {
                    fetched.error = Some(format!(
                        "{text}: redirect {} without a Location header",
                        response.status
                    ));
                    return Ok(fetched);
                };
                match resolve_location(&url, &location) {
                    Ok(next) => {
                        fetched.redirects.push(text);
                        url = next;
                    }
                    Err(e) => {
                        fetched.error = Some(format!("{text}: redirect {}: {e}", response.status));
                        return Ok(fetched);
                    }
                }
            }
            status => {
                fetched.error = Some(format!(
                    "{text}: HTTP status {status}; homeservers need 200"
                ));
                return Ok(fetched);
            }
        }
    }
    fetched.error = Some(format!("more than {MAX_REDIRECTS} redirects"));
    Ok(fetched)
}

/// A and AAAA of the web server's host.
fn web_server_addresses(
    host: &str,
    resolver: &dyn Resolver,
    lookups: &mut Vec<Lookup>,
) -> Result<Vec<IpAddr>, DnsError> {
    let Ok(mut name) = Name::from_ascii(host) else {
        return Ok(Vec::new());
    };
    name.set_fqdn(true);
    let mut ips = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let l = lookup(resolver, &name, rtype)?;
        ips.extend(l.addresses());
        lookups.push(l);
    }
    Ok(ips)
}

/// One HTTP response, as far as the fetch reads it.
#[derive(Debug)]
struct Response {
    status: u16,
    location: Option<String>,
    body: Result<Vec<u8>, String>,
}

/// Connects to the first address that answers and asks for `url`.
fn get(options: &FetchOptions, url: &Url, addresses: &[SocketAddr]) -> Result<Response, String> {
    let deadline = Instant::now() + options.timeout;
    let mut errors = Vec::new();
    for addr in addresses {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            errors.push(format!("{addr}: no time left"));
            break;
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(tcp) => return exchange(options, url, *addr, tcp, deadline),
            Err(e) => errors.push(format!("cannot connect to {addr}: {e}")),
        }
    }
    Err(errors.join("; "))
}

fn exchange(
    options: &FetchOptions,
    url: &Url,
    addr: SocketAddr,
    tcp: TcpStream,
    deadline: Instant,
) -> Result<Response, String> {
    let timed = |what: &str, e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            format!("{what} {addr}: no answer within {:?}", options.timeout)
        } else {
            format!("{what} {addr}: {e}")
        }
    };
    let name = TlsName::try_from(url.host.clone())
        .map_err(|e| format!("{} is not a name TLS can check: {e}", url.host))?;
    let conn =
        ClientConnection::new(Arc::clone(&options.tls), name).map_err(|e| format!("TLS: {e}"))?;
    let mut stream = StreamOwned::new(conn, tcp);
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    stream
        .sock
        .set_write_timeout(Some(left))
        .map_err(|e| timed("TLS with", e))?;
    stream
        .sock
        .set_read_timeout(Some(left))
        .map_err(|e| timed("TLS with", e))?;
    // Finish the handshake first, so that a certificate problem is reported as one.
    for _ in 0..64 {
        if !stream.conn.is_handshaking() {
            break;
        }
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|e| timed("TLS handshake with", e))?;
    }
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: fedns-explain\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
        url.path,
        url.authority()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| timed("sending the request to", e))?;
    stream
        .flush()
        .map_err(|e| timed("sending the request to", e))?;
    let mut reader = BufReader::new(DeadlineReader { stream, deadline });
    let head =
        read_head(&mut reader).map_err(|e| format!("reading the response from {addr}: {e}"))?;
    let body = if head.status == 200 {
        read_body(&mut reader, &head).map_err(|e| format!("reading the body from {addr}: {e}"))
    } else {
        Ok(Vec::new())
    };
    Ok(Response {
        status: head.status,
        location: head.header("location").map(str::to_owned),
        body,
    })
}

/// A TLS stream whose every read waits at most until the deadline.
struct DeadlineReader {
    stream: StreamOwned<ClientConnection, TcpStream>,
    deadline: Instant,
}

impl Read for DeadlineReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the response took too long",
            ));
        }
        self.stream.sock.set_read_timeout(Some(left))?;
        match self.stream.read(buf) {
            // A server that closes without close_notify ends the body all the same.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
            other => other,
        }
    }
}

/// The status line and headers of a response.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn io_text(e: std::io::Error) -> String {
    if matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ) {
        "the response took too long".to_owned()
    } else {
        e.to_string()
    }
}

/// Reads one line (up to `limit` bytes) without its CRLF.
fn read_line(reader: &mut impl BufRead, limit: usize) -> Result<String, String> {
    let mut line = Vec::new();
    let n = reader
        .take(limit as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(io_text)?;
    if n == 0 {
        return Err("the connection closed early".into());
    }
    if !line.ends_with(b"\n") {
        return Err(format!("a line longer than {limit} bytes"));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| "a header line that is not text".to_owned())
}

/// Reads the status line and headers (at most [`MAX_HEAD_BYTES`] in all).
pub fn read_head(reader: &mut impl BufRead) -> Result<Head, String> {
    let mut budget = MAX_HEAD_BYTES;
    let status_line = read_line(reader, budget)?;
    budget = budget.saturating_sub(status_line.len() + 2);
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let status = match status {
        Some(s) if version.starts_with("HTTP/1.") && (100..600).contains(&s) => s,
        _ => {
            return Err(format!(
                "not an HTTP/1.x response: {:?}",
                truncate(&status_line, 60)
            ));
        }
    };
    let mut headers = Vec::new();
    loop {
        if budget == 0 {
            return Err(format!("the headers are over {MAX_HEAD_BYTES} bytes"));
        }
        let line = read_line(reader, budget)?;
        budget = budget.saturating_sub(line.len() + 2);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line {:?}", truncate(&line, 60)));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Head { status, headers })
}

/// Reads the body of a response, chunked or not, failing past [`MAX_BODY_BYTES`].
pub fn read_body(reader: &mut impl BufRead, head: &Head) -> Result<Vec<u8>, String> {
    let too_large = || {
        format!(
            "the body is over {MAX_BODY_BYTES} bytes (50 KiB): homeservers stop reading there and treat the .well-known as invalid"
        )
    };
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            let size_line = read_line(reader, 1024)?;
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            if size == 0 {
                break;
            }
            if body.len() + size > MAX_BODY_BYTES {
                return Err(too_large());
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).map_err(io_text)?;
            read_line(reader, 2)?;
        }
        return Ok(body);
    }
    if let Some(length) = head.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        if length > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.resize(length, 0);
        reader.read_exact(&mut body).map_err(io_text)?;
        return Ok(body);
    }
    reader
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body)
        .map_err(io_text)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(body)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_print() {
        let u = parse_url("https://matrix.example.org/.well-known/matrix/server").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("matrix.example.org", 443, "/.well-known/matrix/server")
        );
        assert_eq!(
            u.to_text(),
            "https://matrix.example.org/.well-known/matrix/server"
        );
        let u = parse_url("HTTPS://[2001:db8::1]:8443?x#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("2001:db8::1", 8443, "/?x")
        );
        assert_eq!(u.authority(), "[2001:db8::1]:8443");
        assert!(
            parse_url("http://example.org/")
                .unwrap_err()
                .contains("plain http")
        );
        assert!(
            parse_url("ftp://example.org/")
                .unwrap_err()
                .contains("not an https")
        );
        assert!(parse_url("https://u@example.org/").is_err());
        assert!(parse_url("https://example.org:0/").is_err());
        assert!(parse_url("https:///x").is_err());
    }

    #[test]
    fn locations_resolve_against_the_base() {
        let base = parse_url("https://example.org/.well-known/matrix/server").unwrap();
        assert_eq!(
            resolve_location(&base, "/other").unwrap().to_text(),
            "https://example.org/other"
        );
        assert_eq!(
            resolve_location(&base, "srv2").unwrap().to_text(),
            "https://example.org/.well-known/matrix/srv2"
        );
        assert_eq!(
            resolve_location(&base, "//www.example.org/x")
                .unwrap()
                .to_text(),
            "https://www.example.org/x"
        );
        assert_eq!(
            resolve_location(&base, "https://www.example.org:8443/y")
                .unwrap()
                .to_text(),
            "https://www.example.org:8443/y"
        );
        assert!(resolve_location(&base, "http://www.example.org/").is_err());
    }

    #[test]
    fn heads_and_bodies_are_read_within_limits() {
        let raw =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello";
        let mut r = &raw[..];
        let head = read_head(&mut r).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("content-type"), Some("application/json"));
        assert_eq!(read_body(&mut r, &head).unwrap(), b"hello");

        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let mut r = &raw[..];
        let head = read_head(&mut r).unwrap();
        assert_eq!(read_body(&mut r, &head).unwrap(), b"abcde");

        let raw = b"HTTP/1.0 200 OK\r\n\r\nuntil close";
        let mut r = &raw[..];
        let head = read_head(&mut r).unwrap();
        assert_eq!(read_body(&mut r, &head).unwrap(), b"until close");
    }

    #[test]
    fn oversized_bodies_and_bad_heads_fail() {
        let raw = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        let mut r = raw.as_bytes();
        let head = read_head(&mut r).unwrap();
        assert!(read_body(&mut r, &head).unwrap_err().contains("50 KiB"));

        let raw = format!("HTTP/1.1 200 OK\r\n\r\n{}", "x".repeat(MAX_BODY_BYTES + 10));
        let mut r = raw.as_bytes();
        let head = read_head(&mut r).unwrap();
        assert!(read_body(&mut r, &head).unwrap_err().contains("50 KiB"));

        let raw = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            MAX_BODY_BYTES + 1,
            "x".repeat(MAX_BODY_BYTES + 1)
        );
        let mut r = raw.as_bytes();
        let head = read_head(&mut r).unwrap();
        assert!(read_body(&mut r, &head).unwrap_err().contains("50 KiB"));

        assert!(
            read_head(&mut &b"SSH-2.0-OpenSSH\r\n"[..])
                .unwrap_err()
                .contains("not an HTTP")
        );
        let long = format!(
            "HTTP/1.1 200 OK\r\nX: {}\r\n\r\n",
            "y".repeat(MAX_HEAD_BYTES)
        );
        assert!(read_head(&mut long.as_bytes()).is_err());
        assert!(
            read_head(&mut &b"HTTP/1.1 200 OK\r\nX-No-End: 1\r\n"[..])
                .unwrap_err()
                .contains("closed early")
        );
    }

    #[test]
    fn a_missing_ca_file_is_a_setup_error() {
        let e = FetchOptions::new(
            Some(Path::new("/nonexistent/lab-ca.pem")),
            None,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("/nonexistent/lab-ca.pem: cannot read"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("fedns-fetch-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let empty = dir.join("empty.pem");
        let _ = std::fs::write(&empty, "not a certificate\n");
        let e = FetchOptions::new(Some(&empty), None, Duration::from_secs(1)).unwrap_err();
        assert!(e.to_string().contains("no CA certificate"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(FetchOptions::new(None, None, Duration::from_secs(1)).is_ok());
    }
}
