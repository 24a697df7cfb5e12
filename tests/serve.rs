//! `fedns serve` as a process, queried over real UDP and TCP on loopback:
//! the shipped zones, reload on SIGHUP (good and bad files), startup errors,
//! several queries on one TCP connection, and a stalled TCP client.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{TempDir, make_query, query_tcp, query_udp, start_server, wait_until};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

const TIMEOUT: Duration = Duration::from_secs(3);

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn copy_shipped_zones(to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("zones")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

fn start_fedns(dir: &TempDir, zones: &Path) -> common::ServerProcess {
    start_server(
        "fedns",
        dir.path(),
        "example.org.",
        Duration::from_secs(30),
        |port| {
            let mut c = Command::new(common::fedns_bin());
            c.arg("serve")
                .arg("--zones")
                .arg(zones)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"));
            c
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn soa_serial(m: &Message) -> Option<u32> {
    m.answers.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    })
}

#[test]
fn shipped_zone_answers_over_udp_and_tcp() {
    let dir = TempDir::new("serve-shipped");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    let server = start_fedns(&dir, &zones);

    let srv = make_query(
        &name("_matrix-fed._tcp.example.org."),
        RecordType::SRV,
        Some(1232),
    );
    for response in [
        query_udp(server.addr(), &srv, TIMEOUT).unwrap(),
        query_tcp(server.addr(), &srv, TIMEOUT).unwrap(),
    ] {
        assert_eq!(response.metadata.response_code, ResponseCode::NoError);
        assert!(response.metadata.authoritative);
        assert_eq!(response.answers.len(), 1);
        let additional: Vec<RecordType> = response
            .additionals
            .iter()
            .map(|r| r.record_type())
            .collect();
        assert_eq!(
            additional,
            [RecordType::A, RecordType::AAAA],
            "the SRV target's addresses"
        );
    }
    let legacy = query_udp(
        server.addr(),
        &make_query(&name("_matrix._tcp.example.org."), RecordType::SRV, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(
        legacy.answers.len(),
        1,
        "the deprecated _matrix._tcp SRV is published too"
    );

    let ent = query_udp(
        server.addr(),
        &make_query(&name("_tcp.example.org."), RecordType::SRV, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(
        ent.metadata.response_code,
        ResponseCode::NoError,
        "empty non-terminal: NODATA"
    );

    let nx = query_tcp(
        server.addr(),
        &make_query(&name("nope.example.org."), RecordType::A, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);

    let refused = query_udp(
        server.addr(),
        &make_query(&name("example.com."), RecordType::A, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
}

#[test]
fn several_queries_on_one_tcp_connection_are_answered_in_order() {
    let dir = TempDir::new("serve-tcp-pipeline");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    let server = start_fedns(&dir, &zones);

    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let queries: Vec<Message> = ["example.org.", "synapse.example.org.", "mail.example.org."]
        .iter()
        .map(|n| make_query(&name(n), RecordType::A, None))
        .collect();
    // All three written before reading any answer (RFC 7766 pipelining).
    let mut out = Vec::new();
    for q in &queries {
        let wire = q.to_vec().unwrap();
        out.extend_from_slice(&(wire.len() as u16).to_be_bytes());
        out.extend_from_slice(&wire);
    }
    stream.write_all(&out).unwrap();
    for q in &queries {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).unwrap();
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut body).unwrap();
        let r = Message::from_vec(&body).unwrap();
        assert_eq!(r.metadata.id, q.metadata.id);
        assert_eq!(r.queries[0].name(), q.queries[0].name());
        assert_eq!(r.answers.len(), 1);
    }
}

#[test]
fn a_stalled_tcp_client_does_not_block_others() {
    let dir = TempDir::new("serve-tcp-stall");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    let server = start_fedns(&dir, &zones);

    // A length prefix promising 300 bytes, then 3 bytes, then nothing.
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    stalled.write_all(&[0x01, 0x2c, 0xab, 0xcd, 0xef]).unwrap();
    let mut half_open = TcpStream::connect(server.addr()).unwrap();
    half_open.write_all(&[0x00]).unwrap();

    let q = make_query(&name("example.org."), RecordType::SOA, None);
    assert!(soa_serial(&query_udp(server.addr(), &q, TIMEOUT).unwrap()).is_some());
    assert!(soa_serial(&query_tcp(server.addr(), &q, TIMEOUT).unwrap()).is_some());

    // The stalled connection is closed by the server (idle timeout 10 s), bounded here at 15 s.
    stalled
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut buf = [0u8; 16];
    let closed = matches!(stalled.read(&mut buf), Ok(0)) || stalled.read(&mut buf).is_err();
    assert!(
        closed,
        "the server closes a connection that stalls mid-message"
    );
}

#[test]
fn sighup_reloads_and_a_broken_zone_keeps_serving_its_old_version() {
    let dir = TempDir::new("serve-reload");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    let server = start_fedns(&dir, &zones);
    let file = zones.join("example.org.toml");
    let original = fs::read_to_string(&file).unwrap();
    let soa = make_query(&name("example.org."), RecordType::SOA, None);
    assert_eq!(
        soa_serial(&query_udp(server.addr(), &soa, TIMEOUT).unwrap()),
        Some(2026112601)
    );

    let hup = || common::hup(&server);
    let wait_for_serial = |want: u32| {
        wait_until(Duration::from_secs(10), || {
            Ok(soa_serial(&query_udp(server.addr(), &soa, TIMEOUT)?) == Some(want))
        })
        .is_ok()
    };

    // A good change: new serial and a new name.
    let changed = original.replace("serial = 2026112601", "serial = 2026112602")
        + "\n[[record]]\nname = \"new\"\nA = [\"203.0.113.99\"]\n";
    fs::write(&file, changed).unwrap();
    hup();
    assert!(
        wait_for_serial(2026112602),
        "reload picked up the new serial"
    );
    let new = query_udp(
        server.addr(),
        &make_query(&name("new.example.org."), RecordType::A, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(new.answers.len(), 1);

    // A broken change: the old version keeps serving, the error is logged with its place.
    fs::write(
        &file,
        original
            .replace("serial = 2026112601", "serial = 2026112603")
            .replace("203.0.113.20", "203.0.113.300"),
    )
    .unwrap();
    hup();
    let _ = wait_until(Duration::from_secs(10), || {
        Ok(server.log_tail(50).contains("keeps serving"))
    });
    let log = server.log_tail(50);
    assert!(log.contains("example.org.toml:"), "{log}");
    assert!(log.contains("bad A data"), "{log}");
    assert_eq!(
        soa_serial(&query_udp(server.addr(), &soa, TIMEOUT).unwrap()),
        Some(2026112602)
    );
    let still = query_udp(
        server.addr(),
        &make_query(&name("new.example.org."), RecordType::A, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(still.answers.len(), 1, "the previous version is intact");
}

#[test]
fn a_broken_zone_at_startup_is_reported_with_its_place_and_exits_non_zero() {
    let dir = TempDir::new("serve-broken");
    let zones = dir.path().join("zones");
    fs::create_dir_all(&zones).unwrap();
    fs::write(
        zones.join("broken.test.toml"),
        "[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\n[[record]]\nname = \"www\"\nA = [\"not-an-address\"]\n",
    )
    .unwrap();
    let out = Command::new(common::fedns_bin())
        .arg("serve")
        .arg("--zones")
        .arg(&zones)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.test.toml:10:7: bad A data \"not-an-address\""),
        "{stderr}"
    );
}

#[test]
fn check_lists_every_error_and_exits_non_zero() {
    let dir = TempDir::new("check-errors");
    let file = dir.path().join("bad.test.toml");
    fs::write(&file, "[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\nserial = 1\n[[record]]\nname = \"www.other.test.\"\nA = [\"192.0.2.1\"]\n").unwrap();
    let out = Command::new(common::fedns_bin())
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("bad.test.toml:7:"), "{stdout}");
    assert!(stdout.contains("outside the zone"), "{stdout}");
    assert!(stdout.contains("no NS record"), "{stdout}");
}

#[test]
fn strict_refuses_a_reload_whose_delegation_has_errors() {
    let dir = TempDir::new("serve-strict");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    let server = start_server(
        "fedns",
        dir.path(),
        "example.org.",
        Duration::from_secs(30),
        |port| {
            let mut c = Command::new(common::fedns_bin());
            c.arg("serve")
                .arg("--strict")
                .arg("--zones")
                .arg(&zones)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"));
            c
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file = zones.join("example.org.toml");
    let original = fs::read_to_string(&file).unwrap();
    // Port 0 in the delegation: SRV012, an error.
    fs::write(
        &file,
        original
            .replace("serial = 2026112601", "serial = 2026112602")
            .replace("port = 443", "port = 0"),
    )
    .unwrap();
    common::hup(&server);
    let _ = wait_until(Duration::from_secs(10), || {
        Ok(server
            .log_tail(40)
            .contains("still serving the previous versions"))
    });
    let log = server.log_tail(40);
    assert!(log.contains("SRV012"), "the finding is logged:\n{log}");
    assert!(log.contains("still serving the previous versions"), "{log}");
    let soa = make_query(&name("example.org."), RecordType::SOA, None);
    assert_eq!(
        soa_serial(&query_udp(server.addr(), &soa, TIMEOUT).unwrap()),
        Some(2026112601)
    );
}

#[test]
fn user_drops_root_after_binding_and_keeps_answering() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: --user needs root to switch users");
        return;
    }
    let dir = TempDir::new("serve-user");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    // The zone files must stay readable for reloads as `nobody`.
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(dir.path())
        .status()
        .unwrap();
    let server = start_server(
        "fedns",
        dir.path(),
        "example.org.",
        Duration::from_secs(30),
        |port| {
            let mut c = Command::new(common::fedns_bin());
            c.arg("serve")
                .arg("--user")
                .arg("nobody")
                .arg("--zones")
                .arg(&zones)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"));
            c
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let status = fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    assert!(
        uid_line.split_whitespace().skip(1).all(|id| id == "65534"),
        "{uid_line}"
    );
    assert!(server.log_tail(20).contains("running as user nobody"));
    let soa = make_query(&name("example.org."), RecordType::SOA, None);
    assert!(soa_serial(&query_tcp(server.addr(), &soa, TIMEOUT).unwrap()).is_some());
}

#[test]
fn an_unknown_user_is_a_clear_error() {
    let dir = TempDir::new("serve-user-unknown");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    let out = Command::new(common::fedns_bin())
        .args(["serve", "--user", "no-such-user-fedns"])
        .arg("--zones")
        .arg(&zones)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no user named \"no-such-user-fedns\""),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_the_server_cleanly_with_exit_status_zero() {
    let dir = TempDir::new("serve-sigterm");
    let zones = dir.path().join("zones");
    copy_shipped_zones(&zones);
    // Up to three ports: another test's server may take a port between
    // picking it and binding it; then this child exits and we try again.
    let mut started_child = None;
    for _ in 0..3 {
        let port = common::free_port();
        let mut child = Command::new(common::fedns_bin())
            .arg("serve")
            .arg("--zones")
            .arg(&zones)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let soa = make_query(&name("example.org."), RecordType::SOA, None);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut ready = false;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if query_udp(common::loopback(port), &soa, Duration::from_millis(300)).is_ok() {
                ready = true;
                break;
            }
        }
        match TcpStream::connect(common::loopback(port)) {
            Ok(idle) if ready && child.try_wait().unwrap().is_none() => {
                started_child = Some((child, idle));
                break;
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    // An idle TCP client (held below) must not hold the shutdown up.
    let (mut child, _idle) = started_child.expect("fedns did not start on any of three ports");
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "fedns did not exit within 10 s of SIGTERM"
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("shutting down"), "{stderr}");
}
