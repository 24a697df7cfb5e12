//! The answer path and zone loading, measured (issue 6).
//!
//! `cargo bench --bench answer` (a few minutes on two cores). Filters work as
//! usual: `cargo bench --bench answer -- 'answer/100k'`, `-- load`.
//!
//! Zones are generated in code with the shape the peer benchmarks use
//! (SOA, two NS with addresses, apex A/AAAA, the Matrix SRV pair and their
//! target, a big TXT RRset, N hosts with one A and one AAAA), plus a wildcard
//! (`*.wild`) and a delegation (`sub`, with glue) so that every answer shape
//! is covered. For each of 1 000 and 100 000 hosts and each answer shape
//! (positive A, SRV with additional, NXDOMAIN, NODATA, wildcard, referral)
//! three paths are timed:
//!
//! - `engine`: [`fedns::engine::answer`] alone (the sections, not encoded);
//! - `full`: [`fedns::server::wire::respond_uncached`], decode + engine + encode;
//! - `cached`: [`fedns::server::wire::respond`] with a warm answer cache, the
//!   path a repeated UDP question takes.
//!
//! Each benchmark cycles through 1 024 different questions of its shape (one
//! for SRV, the zone has one), so the big zone is not all in L1.
//!
//! `load/*` times building the 100 000-host zone: the snapshot from records,
//! and parse + validate + snapshot from TOML and from master-file text. A
//! loader that takes over 1 s for 10 000 hosts is reported and skipped at
//! 100 000 (if it is not linear, it would not finish in a bench run).
//!
//! Never a timing assertion: this only measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::{A, AAAA, NS, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use fedns::engine::{self, Transport};
use fedns::server::ServedZones;
use fedns::server::wire::{respond, respond_uncached};
use fedns::snapshot::{ZoneSet, ZoneSnapshot};
use fedns::zone::master::parse_master;
use fedns::zone::toml_zone::parse_toml_zone;
use fedns::zone::validate::validate_zone;
use fedns::zone::{Place, SourcedRecord, Zone};

const ORIGIN: &str = "example.test.";
const SERIAL: u32 = 2024010101;
const TTL: u32 = 3600;
/// Questions per benchmark, cycled through.
const ROTATION: usize = 1024;

// ------------------------------------------------------------------ zones --

fn name(s: &str) -> Name {
    Name::from_ascii(s).expect("valid name")
}

fn abs(rel: &str) -> Name {
    if rel == "@" {
        name(ORIGIN)
    } else {
        name(&format!("{rel}.{ORIGIN}"))
    }
}

/// genzone.py's host name width: at least 5 digits.
fn host_width(hosts: usize) -> usize {
    hosts.saturating_sub(1).to_string().len().max(5)
}

fn host(i: usize, width: usize) -> String {
    format!("host{i:0width$}")
}

fn host_v4(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + (i % 131_072) as u32)
}

fn host_v6(i: usize) -> Ipv6Addr {
    Ipv6Addr::from(u128::from("2001:db8:1::".parse::<Ipv6Addr>().unwrap()) + i as u128)
}

/// The records of the bench zone, in genzone.py's order, then the wildcard
/// and the delegation.
fn records(hosts: usize) -> Vec<(Name, RData)> {
    let mut out = vec![
        (
            abs("@"),
            RData::SOA(SOA::new(
                abs("ns1"),
                abs("hostmaster"),
                SERIAL,
                7200,
                3600,
                1_209_600,
                3600,
            )),
        ),
        (abs("@"), RData::NS(NS(abs("ns1")))),
        (abs("@"), RData::NS(NS(abs("ns2")))),
        (abs("@"), RData::A(A::new(192, 0, 2, 1))),
        (abs("@"), RData::AAAA(AAAA("2001:db8::1".parse().unwrap()))),
        (abs("ns1"), RData::A(A::new(192, 0, 2, 53))),
        (
            abs("ns1"),
            RData::AAAA(AAAA("2001:db8::53".parse().unwrap())),
        ),
        (abs("ns2"), RData::A(A::new(192, 0, 2, 54))),
        (
            abs("ns2"),
            RData::AAAA(AAAA("2001:db8::54".parse().unwrap())),
        ),
        (
            abs("_matrix-fed._tcp"),
            RData::SRV(SRV::new(10, 0, 443, abs("synapse"))),
        ),
        (
            abs("_matrix._tcp"),
            RData::SRV(SRV::new(10, 0, 443, abs("synapse"))),
        ),
        (abs("synapse"), RData::A(A::new(192, 0, 2, 10))),
        (
            abs("synapse"),
            RData::AAAA(AAAA("2001:db8::10".parse().unwrap())),
        ),
    ];
    for k in 0..8 {
        let mut text = format!("big-txt-record-{k}-") + &"x".repeat(100);
        text.truncate(100);
        out.push((abs("big"), RData::TXT(TXT::new(vec![text]))));
    }
    let width = host_width(hosts);
    for i in 0..hosts {
        let h = abs(&host(i, width));
        out.push((h.clone(), RData::A(A(host_v4(i)))));
        out.push((h, RData::AAAA(AAAA(host_v6(i)))));
    }
    // Not in genzone.py: the shapes it lacks.
    out.push((abs("*.wild"), RData::A(A::new(192, 0, 2, 80))));
    out.push((abs("sub"), RData::NS(NS(abs("ns.sub")))));
    out.push((abs("ns.sub"), RData::A(A::new(192, 0, 2, 99))));
    out
}

fn zone(hosts: usize) -> Zone {
    let file: Arc<str> = Arc::from("bench");
    Zone {
        origin: name(ORIGIN),
        records: records(hosts)
            .into_iter()
            .enumerate()
            .map(|(line, (owner, data))| {
                let record = Record::from_rdata(owner, TTL, data);
                let place = Place::new(&file, line as u32 + 1, 1);
                SourcedRecord::new(&record, place).expect("benchmark records encode")
            })
            .collect(),
        matrix: Vec::new(),
        source: None,
    }
}

fn zone_set(zone: Zone) -> ZoneSet {
    validate_zone(&zone).expect("valid zone");
    ZoneSet::new([Arc::new(ZoneSnapshot::build(zone).expect("snapshot"))])
}

/// The same zone as an RFC 1035 master file.
fn master_text(hosts: usize) -> String {
    let mut out = format!("$ORIGIN {ORIGIN}\n$TTL {TTL}\n");
    for (owner, data) in records(hosts) {
        let rtype = data.record_type();
        let rdata = match &data {
            RData::TXT(t) => format!("\"{}\"", t),
            other => other.to_string(),
        };
        out.push_str(&format!("{owner}\tIN\t{rtype}\t{rdata}\n"));
    }
    out
}

/// The same zone as fedns TOML.
fn toml_text(hosts: usize) -> String {
    let mut out = format!(
        "origin = \"{ORIGIN}\"\nttl = {TTL}\n\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\n\
         serial = {SERIAL}\nrefresh = 7200\nretry = 3600\nexpire = 1209600\nminimum = 3600\n"
    );
    let mut owners: Vec<(Name, Vec<(RecordType, String)>)> = Vec::new();
    for (owner, data) in records(hosts) {
        if data.record_type() == RecordType::SOA {
            continue;
        }
        let text = match &data {
            RData::TXT(t) => t.to_string(),
            other => other.to_string(),
        };
        match owners.last_mut() {
            Some((o, sets)) if *o == owner => sets.push((data.record_type(), text)),
            _ => owners.push((owner, vec![(data.record_type(), text)])),
        }
    }
    for (owner, sets) in owners {
        out.push_str(&format!("\n[[record]]\nname = \"{owner}\"\n"));
        let mut types: Vec<RecordType> = sets.iter().map(|(t, _)| *t).collect();
        types.dedup();
        for t in types {
            let values: Vec<String> = sets
                .iter()
                .filter(|(st, _)| *st == t)
                .map(|(_, v)| format!("{v:?}"))
                .collect();
            out.push_str(&format!("{t} = [{}]\n", values.join(", ")));
        }
    }
    out
}

// ---------------------------------------------------------------- queries --

/// One question, as the engine takes it and as wire bytes (no EDNS, RD set:
/// what dnsperf sends).
struct Question {
    name: Name,
    qtype: RecordType,
    bytes: Vec<u8>,
}

fn question(qname: &str, qtype: RecordType, id: u16) -> Question {
    let name = name(qname);
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(name.clone(), qtype));
    Question {
        name,
        qtype,
        bytes: m.to_vec().expect("encodes"),
    }
}

/// A small deterministic generator (xorshift), so every run asks the same.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The benchmark cases: (label, questions).
fn cases(hosts: usize) -> Vec<(&'static str, Vec<Question>)> {
    let width = host_width(hosts);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut many = |f: &mut dyn FnMut(&mut Rng, u16) -> Question| -> Vec<Question> {
        (0..ROTATION).map(|i| f(&mut rng, i as u16)).collect()
    };
    vec![
        (
            "A",
            many(&mut |r, id| {
                let h = host(r.below(hosts), width);
                question(&format!("{h}.{ORIGIN}"), RecordType::A, id)
            }),
        ),
        (
            "SRV",
            vec![question(
                &format!("_matrix-fed._tcp.{ORIGIN}"),
                RecordType::SRV,
                1,
            )],
        ),
        (
            "NXDOMAIN",
            many(&mut |r, id| {
                let n = r.below(100_000_000);
                question(&format!("nx{n:08}.{ORIGIN}"), RecordType::A, id)
            }),
        ),
        (
            "NODATA",
            many(&mut |r, id| {
                let h = host(r.below(hosts), width);
                question(&format!("{h}.{ORIGIN}"), RecordType::TXT, id)
            }),
        ),
        (
            "wildcard",
            many(&mut |r, id| {
                let n = r.below(100_000_000);
                question(&format!("w{n}.wild.{ORIGIN}"), RecordType::A, id)
            }),
        ),
        (
            "referral",
            many(&mut |r, id| {
                let n = r.below(100_000_000);
                question(&format!("h{n}.sub.{ORIGIN}"), RecordType::A, id)
            }),
        ),
    ]
}

// ------------------------------------------------------------- benchmarks --

fn answer_path(c: &mut Criterion) {
    for (label, hosts) in [("1k", 1_000), ("100k", 100_000)] {
        let zones = zone_set(zone(hosts));
        let served = ServedZones::new(zone_set(zone(hosts)));
        let mut group = c.benchmark_group(format!("answer/{label}"));
        group
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(30);
        for (case, questions) in cases(hosts) {
            // Fill the cache, and check the three paths agree on the rcode.
            for q in &questions {
                let full =
                    respond_uncached(&zones, &Default::default(), None, &q.bytes, Transport::Udp)
                        .expect("answer");
                let cached = respond(&served, &q.bytes, Transport::Udp).expect("answer");
                assert_eq!(full[3] & 0x0f, cached[3] & 0x0f, "{case}: same rcode");
            }
            let mut i = 0;
            let mut next = || {
                i = (i + 1) % questions.len();
                &questions[i]
            };
            group.bench_function(format!("{case}/engine"), |b| {
                b.iter(|| {
                    let q = next();
                    black_box(engine::answer(
                        &zones,
                        black_box(&q.name),
                        q.qtype,
                        Transport::Udp,
                    ))
                })
            });
            group.bench_function(format!("{case}/full"), |b| {
                b.iter(|| {
                    let q = next();
                    black_box(respond_uncached(
                        &zones,
                        &Default::default(),
                        None,
                        black_box(&q.bytes),
                        Transport::Udp,
                    ))
                })
            });
            group.bench_function(format!("{case}/cached"), |b| {
                b.iter(|| {
                    let q = next();
                    black_box(respond(&served, black_box(&q.bytes), Transport::Udp))
                })
            });
        }
        group.finish();
    }
}

/// The system allocator, counting live heap bytes (and their peak), so the
/// load benchmark can say what a snapshot holds without RSS noise.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to `System`; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let now = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`; returns its result, the heap bytes it left allocated, and the
/// peak of heap bytes above the start while it ran.
fn heap_use<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let value = f();
    let held = LIVE.load(Ordering::Relaxed).saturating_sub(start);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    (value, held, peak)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn load_toml(text: &str) -> ZoneSet {
    let file: Arc<str> = Arc::from("bench.toml");
    let zone = parse_toml_zone(text, &file, None).expect("TOML zone loads");
    zone_set(zone)
}

fn load_master(text: &str) -> ZoneSet {
    let file: Arc<str> = Arc::from("bench.zone");
    let records = parse_master(text, &file, &name(ORIGIN)).expect("master file loads");
    zone_set(Zone {
        origin: name(ORIGIN),
        records,
        matrix: Vec::new(),
        source: None,
    })
}

/// Times one load of 10 000 hosts; over `limit`, says so and returns false
/// (a linear loader then takes at most 10 x `limit` per load of 100 000).
fn fast_enough(what: &str, load: &dyn Fn(&str) -> ZoneSet, text: &str, limit: Duration) -> bool {
    let t = Instant::now();
    drop(black_box(load(text)));
    let took = t.elapsed();
    if took > limit {
        eprintln!(
            "load/{what}: one load of 10 000 hosts took {took:.1?}; skipping 100 000 hosts \
             (it would not finish in a bench run)"
        );
        return false;
    }
    true
}

fn load(c: &mut Criterion) {
    const HOSTS: usize = 100_000;
    let mut group = c.benchmark_group("load/100k");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));

    // Heap held by the snapshot of the big zone, and the peak while loading.
    let (zones, held, peak) = heap_use(|| zone_set(zone(HOSTS)));
    eprintln!(
        "load/100k/snapshot: {HOSTS} hosts ({} records): snapshot holds {:.1} MB of heap \
         ({:.0} bytes per record), peak {:.1} MB while built from records",
        zones.zones()[0].record_count(),
        mb(held),
        held as f64 / zones.zones()[0].record_count() as f64,
        mb(peak)
    );
    drop(zones);
    eprintln!(
        "load/100k/snapshot: size_of Record {} B, Name {} B, RData {} B",
        std::mem::size_of::<Record>(),
        std::mem::size_of::<Name>(),
        std::mem::size_of::<RData>()
    );

    group.bench_function("snapshot", |b| {
        b.iter_batched(|| zone(HOSTS), zone_set, BatchSize::PerIteration)
    });
    let limit = Duration::from_secs(1);
    let toml = toml_text(HOSTS);
    if fast_enough("toml", &load_toml, &toml_text(10_000), limit) {
        let (_, held, peak) = heap_use(|| load_toml(&toml));
        eprintln!(
            "load/100k/toml: {:.1} MB of text; heap peak {:.1} MB while loading, {:.1} MB held after",
            mb(toml.len()),
            mb(peak),
            mb(held)
        );
        group.bench_function("toml", |b| b.iter(|| load_toml(black_box(&toml))));
    }
    let master = master_text(HOSTS);
    if fast_enough("master", &load_master, &master_text(10_000), limit) {
        let (_, held, peak) = heap_use(|| load_master(&master));
        eprintln!(
            "load/100k/master: {:.1} MB of text; heap peak {:.1} MB while loading, {:.1} MB held after",
            mb(master.len()),
            mb(peak),
            mb(held)
        );
        group.bench_function("master", |b| b.iter(|| load_master(black_box(&master))));
    }
    group.finish();
}

criterion_group!(benches, answer_path, load);
criterion_main!(benches);
