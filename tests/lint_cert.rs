//! The certificate rules CRT001-CRT011 on chains minted at test time from a
//! private CA: for every rule a chain that triggers it and a near miss that
//! must not.

mod lint_support;

use std::path::Path;

use fedns::lint::cert::{
    ChainSource, Requirement, TrustStore, check_chain, load_pem_chain, unix_now,
};
use fedns::lint::delegation::CertName;
use fedns::lint::{Finding, Rule, Severity};
use hickory_proto::rr::Name;
use lint_support::{Ca, Leaf, LeafSpec, self_signed};
use rcgen::ExtendedKeyUsagePurpose;
use rustls::pki_types::CertificateDer;

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

/// The requirement of an SRV RRset at `n` pointing at `target:443`.
fn req(n: &str, target: Option<&str>) -> Requirement {
    Requirement {
        name: match n.parse() {
            Ok(ip) => CertName::Ip(ip),
            Err(_) => CertName::Dns(name(n)),
        },
        target: target.map(name),
        port: Some(443),
        via: format!("_matrix-fed._tcp.{n} points at {}:443", target.unwrap_or(n)),
        place: None,
    }
}

fn findings(
    chain: &[CertificateDer<'static>],
    trust: &TrustStore,
    r: &Requirement,
) -> Vec<Finding> {
    check_chain(
        &ChainSource {
            chain,
            origin: "chain.pem".into(),
        },
        r,
        trust,
        unix_now(),
    )
}

fn rules(chain: &[CertificateDer<'static>], trust: &TrustStore, r: &Requirement) -> Vec<Rule> {
    let mut v: Vec<Rule> = findings(chain, trust, r).iter().map(|f| f.rule).collect();
    v.sort();
    v.dedup();
    v
}

fn lab() -> (Ca, TrustStore) {
    let ca = Ca::root("fedns lab root");
    let trust = TrustStore::from_anchors(std::slice::from_ref(&ca.cert));
    (ca, trust)
}

fn leaf(ca: &Ca, names: &[&str]) -> Leaf {
    ca.leaf(&LeafSpec::new(names))
}

#[test]
fn a_correct_chain_has_no_findings() {
    let (ca, trust) = lab();
    let l = leaf(&ca, &["example.org", "synapse.example.org"]);
    assert_eq!(
        rules(
            &l.fullchain,
            &trust,
            &req("example.org", Some("synapse.example.org"))
        ),
        vec![]
    );
}

#[test]
fn crt002_valid_for_the_target_only_is_the_classic_pitfall() {
    let (ca, trust) = lab();
    let l = leaf(&ca, &["synapse.example.org"]);
    let f = findings(
        &l.fullchain,
        &trust,
        &req("example.org", Some("synapse.example.org")),
    );
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![Rule::Crt002],
        "{f:#?}"
    );
    assert_eq!(f[0].severity, Severity::Error);
    assert!(
        f[0].message
            .contains("valid for the SRV target synapse.example.org")
            && f[0]
                .message
                .contains("require a certificate for example.org"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].why_text().contains("DNSMismatch") && f[0].why_text().contains("not example.org"),
        "{}",
        f[0].why_text()
    );
    // Near miss: the same certificate checked for a delegation to the target itself.
    assert_eq!(
        rules(
            &l.fullchain,
            &trust,
            &req("synapse.example.org", Some("synapse.example.org"))
        ),
        vec![]
    );
}

#[test]
fn crt001_valid_for_neither_name() {
    let (ca, trust) = lab();
    let l = leaf(&ca, &["www.example.net"]);
    let f = findings(
        &l.fullchain,
        &trust,
        &req("example.org", Some("synapse.example.org")),
    );
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![Rule::Crt001]
    );
    assert!(f[0].message.contains("www.example.net"), "{}", f[0].message);
    let near = leaf(&ca, &["example.org"]);
    assert_eq!(
        rules(
            &near.fullchain,
            &trust,
            &req("example.org", Some("synapse.example.org"))
        ),
        vec![]
    );
}

#[test]
fn crt003_wildcard_does_not_cover_the_apex() {
    let (ca, trust) = lab();
    let l = leaf(&ca, &["*.example.org"]);
    assert_eq!(
        rules(&l.fullchain, &trust, &req("example.org", None)),
        vec![Rule::Crt003]
    );
    // Served at the SRV target, which the wildcard does cover: still the
    // apex is the problem (CRT003, not CRT002).
    assert_eq!(
        rules(
            &l.fullchain,
            &trust,
            &req("example.org", Some("synapse.example.org"))
        ),
        vec![Rule::Crt003]
    );
    // Near misses: the apex listed beside the wildcard; the wildcard for a host below.
    let both = leaf(&ca, &["example.org", "*.example.org"]);
    assert_eq!(
        rules(&both.fullchain, &trust, &req("example.org", None)),
        vec![]
    );
    assert_eq!(
        rules(&l.fullchain, &trust, &req("matrix.example.org", None)),
        vec![]
    );
}

#[test]
fn crt004_no_subject_alt_name() {
    let (ca, trust) = lab();
    let mut spec = LeafSpec::new(&["example.org"]);
    spec.no_san = true;
    let l = ca.leaf(&spec);
    let f = findings(&l.fullchain, &trust, &req("example.org", None));
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![Rule::Crt004]
    );
    assert!(
        f[0].message.contains("common name example.org"),
        "{}",
        f[0].message
    );
    assert_eq!(
        rules(
            &leaf(&ca, &["example.org"]).fullchain,
            &trust,
            &req("example.org", None)
        ),
        vec![]
    );
}

#[test]
fn crt005_self_signed_and_unknown_issuers() {
    let (_, trust) = lab();
    let own = self_signed(&["example.org"]);
    let f = findings(&own.fullchain, &trust, &req("example.org", None));
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![Rule::Crt005]
    );
    assert!(f[0].message.contains("self-signed"), "{}", f[0].message);
    // An issuer nobody trusts.
    let other = Ca::root("someone else's CA");
    assert!(
        rules(
            &leaf(&other, &["example.org"]).fullchain,
            &trust,
            &req("example.org", None)
        )
        .contains(&Rule::Crt005)
    );
    // Near miss: the self-signed certificate given as a trust anchor (like --ca).
    let trusting = TrustStore::from_anchors(std::slice::from_ref(&own.cert));
    assert_eq!(
        rules(&own.fullchain, &trusting, &req("example.org", None)),
        vec![]
    );
}

#[test]
fn crt006_leaf_without_its_intermediate() {
    let (root, trust) = lab();
    let intermediate = root.intermediate("fedns lab intermediate");
    let l = leaf(&intermediate, &["example.org"]);
    assert_eq!(l.fullchain.len(), 2);
    let leaf_only = vec![l.cert.clone()];
    let r = rules(&leaf_only, &trust, &req("example.org", None));
    assert_eq!(
        r,
        vec![Rule::Crt005, Rule::Crt006],
        "the chain does not verify, and why"
    );
    // Near misses: the full chain; a leaf issued by the root itself.
    assert_eq!(
        rules(&l.fullchain, &trust, &req("example.org", None)),
        vec![]
    );
    assert_eq!(
        rules(
            &leaf(&root, &["example.org"]).fullchain,
            &trust,
            &req("example.org", None)
        ),
        vec![]
    );
}

fn validity(ca: &Ca, from: i64, to: i64) -> Leaf {
    let mut spec = LeafSpec::new(&["example.org"]);
    spec.not_before_days = from;
    spec.not_after_days = to;
    ca.leaf(&spec)
}

#[test]
fn crt007_expiry_windows() {
    let (ca, trust) = lab();
    let grade = |l: &Leaf| -> Vec<(Rule, Severity)> {
        findings(&l.fullchain, &trust, &req("example.org", None))
            .iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    };
    assert_eq!(
        grade(&validity(&ca, -30, -1)),
        vec![(Rule::Crt007, Severity::Error)],
        "expired, and still trusted otherwise"
    );
    assert_eq!(
        grade(&validity(&ca, 2, 300)),
        vec![(Rule::Crt007, Severity::Error)],
        "not yet valid"
    );
    assert_eq!(
        grade(&validity(&ca, -1, 3)),
        vec![(Rule::Crt007, Severity::Warning)]
    );
    assert_eq!(
        grade(&validity(&ca, -1, 20)),
        vec![(Rule::Crt007, Severity::Info)]
    );
    assert_eq!(
        grade(&validity(&ca, -1, 45)),
        vec![],
        "near miss: more than 30 days left"
    );
    let expired = findings(
        &validity(&ca, -30, -1).fullchain,
        &trust,
        &req("example.org", None),
    );
    assert!(
        expired[0].message.contains("expired on"),
        "{}",
        expired[0].message
    );
}

#[test]
fn crt008_eku_without_server_auth() {
    let (ca, trust) = lab();
    let mut spec = LeafSpec::new(&["example.org"]);
    spec.eku = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let f = findings(&ca.leaf(&spec).fullchain, &trust, &req("example.org", None));
    assert_eq!(
        f.iter().map(|f| f.rule).collect::<Vec<_>>(),
        vec![Rule::Crt008]
    );
    assert!(f[0].message.contains("clientAuth"), "{}", f[0].message);
    spec.eku = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    assert_eq!(
        rules(&ca.leaf(&spec).fullchain, &trust, &req("example.org", None)),
        vec![]
    );
}

#[test]
fn crt009_ip_literal_needs_an_ip_address_san() {
    let (ca, trust) = lab();
    let dns_only = leaf(&ca, &["example.org"]);
    assert_eq!(
        rules(&dns_only.fullchain, &trust, &req("192.0.2.10", None)),
        vec![Rule::Crt009]
    );
    let with_ip = leaf(&ca, &["example.org", "192.0.2.10"]);
    assert_eq!(
        rules(&with_ip.fullchain, &trust, &req("192.0.2.10", None)),
        vec![]
    );
}

#[test]
fn crt010_weak_rsa_and_sha1_from_a_fixture() {
    // rcgen (ring) cannot make RSA keys or SHA-1 signatures: see tests/data/lint/README.md.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint/weak-rsa1024-sha1.pem");
    let chain = load_pem_chain(&path).unwrap();
    let trust = TrustStore::from_anchors(&[]);
    let f = findings(&chain, &trust, &req("example.org", None));
    let weak: Vec<&str> = f
        .iter()
        .filter(|f| f.rule == Rule::Crt010)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(weak.len(), 2, "{f:#?}");
    assert!(
        weak[0].contains("1024-bit RSA key") && weak[1].contains("SHA-1"),
        "{weak:?}"
    );
    // Near miss: an ECDSA P-256 / SHA-256 leaf.
    let (ca, trust) = lab();
    assert!(
        !rules(
            &leaf(&ca, &["example.org"]).fullchain,
            &trust,
            &req("example.org", None)
        )
        .contains(&Rule::Crt010)
    );
}

#[test]
fn crt011_non_standard_wildcards() {
    let (ca, trust) = lab();
    let partial = leaf(&ca, &["example.org", "m*.example.org"]);
    let f = findings(&partial.fullchain, &trust, &req("example.org", None));
    assert_eq!(
        f.iter().map(|f| (f.rule, f.severity)).collect::<Vec<_>>(),
        vec![(Rule::Crt011, Severity::Info)]
    );
    // A partial wildcard never counts as a match.
    assert!(
        rules(&partial.fullchain, &trust, &req("matrix.example.org", None)).contains(&Rule::Crt001)
    );
    let standard = leaf(&ca, &["example.org", "*.example.org"]);
    assert_eq!(
        rules(&standard.fullchain, &trust, &req("example.org", None)),
        vec![]
    );
}

#[test]
fn unreadable_chains_are_errors_not_panics() {
    let dir = std::env::temp_dir().join(format!("fedns-lint-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_pem = lint_support::write(&dir, "not.pem", "hello");
    assert!(
        load_pem_chain(&not_pem)
            .unwrap_err()
            .to_string()
            .contains("no PEM certificate")
    );
    let broken = lint_support::write(
        &dir,
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    assert!(load_pem_chain(&broken).is_err());
    assert!(
        load_pem_chain(&dir.join("missing.pem"))
            .unwrap_err()
            .to_string()
            .contains("cannot read")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
