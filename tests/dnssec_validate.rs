//! A validating client accepts fedns's answers from a signed zone: the zone
//! is signed at test time with `ldns-signzone` (NSEC, then NSEC3 with
//! opt-out), served by fedns on loopback, and queried with BIND's `delv`
//! given the zone's key as its only trust anchor. Positive, NXDOMAIN,
//! NODATA, empty non-terminal, wildcard and CNAME answers must all be
//! "fully validated".
//!
//! Skips when ldnsutils or delv (bind9-dnsutils) are missing, unless
//! FEDNS_INTEROP=1.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, find_program, interop_required, start_fedns_dir};

const ZONE: &str = "$ORIGIN signed.test.\n$TTL 3600\n\
@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 127.0.0.1\n\
synapse A 192.0.2.20\nsynapse AAAA 2001:db8::20\n\
_matrix-fed._tcp SRV 10 0 443 synapse\n_matrix._tcp SRV 10 0 443 synapse\n\
*.wild A 192.0.2.100\nwww CNAME synapse\n\
child NS ns.child\nns.child A 192.0.2.53\n";

fn tool(name: &str) -> Option<PathBuf> {
    match find_program(name) {
        Some(p) => Some(p),
        None if interop_required() => panic!("FEDNS_INTEROP=1 but {name} is not installed"),
        None => {
            eprintln!("skipping DNSSEC validation test: {name} not installed");
            None
        }
    }
}

/// Signs ZONE into `dir/zones/signed.test.zone`; returns the KSK's anchor file for delv.
fn sign(dir: &Path, nsec3: Option<bool>) -> Option<PathBuf> {
    let keygen = tool("ldns-keygen")?;
    let signzone = tool("ldns-signzone")?;
    let keys = dir.join("keys");
    fs::create_dir_all(&keys).unwrap();
    let unsigned = dir.join("signed.test.unsigned");
    fs::write(&unsigned, ZONE).unwrap();
    let mut names = Vec::new();
    for ksk in [true, false] {
        let mut c = Command::new(&keygen);
        c.current_dir(&keys).args(["-a", "ECDSAP256SHA256"]);
        if ksk {
            c.arg("-k");
        }
        let out = c.arg("signed.test").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        names.push(keys.join(String::from_utf8_lossy(&out.stdout).trim()));
    }
    fs::create_dir_all(dir.join("zones")).unwrap();
    let mut c = Command::new(&signzone);
    c.args(["-o", "signed.test", "-e", "20381231000000", "-f"])
        .arg(dir.join("zones/signed.test.zone"));
    if let Some(opt_out) = nsec3 {
        c.args(["-n", "-t", "0"]);
        if opt_out {
            c.arg("-p");
        }
    }
    let out = c.arg(&unsigned).args(&names).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The KSK's public key as a delv trust anchor.
    let key = fs::read_to_string(format!("{}.key", names[0].display())).unwrap();
    let f: Vec<&str> = key.split_whitespace().collect();
    let anchor = dir.join("anchor.conf");
    fs::write(
        &anchor,
        format!(
            "trust-anchors {{\n  {} static-key {} {} {} \"{}\";\n}};\n",
            f[0], f[3], f[4], f[5], f[6]
        ),
    )
    .unwrap();
    Some(anchor)
}

fn validate(variant: &str, nsec3: Option<bool>) {
    let Some(delv) = tool("delv") else { return };
    let dir = TempDir::new(&format!("dnssec-validate-{variant}"));
    let Some(anchor) = sign(dir.path(), nsec3) else {
        return;
    };
    // With opt-out, the NSEC3 covering a wildcard's next closer name may hide
    // an unsigned delegation, so a validator must call the wildcard answer
    // insecure (RFC 5155 8.8); everything else validates.
    let wildcard = if nsec3 == Some(true) {
        "; unsigned answer"
    } else {
        "; fully validated"
    };
    let zones = dir.path().join("zones");
    let fedns = start_fedns_dir(
        dir.path(),
        &zones,
        &[("signed.test.".into(), zones.join("signed.test.zone"))],
    )
    .unwrap();
    let cases = [
        ("signed.test", "SOA", "; fully validated"),
        ("_matrix-fed._tcp.signed.test", "SRV", "; fully validated"),
        ("SYNAPSE.signed.test", "AAAA", "; fully validated"),
        (
            "nope.signed.test",
            "A",
            "; negative response, fully validated",
        ),
        (
            "synapse.signed.test",
            "TXT",
            "; negative response, fully validated",
        ),
        (
            "_tcp.signed.test",
            "SRV",
            "; negative response, fully validated",
        ),
        ("anything.wild.signed.test", "A", wildcard),
        (
            "anything.wild.signed.test",
            "TXT",
            "; negative response, fully validated",
        ),
        ("www.signed.test", "A", "; fully validated"),
        (
            "child.signed.test",
            "DS",
            "; negative response, fully validated",
        ),
    ];
    for (name, qtype, want) in cases {
        let out = Command::new(&delv)
            .args(["@127.0.0.1", "-p", &fedns.port.to_string(), "-a"])
            .arg(&anchor)
            .args(["+root=signed.test", name, qtype])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(want),
            "{variant}: {name} {qtype}: expected {want:?}, delv said:\n{text}"
        );
    }
}

#[test]
fn delv_validates_answers_from_an_nsec_zone() {
    validate("nsec", None);
}

#[test]
fn delv_validates_answers_from_an_nsec3_zone() {
    validate("nsec3", Some(false));
}

#[test]
fn delv_validates_answers_from_an_nsec3_opt_out_zone() {
    validate("nsec3-optout", Some(true));
}
