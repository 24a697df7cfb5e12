//! The certificate rules CRT001-CRT011: a PEM chain served at an SRV target,
//! checked against the name N a peer requires (see
//! [`super::delegation::certificate_name`]).
//!
//! Name matching follows RFC 6125 section 6.4 and RFC 9525 section 6.3 as TLS
//! clients do it: only subjectAltName entries count (dNSName for DNS names,
//! iPAddress for IP literals; the subject CN is ignored), names compare
//! case-insensitively, and a wildcard matches only as the whole left-most
//! label, so `*.example.org` covers `matrix.example.org` but neither
//! `example.org` nor `a.b.example.org`. Trust comes from the system roots
//! plus the `--ca` files, and the chain is verified with rustls' webpki
//! verifier, as rustls-based homeservers do it.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::Name;
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, RootCertStore};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::delegation::{CertName, Declared, DeclaredServer, Host, display_name, same_name};
use super::{Finding, Rule, Severity};
use crate::zone::matrix::{DEFAULT_FEDERATION_PORT, MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE};
use crate::zone::{Place, Zone};

/// Certificates expiring within this many days get CRT007 as a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 7;
/// Certificates expiring within this many days get CRT007 as info.
pub const EXPIRY_INFO_DAYS: i64 = 30;
/// RSA keys below this many bits get CRT010.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a certificate file or trust store could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file holds no PEM certificate.
    #[error("{0}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file")]
    NoCertificates(PathBuf),
    /// A certificate does not parse as X.509.
    #[error("{path}: certificate {index} is not valid X.509: {message}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// 1-based position in the file.
        index: usize,
        /// What went wrong.
        message: String,
    },
    /// A --ca certificate cannot serve as a trust anchor.
    #[error("{path}: certificate {index} cannot be used as a trust anchor: {message}")]
    BadAnchor {
        /// The file.
        path: PathBuf,
        /// 1-based position in the file.
        index: usize,
        /// What went wrong.
        message: String,
    },
}

/// Reads every certificate of a PEM file, leaf first as servers send them.
pub fn load_pem_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let read_error = |e: &dyn fmt::Display| CertError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let bytes = std::fs::read(path).map_err(|e| read_error(&e))?;
    let chain = parse_pem_chain(&bytes).map_err(|e| read_error(&e))?;
    if chain.is_empty() {
        return Err(CertError::NoCertificates(path.to_path_buf()));
    }
    for (i, der) in chain.iter().enumerate() {
        if let Err(e) = X509Certificate::from_der(der) {
            return Err(CertError::BadCertificate {
                path: path.to_path_buf(),
                index: i + 1,
                message: e.to_string(),
            });
        }
    }
    Ok(chain)
}

/// The certificates of PEM text (possibly none).
pub fn parse_pem_chain(
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, rustls::pki_types::pem::Error> {
    CertificateDer::pem_slice_iter(pem).collect()
}

/// The trust anchors: system roots (unless turned off) plus private CAs.
#[derive(Clone, Debug)]
pub struct TrustStore {
    /// The anchors.
    pub roots: Arc<RootCertStore>,
    /// How many came from the system store.
    pub system: usize,
    /// How many came from --ca files.
    pub private: usize,
    /// Problems reading the system store (not fatal).
    pub notes: Vec<String>,
}

impl TrustStore {
    /// Loads the system roots (when `system`) and every certificate of the `ca_files`.
    pub fn load(ca_files: &[PathBuf], system: bool) -> Result<TrustStore, CertError> {
        let mut roots = RootCertStore::empty();
        let mut notes = Vec::new();
        let mut system_count = 0;
        if system {
            let found = rustls_native_certs::load_native_certs();
            for e in found.errors.iter().take(3) {
                notes.push(format!("system trust store: {e}"));
            }
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            system_count = added;
            if added == 0 {
                notes.push("no system root certificates found; only --ca files are trusted".into());
            }
        }
        let mut private = 0;
        for path in ca_files {
            for (i, der) in load_pem_chain(path)?.into_iter().enumerate() {
                roots.add(der).map_err(|e| CertError::BadAnchor {
                    path: path.clone(),
                    index: i + 1,
                    message: e.to_string(),
                })?;
                private += 1;
            }
        }
        Ok(TrustStore {
            roots: Arc::new(roots),
            system: system_count,
            private,
            notes,
        })
    }

    /// A store with only these anchors (for tests and probes).
    pub fn from_anchors(anchors: &[CertificateDer<'static>]) -> TrustStore {
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(anchors.iter().cloned());
        TrustStore {
            roots: Arc::new(roots),
            system: 0,
            private: added,
            notes: Vec::new(),
        }
    }
}

// ------------------------------------------------------------- facts --

/// What the CRT rules read from one certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertFacts {
    /// The subject, as text.
    pub subject: String,
    /// The issuer, as text.
    pub issuer: String,
    /// Subject and issuer are the same name (a root or a self-signed leaf).
    pub self_issued: bool,
    /// Whether a subjectAltName extension is present.
    pub has_san: bool,
    /// dNSName SANs.
    pub dns_names: Vec<String>,
    /// iPAddress SANs.
    pub ip_addresses: Vec<IpAddr>,
    /// Subject common names.
    pub common_names: Vec<String>,
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
    /// The extended key usage, if the extension is present.
    pub eku: Option<Eku>,
    /// The RSA modulus size in bits, for RSA keys.
    pub rsa_bits: Option<usize>,
    /// The signature uses SHA-1.
    pub sha1_signature: bool,
    /// basicConstraints cA is true.
    pub is_ca: bool,
}

/// The extended key usage extension.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eku {
    /// id-kp-serverAuth is present.
    pub server_auth: bool,
    /// The purposes listed, in words.
    pub purposes: Vec<String>,
}

/// Signature algorithm OIDs that use SHA-1.
const SHA1_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.5",
    "1.3.14.3.2.29",
    "1.2.840.10045.4.1",
    "1.2.840.10040.4.3",
];

/// Reads the facts of one DER certificate.
pub fn cert_facts(der: &[u8]) -> Result<CertFacts, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let tbs = &cert.tbs_certificate;
    let mut facts = CertFacts {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        self_issued: tbs.subject().as_raw() == tbs.issuer().as_raw(),
        not_before: tbs.validity().not_before.timestamp(),
        not_after: tbs.validity().not_after.timestamp(),
        is_ca: tbs.is_ca(),
        sha1_signature: SHA1_SIGNATURES
            .contains(&cert.signature_algorithm.algorithm.to_id_string().as_str()),
        ..CertFacts::default()
    };
    facts.common_names = tbs
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_owned))
        .collect();
    if let Ok(Some(san)) = tbs.subject_alternative_name() {
        facts.has_san = true;
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => facts.dns_names.push((*d).to_owned()),
                GeneralName::IPAddress(bytes) => facts.ip_addresses.extend(ip_from_bytes(bytes)),
                _ => {}
            }
        }
    }
    if let Ok(Some(eku)) = tbs.extended_key_usage() {
        let e = eku.value;
        let mut purposes = Vec::new();
        for (present, word) in [
            (e.server_auth, "serverAuth"),
            (e.client_auth, "clientAuth"),
            (e.code_signing, "codeSigning"),
            (e.email_protection, "emailProtection"),
            (e.time_stamping, "timeStamping"),
            (e.ocsp_signing, "OCSPSigning"),
            (e.any, "anyExtendedKeyUsage"),
        ] {
            if present {
                purposes.push(word.to_owned());
            }
        }
        purposes.extend(e.other.iter().map(|o| o.to_id_string()));
        facts.eku = Some(Eku {
            server_auth: e.server_auth,
            purposes,
        });
    }
    if let Ok(PublicKey::RSA(rsa)) = tbs.public_key().parsed() {
        facts.rsa_bits = Some(bit_length(rsa.modulus));
    }
    Ok(facts)
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// The bit length of a big-endian unsigned integer.
pub fn bit_length(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    (trimmed.len() - 1) * 8 + (8 - trimmed[0].leading_zeros() as usize)
}

// ------------------------------------------------------ name matching --

/// What kind of wildcard a dNSName SAN is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wildcard {
    /// No `*`.
    None,
    /// `*` as the whole left-most label, with at least two labels after it.
    LeftMost,
    /// Anything else with a `*`: partial label, not left-most, or too short.
    NonStandard,
}

/// Classifies a dNSName SAN (RFC 9525 section 6.3).
pub fn wildcard_kind(pattern: &str) -> Wildcard {
    if !pattern.contains('*') {
        return Wildcard::None;
    }
    let pattern = pattern.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(rest)
            if !rest.contains('*')
                && rest.split('.').count() >= 2
                && rest.split('.').all(|l| !l.is_empty()) =>
        {
            Wildcard::LeftMost
        }
        _ => Wildcard::NonStandard,
    }
}

/// Whether the dNSName SAN `pattern` matches the DNS name `name`, as TLS
/// clients match (RFC 6125 6.4, RFC 9525 6.3). Non-standard wildcards never match.
pub fn dns_name_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if pattern.is_empty() || name.is_empty() {
        return false;
    }
    match wildcard_kind(&pattern) {
        Wildcard::None => pattern == name,
        Wildcard::NonStandard => false,
        Wildcard::LeftMost => match (pattern.strip_prefix("*."), name.split_once('.')) {
            (Some(rest), Some((first, name_rest))) => !first.is_empty() && name_rest == rest,
            _ => false,
        },
    }
}

/// Whether a certificate with these facts is valid for `name`.
pub fn valid_for(facts: &CertFacts, name: &CertName) -> bool {
    match name {
        CertName::Dns(n) => {
            let n = display_name(n);
            facts.dns_names.iter().any(|p| dns_name_matches(p, &n))
        }
        CertName::Ip(ip) => facts.ip_addresses.contains(ip),
    }
}

// ------------------------------------------------------- requirements --

/// A name a chain must be valid for, and how the lint knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// N: the name the certificate must be valid for.
    pub name: CertName,
    /// The host the chain is served at (the SRV target), when known.
    pub target: Option<Name>,
    /// The port it is served on, when known.
    pub port: Option<u16>,
    /// How the requirement arises, in words (`_matrix-fed._tcp.example.org -> ...`).
    pub via: String,
    /// The record or section it comes from.
    pub place: Option<Place>,
}

/// The names a chain served at `host` must be valid for: the base name X of
/// every federation SRV RRset pointing at `host`, the server names whose
/// `.well-known` delegates to `host`, and `host` itself when it is a server
/// name, an SRV owner's name or nothing in the zones points at it.
pub fn requirements_for_host(
    host: &Name,
    zones: &[&Zone],
    declared: &Declared,
) -> Vec<Requirement> {
    let mut out: Vec<Requirement> = Vec::new();
    let push = |out: &mut Vec<Requirement>, r: Requirement| {
        if !out.iter().any(|o| o.name == r.name) {
            out.push(r);
        }
    };
    let h = display_name(host);
    let pairs = super::srv::federation_pairs(zones);
    for pair in &pairs {
        let rrsets = [(&pair.fed, false), (&pair.legacy, true)];
        for (rrset, legacy) in rrsets {
            for record in rrset.iter().filter(|r| same_name(&r.srv.target, host)) {
                push(
                    &mut out,
                    Requirement {
                        name: CertName::Dns(pair.base.clone()),
                        target: Some(host.clone()),
                        port: Some(record.srv.port),
                        via: format!(
                            "{} points at {h}:{}",
                            super::srv::srv_provenance(record, &pair.base, legacy),
                            record.srv.port
                        ),
                        place: Some(record.sourced.place.clone()),
                    },
                );
            }
        }
    }
    for server in declared.delegating_to(host) {
        if let Some(delegated) = server.delegated() {
            push(
                &mut out,
                Requirement {
                    name: CertName::Dns(host.clone()),
                    target: Some(host.clone()),
                    port: delegated.port,
                    via: format!(
                        "the .well-known of {} delegates to {delegated}",
                        server.text
                    ),
                    place: server.well_known.as_ref().and_then(|w| w.place.clone()),
                },
            );
        }
    }
    let is_srv_base = pairs.iter().any(|p| same_name(&p.base, host));
    if declared.is_server_name(host) || is_srv_base || out.is_empty() {
        let via = if declared.is_server_name(host) || is_srv_base {
            format!(
                "{h} is a server name: peers require a certificate for it wherever it is served"
            )
        } else {
            format!("nothing in the zones points at {h}; checking the chain for {h} itself")
        };
        push(
            &mut out,
            Requirement {
                name: CertName::Dns(host.clone()),
                target: Some(host.clone()),
                port: None,
                via,
                place: None,
            },
        );
    }
    out
}

/// The requirements for the chain named in a `[[matrix]]` section
/// (`certificate = ...`): valid for the server's certificate name, served at
/// its SRV targets (or the delegated host).
pub fn requirements_for_server(server: &DeclaredServer, zones: &[&Zone]) -> Vec<Requirement> {
    let name = server.certificate_name();
    let mut targets: Vec<(Name, u16, Place)> = Vec::new();
    if let Some(s) = server.dns_name() {
        let srv_base = match (&name, server.delegated()) {
            (CertName::Dns(d), Some(delegated)) if delegated.port.is_none() => Some(d.clone()),
            (_, Some(_)) => None,
            _ => Some(s.clone()),
        };
        if let Some(base) = srv_base {
            for zone in zones {
                for sourced in &zone.records {
                    let hickory_proto::rr::RData::SRV(srv) = &sourced.data() else {
                        continue;
                    };
                    let owner = &sourced.name();
                    let at_base =
                        [MATRIX_FED_SERVICE, MATRIX_LEGACY_SERVICE]
                            .iter()
                            .any(|service| {
                                Name::from_labels([service.as_bytes(), b"_tcp".as_slice()])
                                    .ok()
                                    .and_then(|p| p.append_domain(&base).ok())
                                    .is_some_and(|o| &o == owner)
                            });
                    if at_base
                        && !srv.target.is_root()
                        && !targets
                            .iter()
                            .any(|t| same_name(&t.0, &srv.target) && t.1 == srv.port)
                    {
                        targets.push((srv.target.clone(), srv.port, sourced.place.clone()));
                    }
                }
            }
        }
    }
    if targets.is_empty() {
        let (host, port) = match (server.delegated(), &server.address.host) {
            (Some(d), _) => (d.host.clone(), d.port.unwrap_or(DEFAULT_FEDERATION_PORT)),
            (None, h) => (
                h.clone(),
                server.address.port.unwrap_or(DEFAULT_FEDERATION_PORT),
            ),
        };
        let target = match host {
            Host::Dns(n) => Some(n),
            Host::Ip(_) => None,
        };
        return vec![Requirement {
            name: name.clone(),
            target,
            port: Some(port),
            via: format!(
                "peers resolving {} require a certificate for {name}",
                server.text
            ),
            place: server.place.clone(),
        }];
    }
    targets
        .into_iter()
        .map(|(target, port, place)| Requirement {
            via: format!(
                "peers resolving {} connect to {}:{port} and require a certificate for {name}",
                server.text,
                display_name(&target)
            ),
            name: name.clone(),
            target: Some(target),
            port: Some(port),
            place: Some(place),
        })
        .collect()
}

// ------------------------------------------------------------- rules --

/// The outcome of verifying a chain against the trust store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Chains to a trust anchor.
    Trusted,
    /// Does not chain: the reason.
    Untrusted(String),
    /// Cannot tell (another rule explains the failure).
    Unknown,
}

/// Verifies `chain` (leaf first) against `trust`, ignoring the name and, if
/// the only problem is time, re-checking at a time all certificates are valid
/// (CRT007 reports the time problem).
pub fn verify_trust(
    chain: &[CertificateDer<'_>],
    facts: &[CertFacts],
    trust: &TrustStore,
    now: i64,
) -> Trust {
    let Some(leaf) = chain.first() else {
        return Trust::Unknown;
    };
    let provider = rustls::crypto::ring::default_provider();
    let algs = provider.signature_verification_algorithms.all;
    let Ok(parsed) = ParsedCertificate::try_from(leaf) else {
        return Trust::Unknown;
    };
    let at = |t: i64| UnixTime::since_unix_epoch(Duration::from_secs(t.max(0) as u64));
    let mut result = verify_server_cert_signed_by_trust_anchor(
        &parsed,
        &trust.roots,
        &chain[1..],
        at(now),
        algs,
    );
    if let Err(rustls::Error::InvalidCertificate(e)) = &result
        && is_time_error(e)
    {
        let start = facts.iter().map(|f| f.not_before).max().unwrap_or(now);
        let end = facts.iter().map(|f| f.not_after).min().unwrap_or(now);
        if start < end {
            result = verify_server_cert_signed_by_trust_anchor(
                &parsed,
                &trust.roots,
                &chain[1..],
                at(start + (end - start) / 2),
                algs,
            );
        }
    }
    match result {
        Ok(()) => Trust::Trusted,
        Err(rustls::Error::InvalidCertificate(e)) => match e {
            CertificateError::UnknownIssuer => Trust::Untrusted(
                "its issuer is not a trusted root and no certificate in the chain leads to one"
                    .into(),
            ),
            CertificateError::BadSignature => {
                Trust::Untrusted("a signature in the chain does not verify".into())
            }
            e if is_time_error(&e) => Trust::Unknown,
            _ => Trust::Unknown,
        },
        Err(_) => Trust::Unknown,
    }
}

fn is_time_error(e: &CertificateError) -> bool {
    matches!(
        e,
        CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. }
    )
}

/// A chain to check, and where it came from (for messages).
#[derive(Clone, Debug)]
pub struct ChainSource<'a> {
    /// The certificates, leaf first.
    pub chain: &'a [CertificateDer<'static>],
    /// Where they came from: a file name, or "presented by 192.0.2.1:443".
    pub origin: String,
}

/// Runs CRT001-CRT011 on `chain` for `req`. `now` is seconds since the epoch.
pub fn check_chain(
    source: &ChainSource<'_>,
    req: &Requirement,
    trust: &TrustStore,
    now: i64,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = req.name.to_string();
    let origin = &source.origin;
    let finding =
        |rule: Rule, message: String| Finding::new(rule, &n, message).at(req.place.as_ref());
    let mut facts = Vec::new();
    for der in source.chain {
        match cert_facts(der) {
            Ok(f) => facts.push(f),
            Err(e) => {
                out.push(finding(Rule::Crt005, format!("the chain in {origin} holds a certificate that does not parse ({e}); no peer can verify it")));
                return out;
            }
        }
    }
    let Some(leaf) = facts.first() else {
        return out;
    };
    out.extend(name_findings(leaf, req, origin));
    // CRT005 / CRT006: trust and completeness.
    let trust_result = verify_trust(source.chain, &facts, trust, now);
    let leaf_only = facts.len() == 1;
    let self_signed = leaf.self_issued;
    if let Trust::Untrusted(reason) = &trust_result {
        let message = if self_signed {
            format!(
                "the certificate in {origin} is self-signed ({}); peers reject it since certificates must chain to a trusted CA",
                leaf.subject
            )
        } else if leaf_only {
            format!(
                "the chain in {origin} does not verify against the trusted roots: it holds only the leaf (issuer {}), and {reason}",
                leaf.issuer
            )
        } else {
            format!(
                "the chain in {origin} does not verify against the trusted roots: {reason} (leaf issuer {})",
                leaf.issuer
            )
        };
        let mut f = finding(Rule::Crt005, message);
        if trust.system + trust.private == 0 {
            f = f.why("No trust anchors were loaded (no system roots found and no --ca given), so nothing can verify; pass your CA with --ca.");
        }
        out.push(f);
        if leaf_only && !self_signed {
            out.push(finding(Rule::Crt006, format!("{origin} holds only the leaf certificate for {n}; the intermediate certificate(s) up to the root (issuer {}) are missing", leaf.issuer)));
        }
    }
    // CRT007 on every certificate.
    for (i, f) in facts.iter().enumerate() {
        if let Some((severity, text)) = validity_problem(f, now) {
            let which = if i == 0 {
                "the leaf certificate".to_owned()
            } else {
                format!("chain certificate {} ({})", i + 1, f.subject)
            };
            out.push(
                finding(Rule::Crt007, format!("{which} in {origin} {text}")).severity(severity),
            );
        }
    }
    // CRT008: EKU without serverAuth.
    if let Some(eku) = leaf.eku.as_ref().filter(|e| !e.server_auth) {
        out.push(finding(Rule::Crt008, format!("the leaf certificate in {origin} has an extended key usage of {} without serverAuth: TLS clients refuse it for a server", eku.purposes.join(", "))));
    }
    // CRT010: weak keys or SHA-1, not counting a root's self-signature.
    for (i, f) in facts.iter().enumerate() {
        let which = if i == 0 {
            "the leaf certificate".to_owned()
        } else {
            format!("chain certificate {} ({})", i + 1, f.subject)
        };
        if let Some(bits) = f.rsa_bits.filter(|b| *b < MIN_RSA_BITS) {
            out.push(finding(
                Rule::Crt010,
                format!(
                    "{which} in {origin} has a {bits}-bit RSA key (at least {MIN_RSA_BITS} needed)"
                ),
            ));
        }
        if f.sha1_signature && !(f.self_issued && i > 0) {
            out.push(finding(
                Rule::Crt010,
                format!("{which} in {origin} is signed with SHA-1"),
            ));
        }
    }
    out
}

/// CRT001-CRT004, CRT009, CRT011 on the leaf.
fn name_findings(leaf: &CertFacts, req: &Requirement, origin: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = req.name.to_string();
    let finding =
        |rule: Rule, message: String| Finding::new(rule, &n, message).at(req.place.as_ref());
    let sans = san_list(leaf);
    for pattern in leaf
        .dns_names
        .iter()
        .filter(|p| wildcard_kind(p) == Wildcard::NonStandard)
    {
        out.push(finding(Rule::Crt011, format!("the certificate in {origin} lists the non-standard wildcard {pattern}; RFC 9525 clients never match it")));
    }
    if !leaf.has_san {
        let cn = if leaf.common_names.is_empty() {
            "no common name either".to_owned()
        } else {
            format!("only the common name {}", leaf.common_names.join(", "))
        };
        out.push(finding(Rule::Crt004, format!("the certificate in {origin} has no subjectAltName extension ({cn}); TLS clients ignore the CN, so it is valid for no name, {n} included")));
        return out;
    }
    if valid_for(leaf, &req.name) {
        return out;
    }
    match &req.name {
        CertName::Ip(ip) => out.push(finding(Rule::Crt009, format!("the certificate in {origin} has no iPAddress SAN {ip} (it lists {sans}); peers connecting to the IP literal {ip} reject it"))),
        CertName::Dns(name) => {
            let target = req.target.as_ref().filter(|t| !same_name(t, name));
            let matches_target = target.is_some_and(|t| valid_for(leaf, &CertName::Dns(t.clone())));
            let apex_wildcard = leaf.dns_names.iter().any(|p| p.trim_end_matches('.').eq_ignore_ascii_case(&format!("*.{n}")));
            // The wildcard first: `*.example.org` served at synapse.example.org
            // also matches the target, but what is wrong is that a wildcard
            // never covers the apex, and the fix is to add the apex.
            if apex_wildcard {
                let covers = target
                    .filter(|_| matches_target)
                    .map(|t| format!(" (it does cover the SRV target {}, which peers do not ask for)", display_name(t)))
                    .unwrap_or_default();
                out.push(
                    finding(Rule::Crt003, format!("the certificate in {origin} lists *.{n} but not {n} itself ({sans}); a wildcard covers one label below {n}, never {n}{covers}"))
                        .fix(format!("Reissue the certificate with both {n} and *.{n}.")),
                );
            } else if let (true, Some(t)) = (matches_target, target) {
                let t = display_name(t);
                let port = req.port.map(|p| format!(":{p}")).unwrap_or_default();
                out.push(
                    finding(Rule::Crt002, format!("the certificate in {origin} is valid for the SRV target {t} (its names: {sans}) but not for {n}: peers connect to {t}{port} with SNI {n} and require a certificate for {n}"))
                        .why(format!("{}. Synapse logs DNSMismatch(... hostname=b'{n}'), Go-based servers `x509: certificate is valid for {t}, not {n}`.", req.via))
                        .fix(format!("Add {n} to the certificate's subjectAltNames and serve it for SNI {n} on {t}{port}; or serve {{\"m.server\": \"{t}{port}\"}} at https://{n}/.well-known/matrix/server so that peers require {t} instead (fedns check --explain SRV025).")),
                );
            } else {
                out.push(finding(Rule::Crt001, format!("the certificate in {origin} is not valid for {n}: its names are {sans}")).why(format!("{}. Peers match dNSName SANs only (RFC 6125 / RFC 9525).", req.via)));
            }
        }
    }
    out
}

/// The SANs of a certificate, for messages.
pub fn san_list(facts: &CertFacts) -> String {
    let mut names: Vec<String> = facts.dns_names.clone();
    names.extend(facts.ip_addresses.iter().map(|ip| format!("IP {ip}")));
    if names.is_empty() {
        "no names".into()
    } else {
        names.join(", ")
    }
}

/// The CRT007 severity and text for a certificate's validity at `now`.
pub fn validity_problem(f: &CertFacts, now: i64) -> Option<(Severity, String)> {
    const DAY: i64 = 86_400;
    if now < f.not_before {
        return Some((
            Severity::Error,
            format!(
                "is not valid yet (notBefore {}); check the clock of the machine that issued it",
                format_time(f.not_before)
            ),
        ));
    }
    if now > f.not_after {
        return Some((
            Severity::Error,
            format!("expired on {}", format_time(f.not_after)),
        ));
    }
    let left = f.not_after - now;
    if left <= EXPIRY_WARNING_DAYS * DAY {
        Some((
            Severity::Warning,
            format!(
                "expires in {} day(s), on {}",
                left / DAY,
                format_time(f.not_after)
            ),
        ))
    } else if left <= EXPIRY_INFO_DAYS * DAY {
        Some((
            Severity::Info,
            format!(
                "expires in {} days, on {}",
                left / DAY,
                format_time(f.not_after)
            ),
        ))
    } else {
        None
    }
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Seconds since the epoch now.
pub fn unix_now() -> i64 {
    i64::try_from(crate::proto::clock::unix_now()).unwrap_or(i64::MAX)
}

/// The rustls server name for a certificate name.
pub fn server_name(name: &CertName) -> Option<ServerName<'static>> {
    match name {
        CertName::Ip(ip) => Some(ServerName::IpAddress((*ip).into())),
        CertName::Dns(n) => ServerName::try_from(display_name(n)).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_match_like_tls_clients() {
        assert!(dns_name_matches("example.org", "example.org."));
        assert!(dns_name_matches("EXAMPLE.org", "example.ORG"));
        assert!(dns_name_matches("*.example.org", "matrix.example.org"));
        assert!(
            !dns_name_matches("*.example.org", "example.org"),
            "a wildcard never covers the apex"
        );
        assert!(
            !dns_name_matches("*.example.org", "a.b.example.org"),
            "one label only"
        );
        assert!(
            !dns_name_matches("m*.example.org", "matrix.example.org"),
            "partial wildcards are not matched"
        );
        assert!(!dns_name_matches("a.*.example.org", "a.b.example.org"));
        assert!(!dns_name_matches("*.org", "example.org"), "too broad");
        assert!(!dns_name_matches("matrix.example.org", "example.org"));
        assert!(!dns_name_matches("", "example.org"));
    }

    #[test]
    fn classifies_wildcards() {
        assert_eq!(wildcard_kind("example.org"), Wildcard::None);
        assert_eq!(wildcard_kind("*.example.org"), Wildcard::LeftMost);
        for odd in [
            "m*.example.org",
            "*m.example.org",
            "a.*.example.org",
            "*.org",
            "**.example.org",
        ] {
            assert_eq!(wildcard_kind(odd), Wildcard::NonStandard, "{odd}");
        }
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0x00]), 9);
        assert_eq!(bit_length(&[0; 3]), 0);
        let mut modulus = vec![0u8];
        modulus.extend(vec![0xff; 128]);
        assert_eq!(bit_length(&modulus), 1024);
    }

    #[test]
    fn validity_windows() {
        let day = 86_400;
        let f = CertFacts {
            not_before: 0,
            not_after: 100 * day,
            ..CertFacts::default()
        };
        assert_eq!(validity_problem(&f, 10 * day), None);
        assert_eq!(
            validity_problem(&f, 80 * day).map(|p| p.0),
            Some(Severity::Info)
        );
        assert_eq!(
            validity_problem(&f, 95 * day).map(|p| p.0),
            Some(Severity::Warning)
        );
        assert_eq!(
            validity_problem(&f, 101 * day).map(|p| p.0),
            Some(Severity::Error)
        );
        assert_eq!(validity_problem(&f, -1).map(|p| p.0), Some(Severity::Error));
    }

    #[test]
    fn formats_times_as_utc_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_time(1_767_225_600 + 3_660), "2026-01-01 01:01 UTC");
    }

    #[test]
    fn valid_for_uses_sans_only() {
        let f = CertFacts {
            has_san: true,
            dns_names: vec!["*.example.org".into()],
            ip_addresses: vec!["192.0.2.1".parse().unwrap()],
            common_names: vec!["example.org".into()],
            ..CertFacts::default()
        };
        let dns = |s: &str| CertName::Dns(Name::from_ascii(s).unwrap());
        assert!(valid_for(&f, &dns("matrix.example.org.")));
        assert!(
            !valid_for(&f, &dns("example.org.")),
            "the CN does not count"
        );
        assert!(valid_for(&f, &CertName::Ip("192.0.2.1".parse().unwrap())));
        assert!(!valid_for(&f, &CertName::Ip("192.0.2.2".parse().unwrap())));
    }

    #[test]
    fn parses_pem_text() {
        assert_eq!(
            parse_pem_chain(b"no pem here").map(|v| v.len()).ok(),
            Some(0)
        );
    }
}
