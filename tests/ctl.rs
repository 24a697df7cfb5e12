//! `fedns ctl` over the real control socket of a running `fedns serve`, and
//! the per-zone settings it reports: a primary fedns with `[[zone]]`
//! transfer policies, and a second fedns holding a file zone and a
//! secondary zone whose first primary is dead (so the second is used).

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{
    ServerProcess, TempDir, free_port, loopback, make_query, query_tcp, query_udp, serial_at,
    spawn_on_port, wait_until,
};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(20);

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn zone_text(origin: &str, serial: u32, address: &str) -> String {
    format!(
        "origin = \"{origin}\"\nttl = 300\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\nserial = {serial}\nrefresh = \"1h\"\n\
         [[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"{address}\"]\n[[record]]\nname = \"ns1\"\nA = [\"192.0.2.53\"]\n"
    )
}

fn rcode_at(port: u16, zone: &str) -> ResponseCode {
    query_udp(
        loopback(port),
        &make_query(&name(zone), RecordType::SOA, None),
        TIMEOUT,
    )
    .map(|m| m.metadata.response_code)
    .unwrap_or(ResponseCode::ServFail)
}

fn serve(config: &Path) -> Command {
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(config);
    c
}

use common::{fedns_ctl as ctl, fedns_ctl_json as ctl_json};

fn zone_status<'a>(status: &'a Value, zone: &str) -> &'a Value {
    status["result"]["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["zone"] == zone)
        .unwrap_or_else(|| panic!("{zone} not in {status}"))
}

struct Lab {
    dir: TempDir,
    primary_port: u16,
    server_port: u16,
    primary_zones: PathBuf,
    server_config: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let dir = TempDir::new("ctl");
        let (primary_port, server_port, dead_port) = (free_port(), free_port(), free_port());
        let primary_zones = dir.path().join("primary-zones");
        fs::create_dir_all(&primary_zones).unwrap();
        for (origin, address) in [
            ("example.org.", "192.0.2.1"),
            ("example.com.", "192.0.2.2"),
            ("example.edu.", "192.0.2.3"),
        ] {
            fs::write(
                primary_zones.join(format!("{}toml", origin)),
                zone_text(origin, 1, address),
            )
            .unwrap();
        }
        // Nobody may transfer by default; two zones open to loopback.
        fs::write(
            dir.path().join("primary.toml"),
            format!(
                "listen = [\"127.0.0.1:{primary_port}\"]\nzones_dir = \"primary-zones\"\ndata_dir = \"primary-data\"\n\
                 [[zone]]\nname = \"example.org\"\nfile = \"primary-zones/example.org.toml\"\nallow = [\"127.0.0.0/8\"]\n\
                 [[zone]]\nname = \"example.com\"\nfile = \"primary-zones/example.com.toml\"\nallow = [\"127.0.0.0/8\"]\n"
            ),
        )
        .unwrap();
        let own = dir.path().join("own");
        fs::create_dir_all(&own).unwrap();
        fs::write(
            own.join("example.net.toml"),
            zone_text("example.net.", 7, "192.0.2.7"),
        )
        .unwrap();
        let server_config = dir.path().join("server.toml");
        fs::write(
            &server_config,
            format!(
                "listen = [\"127.0.0.1:{server_port}\"]\n\
                 [[zone]]\nname = \"example.net\"\nfile = \"own/example.net.toml\"\n\
                 [[zone]]\nname = \"example.org\"\nprimaries = [\"127.0.0.1:{dead_port}\", \"127.0.0.1:{primary_port}\"]\n"
            ),
        )
        .unwrap();
        Lab {
            dir,
            primary_port,
            server_port,
            primary_zones,
            server_config,
        }
    }

    fn start_primary(&self) -> ServerProcess {
        let p = spawn_on_port(
            "primary",
            self.dir.path(),
            self.primary_port,
            serve(&self.dir.path().join("primary.toml")),
        )
        .unwrap();
        wait_until(WAIT, || {
            serial_at(self.primary_port, "example.org.").map(|_| true)
        })
        .unwrap_or_else(|e| panic!("primary: {e}\n{}", p.log_tail(20)));
        p
    }

    fn start_server(&self, n: usize) -> ServerProcess {
        let s = spawn_on_port(
            &format!("server-{n}"),
            self.dir.path(),
            self.server_port,
            serve(&self.server_config),
        )
        .unwrap();
        wait_until(WAIT, || {
            Ok(serial_at(self.server_port, "example.org.")? >= 1
                && self.dir.path().join("data/fedns.sock").exists())
        })
        .unwrap_or_else(|e| panic!("server: {e}\n{}", s.log_tail(30)));
        s
    }
}

#[test]
fn per_zone_transfer_policy_overrides_the_default() {
    let lab = Lab::new();
    let _primary = lab.start_primary();
    let axfr = |zone: &str| {
        query_tcp(
            loopback(lab.primary_port),
            &make_query(&name(zone), RecordType::AXFR, None),
            TIMEOUT,
        )
        .map(|m| m.metadata.response_code)
    };
    assert_eq!(axfr("example.org."), Ok(ResponseCode::NoError));
    assert_eq!(axfr("example.com."), Ok(ResponseCode::NoError));
    assert_eq!(
        axfr("example.edu."),
        Ok(ResponseCode::Refused),
        "no [[zone]]: the [transfer] default (nobody)"
    );
}

#[test]
fn ctl_reports_and_steers_file_and_secondary_zones() {
    let lab = Lab::new();
    let mut primary = lab.start_primary();
    let server = lab.start_server(1);
    let cfg = &lab.server_config;

    // status: both zones, with serials and the secondary's timers; the
    // dead first primary was skipped for the second. The timers are set
    // once the transfer is done, disk copy written, a moment after the
    // zone is served.
    let mut status = Value::Null;
    wait_until(Duration::from_secs(10), || {
        status = ctl_json(cfg, &["status"]);
        Ok(zone_status(&status, "example.org.")["refresh_in"].is_u64())
    })
    .unwrap_or_else(|e| panic!("the secondary's timers: {e}\n{status}"));
    let net = zone_status(&status, "example.net.");
    assert_eq!(net["role"], "primary");
    assert_eq!(net["serial"], 7);
    assert_eq!(net["records"], 4);
    // Its memory: the name table and four records, a few hundred octets.
    let bytes = net["bytes"].as_u64().unwrap();
    assert!((200..20_000).contains(&bytes), "{net}");
    assert!(
        net["loaded_from"]
            .as_str()
            .unwrap()
            .ends_with("own/example.net.toml")
    );
    let org = zone_status(&status, "example.org.");
    assert_eq!(
        (org["role"].as_str(), org["serial"].as_u64()),
        (Some("secondary"), Some(1))
    );
    assert!(org["refresh_in"].as_u64().unwrap() <= 3600, "{org}");
    assert_eq!(
        org["loaded_from"].as_str(),
        Some(format!("127.0.0.1:{}", lab.primary_port).as_str()),
        "the primary that answered, not the dead first one"
    );
    let expire_in = org["expire_in"].as_u64().unwrap();
    assert!(expire_in > 1_200_000 && expire_in <= 1_209_600, "{org}");
    assert!(
        org["last_refresh_outcome"]
            .as_str()
            .unwrap()
            .starts_with("ok: AXFR"),
        "{org}"
    );
    let human = ctl(cfg, &["status"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("example.org.  secondary serving  serial 1"),
        "{text}"
    );
    assert!(
        text.contains(" records (") && text.contains(" KiB)"),
        "{text}"
    );

    // refresh: the primary's new serial is fetched now, not in an hour.
    fs::write(
        lab.primary_zones.join("example.org.toml"),
        zone_text("example.org.", 2, "192.0.2.11"),
    )
    .unwrap();
    Command::new("kill")
        .args(["-HUP", &primary.pid().to_string()])
        .status()
        .unwrap();
    wait_until(WAIT, || {
        Ok(serial_at(lab.primary_port, "example.org.")? == 2)
    })
    .unwrap();
    let refreshed = ctl_json(cfg, &["refresh", "example.org"]);
    assert_eq!(refreshed["result"]["refresh"], "started");
    wait_until(
        WAIT,
        || Ok(serial_at(lab.server_port, "example.org.")? == 2),
    )
    .unwrap_or_else(|e| panic!("refresh: {e}\n{}", server.log_tail(20)));
    wait_until(WAIT, || {
        let org = ctl_json(cfg, &["status"]);
        Ok(zone_status(&org, "example.org.")["last_refresh_outcome"]
            .as_str()
            .unwrap_or_default()
            .starts_with("ok: IXFR"))
    })
    .unwrap();

    // retransfer: a full AXFR, although the serials agree.
    ctl_json(cfg, &["retransfer", "example.org"]);
    wait_until(WAIT, || {
        let org = ctl_json(cfg, &["status"]);
        Ok(zone_status(&org, "example.org.")["last_refresh_outcome"] == "ok: AXFR to serial 2")
    })
    .unwrap_or_else(|e| panic!("retransfer: {e}\n{}", server.log_tail(20)));

    // reload ZONE: one file zone read again.
    fs::write(
        lab.dir.path().join("own/example.net.toml"),
        zone_text("example.net.", 8, "192.0.2.8"),
    )
    .unwrap();
    let reloaded = ctl_json(cfg, &["reload", "example.net"]);
    let change = &reloaded["result"]["changes"][0];
    assert_eq!(
        (change["old_serial"].as_u64(), change["new_serial"].as_u64()),
        (Some(7), Some(8))
    );
    assert_eq!(serial_at(lab.server_port, "example.net.").unwrap(), 8);

    // A broken file keeps the zone serving, and says where it broke.
    fs::write(lab.dir.path().join("own/example.net.toml"), "origin = \n").unwrap();
    let out = ctl(cfg, &["reload", "example.net"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("example.net.toml:1:"), "{err}");
    assert!(err.contains("keeps serving"), "{err}");
    assert_eq!(serial_at(lab.server_port, "example.net.").unwrap(), 8);
    fs::write(
        lab.dir.path().join("own/example.net.toml"),
        zone_text("example.net.", 8, "192.0.2.8"),
    )
    .unwrap();

    // zone-add: a new secondary zone, served, and kept across a restart.
    let added = ctl_json(
        cfg,
        &[
            "zone-add",
            "example.com",
            "--primary",
            &format!("127.0.0.1:{}", lab.primary_port),
        ],
    );
    assert_eq!(added["result"]["added"], true);
    wait_until(
        WAIT,
        || Ok(serial_at(lab.server_port, "example.com.")? == 1),
    )
    .unwrap_or_else(|e| panic!("zone-add: {e}\n{}", server.log_tail(20)));
    let kept = fs::read_to_string(lab.dir.path().join("data/ctl-zones.toml")).unwrap();
    assert!(kept.contains("example.com."), "{kept}");
    server.stop();
    let mut server = lab.start_server(2);
    wait_until(
        WAIT,
        || Ok(serial_at(lab.server_port, "example.com.")? == 1),
    )
    .unwrap_or_else(|e| panic!("after restart: {e}\n{}", server.log_tail(20)));

    // zone-remove: no longer served, disk copy gone; configured zones stay.
    let copy = lab.dir.path().join("data/example.com.zone");
    assert!(copy.exists());
    ctl_json(cfg, &["zone-remove", "example.com"]);
    assert_eq!(
        rcode_at(lab.server_port, "example.com."),
        ResponseCode::Refused
    );
    assert!(!copy.exists());
    let out = ctl(cfg, &["zone-remove", "example.org"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is in the configuration file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Bad commands: one line, non-zero exit, the server carries on.
    for (args, expected) in [
        (
            &["refresh", "nothere.test"][..],
            "no secondary zone nothere.test.",
        ),
        (&["reload", "example.org"][..], "is a secondary zone"),
        (&["refresh", "example.net"][..], "is a primary zone here"),
        (
            &["zone-add", "example.org", "--primary", "127.0.0.1:1"][..],
            "already",
        ),
        (
            &["zone-add", "x.test", "--primary", "nowhere"][..],
            "bad primary \"nowhere\"",
        ),
        (
            &[
                "zone-add",
                "x.test",
                "--primary",
                "127.0.0.1:1",
                "--tsig-key",
                "nokey",
            ][..],
            "no [[tsig_key]] named \"nokey\"",
        ),
        (&["notify", "example.net"][..], "has no notify targets"),
    ] {
        let out = ctl(cfg, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    let socket = lab.dir.path().join("data/fedns.sock");
    for garbage in ["not json\n", "{\"command\":\"launch\"}\n", "\n"] {
        let mut stream = UnixStream::connect(&socket).unwrap();
        stream.write_all(garbage.as_bytes()).unwrap();
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).unwrap();
        let answer: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(answer["ok"], false, "{garbage:?}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .starts_with("malformed request"),
            "{line}"
        );
    }
    assert!(server.is_running());
    assert!(primary.is_running());
    assert_eq!(serial_at(lab.server_port, "example.org.").unwrap(), 2);
}

#[test]
fn ctl_names_a_socket_that_is_missing_or_not_ours() {
    let dir = TempDir::new("ctl-bad-socket");
    let run = |socket: &Path| {
        Command::new(common::fedns_bin())
            .args(["ctl", "--socket"])
            .arg(socket)
            .arg("status")
            .output()
            .unwrap()
    };
    let missing = run(&dir.path().join("nothing.sock"));
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("cannot connect to the control socket"),
        "{err}"
    );

    let file = dir.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    assert!(!run(&file).status.success());

    // Something else listens there and answers in its own way.
    let other = dir.path().join("other.sock");
    let listener = UnixListener::bind(&other).unwrap();
    let answering = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            let _ = stream.write_all(b"220 hello from an SMTP server\n");
        }
    });
    let out = run(&other);
    answering.join().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the answer is not from fedns"), "{err}");
}

#[test]
fn a_server_of_secondary_zones_only_needs_no_zones_directory() {
    let lab = Lab::new();
    let _primary = lab.start_primary();
    let dir = TempDir::new("ctl-secondary-only");
    let port = free_port();
    let config = dir.path().join("fedns.toml");
    fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\n[[zone]]\nname = \"example.com\"\nprimaries = [\"127.0.0.1:{}\"]\n",
            lab.primary_port
        ),
    )
    .unwrap();
    let mut cmd = serve(&config);
    cmd.current_dir(dir.path());
    let s = spawn_on_port("secondary-only", dir.path(), port, cmd).unwrap();
    wait_until(WAIT, || Ok(serial_at(port, "example.com.")? == 1))
        .unwrap_or_else(|e| panic!("{e}\n{}", s.log_tail(20)));

    // The control socket refuses to replace what is not a socket, and a
    // second server on the same socket is refused while the first runs.
    let other_port = free_port();
    let second = Command::new(common::fedns_bin())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--listen")
        .arg(format!("127.0.0.1:{other_port}"))
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another server answers on it"), "{err}");
}

#[test]
fn notify_goes_to_the_targets_of_each_zone() {
    let lab = Lab::new();
    // Only example.org has NOTIFY targets; the default has none.
    let primary_conf = lab.dir.path().join("primary.toml");
    let text = fs::read_to_string(&primary_conf).unwrap().replace(
        "file = \"primary-zones/example.org.toml\"\n",
        &format!(
            "file = \"primary-zones/example.org.toml\"\nnotify = [\"127.0.0.1:{}\"]\n",
            lab.server_port
        ),
    );
    fs::write(&primary_conf, text).unwrap();
    let primary = lab.start_primary();
    let server = lab.start_server(1);
    for (origin, address) in [
        ("example.org.", "192.0.2.21"),
        ("example.com.", "192.0.2.22"),
    ] {
        fs::write(
            lab.primary_zones.join(format!("{origin}toml")),
            zone_text(origin, 2, address),
        )
        .unwrap();
    }
    common::hup(&primary);
    // The secondary refreshes hourly: serial 2 within seconds means NOTIFY.
    wait_until(
        WAIT,
        || Ok(serial_at(lab.server_port, "example.org.")? == 2),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}\n{}", primary.log_tail(20), server.log_tail(20)));
    let log = fs::read_to_string(&primary.log).unwrap();
    assert!(
        log.contains("NOTIFY for example.org. serial 2 acknowledged"),
        "{log}"
    );
    assert!(!log.contains("NOTIFY for example.com."), "{log}");
    assert!(!log.contains("NOTIFY for example.edu."), "{log}");
}
