//! NSID (RFC 5001), the CHAOS identity names, Extended DNS Errors (RFC
//! 8914) and ZONEVERSION (RFC 9660) from the real binary: with BIND's `dig`
//! as operators use it, and with hickory-proto for the option bytes and for
//! malformed options.

mod common;

use std::fs;
use std::process::Command;
use std::time::Duration;

use common::{
    ServerProcess, TempDir, find_program, interop_required, make_query, query_udp, start_server,
};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};

const TIMEOUT: Duration = Duration::from_secs(2);

fn zone(serial: u32) -> String {
    format!(
        "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = {serial}\n\
         [[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"192.0.2.1\"]\n[[record]]\nname = \"ns1\"\nA = [\"192.0.2.53\"]\n"
    )
}

fn start(dir: &TempDir, extra: &str) -> ServerProcess {
    let zones = dir.path().join("zones");
    fs::create_dir_all(&zones).unwrap();
    fs::write(zones.join("example.org.toml"), zone(42)).unwrap();
    let config = dir.path().join("fedns.toml");
    let extra = extra.to_string();
    start_server(
        "fedns",
        dir.path(),
        "example.org.",
        Duration::from_secs(20),
        |port| {
            fs::write(
                &config,
                format!("listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"zones\"\n{extra}"),
            )
            .unwrap();
            let mut c = Command::new(common::fedns_bin());
            c.arg("serve").arg("--config").arg(&config);
            c
        },
    )
    .unwrap()
}

fn with_option(
    name: &str,
    class: DNSClass,
    rtype: RecordType,
    option: Option<EdnsOption>,
) -> Message {
    let mut m = make_query(&Name::from_ascii(name).unwrap(), rtype, Some(1232));
    m.queries[0].set_query_class(class);
    if let Some(option) = option {
        let mut edns = m.edns.clone().unwrap_or_default();
        edns.options_mut().insert(option);
        m.set_edns(edns);
    }
    m
}

fn option_data(m: &Message, code: u16) -> Option<Vec<u8>> {
    match m.edns.as_ref()?.option(EdnsCode::from(code))? {
        EdnsOption::Unknown(_, data) => Some(data.clone()),
        EdnsOption::NSID(payload) => Some(payload.as_ref().to_vec()),
        _ => None,
    }
}

fn txt(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(t.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn nsid_zoneversion_chaos_and_extended_errors_over_the_wire() {
    let dir = TempDir::new("identity");
    let server = start(&dir, "nsid = \"ns1-test\"\nversion = true\n");
    let ask = |m: &Message| query_udp(server.addr(), m, TIMEOUT).unwrap();

    // NSID only when asked; the answer is the same otherwise.
    let plain = ask(&with_option(
        "example.org.",
        DNSClass::IN,
        RecordType::SOA,
        None,
    ));
    assert_eq!(option_data(&plain, 3), None);
    let nsid = ask(&with_option(
        "example.org.",
        DNSClass::IN,
        RecordType::SOA,
        Some(EdnsOption::Unknown(3, Vec::new())),
    ));
    assert_eq!(option_data(&nsid, 3).as_deref(), Some(&b"ns1-test"[..]));
    assert_eq!(nsid.answers, plain.answers);
    // Data in the query's NSID is ignored (RFC 5001 2.1).
    let with_data = ask(&with_option(
        "example.org.",
        DNSClass::IN,
        RecordType::SOA,
        Some(EdnsOption::Unknown(3, b"junk".to_vec())),
    ));
    assert_eq!(
        option_data(&with_data, 3).as_deref(),
        Some(&b"ns1-test"[..])
    );

    // An option nobody defined is ignored (RFC 6891 6.1.2).
    let unknown = ask(&with_option(
        "example.org.",
        DNSClass::IN,
        RecordType::SOA,
        Some(EdnsOption::Unknown(65001, vec![1, 2, 3])),
    ));
    assert_eq!(unknown.metadata.response_code, ResponseCode::NoError);
    assert_eq!(unknown.answers, plain.answers);

    // ZONEVERSION: label count 2, type 0 (SOA serial), serial 42; for
    // NXDOMAIN too; a non-empty query option is ignored (RFC 9660 2.2).
    let zv = ask(&with_option(
        "nothere.example.org.",
        DNSClass::IN,
        RecordType::A,
        Some(EdnsOption::Unknown(19, Vec::new())),
    ));
    assert_eq!(zv.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(option_data(&zv, 19), Some(vec![2, 0, 0, 0, 0, 42]));
    let ignored = ask(&with_option(
        "example.org.",
        DNSClass::IN,
        RecordType::A,
        Some(EdnsOption::Unknown(19, vec![1])),
    ));
    assert_eq!(option_data(&ignored, 19), None);
    assert_eq!(ignored.metadata.response_code, ResponseCode::NoError);

    // Extended DNS Errors: not authoritative, and AXFR over UDP.
    let refused = ask(&with_option(
        "example.com.",
        DNSClass::IN,
        RecordType::A,
        None,
    ));
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
    let ede = option_data(&refused, 15).unwrap();
    assert_eq!(&ede[..2], &20u16.to_be_bytes());
    assert_eq!(&ede[2..], b"not authoritative for this name");
    let axfr = ask(&with_option(
        "example.org.",
        DNSClass::IN,
        RecordType::AXFR,
        None,
    ));
    assert_eq!(option_data(&axfr, 15).map(|d| d[1]), Some(21));
    // Without EDNS there is nowhere to put one.
    let bare = query_udp(
        server.addr(),
        &make_query(
            &Name::from_ascii("example.com.").unwrap(),
            RecordType::A,
            None,
        ),
        TIMEOUT,
    )
    .unwrap();
    assert!(bare.edns.is_none());

    // CHAOS: the identity (the NSID text by default), the version when
    // shown, REFUSED for everything else.
    let id = ask(&with_option(
        "id.server.",
        DNSClass::CH,
        RecordType::TXT,
        None,
    ));
    assert_eq!(txt(&id), ["ns1-test"]);
    assert_eq!(id.answers[0].dns_class, DNSClass::CH);
    let host = ask(&with_option(
        "HOSTNAME.BIND.",
        DNSClass::CH,
        RecordType::TXT,
        None,
    ));
    assert_eq!(txt(&host), ["ns1-test"]);
    let version = ask(&with_option(
        "version.bind.",
        DNSClass::CH,
        RecordType::TXT,
        None,
    ));
    assert_eq!(
        txt(&version),
        [format!("fedns {}", env!("CARGO_PKG_VERSION"))]
    );
    for (name, rtype) in [
        ("authors.bind.", RecordType::TXT),
        ("id.server.", RecordType::A),
    ] {
        let r = ask(&with_option(name, DNSClass::CH, rtype, None));
        assert_eq!(
            r.metadata.response_code,
            ResponseCode::Refused,
            "{name} {rtype}"
        );
        assert_eq!(option_data(&r, 15).map(|d| d[1]), Some(21));
    }
}

#[test]
fn version_is_hidden_unless_configured_and_dig_shows_the_rest() {
    let dir = TempDir::new("identity-dig");
    let server = start(&dir, "nsid = \"ns1-dig\"\n");
    let hidden = query_udp(
        server.addr(),
        &with_option("version.server.", DNSClass::CH, RecordType::TXT, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(hidden.metadata.response_code, ResponseCode::Refused);

    let dig = match find_program("dig") {
        Some(d) => d,
        None if interop_required() => panic!("FEDNS_INTEROP=1 but dig is not installed"),
        None => {
            eprintln!("skipping the dig half: dig not installed");
            return;
        }
    };
    let run = |args: &[&str]| {
        let out = Command::new(&dig)
            .arg(format!("@{}", server.addr().ip()))
            .arg("-p")
            .arg(server.addr().port().to_string())
            .args(["+norec", "+time=2", "+tries=1"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let nsid = run(&["example.org", "SOA", "+nsid"]);
    assert!(
        nsid.contains("NSID: 6e 73 31 2d 64 69 67 (\"ns1-dig\")"),
        "{nsid}"
    );
    let chaos = run(&["id.server", "CH", "TXT", "+short"]);
    assert_eq!(chaos.trim(), "\"ns1-dig\"");
    let refused = run(&["example.com", "A"]);
    assert!(refused.contains("status: REFUSED"), "{refused}");
    assert!(
        refused.contains("EDE: 20 (Not Authoritative): (not authoritative for this name)"),
        "{refused}"
    );

    // Knot's kdig reads the same options.
    let Some(kdig) = find_program("kdig") else {
        assert!(
            !interop_required(),
            "FEDNS_INTEROP=1 but kdig is not installed"
        );
        return;
    };
    let kdig_run = |args: &[&str]| {
        let out = Command::new(&kdig)
            .arg(format!("@{}", server.addr().ip()))
            .arg("-p")
            .arg(server.addr().port().to_string())
            .args(["+norec", "+time=2", "+retry=0"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let nsid = kdig_run(&["+nsid", "example.org", "SOA"]);
    assert!(
        nsid.contains(";; NSID: 6E73312D646967 \"ns1-dig\""),
        "{nsid}"
    );
    let ede = kdig_run(&["+edns", "example.com", "A"]);
    assert!(
        ede.contains(";; EDE: 20 (Not Authoritative): 'not authoritative for this name'"),
        "{ede}"
    );
    let cookie = kdig_run(&["+cookie", "example.org", "SOA"]);
    let line = cookie
        .lines()
        .find(|l| l.starts_with(";; COOKIE: "))
        .unwrap_or_default();
    assert_eq!(line.len(), ";; COOKIE: ".len() + 48, "{cookie}");
}

#[test]
fn cookies_are_learned_verified_and_bad_ones_refused_over_udp() {
    let dir = TempDir::new("identity-cookies");
    let server = start(
        &dir,
        "[cookies]\nsecret = \"e5e973e5a6b2a43f48e7dc849e37bfcf\"\n",
    );
    let cookie_query = |data: Vec<u8>| {
        with_option(
            "example.org.",
            DNSClass::IN,
            RecordType::SOA,
            Some(EdnsOption::Unknown(10, data)),
        )
    };
    let client = vec![0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];
    // A client cookie alone: the answer and a 16-byte RFC 9018 server cookie.
    let first = query_udp(server.addr(), &cookie_query(client.clone()), TIMEOUT).unwrap();
    assert_eq!(first.metadata.response_code, ResponseCode::NoError);
    assert_eq!(first.answers.len(), 1);
    let learned = option_data(&first, 10).unwrap();
    assert_eq!(learned.len(), 24);
    assert_eq!(&learned[..8], &client[..]);
    assert_eq!(&learned[8..12], &[1, 0, 0, 0], "version 1, reserved");
    // Sent back: accepted.
    let second = query_udp(server.addr(), &cookie_query(learned.clone()), TIMEOUT).unwrap();
    assert_eq!(second.metadata.response_code, ResponseCode::NoError);
    assert_eq!(second.answers.len(), 1);
    // A forged server cookie: BADCOOKIE over UDP with a fresh cookie, no answer.
    let mut forged = learned.clone();
    forged[23] ^= 0xff;
    let bad = query_udp(server.addr(), &cookie_query(forged.clone()), TIMEOUT).unwrap();
    assert_eq!(bad.metadata.response_code, ResponseCode::BADCOOKIE);
    assert!(bad.answers.is_empty());
    assert_eq!(option_data(&bad, 10).map(|c| c.len()), Some(24));
    // Over TCP nobody is spoofed: the answer.
    let tcp = common::query_tcp(server.addr(), &cookie_query(forged), TIMEOUT).unwrap();
    assert_eq!(tcp.metadata.response_code, ResponseCode::NoError);
    assert_eq!(tcp.answers.len(), 1);
    // Lengths RFC 7873 forbids: FORMERR, never a crash.
    for len in [0usize, 7, 9, 15, 41] {
        let r = query_udp(server.addr(), &cookie_query(vec![7; len]), TIMEOUT).unwrap();
        assert_eq!(
            r.metadata.response_code,
            ResponseCode::FormErr,
            "length {len}"
        );
    }

    let Some(dig) = find_program("dig") else {
        assert!(
            !interop_required(),
            "FEDNS_INTEROP=1 but dig is not installed"
        );
        return;
    };
    let dig_cookie = |cookie: &str| {
        let out = Command::new(&dig)
            .arg(format!("@{}", server.addr().ip()))
            .arg("-p")
            .arg(server.addr().port().to_string())
            .args([
                "+norec",
                "+time=2",
                "+tries=1",
                cookie,
                "example.org",
                "SOA",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = dig_cookie("+cookie");
    let line = first
        .lines()
        .find(|l| l.starts_with("; COOKIE: "))
        .unwrap_or_else(|| panic!("no COOKIE in:\n{first}"));
    assert!(line.contains("(good)"), "{line}");
    let hex = line
        .trim_start_matches("; COOKIE: ")
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(hex.len(), 48, "{line}");
    let again = dig_cookie(&format!("+cookie={hex}"));
    assert!(again.contains("status: NOERROR"), "{again}");
    assert!(again.contains("(good)"), "{again}");
}

#[test]
fn rate_limiting_never_slips_a_client_that_returns_our_cookie() {
    let dir = TempDir::new("identity-rrl");
    let server = start(
        &dir,
        "[rate_limit]\nresponses_per_second = 1\nwindow = \"1s\"\nslip = 0\nlimit_loopback = true\n",
    );
    let ask = |m: &Message| query_udp(server.addr(), m, Duration::from_millis(300)).ok();
    let client = vec![9u8; 8];
    let with_cookie = |data: Vec<u8>| {
        with_option(
            "example.org.",
            DNSClass::IN,
            RecordType::SOA,
            Some(EdnsOption::Unknown(10, data)),
        )
    };
    // Learned over TCP, which is never limited (the readiness probe spent
    // the UDP allowance already).
    let learned = option_data(
        &common::query_tcp(server.addr(), &with_cookie(client), TIMEOUT).unwrap(),
        10,
    )
    .unwrap();
    let answered = (0..40)
        .filter(|_| ask(&with_cookie(learned.clone())).is_some())
        .count();
    assert_eq!(answered, 40, "a verified cookie is never rate limited");
    let plain = (0..10)
        .filter(|_| {
            ask(&with_option(
                "example.org.",
                DNSClass::IN,
                RecordType::SOA,
                None,
            ))
            .is_some()
        })
        .count();
    assert!(
        plain < 10,
        "without a cookie the limit applies ({plain} of 10 answered)"
    );
}
