//! Helpers for the `fedns check` tests: a private CA that mints certificates
//! at test time (rcgen), HTTPS servers on loopback that behave like a
//! homeserver or like a misconfigured one, and zone files for a lab.
//!
//! Every server listens on a loopback address (127.0.0.1, or 127.0.0.2 for
//! the "second address" cases); every wait is bounded, and servers stop when
//! dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;

// ---------------------------------------------------------------- the CA --

/// A private CA (root, or intermediate with its issuer's chain).
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// This CA's certificate.
    pub cert: CertificateDer<'static>,
    /// This CA's certificate as PEM.
    pub pem: String,
    /// Whether this is a root (its leaves need no chain).
    pub is_root: bool,
}

/// What a leaf certificate should look like.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    /// subjectAltNames (IP literals become iPAddress SANs).
    pub names: Vec<String>,
    /// The subject common name.
    pub cn: String,
    /// Omit the subjectAltName extension entirely.
    pub no_san: bool,
    /// Days from now: notBefore.
    pub not_before_days: i64,
    /// Days from now: notAfter.
    pub not_after_days: i64,
    /// Extended key usages (empty: no extension).
    pub eku: Vec<ExtendedKeyUsagePurpose>,
}

impl LeafSpec {
    /// A leaf for `names`, valid from yesterday for a year.
    pub fn new(names: &[&str]) -> LeafSpec {
        LeafSpec {
            names: names.iter().map(|s| s.to_string()).collect(),
            cn: names
                .first()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "leaf".into()),
            no_san: false,
            not_before_days: -1,
            not_after_days: 365,
            eku: Vec::new(),
        }
    }
}

/// A minted leaf and its key.
#[derive(Clone)]
pub struct Leaf {
    /// The leaf certificate.
    pub cert: CertificateDer<'static>,
    /// The leaf, PEM.
    pub pem: String,
    /// The chain a server should send: leaf plus intermediates, PEM.
    pub fullchain_pem: String,
    /// The chain a server should send, DER, leaf first.
    pub fullchain: Vec<CertificateDer<'static>>,
    /// The private key (PKCS#8 DER).
    pub key: Vec<u8>,
}

fn days(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::days(n)
}

impl Ca {
    /// A new root CA.
    pub fn root(cn: &str) -> Ca {
        let key = KeyPair::generate().expect("key");
        let params = ca_params(cn);
        let cert = params.self_signed(&key).expect("self-signed CA");
        Ca {
            pem: cert.pem(),
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
            is_root: true,
        }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let key = KeyPair::generate().expect("key");
        let params = ca_params(cn);
        let cert = params.signed_by(&key, &self.issuer).expect("intermediate");
        assert!(
            self.is_root,
            "one level of intermediates is enough for these tests"
        );
        Ca {
            pem: cert.pem(),
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
            is_root: false,
        }
    }

    /// Writes this CA's certificate to `dir/name` and returns the path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.pem).expect("write CA");
        path
    }

    /// A leaf signed by this CA. For an intermediate, `fullchain_pem` holds
    /// the leaf and this CA (not the root).
    pub fn leaf(&self, spec: &LeafSpec) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, spec.cn.clone());
        if !spec.no_san {
            params.subject_alt_names = spec
                .names
                .iter()
                .map(|n| match n.parse::<IpAddr>() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName(n.clone().try_into().expect("DNS SAN")),
                })
                .collect();
        }
        params.not_before = days(spec.not_before_days);
        params.not_after = days(spec.not_after_days);
        params.extended_key_usages = spec.eku.clone();
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer).expect("leaf");
        let mut fullchain = vec![cert.der().clone()];
        let mut fullchain_pem = cert.pem();
        if !self.is_root {
            fullchain.push(self.cert.clone());
            fullchain_pem.push_str(&self.pem);
        }
        Leaf {
            cert: cert.der().clone(),
            pem: cert.pem(),
            fullchain_pem,
            fullchain,
            key: key.serialize_der(),
        }
    }
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "fedns tests");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = days(-2);
    params.not_after = days(3650);
    params
}

/// A self-signed leaf (not a CA) for `names`.
pub fn self_signed(names: &[&str]) -> Leaf {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or("self"));
    params.not_before = days(-1);
    params.not_after = days(365);
    let cert = params.self_signed(&key).expect("self-signed");
    Leaf {
        cert: cert.der().clone(),
        pem: cert.pem(),
        fullchain_pem: cert.pem(),
        fullchain: vec![cert.der().clone()],
        key: key.serialize_der(),
    }
}

/// Writes text to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

/// Now in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// ----------------------------------------------------------- TLS servers --

/// One HTTP request as the test server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The SNI sent, if any.
    pub sni: Option<String>,
    /// The Host header.
    pub host: String,
    /// The request path.
    pub path: String,
}

/// A response to send.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Extra header lines ("Name: value").
    pub headers: Vec<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// 200 with a JSON body.
    pub fn json(value: serde_json::Value) -> Response {
        Response {
            status: 200,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
        }
    }

    /// A status with a small HTML body.
    pub fn html(status: u16, text: &str) -> Response {
        Response {
            status,
            content_type: "text/html".into(),
            headers: Vec::new(),
            body: format!("<html><body>{text}</body></html>").into_bytes(),
        }
    }

    /// With an extra header.
    pub fn header(mut self, line: &str) -> Response {
        self.headers.push(line.to_owned());
        self
    }
}

/// The test homeservers' signing key (a fixed ed25519 seed).
pub fn signing_key() -> ring::signature::Ed25519KeyPair {
    ring::signature::Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).expect("a 32-byte seed")
}

/// `body` signed by `server_name` with [`signing_key`] as `ed25519:a_test`,
/// the way Synapse signs its key response (canonical JSON of the body
/// without `signatures` and `unsigned`).
pub fn signed(server_name: &str, mut body: serde_json::Value) -> serde_json::Value {
    let text = fedns::matrix::keys::canonical_json(&body).expect("canonical JSON");
    let signature =
        data_encoding::BASE64_NOPAD.encode(signing_key().sign(text.as_bytes()).as_ref());
    body["signatures"] = serde_json::json!({ server_name: { "ed25519:a_test": signature } });
    body
}

/// A homeserver's key response for `server_name`, valid for a day, signed.
pub fn key_response(server_name: &str) -> serde_json::Value {
    use ring::signature::KeyPair;
    let public = data_encoding::BASE64_NOPAD.encode(signing_key().public_key().as_ref());
    signed(
        server_name,
        serde_json::json!({
            "server_name": server_name,
            "valid_until_ts": now_ms() + 86_400_000,
            "verify_keys": {"ed25519:a_test": {"key": public}},
            "old_verify_keys": {},
        }),
    )
}

/// How a homeserver answers the federation endpoints for `server_name`.
pub fn homeserver(server_name: &str, req: &Request) -> Response {
    match req.path.as_str() {
        "/_matrix/key/v2/server" => Response::json(key_response(server_name)),
        "/_matrix/federation/v1/version" => {
            Response::json(serde_json::json!({"server": {"name": "fedns-test", "version": "1.0"}}))
        }
        _ => Response::html(404, "not found"),
    }
}

/// Chooses the certificate by SNI; `None` aborts the handshake.
#[derive(Debug)]
struct SniResolver {
    by_name: Vec<(String, Arc<CertifiedKey>)>,
    default: Option<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match hello.server_name() {
            Some(sni) => self
                .by_name
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(sni))
                .map(|(_, k)| Arc::clone(k))
                .or_else(|| self.default.clone()),
            None => self.default.clone(),
        }
    }
}

/// The certificates a test server presents.
pub struct Certs {
    /// (SNI, leaf) pairs.
    pub by_name: Vec<(String, Leaf)>,
    /// The certificate for any other SNI (or none: the handshake fails).
    pub default: Option<Leaf>,
}

fn certified(leaf: &Leaf) -> Arc<CertifiedKey> {
    let provider = rustls::crypto::ring::default_provider();
    let key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            leaf.key.clone(),
        )))
        .expect("signing key");
    Arc::new(CertifiedKey::new(leaf.fullchain.clone(), key))
}

/// What a test server does with a connection.
pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// A server on loopback, stopped on drop.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Requests seen.
    pub seen: Arc<Mutex<Vec<Request>>>,
}

impl TestServer {
    /// An HTTPS server on `ip:port` (port 0: any).
    pub fn https(
        ip: Ipv4Addr,
        port: u16,
        certs: Certs,
        handler: Handler,
    ) -> std::io::Result<TestServer> {
        let resolver = SniResolver {
            by_name: certs
                .by_name
                .iter()
                .map(|(n, l)| (n.clone(), certified(l)))
                .collect(),
            default: certs.default.as_ref().map(certified),
        };
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
        let config = Arc::new(config);
        Self::spawn(ip, port, move |stream, seen| {
            serve_tls(stream, &config, &handler, seen)
        })
    }

    /// A server that accepts TCP and closes at once (an aborted handshake).
    pub fn closing(ip: Ipv4Addr, port: u16) -> std::io::Result<TestServer> {
        Self::spawn(ip, port, |stream, _| {
            let mut stream = stream;
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            drop(stream);
        })
    }

    /// A server that speaks only TLS 1.0/1.1: it reads the ClientHello
    /// (offering 1.2 and 1.3) and answers with a fatal `protocol_version`
    /// alert, as OpenSSL does when no version is in common.
    pub fn tls_1_1_only(ip: Ipv4Addr, port: u16) -> std::io::Result<TestServer> {
        Self::spawn(ip, port, |stream, _| {
            let mut stream = stream;
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            // TLS record: alert, version 1.1, length 2: fatal (2), protocol_version (70).
            let _ = stream.write_all(&[0x15, 0x03, 0x02, 0x00, 0x02, 0x02, 0x46]);
        })
    }

    fn spawn(
        ip: Ipv4Addr,
        port: u16,
        serve: impl Fn(TcpStream, &Mutex<Vec<Request>>) + Send + Sync + 'static,
    ) -> std::io::Result<TestServer> {
        let listener = TcpListener::bind(SocketAddr::new(IpAddr::V4(ip), port))?;
        assert!(ip.is_loopback(), "test servers listen on loopback only");
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2) = (Arc::clone(&stop), Arc::clone(&seen));
        let serve = Arc::new(serve);
        let thread = thread::spawn(move || {
            // Bounded: the loop ends when stopped, and at the latest after 10 minutes.
            for _ in 0..60_000 {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                        let (serve, seen) = (Arc::clone(&serve), Arc::clone(&seen2));
                        thread::spawn(move || serve(stream, &seen));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(TestServer {
            addr,
            stop,
            thread: Some(thread),
            seen,
        })
    }

    /// A server on 127.0.0.1 and one on 127.0.0.2 with the same port, if
    /// 127.0.0.2 can be bound (Linux routes all of 127/8 to loopback).
    pub fn pair(
        make: impl Fn(Ipv4Addr, u16) -> std::io::Result<TestServer>,
    ) -> Option<(TestServer, TestServer)> {
        for _ in 0..10 {
            let first = make(Ipv4Addr::LOCALHOST, 0).ok()?;
            if let Ok(second) = make(Ipv4Addr::new(127, 0, 0, 2), first.addr.port()) {
                return Some((first, second));
            }
        }
        None
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_tls(
    stream: TcpStream,
    config: &Arc<rustls::ServerConfig>,
    handler: &Handler,
    seen: &Mutex<Vec<Request>>,
) {
    let Ok(conn) = rustls::ServerConnection::new(Arc::clone(config)) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let mut reader = BufReader::new(&mut tls);
    let mut head = Vec::new();
    // Bounded: at most 64 header lines.
    for _ in 0..64 {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push(line.trim_end().to_owned());
    }
    drop(reader);
    let path = head
        .first()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let host = head
        .iter()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    let sni = tls.conn.server_name().map(str::to_owned);
    let request = Request { sni, host, path };
    if let Ok(mut s) = seen.lock() {
        s.push(request.clone());
    }
    let response = handler(&request);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    for h in &response.headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let _ = tls.write_all(out.as_bytes());
    let _ = tls.write_all(&response.body);
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

// ----------------------------------------------------------------- zones --

/// A TOML zone `origin` with NS, the given extra TOML, every name in
/// `hosts` at the given addresses.
pub fn zone_toml(origin: &str, hosts: &[(&str, &[&str])], extra: &str) -> String {
    let mut text = format!(
        "origin = \"{origin}\"\nttl = 300\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\n[[record]]\nname = \"ns1\"\nA = [\"127.0.0.1\"]\n"
    );
    for (name, addrs) in hosts {
        let quoted: Vec<String> = addrs.iter().map(|a| format!("\"{a}\"")).collect();
        text.push_str(&format!(
            "[[record]]\nname = \"{name}\"\nA = [{}]\n",
            quoted.join(", ")
        ));
    }
    text.push_str(extra);
    text
}
