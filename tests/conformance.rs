//! Protocol conformance as operators check it: BIND's `dig` and Knot's
//! `kdig` against `fedns serve` on loopback, one question each, and the
//! answer judged on what the tools print (rcode, flags, section counts, the
//! records in each section, the EDNS version).
//!
//! The checks: the apex SOA; a positive answer with and without RD (no RA,
//! AA set); NXDOMAIN and NODATA with the SOA in authority (RFC 2308); the SRV
//! target's A and AAAA in additional; ANY over UDP and TCP (RFC 8482: some
//! subset); REFUSED outside the zones; AXFR refused by default; truncation
//! without EDNS and none with a 1232-byte buffer (RFC 6891, RFC 9471 for the
//! size); BADVERS for EDNS version 1 (RFC 6891 6.1.3); NOTIMP for an
//! unassigned opcode; FORMERR for a message without a question (RFC 1035;
//! with a DNS COOKIE, NOERROR is allowed, RFC 7873 5.4).
//!
//! They need `dig` and `kdig`; without them the test says so and passes,
//! unless `FEDNS_INTEROP=1` asks for them.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{ServerProcess, TempDir, free_port, peer, printed_within, serve_fedns};

const ZONE: &str = "conform.test.";

/// The zone: a host, the Matrix SRV pair to a target with A and AAAA, and
/// eight TXT strings (about 950 bytes in all) at `big`.
fn zone() -> String {
    let mut z = String::from(
        "$ORIGIN conform.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\n\
         ns1 A 127.0.0.53\nhost00042 A 198.18.0.42\nhost00042 AAAA 2001:db8::42\n\
         synapse A 198.18.0.20\nsynapse AAAA 2001:db8::20\n\
         _matrix-fed._tcp SRV 10 0 8448 synapse\n_matrix._tcp SRV 10 0 8448 synapse\n",
    );
    for i in 0..8 {
        z.push_str(&format!("big TXT \"{i}{}\"\n", "x".repeat(110)));
    }
    z
}

/// What `dig` or `kdig` printed, read as operators read it.
#[derive(Debug, Default)]
struct Printed {
    text: String,
    opcode: String,
    status: String,
    flags: Vec<String>,
    counts: [usize; 4],
    edns_version: Option<u32>,
    answer: Vec<(String, String)>,
    authority: Vec<(String, String)>,
    additional: Vec<(String, String)>,
}

impl Printed {
    fn of(text: String) -> Printed {
        let mut p = Printed {
            text,
            ..Printed::default()
        };
        let mut section: Option<&str> = None;
        for line in p.text.clone().lines() {
            if let Some(rest) = line.split_once("opcode: ").map(|(_, r)| r) {
                let mut parts = rest.split(", ");
                p.opcode = parts.next().unwrap_or_default().to_owned();
                p.status = parts
                    .next()
                    .and_then(|s| s.strip_prefix("status: "))
                    .unwrap_or_default()
                    .to_owned();
            } else if let Some(rest) = line.strip_prefix(";; flags:") {
                let (flags, counts) = rest.split_once(';').unwrap_or((rest, ""));
                p.flags = flags.split_whitespace().map(str::to_owned).collect();
                for (i, part) in counts.split(',').enumerate().take(4) {
                    p.counts[i] = part
                        .rsplit(':')
                        .next()
                        .and_then(|n| n.trim().parse().ok())
                        .unwrap_or(0);
                }
            } else if let Some(rest) = line.strip_prefix("; EDNS: version: ") {
                p.edns_version = rest.split(',').next().and_then(|v| v.trim().parse().ok());
            } else if line.starts_with(";; ANSWER SECTION") {
                section = Some("answer");
            } else if line.starts_with(";; AUTHORITY SECTION") {
                section = Some("authority");
            } else if line.starts_with(";; ADDITIONAL SECTION") {
                section = Some("additional");
            } else if line.trim().is_empty() || line.starts_with(";;") {
                section = None;
            } else if let Some(which) = section
                && !line.starts_with(';')
            {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if let (Some(owner), Some(rtype)) = (fields.first(), fields.get(3)) {
                    let rr = ((*owner).to_owned(), (*rtype).to_owned());
                    match which {
                        "answer" => p.answer.push(rr),
                        "authority" => p.authority.push(rr),
                        _ => p.additional.push(rr),
                    }
                }
            }
        }
        p
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    fn types(section: &[(String, String)]) -> Vec<&str> {
        section.iter().map(|(_, t)| t.as_str()).collect()
    }
}

struct Lab {
    _dir: TempDir,
    _server: ServerProcess,
    port: u16,
    dig: PathBuf,
    kdig: PathBuf,
}

impl Lab {
    fn start() -> Option<Lab> {
        let dig = peer("dig")?;
        let kdig = peer("kdig")?;
        let dir = TempDir::new("conformance");
        let file = dir.path().join("conform.test.zone");
        fs::write(&file, zone()).expect("write the zone");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let server = serve_fedns(
            "fedns",
            dir.path(),
            port,
            &[
                "--zone".as_ref(),
                file.as_os_str(),
                "--listen".as_ref(),
                listen.as_ref(),
            ],
            ZONE,
        );
        Some(Lab {
            _dir: dir,
            _server: server,
            port,
            dig,
            kdig,
        })
    }

    /// `dig @127.0.0.1 -p PORT +norec +time=2 +tries=1 ARGS...`.
    fn dig(&self, args: &[&str]) -> Printed {
        let mut c = Command::new(&self.dig);
        c.args([
            "@127.0.0.1",
            "-p",
            &self.port.to_string(),
            "+norec",
            "+time=2",
            "+tries=1",
        ])
        .args(args);
        Printed::of(text_of(c))
    }

    fn kdig(&self, args: &[&str]) -> Printed {
        let mut c = Command::new(&self.kdig);
        c.args([
            "@127.0.0.1",
            "-p",
            &self.port.to_string(),
            "+time=3",
            "+retry=0",
        ])
        .args(args);
        Printed::of(text_of(c))
    }
}

fn text_of(c: Command) -> String {
    printed_within(c, Duration::from_secs(20))
}

#[test]
fn dig_and_kdig_see_answers_as_the_rfcs_say() {
    let Some(lab) = Lab::start() else { return };

    let soa = lab.dig(&[ZONE, "SOA"]);
    assert_eq!(
        (soa.status.as_str(), soa.has_flag("aa")),
        ("NOERROR", true),
        "{}",
        soa.text
    );

    for rd in ["+norec", "+rec"] {
        let a = lab.dig(&[rd, "host00042.conform.test", "A"]);
        assert_eq!(a.status, "NOERROR", "{}", a.text);
        assert!(a.has_flag("aa") && !a.has_flag("ra"), "{rd}: {}", a.text);
        assert_eq!(Printed::types(&a.answer), ["A"], "{}", a.text);
    }

    let nx = lab.dig(&["nx-does-not-exist.conform.test", "A"]);
    assert_eq!(nx.status, "NXDOMAIN", "{}", nx.text);
    assert!(nx.has_flag("aa") && nx.counts[1] == 0, "{}", nx.text);
    assert_eq!(Printed::types(&nx.authority), ["SOA"], "{}", nx.text);

    let nodata = lab.dig(&["host00042.conform.test", "TXT"]);
    assert_eq!(nodata.status, "NOERROR", "{}", nodata.text);
    assert!(
        nodata.has_flag("aa") && nodata.counts[1] == 0,
        "{}",
        nodata.text
    );
    assert_eq!(
        Printed::types(&nodata.authority),
        ["SOA"],
        "{}",
        nodata.text
    );

    let srv = lab.dig(&["_matrix-fed._tcp.conform.test", "SRV"]);
    assert_eq!(Printed::types(&srv.answer), ["SRV"], "{}", srv.text);
    for rtype in ["A", "AAAA"] {
        assert!(
            srv.additional
                .iter()
                .any(|(o, t)| o == "synapse.conform.test." && t == rtype),
            "{rtype} of the target in additional: {}",
            srv.text
        );
    }

    for transport in ["+notcp", "+tcp"] {
        let any = lab.dig(&[transport, ZONE, "ANY"]);
        assert_eq!(any.status, "NOERROR", "{}", any.text);
        assert!(any.counts[1] >= 1, "ANY answers some subset: {}", any.text);
    }

    for rd in ["+norec", "+rec"] {
        let out = lab.dig(&[rd, "example.com", "A"]);
        assert_eq!(out.status, "REFUSED", "{}", out.text);
    }

    let mut axfr = Command::new(&lab.dig);
    axfr.args([
        "@127.0.0.1",
        "-p",
        &lab.port.to_string(),
        "+time=3",
        "+tries=1",
        ZONE,
        "AXFR",
    ]);
    let axfr = text_of(axfr);
    assert!(
        axfr.contains("Transfer failed"),
        "AXFR is refused by default: {axfr}"
    );
    let kaxfr = lab.kdig(&[ZONE, "AXFR"]);
    assert!(kaxfr.text.contains("REFUSED"), "{}", kaxfr.text);

    let truncated = lab.dig(&["+noedns", "+ignore", "big.conform.test", "TXT"]);
    assert!(truncated.has_flag("tc"), "{}", truncated.text);
    let whole = lab.dig(&["+bufsize=1232", "+ignore", "big.conform.test", "TXT"]);
    assert!(
        !whole.has_flag("tc") && whole.counts[1] == 8,
        "{}",
        whole.text
    );

    let badvers = lab.dig(&["+edns=1", "+noednsnegotiation", ZONE, "SOA"]);
    assert_eq!(badvers.status, "BADVERS", "{}", badvers.text);
    assert_eq!(badvers.edns_version, Some(0), "{}", badvers.text);

    let notimp = lab.dig(&["+opcode=3", ZONE, "SOA"]);
    assert_eq!(notimp.status, "NOTIMP", "{}", notimp.text);

    // No question: FORMERR; with a cookie, NOERROR is allowed (RFC 7873 5.4).
    let with_cookie = lab.dig(&["+header-only"]);
    assert!(
        matches!(with_cookie.status.as_str(), "FORMERR" | "NOERROR"),
        "{}",
        with_cookie.text
    );
    for args in [["+nocookie", "+header-only"], ["+noedns", "+header-only"]] {
        let formerr = lab.dig(&args);
        assert_eq!(formerr.status, "FORMERR", "{args:?}: {}", formerr.text);
    }
}
