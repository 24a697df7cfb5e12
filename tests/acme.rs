//! The loop `fedns check` asks for, closed end to end over loopback: an
//! ACME DNS-01 challenge written into a fedns zone by RFC 2136 UPDATE with
//! TSIG, validated by a real ACME server through fedns, and the issued
//! certificate then checked by `fedns check --cert`.
//!
//! Pebble (the ACME test CA, its validation pointed at fedns with
//! `-dnsserver`) with two real clients: lego (`--dns rfc2136`, what Traefik
//! embeds) and certbot with certbot-dns-rfc2136. The certificate for the
//! server name passes `fedns check`; one for the SRV target only fails it
//! with CRT002, as the lint promises.
//!
//! Skips (with a message) when a tool is missing, unless FEDNS_INTEROP=1.

mod common;

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{
    ServerProcess, TempDir, free_port, output_within, serial_at, spawn_on_port, wait_until,
};

const SECRET: &str = "h2sOGgwTDCAdkOiEo5Uqzd4z4LdDD4iHmk5R4A1fR7s=";
const WAIT: Duration = Duration::from_secs(30);
const CLIENT_LIMIT: Duration = Duration::from_secs(180);

/// example.org delegates its Matrix federation to synapse.example.org by
/// SRV: the certificate there must be valid for example.org.
const ZONE: &str = "$ORIGIN example.org.
$TTL 3600
@         IN SOA ns1 hostmaster 2026120601 3600 600 1209600 300
@         IN NS  ns1
ns1       IN A   127.0.0.1
synapse   IN A   127.0.0.1
_matrix-fed._tcp IN SRV 10 0 8448 synapse
";

struct Lab {
    dir: TempDir,
    dns_port: u16,
    zone_file: PathBuf,
    _fedns: ServerProcess,
    _pebble: ServerProcess,
    acme_port: u16,
    management_port: u16,
    pebble_tls: PathBuf,
}

impl Lab {
    /// fedns serving example.org with an ACME key limited to
    /// `_acme-challenge` TXT records, and Pebble validating through it.
    fn start(tools: &[&str]) -> Option<Lab> {
        for t in tools.iter().chain(&["pebble", "openssl", "curl"]) {
            common::peer(t)?;
        }
        let dir = TempDir::new("acme");
        let dns_port = free_port();
        let zone_file = dir.path().join("example.org.zone");
        fs::write(&zone_file, ZONE).unwrap();
        let config = dir.path().join("fedns.toml");
        fs::write(
            &config,
            format!(
                "listen = [\"127.0.0.1:{dns_port}\"]\n\
                 [[tsig_key]]\nname = \"acme-key\"\nsecret = \"{SECRET}\"\n\
                 [[zone]]\nname = \"example.org\"\nfile = \"example.org.zone\"\n\
                 [[zone.update]]\nkey = \"acme-key\"\nnames = [\"_acme-challenge.*\"]\ntypes = [\"TXT\"]\n"
            ),
        )
        .unwrap();
        let fedns = common::serve_fedns(
            "fedns",
            dir.path(),
            dns_port,
            &["--config".as_ref(), config.as_os_str()],
            "example.org.",
        );

        // Pebble's own HTTPS listener needs a certificate: minted here.
        let (key, cert) = (
            dir.path().join("pebble-key.pem"),
            dir.path().join("pebble-cert.pem"),
        );
        let mut openssl = Command::new("openssl");
        openssl
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert);
        assert!(output_within(openssl, WAIT).status.success());
        let (acme_port, management_port) = (free_port(), free_port());
        let pebble_config = dir.path().join("pebble.json");
        fs::write(
            &pebble_config,
            format!(
                r#"{{"pebble": {{"listenAddress": "127.0.0.1:{acme_port}", "managementListenAddress": "127.0.0.1:{management_port}", "certificate": "{}", "privateKey": "{}", "httpPort": {}, "tlsPort": {}, "ocspResponderURL": "", "externalAccountBindingRequired": false}}}}"#,
                cert.display(),
                key.display(),
                free_port(),
                free_port()
            ),
        )
        .unwrap();
        let mut p = Command::new("pebble");
        p.arg("-config")
            .arg(&pebble_config)
            .arg("-dnsserver")
            .arg(format!("127.0.0.1:{dns_port}"))
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0");
        let pebble = spawn_on_port("pebble", dir.path(), acme_port, p).unwrap();
        wait_until(WAIT, || {
            Ok(TcpStream::connect(("127.0.0.1", acme_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", management_port)).is_ok())
        })
        .unwrap_or_else(|e| panic!("pebble: {e}\n{}", pebble.log_tail(20)));
        Some(Lab {
            dir,
            dns_port,
            zone_file,
            _fedns: fedns,
            _pebble: pebble,
            acme_port,
            management_port,
            pebble_tls: cert,
        })
    }

    fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme_port)
    }

    /// Pebble's root (made at its start), for `fedns check --ca`.
    fn root(&self) -> PathBuf {
        let root = self.dir.path().join("pebble-root.pem");
        let mut curl = Command::new("curl");
        curl.arg("-sf")
            .arg("--cacert")
            .arg(&self.pebble_tls)
            .arg(format!(
                "https://127.0.0.1:{}/roots/0",
                self.management_port
            ))
            .arg("-o")
            .arg(&root);
        let out = output_within(curl, WAIT);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        root
    }

    /// A certificate for `domain` from lego, through fedns.
    fn lego(&self, domain: &str) -> PathBuf {
        let path = self.dir.path().join("lego");
        let mut c = Command::new("lego");
        c.env("LEGO_CA_CERTIFICATES", &self.pebble_tls)
            .env("RFC2136_NAMESERVER", format!("127.0.0.1:{}", self.dns_port))
            .env("RFC2136_TSIG_KEY", "acme-key")
            .env("RFC2136_TSIG_SECRET", SECRET)
            .env("RFC2136_TSIG_ALGORITHM", "hmac-sha256.")
            .env("RFC2136_PROPAGATION_TIMEOUT", "60")
            .env("RFC2136_POLLING_INTERVAL", "1")
            .arg("--server")
            .arg(self.directory())
            .args(["--email", "admin@example.org", "--accept-tos", "--path"])
            .arg(&path)
            .args(["--dns", "rfc2136", "--dns.resolvers"])
            .arg(format!("127.0.0.1:{}", self.dns_port))
            // Its own propagation check would ask the zone's NS on port 53.
            .arg("--dns.disable-cp")
            .args(["--domains", domain, "run"]);
        let out = output_within(c, CLIENT_LIMIT);
        assert!(
            out.status.success(),
            "lego for {domain}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        path.join("certificates").join(format!("{domain}.crt"))
    }

    /// A certificate for `domain` from certbot and its RFC 2136 plugin.
    fn certbot(&self, domain: &str) -> PathBuf {
        let credentials = self.dir.path().join("rfc2136.ini");
        fs::write(
            &credentials,
            format!(
                "dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = {}\ndns_rfc2136_name = acme-key\n\
                 dns_rfc2136_secret = {SECRET}\ndns_rfc2136_algorithm = HMAC-SHA256\n",
                self.dns_port
            ),
        )
        .unwrap();
        set_private(&credentials);
        let base = self.dir.path().join("certbot");
        let mut c = Command::new("certbot");
        c.env("REQUESTS_CA_BUNDLE", &self.pebble_tls)
            .args([
                "certonly",
                "--non-interactive",
                "--agree-tos",
                "-m",
                "admin@example.org",
            ])
            .arg("--server")
            .arg(self.directory())
            .arg("--dns-rfc2136")
            .arg("--dns-rfc2136-credentials")
            .arg(&credentials)
            .args(["--dns-rfc2136-propagation-seconds", "1", "-d", domain])
            .arg("--config-dir")
            .arg(base.join("config"))
            .arg("--work-dir")
            .arg(base.join("work"))
            .arg("--logs-dir")
            .arg(base.join("logs"));
        let out = output_within(c, CLIENT_LIMIT);
        assert!(
            out.status.success(),
            "certbot for {domain}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        base.join("config")
            .join("live")
            .join(domain)
            .join("fullchain.pem")
    }

    /// The CRT rules `fedns check --cert synapse.example.org=CHAIN` reports.
    fn crt_findings(&self, chain: &Path) -> Vec<String> {
        let mut c = Command::new(common::fedns_bin());
        c.arg("check")
            .arg(&self.zone_file)
            .arg("--cert")
            .arg(format!("synapse.example.org={}", chain.display()))
            .arg("--ca")
            .arg(self.root())
            .args(["--format", "json"]);
        let out = output_within(c, WAIT);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "fedns check JSON: {e}: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .filter(|r| r.starts_with("CRT"))
            .map(String::from)
            .collect()
    }

    /// Every challenge record was cleaned up again.
    fn assert_no_challenge_left(&self) {
        let answer = common::query_udp(
            common::loopback(self.dns_port),
            &common::make_query(
                &hickory_proto::rr::Name::from_ascii("_acme-challenge.example.org.").unwrap(),
                hickory_proto::rr::RecordType::TXT,
                Some(1232),
            ),
            Duration::from_secs(2),
        )
        .unwrap();
        assert!(answer.answers.is_empty(), "{:?}", answer.answers);
    }
}

fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn lego_gets_the_certificate_the_lint_asks_for_through_fedns() {
    let Some(lab) = Lab::start(&["lego"]) else {
        return;
    };
    let right = lab.lego("example.org");
    assert_eq!(lab.crt_findings(&right), Vec::<String>::new());
    // The classic mistake: a certificate for the SRV target only.
    let wrong = lab.lego("synapse.example.org");
    assert_eq!(lab.crt_findings(&wrong), vec!["CRT002"]);
    lab.assert_no_challenge_left();
    assert!(serial_at(lab.dns_port, "example.org.").unwrap() >= 2026120605);
}

#[test]
fn certbot_with_its_rfc2136_plugin_gets_it_too() {
    let Some(lab) = Lab::start(&["certbot"]) else {
        return;
    };
    let chain = lab.certbot("example.org");
    assert_eq!(lab.crt_findings(&chain), Vec::<String>::new());
    lab.assert_no_challenge_left();
    assert!(serial_at(lab.dns_port, "example.org.").unwrap() >= 2026120603);
}
