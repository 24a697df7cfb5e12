//! Running fedns in production: the metrics endpoint, response rate
//! limiting under a bounded loopback flood, and connection limits.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    ServerProcess, TempDir, free_port, http_get, loopback, make_query, query_tcp, query_udp,
    spawn_on_port, wait_until,
};
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};

const TIMEOUT: Duration = Duration::from_secs(2);

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

/// Starts fedns with `extra` configuration; waits until it answers.
fn start(dir: &TempDir, extra: &str) -> (ServerProcess, u16) {
    copy_shipped_zones(&dir.path().join("zones"));
    let port = free_port();
    let conf = dir.path().join("fedns.toml");
    fs::write(
        &conf,
        format!("listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"zones\"\n{extra}"),
    )
    .unwrap();
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(&conf);
    let server = spawn_on_port("fedns", dir.path(), port, c).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while query_udp(
        loopback(port),
        &make_query(&name("example.org."), RecordType::SOA, None),
        Duration::from_millis(300),
    )
    .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "fedns did not start:\n{}",
            server.log_tail(20)
        );
        thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

#[test]
fn metrics_show_queries_serials_and_lint_findings() {
    let dir = TempDir::new("ops-metrics");
    let metrics_port = free_port();
    let (server, port) = start(
        &dir,
        &format!("metrics_listen = \"127.0.0.1:{metrics_port}\"\n"),
    );
    for _ in 0..3 {
        query_tcp(
            loopback(port),
            &make_query(
                &name("_matrix-fed._tcp.example.org."),
                RecordType::SRV,
                None,
            ),
            TIMEOUT,
        )
        .unwrap();
    }
    query_tcp(
        loopback(port),
        &make_query(&name("nope.example.org."), RecordType::A, None),
        TIMEOUT,
    )
    .unwrap();
    let text = http_get(metrics_port, "/metrics");
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(
        text.contains("fedns_queries_total{transport=\"tcp\",qtype=\"SRV\",rcode=\"NOERROR\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("fedns_queries_total{transport=\"tcp\",qtype=\"A\",rcode=\"NXDOMAIN\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("fedns_zone_serial{zone=\"example.org.\"} 2026112601"),
        "{text}"
    );
    assert!(
        text.contains("fedns_lint_findings{zone=\"example.org.\",severity=\"warning\"}"),
        "{text}"
    );
    assert!(http_get(metrics_port, "/nope").starts_with("HTTP/1.1 404"));
    drop(server);
}

#[test]
fn metrics_count_udp_queries_too() {
    let dir = TempDir::new("ops-metrics-udp");
    let metrics_port = free_port();
    let (_server, port) = start(
        &dir,
        &format!("metrics_listen = \"127.0.0.1:{metrics_port}\"\n"),
    );
    for _ in 0..5 {
        query_udp(
            loopback(port),
            &make_query(&name("example.org."), RecordType::MX, Some(1232)),
            TIMEOUT,
        )
        .unwrap();
    }
    let text = http_get(metrics_port, "/metrics");
    assert!(
        text.contains("fedns_queries_total{transport=\"udp\",qtype=\"MX\",rcode=\"NOERROR\"} 5"),
        "{text}"
    );
}

/// A bounded flood from loopback (rate limiting loopback on purpose): the
/// limit holds, every second limited answer slips out truncated, and a
/// client asking something else is still answered.
#[test]
fn rate_limiting_holds_under_a_flood_and_real_clients_still_get_answers() {
    let dir = TempDir::new("ops-rrl");
    let metrics_port = free_port();
    let (_server, port) = start(
        &dir,
        &format!(
            "metrics_listen = \"127.0.0.1:{metrics_port}\"\n[rate_limit]\nresponses_per_second = 10\nwindow = \"1s\"\nslip = 2\nlimit_loopback = true\n"
        ),
    );
    let socket = UdpSocket::bind(loopback(0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let query = make_query(&name("synapse.example.org."), RecordType::A, Some(1232))
        .to_vec()
        .unwrap();
    const SENT: usize = 300;
    let started = Instant::now();
    for _ in 0..SENT {
        socket.send_to(&query, loopback(port)).unwrap();
    }
    let (mut full, mut truncated) = (0, 0);
    let mut buf = [0u8; 1500];
    while let Ok((len, _)) = socket.recv_from(&mut buf) {
        let m = Message::from_vec(&buf[..len]).unwrap();
        if m.metadata.truncation {
            truncated += 1;
        } else {
            full += 1;
        }
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Allowance: the burst (10 x 1 s) plus 10/s for the time the flood took.
    let allowed = 10.0 + 10.0 * elapsed + 1.0;
    assert!(
        f64::from(full) <= allowed,
        "{full} full answers to {SENT} queries in {elapsed:.2}s (allowed {allowed:.0})"
    );
    assert!(full >= 10, "the burst is answered: {full}");
    assert!(
        truncated > 50,
        "about half of the limited answers slip: {truncated}"
    );
    // Another client network? Loopback is one /24; a different response kind
    // is a different bucket, so a real question still gets through.
    let m = query_udp(
        loopback(port),
        &make_query(
            &name("_matrix-fed._tcp.example.org."),
            RecordType::SRV,
            Some(1232),
        ),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(m.answers.len(), 1);
    assert!(!m.metadata.truncation);
    let text = http_get(metrics_port, "/metrics");
    assert!(
        text.contains("fedns_rate_limited_total{action=\"slipped\"}"),
        "{text}"
    );
}

/// Slow and half-open TCP clients hold their slots, the per-client cap
/// closes what is over it, UDP answers throughout, and a connection that
/// outlives `max_connection_time` is closed even while it asks questions.
#[test]
fn tcp_limits_hold_against_slow_clients_while_udp_answers() {
    let dir = TempDir::new("ops-tcp-limits");
    let (server, port) = start(
        &dir,
        "[tcp]\nmax_connections_per_client = 3\nmax_connection_time = \"3s\"\nidle_timeout = \"10s\"\n",
    );
    // Three half-open clients (a length prefix, then nothing) from 127.0.0.1.
    let held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = TcpStream::connect(loopback(port)).unwrap();
            s.write_all(&[0x00]).unwrap();
            s
        })
        .collect();
    // A fourth from the same address is closed at once.
    let mut extra = TcpStream::connect(loopback(port)).unwrap();
    extra.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0u8; 16];
    let closed = matches!(extra.read(&mut buf), Ok(0)) || extra.read(&mut buf).is_err();
    assert!(closed, "the connection over the per-client cap is closed");
    // UDP answers meanwhile.
    let m = query_udp(
        loopback(port),
        &make_query(&name("example.org."), RecordType::SOA, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(m.answers.len(), 1);
    let _ = wait_until(Duration::from_secs(5), || {
        Ok(server
            .log_tail(30)
            .contains("per-client TCP connection limit (3) reached"))
    });
    assert!(
        server
            .log_tail(30)
            .contains("per-client TCP connection limit (3) reached"),
        "logged once:\n{}",
        server.log_tail(30)
    );
    drop(held);

    // A busy connection is closed when its lifetime (3 s) is over. The
    // server frees the held slots when it reads their EOF, which may be a
    // moment after the drop: until then a new connection is over the cap and
    // closed unanswered, so connect again (bounded) until one is answered.
    let query = make_query(&name("example.org."), RecordType::SOA, None)
        .to_vec()
        .unwrap();
    let ask = |stream: &mut TcpStream| -> bool {
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&query);
        let mut len = [0u8; 2];
        if stream.write_all(&framed).is_err() || stream.read_exact(&mut len).is_err() {
            return false;
        }
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut body).is_ok()
    };
    let slots_free_by = Instant::now() + Duration::from_secs(5);
    let (mut busy, started) = loop {
        let mut stream = TcpStream::connect(loopback(port)).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let started = Instant::now();
        if ask(&mut stream) {
            break (stream, started);
        }
        assert!(
            Instant::now() < slots_free_by,
            "the held slots were never freed"
        );
        thread::sleep(Duration::from_millis(50));
    };
    let mut answered = 1;
    while started.elapsed() < Duration::from_secs(8) {
        thread::sleep(Duration::from_millis(200));
        if !ask(&mut busy) {
            break;
        }
        answered += 1;
    }
    let lived = started.elapsed();
    assert!(
        answered > 5,
        "the connection was served while it lived ({answered} answers)"
    );
    assert!(
        lived < Duration::from_secs(6),
        "closed after its 3 s lifetime, not after {lived:?}"
    );
}
