//! Differential suite: fedns against Knot DNS on the same zones.
//!
//! Both servers load the RFC 1035 master files in `tests/data/differential/`
//! (fedns with `serve --zones DIR`, knotd with a minimal config naming each
//! `NAME.zone` as zone `NAME.`) on free 127.0.0.1 ports. A deterministic set
//! of queries (every owner and empty non-terminal x many types, wildcard
//! instances, names at and below zone cuts, non-existent names from a fixed
//! LCG, mixed-case variants, out-of-zone names, ANY) goes to both over UDP
//! with EDNS (1232 bytes, DO clear), over TCP for a sample and for every
//! truncated answer, and over UDP without EDNS for a sample and for the big
//! TXT sets (TC at 512 bytes). For each query the suite compares the rcode, the AA, TC
//! flags, whether an OPT record came back, that the question is echoed
//! byte-for-byte as sent, and the answer, authority and additional sections,
//! each as a set of (lowercased owner, TTL, class, type, rdata with its
//! domain names lowercased: the canonical form of RFC 4034 6.2). ANY is
//! compared leniently (RFC 8482 lets a server pick what it returns).
//!
//! Every mismatch is printed with the query and both full responses; the test
//! fails if there is any that is not in [`KNOWN_DIFFERENCES`].
//!
//! Skipping: without `knotd` the suite prints "skipping differential suite:
//! knotd not installed" and passes, unless `FEDNS_INTEROP` is set (CI sets
//! `FEDNS_INTEROP=1`), in which case it fails.
//!
//! `differential_harness_knot_vs_knot` runs the same machinery with Knot on
//! both sides: it must report nothing, which keeps the harness honest.
//!
//! Run just this suite, with its report: `cargo test --test differential_knot
//! -- --nocapture`.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use common::{ServerProcess, TempDir};

/// The zones both servers load: every `NAME.zone` here is zone `NAME.`.
const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/differential");

/// EDNS UDP size advertised in every query.
const EDNS_SIZE: u16 = 1232;

/// Per-query timeout and attempts (UDP).
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
const QUERY_TRIES: u32 = 2;

/// Bound on the whole comparison run.
const RUN_DEADLINE: Duration = Duration::from_secs(300);

/// Upper bound on the number of generated queries (sanity, keeps loops bounded).
const MAX_QUERIES: usize = 5000;

/// Every TCP_SAMPLE-th query is also compared over TCP (and every truncated
/// one).
const TCP_SAMPLE: usize = 10;

/// Every NOEDNS_SAMPLE-th query is also compared over UDP without EDNS (and
/// every query for the big and huge TXT sets).
const NOEDNS_SAMPLE: usize = 10;

/// The query types asked for every owner name.
const QTYPES: &[RecordType] = &[
    RecordType::A,
    RecordType::AAAA,
    RecordType::TXT,
    RecordType::SRV,
    RecordType::MX,
    RecordType::NS,
    RecordType::SOA,
    RecordType::CNAME,
    RecordType::DNAME,
    RecordType::CAA,
    RecordType::DS,
    RecordType::PTR,
    // DNSSEC types: asked by type, they are answered with or without DO.
    RecordType::DNSKEY,
    RecordType::NSEC,
    RecordType::NSEC3PARAM,
    RecordType::RRSIG,
];

/// The query types asked for the mixed-case variant of every name.
const MIXED_QTYPES: &[RecordType] = &[
    RecordType::A,
    RecordType::TXT,
    RecordType::SRV,
    RecordType::MX,
    RecordType::NS,
    RecordType::CNAME,
    RecordType::DS,
];

// ----------------------------------------------------------- known diffs --

/// A behaviour where fedns deliberately answers differently from Knot.
///
/// Each entry needs a reason a reviewer can check against an RFC or the
/// design; entries are never added just to make the suite pass.
struct KnownDifference {
    /// Lowercased absolute query name; a leading `*.` matches the name itself
    /// and every name below it.
    qname: &'static str,
    /// Query type (`None` = any type).
    qtype: Option<RecordType>,
    /// Why fedns differs on purpose.
    reason: &'static str,
}

/// Deliberate differences between fedns and Knot (ANY is not listed: it is
/// compared leniently by rule, see `Mode::Any`).
const KNOWN_DIFFERENCES: &[KnownDifference] = &[
    KnownDifference {
        qname: "*.wc.diff.test.",
        qtype: Some(RecordType::NSEC),
        reason: NSEC_WILDCARD_PROOF,
    },
    KnownDifference {
        qname: "*.wild.diff.test.",
        qtype: Some(RecordType::NSEC),
        reason: NSEC_WILDCARD_PROOF,
    },
    KnownDifference {
        qname: "*.wmx.diff.test.",
        qtype: Some(RecordType::NSEC),
        reason: NSEC_WILDCARD_PROOF,
    },
    KnownDifference {
        qname: "*.wsrv.diff.test.",
        qtype: Some(RecordType::NSEC),
        reason: NSEC_WILDCARD_PROOF,
    },
    KnownDifference {
        qname: "*.other.test.",
        qtype: Some(RecordType::NSEC),
        reason: NSEC_WILDCARD_PROOF,
    },
];

/// Why fedns keeps a proof Knot drops.
const NSEC_WILDCARD_PROOF: &str = "an NSEC query answered from a wildcard (signed NSEC zone, DO): fedns adds the NSEC \
     proving the query name does not exist, as RFC 4035 3.1.3.3 requires for every wildcard answer; Knot leaves it out \
     when that NSEC is the wildcard's own, i.e. the same RRset as the synthesised answer";

impl KnownDifference {
    fn matches(&self, q: &Q) -> bool {
        if self.qtype.is_some_and(|t| t != q.qtype) {
            return false;
        }
        let name = q.name.to_ascii().to_ascii_lowercase();
        match self.qname.strip_prefix("*.") {
            Some(base) => name == base || name.ends_with(&format!(".{base}")),
            None => name == self.qname,
        }
    }
}

fn known_difference(q: &Q) -> Option<&'static KnownDifference> {
    KNOWN_DIFFERENCES.iter().find(|k| k.matches(q))
}

// ------------------------------------------------------------------ zones --

/// One zone of the data dir, with the owner names its master file declares.
struct ZoneInfo {
    /// Lowercased absolute origin, with the trailing dot.
    origin: String,
    file: PathBuf,
    /// Lowercased absolute owner -> record types (mnemonics, upper case).
    owners: BTreeMap<String, BTreeSet<String>>,
}

impl ZoneInfo {
    /// Names strictly between an owner and the origin that own nothing.
    fn empty_non_terminals(&self) -> BTreeSet<String> {
        let mut ents = BTreeSet::new();
        for owner in self.owners.keys() {
            let mut n = owner.as_str();
            while let Some(parent) = parent(n) {
                if parent.len() <= self.origin.len() {
                    break;
                }
                if !self.owners.contains_key(parent) {
                    ents.insert(parent.to_string());
                }
                n = parent;
            }
        }
        ents
    }

    /// Delegation points: owners other than the origin with NS records.
    fn cuts(&self) -> Vec<String> {
        self.owners
            .iter()
            .filter(|(n, t)| **n != self.origin && t.contains("NS"))
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// Read every `*.zone` file of `dir`, sorted by file name.
fn load_zones(dir: &Path) -> Vec<ZoneInfo> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "zone"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let stem = file
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .to_ascii_lowercase();
            let origin = format!("{stem}.");
            let text = fs::read_to_string(&file).unwrap();
            let owners = scan_owners(&text, &origin);
            ZoneInfo {
                origin,
                file,
                owners,
            }
        })
        .collect()
}

/// Drop a `;` comment (outside quotes) from a master-file line.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// A deliberately small master-file scanner: it only needs the owner names
/// and types of the test zones, which are written one record per line.
fn scan_owners(text: &str, origin: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut origin = origin.to_ascii_lowercase();
    let mut owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut last_owner: Option<String> = None;
    let mut depth = 0usize; // open parentheses: a record spanning lines
    for raw in text.lines() {
        let line = strip_comment(raw);
        let continued = depth > 0;
        depth = line.chars().fold(depth, |d, c| match c {
            '(' => d + 1,
            ')' => d.saturating_sub(1),
            _ => d,
        });
        if continued || line.trim().is_empty() {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let owner = if line.starts_with(char::is_whitespace) {
            match &last_owner {
                Some(o) => o.clone(),
                None => continue,
            }
        } else {
            let first = tokens.next().unwrap().to_ascii_lowercase();
            if first == "$origin" {
                if let Some(o) = tokens.next() {
                    origin = o.to_ascii_lowercase();
                }
                continue;
            }
            if first.starts_with('$') {
                continue;
            }
            if first == "@" {
                origin.clone()
            } else if first.ends_with('.') {
                first
            } else {
                format!("{first}.{origin}")
            }
        };
        let rtype = tokens
            .find(|t| {
                let u = t.to_ascii_uppercase();
                // TTLs ("300", "1h30m") start with a digit, no type does.
                !(t.starts_with(|c: char| c.is_ascii_digit())
                    || ["IN", "CH", "HS"].contains(&u.as_str()))
            })
            .map(|t| t.to_ascii_uppercase())
            .unwrap_or_default();
        owners.entry(owner.clone()).or_default().insert(rtype);
        last_owner = Some(owner);
    }
    owners
}

// ---------------------------------------------------------------- queries --

/// A small fixed linear congruential generator (Knuth's MMIX constants):
/// deterministic query names without a rand dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    fn label(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.next() as usize % ALPHABET.len()] as char)
            .collect()
    }

    /// `name` with the case of its letters flipped at random; at least one
    /// letter is upper case when the name has any.
    fn mixed_case(&mut self, name: &str) -> String {
        let mut out: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphabetic() && self.next() & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        if !out.chars().any(|c| c.is_ascii_uppercase())
            && let Some(i) = out.find(|c: char| c.is_ascii_alphabetic())
        {
            out.replace_range(i..i + 1, &out[i..i + 1].to_ascii_uppercase());
        }
        out
    }
}

/// One generated query.
#[derive(Clone, Debug)]
struct Q {
    /// The name exactly as sent (may be mixed case).
    name: Name,
    qtype: RecordType,
    /// Why this query is in the set (for the report).
    why: &'static str,
}

impl fmt::Display for Q {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.name.to_ascii(), self.qtype, self.why)
    }
}

struct QuerySet {
    queries: Vec<Q>,
    seen: HashSet<(String, RecordType)>,
}

impl QuerySet {
    fn push(&mut self, name: &str, qtype: RecordType, why: &'static str) {
        if self.queries.len() >= MAX_QUERIES {
            return;
        }
        if !self.seen.insert((name.to_string(), qtype)) {
            return;
        }
        let name = Name::from_ascii(name).unwrap_or_else(|e| panic!("bad query name {name}: {e}"));
        self.queries.push(Q { name, qtype, why });
    }
}

/// Parent of an absolute name ("a.b.c." -> "b.c."), if any.
/// Parent of an absolute name in presentation form ("a.b.c." -> "b.c."),
/// if any; an escaped dot (`\.`) does not end a label.
fn parent(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'.' => return Some(&name[i + 1..]).filter(|p| !p.is_empty()),
            _ => i += 1,
        }
    }
    None
}

/// The deterministic query set for `zones`. ANY queries come last, so the
/// records they may return have been seen by then (see `Mode::Any`).
fn generate_queries(zones: &[ZoneInfo]) -> Vec<Q> {
    let mut set = QuerySet {
        queries: Vec::new(),
        seen: HashSet::new(),
    };
    let mut lcg = Lcg(0x00fe_d2d5_2024_0101);
    let mut any_names: Vec<String> = Vec::new();

    for z in zones {
        let ents = z.empty_non_terminals();
        let cuts = z.cuts();
        // Every owner and every empty non-terminal x every type.
        for name in z.owners.keys().chain(ents.iter()) {
            for &t in QTYPES {
                set.push(name, t, "owner/ENT");
            }
            any_names.push(name.clone());
        }
        // Wildcard instances: one and two labels below the wildcard's parent,
        // plus a random label.
        for w in z.owners.keys().filter(|n| n.starts_with("*.")) {
            let base = &w[2..];
            let rnd = lcg.label(8);
            for prefix in ["foo", "a.b", rnd.as_str(), "exists-not"] {
                let name = format!("{prefix}.{base}");
                for &t in QTYPES {
                    set.push(&name, t, "wildcard instance");
                }
                any_names.push(name);
            }
        }
        // At and below every zone cut.
        for cut in &cuts {
            let rnd = lcg.label(6);
            for prefix in ["host", "a.b", "ns9", rnd.as_str()] {
                let name = format!("{prefix}.{cut}");
                for t in [
                    RecordType::A,
                    RecordType::AAAA,
                    RecordType::NS,
                    RecordType::DS,
                    RecordType::SOA,
                    RecordType::TXT,
                ] {
                    set.push(&name, t, "below a zone cut");
                }
                any_names.push(name);
            }
        }
        // Random non-existent names under the apex and one and two labels
        // below every owner and ENT.
        for _ in 0..8 {
            let name = format!("{}.{}", lcg.label(10), z.origin);
            for t in [
                RecordType::A,
                RecordType::TXT,
                RecordType::SRV,
                RecordType::DS,
            ] {
                set.push(&name, t, "random nonexistent");
            }
        }
        for name in z.owners.keys().chain(ents.iter()) {
            let below = format!("{}.{name}", lcg.label(7));
            set.push(&below, RecordType::A, "random below a name");
            set.push(&below, RecordType::TXT, "random below a name");
            let below2 = format!("{}.{}.{name}", lcg.label(3), lcg.label(5));
            set.push(&below2, RecordType::AAAA, "random two below a name");
        }
        // Below every DNAME owner (RFC 6672 synthesis): the labels the
        // targets hold in tests/data/differential/dname.test.zone, a random
        // one, and the same in mixed case.
        for dname in z
            .owners
            .iter()
            .filter(|(_, types)| types.contains("DNAME"))
            .map(|(name, _)| name)
        {
            let rnd = lcg.label(6);
            for prefix in ["www", "alias", "txt", "a.b", rnd.as_str(), "WwW"] {
                let name = format!("{prefix}.{dname}");
                for t in [
                    RecordType::A,
                    RecordType::AAAA,
                    RecordType::TXT,
                    RecordType::CNAME,
                    RecordType::DNAME,
                    RecordType::MX,
                ] {
                    set.push(&name, t, "below a DNAME");
                }
                any_names.push(name);
            }
        }
        // Above the apex (not ours: REFUSED).
        if let Some(p) = parent(&z.origin) {
            set.push(p, RecordType::SOA, "parent of a zone");
            set.push(p, RecordType::NS, "parent of a zone");
            set.push(
                &format!("sibling-{}.{p}", lcg.label(4)),
                RecordType::A,
                "sibling of a zone",
            );
        }
        // Mixed-case variants of every owner, ENT, wildcard instance and name
        // below a cut.
        let mut mixed_sources: Vec<String> = z.owners.keys().chain(ents.iter()).cloned().collect();
        for w in z.owners.keys().filter(|n| n.starts_with("*.")) {
            mixed_sources.push(format!("MixedWild.{}", &w[2..]));
        }
        for cut in &cuts {
            mixed_sources.push(format!("Host.Below.{cut}"));
        }
        for name in &mixed_sources {
            let mixed = lcg.mixed_case(name);
            for &t in MIXED_QTYPES {
                set.push(&mixed, t, "mixed case");
            }
            any_names.push(mixed);
        }
    }
    // Outside every zone.
    for (name, t) in [
        ("example.com.", RecordType::A),
        ("example.com.", RecordType::NS),
        ("test.", RecordType::SOA),
        ("arpa.", RecordType::NS),
        (".", RecordType::SOA),
        ("in-addr.arpa.", RecordType::NS),
        ("3.0.192.in-addr.arpa.", RecordType::PTR),
        ("diff.test.example.", RecordType::A),
        ("xdiff.test.", RecordType::A),
    ] {
        set.push(name, t, "out of zone");
    }
    // ANY last.
    for name in any_names {
        set.push(&name, RecordType::ANY, "ANY (lenient)");
    }
    set.queries
}

// ------------------------------------------------------------- comparison --

/// A response reduced to what the suite compares.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Normalized {
    rcode: String,
    aa: bool,
    tc: bool,
    opt: bool,
    /// The question section exactly as received (case kept).
    question: Vec<String>,
    answer: BTreeSet<String>,
    authority: BTreeSet<String>,
    additional: BTreeSet<String>,
}

/// (lowercased owner, TTL, class, type, rdata) as one string, with the
/// domain names inside the RDATA lowercased too (the canonical form of RFC
/// 4034 section 6.2): names compare case-insensitively (RFC 4343), and name
/// compression may legitimately take a name's case from the question (Knot
/// answers `*.WC.diFF.TesT. A` with `CNAME target.diFF.TesT.`).
fn record_key(r: &Record) -> String {
    let rdata = r.data.to_string();
    let rdata = match r.record_type() {
        // RDATA made of domain names and numbers only: lowercasing the whole
        // presentation form lowercases exactly the names.
        RecordType::CNAME
        | RecordType::NS
        | RecordType::PTR
        | RecordType::MX
        | RecordType::SRV
        | RecordType::SOA
        | RecordType::DNAME
        | RecordType::ANAME => rdata.to_ascii_lowercase(),
        // hickory's TXT Display joins the strings: keep their boundaries.
        _ => match &r.data {
            RData::TXT(txt) => txt_presentation(&txt.txt_data),
            _ => rdata,
        },
    };
    format!(
        "{} {} {} {} {rdata}",
        r.name.to_lowercase().to_ascii(),
        r.ttl,
        r.dns_class,
        r.record_type(),
    )
}

/// TXT strings in master-file syntax: each one quoted, `"` and `\` escaped,
/// bytes outside printable ASCII as `\DDD`.
fn txt_presentation(strings: &[Box<[u8]>]) -> String {
    let mut out = Vec::new();
    for s in strings {
        let mut q = String::from("\"");
        for &b in s.iter() {
            match b {
                b'"' | b'\\' => {
                    q.push('\\');
                    q.push(b as char);
                }
                0x20..=0x7e => q.push(b as char),
                _ => q.push_str(&format!("\\{b:03}")),
            }
        }
        q.push('"');
        out.push(q);
    }
    out.join(" ")
}

fn question_key(m: &Message) -> Vec<String> {
    m.queries
        .iter()
        .map(|q| {
            format!(
                "{} {} {}",
                q.name().to_ascii(),
                q.query_class(),
                q.query_type()
            )
        })
        .collect()
}

fn normalize(m: &Message) -> Normalized {
    let set = |rs: &[Record]| rs.iter().map(record_key).collect::<BTreeSet<_>>();
    Normalized {
        rcode: m.metadata.response_code.to_string(),
        aa: m.metadata.authoritative,
        tc: m.metadata.truncation,
        opt: m.edns.is_some(),
        question: question_key(m),
        answer: set(&m.answers),
        authority: set(&m.authorities),
        additional: set(&m.additionals),
    }
}

impl fmt::Display for Normalized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = [(self.aa, " aa"), (self.tc, " tc"), (self.opt, " +opt")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, s)| *s)
            .collect::<String>();
        writeln!(
            f,
            "      {}{flags}; question {:?}",
            self.rcode, self.question
        )?;
        for (name, sec) in [
            ("AN", &self.answer),
            ("NS", &self.authority),
            ("AR", &self.additional),
        ] {
            for r in sec {
                writeln!(f, "      {name} {r}")?;
            }
        }
        Ok(())
    }
}

/// How strictly a pair of responses is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Everything listed in the module docs.
    Strict,
    /// ANY (RFC 8482): rcode, AA, TC, OPT, question and authority compared
    /// strictly; the answer must be empty exactly when the reference's is,
    /// and each of its records must be one the reference returned for this
    /// name to some query (or an RFC 8482 synthesized HINFO); the additional
    /// section is not compared.
    Any,
}

/// The differences between a candidate's and a reference's response to
/// `sent`, one line each (empty = same).
fn compare(
    sent: &Message,
    cand_name: &str,
    cand: &Normalized,
    ref_name: &str,
    reference: &Normalized,
    mode: Mode,
    seen_records: &HashSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: {cand_name} {a}, {ref_name} {b}"));
        }
    };
    field("rcode", cand.rcode.clone(), reference.rcode.clone());
    field("AA", cand.aa.to_string(), reference.aa.to_string());
    field("TC", cand.tc.to_string(), reference.tc.to_string());
    field(
        "OPT in response",
        cand.opt.to_string(),
        reference.opt.to_string(),
    );
    let asked = question_key(sent);
    for (who, n) in [(cand_name, cand), (ref_name, reference)] {
        if n.question != asked {
            out.push(format!(
                "question not echoed as sent by {who}: sent {asked:?}, got {:?}",
                n.question
            ));
        }
    }
    let mut section = |what: &str, a: &BTreeSet<String>, b: &BTreeSet<String>| {
        for r in a.difference(b) {
            out.push(format!("{what} only in {cand_name}: {r}"));
        }
        for r in b.difference(a) {
            out.push(format!("{what} only in {ref_name}: {r}"));
        }
    };
    match mode {
        Mode::Strict => {
            section("answer", &cand.answer, &reference.answer);
            section("authority", &cand.authority, &reference.authority);
            section("additional", &cand.additional, &reference.additional);
        }
        Mode::Any => {
            section("authority", &cand.authority, &reference.authority);
            if cand.answer.is_empty() != reference.answer.is_empty() {
                out.push(format!(
                    "ANY answer: {cand_name} has {} records, {ref_name} {}",
                    cand.answer.len(),
                    reference.answer.len()
                ));
            }
            for r in &cand.answer {
                let synthesized_hinfo = r.contains(" HINFO ") && r.contains("RFC8482");
                if !synthesized_hinfo && !seen_records.contains(r) && !reference.answer.contains(r)
                {
                    out.push(format!(
                        "ANY answer from {cand_name} holds a record {ref_name} never returned: {r}"
                    ));
                }
            }
        }
    }
    out
}

// -------------------------------------------------------------------- run --

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    /// UDP with EDNS (1232 bytes).
    Udp,
    /// TCP with EDNS.
    Tcp,
    /// UDP without EDNS (512 bytes).
    UdpNoEdns,
}

/// One query whose answers differed.
struct Mismatch {
    q: Q,
    transport: Transport,
    lines: Vec<String>,
    cand: Result<Normalized, String>,
    reference: Result<Normalized, String>,
    known: Option<&'static KnownDifference>,
}

#[derive(Default)]
struct Report {
    queries: usize,
    tcp_queries: usize,
    noedns_queries: usize,
    mismatches: Vec<Mismatch>,
    fatal: Vec<String>,
}

impl Report {
    fn failures(&self) -> usize {
        self.mismatches.iter().filter(|m| m.known.is_none()).count() + self.fatal.len()
    }

    fn print(&self, cand_name: &str, ref_name: &str) {
        for (i, m) in self.mismatches.iter().enumerate() {
            let tag = match m.known {
                Some(k) => format!("KNOWN DIFFERENCE ({})", k.reason),
                None => "MISMATCH".to_string(),
            };
            println!("{tag} #{}: {} over {:?}", i + 1, m.q, m.transport);
            for l in &m.lines {
                println!("    {l}");
            }
            for (who, side) in [(cand_name, &m.cand), (ref_name, &m.reference)] {
                match side {
                    Ok(n) => print!("    {who}:\n{n}"),
                    Err(e) => println!("    {who}: ERROR {e}"),
                }
            }
        }
        for f in &self.fatal {
            println!("FATAL: {f}");
        }
        let known = self.mismatches.iter().filter(|m| m.known.is_some()).count();
        println!(
            "differential {cand_name} vs {ref_name}: {} queries over UDP, {} over TCP, {} over UDP \
             without EDNS, {} mismatches ({known} known differences), {} fatal",
            self.queries,
            self.tcp_queries,
            self.noedns_queries,
            self.mismatches.len() - known,
            self.fatal.len()
        );
    }
}

fn ask(server: &ServerProcess, msg: &Message, transport: Transport) -> Result<Normalized, String> {
    let r = match transport {
        Transport::Udp | Transport::UdpNoEdns => {
            common::query_udp_retry(server.addr(), msg, QUERY_TIMEOUT, QUERY_TRIES)
        }
        Transport::Tcp => common::query_tcp(server.addr(), msg, QUERY_TIMEOUT),
    };
    r.map(|m| normalize(&m))
}

/// Send every query to both servers and compare. `cand` is the server under
/// test, `reference` the one trusted (Knot).
fn run_differential(
    cand: &mut ServerProcess,
    reference: &mut ServerProcess,
    queries: &[Q],
) -> Report {
    run_differential_with(cand, reference, queries, false)
}

/// [`run_differential`], with the DO bit (RFC 3225) set on every query when
/// `dnssec_ok`.
fn run_differential_with(
    cand: &mut ServerProcess,
    reference: &mut ServerProcess,
    queries: &[Q],
    dnssec_ok: bool,
) -> Report {
    let mut report = Report::default();
    let mut seen_records: HashSet<String> = HashSet::new();
    let start = Instant::now();
    for (i, q) in queries.iter().enumerate() {
        if start.elapsed() > RUN_DEADLINE {
            report.fatal.push(format!(
                "run deadline of {RUN_DEADLINE:?} passed after {i} of {} queries",
                queries.len()
            ));
            break;
        }
        let mode = if q.qtype == RecordType::ANY {
            Mode::Any
        } else {
            Mode::Strict
        };
        let mut msg = common::make_query(&q.name, q.qtype, Some(EDNS_SIZE));
        if let Some(edns) = msg.edns.as_mut() {
            edns.set_dnssec_ok(dnssec_ok);
        }
        let c = ask(cand, &msg, Transport::Udp);
        let r = ask(reference, &msg, Transport::Udp);
        report.queries += 1;
        let truncated = matches!(&c, Ok(n) if n.tc) || matches!(&r, Ok(n) if n.tc);
        let mut transports = vec![(Transport::Udp, c, r)];
        if truncated || i % TCP_SAMPLE == 0 {
            let c = ask(cand, &msg, Transport::Tcp);
            let r = ask(reference, &msg, Transport::Tcp);
            report.tcp_queries += 1;
            transports.push((Transport::Tcp, c, r));
        }
        let label = q.name.to_ascii().to_ascii_lowercase();
        if i % NOEDNS_SAMPLE == 3 || label.starts_with("big.") || label.starts_with("huge.") {
            let mut plain = msg.clone();
            plain.edns = None;
            let c = ask(cand, &plain, Transport::UdpNoEdns);
            let r = ask(reference, &plain, Transport::UdpNoEdns);
            report.noedns_queries += 1;
            transports.push((Transport::UdpNoEdns, c, r));
        }
        for (transport, c, r) in transports {
            if let (Ok(rn), Mode::Strict) = (&r, mode) {
                seen_records.extend(rn.answer.iter().cloned());
            }
            let lines = match (&c, &r) {
                (Ok(cn), Ok(rn)) => compare(
                    &msg,
                    &cand.name,
                    cn,
                    &reference.name,
                    rn,
                    mode,
                    &seen_records,
                ),
                (Err(e), Ok(_)) => vec![format!("{} gave no answer: {e}", cand.name)],
                (Ok(_), Err(e)) => vec![format!("{} gave no answer: {e}", reference.name)],
                (Err(a), Err(b)) => vec![format!("neither answered: {a}; {b}")],
            };
            if !lines.is_empty() {
                report.mismatches.push(Mismatch {
                    q: q.clone(),
                    transport,
                    lines,
                    cand: c,
                    reference: r,
                    known: known_difference(q),
                });
            }
        }
    }
    for s in [cand, reference] {
        if !s.is_running() {
            report.fatal.push(format!(
                "{} (pid {}) died during the run; log tail:\n{}",
                s.name,
                s.pid(),
                s.log_tail(30)
            ));
        }
    }
    report
}

/// knotd's path, or None when the suite should be skipped. Panics when
/// `FEDNS_INTEROP` demands the suite and knotd is missing.
fn knotd_or_skip() -> Option<PathBuf> {
    match common::find_program("knotd") {
        Some(p) => Some(p),
        None if common::interop_required() => {
            panic!("FEDNS_INTEROP is set but knotd is not installed (apt-get install knot)")
        }
        None => {
            println!("skipping differential suite: knotd not installed");
            None
        }
    }
}

fn zone_list(zones: &[ZoneInfo]) -> Vec<(String, PathBuf)> {
    zones
        .iter()
        .map(|z| (z.origin.clone(), z.file.clone()))
        .collect()
}

// ------------------------------------------------------------------ tests --

#[test]
fn fedns_answers_like_knot() {
    let Some(knotd) = knotd_or_skip() else {
        return;
    };
    let zones = load_zones(Path::new(DATA_DIR));
    let queries = generate_queries(&zones);
    let tmp = TempDir::new("fedns-differential");
    let list = zone_list(&zones);
    let mut knot =
        common::start_knot(&knotd, tmp.path(), "knot", &list).unwrap_or_else(|e| panic!("{e}"));
    let mut fedns = common::start_fedns_dir(tmp.path(), Path::new(DATA_DIR), &list)
        .unwrap_or_else(|e| panic!("{e}"));
    let report = run_differential(&mut fedns, &mut knot, &queries);
    report.print("fedns", "knot");
    assert_eq!(
        report.failures(),
        0,
        "fedns differs from Knot on {} of {} queries (details above)",
        report.failures(),
        report.queries
    );
}

/// The zones of DATA_DIR signed with `ldns-signzone` into `dir`: NSEC, or
/// NSEC3 (`-n`, with `-p` for opt-out). Keys are made fresh for each zone.
fn sign_zones(dir: &Path, nsec3: Option<bool>) -> Option<Vec<ZoneInfo>> {
    let keygen = common::find_program("ldns-keygen")?;
    let signzone = common::find_program("ldns-signzone")?;
    // syntax.test exercises master-file syntax that ldns cannot read; the
    // others cover the DNSSEC cases.
    for zone in load_zones(Path::new(DATA_DIR))
        .into_iter()
        .filter(|z| z.origin != "syntax.test.")
    {
        let origin = zone.origin.trim_end_matches('.').to_string();
        let work = dir.join(format!("keys-{origin}"));
        fs::create_dir_all(&work).unwrap();
        let mut keys = Vec::new();
        for ksk in [true, false] {
            let mut c = Command::new(&keygen);
            c.current_dir(&work).args(["-a", "ECDSAP256SHA256"]);
            if ksk {
                c.arg("-k");
            }
            let out = c.arg(&origin).output().unwrap();
            assert!(
                out.status.success(),
                "ldns-keygen: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            keys.push(work.join(String::from_utf8_lossy(&out.stdout).trim()));
        }
        let signed = dir.join(format!("{origin}.zone"));
        let mut c = Command::new(&signzone);
        c.args(["-o", &origin, "-e", "20381231000000", "-f"])
            .arg(&signed);
        if let Some(opt_out) = nsec3 {
            c.args(["-n", "-t", "0"]);
            if opt_out {
                c.arg("-p");
            }
        }
        let out = c.arg(&zone.file).args(&keys).output().unwrap();
        assert!(
            out.status.success(),
            "ldns-signzone: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(load_zones(dir))
}

/// Signed zones, asked with DO: RRSIGs, NSEC and NSEC3 proofs (wildcards,
/// NXDOMAIN, NODATA, empty non-terminals, referrals with and without DS,
/// opt-out) exactly as Knot serves them.
#[test]
fn fedns_answers_signed_zones_like_knot() {
    let Some(knotd) = knotd_or_skip() else {
        return;
    };
    if common::find_program("ldns-signzone").is_none() {
        assert!(
            !common::interop_required(),
            "FEDNS_INTEROP is set but ldns-signzone is not installed (apt-get install ldnsutils)"
        );
        println!("skipping signed differential suite: ldns-signzone not installed");
        return;
    }
    for (variant, nsec3) in [
        ("nsec", None),
        ("nsec3", Some(false)),
        ("nsec3-optout", Some(true)),
    ] {
        let tmp = TempDir::new(&format!("fedns-differential-{variant}"));
        let zones_dir = tmp.path().join("zones");
        fs::create_dir_all(&zones_dir).unwrap();
        let zones = sign_zones(&zones_dir, nsec3).unwrap_or_else(|| panic!("signing failed"));
        let queries = generate_queries(&zones);
        let list = zone_list(&zones);
        let mut knot =
            common::start_knot(&knotd, tmp.path(), "knot", &list).unwrap_or_else(|e| panic!("{e}"));
        let mut fedns = common::start_fedns_dir(tmp.path(), &zones_dir, &list)
            .unwrap_or_else(|e| panic!("{e}"));
        let report = run_differential_with(&mut fedns, &mut knot, &queries, true);
        println!("== {variant} ==");
        report.print("fedns", "knot");
        assert_eq!(
            report.failures(),
            0,
            "{variant}: fedns differs from Knot on {} of {} DO queries (details above)",
            report.failures(),
            report.queries
        );
    }
}

/// The signed zones transferred from Knot: fedns is Knot's secondary (AXFR
/// of every NSEC, NSEC3 and RRSIG record), and answers DO queries as Knot does.
#[test]
fn fedns_secondary_of_knot_answers_signed_zones_like_knot() {
    let Some(knotd) = knotd_or_skip() else {
        return;
    };
    if common::find_program("ldns-signzone").is_none() {
        assert!(
            !common::interop_required(),
            "FEDNS_INTEROP is set but ldns-signzone is not installed (apt-get install ldnsutils)"
        );
        return;
    }
    for (variant, nsec3) in [("nsec", None), ("nsec3", Some(false))] {
        let tmp = TempDir::new(&format!("fedns-secondary-signed-{variant}"));
        let zones_dir = tmp.path().join("zones");
        fs::create_dir_all(&zones_dir).unwrap();
        let zones = sign_zones(&zones_dir, nsec3).unwrap_or_else(|| panic!("signing failed"));
        let queries = generate_queries(&zones);
        let list = zone_list(&zones);
        // Knot, allowing transfers from loopback.
        let mut knot = common::start_server("knot", tmp.path(), &list[0].0, Duration::from_secs(30), |port| {
            let conf = common::write_knot_conf(tmp.path(), port, &list);
            let text = fs::read_to_string(&conf).unwrap();
            let text = text.replace("zone:\n", "acl:\n  - id: xfr\n    address: 127.0.0.1\n    action: transfer\n\nzone:\n")
                .replace("    file:", "    acl: xfr\n    file:");
            fs::write(&conf, text).unwrap();
            let mut c = Command::new(&knotd);
            c.arg("-c").arg(conf);
            c
        })
        .unwrap_or_else(|e| panic!("{e}"));
        // fedns, a secondary of every zone.
        let secondaries: String = list
            .iter()
            .map(|(origin, _)| {
                format!(
                    "[[secondary]]\nzone = \"{origin}\"\nprimaries = [\"{}\"]\n",
                    knot.addr()
                )
            })
            .collect();
        fs::create_dir_all(tmp.path().join("no-zones")).unwrap();
        let mut fedns = common::start_server("fedns-secondary", tmp.path(), &list[0].0, Duration::from_secs(30), |port| {
            let conf = tmp.path().join(format!("fedns-{port}.toml"));
            fs::write(&conf, format!("listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"no-zones\"\ndata_dir = \"data-{port}\"\n{secondaries}")).unwrap();
            let mut c = Command::new(common::fedns_bin());
            c.arg("serve").arg("--config").arg(conf);
            c
        })
        .unwrap_or_else(|e| panic!("{e}"));
        for (origin, _) in &list {
            common::wait_ready(
                &mut fedns,
                &Name::from_ascii(origin).unwrap(),
                Duration::from_secs(30),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let report = run_differential_with(&mut fedns, &mut knot, &queries, true);
        println!("== secondary {variant} ==");
        report.print("fedns", "knot");
        assert_eq!(
            report.failures(),
            0,
            "{variant}: the transferred zone answers differently from Knot on {} of {} queries",
            report.failures(),
            report.queries
        );
    }
}

/// The harness against itself: two knotd on the same zones must agree on
/// every query, or the comparison (not the server) is wrong.
#[test]
fn differential_harness_knot_vs_knot() {
    let Some(knotd) = knotd_or_skip() else {
        return;
    };
    let zones = load_zones(Path::new(DATA_DIR));
    let queries = generate_queries(&zones);
    let tmp = TempDir::new("fedns-differential-self");
    let list = zone_list(&zones);
    let mut a =
        common::start_knot(&knotd, tmp.path(), "knot-a", &list).unwrap_or_else(|e| panic!("{e}"));
    let mut b =
        common::start_knot(&knotd, tmp.path(), "knot-b", &list).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(a.port, b.port);
    let report = run_differential(&mut a, &mut b, &queries);
    report.print("knot-a", "knot-b");
    assert_eq!(
        report.failures(),
        0,
        "Knot differs from itself: harness bug"
    );
    assert!(report.queries >= 500, "too few queries: {}", report.queries);
}

/// The harness must see a real difference: Knot against Knot serving a copy
/// of the zones with one address changed reports exactly the queries whose
/// answers hold that address.
#[test]
fn differential_harness_detects_a_changed_record() {
    let Some(knotd) = knotd_or_skip() else {
        return;
    };
    let zones = load_zones(Path::new(DATA_DIR));
    let queries = generate_queries(&zones);
    let tmp = TempDir::new("fedns-differential-neg");
    let copy_dir = tmp.path().join("zones");
    fs::create_dir_all(&copy_dir).unwrap();
    let mut changed = Vec::new();
    for z in &zones {
        let text = fs::read_to_string(&z.file).unwrap();
        let dest = copy_dir.join(z.file.file_name().unwrap());
        let text = if z.origin == "diff.test." {
            let from = "target                 IN A     192.0.2.30";
            assert!(text.contains(from), "test zone changed: update this test");
            text.replace(from, "target                 IN A     192.0.2.31")
        } else {
            text
        };
        fs::write(&dest, text).unwrap();
        changed.push((z.origin.clone(), dest));
    }
    let mut a = common::start_knot(&knotd, tmp.path(), "knot-orig", &zone_list(&zones))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut b = common::start_knot(&knotd, tmp.path(), "knot-changed", &changed)
        .unwrap_or_else(|e| panic!("{e}"));
    let report = run_differential(&mut a, &mut b, &queries);
    assert!(report.fatal.is_empty(), "{:?}", report.fatal);
    assert!(
        report.mismatches.len() >= 5,
        "expected the changed record to show up, got {} mismatches",
        report.mismatches.len()
    );
    for m in &report.mismatches {
        assert!(
            m.lines.iter().all(|l| l.contains("192.0.2.3")),
            "unexpected mismatch for {}: {:?}",
            m.q,
            m.lines
        );
    }
    // Through the wildcard CNAME and the chain c1 -> c2 -> c3 -> target.
    for name in ["target.diff.test.", "c1.diff.test.", "foo.wc.diff.test."] {
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.q.name.to_ascii() == name && m.q.qtype == RecordType::A),
            "no mismatch reported for {name} A"
        );
    }
}

#[test]
fn zone_scan_finds_owners_ents_and_cuts() {
    let zones = load_zones(Path::new(DATA_DIR));
    let origins: Vec<&str> = zones.iter().map(|z| z.origin.as_str()).collect();
    assert!(origins.contains(&"diff.test."), "{origins:?}");
    assert!(origins.contains(&"other.test."), "{origins:?}");
    let z = zones.iter().find(|z| z.origin == "diff.test.").unwrap();
    assert!(z.owners["diff.test."].contains("SOA"));
    assert!(z.owners["*.wild.diff.test."].contains("TXT"));
    assert!(z.owners["mixedcaseowner.diff.test."].contains("A"));
    assert!(z.owners["huge.diff.test."].contains("TXT"));
    let ents = z.empty_non_terminals();
    for ent in [
        "_tcp.x.diff.test.",
        "_tcp.noaddr.diff.test.",
        "noaddr.diff.test.",
        "b.c.d.deep.diff.test.",
        "c.d.deep.diff.test.",
        "d.deep.diff.test.",
        "deep.diff.test.",
        "ent.wild.diff.test.",
    ] {
        assert!(ents.contains(ent), "missing ENT {ent}: {ents:?}");
    }
    assert!(!ents.contains("x.diff.test."));
    assert!(!ents.contains("diff.test."));
    let cuts = z.cuts();
    for cut in [
        "deleg.diff.test.",
        "outdeleg.diff.test.",
        "mixdeleg.diff.test.",
        "secure.diff.test.",
    ] {
        assert!(
            cuts.contains(&cut.to_string()),
            "missing cut {cut}: {cuts:?}"
        );
    }
    assert!(!cuts.contains(&"diff.test.".to_string()));
    assert_eq!(strip_comment(r#"a TXT "x;y" ; c"#), r#"a TXT "x;y" "#);
    assert_eq!(parent(r"esc\.aped.syntax.test."), Some("syntax.test."));
    assert_eq!(parent("test."), None);
    let s = zones.iter().find(|z| z.origin == "syntax.test.").unwrap();
    assert_eq!(
        s.owners["syntax.test."],
        BTreeSet::from(["SOA".into(), "NS".into()])
    );
    assert_eq!(
        s.owners["ns.syntax.test."],
        BTreeSet::from(["A".into(), "AAAA".into()])
    );
    assert_eq!(s.owners["units.syntax.test."], BTreeSet::from(["A".into()]));
    assert_eq!(
        s.owners["upper.syntax.test."],
        BTreeSet::from(["A".into(), "TXT".into()])
    );
    assert!(s.owners.contains_key("rel.sub.syntax.test."));
    assert!(s.owners.contains_key(r"esc\.aped.syntax.test."));
    assert!(
        s.empty_non_terminals().is_empty(),
        "{:?}",
        s.empty_non_terminals()
    );
}

#[test]
fn query_generation_is_deterministic_and_covers_the_cases() {
    let zones = load_zones(Path::new(DATA_DIR));
    let a = generate_queries(&zones);
    let b = generate_queries(&zones);
    let key = |qs: &[Q]| {
        qs.iter()
            .map(|q| format!("{}", q))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(key(&a), key(&b));
    assert!(a.len() >= 500 && a.len() <= MAX_QUERIES, "{}", a.len());
    let has = |pred: &dyn Fn(&Q) -> bool| a.iter().any(pred);
    assert!(has(
        &|q| q.why == "mixed case" && q.name.to_ascii().chars().any(|c| c.is_ascii_uppercase())
    ));
    assert!(has(
        &|q| q.name.to_ascii() == "host.deleg.diff.test." && q.qtype == RecordType::A
    ));
    assert!(has(
        &|q| q.name.to_ascii() == "foo.wild.diff.test." && q.qtype == RecordType::TXT
    ));
    assert!(has(
        &|q| q.name.to_ascii() == "_tcp.x.diff.test." && q.qtype == RecordType::SRV
    ));
    assert!(has(
        &|q| q.name.to_ascii() == "secure.diff.test." && q.qtype == RecordType::DS
    ));
    assert!(has(&|q| q.why == "random nonexistent"));
    assert!(has(&|q| q.why == "out of zone"));
    assert!(has(&|q| q.qtype == RecordType::ANY));
    // ANY comes after every other type.
    let first_any = a.iter().position(|q| q.qtype == RecordType::ANY).unwrap();
    assert!(a[first_any..].iter().all(|q| q.qtype == RecordType::ANY));
    // The mixed-case name goes on the wire as written.
    let q = a.iter().find(|q| q.why == "mixed case").unwrap();
    let wire = common::make_query(&q.name, q.qtype, Some(EDNS_SIZE))
        .to_vec()
        .unwrap();
    assert!(wire.iter().any(|b| b.is_ascii_uppercase()));
}

#[test]
fn comparison_reports_differences_and_tolerates_any() {
    let name = Name::from_ascii("Www.Diff.Test.").unwrap();
    let sent = common::make_query(&name, RecordType::A, Some(EDNS_SIZE));
    let mut resp = sent.clone();
    resp.metadata.message_type = hickory_proto::op::MessageType::Response;
    resp.metadata.authoritative = true;
    let a = |ip: [u8; 4], ttl: u32| {
        Record::from_rdata(
            name.clone(),
            ttl,
            hickory_proto::rr::RData::A(hickory_proto::rr::rdata::A::from(
                std::net::Ipv4Addr::from(ip),
            )),
        )
    };
    resp.add_answer(a([192, 0, 2, 1], 60));
    let base = normalize(&resp);
    assert_eq!(base.question, vec!["Www.Diff.Test. IN A".to_string()]);
    assert!(
        base.answer
            .iter()
            .all(|r| r.starts_with("www.diff.test. 60 IN A "))
    );
    let none = HashSet::new();
    let cmp = |x: &Normalized, y: &Normalized, m: Mode| compare(&sent, "c", x, "r", y, m, &none);
    assert!(cmp(&base, &base, Mode::Strict).is_empty());

    // Owner case differences do not count; question echo does.
    let mut lower = resp.clone();
    lower.answers[0].name = name.to_lowercase();
    assert!(cmp(&normalize(&lower), &base, Mode::Strict).is_empty());
    lower.queries[0].set_name(name.to_lowercase());
    let d = cmp(&normalize(&lower), &base, Mode::Strict);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].starts_with("question not echoed as sent by c"),
        "{d:?}"
    );

    // Names inside RDATA compare case-insensitively, text does not.
    let rec = |data: hickory_proto::rr::RData| Record::from_rdata(name.clone(), 60, data);
    let cname = |t: &str| {
        let mut m = resp.clone();
        m.answers = vec![rec(hickory_proto::rr::RData::CNAME(
            hickory_proto::rr::rdata::CNAME(Name::from_ascii(t).unwrap()),
        ))];
        normalize(&m)
    };
    assert!(
        cmp(
            &cname("target.diff.test."),
            &cname("Target.DIFF.test."),
            Mode::Strict
        )
        .is_empty()
    );
    let txt = |t: &str| {
        let mut m = resp.clone();
        m.answers = vec![rec(hickory_proto::rr::RData::TXT(
            hickory_proto::rr::rdata::TXT::new(vec![t.to_string()]),
        ))];
        normalize(&m)
    };
    assert_eq!(cmp(&txt("Hello"), &txt("hello"), Mode::Strict).len(), 2);
    let txts = |parts: &[&[u8]]| {
        let mut m = resp.clone();
        m.answers = vec![rec(hickory_proto::rr::RData::TXT(
            hickory_proto::rr::rdata::TXT::from_bytes(parts.to_vec()),
        ))];
        normalize(&m)
    };
    assert_eq!(
        cmp(&txts(&[b"ab", b"c"]), &txts(&[b"a", b"bc"]), Mode::Strict).len(),
        2
    );
    assert!(
        txts(&[b"a\"b", b"\\\x00\xff"])
            .answer
            .contains(r#"www.diff.test. 60 IN TXT "a\"b" "\\\000\255""#),
        "{:?}",
        txts(&[b"a\"b", b"\\\x00\xff"]).answer
    );

    // TTL, rdata, flags, rcode and extra records are all differences.
    let mut other = resp.clone();
    other.answers[0] = a([192, 0, 2, 1], 61);
    assert_eq!(cmp(&normalize(&other), &base, Mode::Strict).len(), 2);
    other.answers[0] = a([192, 0, 2, 2], 60);
    assert_eq!(cmp(&normalize(&other), &base, Mode::Strict).len(), 2);
    let mut other = resp.clone();
    other.metadata.authoritative = false;
    other.metadata.truncation = true;
    other.metadata.response_code = hickory_proto::op::ResponseCode::NXDomain;
    let d = cmp(&normalize(&other), &base, Mode::Strict);
    assert_eq!(d.len(), 3, "{d:?}");
    let mut other = resp.clone();
    other.add_additional(a([192, 0, 2, 9], 60));
    let d = cmp(&normalize(&other), &base, Mode::Strict);
    assert_eq!(
        d,
        vec!["additional only in c: www.diff.test. 60 IN A 192.0.2.9".to_string()]
    );
    let mut other = resp.clone();
    other.edns = None;
    assert_eq!(cmp(&normalize(&other), &base, Mode::Strict).len(), 1);

    // ANY: a subset of known records passes, an unknown record or an empty
    // answer does not; the additional section is ignored.
    let mut reference = resp.clone();
    reference.add_answer(a([192, 0, 2, 2], 60));
    let reference = normalize(&reference);
    let mut cand = resp.clone();
    cand.add_additional(a([192, 0, 2, 9], 60));
    assert!(cmp(&normalize(&cand), &reference, Mode::Any).is_empty());
    cand.add_answer(a([192, 0, 2, 3], 60));
    assert_eq!(cmp(&normalize(&cand), &reference, Mode::Any).len(), 1);
    let mut empty = resp.clone();
    empty.answers.clear();
    assert_eq!(cmp(&normalize(&empty), &reference, Mode::Any).len(), 1);
}

#[test]
fn known_difference_patterns_match_names() {
    let q = |n: &str| Q {
        name: Name::from_ascii(n).unwrap(),
        qtype: RecordType::A,
        why: "test",
    };
    let k = KnownDifference {
        qname: "*.wild.diff.test.",
        qtype: Some(RecordType::A),
        reason: "test",
    };
    assert!(k.matches(&q("wild.diff.test.")));
    assert!(k.matches(&q("Foo.WILD.diff.test.")));
    assert!(!k.matches(&q("xwild.diff.test.")));
    let exact = KnownDifference {
        qname: "wild.diff.test.",
        qtype: None,
        reason: "test",
    };
    assert!(exact.matches(&q("WILD.diff.test.")));
    assert!(!exact.matches(&q("a.wild.diff.test.")));
    for k in KNOWN_DIFFERENCES {
        assert!(!k.reason.is_empty());
    }
}
