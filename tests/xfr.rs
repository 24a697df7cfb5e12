//! Transfers between two fedns processes over loopback: a primary and a
//! secondary with TSIG and NOTIFY, the secondary's disk copy, expiry, and
//! the transfer policy. (Interop with Knot, NSD and BIND is in
//! `interop_xfr.rs`.)

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{
    ServerProcess, TempDir, free_port, hup, loopback, make_query, query_tcp, query_udp, serial_at,
    spawn_on_port, wait_until,
};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

const SECRET: &str = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ==";
const TIMEOUT: Duration = Duration::from_secs(2);

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn zone_text(serial: u32, extra: &str, timers: &str) -> String {
    format!(
        "origin = \"example.org.\"\nttl = 300\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\nserial = {serial}\n{timers}\n\
         [[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"192.0.2.1\"]\n[[record]]\nname = \"ns1\"\nA = [\"192.0.2.53\"]\n\
         [[record]]\nname = \"synapse\"\nA = [\"192.0.2.20\"]\nAAAA = [\"2001:db8::20\"]\n\
         [[matrix]]\nserver_name = \"@\"\ntarget = \"synapse\"\nport = 443\n{extra}"
    )
}

fn fedns(config: &Path) -> Command {
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(config);
    c
}

struct Pair {
    dir: TempDir,
    primary_port: u16,
    secondary_port: u16,
    primary_zone: std::path::PathBuf,
}

impl Pair {
    fn new(prefix: &str, timers: &str) -> Pair {
        let dir = TempDir::new(prefix);
        let primary_port = free_port();
        let secondary_port = free_port();
        let zones = dir.path().join("primary-zones");
        fs::create_dir_all(&zones).unwrap();
        let primary_zone = zones.join("example.org.toml");
        fs::write(&primary_zone, zone_text(1, "", timers)).unwrap();
        fs::write(
            dir.path().join("primary.toml"),
            format!(
                "listen = [\"127.0.0.1:{primary_port}\"]\nzones_dir = \"primary-zones\"\n\
                 [[tsig_key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n\
                 [transfer]\nallow = [\"key:xfr-key\"]\nnotify = [\"127.0.0.1:{secondary_port}\"]\nnotify_key = \"xfr-key\"\n"
            ),
        )
        .unwrap();
        fs::create_dir_all(dir.path().join("secondary-zones")).unwrap();
        fs::write(
            dir.path().join("secondary.toml"),
            format!(
                "listen = [\"127.0.0.1:{secondary_port}\"]\nzones_dir = \"secondary-zones\"\ndata_dir = \"secondary-data\"\n\
                 [[tsig_key]]\nname = \"xfr-key\"\nsecret = \"{SECRET}\"\n\
                 [[secondary]]\nzone = \"example.org\"\nprimaries = [\"127.0.0.1:{primary_port}\"]\ntsig_key = \"xfr-key\"\n"
            ),
        )
        .unwrap();
        Pair {
            dir,
            primary_port,
            secondary_port,
            primary_zone,
        }
    }

    fn start_primary(&self) -> ServerProcess {
        let p = spawn_on_port(
            "primary",
            self.dir.path(),
            self.primary_port,
            fedns(&self.dir.path().join("primary.toml")),
        )
        .unwrap();
        wait_until(Duration::from_secs(20), || {
            serial_at(self.primary_port, "example.org.").map(|_| true)
        })
        .unwrap_or_else(|e| panic!("primary: {e}\n{}", p.log_tail(20)));
        p
    }

    fn start_secondary(&self, n: usize) -> ServerProcess {
        spawn_on_port(
            &format!("secondary-{n}"),
            self.dir.path(),
            self.secondary_port,
            fedns(&self.dir.path().join("secondary.toml")),
        )
        .unwrap()
    }
}

fn answer_summary(port: u16, qname: &str, qtype: RecordType) -> (ResponseCode, Vec<String>) {
    let m: Message = query_udp(
        loopback(port),
        &make_query(&name(qname), qtype, Some(1232)),
        TIMEOUT,
    )
    .unwrap();
    let mut records: Vec<String> = m
        .answers
        .iter()
        .chain(m.additionals.iter())
        .map(|r| r.to_string())
        .collect();
    records.sort();
    (m.metadata.response_code, records)
}

#[test]
fn secondary_follows_its_primary_with_tsig_and_notify_and_survives_a_restart() {
    let pair = Pair::new(
        "xfr-pair",
        "refresh = \"2h\"\nretry = \"15m\"\nexpire = \"14d\"\nminimum = 60",
    );
    let primary = pair.start_primary();
    let secondary = pair.start_secondary(1);
    wait_until(Duration::from_secs(20), || {
        serial_at(pair.secondary_port, "example.org.").map(|s| s == 1)
    })
    .unwrap_or_else(|e| panic!("first transfer: {e}\n{}", secondary.log_tail(20)));
    // The NOTIFY sent at the primary's start is retried until the secondary is up to answer it.
    wait_until(Duration::from_secs(10), || {
        Ok(primary.log_tail(30).contains(&format!(
            "acknowledged by 127.0.0.1:{}",
            pair.secondary_port
        )))
    })
    .unwrap_or_else(|e| panic!("NOTIFY retries: {e}\n{}", primary.log_tail(30)));
    for (q, t) in [
        ("_matrix-fed._tcp.example.org.", RecordType::SRV),
        ("synapse.example.org.", RecordType::AAAA),
        ("nope.example.org.", RecordType::A),
    ] {
        assert_eq!(
            answer_summary(pair.primary_port, q, t),
            answer_summary(pair.secondary_port, q, t),
            "{q} {t}"
        );
    }

    // A change on the primary reaches the secondary by NOTIFY, long before the 2 h refresh.
    fs::write(
        &pair.primary_zone,
        zone_text(
            2,
            "[[record]]\nname = \"new\"\nA = [\"192.0.2.99\"]\n",
            "refresh = \"2h\"",
        ),
    )
    .unwrap();
    hup(&primary);
    wait_until(Duration::from_secs(15), || {
        serial_at(pair.secondary_port, "example.org.").map(|s| s == 2)
    })
    .unwrap_or_else(|e| {
        panic!(
            "NOTIFY did not bring serial 2: {e}\n{}\n{}",
            primary.log_tail(20),
            secondary.log_tail(20)
        )
    });
    assert_eq!(
        answer_summary(pair.secondary_port, "new.example.org.", RecordType::A)
            .1
            .len(),
        1
    );
    let log = secondary.log_tail(40);
    assert!(
        log.contains("serial 1 -> 2"),
        "the refresh is logged with old and new serial:\n{log}"
    );
    assert!(
        log.contains("IXFR from"),
        "the change travelled as IXFR:\n{log}"
    );

    // `fedns ctl notify` sends a round by hand; `status` shows its outcome.
    let primary_conf = pair.dir.path().join("primary.toml");
    let ctl = |args: &[&str]| common::fedns_ctl_json(&primary_conf, args);
    let acks = |p: &ServerProcess| {
        fs::read_to_string(&p.log)
            .unwrap_or_default()
            .matches("NOTIFY for example.org. serial 2 acknowledged")
            .count()
    };
    wait_until(Duration::from_secs(10), || Ok(acks(&primary) == 1)).unwrap();
    let sent = ctl(&["notify", "example.org"]);
    assert_eq!(sent["result"]["serial"], 2);
    wait_until(Duration::from_secs(10), || Ok(acks(&primary) == 2))
        .unwrap_or_else(|e| panic!("ctl notify sent nothing: {e}\n{}", primary.log_tail(20)));
    wait_until(Duration::from_secs(10), || {
        let status = ctl(&["status"]);
        let zone = &status["result"]["zones"][0];
        Ok(zone["last_notify"]["serial"] == 2
            && zone["last_notify"]["targets"][0]["outcome"]
                .as_str()
                .is_some_and(|o| o.starts_with("acknowledged")))
    })
    .unwrap_or_else(|e| panic!("ctl notify: {e}\n{}", primary.log_tail(20)));

    // The disk copy is a master file holding the new version.
    common::file_when(
        &pair.dir.path().join("secondary-data/example.org.zone"),
        Duration::from_secs(10),
        |copy| copy.contains("new.example.org."),
    );

    // Transfers need the key: unsigned is REFUSED.
    let refused = query_tcp(
        loopback(pair.primary_port),
        &make_query(&name("example.org."), RecordType::AXFR, None),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);

    // The primary goes away; a restarted secondary serves its disk copy.
    primary.stop();
    secondary.stop();
    let restarted = pair.start_secondary(2);
    wait_until(Duration::from_secs(10), || {
        serial_at(pair.secondary_port, "example.org.").map(|s| s == 2)
    })
    .unwrap_or_else(|e| panic!("restart from disk: {e}\n{}", restarted.log_tail(20)));
    assert!(
        restarted.log_tail(40).contains("loaded from"),
        "{}",
        restarted.log_tail(40)
    );
}

#[test]
fn an_expired_secondary_answers_servfail_until_the_primary_is_back() {
    let timers = "refresh = 5\nretry = 1\nexpire = 8\nminimum = 60";
    let pair = Pair::new("xfr-expire", timers);
    let primary = pair.start_primary();
    let secondary = pair.start_secondary(1);
    wait_until(Duration::from_secs(20), || {
        serial_at(pair.secondary_port, "example.org.").map(|s| s == 1)
    })
    .unwrap_or_else(|e| panic!("first transfer: {e}\n{}", secondary.log_tail(20)));
    primary.stop();
    wait_until(Duration::from_secs(30), || {
        let m = query_udp(
            loopback(pair.secondary_port),
            &make_query(&name("example.org."), RecordType::SOA, None),
            TIMEOUT,
        )?;
        Ok(m.metadata.response_code == ResponseCode::ServFail)
    })
    .unwrap_or_else(|e| panic!("expiry: {e}\n{}", secondary.log_tail(30)));
    assert!(
        secondary.log_tail(40).contains("expired"),
        "{}",
        secondary.log_tail(40)
    );
    let _primary = pair.start_primary();
    wait_until(Duration::from_secs(30), || {
        serial_at(pair.secondary_port, "example.org.").map(|s| s == 1)
    })
    .unwrap_or_else(|e| panic!("recovery: {e}\n{}", secondary.log_tail(30)));
}
