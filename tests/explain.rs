//! `fedns explain`: one test per step of the spec's table (1, 2, 3, 3.1 to
//! 3.5, 4, 5, 6) and per delegation style of the lab federation, each
//! asserting the JSON result; resolution offline (zones) and live (`--dns`
//! against fedns on a loopback port, including the TCP fallback); and a
//! clear error for every kind of bad input.
//!
//! Zones: `tests/data/explain/zones/explain.test.toml` (one server name per
//! step) and `examples/lab-federation/zones` (the lab).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::{TempDir, fedns_bin, free_port, start_fedns_dir};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn test_zones() -> PathBuf {
    root().join("tests/data/explain/zones")
}

fn lab_zones() -> PathBuf {
    root().join("examples/lab-federation/zones")
}

/// Runs `fedns explain ARGS...` (bounded: every network wait inside has a timeout).
fn run(args: &[&str]) -> Output {
    Command::new(fedns_bin())
        .arg("explain")
        .args(args)
        .output()
        .expect("run fedns explain")
}

/// `fedns explain S --zones DIR --format json EXTRA...`, parsed; panics on failure.
fn explain_json(s: &str, zones: &Path, extra: &[&str]) -> Value {
    let zones = zones.to_string_lossy();
    let mut args = vec![s, "--zones", &zones, "--format", "json"];
    args.extend_from_slice(extra);
    json_of(run(&args))
}

fn json_of(out: Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fedns explain failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// The numbers of the steps taken.
fn taken(v: &Value) -> Vec<String> {
    v["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .filter(|s| s["taken"] == true)
                .filter_map(|s| s["step"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn step<'v>(v: &'v Value, number: &str) -> &'v Value {
    v["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["step"] == number))
        .unwrap_or_else(|| panic!("no step {number} in {v}"))
}

/// The six result fields the schema promises, as one comparable value.
fn result(v: &Value) -> Value {
    let r = &v["result"];
    serde_json::json!({
        "host": r["host"], "port": r["port"], "addresses": r["addresses"],
        "sni": r["sni"], "host_header": r["host_header"], "certificate_name": r["certificate_name"],
    })
}

fn expect(
    host: &str,
    port: u16,
    addresses: &[&str],
    sni: Option<&str>,
    host_header: &str,
    certificate_name: &str,
) -> Value {
    serde_json::json!({
        "host": host, "port": port, "addresses": addresses,
        "sni": sni, "host_header": host_header, "certificate_name": certificate_name,
    })
}

// ------------------------------------------------------------ every step --

#[test]
fn every_resolution_lists_the_eleven_steps_of_the_spec_in_order() {
    let v = explain_json("plain.explain.test", &test_zones(), &[]);
    let numbers: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(
        numbers,
        [
            "1", "2", "3", "3.1", "3.2", "3.3", "3.4", "3.5", "4", "5", "6"
        ]
    );
    for s in v["steps"].as_array().unwrap() {
        assert!(s["reason"].as_str().is_some_and(|r| !r.is_empty()), "{s}");
        assert!(s["taken"].is_boolean() && s["records"].is_array(), "{s}");
    }
}

#[test]
fn step_1_ipv4_literal_without_port() {
    let v = explain_json("192.0.2.7", &test_zones(), &[]);
    assert_eq!(taken(&v), ["1"]);
    assert_eq!(
        result(&v),
        expect(
            "192.0.2.7",
            8448,
            &["192.0.2.7"],
            None,
            "192.0.2.7",
            "192.0.2.7"
        )
    );
}

#[test]
fn step_1_ipv6_literal_with_port() {
    let v = explain_json("[2001:db8::7]:8443", &test_zones(), &[]);
    assert_eq!(taken(&v), ["1"]);
    assert_eq!(
        result(&v),
        expect(
            "2001:db8::7",
            8443,
            &["2001:db8::7"],
            None,
            "[2001:db8::7]:8443",
            "2001:db8::7"
        )
    );
    assert!(
        step(&v, "3")["reason"]
            .as_str()
            .unwrap()
            .contains("step 1 decided")
    );
}

#[test]
fn step_2_explicit_port() {
    let v = explain_json("port.explain.test:8443", &test_zones(), &[]);
    assert_eq!(taken(&v), ["2"]);
    assert_eq!(
        result(&v),
        expect(
            "port.explain.test",
            8443,
            &["192.0.2.2", "2001:db8::2"],
            Some("port.explain.test"),
            "port.explain.test:8443",
            "port.explain.test"
        )
    );
    // An explicit port disables .well-known and SRV: nothing else is asked.
    assert_eq!(step(&v, "4")["lookups"].as_array().map(Vec::len), Some(0));
}

#[test]
fn step_2_through_a_cname() {
    let v = explain_json("alias.explain.test:443", &test_zones(), &[]);
    assert_eq!(taken(&v), ["2"]);
    assert_eq!(
        result(&v)["addresses"],
        serde_json::json!(["192.0.2.2", "2001:db8::2"])
    );
    assert_eq!(result(&v)["certificate_name"], "alias.explain.test");
    let records = step(&v, "2")["records"].to_string();
    assert!(
        records.contains("alias.explain.test. 3600 IN CNAME port.explain.test."),
        "{records}"
    );
    assert!(
        step(&v, "2")["reason"]
            .as_str()
            .unwrap()
            .contains("through the CNAME to port.explain.test")
    );
}

#[test]
fn step_3_valid_well_known_ignores_srv_at_s() {
    let v = explain_json("wk-srv.explain.test", &test_zones(), &[]);
    let s3 = step(&v, "3");
    assert_eq!(s3["taken"], true);
    assert_eq!(s3["well_known"]["m_server"], "d33.explain.test");
    assert_eq!(v["delegated_server_name"], "d33.explain.test");
    let s4 = step(&v, "4");
    assert_eq!(s4["taken"], false);
    assert!(s4["reason"].as_str().unwrap().contains("ignored"), "{s4}");
    assert!(
        s4["records"].to_string().contains("ignored.explain.test."),
        "{s4}"
    );
}

#[test]
fn step_3_invalid_m_server_falls_through_to_step_4() {
    let v = explain_json("wk-bad.explain.test", &test_zones(), &[]);
    let s3 = step(&v, "3");
    assert_eq!(s3["taken"], false);
    assert!(
        s3["well_known"]["error"]
            .as_str()
            .unwrap()
            .contains("not a server name"),
        "{s3}"
    );
    assert_eq!(taken(&v), ["6"]);
    assert_eq!(result(&v)["host"], "wk-bad.explain.test");
}

#[test]
fn step_3_1_m_server_is_an_ip_literal() {
    let v = explain_json("wk-ip.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["3", "3.1"]);
    assert_eq!(
        result(&v),
        expect(
            "2001:db8::31",
            8448,
            &["2001:db8::31"],
            None,
            "[2001:db8::31]",
            "2001:db8::31"
        )
    );
}

#[test]
fn step_3_1_from_the_command_line_with_port() {
    let v = explain_json(
        "plain.explain.test",
        &test_zones(),
        &["--well-known", r#"{"m.server": "192.0.2.31:8443"}"#],
    );
    assert_eq!(taken(&v), ["3", "3.1"]);
    assert_eq!(
        result(&v),
        expect(
            "192.0.2.31",
            8443,
            &["192.0.2.31"],
            None,
            "192.0.2.31:8443",
            "192.0.2.31"
        )
    );
    assert_eq!(
        step(&v, "3")["well_known"]["source"],
        "given with --well-known"
    );
}

#[test]
fn step_3_2_m_server_with_port() {
    let v = explain_json("wk-port.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["3", "3.2"]);
    assert_eq!(
        result(&v),
        expect(
            "hs.explain.test",
            8443,
            &["192.0.2.32"],
            Some("hs.explain.test"),
            "hs.explain.test:8443",
            "hs.explain.test"
        )
    );
    assert!(
        step(&v, "3.3")["reason"]
            .as_str()
            .unwrap()
            .contains("disables SRV")
    );
}

#[test]
fn step_3_3_srv_at_the_delegated_host() {
    let v = explain_json("wk-srv.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["3", "3.3"]);
    assert_eq!(
        result(&v),
        expect(
            "t33.explain.test",
            443,
            &["192.0.2.33"],
            Some("d33.explain.test"),
            "d33.explain.test",
            "d33.explain.test"
        )
    );
    assert!(
        step(&v, "3.3")["records"]
            .to_string()
            .contains("_matrix-fed._tcp.d33.explain.test. 3600 IN SRV 10 0 443 t33.explain.test.")
    );
}

#[test]
fn step_3_4_deprecated_srv_at_the_delegated_host() {
    let v = explain_json("wk-legacy.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["3", "3.4"]);
    assert_eq!(
        result(&v),
        expect(
            "t34.explain.test",
            8448,
            &["192.0.2.34"],
            Some("d34.explain.test"),
            "d34.explain.test",
            "d34.explain.test"
        )
    );
    assert!(
        step(&v, "3.4")["differences"]
            .to_string()
            .contains("Synapse")
    );
}

#[test]
fn step_3_5_delegated_host_on_8448() {
    let v = explain_json("wk-plain.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["3", "3.5"]);
    assert_eq!(
        result(&v),
        expect(
            "d35.explain.test",
            8448,
            &["192.0.2.35"],
            Some("d35.explain.test"),
            "d35.explain.test",
            "d35.explain.test"
        )
    );
}

#[test]
fn step_4_srv_at_the_server_name() {
    let v = explain_json("srv.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["4"]);
    assert_eq!(
        result(&v),
        expect(
            "t4.explain.test",
            443,
            &["192.0.2.4"],
            Some("srv.explain.test"),
            "srv.explain.test",
            "srv.explain.test"
        )
    );
    // Step 5 is not asked, but what older homeservers see there is shown.
    let s5 = step(&v, "5");
    assert_eq!(s5["taken"], false);
    assert!(
        s5["differences"]
            .to_string()
            .contains("the same as `_matrix-fed._tcp`"),
        "{s5}"
    );
}

#[test]
fn step_5_deprecated_srv_at_the_server_name() {
    let v = explain_json("legacy.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["5"]);
    assert_eq!(
        result(&v),
        expect(
            "t5.explain.test",
            8448,
            &["192.0.2.5"],
            Some("legacy.explain.test"),
            "legacy.explain.test",
            "legacy.explain.test"
        )
    );
    assert_eq!(step(&v, "4")["lookups"][0]["status"], "NXDOMAIN");
    assert!(
        step(&v, "5")["differences"]
            .to_string()
            .contains("Dendrite asks it only when")
    );
}

#[test]
fn step_6_a_and_aaaa_on_8448() {
    let v = explain_json("plain.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["6"]);
    assert_eq!(
        result(&v),
        expect(
            "plain.explain.test",
            8448,
            &["192.0.2.6", "2001:db8::6"],
            Some("plain.explain.test"),
            "plain.explain.test",
            "plain.explain.test"
        )
    );
    assert!(v["failure"].is_null());
}

#[test]
fn step_6_without_addresses_says_federation_fails() {
    let v = explain_json("nothing.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["6"]);
    assert_eq!(result(&v)["addresses"], serde_json::json!([]));
    assert!(v["failure"].as_str().unwrap().contains("no A or AAAA"));
}

// ------------------------------------------------- SRV special cases --

#[test]
fn srv_target_dot_switches_federation_off() {
    let v = explain_json("off.explain.test", &test_zones(), &[]);
    assert_eq!(taken(&v), ["4"]);
    assert!(v["result"].is_null());
    assert!(v["failure"].as_str().unwrap().contains("target \".\""));
    assert!(
        step(&v, "4")["differences"]
            .to_string()
            .contains("Synapse refuses")
    );
}

#[test]
fn several_srv_records_in_rfc_2782_order_and_the_conduit_difference() {
    let v = explain_json("multi.explain.test", &test_zones(), &[]);
    assert_eq!(result(&v)["host"], "t5.explain.test");
    let hosts: Vec<&str> = v["result"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["host"].as_str())
        .collect();
    assert_eq!(hosts, ["t5.explain.test", "t4.explain.test"]);
    let differences = step(&v, "4")["differences"].to_string();
    assert!(differences.contains("Conduit family"), "{differences}");
}

#[test]
fn srv_target_that_is_a_cname_is_flagged() {
    let v = explain_json("cname-target.explain.test", &test_zones(), &[]);
    assert_eq!(
        result(&v)["addresses"],
        serde_json::json!(["192.0.2.2", "2001:db8::2"])
    );
    assert!(
        step(&v, "4")["differences"]
            .to_string()
            .contains("RFC 2782 forbids")
    );
}

// ------------------------------------------- lab delegation styles --

#[test]
fn lab_zones_load_with_the_library() {
    let loaded = fedns::zone::load_zones_dir(&lab_zones()).expect("read the lab zones");
    assert!(loaded.failures.is_empty(), "{:?}", loaded.failures);
    let mut origins: Vec<String> = loaded.zones.iter().map(|z| z.origin.to_string()).collect();
    origins.sort();
    assert_eq!(
        origins,
        [
            "alpha.lab.test.",
            "beta.lab.test.",
            "delta.lab.test.",
            "epsilon.lab.test.",
            "gamma.lab.test."
        ]
    );
    let zones = fedns::matrix::explain::load_zone_set(&lab_zones()).expect("index the lab zones");
    assert_eq!(zones.len(), 5);
}

#[test]
fn lab_alpha_a_record_on_8448() {
    let v = explain_json("alpha.lab.test", &lab_zones(), &[]);
    assert_eq!(taken(&v), ["6"]);
    assert_eq!(
        result(&v),
        expect(
            "alpha.lab.test",
            8448,
            &["127.0.0.11"],
            Some("alpha.lab.test"),
            "alpha.lab.test",
            "alpha.lab.test"
        )
    );
}

#[test]
fn lab_beta_well_known_to_a_subdomain_with_port() {
    let v = explain_json("beta.lab.test", &lab_zones(), &[]);
    assert_eq!(taken(&v), ["3", "3.2"]);
    assert_eq!(
        result(&v),
        expect(
            "hs.beta.lab.test",
            8443,
            &["127.0.0.22"],
            Some("hs.beta.lab.test"),
            "hs.beta.lab.test:8443",
            "hs.beta.lab.test"
        )
    );
}

#[test]
fn lab_gamma_well_known_without_port_then_srv_at_the_delegated_host() {
    let v = explain_json("gamma.lab.test", &lab_zones(), &[]);
    assert_eq!(taken(&v), ["3", "3.3"]);
    assert_eq!(
        result(&v),
        expect(
            "node1.gamma.lab.test",
            8448,
            &["127.0.0.23"],
            Some("hs.gamma.lab.test"),
            "hs.gamma.lab.test",
            "hs.gamma.lab.test"
        )
    );
}

#[test]
fn lab_delta_srv_only_with_a_certificate_for_the_server_name() {
    let v = explain_json("delta.lab.test", &lab_zones(), &[]);
    assert_eq!(taken(&v), ["4"]);
    assert_eq!(
        result(&v),
        expect(
            "synapse.delta.lab.test",
            8448,
            &["127.0.0.14"],
            Some("delta.lab.test"),
            "delta.lab.test",
            "delta.lab.test"
        )
    );
}

#[test]
fn lab_epsilon_needs_a_certificate_for_the_server_name_not_the_target() {
    let v = explain_json("epsilon.lab.test", &lab_zones(), &[]);
    assert_eq!(taken(&v), ["4"]);
    assert_eq!(
        result(&v),
        expect(
            "matrix.epsilon.lab.test",
            8448,
            &["127.0.0.15"],
            Some("epsilon.lab.test"),
            "epsilon.lab.test",
            "epsilon.lab.test"
        )
    );
    let out = run(&[
        "epsilon.lab.test",
        "--zones",
        &lab_zones().to_string_lossy(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("certificate for   epsilon.lab.test  (the server name S, not the SRV target matrix.epsilon.lab.test)"),
        "{text}"
    );
}

// ------------------------------------------------------------ live DNS --

#[test]
fn live_dns_gives_the_same_results_as_the_zones() {
    let tmp = TempDir::new("fedns-explain-live");
    let lab: Vec<(String, PathBuf)> = ["alpha", "beta", "gamma", "delta", "epsilon"]
        .iter()
        .map(|z| {
            (
                format!("{z}.lab.test."),
                lab_zones().join(format!("{z}.lab.test.toml")),
            )
        })
        .collect();
    let server = start_fedns_dir(tmp.path(), &lab_zones(), &lab).unwrap_or_else(|e| panic!("{e}"));
    let dns = server.addr().to_string();
    for (s, well_known) in [
        ("alpha.lab.test", None),
        (
            "beta.lab.test",
            Some(r#"{"m.server": "hs.beta.lab.test:8443"}"#),
        ),
        (
            "gamma.lab.test",
            Some(r#"{"m.server": "hs.gamma.lab.test"}"#),
        ),
        ("delta.lab.test", None),
        ("epsilon.lab.test", None),
    ] {
        let mut args = vec![s, "--dns", &dns, "--format", "json", "--timeout", "2s"];
        if let Some(body) = well_known {
            args.extend(["--well-known", body]);
        }
        let live = json_of(run(&args));
        let offline = explain_json(s, &lab_zones(), &[]);
        assert_eq!(result(&live), result(&offline), "{s}");
        assert_eq!(taken(&live), taken(&offline), "{s}");
        assert_eq!(live["dns"], format!("the DNS server {dns}"));
    }
    // Without a .well-known, live resolution of beta falls through to its A record.
    let v = json_of(run(&["beta.lab.test", "--dns", &dns, "--format", "json"]));
    assert_eq!(taken(&v), ["6"]);
    assert!(
        step(&v, "3")["reason"]
            .as_str()
            .unwrap()
            .contains("with --dns, give the body")
    );
}

#[test]
fn live_dns_falls_back_to_tcp_for_a_truncated_answer() {
    let tmp = TempDir::new("fedns-explain-tcp");
    let zones = vec![(
        "explain.test.".to_owned(),
        test_zones().join("explain.test.toml"),
    )];
    let server =
        start_fedns_dir(tmp.path(), &test_zones(), &zones).unwrap_or_else(|e| panic!("{e}"));
    let dns = server.addr().to_string();
    let v = json_of(run(&[
        "many.explain.test",
        "--dns",
        &dns,
        "--format",
        "json",
    ]));
    assert_eq!(taken(&v), ["4"]);
    assert_eq!(v["result"]["endpoints"].as_array().map(Vec::len), Some(60));
    assert_eq!(
        result(&v)["host"],
        "homeserver-target-number-59.example.net"
    );
}

// ------------------------------------------------------------ bad input --

#[test]
fn bad_server_name_is_a_clear_error() {
    for (s, expected) in [
        ("exa_mple.org", "'_' at position 4"),
        ("example.org:99999", "port 99999 is out of range"),
        ("2001:db8::1", "in brackets"),
        ("https://example.org", "not a URL"),
    ] {
        let out = run(&[s, "--zones", &test_zones().to_string_lossy()]);
        assert!(!out.status.success(), "{s}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is not a Matrix server name") && err.contains(expected),
            "{s}: {err}"
        );
        assert_eq!(err.matches(expected).count(), 1, "said once: {err}");
    }
}

#[test]
fn bad_well_known_json_is_explained_and_warned_about() {
    let out = run(&[
        "srv.explain.test",
        "--zones",
        &test_zones().to_string_lossy(),
        "--format",
        "json",
        "--well-known",
        "{m.server: x}",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("warning: --well-known: the body is not valid JSON (line 1, column 2"),
        "{err}"
    );
    let v = json_of(out);
    let s3 = step(&v, "3");
    assert_eq!(s3["taken"], false);
    assert!(
        s3["reason"]
            .as_str()
            .unwrap()
            .contains("not valid JSON (line 1, column 2: key must be a string)"),
        "{s3}"
    );
    // A homeserver goes on at step 4, and so does the explanation.
    assert_eq!(taken(&v), ["4"]);
}

#[test]
fn well_known_without_m_server_falls_through() {
    let v = explain_json(
        "srv.explain.test",
        &test_zones(),
        &["--well-known", r#"{"m.homeserver": "x"}"#],
    );
    assert!(
        step(&v, "3")["well_known"]["error"]
            .as_str()
            .unwrap()
            .contains("no \"m.server\"")
    );
    assert_eq!(taken(&v), ["4"]);
}

#[test]
fn unreachable_dns_server_is_a_clear_error_after_a_bounded_wait() {
    // A loopback port with nothing listening: refused at once, or a timeout of 300 ms x 2.
    let port = free_port();
    let dns = format!("127.0.0.1:{port}");
    let out = run(&["plain.explain.test", "--dns", &dns, "--timeout", "300ms"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&dns), "{err}");
    assert!(
        err.contains("cannot reach the DNS server")
            || err.contains("no answer from the DNS server"),
        "{err}"
    );
}

#[test]
fn missing_zones_directory_is_a_clear_error() {
    let out = run(&["plain.explain.test", "--zones", "/nonexistent/zones"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read the zones in /nonexistent/zones") && err.contains("--dns"),
        "{err}"
    );
}

#[test]
fn bad_timeout_and_conflicting_options_are_refused() {
    let out = run(&["plain.explain.test", "--timeout", "soon"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
    let out = run(&[
        "plain.explain.test",
        "--zones",
        "z",
        "--dns",
        "127.0.0.1:53",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    let out = run(&["plain.explain.test", "--ca", "ca.pem"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fetch"));
}

#[test]
fn human_output_lists_steps_records_and_result() {
    let out = run(&[
        "wk-srv.explain.test",
        "--zones",
        &test_zones().to_string_lossy(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "3     TAKEN    GET https://wk-srv.explain.test/.well-known/matrix/server",
        "; body: {\"m.server\":\"d33.explain.test\"}",
        "3.3   TAKEN    SRV _matrix-fed._tcp.d33.explain.test",
        "_matrix-fed._tcp.d33.explain.test. 3600 IN SRV 10 0 443 t33.explain.test.",
        "Result (step 3.3)",
        "connect to        t33.explain.test:443",
        "SNI               d33.explain.test",
        "Host header       d33.explain.test",
        "certificate for   d33.explain.test",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn timeouts_stay_bounded() {
    // The parser refuses waits over a minute, so no explain can hang for long.
    let out = run(&["plain.explain.test", "--timeout", "600s"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of range"));
}

/// Issue 13: a wildcard SRV answers `_matrix-fed._tcp.S` (RFC 4592); explain
/// follows it and says which wildcard synthesised the record, in text and
/// JSON, and names the same target `check` judges.
#[test]
fn a_wildcard_srv_is_followed_and_named_as_the_source() {
    let dir = TempDir::new("explain-wildcard");
    std::fs::write(
        dir.path().join("example.org.zone"),
        "$ORIGIN example.org.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1\n\
         ns1 A 198.51.100.1\nsynapse A 198.51.100.20\n*._tcp SRV 10 0 8448 synapse\n",
    )
    .unwrap();
    let v = explain_json("example.org", dir.path(), &[]);
    assert_eq!(taken(&v).last().map(String::as_str), Some("4"));
    assert_eq!(
        result(&v),
        expect(
            "synapse.example.org",
            8448,
            &["198.51.100.20"],
            Some("example.org"),
            "example.org",
            "example.org"
        )
    );
    assert_eq!(
        step(&v, "4")["lookups"][0]["synthesised_from"]["_matrix-fed._tcp.example.org."],
        "*._tcp.example.org."
    );
    let out = run(&["example.org", "--zones", &dir.path().to_string_lossy()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("its records are synthesised from the wildcard *._tcp.example.org."),
        "{text}"
    );
}
