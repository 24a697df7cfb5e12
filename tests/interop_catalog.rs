//! Catalog zones (RFC 9432) over loopback, both roles: fedns produces a
//! catalog of its primary zones for another fedns, for Knot (`catalog-role:
//! interpret`) and for BIND (`catalog-zones`); fedns consumes the catalogs
//! Knot generates (`catalog-role: generate`) and BIND serves. In each, a
//! zone added on the producer is served by the consumer within seconds of
//! the NOTIFY, and a removed one stops being served.
//!
//! The peers run when installed (`FEDNS_INTEROP=1` makes them mandatory).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{
    ServerProcess, TempDir, free_port, hup, loopback, make_query, peer, query_udp, serial_at,
    spawn_on_port, wait_until,
};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};

const WAIT: Duration = Duration::from_secs(30);

fn member_zone(origin: &str, serial: u32) -> String {
    format!(
        "$ORIGIN {origin}\n$TTL 300\n@ SOA ns1 hostmaster {serial} 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n"
    )
}

fn rcode_at(port: u16, zone: &str) -> Option<ResponseCode> {
    query_udp(
        loopback(port),
        &make_query(&Name::from_ascii(zone).unwrap(), RecordType::SOA, None),
        Duration::from_secs(2),
    )
    .ok()
    .map(|m| m.metadata.response_code)
}

/// Waits until `port` serves `zone` (or, with `served = false`, refuses it).
fn wait_served(port: u16, zone: &str, served: bool, logs: &[&ServerProcess]) {
    wait_until(WAIT, || {
        Ok(match rcode_at(port, zone) {
            Some(ResponseCode::NoError) => served,
            Some(ResponseCode::Refused) => !served,
            _ => false,
        })
    })
    .unwrap_or_else(|e| {
        let tails: Vec<String> = logs
            .iter()
            .map(|p| format!("--- {} ---\n{}", p.name, p.log_tail(30)))
            .collect();
        panic!(
            "port {port}: {zone} {} : {e}\n{}",
            if served { "not served" } else { "still served" },
            tails.join("\n")
        )
    });
}

/// A fedns that produces `catalog.fedns.` listing the zones in its zones
/// directory, notifying `notify`.
struct FednsProducer {
    server: ServerProcess,
    zones: PathBuf,
    config: PathBuf,
}

impl FednsProducer {
    fn start(dir: &Path, port: u16, notify: u16) -> FednsProducer {
        let zones = dir.join("producer-zones");
        fs::create_dir_all(&zones).unwrap();
        fs::write(zones.join("one.test.zone"), member_zone("one.test.", 1)).unwrap();
        let config = dir.join("producer.toml");
        fs::write(
            &config,
            format!(
                "listen = [\"127.0.0.1:{port}\"]\nzones_dir = \"producer-zones\"\ndata_dir = \"producer-data\"\n\
                 [transfer]\nallow = [\"127.0.0.0/8\"]\nnotify = [\"127.0.0.1:{notify}\"]\n\
                 [[zone]]\nname = \"catalog.fedns\"\ncatalog = \"producer\"\n"
            ),
        )
        .unwrap();
        let mut c = Command::new(common::fedns_bin());
        c.arg("serve").arg("--config").arg(&config);
        let server = spawn_on_port("fedns-producer", dir, port, c).unwrap();
        wait_served(port, "catalog.fedns.", true, &[&server]);
        FednsProducer {
            server,
            zones,
            config,
        }
    }

    /// Adds or removes a zone file and reloads through `fedns ctl`.
    fn change(&self, add: Option<&str>, remove: Option<&str>) {
        if let Some(origin) = add {
            fs::write(
                self.zones.join(format!("{origin}zone")),
                member_zone(origin, 1),
            )
            .unwrap();
        }
        if let Some(origin) = remove {
            fs::remove_file(self.zones.join(format!("{origin}zone"))).unwrap();
        }
        common::fedns_ctl_json(&self.config, &["reload"]);
    }
}

/// A fedns that consumes the catalog `catalog` from `primary`.
fn fedns_consumer(dir: &Path, port: u16, primary: u16, catalog: &str) -> ServerProcess {
    let config = dir.join("consumer.toml");
    fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\ndata_dir = \"consumer-data\"\n\
             [[zone]]\nname = \"{catalog}\"\nprimaries = [\"127.0.0.1:{primary}\"]\ncatalog = \"consumer\"\n"
        ),
    )
    .unwrap();
    let mut c = Command::new(common::fedns_bin());
    c.arg("serve").arg("--config").arg(&config);
    spawn_on_port("fedns-consumer", dir, port, c).unwrap()
}

#[test]
fn fedns_produces_a_catalog_that_another_fedns_consumes_across_a_restart() {
    let dir = TempDir::new("catalog-fedns");
    let (pp, cp) = (free_port(), free_port());
    let producer = FednsProducer::start(dir.path(), pp, cp);
    let consumer = fedns_consumer(dir.path(), cp, pp, "catalog.fedns");
    wait_served(cp, "one.test.", true, &[&producer.server, &consumer]);

    let before = serial_at(pp, "catalog.fedns.").unwrap();
    producer.change(Some("two.test."), None);
    assert!(
        serial_at(pp, "catalog.fedns.").unwrap() != before,
        "serial bumped"
    );
    wait_served(cp, "two.test.", true, &[&producer.server, &consumer]);

    // The consumer restarts: its copy of the catalog brings the members back.
    consumer.stop();
    let consumer = fedns_consumer(dir.path(), cp, pp, "catalog.fedns");
    wait_served(cp, "two.test.", true, &[&producer.server, &consumer]);

    producer.change(None, Some("one.test."));
    wait_served(cp, "one.test.", false, &[&producer.server, &consumer]);
    assert!(!dir.path().join("consumer-data/one.test.zone").exists());
    assert_eq!(rcode_at(cp, "two.test."), Some(ResponseCode::NoError));

    // A member cannot be removed by hand: the catalog owns it.
    let out = common::fedns_ctl(
        &dir.path().join("consumer.toml"),
        &["zone-remove", "two.test"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a member of catalog catalog.fedns."),
        "{err}"
    );
}

/// Knot that transfers and accepts NOTIFY from loopback, writing nothing back.
fn knot_conf(dir: &Path, port: u16, body: &str) -> PathBuf {
    common::knot_conf(
        dir,
        port,
        "acl:\n  - id: local\n    address: 127.0.0.1\n    action: [transfer, notify]\n",
        "    zonefile-sync: -1\n    journal-content: none\n    acl: local\n",
        body,
    )
}

#[test]
fn knot_interprets_the_catalog_fedns_produces() {
    let Some(knotd) = peer("knotd") else { return };
    let dir = TempDir::new("catalog-knot-consumer");
    let (pp, kp) = (free_port(), free_port());
    let producer = FednsProducer::start(dir.path(), pp, kp);
    let conf = knot_conf(
        dir.path(),
        kp,
        &format!(
            "remote:\n  - id: fedns\n    address: 127.0.0.1@{pp}\n\n\
             template:\n  - id: member\n    storage: \"{d}\"\n    zonefile-sync: -1\n    journal-content: none\n    master: fedns\n    acl: local\n\n\
             zone:\n  - domain: catalog.fedns\n    master: fedns\n    catalog-role: interpret\n    catalog-template: member\n",
            d = dir.path().join(format!("knot-{kp}")).display()
        ),
    );
    let mut kc = Command::new(&knotd);
    kc.arg("-c").arg(&conf);
    let knot = spawn_on_port("knot", dir.path(), kp, kc).unwrap();
    wait_served(kp, "one.test.", true, &[&producer.server, &knot]);
    producer.change(Some("two.test."), None);
    wait_served(kp, "two.test.", true, &[&producer.server, &knot]);
    producer.change(None, Some("one.test."));
    wait_served(kp, "one.test.", false, &[&producer.server, &knot]);
}

#[test]
fn fedns_consumes_the_catalog_knot_generates() {
    let Some(knotd) = peer("knotd") else { return };
    let dir = TempDir::new("catalog-knot-producer");
    let (kp, fp) = (free_port(), free_port());
    let d = dir.path().join(format!("knot-{kp}"));
    fs::create_dir_all(&d).unwrap();
    for origin in ["one.test.", "two.test."] {
        fs::write(d.join(format!("{origin}zone")), member_zone(origin, 1)).unwrap();
    }
    let zones = |members: &[&str]| {
        let mut body = format!(
            "remote:\n  - id: fedns\n    address: 127.0.0.1@{fp}\n\n\
             zone:\n  - domain: catz.knot\n    catalog-role: generate\n    notify: fedns\n"
        );
        for m in members {
            body.push_str(&format!(
                "  - domain: {m}\n    file: \"{}\"\n    catalog-role: member\n    catalog-zone: catz.knot\n",
                d.join(format!("{m}zone")).display()
            ));
        }
        body
    };
    let conf = knot_conf(dir.path(), kp, &zones(&["one.test."]));
    let mut kc = Command::new(&knotd);
    kc.arg("-c").arg(&conf);
    let knot = spawn_on_port("knot", dir.path(), kp, kc).unwrap();
    // Knot answers its generated catalog by transfer only; wait for a member.
    wait_served(kp, "one.test.", true, &[&knot]);
    let consumer = fedns_consumer(dir.path(), fp, kp, "catz.knot");
    wait_served(fp, "one.test.", true, &[&knot, &consumer]);

    knot_conf(dir.path(), kp, &zones(&["one.test.", "two.test."]));
    hup(&knot);
    wait_served(fp, "two.test.", true, &[&knot, &consumer]);
    knot_conf(dir.path(), kp, &zones(&["two.test."]));
    hup(&knot);
    wait_served(fp, "one.test.", false, &[&knot, &consumer]);
    assert_eq!(rcode_at(fp, "two.test."), Some(ResponseCode::NoError));
}

/// named.conf for a BIND on `port` in `d`, with `zones` statements.
fn named_conf(d: &Path, port: u16, extra_options: &str, zones: &str) -> PathBuf {
    fs::create_dir_all(d).unwrap();
    let conf = d.join("named.conf");
    fs::write(
        &conf,
        format!(
            "options {{\n directory \"{d}\";\n pid-file \"{d}/named.pid\";\n session-keyfile \"{d}/session.key\";\n managed-keys-directory \"{d}\";\n\
             listen-on port {port} {{ 127.0.0.1; }};\n listen-on-v6 {{ none; }};\n recursion no;\n dnssec-validation no;\n\
             allow-transfer {{ 127.0.0.1; }};\n{extra_options}}};\ncontrols {{ }};\n{zones}",
            d = d.display()
        ),
    )
    .unwrap();
    conf
}

fn start_named(named: &Path, dir: &Path, port: u16, conf: &Path, n: usize) -> ServerProcess {
    let mut bc = Command::new(named);
    bc.arg("-g").arg("-c").arg(conf);
    spawn_on_port(&format!("bind-{n}"), dir, port, bc).unwrap()
}

#[test]
fn bind_consumes_the_catalog_fedns_produces() {
    let Some(named) = peer("named") else { return };
    let dir = TempDir::new("catalog-bind-consumer");
    let (pp, bp) = (free_port(), free_port());
    let producer = FednsProducer::start(dir.path(), pp, bp);
    let d = dir.path().join("bind");
    let conf = named_conf(
        &d,
        bp,
        &format!(
            " notify no;\n allow-new-zones yes;\n catalog-zones {{ zone \"catalog.fedns\" default-primaries {{ 127.0.0.1 port {pp}; }} in-memory yes; }};\n"
        ),
        &format!(
            "zone \"catalog.fedns\" {{\n type secondary;\n file \"{d}/catalog.fedns.db\";\n primaries {{ 127.0.0.1 port {pp}; }};\n allow-notify {{ 127.0.0.1; }};\n}};\n",
            d = d.display()
        ),
    );
    let bind = start_named(&named, dir.path(), bp, &conf, 1);
    wait_served(bp, "one.test.", true, &[&producer.server, &bind]);
    producer.change(Some("two.test."), None);
    wait_served(bp, "two.test.", true, &[&producer.server, &bind]);
    producer.change(None, Some("one.test."));
    wait_served(bp, "one.test.", false, &[&producer.server, &bind]);
}

#[test]
fn fedns_consumes_a_catalog_bind_serves_and_ignores_a_broken_one() {
    let Some(named) = peer("named") else { return };
    let dir = TempDir::new("catalog-bind-producer");
    let (bp, fp) = (free_port(), free_port());
    let d = dir.path().join("bind");
    fs::create_dir_all(&d).unwrap();
    for origin in ["one.test.", "two.test."] {
        fs::write(d.join(format!("{origin}db")), member_zone(origin, 1)).unwrap();
    }
    let catalog = |serial: u32, version: &str, members: &[&str]| {
        let mut text = format!(
            "$ORIGIN catz.bind.\n$TTL 0\n@ SOA invalid. invalid. {serial} 3600 600 2147483646 0\n@ NS invalid.\nversion TXT \"{version}\"\n"
        );
        for m in members {
            text.push_str(&format!(
                "id-{}.zones PTR {m}\n",
                m.trim_end_matches('.').replace('.', "-")
            ));
        }
        fs::write(d.join("catz.bind.db"), text).unwrap();
    };
    let zones = format!(
        "zone \"catz.bind\" {{ type primary; file \"{d}/catz.bind.db\"; also-notify {{ 127.0.0.1 port {fp}; }}; }};\n\
         zone \"one.test\" {{ type primary; file \"{d}/one.test.db\"; }};\n\
         zone \"two.test\" {{ type primary; file \"{d}/two.test.db\"; }};\n",
        d = d.display()
    );
    let conf = named_conf(&d, bp, " notify explicit;\n", &zones);
    catalog(1, "2", &["one.test."]);
    let bind = start_named(&named, dir.path(), bp, &conf, 1);
    wait_served(bp, "catz.bind.", true, &[&bind]);
    let consumer = fedns_consumer(dir.path(), fp, bp, "catz.bind");
    wait_served(fp, "one.test.", true, &[&bind, &consumer]);

    // A broken version (schema 1) changes nothing; BIND's NOTIFY at start
    // makes fedns fetch it.
    catalog(2, "1", &["two.test."]);
    bind.stop();
    let bind = start_named(&named, dir.path(), bp, &conf, 2);
    wait_until(WAIT, || Ok(serial_at(fp, "catz.bind.")? == 2))
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", bind.log_tail(20), consumer.log_tail(20)));
    wait_until(WAIT, || {
        Ok(consumer
            .log_tail(40)
            .contains("catalog catz.bind. serial 2 is broken"))
    })
    .unwrap();
    assert_eq!(rcode_at(fp, "one.test."), Some(ResponseCode::NoError));
    assert_eq!(rcode_at(fp, "two.test."), Some(ResponseCode::Refused));

    catalog(3, "2", &["two.test."]);
    bind.stop();
    let bind = start_named(&named, dir.path(), bp, &conf, 3);
    wait_served(fp, "two.test.", true, &[&bind, &consumer]);
    wait_served(fp, "one.test.", false, &[&bind, &consumer]);
}
