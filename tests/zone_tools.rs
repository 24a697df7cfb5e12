//! `fedns zone import | export | fmt`: lossless round trips on the shipped
//! zones and on a generated zone of 10 000+ records of many types, the
//! command line's exit statuses and errors, and the exported master files
//! checked by BIND's `named-checkzone` and NSD's `nsd-checkzone` when they
//! are installed (required with `FEDNS_INTEROP=1`).

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use common::TempDir;
use fedns::zone::master::{parse_master, write_master};
use fedns::zone::toml_write::{
    canonical_order, record_lines, toml_problems, write_toml_zone, write_toml_zone_with_comments,
};
use fedns::zone::toml_zone::parse_toml_zone;
use fedns::zone::validate::validate_zone;
use fedns::zone::{Zone, load_zone_file};
use hickory_proto::rr::Name;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every zone file the repository ships that loads.
fn shipped_zones() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "zones",
        "examples/lab-federation/zones",
        "tests/data/differential",
        "tests/data/explain/zones",
    ] {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("toml" | "zone")
                )
            })
            .collect();
        paths.sort();
        out.extend(paths);
    }
    out
}

fn toml_zone(text: &str, name: &str) -> Zone {
    let file: Arc<str> = Arc::from(name);
    let zone = parse_toml_zone(text, &file, None)
        .unwrap_or_else(|e| panic!("{e}\n--- {name} ---\n{text}"));
    validate_zone(&zone).unwrap_or_else(|e| panic!("{e}"));
    zone
}

fn master_records(text: &str, origin: &Name) -> Vec<fedns::zone::SourcedRecord> {
    let file: Arc<str> = Arc::from("<exported>");
    parse_master(text, &file, origin).unwrap_or_else(|e| panic!("{e}"))
}

/// TOML written from `zone` reads back to the same records and sections,
/// formatting it again changes nothing, and its export reads back the same.
/// Returns (TOML, exported master file).
fn assert_round_trips(zone: &Zone, what: &str) -> (String, String) {
    assert!(
        toml_problems(zone).is_empty(),
        "{what}: {:?}",
        toml_problems(zone)
    );
    let expected = record_lines(&zone.origin, &zone.records);
    let toml = write_toml_zone(zone);
    let back = toml_zone(&toml, what);
    assert_eq!(
        expected,
        record_lines(&back.origin, &back.records),
        "{what}: TOML round trip"
    );
    assert_eq!(
        zone.matrix.len(),
        back.matrix.len(),
        "{what}: [[matrix]] sections"
    );
    assert_eq!(
        write_toml_zone_with_comments(&back, &toml),
        toml,
        "{what}: fmt is idempotent"
    );
    let master = write_master(&back.origin, &canonical_order(&back));
    let again = master_records(&master, &back.origin);
    assert_eq!(
        expected,
        record_lines(&back.origin, &again),
        "{what}: export round trip"
    );
    (toml, master)
}

#[test]
fn shipped_zones_round_trip_through_toml_and_master_files() {
    let zones = shipped_zones();
    assert!(zones.len() >= 8, "{zones:?}");
    for path in &zones {
        let zone = load_zone_file(path).unwrap_or_else(|e| panic!("{e}"));
        let what = path.display().to_string();
        assert_round_trips(&zone, &what);
        if path.extension().is_some_and(|e| e == "toml") {
            // fmt keeps the file's comments and reaches a fixed point.
            let source = std::fs::read_to_string(path).unwrap();
            let once = write_toml_zone_with_comments(&zone, &source);
            let zone_once = toml_zone(&once, &what);
            assert_eq!(
                record_lines(&zone.origin, &zone.records),
                record_lines(&zone_once.origin, &zone_once.records)
            );
            assert_eq!(
                write_toml_zone_with_comments(&zone_once, &once),
                once,
                "{what}"
            );
            let comments = |t: &str| {
                t.lines()
                    .filter(|l| l.trim_start().starts_with('#'))
                    .count()
            };
            assert!(
                comments(&once) > 0 || comments(&source) == 0,
                "{what}: comments kept"
            );
        }
    }
}

// ---------------------------------------------------------------- large zone --

/// A deterministic pseudo-random sequence (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn hex(&mut self, bytes: usize) -> String {
        (0..bytes)
            .map(|_| format!("{:02X}", self.next() & 0xff))
            .collect()
    }

    fn base64(&mut self, bytes: usize) -> String {
        let raw: Vec<u8> = (0..bytes).map(|_| (self.next() & 0xff) as u8).collect();
        data_encoding::BASE64.encode(&raw)
    }
}

/// A master file of `hosts` hosts and the records around them: every type
/// BIND and NSD check as well as fedns, several TTLs, TXT of every shape,
/// delegations with glue and DS. About 3.4 records per host.
fn large_zone(hosts: usize) -> String {
    let mut rng = Lcg(7);
    let mut z = String::from("$ORIGIN big.test.\n$TTL 3600\n");
    z.push_str(
        "@ SOA ns1 hostmaster 2026010101 2h 15m 14d 5m\n@ NS ns1\n@ NS ns2\n@ NS ns.example.net.\n",
    );
    z.push_str("ns1 A 192.0.2.53\nns1 AAAA 2001:db8::53\nns2 A 192.0.2.54\n@ MX 10 mail\nmail A 192.0.2.25\n");
    z.push_str("@ TXT \"v=spf1 mx -all\"\n@ CAA 0 issue \"letsencrypt.org\"\n@ CAA 128 iodef \"mailto:security@big.test\"\n");
    let _ = writeln!(z, "@ DNSKEY 257 3 13 {}", rng.base64(64));
    z.push_str("*.wild 300 A 192.0.2.99\n_dmarc TXT \"v=DMARC1; p=none\"\nodd\\.label\\032x TXT \"an escaped owner\"\n");
    for i in 0..hosts {
        let h = format!("host{i}");
        let _ = writeln!(z, "{h} A 10.{}.{}.{}", i >> 16, (i >> 8) & 0xff, i & 0xff);
        let ttl = if i % 4 == 0 { " 300" } else { "" };
        let _ = writeln!(z, "{h}{ttl} AAAA 2001:db8:{:x}::{:x}", i >> 12, i & 0xfff);
        match i % 6 {
            0 => {
                let _ = writeln!(
                    z,
                    "{h} TXT \"text {i} with \\\"quotes\\\" and \\\\ backslash\""
                );
            }
            1 => {
                let _ = writeln!(z, "{h} TXT \"part one\" \"part two\" \"\"");
            }
            2 => {
                let long = "k".repeat(300 + i % 50);
                let _ = writeln!(z, "{h} 86400 TXT \"{}\" \"{}\"", &long[..255], &long[255..]);
            }
            3 => {
                let _ = writeln!(
                    z,
                    "{h} TXT \"unicode \\195\\169t\\195\\169 \\226\\156\\147 {i}\""
                );
            }
            _ => {}
        }
        if i % 5 == 0 {
            let _ = writeln!(z, "{h} MX {} {h}", i % 100);
        }
        if i % 7 == 0 {
            let _ = writeln!(
                z,
                "_svc{i}._tcp SRV 10 {} {} {h}",
                i % 10,
                1024 + i % 60_000
            );
        }
        if i % 11 == 0 {
            let _ = writeln!(z, "alias{i} 60 CNAME {h}");
        }
        if i % 13 == 0 {
            let _ = writeln!(z, "{h} SSHFP 4 2 {}", rng.hex(32));
        }
        if i % 17 == 0 {
            let _ = writeln!(z, "_443._tcp.{h} TLSA 3 1 1 {}", rng.hex(32));
        }
        if i % 19 == 0 {
            let _ = writeln!(
                z,
                "sub{i} NS ns.sub{i}\nsub{i} NS ns.example.net.\nns.sub{i} A 192.0.2.{}",
                i % 250 + 1
            );
            let _ = writeln!(z, "sub{i} DS {} 13 2 {}", i % 65_536, rng.hex(32));
        }
        if i % 29 == 0 {
            let _ = writeln!(z, "{h} CAA 0 issuewild \";\"");
            let _ = writeln!(z, "{h} HINFO \"x86-64\" \"Debian {i}\"");
            let _ = writeln!(
                z,
                "{h} NAPTR 100 {} \"S\" \"SIP+D2U\" \"\" _sip._udp.{h}",
                i % 10
            );
            let _ = writeln!(z, "{h} SPF \"v=spf1 ip4:10.0.0.{} -all\"", i % 256);
            let _ = writeln!(z, "{h} TXT \"v=spf1 ip4:10.0.0.{} -all\"", i % 256);
            let _ = writeln!(z, "{h} URI 10 1 \"https://{h}.big.test/\"");
            let _ = writeln!(z, "{h} RP mbox.{h} txt.{h}");
            let _ = writeln!(z, "{h} AFSDB 1 {h}");
            let _ = writeln!(z, "{h} KX 10 {h}");
            let _ = writeln!(z, "{h} LOC \\# 16 00121313899a0a0c80be9c4b0098a4b0");
            let _ = writeln!(z, "{h} HTTPS 1 . alpn=h2,h3 port={}", 443 + i % 10);
            let _ = writeln!(z, "{h} SVCB 0 svc.example.net.");
            let _ = writeln!(z, "{h} TYPE65280 \\# 4 {}", rng.hex(4));
            let _ = writeln!(z, "{h} OPENPGPKEY {}", rng.base64(40));
            let _ = writeln!(z, "_smimecert.{h} SMIMEA 3 0 1 {}", rng.hex(32));
            let _ = writeln!(z, "{h} CERT PGP 0 0 {}", rng.base64(24));
            let _ = writeln!(z, "ptr{i} PTR {h}.big.test.");
            let _ = writeln!(z, "dname{i} DNAME target{i}.example.net.");
            let _ = writeln!(z, "Mixed{i} 0 A 192.0.2.{}", i % 250 + 1);
        }
    }
    z
}

#[test]
fn a_large_generated_zone_round_trips() {
    let text = large_zone(3000);
    let origin = Name::from_ascii("big.test.").unwrap();
    let records = master_records(&text, &origin);
    assert!(records.len() >= 10_000, "only {} records", records.len());
    let types: std::collections::HashSet<_> = records.iter().map(|r| r.record_type()).collect();
    assert!(types.len() >= 25, "{} types: {types:?}", types.len());
    let zone = Zone {
        origin,
        records,
        matrix: Vec::new(),
        source: None,
    };
    validate_zone(&zone).unwrap_or_else(|e| panic!("{e}"));
    let (toml, master) = assert_round_trips(&zone, "big.test");
    assert!(
        toml.contains("ttl = \"1h\"\n"),
        "the default TTL is the most common one"
    );
    // The TOML is a quarter smaller than the master file it came from or better.
    assert!(
        toml.len() < text.len() + text.len() / 2,
        "{} vs {}",
        toml.len(),
        text.len()
    );
    checkzone("big.test", &master);
}

// ------------------------------------------------------------------ BIND, NSD --

/// Runs `named-checkzone` and `nsd-checkzone` on `master` when they are
/// installed (they must be with FEDNS_INTEROP=1); both must accept it.
/// `-i local`: BIND checks the names inside the zone only (no lookups of
/// out-of-zone names, which would wait for DNS timeouts offline).
fn checkzone(origin: &str, master: &str) {
    let dir = TempDir::new("zone-tools-check");
    let path = dir.path().join(format!("{origin}.zone"));
    std::fs::write(&path, master).unwrap();
    let checkers: [(&str, &[&str]); 2] = [
        ("named-checkzone", &["-q", "-i", "local"]),
        ("nsd-checkzone", &[]),
    ];
    for (program, flags) in checkers {
        let Some(bin) = common::find_program(program) else {
            assert!(
                !common::interop_required(),
                "{program} is not installed (FEDNS_INTEROP=1)"
            );
            eprintln!("skipping {program}: not installed");
            continue;
        };
        let out = Command::new(&bin)
            .args(flags)
            .arg(origin)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} rejects the export of {origin}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn exported_shipped_zones_pass_named_checkzone_and_nsd_checkzone() {
    for path in shipped_zones() {
        let zone = load_zone_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let master = write_master(&zone.origin, &canonical_order(&zone));
        checkzone(zone.origin.to_string().trim_end_matches('.'), &master);
    }
}

// ---------------------------------------------------------------- the CLI --

fn fedns(args: &[&str]) -> Output {
    Command::new(common::fedns_bin())
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn import_export_and_fmt_from_the_command_line() {
    let dir = TempDir::new("zone-tools-cli");
    let master = dir.path().join("diff.test.zone");
    std::fs::copy(
        repo().join("tests/data/differential/diff.test.zone"),
        &master,
    )
    .unwrap();
    let toml = dir.path().join("diff.test.toml");
    let out = fedns(&["zone", "import", p(&master), "-o", p(&toml)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("records imported"),
        "{}",
        text(&out.stderr)
    );

    // What import writes is formatted.
    let out = fedns(&["zone", "fmt", "--check", p(&toml)]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Export to stdout: the same records as the master file.
    let out = fedns(&["zone", "export", p(&toml)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let origin = Name::from_ascii("diff.test.").unwrap();
    let original = master_records(&std::fs::read_to_string(&master).unwrap(), &origin);
    assert_eq!(
        record_lines(&origin, &original),
        record_lines(&origin, &master_records(&text(&out.stdout), &origin))
    );

    // fmt --check on an unformatted file: exit 1, file untouched; fmt fixes it.
    let messy = dir.path().join("example.org.toml");
    let source = std::fs::read_to_string(repo().join("zones/example.org.toml")).unwrap();
    let shuffled = format!("{source}\n[[record]]\nname = \"a\"\nttl = 300\nA = [\"192.0.2.7\"]\n");
    std::fs::write(&messy, &shuffled).unwrap();
    let out = fedns(&["zone", "fmt", "--check", p(&messy)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not formatted"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), shuffled);
    let out = fedns(&["zone", "fmt", p(&messy)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let formatted = std::fs::read_to_string(&messy).unwrap();
    assert_ne!(formatted, shuffled);
    assert!(
        formatted.contains("[[matrix]]") && formatted.contains("# The homeserver"),
        "{formatted}"
    );
    let out = fedns(&["zone", "fmt", "--check", p(&messy)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn errors_name_the_file_line_and_column() {
    let dir = TempDir::new("zone-tools-errors");
    let master = dir.path().join("bad.test.zone");
    std::fs::write(
        &master,
        "$TTL 60\n@ SOA ns1 h 1 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.300\n",
    )
    .unwrap();
    let out = fedns(&["zone", "import", p(&master)]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:4:7:", p(&master))), "{err}");
    assert!(out.stdout.is_empty(), "nothing is written on error");

    let toml = dir.path().join("bad.test.toml");
    std::fs::write(&toml, "[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\nMX = [\"x mail\"]\n").unwrap();
    for args in [["zone", "export", p(&toml)], ["zone", "fmt", p(&toml)]] {
        let out = fedns(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains(&format!("{}:8:", p(&toml))),
            "{}",
            text(&out.stderr)
        );
    }

    // A TXT that is not UTF-8 cannot be TOML: import refuses, naming the record.
    std::fs::write(
        &master,
        "$TTL 60\n@ SOA ns1 h 1 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\nt TXT \"\\255\"\n",
    )
    .unwrap();
    let out = fedns(&["zone", "import", p(&master)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!(
            "{}:5:1: TXT at t.bad.test. holds bytes that are not UTF-8",
            p(&master)
        )),
        "{}",
        text(&out.stderr)
    );
}
