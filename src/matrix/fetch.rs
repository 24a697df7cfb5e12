//! `GET https://S/.well-known/matrix/server` as a homeserver does it: HTTPS
//! with normal X.509 checks (rustls with the ring provider; Mozilla's roots,
//! or only a lab CA given with `--ca`), HTTP/1.1, redirects followed without
//! loops, the body cut off at 50 KiB, and every request bounded in time.
//!
//! The host is found with the same [`Resolver`] as the rest of resolution
//! (A and AAAA of S), unless [`FetchOptions::connect_to`] says where to
//! connect instead (like curl's `--connect-to`, for a lab web server on a
//! port other than 443). The requests go through the one HTTPS client,
//! [`super::https`]; `fedns explain --fetch` and the probe of `fedns check`
//! both fetch here.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, RecordType};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName as TlsName};

use super::dns::{DnsError, Lookup, Resolver, lookup};
use super::https::{ConnectError, connect_tls};
use super::well_known::MAX_BODY_BYTES;

/// How many redirects a fetch follows.
pub const MAX_REDIRECTS: usize = 10;
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
}

/// How to fetch: trust, where to connect, how long to wait.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// The trust anchors a certificate must chain to.
    pub roots: Arc<RootCertStore>,
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
        Ok(FetchOptions {
            roots: Arc::new(roots),
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
    /// The body was over [`MAX_BODY_BYTES`] (also an `error`).
    pub over_cap: bool,
    /// The `Cache-Control` of the 200 response.
    pub cache_control: Option<String>,
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
    let url = Url {
        host: host.to_owned(),
        port: 443,
        path: WELL_KNOWN_PATH.to_owned(),
    };
    fetch_from(options, url, None, resolver)
}

/// Fetches `url` like [`fetch_well_known`]; the first request goes to
/// `first_hop` when given (one address of the web server: the probe asks
/// each), redirects are followed through `resolver`.
pub fn fetch_from(
    options: &FetchOptions,
    mut url: Url,
    first_hop: Option<SocketAddr>,
    resolver: &dyn Resolver,
) -> Result<Fetched, DnsError> {
    let mut fetched = Fetched::default();
    let mut visited: Vec<String> = Vec::new();
    for _ in 0..=MAX_REDIRECTS {
        let text = url.to_text();
        fetched.url = text.clone();
        if visited.contains(&text) {
            fetched.error = Some(format!("redirect loop: {text} was already visited"));
            return Ok(fetched);
        }
        visited.push(text.clone());
        let first = (visited.len() == 1).then_some(first_hop).flatten();
        let addresses = match (first.or(options.connect_to), url.host.parse::<IpAddr>()) {
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
                fetched.cache_control = response.cache_control;
                if response.over_cap {
                    fetched.over_cap = true;
                    fetched.error = Some(format!(
                        "{text}: the body is over {MAX_BODY_BYTES} bytes (50 KiB): homeservers stop reading there and treat the .well-known as invalid"
                    ));
                } else {
                    fetched.body = Some(response.body);
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
    cache_control: Option<String>,
    body: Vec<u8>,
    over_cap: bool,
}

/// Connects to the first address that answers and asks for `url`; a
/// certificate that does not verify for the host ends the request, as it
/// ends a homeserver's.
fn get(options: &FetchOptions, url: &Url, addresses: &[SocketAddr]) -> Result<Response, String> {
    let deadline = Instant::now() + options.timeout;
    let name = TlsName::try_from(url.host.clone())
        .map_err(|e| format!("{} is not a name TLS can check: {e}", url.host))?;
    let mut errors = Vec::new();
    for addr in addresses {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            errors.push(format!("{addr}: no time left"));
            break;
        }
        let session = match connect_tls(*addr, &name, &options.roots, left) {
            Ok(session) => session,
            Err(ConnectError::Tcp { addr, message }) => {
                errors.push(format!("cannot connect to {addr}: {message}"));
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        if let Some(problem) = &session.presented.problem {
            return Err(format!("TLS with {addr}: {problem}"));
        }
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let response = session
            .get(&url.authority(), &url.path, MAX_BODY_BYTES, left)
            .map_err(|e| format!("reading the response from {addr}: {e}"))?;
        return Ok(Response {
            status: response.status,
            location: response.header("location").map(str::to_owned),
            cache_control: response.header("cache-control").map(str::to_owned),
            over_cap: response.over_cap,
            body: response.body,
        });
    }
    Err(errors.join("; "))
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
