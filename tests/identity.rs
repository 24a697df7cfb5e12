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
}
