//! Transfers that go wrong, against a fake primary run by the test on
//! loopback: cut off midway, stalled, oversized, answering REFUSED. The
//! secondary must keep serving what it had, and every failure is bounded
//! in time.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{TempDir, free_port, loopback, make_query, query_udp, serial_at, spawn_on_port};
use fedns::xfr::client::{TransferError, TransferLimits, axfr};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// How the fake primary answers transfer requests.
const GOOD: u8 = 0;
const CUT_OFF: u8 = 1;
const STALL: u8 = 2;
const REFUSE: u8 = 3;

struct FakePrimary {
    addr: SocketAddr,
    serial: Arc<AtomicU32>,
    mode: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
}

impl Drop for FakePrimary {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn origin() -> Name {
    Name::from_ascii("example.org.").unwrap()
}

fn soa(serial: u32) -> Record {
    let n = origin();
    Record::from_rdata(
        n.clone(),
        300,
        RData::SOA(SOA::new(
            Name::from_ascii("ns1.example.org.").unwrap(),
            n,
            serial,
            3600,
            600,
            86400,
            60,
        )),
    )
}

fn zone_records(serial: u32, hosts: usize) -> Vec<Record> {
    let mut r = vec![
        soa(serial),
        Record::from_rdata(
            origin(),
            300,
            RData::NS(NS(Name::from_ascii("ns1.example.org.").unwrap())),
        ),
    ];
    r.push(Record::from_rdata(
        Name::from_ascii("ns1.example.org.").unwrap(),
        300,
        RData::A(A::new(192, 0, 2, 53)),
    ));
    for i in 0..hosts {
        r.push(Record::from_rdata(
            Name::from_ascii(format!("h{i}.example.org.")).unwrap(),
            300,
            RData::A(A::new(198, 18, (i / 256) as u8, (i % 256) as u8)),
        ));
    }
    r.push(Record::from_rdata(
        Name::from_ascii(format!("serial{serial}.example.org.")).unwrap(),
        300,
        RData::A(A::new(192, 0, 2, 7)),
    ));
    r
}

fn response(request: &Message, answers: Vec<Record>, rcode: ResponseCode) -> Vec<u8> {
    let mut m = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    m.metadata.authoritative = true;
    m.metadata.response_code = rcode;
    m.queries = request.queries.clone();
    m.answers = answers;
    m.to_vec().unwrap()
}

fn frame(bytes: &[u8]) -> Vec<u8> {
    let mut f = (bytes.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(bytes);
    f
}

fn start_fake_primary(hosts: usize) -> FakePrimary {
    let port = free_port();
    let addr = loopback(port);
    let serial = Arc::new(AtomicU32::new(1));
    let mode = Arc::new(AtomicU8::new(GOOD));
    let stop = Arc::new(AtomicBool::new(false));
    let udp = UdpSocket::bind(addr).unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let tcp = TcpListener::bind(addr).unwrap();
    tcp.set_nonblocking(true).unwrap();
    {
        let (serial, stop) = (Arc::clone(&serial), Arc::clone(&stop));
        thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !stop.load(Ordering::SeqCst) {
                let Ok((len, peer)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(q) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                let _ = udp.send_to(
                    &response(
                        &q,
                        vec![soa(serial.load(Ordering::SeqCst))],
                        ResponseCode::NoError,
                    ),
                    peer,
                );
            }
        });
    }
    {
        let (serial, mode, stop) = (Arc::clone(&serial), Arc::clone(&mode), Arc::clone(&stop));
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                match tcp.accept() {
                    Ok((stream, _)) => {
                        let (serial, mode, stop) = (
                            serial.load(Ordering::SeqCst),
                            mode.load(Ordering::SeqCst),
                            Arc::clone(&stop),
                        );
                        thread::spawn(move || serve_tcp(stream, serial, mode, hosts, &stop));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
    }
    FakePrimary {
        addr,
        serial,
        mode,
        stop,
    }
}

fn serve_tcp(mut stream: TcpStream, serial: u32, mode: u8, hosts: usize, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut len = [0u8; 2];
    if stream.read_exact(&mut len).is_err() {
        return;
    }
    let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
    if stream.read_exact(&mut body).is_err() {
        return;
    }
    let Ok(q) = Message::from_vec(&body) else {
        return;
    };
    let qtype = q.queries.first().map(|q| q.query_type());
    if qtype == Some(RecordType::SOA) {
        let _ = stream.write_all(&frame(&response(
            &q,
            vec![soa(serial)],
            ResponseCode::NoError,
        )));
        return;
    }
    let mut records = zone_records(serial, hosts);
    records.push(soa(serial));
    match mode {
        REFUSE => {
            let _ = stream.write_all(&frame(&response(&q, Vec::new(), ResponseCode::Refused)));
        }
        STALL => {
            let until = Instant::now() + Duration::from_secs(20);
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(50));
            }
        }
        _ => {
            let chunks: Vec<Vec<Record>> = records.chunks(100).map(|c| c.to_vec()).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                if mode == CUT_OFF && i == chunks.len() / 2 {
                    return; // the connection closes midway
                }
                if stream
                    .write_all(&frame(&response(&q, chunk.clone(), ResponseCode::NoError)))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

fn limits(total: Duration) -> TransferLimits {
    TransferLimits {
        connect_timeout: Duration::from_secs(2),
        message_timeout: Duration::from_secs(2),
        total_timeout: total,
        ..TransferLimits::default()
    }
}

#[tokio::test]
async fn a_transfer_cut_off_midway_is_an_error() {
    let fake = start_fake_primary(1000);
    fake.mode.store(CUT_OFF, Ordering::SeqCst);
    let e = axfr(
        fake.addr,
        &origin(),
        None,
        limits(Duration::from_secs(10)),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("closed the connection before the transfer was complete"),
        "{e}"
    );
}

#[tokio::test]
async fn a_stalled_primary_is_given_up_within_the_message_timeout() {
    let fake = start_fake_primary(10);
    fake.mode.store(STALL, Ordering::SeqCst);
    let started = Instant::now();
    let e = axfr(
        fake.addr,
        &origin(),
        None,
        limits(Duration::from_secs(10)),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, TransferError::Timeout { .. }), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the 2 s message timeout"
    );
}

#[tokio::test]
async fn a_transfer_over_the_size_limit_is_refused() {
    let fake = start_fake_primary(3000);
    let small = TransferLimits {
        max_bytes: 20_000,
        ..limits(Duration::from_secs(10))
    };
    let e = axfr(fake.addr, &origin(), None, small, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("size limit"), "{e}");
}

#[tokio::test]
async fn a_refused_transfer_names_the_primary_and_the_rcode() {
    let fake = start_fake_primary(10);
    fake.mode.store(REFUSE, Ordering::SeqCst);
    let e = axfr(
        fake.addr,
        &origin(),
        None,
        limits(Duration::from_secs(10)),
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(&fake.addr.to_string()) && e.contains("Refused"),
        "{e}"
    );
}

fn send_notify(to: u16) {
    let mut m = Message::new(4321, MessageType::Query, OpCode::Notify);
    m.metadata.authoritative = true;
    m.add_query(Query::query(origin(), RecordType::SOA));
    let socket = UdpSocket::bind(loopback(0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.send_to(&m.to_vec().unwrap(), loopback(to)).unwrap();
    let mut buf = [0u8; 512];
    let (len, _) = socket.recv_from(&mut buf).unwrap();
    let r = Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(
        r.metadata.response_code,
        ResponseCode::NoError,
        "NOTIFY from the primary's address is accepted"
    );
}

#[test]
fn a_secondary_keeps_serving_its_version_when_a_transfer_breaks_off() {
    let fake = start_fake_primary(1000);
    let dir = TempDir::new("xfr-cutoff");
    let port = free_port();
    fs::create_dir_all(dir.path().join("zones")).unwrap();
    let conf = dir.path().join("fedns.toml");
    fs::write(
        &conf,
        format!("listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"zones\"\ndata_dir = \"data\"\n[[secondary]]\nzone = \"example.org\"\nprimaries = [\"{}\"]\n", fake.addr),
    )
    .unwrap();
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(&conf);
    let secondary = spawn_on_port("fedns", dir.path(), port, c).unwrap();
    let wait = |serial: u32| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if serial_at(port, "example.org.").ok() == Some(serial) {
                return true;
            }
            thread::sleep(Duration::from_millis(100));
        }
        false
    };
    assert!(wait(1), "first transfer\n{}", secondary.log_tail(20));

    // Serial 2 is announced, but every transfer breaks off midway.
    fake.serial.store(2, Ordering::SeqCst);
    fake.mode.store(CUT_OFF, Ordering::SeqCst);
    send_notify(port);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !secondary.log_tail(20).contains("refresh failed") && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
    }
    let log = secondary.log_tail(20);
    assert!(
        log.contains("refresh failed") && log.contains("closed the connection"),
        "{log}"
    );
    assert_eq!(
        serial_at(port, "example.org.").ok(),
        Some(1),
        "still serving serial 1"
    );
    let kept = query_udp(
        loopback(port),
        &make_query(
            &Name::from_ascii("h999.example.org.").unwrap(),
            RecordType::A,
            None,
        ),
        Duration::from_secs(2),
    )
    .unwrap();
    assert_eq!(kept.answers.len(), 1, "the old data is intact");
    let copy = fs::read_to_string(dir.path().join("data/example.org.zone")).unwrap();
    assert!(
        copy.contains("serial1.example.org.") && !copy.contains("serial2."),
        "the disk copy is the old version"
    );

    // The primary recovers: the next NOTIFY brings serial 2.
    fake.mode.store(GOOD, Ordering::SeqCst);
    send_notify(port);
    assert!(wait(2), "recovery\n{}", secondary.log_tail(20));
}
