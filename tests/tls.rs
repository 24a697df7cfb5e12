//! DNS over TLS (RFC 7858) and zone transfers over TLS (XoT, RFC 9103)
//! with Knot's `kdig` as the client: queries over TLS with the server's
//! certificate verified against a private CA, an AXFR that the zone's
//! policy allows over TLS only (refused over plain TCP), and start-up
//! errors that name the certificate or key file at fault.

mod common;
mod lint_support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{TempDir, free_port, output_within};
use lint_support::{Ca, LeafSpec};

const ZONE: &str = "$ORIGIN example.org.\n$TTL 300\n@ SOA ns1 hostmaster 7 3600 600 86400 300\n@ NS ns1\n\
                    ns1 A 192.0.2.53\nwww A 192.0.2.1\n";

struct Lab {
    dir: TempDir,
    port: u16,
    tls_port: u16,
    config: std::path::PathBuf,
}

/// A CA, a certificate for ns1.example.org, and a configuration serving
/// example.org over UDP/TCP and TLS, transfers allowed over TLS only.
fn lab(name: &str) -> Lab {
    let dir = TempDir::new(name);
    let ca = Ca::root("fedns TLS lab CA");
    ca.write(dir.path(), "ca.pem");
    write_pair(dir.path(), &ca.leaf(&LeafSpec::new(&["ns1.example.org"])));
    fs::write(dir.path().join("example.org.zone"), ZONE).unwrap();
    let (port, tls_port) = (free_port(), free_port());
    let config = dir.path().join("fedns.toml");
    fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\n\
             [tls]\nlisten = [\"127.0.0.1:{tls_port}\"]\ncertificate = \"chain.pem\"\nkey = \"key.pem\"\n\
             [[zone]]\nname = \"example.org\"\nfile = \"example.org.zone\"\nallow = [\"tls:127.0.0.0/8\"]\n"
        ),
    )
    .unwrap();
    Lab {
        dir,
        port,
        tls_port,
        config,
    }
}

/// Starts the lab's fedns (the TLS primary) and waits for it.
fn start_primary(lab: &Lab, name: &str) -> common::ServerProcess {
    common::serve_fedns(
        name,
        lab.dir.path(),
        lab.port,
        &["--config".as_ref(), lab.config.as_os_str()],
        "example.org.",
    )
}

/// Starts a fedns secondary `name` of the lab's TLS listener, with the
/// zone `settings` (TLS mode, CA...) added: the process and its port.
fn start_secondary(lab: &Lab, name: &str, settings: &str) -> (common::ServerProcess, u16) {
    let port = free_port();
    let config = lab.dir.path().join(format!("{name}.toml"));
    fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\ndata_dir = \"data-{name}\"\n\
             [[zone]]\nname = \"example.org\"\nprimaries = [\"127.0.0.1:{}\"]\n{settings}",
            lab.tls_port
        ),
    )
    .unwrap();
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(&config);
    (
        common::spawn_on_port(name, lab.dir.path(), port, c).unwrap(),
        port,
    )
}

/// The zone settings of a strict XoT secondary expecting `name`.
fn strict(name: &str) -> String {
    format!("transfer_tls = \"strict\"\ntls_ca = \"ca.pem\"\ntls_name = \"{name}\"\n")
}

fn kdig(args: &[&str], dir: &Path) -> String {
    let mut c = Command::new("kdig");
    c.current_dir(dir).args(args);
    common::printed_within(c, Duration::from_secs(20))
}

#[test]
fn kdig_queries_and_transfers_over_tls_with_the_certificate_verified() {
    if common::peer("kdig").is_none() {
        return;
    }
    let lab = lab("tls-kdig");
    let _server = start_primary(&lab, "fedns");
    let tls_port = lab.tls_port.to_string();
    let strict = [
        "@127.0.0.1",
        "-p",
        &tls_port,
        "+tls-ca=ca.pem",
        "+tls-hostname=ns1.example.org",
    ];
    // A query, the certificate checked against the CA and the name.
    let mut args = strict.to_vec();
    args.extend(["www.example.org", "A"]);
    let out = kdig(&args, lab.dir.path());
    assert!(out.contains(";; TLS session"), "{out}");
    assert!(
        out.contains("192.0.2.1") && out.contains("NOERROR"),
        "{out}"
    );
    // The wrong name: kdig refuses the certificate.
    let out = kdig(
        &[
            "@127.0.0.1",
            "-p",
            &tls_port,
            "+tls-ca=ca.pem",
            "+tls-hostname=other.example.org",
            "www.example.org",
        ],
        lab.dir.path(),
    );
    assert!(!out.contains("192.0.2.1"), "{out}");
    // XoT: the zone over TLS ...
    let mut args = strict.to_vec();
    args.extend(["example.org", "AXFR"]);
    let out = kdig(&args, lab.dir.path());
    assert!(
        out.contains("www.example.org.") && out.contains(";; Received") && !out.contains("REFUSED"),
        "{out}"
    );
    // ... and not over plain TCP: the policy says tls:127.0.0.0/8.
    let port = lab.port.to_string();
    let out = kdig(
        &["@127.0.0.1", "-p", &port, "example.org", "AXFR"],
        lab.dir.path(),
    );
    assert!(
        out.contains("REFUSED") && !out.contains("www.example.org."),
        "{out}"
    );
}

#[test]
fn a_bad_certificate_or_key_stops_the_start_with_the_file_named() {
    let lab = lab("tls-bad");
    let run = || {
        let mut c = Command::new(common::fedns_bin());
        c.arg("serve").arg("--config").arg(&lab.config);
        let out = output_within(c, Duration::from_secs(20));
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // A key from another certificate.
    let chain = fs::read(lab.dir.path().join("chain.pem")).unwrap();
    write_pair(
        lab.dir.path(),
        &Ca::root("other").leaf(&LeafSpec::new(&["ns1.example.org"])),
    );
    fs::write(lab.dir.path().join("chain.pem"), chain).unwrap();
    let err = run();
    assert!(
        err.contains("chain.pem with")
            && err.contains("key.pem")
            && err.contains("does not belong"),
        "{err}"
    );
    // No key file at all.
    fs::remove_file(lab.dir.path().join("key.pem")).unwrap();
    let err = run();
    assert!(err.contains("key.pem: cannot read"), "{err}");
    // A chain file that is not PEM.
    fs::write(lab.dir.path().join("chain.pem"), "hello").unwrap();
    let err = run();
    assert!(
        err.contains("chain.pem: holds no CERTIFICATE block"),
        "{err}"
    );
}

/// BIND 9.18 as a secondary that transfers only over TLS (`tls ephemeral`:
/// encrypted, the certificate not checked), from a fedns primary whose
/// policy allows transfers over TLS with the key only.
#[test]
fn bind_transfers_the_zone_over_tls_from_fedns() {
    let Some(named) = common::peer("named") else {
        return;
    };
    let lab = lab("tls-bind");
    const SECRET: &str = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ==";
    let config = fs::read_to_string(&lab.config).unwrap().replace(
        "allow = [\"tls:127.0.0.0/8\"]",
        "allow = [\"tls+key:xfr-key\"]",
    );
    fs::write(
        &lab.config,
        format!("{config}[[tsig_key]]\nname = \"xfr-key\"\nsecret = \"{SECRET}\"\n"),
    )
    .unwrap();
    let fedns = start_primary(&lab, "fedns");
    let bind_port = free_port();
    let d = lab.dir.path().join("bind");
    fs::create_dir_all(&d).unwrap();
    let conf = d.join("named.conf");
    fs::write(
        &conf,
        format!(
            "options {{\n directory \"{d}\";\n pid-file \"{d}/named.pid\";\n session-keyfile \"{d}/session.key\";\n managed-keys-directory \"{d}\";\n\
             listen-on port {bind_port} {{ 127.0.0.1; }};\n listen-on-v6 {{ none; }};\n recursion no;\n dnssec-validation no;\n notify no;\n}};\n\
             controls {{ }};\nkey \"xfr-key\" {{ algorithm hmac-sha256; secret \"{SECRET}\"; }};\n\
             zone \"example.org\" {{\n type secondary;\n file \"{d}/example.org.db\";\n\
             primaries {{ 127.0.0.1 port {tls} key \"xfr-key\" tls ephemeral; }};\n}};\n",
            d = d.display(),
            tls = lab.tls_port
        ),
    )
    .unwrap();
    let mut c = Command::new(named);
    c.arg("-g").arg("-c").arg(&conf);
    let bind = common::spawn_on_port("bind", lab.dir.path(), bind_port, c).unwrap();
    common::wait_until(Duration::from_secs(30), || {
        common::serial_at(bind_port, "example.org.").map(|s| s == 7)
    })
    .unwrap_or_else(|e| {
        panic!(
            "BIND did not transfer over TLS: {e}\n{}\n{}",
            bind.log_tail(30),
            fedns.log_tail(10)
        )
    });
    let log = bind.log_tail(60);
    assert!(log.contains("Transfer completed"), "{log}");
}

/// fedns as an XoT secondary (RFC 9103 section 9.3) of a fedns primary
/// that allows transfers over TLS only: strict authentication with the
/// right CA and name transfers the zone; the wrong name gets nothing
/// (the zone stays unserved, the log says why); opportunistic TLS
/// transfers it without checking the certificate.
#[test]
fn fedns_secondaries_transfer_over_tls_strictly_or_opportunistically() {
    let lab = lab("tls-secondary");
    let _primary = start_primary(&lab, "fedns-primary");
    let (strict_secondary, strict_port) =
        start_secondary(&lab, "strict", &strict("ns1.example.org"));
    let (opportunistic, opportunistic_port) =
        start_secondary(&lab, "opportunistic", "transfer_tls = \"opportunistic\"\n");
    let (wrong, wrong_port) = start_secondary(&lab, "wrong-name", &strict("ns9.example.org"));
    for (server, port) in [
        (&strict_secondary, strict_port),
        (&opportunistic, opportunistic_port),
    ] {
        common::wait_until(Duration::from_secs(30), || {
            common::serial_at(port, "example.org.").map(|s| s == 7)
        })
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", server.name, server.log_tail(20)));
    }
    common::wait_until(Duration::from_secs(30), || {
        Ok(wrong
            .log_tail(40)
            .contains("certificate not valid for name \"ns9.example.org\""))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", wrong.log_tail(40)));
    assert!(common::serial_at(wrong_port, "example.org.").is_err());
}

/// SIGHUP re-reads the certificate without closing the listener: after a
/// switch to a certificate from another CA, kdig trusts the new CA and no
/// longer the old one. An expired certificate is a warning at start and
/// shows in `fedns ctl status`.
#[test]
fn sighup_rereads_the_certificate_and_status_shows_its_expiry() {
    if common::peer("kdig").is_none() {
        return;
    }
    let lab = lab("tls-reload");
    // Start with an expired certificate.
    let ca = Ca::root("first CA");
    ca.write(lab.dir.path(), "ca.pem");
    let mut spec = LeafSpec::new(&["ns1.example.org"]);
    spec.not_before_days = -30;
    spec.not_after_days = -2;
    write_pair(lab.dir.path(), &ca.leaf(&spec));
    let server = start_primary(&lab, "fedns");
    assert!(
        server
            .log_tail(20)
            .contains("the TLS certificate expired 2 day(s) ago"),
        "{}",
        server.log_tail(20)
    );
    let status = common::fedns_ctl_json(&lab.config, &["status"]);
    assert_eq!(status["result"]["tls"]["expired"], true, "{status}");
    let human = common::fedns_ctl(&lab.config, &["status"]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("EXPIRED 2 day(s) ago"),
        "{}",
        String::from_utf8_lossy(&human.stdout)
    );
    // A fresh certificate from a second CA, then SIGHUP.
    let second = Ca::root("second CA");
    second.write(lab.dir.path(), "second-ca.pem");
    write_pair(
        lab.dir.path(),
        &second.leaf(&LeafSpec::new(&["ns1.example.org"])),
    );
    common::hup(&server);
    let tls_port = lab.tls_port.to_string();
    let query = |ca: &str| {
        kdig(
            &[
                "@127.0.0.1",
                "-p",
                &tls_port,
                &format!("+tls-ca={ca}"),
                "+tls-hostname=ns1.example.org",
                "www.example.org",
            ],
            lab.dir.path(),
        )
    };
    common::wait_until(Duration::from_secs(20), || {
        Ok(query("second-ca.pem").contains("192.0.2.1"))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", server.log_tail(20)));
    assert!(!query("ca.pem").contains("192.0.2.1"));
    let status = common::fedns_ctl_json(&lab.config, &["status"]);
    assert_eq!(status["result"]["tls"]["expired"], false, "{status}");
    // A broken file on the next SIGHUP: the current certificate stays.
    fs::write(lab.dir.path().join("key.pem"), "not a key").unwrap();
    common::hup(&server);
    common::wait_until(Duration::from_secs(20), || {
        Ok(server
            .log_tail(20)
            .contains("still serving the previous TLS certificate"))
    })
    .unwrap();
    assert!(query("second-ca.pem").contains("192.0.2.1"));
}

/// Writes a leaf's chain and key as the lab's chain.pem and key.pem.
fn write_pair(dir: &Path, leaf: &lint_support::Leaf) {
    write_leaf(dir, leaf, "chain.pem", "key.pem");
}

/// Writes a leaf's chain and key (PEM) as `chain` and `key` in `dir`.
fn write_leaf(dir: &Path, leaf: &lint_support::Leaf, chain: &str, key: &str) {
    fs::write(dir.join(chain), &leaf.fullchain_pem).unwrap();
    let key_pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        data_encoding::BASE64.encode(&leaf.key)
    );
    fs::write(dir.join(key), key_pem).unwrap();
}

/// BIND 9.18 as the XoT primary of a fedns secondary (strict: BIND's
/// certificate checked against the lab CA and the name), and `dig +tls`
/// against fedns's DoT listener.
#[test]
fn a_fedns_secondary_transfers_from_bind_over_tls_and_dig_speaks_dot() {
    let (Some(named), Some(dig)) = (common::peer("named"), common::peer("dig")) else {
        return;
    };
    let lab = lab("tls-bind-primary");
    let d = lab.dir.path().join("bind");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("example.org.db"), ZONE).unwrap();
    let (bind_port, bind_tls) = (free_port(), free_port());
    let conf = d.join("named.conf");
    fs::write(
        &conf,
        format!(
            "tls lab-tls {{ key-file \"{dir}/key.pem\"; cert-file \"{dir}/chain.pem\"; }};\n\
             options {{\n directory \"{d}\";\n pid-file \"{d}/named.pid\";\n session-keyfile \"{d}/session.key\";\n managed-keys-directory \"{d}\";\n\
             listen-on port {bind_port} {{ 127.0.0.1; }};\n listen-on port {bind_tls} tls lab-tls {{ 127.0.0.1; }};\n\
             listen-on-v6 {{ none; }};\n recursion no;\n dnssec-validation no;\n notify no;\n}};\n\
             controls {{ }};\n\
             zone \"example.org\" {{\n type primary;\n file \"{d}/example.org.db\";\n allow-transfer port {bind_tls} transport tls {{ 127.0.0.1; }};\n}};\n",
            dir = lab.dir.path().display(),
            d = d.display(),
        ),
    )
    .unwrap();
    let mut c = Command::new(named);
    c.arg("-g").arg("-c").arg(&conf);
    let bind = common::spawn_on_port("bind", lab.dir.path(), bind_port, c).unwrap();
    common::wait_until(Duration::from_secs(30), || {
        common::serial_at(bind_port, "example.org.").map(|s| s == 7)
    })
    .unwrap_or_else(|e| panic!("BIND: {e}\n{}", bind.log_tail(30)));
    let port = free_port();
    let config = lab.dir.path().join("secondary.toml");
    fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\ndata_dir = \"data-secondary\"\n\
             [[zone]]\nname = \"example.org\"\nprimaries = [\"127.0.0.1:{bind_tls}\"]\n\
             transfer_tls = \"strict\"\ntls_ca = \"ca.pem\"\ntls_name = \"ns1.example.org\"\n"
        ),
    )
    .unwrap();
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(&config);
    let secondary = common::spawn_on_port("fedns-secondary", lab.dir.path(), port, c).unwrap();
    common::wait_until(Duration::from_secs(30), || {
        common::serial_at(port, "example.org.").map(|s| s == 7)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}\n{}", secondary.log_tail(20), bind.log_tail(20)));

    // dig +tls against fedns's own DoT listener.
    let _server = start_primary(&lab, "fedns");
    let mut c = Command::new(dig);
    c.current_dir(lab.dir.path()).args([
        "@127.0.0.1",
        "-p",
        &lab.tls_port.to_string(),
        "+tls-ca=ca.pem",
        "+tls-hostname=ns1.example.org",
        "www.example.org",
    ]);
    let out = output_within(c, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("192.0.2.1") && text.contains("(TLS)"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Bad input on the TLS port: clients that never finish a handshake, up to
/// the connection cap, leave UDP and TCP answering; a plain-DNS client on
/// the TLS port gets its connection closed, not an answer.
#[test]
fn idle_and_plain_clients_on_the_tls_port_do_not_stop_udp_or_tcp() {
    use std::io::{Read, Write};
    let lab = lab("tls-load");
    let text = fs::read_to_string(&lab.config).unwrap();
    fs::write(
        &lab.config,
        format!("{text}[tcp]\nmax_connections = 4\nidle_timeout = \"30s\"\n"),
    )
    .unwrap();
    let _server = start_primary(&lab, "fedns");
    // Eight silent clients on the TLS port: four hold its slots, four wait.
    let idle: Vec<std::net::TcpStream> = (0..8)
        .map(|_| std::net::TcpStream::connect(common::loopback(lab.tls_port)).unwrap())
        .collect();
    let query = common::make_query(
        &hickory_proto::rr::Name::from_ascii("www.example.org.").unwrap(),
        hickory_proto::rr::RecordType::A,
        None,
    );
    for _ in 0..3 {
        let udp =
            common::query_udp(common::loopback(lab.port), &query, Duration::from_secs(2)).unwrap();
        assert_eq!(udp.answers.len(), 1);
        let tcp =
            common::query_tcp(common::loopback(lab.port), &query, Duration::from_secs(2)).unwrap();
        assert_eq!(tcp.answers.len(), 1);
    }
    drop(idle);
    // Plain DNS on the TLS port: no answer, the connection is closed.
    let mut plain = std::net::TcpStream::connect(common::loopback(lab.tls_port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let bytes = query.to_vec().unwrap();
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    plain.write_all(&framed).unwrap();
    let mut buf = [0u8; 512];
    let got = plain.read(&mut buf);
    assert!(
        !matches!(got, Ok(n) if n > 2 && hickory_proto::op::Message::from_vec(&buf[2..n]).is_ok()),
        "a DNS answer in the clear on the TLS port: {got:?}"
    );
    let udp =
        common::query_udp(common::loopback(lab.port), &query, Duration::from_secs(2)).unwrap();
    assert_eq!(udp.answers.len(), 1);
}

// ------------------------------------------------------------ DNS over QUIC --

/// A DoQ client (RFC 9250) on quinn, trusting the lab CA.
async fn doq_connection(lab: &Lab, quic_port: u16) -> quinn::Connection {
    doq_try_connection(lab, quic_port).await.unwrap()
}

/// [`doq_connection`], or why the server would not have it.
async fn doq_try_connection(
    lab: &Lab,
    quic_port: u16,
) -> Result<quinn::Connection, quinn::ConnectionError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let pem = fs::read(lab.dir.path().join("ca.pem")).unwrap();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"doq".to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut config = quinn::ClientConfig::new(std::sync::Arc::new(crypto));
    // Keep-alives keep the connection open while a stream stalls.
    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(Duration::from_millis(300)));
    config.transport_config(std::sync::Arc::new(transport));
    endpoint.set_default_client_config(config);
    endpoint
        .connect(common::loopback(quic_port), "ns1.example.org")
        .unwrap()
        .await
}

/// One query on a new stream: the length-prefixed answer, or the error.
async fn doq_query(connection: &quinn::Connection, query: &[u8]) -> Result<Vec<u8>, String> {
    let (mut send, mut recv) = connection.open_bi().await.map_err(|e| e.to_string())?;
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    send.write_all(&framed).await.map_err(|e| e.to_string())?;
    send.finish().map_err(|e| e.to_string())?;
    let bytes = recv.read_to_end(65_537).await.map_err(|e| e.to_string())?;
    Ok(bytes.get(2..).unwrap_or_default().to_vec())
}

fn doq_message(id: u16, padded: bool) -> Vec<u8> {
    let mut q = common::make_query(
        &hickory_proto::rr::Name::from_ascii("www.example.org.").unwrap(),
        hickory_proto::rr::RecordType::A,
        Some(1232),
    );
    q.metadata.id = id;
    if padded && let Some(edns) = q.edns.as_mut() {
        edns.options_mut()
            .insert(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(
                12,
                vec![0; 32],
            ));
    }
    q.to_vec().unwrap()
}

/// DoQ answers through the same engine (padded when asked); a message ID
/// other than 0 closes the connection with DOQ_PROTOCOL_ERROR; a stream
/// that never sends its query is reset after the idle timeout, and UDP
/// answers all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doq_queries_protocol_errors_and_idle_streams() {
    let lab = lab("tls-doq");
    let quic_port = free_port();
    let text = fs::read_to_string(&lab.config).unwrap().replace(
        "certificate = \"chain.pem\"",
        &format!("quic_listen = [\"127.0.0.1:{quic_port}\"]\ncertificate = \"chain.pem\""),
    );
    fs::write(
        &lab.config,
        format!("{text}[tcp]\nidle_timeout = \"2s\"\nmax_connections_per_client = 2\n"),
    )
    .unwrap();
    let server = start_primary(&lab, "fedns");
    assert!(
        server.log_tail(10).contains("(DNS over QUIC)"),
        "{}",
        server.log_tail(10)
    );
    let connection = doq_connection(&lab, quic_port).await;
    let answer = hickory_proto::op::Message::from_vec(
        &doq_query(&connection, &doq_message(0, false))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(answer.answers.len(), 1);
    assert_eq!(answer.metadata.id, 0);
    let padded = doq_query(&connection, &doq_message(0, true)).await.unwrap();
    assert_eq!(padded.len() % 468, 0, "padded to 468-octet blocks");
    // A stream whose query never completes (one octet of its length, then
    // nothing): reset by the server once the idle timeout passes.
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    send.write_all(&[0]).await.unwrap();
    let idle = tokio::time::timeout(Duration::from_secs(10), recv.read_to_end(100)).await;
    assert!(
        matches!(&idle, Ok(Err(quinn::ReadToEndError::Read(quinn::ReadError::Reset(code)))) if *code == quinn::VarInt::from_u32(4)),
        "DOQ_REQUEST_INCOMPLETE expected: {idle:?}"
    );
    // A length that promises more than the stream carries before its end.
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    send.write_all(&[0xff, 0xff, 0, 0, 1, 0]).await.unwrap();
    send.finish().unwrap();
    let short = tokio::time::timeout(Duration::from_secs(10), recv.read_to_end(100)).await;
    assert!(
        matches!(&short, Ok(Err(quinn::ReadToEndError::Read(quinn::ReadError::Reset(code)))) if *code == quinn::VarInt::from_u32(4)),
        "DOQ_REQUEST_INCOMPLETE expected: {short:?}"
    );
    let udp = common::query_udp(
        common::loopback(lab.port),
        &common::make_query(
            &hickory_proto::rr::Name::from_ascii("www.example.org.").unwrap(),
            hickory_proto::rr::RecordType::A,
            None,
        ),
        Duration::from_secs(2),
    )
    .unwrap();
    assert_eq!(udp.answers.len(), 1);
    // A message ID other than 0: the connection is closed with error 0x2.
    let first = connection;
    let connection = doq_connection(&lab, quic_port).await;
    // Two connections from 127.0.0.1 are the per-client cap: a third is refused.
    let third = doq_try_connection(&lab, quic_port).await;
    assert!(third.is_err(), "{third:?}");
    drop(first);
    let refused = doq_query(&connection, &doq_message(4711, false)).await;
    assert!(refused.is_err(), "{refused:?}");
    let reason = connection.closed().await;
    assert!(
        matches!(&reason, quinn::ConnectionError::ApplicationClosed(c) if c.error_code == quinn::VarInt::from_u32(2)),
        "{reason:?}"
    );
}

/// Mutual TLS for transfers: a primary with a client CA and
/// `allow = ["tls+cert"]` transfers to a secondary that shows a certificate
/// from that CA, refuses one that shows none, and still answers DNS over
/// TLS for clients without a certificate.
#[test]
fn transfers_can_require_a_client_certificate() {
    let lab = lab("tls-mutual");
    let clients = Ca::root("client CA");
    clients.write(lab.dir.path(), "client-ca.pem");
    write_leaf(
        lab.dir.path(),
        &clients.leaf(&LeafSpec::new(&["secondary.example.org"])),
        "client.pem",
        "client-key.pem",
    );
    let config = fs::read_to_string(&lab.config)
        .unwrap()
        .replace(
            "key = \"key.pem\"\n",
            "key = \"key.pem\"\nclient_ca = \"client-ca.pem\"\n",
        )
        .replace("allow = [\"tls:127.0.0.0/8\"]", "allow = [\"tls+cert\"]");
    fs::write(&lab.config, config).unwrap();
    let _primary = start_primary(&lab, "fedns-primary");
    let (with_cert, with_port) = start_secondary(
        &lab,
        "with-cert",
        &format!(
            "{}tls_client_certificate = \"client.pem\"\ntls_client_key = \"client-key.pem\"\n",
            strict("ns1.example.org")
        ),
    );
    let (without, _without_port) =
        start_secondary(&lab, "without-cert", &strict("ns1.example.org"));
    common::wait_until(Duration::from_secs(30), || {
        common::serial_at(with_port, "example.org.").map(|s| s == 7)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", with_cert.log_tail(20)));
    common::wait_until(Duration::from_secs(30), || {
        Ok(without.log_tail(20).contains("REFUSED") || without.log_tail(20).contains("Refused"))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", without.log_tail(20)));
    // DoT for everyone: a query without a client certificate is answered.
    if common::peer("kdig").is_some() {
        let tls_port = lab.tls_port.to_string();
        let out = kdig(
            &[
                "@127.0.0.1",
                "-p",
                &tls_port,
                "+tls-ca=ca.pem",
                "+tls-hostname=ns1.example.org",
                "www.example.org",
            ],
            lab.dir.path(),
        );
        assert!(out.contains("192.0.2.1"), "{out}");
    }
}

/// A TLS client that never finishes its handshake is disconnected after
/// the idle timeout; a secondary that meets a primary certificate it does
/// not trust refuses the transfer and keeps serving its copy.
#[test]
fn stalled_handshakes_end_and_an_untrusted_primary_leaves_the_copy_in_place() {
    use std::io::Read;
    let lab = lab("tls-stall");
    let text = fs::read_to_string(&lab.config).unwrap();
    fs::write(&lab.config, format!("{text}[tcp]\nidle_timeout = \"1s\"\n")).unwrap();
    let _primary = start_primary(&lab, "fedns-primary");
    let mut stalled = std::net::TcpStream::connect(common::loopback(lab.tls_port)).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let read = stalled.read(&mut buf);
    assert!(matches!(read, Ok(0)) || read.is_err(), "{read:?}");
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "closed by the server, not by our timeout"
    );

    let port = free_port();
    let config = lab.dir.path().join("secondary.toml");
    let write_config = |name: &str| {
        fs::write(
            &config,
            format!(
                "listen = [\"127.0.0.1:{port}\"]\ndata_dir = \"data-secondary\"\n\
                 [[zone]]\nname = \"example.org\"\nprimaries = [\"127.0.0.1:{}\"]\n\
                 transfer_tls = \"strict\"\ntls_ca = \"ca.pem\"\ntls_name = \"{name}\"\n",
                lab.tls_port
            ),
        )
        .unwrap();
    };
    write_config("ns1.example.org");
    let run = || {
        let mut c = Command::new(common::fedns_bin());
        c.arg("serve").arg("--config").arg(&config);
        common::spawn_on_port("fedns-secondary", lab.dir.path(), port, c).unwrap()
    };
    let first = run();
    common::wait_until(Duration::from_secs(30), || {
        common::serial_at(port, "example.org.").map(|s| s == 7)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", first.log_tail(20)));
    first.stop();
    // Now the primary's certificate does not carry the name we expect.
    write_config("impostor.example.org");
    let second = run();
    common::wait_until(Duration::from_secs(30), || {
        Ok(second
            .log_tail(20)
            .contains("certificate not valid for name"))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", second.log_tail(20)));
    assert_eq!(
        common::serial_at(port, "example.org.").unwrap(),
        7,
        "{}",
        second.log_tail(20)
    );
}

/// NSD 4.6 as an XoT secondary of fedns (its `tls-auth` checks fedns's
/// certificate against the lab CA and the name).
#[test]
fn nsd_transfers_the_zone_over_tls_from_fedns() {
    let Some(nsd) = common::peer("nsd") else {
        return;
    };
    let lab = lab("tls-nsd");
    let _primary = start_primary(&lab, "fedns");
    let port = free_port();
    let d = lab.dir.path().join("nsd");
    fs::create_dir_all(&d).unwrap();
    let conf = d.join("nsd.conf");
    fs::write(
        &conf,
        format!(
            "server:\n    ip-address: 127.0.0.1@{port}\n    port: {port}\n    do-ip6: no\n    username: \"\"\n    chroot: \"\"\n    database: \"\"\n\
             \x20   zonelistfile: \"{d}/zone.list\"\n    xfrdfile: \"{d}/xfrd.state\"\n    xfrdir: \"{d}\"\n    pidfile: \"{d}/nsd.pid\"\n\
             \x20   verbosity: 2\n    rrl-ratelimit: 0\n    tls-cert-bundle: \"{ca}\"\n\n\
             remote-control:\n    control-enable: no\n\n\
             tls-auth:\n    name: \"lab\"\n    auth-domain-name: \"ns1.example.org\"\n\n\
             zone:\n    name: \"example.org\"\n    zonefile: \"{d}/example.org.zone\"\n\
             \x20   request-xfr: AXFR 127.0.0.1@{tls} NOKEY lab\n    allow-notify: 127.0.0.1 NOKEY\n",
            d = d.display(),
            ca = lab.dir.path().join("ca.pem").display(),
            tls = lab.tls_port
        ),
    )
    .unwrap();
    let mut c = Command::new(nsd);
    c.arg("-d").arg("-c").arg(&conf);
    let nsd = common::spawn_on_port("nsd", lab.dir.path(), port, c).unwrap();
    common::wait_until(Duration::from_secs(30), || {
        common::serial_at(port, "example.org.").map(|s| s == 7)
    })
    .unwrap_or_else(|e| panic!("NSD did not transfer over TLS: {e}\n{}", nsd.log_tail(30)));
}
