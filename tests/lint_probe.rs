//! The live probe (`fedns check --probe`) against HTTPS servers this test
//! starts on loopback, with names resolved by a `fedns serve` process (or a
//! deliberately broken DNS responder) on a free loopback port: a correctly
//! delegated homeserver, and the misconfigurations LIVE001-LIVE019 and
//! WK001-WK005 describe, each beside a near miss.

mod common;
mod lint_support;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::{ServerProcess, TempDir};
use fedns::lint::check::{CheckOptions, check};
use fedns::lint::{Finding, Rule};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use lint_support::{
    Ca, Certs, Handler, Leaf, LeafSpec, Request, Response, TestServer, homeserver, write, zone_toml,
};

const S: &str = "lab.test";
const TARGET: &str = "synapse.lab.test";

/// A lab: a private CA, a zone directory, and the DNS server once started.
struct Lab {
    dir: TempDir,
    ca: Ca,
    dns: Option<ServerProcess>,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let dir = TempDir::new(name);
        let ca = Ca::root("fedns probe lab CA");
        ca.write(dir.path(), "ca.pem");
        std::fs::create_dir_all(dir.path().join("zones")).unwrap();
        Lab { dir, ca, dns: None }
    }

    fn leaf(&self, names: &[&str]) -> Leaf {
        self.ca.leaf(&LeafSpec::new(names))
    }

    /// Writes `zones/ORIGIN.toml`.
    fn zone(&self, origin: &str, text: &str) -> PathBuf {
        write(
            &self.dir.path().join("zones"),
            &format!("{}toml", origin),
            text,
        )
    }

    /// Starts `fedns serve` on the zone directory.
    fn start_dns(&mut self, ready: &str) -> SocketAddr {
        let zones = self.dir.path().join("zones");
        let server = common::start_server(
            "fedns-dns",
            self.dir.path(),
            ready,
            Duration::from_secs(30),
            |port| {
                let mut c = Command::new(common::fedns_bin());
                c.arg("serve")
                    .arg("--zones")
                    .arg(&zones)
                    .arg("--listen")
                    .arg(format!("127.0.0.1:{port}"));
                c
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let addr = server.addr();
        self.dns = Some(server);
        addr
    }

    fn options(&self, zone: &std::path::Path, dns: SocketAddr) -> CheckOptions {
        CheckOptions {
            paths: vec![zone.to_path_buf()],
            ca: vec![self.dir.path().join("ca.pem")],
            system_roots: false,
            probe: true,
            dns: Some(dns),
            timeout: Duration::from_secs(3),
            ..CheckOptions::default()
        }
    }

    /// Runs the probe on `zone`.
    fn probe(&self, zone: &std::path::Path, dns: SocketAddr) -> Vec<Finding> {
        check(&self.options(zone, dns))
            .expect("check runs")
            .findings
    }
}

/// The zone for S delegated by SRV to TARGET:port at `addresses`.
fn srv_zone(port: u16, addresses: &[&str]) -> String {
    zone_toml(
        "lab.test.",
        &[("synapse", addresses)],
        &format!("[[matrix]]\nserver_name = \"@\"\ntarget = \"synapse\"\nport = {port}\n"),
    )
}

fn live(findings: &[Finding]) -> Vec<Rule> {
    let mut v: Vec<Rule> = findings
        .iter()
        .map(|f| f.rule)
        .filter(|r| r.id().starts_with("LIVE") || r.id().starts_with("WK"))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn message_of(findings: &[Finding], rule: Rule) -> String {
    findings
        .iter()
        .find(|f| f.rule == rule)
        .map(|f| f.message.clone())
        .unwrap_or_else(|| panic!("no {rule} in {findings:#?}"))
}

fn https(certs: Certs, handler: Handler) -> TestServer {
    TestServer::https(Ipv4Addr::LOCALHOST, 0, certs, handler).expect("HTTPS test server")
}

fn only(leaf: Leaf) -> Certs {
    Certs {
        by_name: Vec::new(),
        default: Some(leaf),
    }
}

fn homeserver_handler() -> Handler {
    Arc::new(|req: &Request| homeserver(S, req))
}

#[test]
fn a_correctly_delegated_homeserver_passes() {
    let mut lab = Lab::new("probe-good");
    let server = https(only(lab.leaf(&[S, TARGET])), homeserver_handler());
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert_eq!(live(&findings), vec![], "{findings:#?}");
    let seen = server.seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|r| r.sni.as_deref() == Some(S) && r.host == S),
        "SNI and Host are the server name: {seen:?}"
    );
    assert!(
        seen.iter().any(|r| r.path == "/_matrix/key/v2/server")
            && seen
                .iter()
                .any(|r| r.path == "/_matrix/federation/v1/version")
    );
}

#[test]
fn certificate_for_the_target_only_is_live005_and_for_another_name_live003() {
    let mut lab = Lab::new("probe-target-only");
    let target_only = https(only(lab.leaf(&[TARGET])), homeserver_handler());
    let zone = lab.zone(
        "lab.test.",
        &srv_zone(target_only.addr.port(), &["127.0.0.1"]),
    );
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert!(
        live(&findings).contains(&Rule::Live005) && !live(&findings).contains(&Rule::Live003),
        "{findings:#?}"
    );
    let m = message_of(&findings, Rule::Live005);
    assert!(
        m.contains("not for lab.test") && m.contains("valid certificate for synapse.lab.test"),
        "{m}"
    );

    let mut lab = Lab::new("probe-other-name");
    let elsewhere = https(only(lab.leaf(&["www.example.test"])), homeserver_handler());
    let zone = lab.zone(
        "lab.test.",
        &srv_zone(elsewhere.addr.port(), &["127.0.0.1"]),
    );
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert!(
        live(&findings).contains(&Rule::Live003) && !live(&findings).contains(&Rule::Live005),
        "{findings:#?}"
    );
}

#[test]
fn routing_by_the_target_name_gives_404_live006() {
    let mut lab = Lab::new("probe-routing");
    let handler: Handler = Arc::new(|req: &Request| {
        if req.host == TARGET {
            homeserver(S, req)
        } else {
            Response::html(404, "no such site")
        }
    });
    let server = https(only(lab.leaf(&[S, TARGET])), handler);
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert!(live(&findings).contains(&Rule::Live006), "{findings:#?}");
    assert!(message_of(&findings, Rule::Live006).contains("answered 404"));
}

#[test]
fn html_instead_of_json_is_live007() {
    let mut lab = Lab::new("probe-html");
    let server = https(
        only(lab.leaf(&[S])),
        Arc::new(|_: &Request| Response::html(200, "Welcome to our website")),
    );
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    let rules = live(&findings);
    assert!(
        rules.contains(&Rule::Live007)
            && rules.contains(&Rule::Live010)
            && !rules.contains(&Rule::Live006),
        "{findings:#?}"
    );
    assert!(message_of(&findings, Rule::Live007).contains("an HTML page"));
}

#[test]
fn wrong_server_name_and_stale_keys_are_live008_and_live009() {
    let mut lab = Lab::new("probe-keys");
    let handler: Handler = Arc::new(|req: &Request| match req.path.as_str() {
        "/_matrix/key/v2/server" => Response::json(serde_json::json!({
            "server_name": "other.test",
            "valid_until_ts": 1_000,
            "verify_keys": {"ed25519:old": {"key": "x"}}
        })),
        _ => homeserver(S, req),
    });
    let server = https(only(lab.leaf(&[S])), handler);
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    // Unsigned, with a key that is no key: LIVE014 and LIVE015 too.
    assert_eq!(
        live(&findings),
        vec![Rule::Live008, Rule::Live009, Rule::Live014, Rule::Live015],
        "{findings:#?}"
    );
    assert!(message_of(&findings, Rule::Live008).contains("\"other.test\""));
    assert!(message_of(&findings, Rule::Live009).contains("in the past"));
}

#[test]
fn missing_version_endpoint_is_live010() {
    let mut lab = Lab::new("probe-version");
    let handler: Handler = Arc::new(|req: &Request| {
        if req.path.contains("version") {
            Response::html(404, "nope")
        } else {
            homeserver(S, req)
        }
    });
    let server = https(only(lab.leaf(&[S])), handler);
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    assert_eq!(live(&lab.probe(&zone, dns)), vec![Rule::Live010]);
}

#[test]
fn aborted_handshakes_are_live002() {
    let mut lab = Lab::new("probe-abort");
    // A reverse proxy that knows only the target's name: no certificate for SNI lab.test.
    let by_target = https(
        Certs {
            by_name: vec![(TARGET.to_owned(), lab.leaf(&[TARGET]))],
            default: None,
        },
        homeserver_handler(),
    );
    let zone = lab.zone(
        "lab.test.",
        &srv_zone(by_target.addr.port(), &["127.0.0.1"]),
    );
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert_eq!(live(&findings), vec![Rule::Live002], "{findings:#?}");
    let m = message_of(&findings, Rule::Live002);
    assert!(
        m.contains("SNI lab.test failed") && m.contains("with SNI synapse.lab.test it succeeds"),
        "{m}"
    );

    // A server that closes the connection at once.
    let mut lab = Lab::new("probe-closing");
    let closing = TestServer::closing(Ipv4Addr::LOCALHOST, 0).unwrap();
    let zone = lab.zone("lab.test.", &srv_zone(closing.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert_eq!(live(&findings), vec![Rule::Live002], "{findings:#?}");
}

#[test]
fn nothing_listening_is_live001() {
    let mut lab = Lab::new("probe-refused");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let zone = lab.zone("lab.test.", &srv_zone(port, &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert_eq!(live(&findings), vec![Rule::Live001], "{findings:#?}");
    assert!(message_of(&findings, Rule::Live001).contains(&format!("127.0.0.1:{port}")));
}

#[test]
fn untrusted_chain_is_live004() {
    let mut lab = Lab::new("probe-untrusted");
    let stranger = Ca::root("not the lab CA");
    let server = https(
        only(stranger.leaf(&LeafSpec::new(&[S]))),
        homeserver_handler(),
    );
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert_eq!(live(&findings), vec![Rule::Live004], "{findings:#?}");
    assert!(message_of(&findings, Rule::Live004).contains("unknown issuer"));
}

#[test]
fn addresses_that_disagree_are_live011() {
    let mut lab = Lab::new("probe-split");
    let good = lab.leaf(&[S, TARGET]);
    let stale = lab.leaf(&[TARGET]);
    let Some((first, second)) = TestServer::pair(|ip, port| {
        let leaf = if ip == Ipv4Addr::LOCALHOST {
            good.clone()
        } else {
            stale.clone()
        };
        TestServer::https(ip, port, only(leaf), homeserver_handler())
    }) else {
        eprintln!("skipped: cannot bind 127.0.0.2 here");
        return;
    };
    let zone = lab.zone(
        "lab.test.",
        &srv_zone(first.addr.port(), &["127.0.0.1", "127.0.0.2"]),
    );
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert!(live(&findings).contains(&Rule::Live011), "{findings:#?}");
    assert!(message_of(&findings, Rule::Live011).contains("127.0.0.2"));
    drop((first, second));

    // Near miss: both addresses serve the same.
    let mut lab = Lab::new("probe-split-same");
    let same = lab.leaf(&[S, TARGET]);
    let (a, b) = TestServer::pair(|ip, port| {
        TestServer::https(ip, port, only(same.clone()), homeserver_handler())
    })
    .expect("pair");
    let zone = lab.zone(
        "lab.test.",
        &srv_zone(a.addr.port(), &["127.0.0.1", "127.0.0.2"]),
    );
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert_eq!(live(&findings), vec![], "{findings:#?}");
    drop((a, b));
}

#[test]
fn a_name_the_dns_server_refuses_or_a_silent_server_is_live012() {
    let mut lab = Lab::new("probe-refused-dns");
    lab.zone("lab.test.", &srv_zone(8448, &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    // other.test is checked but not served: the DNS server answers REFUSED.
    let other = write(
        lab.dir.path(),
        "other.test.toml",
        &zone_toml(
            "other.test.",
            &[("synapse", &["127.0.0.1"])],
            "[[matrix]]\nserver_name = \"@\"\ntarget = \"synapse\"\nport = 8448\n",
        ),
    );
    let findings = lab.probe(&other, dns);
    assert!(live(&findings).contains(&Rule::Live012), "{findings:#?}");
    assert!(
        message_of(&findings, Rule::Live012).contains("REFUSED")
            || message_of(&findings, Rule::Live012).contains("Refused"),
        "{findings:#?}"
    );
    // A DNS server that never answers: bounded by the timeout.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut opts = lab.options(&other, silent.local_addr().unwrap());
    opts.timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let findings = check(&opts).unwrap().findings;
    assert!(live(&findings).contains(&Rule::Live012), "{findings:#?}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A DNS responder that gets empty non-terminals wrong: NXDOMAIN for
/// `_tcp.lab.test`, SERVFAIL for the deprecated `_matrix._tcp.lab.test`,
/// and right answers for the rest.
struct BrokenDns {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BrokenDns {
    fn start(port: u16) -> BrokenDns {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Bounded: stops when asked, and after at most 10 minutes.
            for _ in 0..6_000 {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let Some(q) = query.queries.first().cloned() else {
                    continue;
                };
                let mut reply =
                    Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
                reply.metadata.authoritative = true;
                reply.queries.push(q.clone());
                let qname = q.name().to_lowercase().to_string();
                match (qname.as_str(), q.query_type()) {
                    ("_tcp.lab.test.", _) => reply.metadata.response_code = ResponseCode::NXDomain,
                    ("_matrix._tcp.lab.test.", _) => {
                        reply.metadata.response_code = ResponseCode::ServFail
                    }
                    ("_matrix-fed._tcp.lab.test.", RecordType::SRV) => {
                        reply.answers.push(Record::from_rdata(
                            q.name().clone(),
                            60,
                            RData::SRV(SRV::new(
                                10,
                                0,
                                port,
                                Name::from_ascii("synapse.lab.test.").unwrap(),
                            )),
                        ))
                    }
                    ("synapse.lab.test.", RecordType::A) => reply.answers.push(Record::from_rdata(
                        q.name().clone(),
                        60,
                        RData::A(A(Ipv4Addr::LOCALHOST)),
                    )),
                    _ => {}
                }
                if let Ok(bytes) = reply.to_vec() {
                    let _ = socket.send_to(&bytes, from);
                }
            }
        });
        BrokenDns {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BrokenDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn nxdomain_for_the_empty_non_terminal_is_live013() {
    let lab = Lab::new("probe-ent");
    let server = https(only(lab.leaf(&[S])), homeserver_handler());
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let broken = BrokenDns::start(server.addr.port());
    let findings = lab.probe(&zone, broken.addr);
    assert_eq!(
        live(&findings),
        vec![Rule::Live012, Rule::Live013],
        "{findings:#?}"
    );
    assert!(message_of(&findings, Rule::Live012).contains("_matrix._tcp.lab.test"));
    assert!(message_of(&findings, Rule::Live013).contains("_tcp.lab.test answers NXDOMAIN"));
    // The near miss (fedns answers NODATA there) is a_correctly_delegated_homeserver_passes.
}

// ----------------------------------------------------------- .well-known --

/// A zone where S has addresses and delegates by .well-known to TARGET:port.
fn well_known_zone(port: u16, s_addresses: &[&str]) -> String {
    let mut hosts: Vec<(&str, &[&str])> = vec![("synapse", &["127.0.0.1"])];
    hosts.push(("@", s_addresses));
    zone_toml(
        "lab.test.",
        &hosts,
        &format!("[[matrix]]\nserver_name = \"@\"\nwell_known = \"{TARGET}:{port}\"\n"),
    )
}

fn well_known_server(lab: &Lab, body: String, cache_control: &'static str) -> TestServer {
    let handler: Handler = Arc::new(move |req: &Request| {
        if req.path == "/.well-known/matrix/server" {
            let mut r = Response {
                status: 200,
                content_type: "application/json".into(),
                headers: Vec::new(),
                body: body.clone().into_bytes(),
            };
            if !cache_control.is_empty() {
                r = r.header(&format!("Cache-Control: {cache_control}"));
            }
            r
        } else {
            Response::html(404, "web site")
        }
    });
    https(only(lab.leaf(&[S])), handler)
}

fn fetch_options(
    lab: &Lab,
    zone: &std::path::Path,
    dns: SocketAddr,
    well_known_port: u16,
) -> CheckOptions {
    CheckOptions {
        fetch_well_known: true,
        well_known_port,
        ..lab.options(zone, dns)
    }
}

#[test]
fn a_valid_well_known_is_wk001_and_moves_the_certificate_name() {
    let mut lab = Lab::new("probe-wk-valid");
    let homeserver = https(
        only(lab.leaf(&[TARGET])),
        Arc::new(|req: &Request| homeserver(S, req)),
    );
    let body = format!(r#"{{"m.server": "{TARGET}:{}"}}"#, homeserver.addr.port());
    let wk = well_known_server(&lab, body.clone(), "max-age=60");
    let zone = lab.zone(
        "lab.test.",
        &well_known_zone(homeserver.addr.port(), &["127.0.0.1"]),
    );
    let dns = lab.start_dns("lab.test.");
    let findings = check(&fetch_options(&lab, &zone, dns, wk.addr.port()))
        .unwrap()
        .findings;
    assert_eq!(
        live(&findings),
        vec![Rule::Wk001, Rule::Wk004],
        "{findings:#?}"
    );
    assert!(
        message_of(&findings, Rule::Wk001)
            .contains("the certificate must be valid for synapse.lab.test")
    );
    // The homeserver was asked with SNI and Host = the delegated host.
    let seen = homeserver.seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|r| r.sni.as_deref() == Some(TARGET)
            && r.host == format!("{TARGET}:{}", homeserver.addr.port())),
        "{seen:?}"
    );
    // Near miss: a sensible max-age.
    let wk = well_known_server(&lab, body, "max-age=3600");
    let findings = check(&fetch_options(&lab, &zone, dns, wk.addr.port()))
        .unwrap()
        .findings;
    assert_eq!(live(&findings), vec![Rule::Wk001], "{findings:#?}");
}

#[test]
fn oversized_or_invalid_well_known_is_wk002_and_wk003() {
    let mut lab = Lab::new("probe-wk-bad");
    let big = format!(
        r#"{{"m.server": "{TARGET}:8448", "padding": "{}"}}"#,
        "x".repeat(60 * 1024)
    );
    let wk = well_known_server(&lab, big, "");
    let zone = lab.zone("lab.test.", &well_known_zone(8448, &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = check(&fetch_options(&lab, &zone, dns, wk.addr.port()))
        .unwrap()
        .findings;
    let rules = live(&findings);
    assert!(
        rules.contains(&Rule::Wk002)
            && rules.contains(&Rule::Wk003)
            && !rules.contains(&Rule::Wk001),
        "{findings:#?}"
    );

    let html = well_known_server(&lab, "<html>hello</html>".into(), "");
    let findings = check(&fetch_options(&lab, &zone, dns, html.addr.port()))
        .unwrap()
        .findings;
    assert!(
        live(&findings).contains(&Rule::Wk003) && !live(&findings).contains(&Rule::Wk002),
        "{findings:#?}"
    );
    assert!(message_of(&findings, Rule::Wk003).contains("not valid JSON"));

    // A redirect loop.
    let looping = https(
        only(lab.leaf(&[S])),
        Arc::new(|_: &Request| {
            Response::html(302, "moved").header("Location: /.well-known/matrix/server")
        }),
    );
    let findings = check(&fetch_options(&lab, &zone, dns, looping.addr.port()))
        .unwrap()
        .findings;
    assert!(
        message_of(&findings, Rule::Wk003).contains("redirect loop"),
        "{findings:#?}"
    );
}

#[test]
fn well_known_that_differs_between_addresses_is_wk005() {
    let mut lab = Lab::new("probe-wk-split");
    let leaf = lab.leaf(&[S]);
    let answer = |ip: Ipv4Addr| -> String {
        if ip == Ipv4Addr::LOCALHOST {
            format!(r#"{{"m.server": "{TARGET}:8448"}}"#)
        } else {
            r#"{"m.server": "old.lab.test:8448"}"#.to_owned()
        }
    };
    let Some((a, b)) = TestServer::pair(|ip, port| {
        let body = answer(ip);
        let handler: Handler = Arc::new(move |_: &Request| Response {
            status: 200,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: body.clone().into_bytes(),
        });
        TestServer::https(ip, port, only(leaf.clone()), handler)
    }) else {
        eprintln!("skipped: cannot bind 127.0.0.2 here");
        return;
    };
    let zone = lab.zone(
        "lab.test.",
        &well_known_zone(8448, &["127.0.0.1", "127.0.0.2"]),
    );
    let dns = lab.start_dns("lab.test.");
    let findings = check(&fetch_options(&lab, &zone, dns, a.addr.port()))
        .unwrap()
        .findings;
    assert!(live(&findings).contains(&Rule::Wk005), "{findings:#?}");
    assert!(message_of(&findings, Rule::Wk005).contains("old.lab.test:8448"));
    drop((a, b));
    // Near miss: the same answer everywhere.
    let (c, d) = TestServer::pair(|ip, port| {
        let handler: Handler = Arc::new(|_: &Request| {
            Response::json(serde_json::json!({"m.server": format!("{TARGET}:8448")}))
        });
        TestServer::https(ip, port, only(leaf.clone()), handler)
    })
    .expect("pair");
    let findings = check(&fetch_options(&lab, &zone, dns, c.addr.port()))
        .unwrap()
        .findings;
    assert!(!live(&findings).contains(&Rule::Wk005), "{findings:#?}");
    drop((c, d));
}

#[test]
fn the_cli_probes_with_dns_and_ca_flags() {
    let mut lab = Lab::new("probe-cli");
    let server = https(only(lab.leaf(&[TARGET])), homeserver_handler());
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let out = Command::new(common::fedns_bin())
        .args([
            "check",
            "--probe",
            "--no-system-roots",
            "--timeout",
            "3",
            "--format",
            "json",
            "--dns",
            &dns.to_string(),
            "--ca",
        ])
        .arg(lab.dir.path().join("ca.pem"))
        .arg(&zone)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let live005 = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "LIVE005")
        .expect("LIVE005");
    assert_eq!(live005["name"], S);
    assert_eq!(live005["severity"], "error");
}

/// A key response changed by `edit` after `homeserver` signed it (or
/// before, with `resign`), served with `content_type`.
fn key_handler(
    edit: fn(&mut serde_json::Value),
    resign: bool,
    content_type: &'static str,
) -> Handler {
    Arc::new(move |req: &Request| match req.path.as_str() {
        "/_matrix/key/v2/server" => {
            let mut body = lint_support::key_response(S);
            edit(&mut body);
            if resign {
                if let Some(o) = body.as_object_mut() {
                    o.remove("signatures");
                }
                body = lint_support::signed(S, body);
            }
            let mut r = Response::json(body);
            r.content_type = content_type.into();
            r
        }
        _ => homeserver(S, req),
    })
}

/// Probes a homeserver answering keys with `handler`: the LIVE rules found.
fn probe_keys(name: &str, handler: Handler) -> Vec<Finding> {
    let mut lab = Lab::new(name);
    let server = https(only(lab.leaf(&[S])), handler);
    let zone = lab.zone("lab.test.", &srv_zone(server.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    lab.probe(&zone, dns)
}

#[test]
fn a_key_response_altered_after_signing_is_live014() {
    let tampered = probe_keys(
        "probe-sig",
        key_handler(
            |b| b["valid_until_ts"] = serde_json::json!(lint_support::now_ms() + 7_200_000),
            false,
            "application/json",
        ),
    );
    assert_eq!(live(&tampered), vec![Rule::Live014], "{tampered:#?}");
    assert!(
        message_of(&tampered, Rule::Live014).contains("does not verify over the canonical JSON")
    );
    // Signed by another server name only.
    let foreign = probe_keys(
        "probe-sig-foreign",
        key_handler(
            |b| {
                let sig = b["signatures"]["lab.test"].clone();
                b["signatures"] = serde_json::json!({"other.test": sig});
            },
            false,
            "application/json",
        ),
    );
    assert_eq!(live(&foreign), vec![Rule::Live014], "{foreign:#?}");
    assert!(message_of(&foreign, Rule::Live014).contains("no ed25519 signature by \"lab.test\""));
    // Near miss: changed, then signed again properly, and the `unsigned`
    // member, which the signature does not cover, added afterwards.
    let resigned = probe_keys(
        "probe-sig-ok",
        key_handler(
            |b| b["unsigned"] = serde_json::json!({"note": 1}),
            false,
            "application/json; charset=utf-8",
        ),
    );
    assert_eq!(live(&resigned), vec![], "{resigned:#?}");
}

#[test]
fn a_short_verify_key_is_live015() {
    let findings = probe_keys(
        "probe-short-key",
        key_handler(
            |b| {
                b["verify_keys"]["ed25519:a_test"]["key"] =
                    serde_json::json!("AAAAAAAAAAAAAAAAAAAAAA")
            },
            true,
            "application/json",
        ),
    );
    assert!(live(&findings).contains(&Rule::Live015), "{findings:#?}");
    assert!(message_of(&findings, Rule::Live015).contains("16 bytes"));
}

#[test]
fn keys_expiring_within_the_hour_are_live016_and_beyond_a_week_live017() {
    let soon = probe_keys(
        "probe-expiry-soon",
        key_handler(
            |b| b["valid_until_ts"] = serde_json::json!(lint_support::now_ms() + 600_000),
            true,
            "application/json",
        ),
    );
    assert_eq!(live(&soon), vec![Rule::Live016], "{soon:#?}");
    let far = probe_keys(
        "probe-expiry-far",
        key_handler(
            |b| b["valid_until_ts"] = serde_json::json!(lint_support::now_ms() + 30 * 86_400_000),
            true,
            "application/json",
        ),
    );
    assert_eq!(live(&far), vec![Rule::Live017], "{far:#?}");
    // Near miss: six days ahead.
    let fine = probe_keys(
        "probe-expiry-fine",
        key_handler(
            |b| b["valid_until_ts"] = serde_json::json!(lint_support::now_ms() + 6 * 86_400_000),
            true,
            "application/json",
        ),
    );
    assert_eq!(live(&fine), vec![], "{fine:#?}");
}

#[test]
fn json_served_as_text_html_is_live018() {
    let findings = probe_keys(
        "probe-content-type",
        key_handler(|_| {}, false, "text/html"),
    );
    assert_eq!(live(&findings), vec![Rule::Live018], "{findings:#?}");
    assert!(message_of(&findings, Rule::Live018).contains("\"text/html\""));
}

#[test]
fn a_server_without_tls_1_2_is_live019() {
    let mut lab = Lab::new("probe-old-tls");
    let old = TestServer::tls_1_1_only(Ipv4Addr::LOCALHOST, 0).unwrap();
    let zone = lab.zone("lab.test.", &srv_zone(old.addr.port(), &["127.0.0.1"]));
    let dns = lab.start_dns("lab.test.");
    let findings = lab.probe(&zone, dns);
    assert_eq!(live(&findings), vec![Rule::Live019], "{findings:#?}");
    assert!(message_of(&findings, Rule::Live019).contains("TLS 1.2 and 1.3"));
}

/// A `.well-known` fetched live (not declared in the zone) that names a
/// host without a port, whose SRV records then apply: `check` judges the
/// zone with that delegation, as peers do, so the SRV records at the
/// delegated host are not "queried by no homeserver" (a false SRV003 the
/// Synapse suite found), and the homeserver there passes.
#[test]
fn a_fetched_well_known_without_port_makes_srv_at_the_delegated_host_count() {
    let mut lab = Lab::new("probe-wk-srv");
    let homeserver = https(
        only(lab.leaf(&[TARGET])),
        Arc::new(|req: &Request| homeserver(S, req)),
    );
    let wk = well_known_server(
        &lab,
        format!(r#"{{"m.server": "{TARGET}"}}"#),
        "max-age=3600",
    );
    let zone = lab.zone(
        "lab.test.",
        &zone_toml(
            "lab.test.",
            &[("synapse", &["127.0.0.1"]), ("@", &["127.0.0.1"]), ("node1", &["127.0.0.1"])],
            &format!(
                "[[record]]\nname = \"_matrix-fed._tcp.synapse\"\nSRV = [\"10 0 {} node1.lab.test.\"]\n",
                homeserver.addr.port()
            ),
        ),
    );
    let dns = lab.start_dns("lab.test.");
    let options = CheckOptions {
        server_names: vec![S.to_string()],
        ..fetch_options(&lab, &zone, dns, wk.addr.port())
    };
    let findings = check(&options).unwrap().findings;
    assert!(
        !findings.iter().any(|f| f.rule == Rule::Srv003),
        "{findings:#?}"
    );
    assert_eq!(live(&findings), vec![Rule::Wk001], "{findings:#?}");
}
