//! Remote input never fills the log: floods of refused NOTIFYs, refused
//! transfers, badly signed requests and malformed EDNS options against a
//! running server at the default log level write a handful of lines, and
//! the metrics count every one.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use common::{TempDir, make_query, start_server};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

/// How many of each kind of packet the flood sends.
const FLOOD: usize = 2000;
/// How many refused transfers (one TCP connection each).
const TRANSFERS: usize = 200;

fn notify_for(zone: &str, id: u16) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Notify);
    m.metadata.authoritative = true;
    m.add_query(Query::query(
        Name::from_ascii(zone).unwrap(),
        RecordType::SOA,
    ));
    m.to_vec().unwrap()
}

/// A query whose OPT record ends in the middle of an option (a code and
/// no length): hickory-proto warns "incomplete or poorly formatted EDNS
/// options" when it decodes one.
fn bad_edns(id: u16) -> Vec<u8> {
    let mut bytes = make_query(
        &Name::from_ascii("example.org.").unwrap(),
        RecordType::A,
        None,
    )
    .to_vec()
    .unwrap();
    bytes[0..2].copy_from_slice(&id.to_be_bytes());
    bytes[11] = 1; // ARCOUNT
    bytes.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 2, 0, 10]);
    bytes
}

#[test]
fn floods_of_refusals_and_malformed_options_write_a_handful_of_lines() {
    let dir = TempDir::new("log-flood");
    let zones = dir.path().join("zones");
    fs::create_dir_all(&zones).unwrap();
    fs::write(
        zones.join("example.org.toml"),
        "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\n\
         [[record]]\nname = \"@\"\nNS = [\"ns1\"]\n[[record]]\nname = \"ns1\"\nA = [\"192.0.2.53\"]\n",
    )
    .unwrap();
    let metrics_port = common::free_port();
    let config = dir.path().join("fedns.toml");
    let server = start_server("fedns", dir.path(), "example.org.", Duration::from_secs(20), |port| {
        fs::write(
            &config,
            format!(
                "listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"zones\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n"
            ),
        )
        .unwrap();
        let mut c = Command::new(common::fedns_bin());
        c.arg("serve").arg("--config").arg(&config);
        c
    })
    .unwrap();
    let lines_before = fs::read_to_string(&server.log).unwrap().lines().count();

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.connect(server.addr()).unwrap();
    let mut buf = [0u8; 1500];
    let mut answered = 0;
    for i in 0..FLOOD {
        let id = i as u16;
        for packet in [
            notify_for("stranger.test.", id),
            notify_for("example.org.", id),
            bad_edns(id),
        ] {
            socket.send(&packet).unwrap();
            if socket.recv(&mut buf).is_ok() {
                answered += 1;
            }
        }
    }
    for _ in 0..TRANSFERS {
        let mut tcp = TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let axfr = make_query(
            &Name::from_ascii("example.org.").unwrap(),
            RecordType::AXFR,
            None,
        )
        .to_vec()
        .unwrap();
        let mut framed = (axfr.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&axfr);
        tcp.write_all(&framed).unwrap();
        let mut len = [0u8; 2];
        tcp.read_exact(&mut len).unwrap();
    }
    assert!(answered >= FLOOD * 3 * 9 / 10, "{answered} answers");

    let log = fs::read_to_string(&server.log).unwrap();
    let flood_lines: Vec<&str> = log.lines().skip(lines_before).collect();
    assert!(
        flood_lines.len() <= 6,
        "{} log lines for {} packets:\n{}",
        flood_lines.len(),
        FLOOD * 3 + TRANSFERS,
        flood_lines.join("\n")
    );
    // Every refusal is counted all the same.
    let mut metrics = TcpStream::connect(("127.0.0.1", metrics_port)).unwrap();
    metrics
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    metrics.read_to_string(&mut text).unwrap();
    for (kind, n) in [
        ("notify-not-secondary", FLOOD * 2),
        ("transfer-denied", TRANSFERS),
    ] {
        let line = format!("fedns_refused_requests_total{{kind=\"{kind}\"}} {n}");
        assert!(text.contains(&line), "{line} in:\n{text}");
    }
}
