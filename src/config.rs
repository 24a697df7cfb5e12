//! `fedns.toml`: the server's configuration file.
//!
//! ```toml
//! listen = ["127.0.0.1:5300", "[::1]:5300"]
//! zones_dir = "zones"            # every *.toml and *.zone file in it
//! # zones = ["zones/example.org.toml"]   # or exactly these files
//! data_dir = "data"             # where secondary zones are kept on disk
//! [tcp]
//! max_connections = 512
//! idle_timeout = "10s"
//!
//! [[tsig_key]]                   # as `tsig-keygen` prints it
//! name = "xfr-key"
//! algorithm = "hmac-sha256"
//! secret = "base64..."
//!
//! [transfer]                     # the default for every zone:
//! allow = ["127.0.0.0/8", "key:xfr-key"]   # who may transfer it
//! notify = ["127.0.0.2:53"]                # whom to NOTIFY when it changes
//! notify_key = "xfr-key"
//!
//! [[zone]]                       # a zone with its own settings
//! name = "example.org"
//! file = "zones/example.org.toml"          # a primary zone from this file
//! allow = ["key:xfr-key"]                  # overrides [transfer] for it
//! notify = ["127.0.0.3:53"]
//!
//! serial_policy = "increment"             # or "unixtime", on dynamic updates
//!
//! [[zone.update]]                # who may change what by RFC 2136 UPDATE
//! key = "acme-key"                         # a [[tsig_key]]
//! names = ["_acme-challenge.*"]            # relative to the zone; * = any labels
//! types = ["TXT"]                          # absent: every type
//!
//! [[zone]]
//! name = "example.net"
//! primaries = ["127.0.0.1:5301", "127.0.0.2:5301"]   # a secondary, tried in order
//! tsig_key = "xfr-key"
//! forward_updates = true                   # UPDATE goes to the primaries
//! transfer_tls = "strict"                  # XoT: or "opportunistic"
//! tls_ca = "ca.pem"                        # strict: the primary's CA ...
//! tls_name = "ns1.example.net"             # ... and the name its certificate carries
//!
//! [tls]                          # DNS over TLS and QUIC, XoT as primary
//! listen = ["127.0.0.1:853"]
//! quic_listen = ["127.0.0.1:853"]
//! certificate = "tls/fullchain.pem"
//! key = "tls/key.pem"
//! ```
//!
//! `[[secondary]]` (`zone`, `primaries`, `tsig_key`) is the older spelling
//! of a `[[zone]]` with primaries, and still accepted.
//!
//! Relative paths are relative to the directory of the configuration file.
//! Command-line flags override what the file says.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::zone::duration::parse_duration;
use crate::zone::toml_zone::line_column;

/// A configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {cause}")]
    Read {
        /// The file.
        path: String,
        /// Why (not a `source`: the message already carries it).
        cause: std::io::Error,
    },
    /// The file is not valid: `file:line:column: message`.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
}

/// The parsed configuration, paths resolved against the file's directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Addresses to serve on (UDP and TCP).
    pub listen: Vec<SocketAddr>,
    /// Directory of zone files.
    pub zones_dir: Option<PathBuf>,
    /// Individual zone files.
    pub zones: Vec<PathBuf>,
    /// Maximum concurrent TCP connections.
    pub tcp_max_connections: Option<usize>,
    /// Idle timeout of a TCP connection.
    pub tcp_idle_timeout: Option<Duration>,
    /// TCP connections per client address.
    pub tcp_max_per_client: Option<usize>,
    /// How long a TCP connection may stay open.
    pub tcp_lifetime: Option<Duration>,
    /// Worker tasks per UDP socket.
    pub udp_workers: Option<usize>,
    /// Where secondary zones are written after each transfer (default:
    /// `data` beside the configuration file).
    pub data_dir: Option<PathBuf>,
    /// The `fedns ctl` socket (default: `fedns.sock` in the data directory
    /// when a configuration file is used; off otherwise).
    pub control_socket: Option<PathBuf>,
    /// TSIG keys.
    pub tsig_keys: Vec<TsigKeyConfig>,
    /// Zones this server is a secondary for (`[[secondary]]`, and
    /// `[[zone]]` tables with primaries).
    pub secondaries: Vec<SecondaryConfig>,
    /// Zones with their own settings (`[[zone]]`), secondaries included.
    pub zone_settings: Vec<ZoneSettings>,
    /// Who may transfer our zones (address ranges and `key:NAME`); empty = nobody.
    pub transfer_allow: Vec<TransferRule>,
    /// Secondaries to NOTIFY when a zone's serial changes.
    pub notify: Vec<SocketAddr>,
    /// The key NOTIFY messages are signed with, if any.
    pub notify_key: Option<String>,
    /// Where to serve Prometheus metrics (`GET /metrics`); off when absent.
    pub metrics_listen: Option<SocketAddr>,
    /// Where to serve the read-only lab dashboard ([`crate::web::dashboard`]);
    /// off when absent.
    pub web_listen: Option<SocketAddr>,
    /// DNS over TLS: `[tls]`.
    pub tls: Option<TlsSettings>,
    /// Run as this user after binding (`fedns serve --user`).
    pub user: Option<String>,
    /// Response rate limiting, when `[rate_limit]` is present.
    pub rate_limit: Option<crate::server::rrl::RrlConfig>,
    /// The NSID sent to clients that ask (RFC 5001): a text, or the host
    /// name (`nsid = true`); off when absent.
    pub nsid: Option<Setting>,
    /// The answer to `id.server` / `hostname.bind` (default: the NSID text,
    /// else the host name).
    pub identity: Option<String>,
    /// The answer to `version.server` / `version.bind`: a text, or fedns's
    /// own version (`version = true`); hidden when absent or `false`.
    pub version: Option<Setting>,
    /// DNS cookies: on with a random secret unless configured otherwise.
    pub cookies: Cookies,
}

/// The `[cookies]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cookies {
    /// On, with a secret made at start (the default).
    #[default]
    RandomSecret,
    /// On, with these secrets.
    Secrets(crate::server::cookies::CookieSecrets),
    /// Off (`enabled = false`).
    Off,
}

/// A setting that is a text, or `true` for fedns's default text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `true`: the default (the host name, fedns's version).
    Default,
    /// This text.
    Text(String),
}

/// A TSIG key as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsigKeyConfig {
    /// Key name (`xfr-key`).
    pub name: String,
    /// `hmac-sha256` (default), `hmac-sha384`, `hmac-sha512` or `hmac-sha1`.
    pub algorithm: String,
    /// Base64 secret.
    pub secret: String,
}

/// One secondary zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecondaryConfig {
    /// The zone apex.
    pub zone: hickory_proto::rr::Name,
    /// Primaries to transfer from and accept NOTIFY from, in order of preference.
    pub primaries: Vec<SocketAddr>,
    /// The key transfers and NOTIFY with the primaries are signed with.
    pub tsig_key: Option<String>,
    /// A catalog zone (RFC 9432) whose members become secondary zones here.
    pub catalog: bool,
    /// Transfers from the primaries over TLS (XoT), and how they are authenticated.
    pub tls: Option<PrimaryTls>,
    /// The client certificate and key (PEM) shown to the primaries over TLS.
    pub tls_client: Option<(PathBuf, PathBuf)>,
}

/// How a secondary zone authenticates its primaries over TLS (RFC 9103
/// section 9.3): `transfer_tls` in its `[[zone]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrimaryTls {
    /// The certificate must chain to `ca` and carry `name`.
    Strict {
        /// A PEM file of CA certificates.
        ca: PathBuf,
        /// The name the primary's certificate must carry.
        name: String,
    },
    /// Encrypted, the certificate not checked.
    Opportunistic,
}

pub use crate::xfr::policy::TransferRule;

/// `[tls]`: DNS over TLS (RFC 7858) and zone transfers over TLS (RFC 9103).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// Where to serve DNS over TLS (TCP port 853 by convention).
    pub listen: Vec<SocketAddr>,
    /// Where to serve DNS over QUIC (UDP port 853 by convention).
    pub quic_listen: Vec<SocketAddr>,
    /// The certificate chain, PEM, leaf first.
    pub certificate: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    /// CA certificates (PEM) that client certificates may chain to (mutual
    /// TLS for transfers: `allow = ["tls+cert"]`); clients without one
    /// still get DNS over TLS.
    pub client_ca: Option<PathBuf>,
}

/// A `[[zone]]` table: one zone's own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneSettings {
    /// The zone apex.
    pub name: hickory_proto::rr::Name,
    /// The file of a primary zone.
    pub file: Option<PathBuf>,
    /// Who may transfer it (`None`: the `[transfer]` default).
    pub allow: Option<Vec<TransferRule>>,
    /// Whom to NOTIFY (`None`: the `[transfer]` default).
    pub notify: Option<Vec<SocketAddr>>,
    /// The key NOTIFY is signed with (`None`: the `[transfer]` default).
    pub notify_key: Option<String>,
    /// Its role if it is a catalog zone (RFC 9432).
    pub catalog: Option<crate::xfr::catalog::CatalogRole>,
    /// Who may update it (a primary zone; empty: no updates).
    pub update_rules: Vec<crate::update::policy::UpdateRule>,
    /// How updates move its serial.
    pub serial_policy: crate::update::policy::SerialPolicy,
    /// A secondary zone passes updates on to its primaries.
    pub forward_updates: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    listen: Vec<toml::Spanned<String>>,
    zones_dir: Option<PathBuf>,
    #[serde(default)]
    zones: Vec<PathBuf>,
    udp_workers: Option<usize>,
    #[serde(default)]
    tcp: RawTcp,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    tsig_key: Vec<toml::Spanned<RawTsigKey>>,
    #[serde(default)]
    secondary: Vec<toml::Spanned<RawSecondary>>,
    #[serde(default)]
    zone: Vec<toml::Spanned<RawZone>>,
    control_socket: Option<PathBuf>,
    #[serde(default)]
    transfer: RawTransfer,
    rate_limit: Option<RawRateLimit>,
    user: Option<String>,
    metrics_listen: Option<toml::Spanned<String>>,
    web_listen: Option<toml::Spanned<String>>,
    nsid: Option<toml::Spanned<toml::Value>>,
    identity: Option<String>,
    version: Option<toml::Spanned<toml::Value>>,
    cookies: Option<RawCookies>,
    tls: Option<toml::Spanned<RawTls>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    #[serde(default)]
    listen: Vec<toml::Spanned<String>>,
    #[serde(default)]
    quic_listen: Vec<toml::Spanned<String>>,
    certificate: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCookies {
    enabled: Option<bool>,
    secret: Option<toml::Spanned<String>>,
    previous_secret: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    responses_per_second: Option<u32>,
    window: Option<toml::Spanned<String>>,
    slip: Option<u32>,
    ipv4_prefix: Option<u8>,
    ipv6_prefix: Option<u8>,
    #[serde(default)]
    exempt: Vec<toml::Spanned<String>>,
    limit_loopback: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTsigKey {
    name: String,
    #[serde(default = "default_tsig_algorithm")]
    algorithm: String,
    secret: String,
}

fn default_tsig_algorithm() -> String {
    "hmac-sha256".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecondary {
    zone: String,
    primaries: Vec<toml::Spanned<String>>,
    tsig_key: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    name: String,
    file: Option<PathBuf>,
    #[serde(default)]
    primaries: Vec<toml::Spanned<String>>,
    tsig_key: Option<toml::Spanned<String>>,
    allow: Option<Vec<toml::Spanned<String>>>,
    notify: Option<Vec<toml::Spanned<String>>>,
    notify_key: Option<toml::Spanned<String>>,
    catalog: Option<toml::Spanned<String>>,
    #[serde(default)]
    update: Vec<toml::Spanned<RawUpdateRule>>,
    serial_policy: Option<toml::Spanned<String>>,
    forward_updates: Option<toml::Spanned<bool>>,
    transfer_tls: Option<toml::Spanned<String>>,
    tls_ca: Option<PathBuf>,
    tls_name: Option<String>,
    tls_client_certificate: Option<PathBuf>,
    tls_client_key: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpdateRule {
    key: toml::Spanned<String>,
    #[serde(default)]
    names: Vec<toml::Spanned<String>>,
    #[serde(default)]
    types: Vec<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTransfer {
    #[serde(default)]
    allow: Vec<toml::Spanned<String>>,
    #[serde(default)]
    notify: Vec<toml::Spanned<String>>,
    notify_key: Option<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTcp {
    max_connections: Option<usize>,
    max_connections_per_client: Option<usize>,
    max_connection_time: Option<toml::Spanned<String>>,
    idle_timeout: Option<toml::Spanned<String>>,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.display().to_string(),
            cause,
        })?;
        Config::parse(&text, path)
    }

    /// Parses configuration text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            ConfigError::Invalid {
                path: path.display().to_string(),
                line,
                column,
                message,
            }
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            invalid(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_owned(),
            )
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        let mut listen = Vec::new();
        for addr in &raw.listen {
            let parsed = addr.get_ref().parse::<SocketAddr>().map_err(|_| {
                invalid(addr.span().start, format!("bad listen address {:?}: write ADDRESS:PORT, e.g. \"127.0.0.1:5300\" or \"[::1]:5300\"", addr.get_ref()))
            })?;
            listen.push(parsed);
        }
        let tcp_idle_timeout = match &raw.tcp.idle_timeout {
            Some(t) => Some(Duration::from_secs(u64::from(
                parse_duration(t.get_ref())
                    .map_err(|e| invalid(t.span().start, format!("tcp.idle_timeout: {e}")))?,
            ))),
            None => None,
        };
        let mut tsig_keys = Vec::new();
        for key in &raw.tsig_key {
            let k = key.get_ref();
            crate::proto::tsig::TsigKey::new(&k.name, &k.algorithm, &k.secret)
                .map_err(|e| invalid(key.span().start, format!("tsig_key {:?}: {e}", k.name)))?;
            if tsig_keys
                .iter()
                .any(|t: &TsigKeyConfig| t.name.eq_ignore_ascii_case(&k.name))
            {
                return Err(invalid(
                    key.span().start,
                    format!("tsig_key {:?} is defined twice", k.name),
                ));
            }
            tsig_keys.push(TsigKeyConfig {
                name: k.name.clone(),
                algorithm: k.algorithm.clone(),
                secret: k.secret.clone(),
            });
        }
        let known_key = |name: &toml::Spanned<String>| -> Result<String, ConfigError> {
            if tsig_keys
                .iter()
                .any(|t| t.name.eq_ignore_ascii_case(name.get_ref()))
            {
                Ok(name.get_ref().clone())
            } else {
                Err(invalid(
                    name.span().start,
                    format!("no [[tsig_key]] named {:?}", name.get_ref()),
                ))
            }
        };
        let socket_addr = |addr: &toml::Spanned<String>, what: &str| {
            addr.get_ref().parse::<SocketAddr>().map_err(|_| {
                invalid(
                    addr.span().start,
                    format!(
                        "bad {what} address {:?}: write ADDRESS:PORT, e.g. \"127.0.0.1:53\"",
                        addr.get_ref()
                    ),
                )
            })
        };
        let zone_name = |text: &str, at: usize, what: &str| {
            let mut zone = hickory_proto::rr::Name::from_ascii(text)
                .map_err(|e| invalid(at, format!("bad {what} {text:?}: {e}")))?;
            zone.set_fqdn(true);
            Ok::<_, ConfigError>(zone)
        };
        let primaries_of = |list: &[toml::Spanned<String>]| {
            list.iter()
                .map(|p| socket_addr(p, "primary"))
                .collect::<Result<Vec<_>, _>>()
        };
        let allow_rules = |rules: &[toml::Spanned<String>]| {
            rules
                .iter()
                .map(|rule| {
                    let text = rule.get_ref();
                    if text == "tls+cert" {
                        return Ok(TransferRule::TlsClientCertificate(None));
                    }
                    if let Some(range) = text.strip_prefix("tls+cert:") {
                        return range
                            .parse::<ipnet::IpNet>()
                            .or_else(|_| range.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                            .map(|net| TransferRule::TlsClientCertificate(Some(net)))
                            .map_err(|_| invalid(rule.span().start, format!("bad allow entry {text:?}: write \"tls+cert\" or \"tls+cert:ADDRESS-RANGE\"")));
                    }
                    if let Some(key) = text.strip_prefix("tls+key:") {
                        return known_key(&toml::Spanned::new(rule.span(), key.to_string()))
                            .map(TransferRule::TlsKey);
                    }
                    if let Some(key) = text.strip_prefix("key:") {
                        return known_key(&toml::Spanned::new(rule.span(), key.to_string()))
                            .map(TransferRule::Key);
                    }
                    let (tls, range) = match text.strip_prefix("tls:") {
                        Some(range) => (true, range),
                        None => (false, text.as_str()),
                    };
                    range.parse::<ipnet::IpNet>()
                        .or_else(|_| range.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map(|net| if tls { TransferRule::TlsNetwork(net) } else { TransferRule::Network(net) })
                        .map_err(|_| invalid(rule.span().start, format!("bad allow entry {text:?}: write an address range (\"127.0.0.0/8\"), \"key:NAME\", or either with \"tls:\" / \"tls+key:\" to require a transfer over TLS")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let mut secondaries = Vec::new();
        for sec in &raw.secondary {
            let s = sec.get_ref();
            let zone = zone_name(&s.zone, sec.span().start, "secondary zone")?;
            if s.primaries.is_empty() {
                return Err(invalid(
                    sec.span().start,
                    format!("secondary {zone} needs at least one primary"),
                ));
            }
            secondaries.push(SecondaryConfig {
                zone,
                primaries: primaries_of(&s.primaries)?,
                tsig_key: s.tsig_key.as_ref().map(known_key).transpose()?,
                catalog: false,
                tls: None,
                tls_client: None,
            });
        }
        let mut zone_settings: Vec<ZoneSettings> = Vec::new();
        for table in &raw.zone {
            let z = table.get_ref();
            let at = table.span().start;
            let name = zone_name(&z.name, at, "zone name")?;
            if zone_settings.iter().any(|s| s.name == name)
                || secondaries.iter().any(|s| s.zone == name)
            {
                return Err(invalid(at, format!("zone {name} is configured twice")));
            }
            use crate::xfr::catalog::CatalogRole;
            let catalog = match &z.catalog {
                None => None,
                Some(role) => match role.get_ref().as_str() {
                    "consumer" => Some(CatalogRole::Consumer),
                    "producer" => Some(CatalogRole::Producer),
                    other => {
                        return Err(invalid(
                            role.span().start,
                            format!(
                                "bad catalog role {other:?}: write \"consumer\" (a secondary catalog zone whose members fedns serves) or \"producer\" (a catalog fedns writes, listing its primary zones)"
                            ),
                        ));
                    }
                },
            };
            match (&z.file, z.primaries.is_empty(), catalog) {
                (None, true, Some(CatalogRole::Producer)) => {}
                (_, _, Some(CatalogRole::Producer)) => {
                    return Err(invalid(
                        at,
                        format!(
                            "zone {name} is a catalog fedns produces: it has no file and no primaries"
                        ),
                    ));
                }
                (_, true, Some(CatalogRole::Consumer)) => {
                    return Err(invalid(
                        at,
                        format!("zone {name} is a catalog fedns consumes: it needs primaries"),
                    ));
                }
                (Some(_), false, _) => {
                    return Err(invalid(
                        at,
                        format!(
                            "zone {name} has both a file and primaries: a zone is a primary (file) or a secondary (primaries)"
                        ),
                    ));
                }
                (None, true, None) => {
                    return Err(invalid(
                        at,
                        format!(
                            "zone {name} needs a file (a primary zone) or primaries (a secondary zone)"
                        ),
                    ));
                }
                (None, false, _) => secondaries.push(SecondaryConfig {
                    zone: name.clone(),
                    primaries: primaries_of(&z.primaries)?,
                    tsig_key: z.tsig_key.as_ref().map(known_key).transpose()?,
                    catalog: catalog.is_some(),
                    tls: match &z.transfer_tls {
                        None => None,
                        Some(mode) => match (mode.get_ref().as_str(), &z.tls_ca, &z.tls_name) {
                            ("opportunistic", _, _) => Some(PrimaryTls::Opportunistic),
                            ("strict", Some(ca), Some(tls_name)) => Some(PrimaryTls::Strict {
                                ca: base.join(ca),
                                name: tls_name.clone(),
                            }),
                            ("strict", _, _) => {
                                return Err(invalid(
                                    mode.span().start,
                                    format!("zone {name}: transfer_tls = \"strict\" needs tls_ca (the CA file) and tls_name (the name in the primary's certificate)"),
                                ));
                            }
                            (other, _, _) => {
                                return Err(invalid(
                                    mode.span().start,
                                    format!("bad transfer_tls {other:?}: write \"strict\" (with tls_ca and tls_name) or \"opportunistic\""),
                                ));
                            }
                        },
                    },
                    tls_client: match (&z.tls_client_certificate, &z.tls_client_key) {
                        (Some(c), Some(k)) => Some((base.join(c), base.join(k))),
                        (None, None) => None,
                        _ => {
                            return Err(invalid(
                                at,
                                format!("zone {name}: tls_client_certificate and tls_client_key go together"),
                            ));
                        }
                    },
                }),
                (Some(_), true, _) => {
                    if let Some(key) = &z.tsig_key {
                        return Err(invalid(
                            key.span().start,
                            format!(
                                "tsig_key is for a secondary zone's primaries; zone {name} has a file (use allow = [\"key:NAME\"] for transfers out)"
                            ),
                        ));
                    }
                }
            }
            let is_secondary = !z.primaries.is_empty();
            let forward_updates = z.forward_updates.as_ref().is_some_and(|f| *f.get_ref());
            if let Some(f) = &z.forward_updates
                && *f.get_ref()
                && !is_secondary
            {
                return Err(invalid(
                    f.span().start,
                    format!(
                        "forward_updates is for secondary zones; zone {name} is a primary (give it [[zone.update]] rules)"
                    ),
                ));
            }
            let mut update_rules = Vec::new();
            for rule in &z.update {
                if is_secondary || z.file.is_none() {
                    return Err(invalid(
                        rule.span().start,
                        format!(
                            "[[zone.update]] is for primary zones with a file; zone {name} {}",
                            if is_secondary {
                                "is a secondary (set forward_updates = true to pass updates to its primaries)"
                            } else {
                                "has no file"
                            }
                        ),
                    ));
                }
                let r = rule.get_ref();
                let key_name = known_key(&r.key)?;
                let mut key = hickory_proto::rr::Name::from_ascii(&key_name)
                    .map_err(|e| invalid(r.key.span().start, format!("bad key name: {e}")))?;
                key.set_fqdn(true);
                if r.names.is_empty() {
                    return Err(invalid(
                        rule.span().start,
                        format!(
                            "[[zone.update]] for key {key_name:?} needs names = [...]: which names of {name} it may change (\"_acme-challenge.*\", \"@\", \"*\", \"self\")"
                        ),
                    ));
                }
                let names = r
                    .names
                    .iter()
                    .map(|n| {
                        crate::update::policy::NamePattern::parse(n.get_ref(), &name).map_err(|e| {
                            invalid(
                                n.span().start,
                                format!("bad update name pattern {:?}: {e}", n.get_ref()),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let types = r
                    .types
                    .iter()
                    .filter(|t| !t.get_ref().eq_ignore_ascii_case("ANY"))
                    .map(|t| {
                        t.get_ref()
                            .to_ascii_uppercase()
                            .parse::<hickory_proto::rr::RecordType>()
                            .ok()
                            .filter(|rt| !matches!(rt, hickory_proto::rr::RecordType::Unknown(_)))
                            .ok_or_else(|| {
                                invalid(
                                    t.span().start,
                                    format!("unknown record type {:?}", t.get_ref()),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                update_rules.push(crate::update::policy::UpdateRule { key, names, types });
            }
            let serial_policy = match &z.serial_policy {
                None => Default::default(),
                Some(p) => match p.get_ref().as_str() {
                    "increment" => crate::update::policy::SerialPolicy::Increment,
                    "unixtime" => crate::update::policy::SerialPolicy::UnixTime,
                    other => {
                        return Err(invalid(
                            p.span().start,
                            format!(
                                "bad serial_policy {other:?}: write \"increment\" or \"unixtime\""
                            ),
                        ));
                    }
                },
            };
            zone_settings.push(ZoneSettings {
                name,
                update_rules,
                serial_policy,
                forward_updates,
                file: z.file.as_ref().map(|f| base.join(f)),
                allow: z.allow.as_deref().map(allow_rules).transpose()?,
                notify: z
                    .notify
                    .as_ref()
                    .map(|list| list.iter().map(|a| socket_addr(a, "notify")).collect())
                    .transpose()?,
                notify_key: z.notify_key.as_ref().map(known_key).transpose()?,
                catalog,
            });
        }
        let transfer_allow = allow_rules(&raw.transfer.allow)?;
        let notify = raw
            .transfer
            .notify
            .iter()
            .map(|a| socket_addr(a, "notify"))
            .collect::<Result<Vec<_>, _>>()?;
        let notify_key = raw
            .transfer
            .notify_key
            .as_ref()
            .map(known_key)
            .transpose()?;
        let rate_limit = match &raw.rate_limit {
            None => None,
            Some(r) => {
                let mut rrl = crate::server::rrl::RrlConfig::default();
                if let Some(n) = r.responses_per_second {
                    rrl.responses_per_second = n.max(1);
                }
                if let Some(w) = &r.window {
                    let secs = parse_duration(w.get_ref())
                        .map_err(|e| invalid(w.span().start, format!("rate_limit.window: {e}")))?;
                    rrl.window = Duration::from_secs(u64::from(secs.max(1)));
                }
                if let Some(n) = r.slip {
                    rrl.slip = n;
                }
                if let Some(p) = r.ipv4_prefix {
                    rrl.ipv4_prefix = p.min(32);
                }
                if let Some(p) = r.ipv6_prefix {
                    rrl.ipv6_prefix = p.min(128);
                }
                for e in &r.exempt {
                    let text = e.get_ref();
                    let net = text
                        .parse::<ipnet::IpNet>()
                        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| invalid(e.span().start, format!("bad rate_limit.exempt entry {text:?}: write an address range such as \"10.0.0.0/8\"")))?;
                    rrl.exempt.push(net);
                }
                if let Some(b) = r.limit_loopback {
                    rrl.limit_loopback = b;
                }
                Some(rrl)
            }
        };
        let tcp_lifetime = match &raw.tcp.max_connection_time {
            Some(t) => Some(Duration::from_secs(u64::from(
                parse_duration(t.get_ref())
                    .map_err(|e| invalid(t.span().start, format!("tcp.max_connection_time: {e}")))?
                    .max(1),
            ))),
            None => None,
        };
        let setting = |value: &Option<toml::Spanned<toml::Value>>, what: &str| match value {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                toml::Value::Boolean(false) => Ok(None),
                toml::Value::Boolean(true) => Ok(Some(Setting::Default)),
                toml::Value::String(text) if !text.is_empty() && text.len() <= 255 => {
                    Ok(Some(Setting::Text(text.clone())))
                }
                _ => Err(invalid(
                    v.span().start,
                    format!(
                        "{what}: write a text of 1 to 255 characters, or true (the default), or false (off)"
                    ),
                )),
            },
        };
        let nsid = setting(&raw.nsid, "nsid")?;
        let secret = |value: &toml::Spanned<String>, what: &str| -> Result<[u8; 16], ConfigError> {
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(value.get_ref().as_bytes())
                .ok()
                .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    invalid(
                        value.span().start,
                        format!("cookies.{what}: write 16 bytes in hex (32 hex digits), e.g. from `openssl rand -hex 16`"),
                    )
                })
        };
        let cookies = match &raw.cookies {
            None => Cookies::RandomSecret,
            Some(c) if c.enabled == Some(false) => Cookies::Off,
            Some(c) => match &c.secret {
                None => Cookies::RandomSecret,
                Some(current) => Cookies::Secrets(crate::server::cookies::CookieSecrets {
                    current: secret(current, "secret")?,
                    previous: c
                        .previous_secret
                        .as_ref()
                        .map(|p| secret(p, "previous_secret"))
                        .transpose()?,
                }),
            },
        };
        let version = setting(&raw.version, "version")?;
        Ok(Config {
            cookies,
            nsid,
            identity: raw.identity,
            version,
            data_dir: raw.data_dir.map(|d| base.join(d)),
            control_socket: raw.control_socket.map(|p| base.join(p)),
            tsig_keys,
            secondaries,
            zone_settings,
            transfer_allow,
            notify,
            notify_key,
            rate_limit,
            user: raw.user,
            tls: match &raw.tls {
                None => None,
                Some(t) => {
                    let table = t.get_ref();
                    if table.listen.is_empty() && table.quic_listen.is_empty() {
                        return Err(invalid(
                            t.span().start,
                            "[tls] needs listen = [\"ADDRESS:853\"] (DNS over TLS) or quic_listen = [\"ADDRESS:853\"] (DNS over QUIC)".to_string(),
                        ));
                    }
                    Some(TlsSettings {
                        listen: table
                            .listen
                            .iter()
                            .map(|a| socket_addr(a, "tls.listen"))
                            .collect::<Result<_, _>>()?,
                        quic_listen: table
                            .quic_listen
                            .iter()
                            .map(|a| socket_addr(a, "tls.quic_listen"))
                            .collect::<Result<_, _>>()?,
                        certificate: base.join(&table.certificate),
                        key: base.join(&table.key),
                        client_ca: table.client_ca.as_ref().map(|p| base.join(p)),
                    })
                }
            },
            metrics_listen: raw
                .metrics_listen
                .as_ref()
                .map(|a| socket_addr(a, "metrics_listen"))
                .transpose()?,
            web_listen: raw
                .web_listen
                .as_ref()
                .map(|a| socket_addr(a, "web_listen"))
                .transpose()?,
            listen,
            zones_dir: raw.zones_dir.map(|d| base.join(d)),
            zones: raw.zones.into_iter().map(|z| base.join(z)).collect(),
            tcp_max_connections: raw.tcp.max_connections,
            tcp_idle_timeout,
            tcp_max_per_client: raw.tcp.max_connections_per_client,
            tcp_lifetime,
            udp_workers: raw.udp_workers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let text = "listen = [\"127.0.0.1:5300\", \"[::1]:5300\"]\nzones_dir = \"zones\"\n[tcp]\nmax_connections = 10\nidle_timeout = \"5s\"\n";
        let config = Config::parse(text, Path::new("/etc/fedns/fedns.toml")).unwrap();
        assert_eq!(config.listen.len(), 2);
        assert_eq!(config.zones_dir, Some(PathBuf::from("/etc/fedns/zones")));
        assert_eq!(config.tcp_max_connections, Some(10));
        assert_eq!(config.tcp_idle_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn bad_listen_address_names_line_and_column() {
        let text = "zones_dir = \"zones\"\nlisten = [\"localhost\"]\n";
        let err = Config::parse(text, Path::new("fedns.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("fedns.toml:2:11: bad listen address"),
            "{err}"
        );
    }

    #[test]
    fn web_listen_is_an_address_or_an_error_at_its_place() {
        let c =
            Config::parse("web_listen = \"127.0.0.1:8053\"\n", Path::new("fedns.toml")).unwrap();
        assert_eq!(c.web_listen, Some("127.0.0.1:8053".parse().unwrap()));
        assert_eq!(Config::default().web_listen, None);
        let err = Config::parse(
            "zones_dir = \"z\"\nweb_listen = \"localhost:80\"\n",
            Path::new("fedns.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("fedns.toml:2:") && err.contains("web_listen"),
            "{err}"
        );
    }

    const SECRET: &str = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ==";

    #[test]
    fn parses_transfer_settings() {
        let text = format!(
            "data_dir = \"data\"\n[[tsig_key]]\nname = \"xfr-key\"\nsecret = \"{SECRET}\"\n[[secondary]]\nzone = \"example.org\"\nprimaries = [\"127.0.0.1:5301\"]\ntsig_key = \"xfr-key\"\n[transfer]\nallow = [\"127.0.0.0/8\", \"::1\", \"key:xfr-key\"]\nnotify = [\"127.0.0.2:53\"]\n"
        );
        let c = Config::parse(&text, Path::new("/etc/fedns/fedns.toml")).unwrap();
        assert_eq!(c.data_dir, Some(PathBuf::from("/etc/fedns/data")));
        assert_eq!(c.tsig_keys[0].algorithm, "hmac-sha256");
        assert_eq!(c.secondaries[0].zone.to_string(), "example.org.");
        assert_eq!(c.transfer_allow.len(), 3);
        assert_eq!(c.transfer_allow[2], TransferRule::Key("xfr-key".into()));
        assert_eq!(c.notify.len(), 1);
    }

    #[test]
    fn parses_update_policies_and_names_every_mistake() {
        let keys = format!("[[tsig_key]]\nname = \"acme\"\nsecret = \"{SECRET}\"\n");
        let primary = "[[zone]]\nname = \"example.org\"\nfile = \"z.zone\"\n";
        let good = format!(
            "{keys}{primary}serial_policy = \"unixtime\"\n[[zone.update]]\nkey = \"acme\"\nnames = [\"_acme-challenge.*\", \"@\"]\ntypes = [\"TXT\", \"caa\"]\n\
             [[zone]]\nname = \"example.net\"\nprimaries = [\"127.0.0.1:53\"]\nforward_updates = true\n"
        );
        let c = Config::parse(&good, Path::new("f.toml")).unwrap();
        let zone = &c.zone_settings[0];
        assert_eq!(zone.update_rules.len(), 1);
        assert_eq!(
            zone.update_rules[0].types,
            vec![
                hickory_proto::rr::RecordType::TXT,
                hickory_proto::rr::RecordType::CAA
            ]
        );
        assert_eq!(
            zone.serial_policy,
            crate::update::policy::SerialPolicy::UnixTime
        );
        assert!(c.zone_settings[1].forward_updates);
        for (text, want) in [
            (
                format!("{keys}{primary}[[zone.update]]\nkey = \"nokey\"\nnames = [\"*\"]\n"),
                "f.toml:8:7: no [[tsig_key]] named \"nokey\"",
            ),
            (
                format!("{keys}{primary}[[zone.update]]\nkey = \"acme\"\n"),
                "needs names = [...]",
            ),
            (
                format!("{keys}{primary}[[zone.update]]\nkey = \"acme\"\nnames = [\"a..b\"]\n"),
                "f.toml:9:10: bad update name pattern \"a..b\"",
            ),
            (
                format!(
                    "{keys}{primary}[[zone.update]]\nkey = \"acme\"\nnames = [\"x.example.net.\"]\n"
                ),
                "is not inside zone example.org.",
            ),
            (
                format!(
                    "{keys}{primary}[[zone.update]]\nkey = \"acme\"\nnames = [\"*\"]\ntypes = [\"TXTT\"]\n"
                ),
                "f.toml:10:10: unknown record type \"TXTT\"",
            ),
            (
                format!("{keys}{primary}serial_policy = \"date\"\n"),
                "bad serial_policy \"date\"",
            ),
            (
                format!("{keys}{primary}forward_updates = true\n"),
                "forward_updates is for secondary zones",
            ),
            (
                format!(
                    "{keys}[[zone]]\nname = \"example.net\"\nprimaries = [\"127.0.0.1:53\"]\n[[zone.update]]\nkey = \"acme\"\nnames = [\"*\"]\n"
                ),
                "[[zone.update]] is for primary zones",
            ),
        ] {
            let err = Config::parse(&text, Path::new("f.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{text}\nwant {want}\ngot {err}");
        }
    }

    #[test]
    fn parses_tls_settings_and_names_every_mistake() {
        let keys = format!("[[tsig_key]]\nname = \"xfr\"\nsecret = \"{SECRET}\"\n");
        let good = format!(
            "{keys}[tls]\nlisten = [\"127.0.0.1:853\"]\nquic_listen = [\"127.0.0.1:853\"]\ncertificate = \"c.pem\"\nkey = \"k.pem\"\nclient_ca = \"ca.pem\"\n\
             [[zone]]\nname = \"example.org\"\nfile = \"z.zone\"\nallow = [\"tls:127.0.0.0/8\", \"tls+key:xfr\", \"tls+cert\", \"tls+cert:10.0.0.0/8\"]\n\
             [[zone]]\nname = \"example.net\"\nprimaries = [\"127.0.0.1:853\"]\ntransfer_tls = \"strict\"\ntls_ca = \"ca.pem\"\ntls_name = \"ns1.example.net\"\n\
             tls_client_certificate = \"me.pem\"\ntls_client_key = \"me-key.pem\"\n"
        );
        let c = Config::parse(&good, Path::new("/etc/fedns/f.toml")).unwrap();
        let tls = c.tls.as_ref().unwrap();
        assert_eq!(tls.certificate, PathBuf::from("/etc/fedns/c.pem"));
        assert_eq!(tls.client_ca, Some(PathBuf::from("/etc/fedns/ca.pem")));
        assert_eq!(tls.quic_listen.len(), 1);
        assert_eq!(c.zone_settings[0].allow.as_ref().map(Vec::len), Some(4));
        assert_eq!(
            c.secondaries[0].tls,
            Some(PrimaryTls::Strict {
                ca: PathBuf::from("/etc/fedns/ca.pem"),
                name: "ns1.example.net".into()
            })
        );
        assert!(c.secondaries[0].tls_client.is_some());
        let secondary = "[[zone]]\nname = \"example.net\"\nprimaries = [\"127.0.0.1:853\"]\n";
        for (text, want) in [
            (
                "[tls]\ncertificate = \"c.pem\"\nkey = \"k.pem\"\n".to_string(),
                "f.toml:1:1: [tls] needs listen",
            ),
            (
                "[tls]\nlisten = [\"localhost\"]\ncertificate = \"c.pem\"\nkey = \"k.pem\"\n"
                    .to_string(),
                "f.toml:2:11: bad tls.listen",
            ),
            (
                "[tls]\nlisten = [\"127.0.0.1:853\"]\nkey = \"k.pem\"\n".to_string(),
                "missing field `certificate`",
            ),
            (
                format!("{secondary}transfer_tls = \"sometimes\"\n"),
                "f.toml:4:16: bad transfer_tls \"sometimes\"",
            ),
            (
                format!("{secondary}transfer_tls = \"strict\"\ntls_ca = \"ca.pem\"\n"),
                "transfer_tls = \"strict\" needs tls_ca",
            ),
            (
                format!(
                    "{secondary}transfer_tls = \"opportunistic\"\ntls_client_certificate = \"me.pem\"\n"
                ),
                "tls_client_certificate and tls_client_key go together",
            ),
            (
                format!("{keys}[transfer]\nallow = [\"tls+cert:nowhere\"]\n"),
                "f.toml:5:10: bad allow entry \"tls+cert:nowhere\"",
            ),
            (
                format!("{keys}[transfer]\nallow = [\"tls+key:nokey\"]\n"),
                "no [[tsig_key]] named \"nokey\"",
            ),
        ] {
            let err = Config::parse(&text, Path::new("f.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{text}\nwant {want}\ngot {err}");
        }
    }

    #[test]
    fn parses_rate_limiting() {
        let text = "[rate_limit]\nresponses_per_second = 10\nwindow = \"5s\"\nslip = 3\nexempt = [\"10.0.0.0/8\"]\n";
        let c = Config::parse(text, Path::new("f.toml")).unwrap();
        let r = c.rate_limit.unwrap();
        assert_eq!(
            (r.responses_per_second, r.window, r.slip, r.exempt.len()),
            (10, Duration::from_secs(5), 3, 1)
        );
        assert!(
            Config::parse("", Path::new("f.toml"))
                .unwrap()
                .rate_limit
                .is_none(),
            "off unless configured"
        );
        let e = Config::parse("[rate_limit]\nexempt = [\"nope\"]\n", Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml:2:11: bad rate_limit.exempt"), "{e}");
    }

    #[test]
    fn transfer_settings_errors_name_their_place() {
        let undefined = "[[secondary]]\nzone = \"example.org\"\nprimaries = [\"127.0.0.1:53\"]\ntsig_key = \"nope\"\n";
        let e = Config::parse(undefined, Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.toml:4:12: no [[tsig_key]] named \"nope\""),
            "{e}"
        );
        let bad_net = "[transfer]\nallow = [\"10.0.0.0/33\"]\n";
        let e = Config::parse(bad_net, Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml:2:10: bad allow entry"), "{e}");
        let bad_secret = "[[tsig_key]]\nname = \"k\"\nsecret = \"!!\"\n";
        let e = Config::parse(bad_secret, Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("base64"), "{e}");
        let bad_primary = "[[secondary]]\nzone = \"example.org\"\nprimaries = [\"localhost\"]\n";
        let e = Config::parse(bad_primary, Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml:3:14: bad primary address"), "{e}");
    }

    #[test]
    fn zone_tables_give_per_zone_settings_and_secondaries() {
        let text = format!(
            "[[tsig_key]]\nname = \"k\"\nsecret = \"{SECRET}\"\n[transfer]\nallow = [\"key:k\"]\n\
             [[zone]]\nname = \"example.org\"\nfile = \"zones/example.org.toml\"\nallow = [\"127.0.0.0/8\"]\nnotify = [\"127.0.0.2:53\"]\nnotify_key = \"k\"\n\
             [[zone]]\nname = \"example.net\"\nprimaries = [\"127.0.0.1:5301\", \"[::1]:5301\"]\ntsig_key = \"k\"\n"
        );
        let c = Config::parse(&text, Path::new("/etc/fedns/fedns.toml")).unwrap();
        let org = &c.zone_settings[0];
        assert_eq!(
            org.file,
            Some(PathBuf::from("/etc/fedns/zones/example.org.toml"))
        );
        assert_eq!(org.allow.as_ref().map(Vec::len), Some(1));
        assert_eq!(org.notify_key.as_deref(), Some("k"));
        assert_eq!(c.secondaries.len(), 1);
        assert_eq!(c.secondaries[0].zone.to_ascii(), "example.net.");
        assert_eq!(c.secondaries[0].primaries.len(), 2, "tried in order");
        assert!(c.zone_settings[1].allow.is_none(), "the [transfer] default");
    }

    #[test]
    fn zone_table_errors_name_their_place() {
        let cases = [
            (
                "[[zone]]\nname = \"a.test\"\nfile = \"a\"\nprimaries = [\"127.0.0.1:53\"]\n",
                "f.toml:1:1: zone a.test. has both a file and primaries",
            ),
            (
                "[[zone]]\nname = \"a.test\"\n",
                "f.toml:1:1: zone a.test. needs a file",
            ),
            (
                "[[zone]]\nname = \"a.test\"\nfile = \"a\"\n[[zone]]\nname = \"A.TEST.\"\nfile = \"b\"\n",
                "f.toml:4:1: zone A.TEST. is configured twice",
            ),
            (
                "[[zone]]\nname = \"a.test\"\nfile = \"a\"\nallow = [\"everyone\"]\n",
                "f.toml:4:10: bad allow entry \"everyone\"",
            ),
            (
                "[[zone]]\nname = \"a.test\"\nprimaries = [\"nowhere\"]\n",
                "f.toml:3:14: bad primary address",
            ),
            (
                "[[zone]]\nname = \"a.test\"\nfile = \"a\"\nnotify_key = \"nokey\"\n",
                "f.toml:4:14: no [[tsig_key]] named \"nokey\"",
            ),
            (
                "[[zone]]\nname = \"a..test\"\nfile = \"a\"\n",
                "f.toml:1:1: bad zone name",
            ),
            (
                "[[zone]]\nname = \"a.test\"\nfile = \"a\"\nprimary = []\n",
                "f.toml:4:1: unknown field `primary`",
            ),
        ];
        for (text, expected) in cases {
            let e = Config::parse(text, Path::new("f.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(expected), "{text:?}: {e}");
        }
    }

    #[test]
    fn identity_settings_are_texts_or_booleans() {
        let c = Config::parse("nsid = \"ns1-fra\"\nversion = true\n", Path::new("f.toml")).unwrap();
        assert_eq!(c.nsid, Some(Setting::Text("ns1-fra".into())));
        assert_eq!(c.version, Some(Setting::Default));
        let off = Config::parse("nsid = false\n", Path::new("f.toml")).unwrap();
        assert_eq!((off.nsid, off.version), (None, None));
        for bad in ["nsid = 3\n", "version = \"\"\n"] {
            let e = Config::parse(bad, Path::new("f.toml"))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("f.toml:1:") && e.contains("a text of 1 to 255"),
                "{e}"
            );
        }
    }

    #[test]
    fn cookie_secrets_are_16_bytes_of_hex() {
        let c = Config::parse(
            "[cookies]\nsecret = \"e5e973e5a6b2a43f48e7dc849e37bfcf\"\nprevious_secret = \"00112233445566778899aabbccddeeff\"\n",
            Path::new("f.toml"),
        )
        .unwrap();
        let Cookies::Secrets(secrets) = c.cookies else {
            panic!("{:?}", c.cookies)
        };
        assert_eq!(secrets.current[0], 0xe5);
        assert_eq!(secrets.previous.map(|p| p[15]), Some(0xff));
        assert_eq!(
            Config::parse("", Path::new("f.toml")).unwrap().cookies,
            Cookies::RandomSecret,
            "on by default"
        );
        assert_eq!(
            Config::default().cookies,
            Cookies::RandomSecret,
            "without a file too"
        );
        let off = Config::parse("[cookies]\nenabled = false\n", Path::new("f.toml")).unwrap();
        assert_eq!(off.cookies, Cookies::Off);
        let e = Config::parse("[cookies]\nsecret = \"abc\"\n", Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.toml:2:10: cookies.secret: write 16 bytes in hex"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_is_an_error_with_its_place() {
        let err = Config::parse("listn = []\n", Path::new("fedns.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("fedns.toml:1:1:"), "{err}");
        assert!(err.contains("unknown field"), "{err}");
    }
}
