//! The fuzz targets' ground, covered in `cargo test` on stable Rust: the
//! checks of `fuzz/src/lib.rs` (compiled in here) run on the seed corpus and
//! the regression inputs in `fuzz/`, and on property-test inputs: random and
//! mutated transfer streams for the AXFR/IXFR readers, real transfers split
//! at random message boundaries, oversized and TSIG-signed packets, and
//! truncated and oversized TCP frames sent to a live server on loopback.
//!
//! `FEDNS_WRITE_FUZZ_SEEDS=1 cargo test --test fuzz_properties write_seed_corpus`
//! rewrites the generated part of the seed corpus (`fuzz/corpus/*/gen-*`).

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

use fedns::xfr::client::{IxfrOutcome, read_transfer_messages};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// A fuzz target's checks.
type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 4] = [
    ("packet", checks::packet),
    ("toml_zone", checks::toml_zone),
    ("master_file", checks::master_file),
    ("transfer", checks::transfer),
];

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn replay(kind: &str, at_least: usize) {
    for (target, check) in TARGETS {
        let files = files_in(&fuzz_dir().join(kind).join(target));
        assert!(
            files.len() >= at_least,
            "fuzz/{kind}/{target} has {} files",
            files.len()
        );
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_ok(),
                "{} fails the {target} checks",
                file.display()
            );
        }
    }
}

/// Every seed passes its target's checks.
#[test]
fn the_seed_corpus_passes_the_fuzz_checks() {
    replay("corpus", 3);
}

/// Every input a fuzzer once crashed on passes its target's checks.
#[test]
fn fuzz_regressions_pass_the_fuzz_checks() {
    replay("regressions", 0);
}

// ------------------------------------------------------------ transfer streams --

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn soa(serial: u32) -> Record {
    let origin = name(checks::TRANSFER_ZONE);
    Record::from_rdata(
        origin.clone(),
        3600,
        RData::SOA(SOA::new(
            name("ns1.example.org."),
            name("hostmaster.example.org."),
            serial,
            7200,
            900,
            1_209_600,
            300,
        )),
    )
}

fn host(i: u32, text: &str) -> Record {
    let owner = name(&format!("h{i}.example.org."));
    if text.is_empty() {
        Record::from_rdata(
            owner,
            300,
            RData::A(A::from(std::net::Ipv4Addr::from(0xC000_0200 | (i & 0xff)))),
        )
    } else {
        Record::from_rdata(owner, 300, RData::TXT(TXT::new(vec![text.to_owned()])))
    }
}

/// Encodes `records` as transfer response messages with ID `id`, split
/// before each index in `cuts`.
fn messages(id: u16, records: &[Record], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (records.len() + 1)).collect();
    bounds.push(0);
    bounds.push(records.len());
    bounds.sort_unstable();
    bounds.dedup();
    bounds
        .windows(2)
        .map(|w| {
            let mut m = Message::new(id, MessageType::Response, OpCode::Query);
            m.metadata.authoritative = true;
            m.add_query(Query::query(name(checks::TRANSFER_ZONE), RecordType::AXFR));
            m.answers = records[w[0]..w[1]].to_vec();
            m.to_vec().unwrap()
        })
        .collect()
}

/// The framed form the `transfer` fuzz target reads.
fn transfer_input(ours: u32, messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = ours.to_be_bytes().to_vec();
    for m in messages {
        out.extend_from_slice(&u16::try_from(m.len()).unwrap().to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

fn refs(messages: &[Vec<u8>]) -> Vec<&[u8]> {
    messages.iter().map(Vec::as_slice).collect()
}

/// An AXFR of `n` records, the SOA first and last.
fn axfr_records(serial: u32, texts: &[String]) -> Vec<Record> {
    let mut records = vec![soa(serial)];
    records.extend(texts.iter().enumerate().map(|(i, t)| host(i as u32, t)));
    records.push(soa(serial));
    records
}

/// An IXFR from `ours` through `steps` versions, each removing and adding a record.
fn ixfr_records(ours: u32, steps: u32) -> Vec<Record> {
    let new = ours.wrapping_add(steps);
    let mut records = vec![soa(new)];
    for k in 0..steps {
        records.push(soa(ours.wrapping_add(k)));
        records.push(host(k, ""));
        records.push(soa(ours.wrapping_add(k + 1)));
        records.push(host(k + 1, ""));
        records.push(host(k + 100, "added"));
    }
    records.push(soa(new));
    records
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// A real AXFR split over any number of messages reads back exactly;
    /// without its last message it is incomplete, never accepted.
    #[test]
    fn axfr_split_anywhere_reads_back(
        serial in any::<u32>(),
        texts in proptest::collection::vec("[ -~]{0,30}", 0..40),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
        id in any::<u16>(),
    ) {
        let records = axfr_records(serial, &texts);
        let stream = messages(id, &records, &cuts);
        let (axfr, _) = read_transfer_messages(&name(checks::TRANSFER_ZONE), id, serial, &refs(&stream));
        let got = axfr.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(got, Some(records[..records.len() - 1].to_vec()));
        let (cut_short, _) = read_transfer_messages(&name(checks::TRANSFER_ZONE), id, serial, &refs(&stream[..stream.len() - 1]));
        prop_assert!(matches!(cut_short, Ok(None)), "{cut_short:?}");
        checks::transfer(&transfer_input(serial, &stream));
    }

    /// A real IXFR split anywhere reads back as its difference sequences.
    #[test]
    fn ixfr_split_anywhere_reads_back(
        ours in any::<u32>(),
        steps in 1u32..6,
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let records = ixfr_records(ours, steps);
        let stream = messages(9, &records, &cuts);
        let (_, ixfr) = read_transfer_messages(&name(checks::TRANSFER_ZONE), 9, ours, &refs(&stream));
        match ixfr.map_err(|e| TestCaseError::fail(e.to_string()))? {
            Some(IxfrOutcome::Incremental { diffs, .. }) => {
                prop_assert_eq!(diffs.len(), steps as usize);
                for (k, d) in diffs.iter().enumerate() {
                    prop_assert_eq!((d.from_serial, d.to_serial), (ours.wrapping_add(k as u32), ours.wrapping_add(k as u32 + 1)));
                    prop_assert_eq!((d.removed.len(), d.added.len()), (1, 2));
                }
            }
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        }
        checks::transfer(&transfer_input(ours, &stream));
    }

    /// Transfer streams with bytes flipped, cut or spliced never panic, and
    /// what the readers accept is well-formed.
    #[test]
    fn mutated_transfer_streams_pass_the_checks(
        ours in 0u32..4,
        ixfr in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        truncate in any::<usize>(),
    ) {
        let records = if ixfr { ixfr_records(ours, 3) } else { axfr_records(ours + 1, &["a".into(), String::new()]) };
        let mut input = transfer_input(ours, &messages(0x4242, &records, &cuts));
        for (at, value) in flips {
            let i = 4 + at % (input.len() - 4);
            input[i] = value;
        }
        input.truncate(4 + truncate % (input.len() - 3));
        checks::transfer(&input);
    }

    /// Random bytes as a transfer stream.
    #[test]
    fn random_transfer_streams_pass_the_checks(data in proptest::collection::vec(any::<u8>(), 0..700)) {
        checks::transfer(&data);
    }
}

// ------------------------------------------------------------------- packets --

fn query(qname: &str, qtype: RecordType, edns: bool) -> Message {
    let mut m = Message::new(0xBEEF, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(name(qname), qtype));
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        m.set_edns(e);
    }
    m
}

fn signed(mut bytes: Vec<u8>) -> Vec<u8> {
    let (key_name, algorithm, secret) = checks::PACKET_KEY;
    let key = fedns::proto::tsig::TsigKey::new(key_name, algorithm, secret).unwrap();
    fedns::proto::tsig::sign_request(&mut bytes, &key, fedns::proto::tsig::unix_now());
    bytes
}

/// Questions the packet seeds and properties start from.
fn seed_queries() -> Vec<(&'static str, Vec<u8>)> {
    let plain = |n, t, e| query(n, t, e).to_vec().unwrap();
    let mut notify = query("example.org.", RecordType::SOA, false);
    notify.metadata.op_code = OpCode::Notify;
    notify.metadata.authoritative = true;
    vec![
        ("a-apex", plain("example.org.", RecordType::A, false)),
        (
            "srv-matrix",
            plain("_matrix-fed._tcp.example.org.", RecordType::SRV, true),
        ),
        (
            "txt-big-truncated",
            plain("big.example.org.", RecordType::TXT, false),
        ),
        (
            "cname-chain",
            plain("WWW.Example.org.", RecordType::A, true),
        ),
        (
            "wildcard",
            plain("x.wild.example.org.", RecordType::AAAA, true),
        ),
        (
            "referral",
            plain("host.sub.example.org.", RecordType::A, false),
        ),
        (
            "nxdomain",
            plain("nothere.example.org.", RecordType::A, true),
        ),
        ("refused", plain("example.com.", RecordType::A, false)),
        ("any", plain("example.org.", RecordType::ANY, false)),
        ("axfr", plain("example.org.", RecordType::AXFR, false)),
        (
            "axfr-signed",
            signed(plain("example.org.", RecordType::AXFR, false)),
        ),
        (
            "a-signed",
            signed(plain("mail.example.org.", RecordType::A, true)),
        ),
        ("notify", notify.to_vec().unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Seed queries with bytes flipped, cut, or padded up to an oversized
    /// message pass the packet checks (UDP and TCP, queries, transfers, NOTIFY).
    #[test]
    fn mutated_and_oversized_packets_pass_the_checks(
        seed in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<usize>(),
        pad in prop_oneof![Just(0usize), 1usize..64, Just(65_535usize)],
        pad_byte in any::<u8>(),
    ) {
        let seeds = seed_queries();
        let mut bytes = seeds[seed.index(seeds.len())].1.clone();
        for (at, value) in flips {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if pad > 0 {
            bytes.resize((bytes.len() + pad).min(65_535), pad_byte);
        }
        checks::packet(&bytes);
    }
}

// ------------------------------------------------- zone loaders, from the seeds --

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The TOML and master-file seeds with characters replaced pass their checks.
    #[test]
    fn mutated_zone_seeds_pass_the_checks(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<usize>(), prop_oneof![Just('"'), Just('['), Just('\n'), Just(' '), Just('.'), Just('@'), Just('\\'), Just(';'), Just('('), Just('0'), any::<char>()]), 0..5),
    ) {
        let mut seeds: Vec<(Check, Vec<u8>)> = Vec::new();
        for (target, check) in [("toml_zone", checks::toml_zone as Check), ("master_file", checks::master_file)] {
            for file in files_in(&fuzz_dir().join("corpus").join(target)) {
                seeds.push((check, std::fs::read(file).unwrap()));
            }
        }
        let (check, bytes) = &seeds[seed.index(seeds.len())];
        let mut text: Vec<char> = String::from_utf8_lossy(bytes).chars().collect();
        for (at, c) in edits {
            if !text.is_empty() {
                let i = at % text.len();
                text[i] = c;
            }
        }
        check(text.into_iter().collect::<String>().as_bytes());
    }
}

// ------------------------------------------------------- TCP framing, live --

/// A fedns front end on an ephemeral loopback port, in this process.
struct LiveServer {
    runtime: tokio::runtime::Runtime,
    server: Option<fedns::server::RunningServer>,
    addr: SocketAddr,
}

impl LiveServer {
    fn start(udp_workers: usize) -> LiveServer {
        use fedns::server::{FrontEnd, ListenConfig, RunningServer};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let file: Arc<str> = Arc::from("live.toml");
        let zone =
            fedns::zone::toml_zone::parse_toml_zone(checks::PACKET_ZONE, &file, None).unwrap();
        let snapshot = fedns::snapshot::ZoneSnapshot::build(zone).unwrap();
        let store = fedns::store::ZoneStore::with_zones(fedns::snapshot::ZoneSet::new([Arc::new(
            snapshot,
        )]));
        let xfr = Arc::new(fedns::xfr::XfrContext::default());
        let store = Arc::new(store);
        let metrics = Arc::new(fedns::metrics::Metrics::default());
        let gate: Arc<fedns::update::UpdateGate> = Arc::new(
            |_: &fedns::zone::Zone,
             _: &fedns::snapshot::ZoneSet,
             _: &Arc<fedns::snapshot::ZoneSnapshot>| true,
        );
        let updates = Arc::new(fedns::update::Updater::new(
            Arc::clone(&store),
            Arc::clone(&xfr.keys),
            std::env::temp_dir().join("fedns-fuzz-no-journal"),
            Arc::new(tokio::sync::Mutex::new(())),
            gate,
            Arc::clone(&metrics),
        ));
        let requests = Arc::new(fedns::daemon::Requests {
            xfr: Arc::clone(&xfr),
            updates,
        });
        let front = Arc::new(FrontEnd::new(
            store,
            Arc::clone(&xfr.keys),
            fedns::server::wire::Identity {
                nsid: Some(b"live".to_vec()),
                id: Some("live".into()),
                version: None,
                cookies: Some(fedns::server::cookies::CookieSecrets::random()),
            },
            requests,
            None,
            metrics,
        ));
        let config = ListenConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            udp_workers,
            max_tcp_connections: 8,
            tcp_idle_timeout: Duration::from_millis(400),
            ..ListenConfig::default()
        };
        let server = runtime
            .block_on(RunningServer::start(&config, front))
            .unwrap();
        let addr = server.local_addrs()[0];
        LiveServer {
            runtime,
            server: Some(server),
            addr,
        }
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime
                .block_on(server.shutdown(Duration::from_secs(2)));
        }
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(message.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(message);
    out
}

/// Reads one length-prefixed response; `None` when the server closed.
fn read_response(stream: &mut TcpStream) -> Option<Message> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).ok()?;
    Some(Message::from_vec(&body).expect("a response that decodes"))
}

/// A good query still gets its answer over TCP and UDP.
fn assert_still_answers(addr: SocketAddr) {
    let q = query("mail.example.org.", RecordType::A, false)
        .to_vec()
        .unwrap();
    let mut s = connect(addr);
    s.write_all(&framed(&q)).unwrap();
    let r = read_response(&mut s).expect("an answer over TCP");
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    udp.send_to(&q, addr).unwrap();
    let mut buf = [0u8; 1500];
    let n = udp.recv(&mut buf).expect("an answer over UDP");
    assert!(Message::from_vec(&buf[..n]).is_ok());
}

/// How a case ends its connection.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Close,
    HalfClose,
    StayOpen,
}

#[test]
fn truncated_and_oversized_tcp_frames_leave_the_server_answering() {
    let live = LiveServer::start(1);
    let addr = live.addr;
    let good = query("example.org.", RecordType::SOA, true)
        .to_vec()
        .unwrap();

    // Pipelined queries whose last frame is cut: the complete ones are
    // answered, in order, then the connection is closed after the idle timeout.
    let mut s = connect(addr);
    let mut bytes = framed(&good).repeat(3);
    bytes.extend_from_slice(&framed(&good)[..7]);
    s.write_all(&bytes).unwrap();
    for _ in 0..3 {
        assert_eq!(read_response(&mut s).map(|m| m.metadata.id), Some(0xBEEF));
    }
    assert!(read_response(&mut s).is_none(), "no answer to a cut frame");

    // An oversized message (65535 bytes: a query and junk): an answer that
    // decodes or a close, never a crash; the connection serves on if open.
    let mut big = good.clone();
    big.resize(65_535, 0xAB);
    let mut s = connect(addr);
    s.write_all(&framed(&big)).unwrap();
    if read_response(&mut s).is_some() {
        s.write_all(&framed(&good)).unwrap();
        assert!(read_response(&mut s).is_some(), "the connection serves on");
    }
    assert_still_answers(addr);

    // Random frames: a declared length, part (or all, or more) of the bytes,
    // and an ending; the server keeps answering others.
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 16,
        ..ProptestConfig::default()
    });
    let strategy = (
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
        prop_oneof![
            Just(Ending::Close),
            Just(Ending::HalfClose),
            Just(Ending::StayOpen)
        ],
    );
    runner
        .run(&strategy, |(declared, junk, use_query, ending)| {
            let body = if use_query { good.clone() } else { junk };
            let mut s = connect(addr);
            let mut bytes = declared.to_be_bytes().to_vec();
            bytes.extend_from_slice(&body);
            let _ = s.write_all(&bytes);
            match ending {
                Ending::Close => drop(s),
                Ending::HalfClose => {
                    let _ = s.shutdown(std::net::Shutdown::Write);
                    // Whatever comes back decodes (read_response asserts it).
                    while read_response(&mut s).is_some() {}
                }
                Ending::StayOpen => {
                    assert_still_answers(addr);
                    drop(s);
                }
            }
            assert_still_answers(addr);
            Ok(())
        })
        .unwrap();
    // A one-byte length prefix, then close.
    let mut s = connect(addr);
    s.write_all(&[0x00]).unwrap();
    drop(s);
    assert_still_answers(addr);
}

/// Found by the `packet` fuzz target: a query whose EDNS option hickory
/// cannot decode (here an empty client-subnet option) took the answer-cache
/// path and panicked in `fast_path::personalise`, killing the UDP worker
/// task; with every worker gone, UDP went silent.
#[test]
fn a_query_with_an_undecodable_edns_option_leaves_udp_answering() {
    let live = LiveServer::start(1);
    let bytes =
        std::fs::read(fuzz_dir().join("regressions/packet/a-query-with-an-empty-ecs-option"))
            .unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..2 {
        udp.send_to(&bytes, live.addr).unwrap();
    }
    assert_still_answers(live.addr);
}

#[test]
fn udp_threads_answer_then_stop_at_shutdown_and_release_the_port() {
    let mut live = LiveServer::start(3);
    assert_still_answers(live.addr);
    let server = live.server.take().unwrap();
    // Within the grace period: were a thread still asleep in its receive,
    // the shutdown would end by aborting and the socket would stay open.
    live.runtime
        .block_on(server.shutdown(Duration::from_secs(5)));
    let _rebound = UdpSocket::bind(live.addr).expect("the stopped server released its UDP port");
    let q = query("mail.example.org.", RecordType::A, false)
        .to_vec()
        .unwrap();
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    probe.send_to(&q, live.addr).unwrap();
    let mut buf = [0u8; 512];
    assert!(
        probe.recv(&mut buf).is_err(),
        "nothing answers after the shutdown"
    );
}

// ------------------------------------------------------------- seed corpus --

/// Writes the generated seeds (`gen-*`) of every target into `fuzz/corpus/`.
/// Runs only with `FEDNS_WRITE_FUZZ_SEEDS=1`; the seeds are committed.
#[test]
fn write_seed_corpus() {
    if std::env::var_os("FEDNS_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("gen-{name}")), bytes).unwrap();
    };
    for (name, bytes) in seed_queries() {
        write("packet", name, &bytes);
    }
    let texts: Vec<String> = ["hello", "", "v=spf1 -all"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    write(
        "transfer",
        "axfr-one-message",
        &transfer_input(1, &messages(7, &axfr_records(5, &texts), &[])),
    );
    write(
        "transfer",
        "axfr-three-messages",
        &transfer_input(1, &messages(7, &axfr_records(5, &texts), &[2, 4])),
    );
    write(
        "transfer",
        "ixfr-two-steps",
        &transfer_input(10, &messages(7, &ixfr_records(10, 2), &[3])),
    );
    write(
        "transfer",
        "ixfr-up-to-date",
        &transfer_input(5, &messages(7, &[soa(5)], &[])),
    );
    write(
        "transfer",
        "ixfr-axfr-style",
        &transfer_input(1, &messages(7, &axfr_records(2, &texts), &[])),
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for (from, target) in [
        ("zones/example.org.toml", "toml_zone"),
        (
            "examples/lab-federation/zones/alpha.lab.test.toml",
            "toml_zone",
        ),
        ("tests/data/explain/zones/explain.test.toml", "toml_zone"),
        ("tests/data/differential/diff.test.zone", "master_file"),
        ("tests/data/differential/syntax.test.zone", "master_file"),
        (
            "tests/data/differential/2.0.192.in-addr.arpa.zone",
            "master_file",
        ),
    ] {
        let path = repo.join(from);
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        write(target, &file_name, &std::fs::read(&path).unwrap());
    }
}
