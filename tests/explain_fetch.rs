//! `fedns explain --fetch`: the `.well-known` over real HTTPS from a TLS
//! server on 127.0.0.1 with certificates minted here by a private CA
//! (rcgen), reached with `--fetch-addr` and trusted with `--ca`. Covers a
//! valid answer, redirects, a redirect loop, non-200, an oversized body, an
//! untrusted CA, a certificate for the wrong name, a bad CA file and nothing
//! listening. Every server stops by itself; every wait is bounded.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use serde_json::Value;

use common::{TempDir, fedns_bin, free_port};

/// The server name the tests fetch the `.well-known` of.
const S: &str = "wk.explain.test";

fn test_zones() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/explain/zones")
}

/// A private CA and a server certificate for one name.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn mint(server_name: &str) -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec![server_name.to_owned()]).expect("server params");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).expect("server certificate");
    Pki {
        ca_pem: ca_cert.pem(),
        chain: vec![cert.der().clone(), ca_cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

type Routes = Box<dyn Fn(&str) -> Vec<u8> + Send>;

/// A one-request-per-connection HTTPS server on 127.0.0.1 that answers
/// each path with `routes(path)`. Stops when dropped, or after 30 s.
struct TlsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsServer {
    fn start(pki: &Pki, routes: Routes) -> TlsServer {
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(pki.chain.clone(), pki.key.clone_key())
                .expect("server TLS config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop_flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((tcp, _)) => serve_one(&config, tcp, &routes),
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TlsServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(config: &Arc<ServerConfig>, tcp: std::net::TcpStream, routes: &Routes) {
    let _ = tcp.set_nonblocking(false);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = tcp.set_write_timeout(Some(Duration::from_secs(2)));
    let Ok(conn) = ServerConnection::new(Arc::clone(config)) else {
        return;
    };
    let mut stream = StreamOwned::new(conn, tcp);
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let _ = stream.write_all(&routes(&path));
    stream.conn.send_close_notify();
    let _ = stream.flush();
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

fn ok_json(body: &str) -> Vec<u8> {
    response("200 OK", &[("Content-Type", "application/json")], body)
}

/// `fedns explain S --zones test --fetch --fetch-addr ADDR [--ca FILE] --format json`.
fn explain_fetch(addr: SocketAddr, ca: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(fedns_bin());
    cmd.arg("explain")
        .arg(S)
        .arg("--zones")
        .arg(test_zones())
        .arg("--format")
        .arg("json");
    cmd.arg("--fetch")
        .arg("--fetch-addr")
        .arg(addr.to_string())
        .arg("--timeout")
        .arg("2s");
    if let Some(ca) = ca {
        cmd.arg("--ca").arg(ca);
    }
    cmd.output().expect("run fedns explain")
}

fn json_of(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fedns explain failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn well_known(v: &Value) -> &Value {
    &v["steps"][2]["well_known"]
}

fn taken(v: &Value) -> Vec<String> {
    v["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|s| s["taken"] == true)
                .filter_map(|s| s["step"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A CA file for `pki` in `dir`.
fn ca_file(dir: &TempDir, pki: &Pki) -> PathBuf {
    let path = dir.path().join("lab-ca.pem");
    std::fs::write(&path, &pki.ca_pem).expect("write CA");
    path
}

#[test]
fn fetched_well_known_delegates() {
    let tmp = TempDir::new("fedns-fetch-ok");
    let pki = mint(S);
    let server = TlsServer::start(
        &pki,
        Box::new(|path| match path {
            "/.well-known/matrix/server" => ok_json(r#"{"m.server": "hs.explain.test:8443"}"#),
            _ => response("404 Not Found", &[], ""),
        }),
    );
    let v = json_of(&explain_fetch(server.addr, Some(&ca_file(&tmp, &pki))));
    assert_eq!(taken(&v), ["3", "3.2"]);
    let wk = well_known(&v);
    assert_eq!(wk["status"], 200);
    assert_eq!(
        wk["url"],
        "https://wk.explain.test/.well-known/matrix/server"
    );
    assert_eq!(wk["m_server"], "hs.explain.test:8443");
    assert_eq!(wk["source"], "fetched over HTTPS");
    assert_eq!(v["result"]["host"], "hs.explain.test");
    assert_eq!(v["result"]["host_header"], "hs.explain.test:8443");
}

#[test]
fn redirects_are_followed() {
    let tmp = TempDir::new("fedns-fetch-redirect");
    let pki = mint(S);
    let server = TlsServer::start(
        &pki,
        Box::new(|path| match path {
            "/.well-known/matrix/server" => response("302 Found", &[("Location", "/moved")], ""),
            "/moved" => response(
                "301 Moved Permanently",
                &[("Location", "https://wk.explain.test/final")],
                "",
            ),
            "/final" => ok_json(r#"{"m.server": "d35.explain.test"}"#),
            _ => response("404 Not Found", &[], ""),
        }),
    );
    let v = json_of(&explain_fetch(server.addr, Some(&ca_file(&tmp, &pki))));
    assert_eq!(taken(&v), ["3", "3.5"]);
    let wk = well_known(&v);
    assert_eq!(wk["redirects"].as_array().map(Vec::len), Some(2));
    assert_eq!(wk["url"], "https://wk.explain.test/final");
    assert_eq!(v["result"]["host"], "d35.explain.test");

    // The human form shows each request.
    let out = Command::new(fedns_bin())
        .arg("explain")
        .arg(S)
        .arg("--zones")
        .arg(test_zones())
        .arg("--fetch")
        .arg("--fetch-addr")
        .arg(server.addr.to_string())
        .arg("--ca")
        .arg(ca_file(&tmp, &pki))
        .output()
        .expect("run fedns explain");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "; source: fetched over HTTPS",
        "; GET https://wk.explain.test/.well-known/matrix/server -> redirect",
        "; GET https://wk.explain.test/moved -> redirect",
        "; GET https://wk.explain.test/final -> HTTP 200",
        "; body: {\"m.server\": \"d35.explain.test\"}",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn a_redirect_loop_fails_the_well_known() {
    let tmp = TempDir::new("fedns-fetch-loop");
    let pki = mint(S);
    let server = TlsServer::start(
        &pki,
        Box::new(|path| match path {
            "/.well-known/matrix/server" => response("302 Found", &[("Location", "/a")], ""),
            _ => response(
                "307 Temporary Redirect",
                &[("Location", "/.well-known/matrix/server")],
                "",
            ),
        }),
    );
    let v = json_of(&explain_fetch(server.addr, Some(&ca_file(&tmp, &pki))));
    assert!(
        well_known(&v)["error"]
            .as_str()
            .unwrap()
            .contains("redirect loop"),
        "{}",
        well_known(&v)
    );
    assert_eq!(v["steps"][2]["taken"], false);
    assert!(!taken(&v).contains(&"3".to_owned()));
}

#[test]
fn a_404_falls_through_to_step_4() {
    let tmp = TempDir::new("fedns-fetch-404");
    let pki = mint(S);
    let server = TlsServer::start(&pki, Box::new(|_| response("404 Not Found", &[], "no")));
    let v = json_of(&explain_fetch(server.addr, Some(&ca_file(&tmp, &pki))));
    assert_eq!(well_known(&v)["status"], 404);
    assert!(
        well_known(&v)["error"]
            .as_str()
            .unwrap()
            .contains("HTTP status 404")
    );
    assert!(
        v["steps"][8]["lookups"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("_matrix-fed._tcp.wk.explain.test")
    );
}

#[test]
fn a_body_over_50_kib_fails_the_well_known() {
    let tmp = TempDir::new("fedns-fetch-big");
    let pki = mint(S);
    let server = TlsServer::start(
        &pki,
        Box::new(|_| {
            ok_json(&format!(
                "{{\"m.server\": \"hs.explain.test:8443\", \"pad\": \"{}\"}}",
                "x".repeat(60 * 1024)
            ))
        }),
    );
    let v = json_of(&explain_fetch(server.addr, Some(&ca_file(&tmp, &pki))));
    assert!(
        well_known(&v)["error"].as_str().unwrap().contains("50 KiB"),
        "{}",
        well_known(&v)
    );
    assert_eq!(v["steps"][2]["taken"], false);
}

#[test]
fn an_untrusted_ca_fails_the_well_known() {
    let pki = mint(S);
    let server = TlsServer::start(
        &pki,
        Box::new(|_| ok_json(r#"{"m.server": "hs.explain.test:8443"}"#)),
    );
    // No --ca: Mozilla's roots, which do not include this private CA.
    let v = json_of(&explain_fetch(server.addr, None));
    let error = well_known(&v)["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("invalid peer certificate") && error.contains("UnknownIssuer"),
        "{error}"
    );
    assert_eq!(v["steps"][2]["taken"], false);
}

#[test]
fn a_certificate_for_another_name_fails_the_well_known() {
    let tmp = TempDir::new("fedns-fetch-name");
    let pki = mint("other.explain.test");
    let server = TlsServer::start(
        &pki,
        Box::new(|_| ok_json(r#"{"m.server": "hs.explain.test:8443"}"#)),
    );
    let v = json_of(&explain_fetch(server.addr, Some(&ca_file(&tmp, &pki))));
    let error = well_known(&v)["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("certificate not valid for name \"wk.explain.test\""),
        "{error}"
    );
}

#[test]
fn a_bad_ca_file_is_a_clear_error() {
    let tmp = TempDir::new("fedns-fetch-badca");
    let path = tmp.path().join("not-a-ca.pem");
    std::fs::write(&path, "hello\n").expect("write");
    let out = explain_fetch(common::loopback(free_port()), Some(&path));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no CA certificate in it"), "{err}");
    let out = explain_fetch(
        common::loopback(free_port()),
        Some(&tmp.path().join("missing.pem")),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the CA certificates"));
}

#[test]
fn nothing_listening_fails_the_well_known_in_bounded_time() {
    let tmp = TempDir::new("fedns-fetch-closed");
    let pki = mint(S);
    let v = json_of(&explain_fetch(
        common::loopback(free_port()),
        Some(&ca_file(&tmp, &pki)),
    ));
    let error = well_known(&v)["error"].as_str().unwrap().to_owned();
    assert!(error.contains("cannot connect"), "{error}");
    assert_eq!(v["steps"][2]["taken"], false);
}
