//! `fedns check` as a command: the classic pitfall end to end, human and
//! JSON output, `--explain`, exit statuses 0/1/2 and `--deny warnings`,
//! `--server-name` / `--well-known`, the `certificate` of a `[[matrix]]`
//! section, offline rules located at `file:line`, and `fedns serve` logging
//! the findings (and refusing with `--strict`).

mod common;
mod lint_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::TempDir;
use lint_support::{Ca, LeafSpec, write, zone_toml};

/// The classic pitfall: server name example.org delegated by SRV to
/// synapse.example.org:443.
fn pitfall_zone(extra_matrix: &str) -> String {
    zone_toml(
        "example.org.",
        &[("synapse", &["198.51.100.20"])],
        &format!(
            "[[matrix]]\nserver_name = \"@\"\ntarget = \"synapse\"\nport = 443\n{extra_matrix}"
        ),
    )
}

fn fedns(args: &[&str], dir: &Path) -> Output {
    Command::new(common::fedns_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run fedns")
}

/// stdout with its wrapped lines joined (phrases may break across lines), and stderr.
fn text(o: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let flat: Vec<String> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    (
        flat.join(" "),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

struct Lab {
    dir: TempDir,
    ca: Ca,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let dir = TempDir::new(name);
        let ca = Ca::root("fedns lab CA");
        ca.write(dir.path(), "ca.pem");
        Lab { dir, ca }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cert(&self, file: &str, names: &[&str]) -> PathBuf {
        write(
            self.path(),
            file,
            &self.ca.leaf(&LeafSpec::new(names)).fullchain_pem,
        )
    }

    fn check(&self, args: &[&str]) -> Output {
        let mut all = vec!["check", "--ca", "ca.pem", "--no-system-roots"];
        all.extend_from_slice(args);
        fedns(&all, self.path())
    }
}

#[test]
fn classic_pitfall_names_server_target_and_port_and_exits_1() {
    let lab = Lab::new("lint-pitfall");
    write(lab.path(), "example.org.toml", &pitfall_zone(""));
    lab.cert("synapse.pem", &["synapse.example.org"]);
    let out = lab.check(&[
        "example.org.toml",
        "--cert",
        "synapse.example.org=synapse.pem",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("warning[SRV025] example.org.toml:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("synapse.example.org:443") && stdout.contains("SNI example.org"),
        "{stdout}"
    );
    assert!(stdout.contains("must be valid for example.org"), "{stdout}");
    assert!(stdout.contains("error[CRT002]"), "{stdout}");
    assert!(
        stdout.contains("1. SRV only") && stdout.contains("2. .well-known"),
        "the two layouts: {stdout}"
    );
    assert!(stdout.contains("exit status 1"), "{stdout}");

    // Near miss: a certificate for the server name: only warnings, exit 0 ...
    lab.cert("good.pem", &["example.org", "synapse.example.org"]);
    let out = lab.check(&["example.org.toml", "--cert", "synapse.example.org=good.pem"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("CRT0"), "{stdout}");
    // ... unless warnings are denied.
    let out = lab.check(&[
        "example.org.toml",
        "--cert",
        "synapse.example.org=good.pem",
        "--deny",
        "warnings",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn json_output_has_a_findings_array_with_the_documented_fields() {
    let lab = Lab::new("lint-json");
    write(lab.path(), "example.org.toml", &pitfall_zone(""));
    lab.cert("synapse.pem", &["synapse.example.org"]);
    let out = lab.check(&[
        "example.org.toml",
        "--cert",
        "synapse.example.org=synapse.pem",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = doc["findings"].as_array().expect("findings array");
    let crt002 = findings
        .iter()
        .find(|f| f["rule"] == "CRT002")
        .expect("CRT002");
    assert_eq!(crt002["severity"], "error");
    assert_eq!(crt002["name"], "example.org");
    let srv025 = findings
        .iter()
        .find(|f| f["rule"] == "SRV025")
        .expect("SRV025");
    assert_eq!(srv025["file"], "example.org.toml");
    assert_eq!(srv025["line"], 16, "the [[matrix]] section's line");
    assert!(
        srv025["message"]
            .as_str()
            .unwrap()
            .contains("synapse.example.org:443")
    );
    for f in findings {
        for key in ["rule", "severity", "message", "name", "why", "fix"] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    assert_eq!(
        doc["summary"]["errors"],
        findings.iter().filter(|f| f["severity"] == "error").count()
    );
    assert_eq!(doc["exit_status"], 1);
}

#[test]
fn explain_prints_one_rule_and_rejects_unknown_ones() {
    let dir = TempDir::new("lint-explain");
    let out = fedns(&["check", "--explain", "SRV025"], dir.path());
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.starts_with("SRV025 (warning)") && stdout.contains("Two layouts comply"),
        "{stdout}"
    );
    let out = fedns(&["check", "--explain", "SRV999"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let out = fedns(&["check", "--list-rules"], dir.path());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        65,
        "SRV, CRT, LIVE, WK and SIG rules"
    );
}

#[test]
fn unreadable_input_and_bad_arguments_exit_2() {
    let lab = Lab::new("lint-exit2");
    // No such file.
    assert_eq!(lab.check(&["nope.toml"]).status.code(), Some(2));
    // A zone with an error: the load error is printed with its line.
    write(
        lab.path(),
        "bad.org.toml",
        &zone_toml(
            "bad.org.",
            &[],
            "[[record]]\nname = \"x\"\nA = [\"192.0.2.300\"]\n",
        ),
    );
    let out = lab.check(&["bad.org.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).0.contains("bad.org.toml:"), "{}", text(&out).0);
    let out = lab.check(&["bad.org.toml", "--format", "json"]);
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("JSON even for input errors");
    assert_eq!(doc["exit_status"], 2);
    assert!(
        doc["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("bad.org.toml:"),
        "{doc}"
    );
    // A missing certificate file, a bad --cert, a bad server name.
    write(lab.path(), "example.org.toml", &pitfall_zone(""));
    assert_eq!(
        lab.check(&[
            "example.org.toml",
            "--cert",
            "synapse.example.org=missing.pem"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        lab.check(&["example.org.toml", "--cert", "no-equals-sign"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        lab.check(&["example.org.toml", "--server-name", "not a name"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn matrix_section_certificate_is_relative_to_the_zone_file() {
    let lab = Lab::new("lint-section-cert");
    std::fs::create_dir_all(lab.path().join("zones/certs")).unwrap();
    write(
        &lab.path().join("zones"),
        "example.org.toml",
        &pitfall_zone("certificate = \"certs/synapse.pem\"\n"),
    );
    lab.cert("zones/certs/synapse.pem", &["synapse.example.org"]);
    let out = lab.check(&["zones"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("error[CRT002] zones/example.org.toml:16:1: example.org"),
        "{stdout}"
    );
    assert!(stdout.contains("zones/certs/synapse.pem"), "{stdout}");
}

#[test]
fn server_names_and_well_known_from_the_command_line() {
    let lab = Lab::new("lint-wk");
    // SRV records for example.org written by hand, no [[matrix]] section.
    let zone = zone_toml(
        "example.org.",
        &[("matrix", &["198.51.100.20"])],
        "[[record]]\nname = \"_matrix-fed._tcp\"\nSRV = [\"10 0 8448 matrix\"]\n[[record]]\nname = \"_matrix._tcp\"\nSRV = [\"10 0 8448 matrix\"]\n",
    );
    write(lab.path(), "example.org.toml", &zone);
    let json = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["example.org.toml", "--format", "json"];
        all.extend_from_slice(args);
        let out = lab.check(&all);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(json(&[]).contains(&"SRV025".to_owned()));
    assert!(!json(&[]).contains(&"SRV026".to_owned()));
    let wk = json(&[
        "--server-name",
        "example.org",
        "--well-known",
        r#"example.org={"m.server": "matrix.example.org:443"}"#,
    ]);
    assert!(wk.contains(&"SRV026".to_owned()), "{wk:?}");
    let bad = json(&["--well-known", "example.org=<html>"]);
    assert!(bad.contains(&"WK003".to_owned()), "{bad:?}");
    // SRV003: a server name is declared, and the SRV records are somewhere else.
    let other = json(&["--server-name", "chat.example.org"]);
    assert!(
        other.contains(&"SRV003".to_owned()) && other.contains(&"SRV028".to_owned()),
        "{other:?}"
    );
}

#[test]
fn offline_rules_point_at_the_line_of_the_record() {
    let lab = Lab::new("lint-lines");
    let zone = zone_toml(
        "example.org.",
        &[("synapse", &["198.51.100.20"])],
        "[[record]]\nname = \"_matrix_fed._tcp\"\nSRV = [\"10 0 443 synapse\"]\n[[record]]\nname = \"_matrix-fed._tcp\"\nSRV = [\"10 0 0 synapse.example.org.example.org.\"]\n",
    );
    write(lab.path(), "example.org.toml", &zone);
    let out = lab.check(&["example.org.toml"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error[SRV001] example.org.toml:18:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("did you mean _matrix-fed._tcp.example.org"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error[SRV012] example.org.toml:21:"),
        "{stdout}"
    );
}

#[test]
fn serve_logs_findings_and_strict_refuses_errors() {
    let lab = Lab::new("lint-serve");
    let zones = lab.path().join("zones");
    std::fs::create_dir_all(&zones).unwrap();
    // Port 0 is an error (SRV012), the zone still loads.
    let zone = zone_toml(
        "example.org.",
        &[("synapse", &["198.51.100.20"])],
        "[[matrix]]\nserver_name = \"@\"\ntarget = \"synapse\"\nport = 0\n",
    );
    write(&zones, "example.org.toml", &zone);
    let server = common::start_server(
        "fedns-lint",
        lab.path(),
        "example.org.",
        Duration::from_secs(30),
        |port| {
            let mut c = Command::new(common::fedns_bin());
            c.arg("serve")
                .arg("--zones")
                .arg(&zones)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"));
            c
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let log = server.log_tail(50);
    assert!(
        log.contains("SRV012") && log.contains("example.org.toml:"),
        "{log}"
    );
    drop(server);

    // --strict: refuses to start, naming the error.
    let mut child = Command::new(common::fedns_bin())
        .args(["serve", "--strict", "--listen", "127.0.0.1:0", "--zones"])
        .arg(&zones)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fedns serve --strict kept running with a lint error");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert!(!status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--strict") && stderr.contains("SRV012"),
        "{stderr}"
    );
}

/// Issue 13's first report: a wildcard SRV at `*._tcp.S` is what a
/// homeserver gets for `_matrix-fed._tcp.S` (RFC 4592), so `check` judges
/// it as it would the explicit record: SRV025 for the target, the
/// certificate checked for S, and no SRV004 beside an explicit legacy RRset.
#[test]
fn a_wildcard_srv_is_judged_like_the_record_it_synthesises() {
    let lab = Lab::new("lint-wildcard-srv");
    let zone = "$ORIGIN example.org.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1\n\
                ns1 A 198.51.100.1\nsynapse A 198.51.100.20\n*._tcp SRV 10 0 8448 synapse\n";
    write(lab.path(), "example.org.zone", zone);
    let out = lab.check(&["example.org.zone"]);
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("warning[SRV025] example.org.zone:7:1: example.org")
            && stdout.contains("synapse.example.org:8448"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("warning[SRV029]")
            && stdout.contains("the wildcard *._tcp.example.org covers it"),
        "{stdout}"
    );
    // The right certificate: no CRT finding (it was a false CRT001).
    lab.cert("good.pem", &["example.org"]);
    let out = lab.check(&["example.org.zone", "--cert", "synapse.example.org=good.pem"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("CRT0"), "{stdout}");
    // The target's own certificate: CRT002, and the message says where the
    // requirement comes from.
    lab.cert("target.pem", &["synapse.example.org"]);
    let out = lab.check(&[
        "example.org.zone",
        "--cert",
        "synapse.example.org=target.pem",
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[CRT002]"), "{stdout}");
    assert!(
        stdout.contains("synthesised from the wildcard *._tcp.example.org"),
        "{stdout}"
    );
    // An explicit _matrix._tcp beside the wildcard: _matrix-fed._tcp is
    // still answered (from the wildcard), so no SRV004.
    write(
        lab.path(),
        "example.org.zone",
        &format!("{zone}_matrix._tcp SRV 10 0 8448 synapse\n"),
    );
    let out = lab.check(&["example.org.zone"]);
    let (stdout, _) = text(&out);
    assert!(!stdout.contains("SRV004"), "{stdout}");
    assert!(stdout.contains("warning[SRV025]"), "{stdout}");
}

/// The lint asks the answer engine what is served, so names that exist only
/// through DNS semantics (a DNAME, a wildcard, a name below a zone cut) are
/// judged as `fedns serve` answers them and `fedns explain` follows them.
#[test]
fn targets_are_judged_by_what_is_served_as_explain_follows_them() {
    let lab = Lab::new("lint-served-semantics");
    let zone = "$ORIGIN example.org.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1\n\
                ns1 A 198.51.100.1\n\
                old DNAME new\nhs.new A 198.51.100.20\nhs.new AAAA 2001:db8::20\n\
                _matrix-fed._tcp SRV 10 0 8448 hs.old\n\
                sub NS ns.elsewhere.net.\n*.sub A 198.51.100.30\n\
                _matrix-fed._tcp.b SRV 10 0 8448 hs.sub\n\
                _matrix-fed._tcp.c SRV 10 0 8448 hs.wild\n*.wild A 198.51.100.40\n";
    write(lab.path(), "example.org.zone", zone);
    let out = lab.check(&[
        "example.org.zone",
        "--server-name",
        "b.example.org",
        "--server-name",
        "c.example.org",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = report["findings"].as_array().expect("findings");
    let rules_for = |name: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| {
                f["name"]
                    .as_str()
                    .is_some_and(|n| n.trim_end_matches('.') == name)
            })
            .filter_map(|f| f["rule"].as_str().map(str::to_owned))
            .collect()
    };
    // Through the DNAME: served with addresses (a synthesised CNAME), so no SRV015.
    assert!(
        !rules_for("hs.old.example.org").contains(&"SRV015".to_owned()),
        "{findings:#?}"
    );
    // Below the cut at sub: delegated away (the wildcard there is not served).
    assert!(
        rules_for("hs.sub.example.org").contains(&"SRV016".to_owned()),
        "{findings:#?}"
    );
    // From a wildcard: the synthesised address counts.
    assert!(
        !rules_for("hs.wild.example.org").contains(&"SRV015".to_owned()),
        "{findings:#?}"
    );

    // explain follows the same answers to the same addresses.
    for (server, address) in [
        ("example.org", "198.51.100.20"),
        ("c.example.org", "198.51.100.40"),
    ] {
        let out = fedns(
            &["explain", server, "--zones", ".", "--format", "json"],
            lab.path(),
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("explain JSON");
        let addresses = v["result"]["addresses"].as_array().expect("addresses");
        assert!(
            addresses.iter().any(|a| a.as_str() == Some(address)),
            "{server}: {v}"
        );
    }
}
