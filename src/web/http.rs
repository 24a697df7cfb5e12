//! The HTTP/1.1 server under the metrics endpoint and the dashboard: one
//! request per connection, `GET` and `HEAD` only, everything bounded.
//!
//! Written by hand because what it serves is tiny and read-only: a request
//! line and headers read with a size and time limit, one response, close.
//! A framework (hyper, axum) would bring a hundred crates for that. Limits:
//!
//! - a request head of at most [`MAX_REQUEST_HEAD`] bytes (431 beyond), read
//!   within [`READ_TIMEOUT`] (the connection is closed after it);
//! - at most [`MAX_CONNECTIONS`] connections at once (more wait in the
//!   kernel's accept queue);
//! - the handler runs on the blocking pool, one at a time per listener, so
//!   rendering a page never holds up the runtime that answers DNS;
//! - the response is written within [`WRITE_TIMEOUT`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tracing::debug;

/// The longest request head read (request line and headers).
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// How long a client has to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing the response may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections handled at once per listener.
pub const MAX_CONNECTIONS: usize = 64;

/// A request, as far as these endpoints care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET` or `HEAD`.
    pub method: String,
    /// The path, percent-decoded, without the query.
    pub path: String,
    /// The query's `name=value` pairs, percent-decoded (`+` is a space).
    pub query: Vec<(String, String)>,
}

impl Request {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: String,
}

impl Response {
    /// A response with `status`, `content_type` and `body`.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Plain text.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    /// With one more header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// The bytes on the wire; without the body for `HEAD`.
    pub fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(self.body.as_bytes());
        }
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Why a request head is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not `METHOD TARGET HTTP/1.x`.
    #[error("bad request line {0:?}")]
    BadRequestLine(String),
    /// A method other than GET and HEAD.
    #[error("method {0} not allowed")]
    Method(String),
}

impl RequestError {
    fn response(&self) -> Response {
        match self {
            RequestError::BadRequestLine(_) => Response::text(400, "bad request\n"),
            RequestError::Method(_) => {
                Response::text(405, "only GET and HEAD\n").header("Allow", "GET, HEAD")
            }
        }
    }
}

/// Parses the request line of `head` (the bytes before the blank line).
pub fn parse_request(head: &str) -> Result<Request, RequestError> {
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::BadRequestLine(shorten(line)));
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(RequestError::BadRequestLine(shorten(line)));
    }
    if method != "GET" && method != "HEAD" {
        return Err(RequestError::Method(shorten(method)));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Ok(Request {
        method: method.to_owned(),
        path: percent_decode(path),
        query,
    })
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

/// Decodes `%XX` escapes and `+` (a space, as forms send it); invalid
/// escapes and bytes that are not UTF-8 are kept as they are / replaced.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a listener answers with.
pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// Serves `handler` on `addr` until `shutdown`; returns the bound address.
/// `what` names the endpoint in logs.
pub async fn serve(
    addr: SocketAddr,
    what: &'static str,
    handler: Handler,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let rendering = Arc::new(Semaphore::new(1));
    tokio::spawn(async move {
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&connections).acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => return,
                },
                _ = shutdown.changed() => return,
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        debug!(error = %e, "{what}: accept error");
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            let handler = Arc::clone(&handler);
            let rendering = Arc::clone(&rendering);
            tokio::spawn(async move {
                let _permit = permit;
                if let Err(e) = exchange(stream, handler, rendering).await {
                    debug!(%peer, error = %e, "{what}: request not answered");
                }
            });
        }
    });
    Ok(local)
}

/// One request, one response.
async fn exchange(
    mut stream: TcpStream,
    handler: Handler,
    rendering: Arc<Semaphore>,
) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            let response = Response::text(431, "request head too large\n");
            write(&mut stream, &response.to_bytes(false)).await?;
            return lingering_close(stream).await;
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            let response = Response::text(408, "request not received in time\n");
            return write(&mut stream, &response.to_bytes(false)).await;
        }
    };
    let (response, head_only) = match parse_request(&head) {
        Ok(request) => {
            let head_only = request.method == "HEAD";
            let _turn = rendering.acquire().await;
            let response = tokio::task::spawn_blocking(move || handler(&request))
                .await
                .unwrap_or_else(|_| Response::text(500, "the page failed to render\n"));
            (response, head_only)
        }
        Err(e) => (e.response(), false),
    };
    write(&mut stream, &response.to_bytes(head_only)).await
}

/// Reads up to the blank line that ends the head; `None` when it is longer
/// than [`MAX_REQUEST_HEAD`].
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find_blank_line(&buf) {
            buf.truncate(end);
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed before the request head ended",
            ));
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

fn find_blank_line(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n"))
}

/// Closes after a refusal while the client may still be sending: our side
/// first, then what arrives is read and dropped (at most [`LINGER_BYTES`],
/// for at most [`LINGER_TIME`]), so the client reads the refusal instead of
/// a reset that unread data would cause.
async fn lingering_close(mut stream: TcpStream) -> std::io::Result<()> {
    stream.shutdown().await?;
    let mut sink = [0u8; 4096];
    let mut left = LINGER_BYTES;
    let drain = async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
    Ok(())
}

/// The most read and dropped after a refusal.
const LINGER_BYTES: usize = 256 * 1024;
/// The longest wait for the client to stop sending after a refusal.
const LINGER_TIME: Duration = Duration::from_secs(2);

async fn write(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "response not written in time",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_path_and_form_query() {
        let r = parse_request("GET /explain?name=example.org%3A8448&x=a+b HTTP/1.1\r\nHost: x")
            .unwrap();
        assert_eq!(r.path, "/explain");
        assert_eq!(r.param("name"), Some("example.org:8448"));
        assert_eq!(r.param("x"), Some("a b"));
        assert_eq!(r.param("y"), None);
    }

    #[test]
    fn refuses_other_methods_and_garbage() {
        assert_eq!(
            parse_request("POST / HTTP/1.1"),
            Err(RequestError::Method("POST".into()))
        );
        assert!(matches!(
            parse_request("GET"),
            Err(RequestError::BadRequestLine(_))
        ));
        assert!(matches!(
            parse_request("GET http://x/ HTTP/1.1"),
            Err(RequestError::BadRequestLine(_))
        ));
        assert!(matches!(
            parse_request("GET / SPDY/3"),
            Err(RequestError::BadRequestLine(_))
        ));
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("%3Cscript%3E"), "<script>");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn head_responses_have_no_body() {
        let r = Response::text(200, "hello");
        let full = String::from_utf8(r.to_bytes(false)).unwrap();
        let head = String::from_utf8(r.to_bytes(true)).unwrap();
        assert!(full.ends_with("\r\n\r\nhello"));
        assert!(head.ends_with("\r\n\r\n") && head.contains("Content-Length: 5"));
    }
}
