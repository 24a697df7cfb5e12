//! Mints the lab federation's private CA and one certificate per server,
//! for `examples/lab-federation` (see its README).
//!
//! ```text
//! cargo run --example lab_ca -- examples/lab-federation/certs
//! ```
//!
//! Writes into the directory (created if needed, files overwritten):
//!
//! - `ca.pem`, `ca.key`: the lab CA. Homeservers and `fedns check --ca` /
//!   `fedns explain --fetch --ca` trust it (Synapse: `federation_custom_ca_list`).
//! - `NAME.pem` (the leaf, then the CA: a full chain) and `NAME.key` for
//!   each name below. Every certificate is valid for exactly one DNS name,
//!   which is the point of the lab: which name each homeserver needs.
//!
//! The certificate for `matrix.epsilon.lab.test` is the deliberate mistake:
//! epsilon.lab.test delegates by SRV to matrix.epsilon.lab.test, so peers
//! need a certificate for epsilon.lab.test there.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
};

/// The certificates of the lab: (name it is valid for, what serves it).
const CERTIFICATES: &[(&str, &str)] = &[
    (
        "alpha.lab.test",
        "homeserver alpha.lab.test on 127.0.0.11:8448",
    ),
    (
        "beta.lab.test",
        "web server for https://beta.lab.test/.well-known/matrix/server (127.0.0.12:443)",
    ),
    (
        "hs.beta.lab.test",
        "homeserver for beta.lab.test on 127.0.0.22:8443",
    ),
    (
        "gamma.lab.test",
        "web server for https://gamma.lab.test/.well-known/matrix/server (127.0.0.13:443)",
    ),
    (
        "hs.gamma.lab.test",
        "homeserver for gamma.lab.test on node1.gamma.lab.test, 127.0.0.23:8448",
    ),
    (
        "delta.lab.test",
        "homeserver for delta.lab.test on synapse.delta.lab.test, 127.0.0.14:8448",
    ),
    (
        "matrix.epsilon.lab.test",
        "homeserver for epsilon.lab.test on 127.0.0.15:8448 (WRONG NAME: deliberately broken)",
    ),
];

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("examples/lab-federation/certs"));
    for (path, what) in mint_lab(&dir)? {
        println!("{}  {what}", path.display());
    }
    Ok(())
}

/// Mints the lab CA and every certificate of [`CERTIFICATES`] into `dir`;
/// returns each certificate file written with what it is for.
pub fn mint_lab(dir: &Path) -> Result<Vec<(PathBuf, String)>, Box<dyn Error>> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name = name("fedns lab CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut ca_params);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    write(dir, "ca.pem", &ca_cert.pem())?;
    write(dir, "ca.key", &ca_key.serialize_pem())?;
    written.push((dir.join("ca.pem"), "lab CA: fedns lab CA".to_owned()));
    let issuer = Issuer::new(ca_params, ca_key);

    for (dns_name, served_by) in CERTIFICATES {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![dns_name.to_string()])?;
        params.distinguished_name = name(dns_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        set_validity(&mut params);
        let cert = params.signed_by(&key, &issuer)?;
        let chain = format!("{}{}", cert.pem(), ca_cert.pem());
        write(dir, &format!("{dns_name}.pem"), &chain)?;
        write(dir, &format!("{dns_name}.key"), &key.serialize_pem())?;
        written.push((
            dir.join(format!("{dns_name}.pem")),
            format!("valid for {dns_name}: {served_by}"),
        ));
    }
    Ok(written)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Ten years from 2025: long enough for any course, fixed so runs are alike.
fn set_validity(params: &mut CertificateParams) {
    params.not_before = date_time_ymd(2025, 1, 1);
    params.not_after = date_time_ymd(2035, 1, 1);
}

fn write(dir: &Path, file: &str, text: &str) -> Result<(), Box<dyn Error>> {
    let path = dir.join(file);
    fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}
