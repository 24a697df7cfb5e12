//! The lab federation (`examples/lab-federation`) end to end: its
//! certificates minted by the `lab_ca` example's own code, then `fedns check`
//! on its zones flags the deliberately broken homeserver (epsilon: SRV
//! target with a certificate for itself only) and nothing else as an error.

mod common;

#[path = "../examples/lab_ca.rs"]
#[allow(dead_code)]
mod lab_ca;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use common::{TempDir, fedns_bin};

fn lab() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/lab-federation")
}

#[test]
fn lab_ca_mints_one_certificate_per_name() {
    let tmp = TempDir::new("fedns-lab-ca");
    let written = lab_ca::mint_lab(tmp.path()).expect("mint the lab");
    assert_eq!(written.len(), 8, "{written:?}");
    for (path, _) in &written {
        let pem = std::fs::read_to_string(path).expect("read a certificate");
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----"),
            "{}",
            path.display()
        );
    }
    assert!(tmp.path().join("matrix.epsilon.lab.test.key").is_file());
}

#[test]
fn fedns_check_flags_the_broken_homeserver_and_only_it() {
    let tmp = TempDir::new("fedns-lab-check");
    // The zones refer to ../certs/NAME.pem: lay out zones/ and certs/ side by side.
    let zones = tmp.path().join("zones");
    std::fs::create_dir_all(&zones).expect("mkdir zones");
    for entry in std::fs::read_dir(lab().join("zones")).expect("read the lab zones") {
        let path = entry.expect("entry").path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, zones.join(name)).expect("copy a zone");
        }
    }
    lab_ca::mint_lab(&tmp.path().join("certs")).expect("mint the lab");
    let out = Command::new(fedns_bin())
        .arg("check")
        .arg(&zones)
        .arg("--ca")
        .arg(tmp.path().join("certs/ca.pem"))
        .args(["--format", "json"])
        .output()
        .expect("run fedns check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "the broken homeserver must fail the check:\n{stdout}"
    );
    let v: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    let errors: Vec<(&str, &str, &str)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or(""),
                f["name"].as_str().unwrap_or(""),
                f["file"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (rule, name, file) = errors[0];
    assert_eq!((rule, name), ("CRT002", "epsilon.lab.test"));
    assert!(file.ends_with("epsilon.lab.test.toml"), "{file}");
}
