//! Server names, `.well-known` delegations, and the name a certificate must
//! be valid for, as the lint sees them.
//!
//! The Matrix spec (server-server API, "Resolving server names") defines the
//! grammar of a server name, `hostname [ ":" port ]` with hostname an IPv4
//! literal, a bracketed IPv6 literal or a DNS name, and the same grammar for
//! the `m.server` value of `/.well-known/matrix/server`. From the declared
//! server name S and its `.well-known`, [`certificate_name`] computes the name
//! N a peer checks the certificate against (the delegated host D when
//! `.well-known` delegates, S otherwise). The shared resolution algorithm of
//! `fedns explain` lives in `crate::matrix`; this module keeps the small part
//! the lint needs so that the two can evolve separately.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use hickory_proto::rr::Name;

use crate::zone::{Place, Zone};

/// Server names and `.well-known` bodies are parsed by the one grammar of
/// the [`crate::matrix`] module (what `fedns explain` uses); these are its
/// errors.
pub use crate::matrix::server_name::ServerNameError;
pub use crate::matrix::well_known::WellKnownError;

/// The host part of a server name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// An IPv4 or IPv6 literal (no SNI; the certificate needs an iPAddress SAN).
    Ip(IpAddr),
    /// A DNS name (absolute).
    Dns(Name),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Dns(name) => f.write_str(&display_name(name)),
        }
    }
}

/// A server name or `m.server` value: `hostname [":" port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddress {
    /// The host.
    pub host: Host,
    /// The explicit port, if any (an explicit port disables SRV lookups).
    pub port: Option<u16>,
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// A name without its trailing dot, as people write server names.
pub fn display_name(name: &Name) -> String {
    let text = name.to_string();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => text,
    }
}

/// Parses a server name by the spec grammar (`hostname [":" port]`,
/// hostname = IPv4 / "[" IPv6 "]" / dns-name), with
/// [`crate::matrix::ServerName::parse`]; surrounding white space is ignored.
pub fn parse_server_address(text: &str) -> Result<ServerAddress, ServerNameError> {
    ServerAddress::of(&crate::matrix::ServerName::parse(text.trim())?)
}

impl ServerAddress {
    /// The lint's view of a parsed server name: the host as an absolute DNS
    /// name (or an IP literal) and the port.
    pub fn of(name: &crate::matrix::ServerName) -> Result<ServerAddress, ServerNameError> {
        let host = match name.host() {
            crate::matrix::Host::Ip(ip) => Host::Ip(*ip),
            crate::matrix::Host::Dns(text) => Host::Dns(
                name.dns_name()
                    .ok_or_else(|| ServerNameError::NotADnsName(text.clone()))?,
            ),
        };
        Ok(ServerAddress {
            host,
            port: name.port(),
        })
    }
}

/// Parses a `.well-known/matrix/server` body into its `m.server` value,
/// with [`crate::matrix::well_known::parse_body`].
pub fn parse_well_known_body(body: &[u8]) -> Result<ServerAddress, WellKnownError> {
    let name = crate::matrix::well_known::parse_body(body)?;
    ServerAddress::of(&name).map_err(|error| WellKnownError::BadServer {
        value: name.as_str().to_owned(),
        error,
    })
}

/// The name a certificate must be valid for (N in the catalogue).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CertName {
    /// A DNS name, matched against dNSName SANs.
    Dns(Name),
    /// An IP literal, matched against iPAddress SANs (and sent without SNI).
    Ip(IpAddr),
}

impl CertName {
    /// The DNS name, if it is one.
    pub fn dns(&self) -> Option<&Name> {
        match self {
            CertName::Dns(name) => Some(name),
            CertName::Ip(_) => None,
        }
    }
}

impl From<&Host> for CertName {
    fn from(host: &Host) -> CertName {
        match host {
            Host::Ip(ip) => CertName::Ip(*ip),
            Host::Dns(name) => CertName::Dns(name.clone()),
        }
    }
}

impl fmt::Display for CertName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertName::Dns(name) => f.write_str(&display_name(name)),
            CertName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The name a peer checks the certificate against when it resolves `server`
/// (spec table, last column): an IP literal stands for itself; an explicit
/// port keeps the server name's host; a valid `.well-known` moves it to the
/// delegated host; otherwise it is the server name, whatever the SRV target.
pub fn certificate_name(server: &ServerAddress, well_known: Option<&ServerAddress>) -> CertName {
    match (&server.host, server.port, well_known) {
        (Host::Ip(ip), _, _) => CertName::Ip(*ip),
        (host, Some(_), _) => CertName::from(host),
        (_, None, Some(delegated)) => CertName::from(&delegated.host),
        (host, None, None) => CertName::from(host),
    }
}

/// A `.well-known` delegation declared for a server name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredWellKnown {
    /// The text given (an `m.server` value, or a JSON body for --well-known).
    pub raw: String,
    /// The parsed `m.server`, or why it is invalid.
    pub parsed: Result<ServerAddress, WellKnownError>,
    /// The `[[matrix]]` section it came from; `None` for --well-known.
    pub place: Option<Place>,
}

/// A server name S the lint knows about.
#[derive(Clone, Debug)]
pub struct DeclaredServer {
    /// The server name as written.
    pub text: String,
    /// The parsed server name.
    pub address: ServerAddress,
    /// The `.well-known` delegation served for it, if declared.
    pub well_known: Option<DeclaredWellKnown>,
    /// The `[[matrix]]` section that declared it; `None` for --server-name.
    pub place: Option<Place>,
    /// The certificate chain served at its targets (from `[[matrix]]`,
    /// resolved against the zone file's directory).
    pub certificate: Option<PathBuf>,
    /// The origin of the zone that declared it, if any.
    pub zone: Option<Name>,
}

impl DeclaredServer {
    /// The server name as a DNS name, if it is one.
    pub fn dns_name(&self) -> Option<&Name> {
        match &self.address.host {
            Host::Dns(name) => Some(name),
            Host::Ip(_) => None,
        }
    }

    /// The valid `m.server` of its `.well-known`, if any.
    pub fn delegated(&self) -> Option<&ServerAddress> {
        self.well_known
            .as_ref()
            .and_then(|w| w.parsed.as_ref().ok())
    }

    /// The name its certificate must be valid for.
    pub fn certificate_name(&self) -> CertName {
        certificate_name(&self.address, self.delegated())
    }
}

/// Every server name and `.well-known` delegation the lint knows about.
#[derive(Clone, Debug, Default)]
pub struct Declared {
    /// In declaration order (zones first, then the command line).
    pub servers: Vec<DeclaredServer>,
}

impl Declared {
    /// The server names declared by the `[[matrix]]` sections of `zones`.
    pub fn from_zones(zones: &[&Zone]) -> Declared {
        let mut declared = Declared::default();
        for zone in zones {
            for m in &zone.matrix {
                let text = display_name(&m.server_name);
                let well_known = m.well_known.as_ref().map(|raw| DeclaredWellKnown {
                    raw: raw.clone(),
                    parsed: parse_server_address(raw).map_err(|error| WellKnownError::BadServer {
                        value: raw.to_owned(),
                        error,
                    }),
                    place: Some(m.place.clone()),
                });
                let certificate = m
                    .certificate
                    .as_ref()
                    .map(|c| relative_to(zone.source.as_deref(), c));
                declared.servers.push(DeclaredServer {
                    text,
                    address: ServerAddress {
                        host: Host::Dns(m.server_name.clone()),
                        port: None,
                    },
                    well_known,
                    place: Some(m.place.clone()),
                    certificate,
                    zone: Some(zone.origin.clone()),
                });
            }
        }
        declared
    }

    /// Adds a server name from the command line (unless a zone declared it).
    pub fn add_server_name(&mut self, text: &str) -> Result<(), ServerNameError> {
        let address = parse_server_address(text)?;
        if self.find_address(&address).is_none() {
            self.servers.push(DeclaredServer {
                text: text.trim().to_owned(),
                address,
                well_known: None,
                place: None,
                certificate: None,
                zone: None,
            });
        }
        Ok(())
    }

    /// Declares the `.well-known` body served for `server` (--well-known
    /// S=JSON), adding S if it is new. The body may be invalid: that is a
    /// finding (WK003), not an argument error.
    pub fn set_well_known(&mut self, server: &str, body: &str) -> Result<(), ServerNameError> {
        self.add_server_name(server)?;
        let address = parse_server_address(server)?;
        let declared = DeclaredWellKnown {
            raw: body.to_owned(),
            parsed: parse_well_known_body(body.as_bytes()),
            place: None,
        };
        if let Some(i) = self.find_address(&address) {
            self.servers[i].well_known = Some(declared);
        }
        Ok(())
    }

    fn find_address(&self, address: &ServerAddress) -> Option<usize> {
        self.servers
            .iter()
            .position(|s| same_address(&s.address, address))
    }

    /// The declared server whose name is `name` (case-insensitive).
    pub fn server(&self, name: &Name) -> Option<&DeclaredServer> {
        self.servers
            .iter()
            .find(|s| s.dns_name().is_some_and(|n| same_name(n, name)))
    }

    /// Whether `name` is a declared server name.
    pub fn is_server_name(&self, name: &Name) -> bool {
        self.server(name).is_some()
    }

    /// The servers whose valid `.well-known` delegates to host `name`.
    pub fn delegating_to<'a>(
        &'a self,
        name: &'a Name,
    ) -> impl Iterator<Item = &'a DeclaredServer> + 'a {
        self.servers.iter().filter(move |s| {
            s.delegated()
                .is_some_and(|d| matches!(&d.host, Host::Dns(h) if same_name(h, name)))
        })
    }

    /// Whether `name` is a delegated host D of some server name.
    pub fn is_delegated_host(&self, name: &Name) -> bool {
        self.delegating_to(name).next().is_some()
    }
}

/// Names equal case-insensitively (and regardless of the trailing dot).
pub fn same_name(a: &Name, b: &Name) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.set_fqdn(true);
    b.set_fqdn(true);
    a.to_lowercase() == b.to_lowercase()
}

fn same_address(a: &ServerAddress, b: &ServerAddress) -> bool {
    a.port == b.port
        && match (&a.host, &b.host) {
            (Host::Dns(x), Host::Dns(y)) => same_name(x, y),
            (x, y) => x == y,
        }
}

/// `path` relative to the directory of `zone_file` (absolute paths unchanged).
pub fn relative_to(zone_file: Option<&Path>, path: &Path) -> PathBuf {
    match zone_file.and_then(Path::parent) {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn parses_the_server_name_grammar() {
        let a = parse_server_address("example.org").unwrap();
        assert_eq!(a.host, Host::Dns(name("example.org.")));
        assert_eq!(a.port, None);
        let a = parse_server_address("matrix.example.org:8448").unwrap();
        assert_eq!(
            (a.to_string(), a.port),
            ("matrix.example.org:8448".to_owned(), Some(8448))
        );
        assert_eq!(
            parse_server_address("192.0.2.1").unwrap().host,
            Host::Ip("192.0.2.1".parse().unwrap())
        );
        let v6 = parse_server_address("[2001:db8::1]:443").unwrap();
        assert_eq!(
            (v6.host, v6.port),
            (Host::Ip("2001:db8::1".parse().unwrap()), Some(443))
        );
        assert_eq!(
            parse_server_address("[2001:db8::1]").unwrap().to_string(),
            "[2001:db8::1]"
        );
    }

    #[test]
    fn rejects_what_the_grammar_does_not_allow() {
        assert_eq!(parse_server_address(""), Err(ServerNameError::Empty));
        assert!(matches!(
            parse_server_address("example.org:"),
            Err(ServerNameError::BadPort(_))
        ));
        assert!(matches!(
            parse_server_address("example.org:123456"),
            Err(ServerNameError::BadPort(_))
        ));
        assert!(matches!(
            parse_server_address("example.org:70000"),
            Err(ServerNameError::PortOutOfRange(70000))
        ));
        assert!(matches!(
            parse_server_address("exa_mple.org"),
            Err(ServerNameError::BadChar { c: '_', .. })
        ));
        assert!(parse_server_address("https://example.org").is_err());
        assert!(matches!(
            parse_server_address("[::g]"),
            Err(ServerNameError::BadIpv6(_))
        ));
    }

    #[test]
    fn parses_well_known_bodies() {
        let d = parse_well_known_body(br#"{"m.server": "matrix.example.org:443"}"#).unwrap();
        assert_eq!(d.to_string(), "matrix.example.org:443");
        assert!(matches!(
            parse_well_known_body(b"<html>"),
            Err(WellKnownError::BadJson {
                line: 1,
                column: 1,
                ..
            })
        ));
        assert_eq!(
            parse_well_known_body(b"[1]"),
            Err(WellKnownError::NotAnObject("an array"))
        );
        assert_eq!(parse_well_known_body(b"{}"), Err(WellKnownError::NoServer));
        assert_eq!(
            parse_well_known_body(br#"{"m.server": 1}"#),
            Err(WellKnownError::ServerNotString("a number"))
        );
        assert!(matches!(
            parse_well_known_body(br#"{"m.server": "a b"}"#),
            Err(WellKnownError::BadServer { .. })
        ));
        let big = vec![b' '; crate::matrix::well_known::MAX_BODY_BYTES + 1];
        assert_eq!(
            parse_well_known_body(&big),
            Err(WellKnownError::TooLarge(
                crate::matrix::well_known::MAX_BODY_BYTES + 1
            ))
        );
    }

    #[test]
    fn certificate_name_follows_the_spec_table() {
        let s = parse_server_address("example.org").unwrap();
        let d = parse_server_address("matrix.example.org").unwrap();
        let d_port = parse_server_address("matrix.example.org:443").unwrap();
        let ip = parse_server_address("192.0.2.1").unwrap();
        // Steps 4-6: no .well-known: the server name, whatever the SRV target.
        assert_eq!(certificate_name(&s, None).to_string(), "example.org");
        // Steps 3.2-3.5: the delegated host.
        assert_eq!(
            certificate_name(&s, Some(&d)).to_string(),
            "matrix.example.org"
        );
        assert_eq!(
            certificate_name(&s, Some(&d_port)).to_string(),
            "matrix.example.org"
        );
        // Step 3.1: an IP literal in m.server.
        assert_eq!(
            certificate_name(&s, Some(&ip)),
            CertName::Ip("192.0.2.1".parse().unwrap())
        );
        // Step 1 and 2: IP literal, explicit port: .well-known is not fetched.
        assert_eq!(
            certificate_name(&ip, Some(&d)),
            CertName::Ip("192.0.2.1".parse().unwrap())
        );
        let s_port = parse_server_address("example.org:8448").unwrap();
        assert_eq!(
            certificate_name(&s_port, Some(&d)).to_string(),
            "example.org"
        );
    }

    #[test]
    fn declared_names_merge_and_match_case_insensitively() {
        let mut d = Declared::default();
        d.add_server_name("Example.org").unwrap();
        d.add_server_name("example.org").unwrap();
        assert_eq!(d.servers.len(), 1);
        d.set_well_known("example.org", r#"{"m.server":"matrix.example.org"}"#)
            .unwrap();
        assert!(d.is_server_name(&name("EXAMPLE.org.")));
        assert!(d.is_delegated_host(&name("matrix.example.org.")));
        assert_eq!(
            d.servers[0].certificate_name().to_string(),
            "matrix.example.org"
        );
        d.set_well_known("other.org", "not json").unwrap();
        assert!(d.servers[1].well_known.as_ref().unwrap().parsed.is_err());
        assert!(d.add_server_name("bad name").is_err());
    }

    #[test]
    fn certificate_paths_are_relative_to_the_zone_file() {
        assert_eq!(
            relative_to(
                Some(Path::new("zones/example.org.toml")),
                Path::new("certs/a.pem")
            ),
            PathBuf::from("zones/certs/a.pem")
        );
        assert_eq!(
            relative_to(Some(Path::new("zones/x.toml")), Path::new("/etc/a.pem")),
            PathBuf::from("/etc/a.pem")
        );
        assert_eq!(
            relative_to(None, Path::new("a.pem")),
            PathBuf::from("a.pem")
        );
    }
}
