//! Transfers with the real thing: Knot, NSD and BIND as primaries and
//! secondaries of fedns over loopback, with TSIG and NOTIFY, and a
//! 100 000-record zone both ways.
//!
//! Each test skips (with a message) when its peer is not installed, unless
//! FEDNS_INTEROP=1, where a missing peer is a failure (`.ci/run` sets it).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    ServerProcess, TempDir, free_port, hup, loopback, make_query, peer, query_udp, serial_at,
    spawn_on_port,
};
use hickory_proto::rr::{Name, RecordType};

const SECRET: &str = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ==";
const TIMEOUT: Duration = Duration::from_secs(2);

fn master_zone(serial: u32, hosts: usize, extra: &str) -> String {
    let mut z = format!(
        "$ORIGIN example.org.\n$TTL 300\n@ SOA ns1 hostmaster {serial} 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\n\
         @ A 192.0.2.1\nsynapse A 192.0.2.20\nsynapse AAAA 2001:db8::20\n\
         _matrix-fed._tcp SRV 10 0 443 synapse\n_matrix._tcp SRV 10 0 443 synapse\n{extra}"
    );
    for i in 0..hosts {
        z.push_str(&format!(
            "host{i} A 198.18.{}.{}\nhost{i} AAAA 2001:db8:1::{:x}\n",
            (i / 256) % 256,
            i % 256,
            i + 1
        ));
    }
    z
}

/// Waits (bounded) until the server on `port` serves `serial`; returns how long it took.
fn wait_serial(port: u16, serial: u32, limit: Duration, logs: &[&ServerProcess]) -> Duration {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < limit {
        match serial_at(port, "example.org.") {
            Ok(s) if s == serial => return start.elapsed(),
            Ok(s) => last = format!("serial {s}"),
            Err(e) => last = e,
        }
        thread::sleep(Duration::from_millis(50));
    }
    let tails: Vec<String> = logs
        .iter()
        .map(|p| format!("--- {} ---\n{}", p.name, p.log_tail(25)))
        .collect();
    panic!(
        "port {port} did not reach serial {serial} in {limit:?} ({last})\n{}",
        tails.join("\n")
    );
}

fn fedns_secondary(dir: &Path, port: u16, primary: u16, key: bool) -> ServerProcess {
    fs::create_dir_all(dir.join("no-zones")).unwrap();
    let key_conf = if key {
        format!("[[tsig_key]]\nname = \"xfr-key\"\nsecret = \"{SECRET}\"\n")
    } else {
        String::new()
    };
    let key_ref = if key { "tsig_key = \"xfr-key\"\n" } else { "" };
    let conf = dir.join("fedns-secondary.toml");
    fs::write(
        &conf,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"no-zones\"\ndata_dir = \"fedns-data\"\n{key_conf}\
             [[secondary]]\nzone = \"example.org\"\nprimaries = [\"127.0.0.1:{primary}\"]\n{key_ref}\
             [transfer]\nallow = [\"127.0.0.0/8\"]\n"
        ),
    )
    .unwrap();
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(&conf);
    spawn_on_port("fedns-secondary", dir, port, c).unwrap()
}

fn fedns_primary(dir: &Path, port: u16, notify: u16, zone: &str) -> (ServerProcess, PathBuf) {
    let zones = dir.join("fedns-zones");
    fs::create_dir_all(&zones).unwrap();
    let file = zones.join("example.org.zone");
    fs::write(&file, zone).unwrap();
    let conf = dir.join("fedns-primary.toml");
    fs::write(
        &conf,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"fedns-zones\"\n\
             [[tsig_key]]\nname = \"xfr-key\"\nsecret = \"{SECRET}\"\n\
             [transfer]\nallow = [\"key:xfr-key\", \"127.0.0.0/8\"]\nnotify = [\"127.0.0.1:{notify}\"]\nnotify_key = \"xfr-key\"\n"
        ),
    )
    .unwrap();
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(&conf);
    let p = spawn_on_port("fedns-primary", dir, port, c).unwrap();
    wait_serial(port, serial_of(zone), Duration::from_secs(60), &[&p]);
    (p, file)
}

fn serial_of(zone: &str) -> u32 {
    zone.lines()
        .find_map(|l| {
            l.split_whitespace()
                .nth(4)
                .filter(|_| l.contains(" SOA "))
                .and_then(|s| s.parse().ok())
        })
        .unwrap()
}

/// Knot with our TSIG key, loading zone file differences into a journal.
fn knot_conf(dir: &Path, port: u16, body: &str) -> PathBuf {
    common::knot_conf(
        dir,
        port,
        &format!("key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: {SECRET}\n"),
        "    zonefile-load: difference\n    journal-content: changes\n",
        body,
    )
}

#[test]
fn knot_primary_notifies_a_fedns_secondary_signed_with_tsig() {
    let Some(knotd) = peer("knotd") else { return };
    let dir = TempDir::new("interop-knot-primary");
    let (kp, fp) = (free_port(), free_port());
    let zone_file = dir.path().join("example.org.zone");
    fs::write(&zone_file, master_zone(1, 10, "")).unwrap();
    let conf = knot_conf(
        dir.path(),
        kp,
        &format!(
            "remote:\n  - id: fedns\n    address: 127.0.0.1@{fp}\n    key: xfr-key\n\n\
             acl:\n  - id: xfr\n    address: 127.0.0.1\n    key: xfr-key\n    action: transfer\n\n\
             zone:\n  - domain: example.org\n    file: \"{}\"\n    notify: fedns\n    acl: xfr\n",
            zone_file.display()
        ),
    );
    let mut kc = Command::new(&knotd);
    kc.arg("-c").arg(&conf);
    let knot = spawn_on_port("knot", dir.path(), kp, kc).unwrap();
    wait_serial(kp, 1, Duration::from_secs(30), &[&knot]);
    let fedns = fedns_secondary(dir.path(), fp, kp, true);
    wait_serial(fp, 1, Duration::from_secs(30), &[&knot, &fedns]);

    fs::write(&zone_file, master_zone(2, 10, "new A 192.0.2.99\n")).unwrap();
    hup(&knot);
    let took = wait_serial(fp, 2, Duration::from_secs(20), &[&knot, &fedns]);
    eprintln!("Knot -> fedns: serial 2 served {took:?} after the change (NOTIFY; refresh is 2 h)");
    let m = query_udp(
        loopback(fp),
        &make_query(
            &Name::from_ascii("new.example.org.").unwrap(),
            RecordType::A,
            None,
        ),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(m.answers.len(), 1);
    let log = fedns.log_tail(20);
    assert!(
        log.contains("IXFR from"),
        "the incremental change travelled as IXFR:\n{log}"
    );
}

#[test]
fn nsd_primary_feeds_a_fedns_secondary_by_axfr() {
    let Some(nsd) = peer("nsd") else { return };
    let dir = TempDir::new("interop-nsd-primary");
    let (np, fp) = (free_port(), free_port());
    let d = dir.path();
    fs::write(d.join("example.org.zone"), master_zone(7, 2000, "")).unwrap();
    let conf = d.join("nsd.conf");
    fs::write(
        &conf,
        format!(
            "server:\n    ip-address: 127.0.0.1@{np}\n    port: {np}\n    do-ip6: no\n    username: \"\"\n    chroot: \"\"\n    database: \"\"\n\
             \x20   zonelistfile: \"{d}/zone.list\"\n    xfrdfile: \"{d}/xfrd.state\"\n    xfrdir: \"{d}\"\n    pidfile: \"{d}/nsd.pid\"\n\
             \x20   verbosity: 1\n    rrl-ratelimit: 0\n\nremote-control:\n    control-enable: no\n\n\
             zone:\n    name: \"example.org\"\n    zonefile: \"{d}/example.org.zone\"\n    provide-xfr: 127.0.0.1 NOKEY\n    notify: 127.0.0.1@{fp} NOKEY\n",
            d = d.display()
        ),
    )
    .unwrap();
    let mut nc = Command::new(&nsd);
    nc.arg("-d").arg("-c").arg(&conf);
    let nsd = spawn_on_port("nsd", d, np, nc).unwrap();
    wait_serial(np, 7, Duration::from_secs(30), &[&nsd]);
    let fedns = fedns_secondary(d, fp, np, false);
    wait_serial(fp, 7, Duration::from_secs(30), &[&nsd, &fedns]);
    let copy = common::file_when(
        &d.join("fedns-data/example.org.zone"),
        Duration::from_secs(30),
        |text| text.contains("host1999."),
    );
    assert_eq!(
        copy.lines().filter(|l| l.contains("host1999.")).count(),
        2,
        "the whole zone arrived (A and AAAA of the last host)"
    );
}

#[test]
fn knot_secondary_follows_a_fedns_primary_with_notify() {
    let Some(knotd) = peer("knotd") else { return };
    let dir = TempDir::new("interop-knot-secondary");
    let (fp, kp) = (free_port(), free_port());
    let (fedns, zone_file) = fedns_primary(dir.path(), fp, kp, &master_zone(1, 10, ""));
    let conf = knot_conf(
        dir.path(),
        kp,
        &format!(
            "remote:\n  - id: fedns\n    address: 127.0.0.1@{fp}\n    key: xfr-key\n\n\
             acl:\n  - id: notify\n    address: 127.0.0.1\n    key: xfr-key\n    action: notify\n\n\
             zone:\n  - domain: example.org\n    master: fedns\n    acl: notify\n"
        ),
    );
    let mut kc = Command::new(&knotd);
    kc.arg("-c").arg(&conf);
    let knot = spawn_on_port("knot", dir.path(), kp, kc).unwrap();
    wait_serial(kp, 1, Duration::from_secs(30), &[&fedns, &knot]);
    fs::write(&zone_file, master_zone(2, 10, "new A 192.0.2.99\n")).unwrap();
    hup(&fedns);
    let took = wait_serial(kp, 2, Duration::from_secs(20), &[&fedns, &knot]);
    eprintln!("fedns -> Knot: serial 2 served {took:?} after SIGHUP (NOTIFY)");
    let log = fedns.log_tail(20);
    assert!(
        log.contains("IXFR of example.org. serial 1 -> 2 sent"),
        "fedns served the change as IXFR:\n{log}"
    );
}

#[test]
fn bind_secondary_follows_a_fedns_primary() {
    let Some(named) = peer("named") else { return };
    let dir = TempDir::new("interop-bind-secondary");
    let (fp, bp) = (free_port(), free_port());
    let (fedns, zone_file) = fedns_primary(dir.path(), fp, bp, &master_zone(1, 10, ""));
    let d = dir.path().join("bind");
    fs::create_dir_all(&d).unwrap();
    let conf = d.join("named.conf");
    fs::write(
        &conf,
        format!(
            "options {{\n directory \"{d}\";\n pid-file \"{d}/named.pid\";\n session-keyfile \"{d}/session.key\";\n managed-keys-directory \"{d}\";\n\
             listen-on port {bp} {{ 127.0.0.1; }};\n listen-on-v6 {{ none; }};\n recursion no;\n dnssec-validation no;\n notify no;\n}};\n\
             controls {{ }};\nkey \"xfr-key\" {{ algorithm hmac-sha256; secret \"{SECRET}\"; }};\n\
             zone \"example.org\" {{\n type secondary;\n file \"{d}/example.org.db\";\n primaries {{ 127.0.0.1 port {fp} key \"xfr-key\"; }};\n allow-notify {{ 127.0.0.1; }};\n}};\n",
            d = d.display()
        ),
    )
    .unwrap();
    let mut bc = Command::new(&named);
    bc.arg("-g").arg("-c").arg(&conf);
    let bind = spawn_on_port("bind", dir.path(), bp, bc).unwrap();
    wait_serial(bp, 1, Duration::from_secs(30), &[&fedns, &bind]);
    fs::write(&zone_file, master_zone(2, 10, "new A 192.0.2.99\n")).unwrap();
    hup(&fedns);
    let took = wait_serial(bp, 2, Duration::from_secs(20), &[&fedns, &bind]);
    eprintln!("fedns -> BIND: serial 2 served {took:?} after SIGHUP (NOTIFY)");
}

#[test]
fn a_100k_record_zone_transfers_completely_both_ways() {
    let Some(knotd) = peer("knotd") else { return };
    let dir = TempDir::new("interop-100k");
    let hosts = 50_000; // A + AAAA each: 100 000 records
    let zone = master_zone(3, hosts, "");

    // Knot primary -> fedns secondary.
    let (kp, fp) = (free_port(), free_port());
    let zone_file = dir.path().join("example.org.zone");
    fs::write(&zone_file, &zone).unwrap();
    let conf = knot_conf(
        dir.path(),
        kp,
        &format!(
            "acl:\n  - id: xfr\n    address: 127.0.0.1\n    action: transfer\n\n\
             zone:\n  - domain: example.org\n    file: \"{}\"\n    acl: xfr\n",
            zone_file.display()
        ),
    );
    let mut kc = Command::new(&knotd);
    kc.arg("-c").arg(&conf);
    let knot = spawn_on_port("knot-primary", dir.path(), kp, kc).unwrap();
    wait_serial(kp, 3, Duration::from_secs(60), &[&knot]);
    let fedns = fedns_secondary(dir.path(), fp, kp, false);
    let took = wait_serial(fp, 3, Duration::from_secs(120), &[&knot, &fedns]);
    eprintln!(
        "Knot -> fedns, {} records: serving after {took:?}",
        2 * hosts + 7
    );
    let copy = common::file_when(
        &dir.path().join("fedns-data/example.org.zone"),
        Duration::from_secs(60),
        |_| true,
    );
    assert_eq!(
        copy.lines()
            .filter(|l| l.contains(" A ")
                || l.contains("\tA\t")
                || l.contains(" AAAA ")
                || l.contains("\tAAAA\t"))
            .count(),
        2 * hosts + 4
    );

    // fedns primary (the secondary above, which allows transfers from loopback) -> Knot secondary.
    let kp2 = free_port();
    let conf2 = knot_conf(
        dir.path(),
        kp2,
        &format!(
            "remote:\n  - id: fedns\n    address: 127.0.0.1@{fp}\n\nzone:\n  - domain: example.org\n    master: fedns\n"
        ),
    );
    let mut kc2 = Command::new(&knotd);
    kc2.arg("-c").arg(&conf2);
    let started = Instant::now();
    let knot2 = spawn_on_port("knot-secondary", dir.path(), kp2, kc2).unwrap();
    wait_serial(kp2, 3, Duration::from_secs(120), &[&fedns, &knot2]);
    eprintln!(
        "fedns -> Knot, {} records: serving after {:?} (including knotd start)",
        2 * hosts + 7,
        started.elapsed()
    );
    let last = query_udp(
        loopback(kp2),
        &make_query(
            &Name::from_ascii(format!("host{}.example.org.", hosts - 1)).unwrap(),
            RecordType::AAAA,
            None,
        ),
        TIMEOUT,
    )
    .unwrap();
    assert_eq!(last.answers.len(), 1, "the last record made it to Knot");

    // The reference: Knot primary -> Knot secondary, same zone, same machine.
    let kp3 = free_port();
    let conf3 = knot_conf(
        dir.path(),
        kp3,
        &format!(
            "remote:\n  - id: knot\n    address: 127.0.0.1@{kp}\n\nzone:\n  - domain: example.org\n    master: knot\n"
        ),
    );
    let mut kc3 = Command::new(&knotd);
    kc3.arg("-c").arg(&conf3);
    let started = Instant::now();
    let knot3 = spawn_on_port("knot-knot", dir.path(), kp3, kc3).unwrap();
    wait_serial(kp3, 3, Duration::from_secs(120), &[&knot, &knot3]);
    eprintln!(
        "Knot -> Knot, {} records: serving after {:?} (including knotd start)",
        2 * hosts + 7,
        started.elapsed()
    );
}
