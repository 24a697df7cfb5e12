//! Matrix server names: parsing `S` (and the `m.server` of a `.well-known`)
//! by the grammar of the Matrix spec, appendix "Server Name":
//!
//! ```text
//! server_name = hostname [ ":" port ]
//! port        = 1*5DIGIT
//! hostname    = IPv4address / "[" IPv6address "]" / dns-name
//! IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
//! dns-name    = 1*255dns-char
//! dns-char    = DIGIT / ALPHA / "-" / "."
//! ```
//!
//! On top of the grammar, a name must be usable: an IPv4 literal has octets
//! up to 255, an IPv6 literal parses, a DNS name has no empty label and no
//! label over 63 octets (RFC 1035 2.3.4), a port is 1..=65535.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::Name;

/// The longest dns-name the grammar allows.
pub const MAX_DNS_NAME_LEN: usize = 255;
/// The longest DNS label (RFC 1035 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// Why a string is not a server name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServerNameError {
    /// Nothing was given.
    #[error("a server name cannot be empty")]
    Empty,
    /// A character the grammar does not allow.
    #[error(
        "{c:?} at position {position} is not allowed: a server name is a host name (letters, digits, '-', '.'), an IPv4 address or an [IPv6] address, with an optional :port"
    )]
    BadChar {
        /// The character.
        c: char,
        /// 1-based position in the text, in characters.
        position: usize,
    },
    /// A URL or something with a path was given.
    #[error("write the server name alone (e.g. example.org or example.org:8448), not a URL")]
    LooksLikeUrl,
    /// `a..b`, `.a`, or similar.
    #[error("{0:?} has an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel(String),
    /// Server names are written without the root dot.
    #[error("{0:?} ends in a dot: write the server name without it")]
    TrailingDot(String),
    /// A label over 63 octets.
    #[error("the label {0:?} is longer than 63 characters (RFC 1035 2.3.4)")]
    LabelTooLong(String),
    /// A host name over 255 characters.
    #[error("the host name is {0} characters long; at most 255 are allowed")]
    TooLong(usize),
    /// Four dotted numbers that are not an IPv4 address.
    #[error("{0:?} looks like an IPv4 address but is not one (each of the four numbers is 0..255)")]
    BadIpv4(String),
    /// `[...]` that is not an IPv6 address.
    #[error("{0:?} is not an IPv6 address")]
    BadIpv6(String),
    /// `[` without `]`.
    #[error("an IPv6 literal needs a closing ']' (e.g. [2001:db8::1]:8448)")]
    UnclosedBracket,
    /// An IPv6 address without brackets.
    #[error("an IPv6 address must be written in brackets, e.g. [{0}] or [{0}]:8448")]
    UnbracketedIpv6(String),
    /// Something after `]` that is not `:port`.
    #[error("after an [IPv6] literal only :port may follow, not {0:?}")]
    AfterBracket(String),
    /// `:` followed by something that is not 1 to 5 digits.
    #[error("bad port {0:?}: a port is 1 to 5 digits")]
    BadPort(String),
    /// A port of 0 or over 65535.
    #[error("port {0} is out of range (1..65535)")]
    PortOutOfRange(u32),
    /// Text the grammar accepts that still makes no DNS name.
    #[error("{0:?} does not make a DNS name")]
    NotADnsName(String),
}

/// The host part of a server name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A DNS name, as written (case kept; compare case-insensitively).
    Dns(String),
}

/// A parsed server name (or `m.server` value): host and optional port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerName {
    text: String,
    host: Host,
    port: Option<u16>,
}

impl ServerName {
    /// Parses `text` by the spec's grammar (see the module documentation).
    pub fn parse(text: &str) -> Result<ServerName, ServerNameError> {
        if text.is_empty() {
            return Err(ServerNameError::Empty);
        }
        if text.contains("://") || text.contains('/') {
            return Err(ServerNameError::LooksLikeUrl);
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inner, after) = rest
                .split_once(']')
                .ok_or(ServerNameError::UnclosedBracket)?;
            let ip: Ipv6Addr = inner
                .parse()
                .map_err(|_| ServerNameError::BadIpv6(inner.to_owned()))?;
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(p) => Some(parse_port(p)?),
                    None => return Err(ServerNameError::AfterBracket(after.to_owned())),
                },
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        } else {
            let (host, port) = match text.split_once(':') {
                Some((host, port)) if port.contains(':') => {
                    return Err(ServerNameError::UnbracketedIpv6(format!("{host}:{port}")));
                }
                Some((host, port)) => (host, Some(parse_port(port)?)),
                None => (text, None),
            };
            (parse_host(host)?, port)
        };
        Ok(ServerName {
            text: text.to_owned(),
            host,
            port,
        })
    }

    /// The server name exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host part.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The explicit port, if one was written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The IP address, when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.host {
            Host::Ip(ip) => Some(ip),
            Host::Dns(_) => None,
        }
    }

    /// The host as text: the DNS name as written, or the IP address without brackets.
    pub fn host_text(&self) -> String {
        match &self.host {
            Host::Ip(ip) => ip.to_string(),
            Host::Dns(name) => name.clone(),
        }
    }

    /// The host as an absolute DNS name, when it is one.
    pub fn dns_name(&self) -> Option<Name> {
        match &self.host {
            Host::Dns(text) => {
                let mut name = Name::from_ascii(text).ok()?;
                name.set_fqdn(true);
                Some(name)
            }
            Host::Ip(_) => None,
        }
    }

    /// True when the host has upper-case letters (names compare
    /// case-insensitively, but lower case is what people expect).
    pub fn has_upper_case(&self) -> bool {
        matches!(&self.host, Host::Dns(name) if name.chars().any(|c| c.is_ascii_uppercase()))
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for ServerName {
    type Err = ServerNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerName::parse(s)
    }
}

/// `1*5DIGIT`, in 1..=65535.
fn parse_port(text: &str) -> Result<u16, ServerNameError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ServerNameError::BadPort(text.to_owned()));
    }
    let value: u32 = text
        .parse()
        .map_err(|_| ServerNameError::BadPort(text.to_owned()))?;
    match u16::try_from(value) {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(ServerNameError::PortOutOfRange(value)),
    }
}

/// An IPv4 literal or a dns-name (not bracketed).
fn parse_host(text: &str) -> Result<Host, ServerNameError> {
    if text.is_empty() {
        return Err(ServerNameError::Empty);
    }
    if let Some((position, c)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(ServerNameError::BadChar {
            c,
            position: position + 1,
        });
    }
    if let Some(ip) = ipv4_literal(text)? {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    if text.len() > MAX_DNS_NAME_LEN {
        return Err(ServerNameError::TooLong(text.len()));
    }
    if text.ends_with('.') && !text.starts_with('.') && !text.contains("..") {
        return Err(ServerNameError::TrailingDot(text.to_owned()));
    }
    for label in text.split('.') {
        if label.is_empty() {
            return Err(ServerNameError::EmptyLabel(text.to_owned()));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(ServerNameError::LabelTooLong(label.to_owned()));
        }
    }
    // The checks above are the DNS rules; hickory is the judge of a name.
    if Name::from_ascii(text).is_err() {
        return Err(ServerNameError::NotADnsName(text.to_owned()));
    }
    Ok(Host::Dns(text.to_owned()))
}

/// `Some` for text of the IPv4address shape (four groups of 1 to 3 digits),
/// an error if such text has an octet over 255, `None` for anything else.
fn ipv4_literal(text: &str) -> Result<Option<Ipv4Addr>, ServerNameError> {
    let groups: Vec<&str> = text.split('.').collect();
    let shaped = groups.len() == 4
        && groups
            .iter()
            .all(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        return Ok(None);
    }
    let mut octets = [0u8; 4];
    for (octet, group) in octets.iter_mut().zip(&groups) {
        *octet = group
            .parse()
            .map_err(|_| ServerNameError::BadIpv4(text.to_owned()))?;
    }
    Ok(Some(Ipv4Addr::from(octets)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> ServerName {
        ServerName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        match ServerName::parse(text) {
            Ok(s) => panic!("{text} parsed as {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn dns_names_with_and_without_port() {
        let s = ok("example.org");
        assert_eq!((s.host_text().as_str(), s.port()), ("example.org", None));
        assert_eq!(
            s.dns_name().map(|n| n.to_string()),
            Some("example.org.".to_owned())
        );
        let s = ok("matrix.example.org:8443");
        assert_eq!(
            (s.host(), s.port()),
            (&Host::Dns("matrix.example.org".into()), Some(8443))
        );
        assert_eq!(s.as_str(), "matrix.example.org:8443");
        assert!(ok("localhost").ip().is_none());
    }

    #[test]
    fn ip_literals() {
        assert_eq!(ok("192.0.2.1").ip(), Some("192.0.2.1".parse().unwrap()));
        let s = ok("192.0.2.1:443");
        assert_eq!(
            (s.ip(), s.port()),
            (Some("192.0.2.1".parse().unwrap()), Some(443))
        );
        let s = ok("[2001:db8::1]");
        assert_eq!((s.host_text().as_str(), s.port()), ("2001:db8::1", None));
        let s = ok("[2001:db8::1]:8448");
        assert_eq!(
            (s.ip(), s.port()),
            (Some("2001:db8::1".parse().unwrap()), Some(8448))
        );
        // The grammar allows leading zeros in IPv4 groups.
        assert_eq!(ok("192.0.2.010").ip(), Some("192.0.2.10".parse().unwrap()));
    }

    #[test]
    fn numeric_names_that_are_not_ipv4_shaped_are_dns_names() {
        assert_eq!(ok("1.2.3").host(), &Host::Dns("1.2.3".into()));
        assert_eq!(ok("1.2.3.4.5").host(), &Host::Dns("1.2.3.4.5".into()));
    }

    #[test]
    fn upper_case_is_kept_and_noticed() {
        let s = ok("Example.ORG");
        assert!(s.has_upper_case());
        assert_eq!(s.as_str(), "Example.ORG");
        assert!(!ok("example.org").has_upper_case());
    }

    #[test]
    fn bad_names_say_what_is_wrong() {
        assert!(err("").contains("empty"));
        assert!(err("exa_mple.org").contains("'_' at position 4"));
        assert!(err("https://example.org").contains("not a URL"));
        assert!(err("example.org/x").contains("not a URL"));
        assert!(err("a..b").contains("empty label"));
        assert!(err(".a").contains("empty label"));
        assert!(err("example.org.").contains("without it"));
        assert!(err(&format!("{}.org", "a".repeat(64))).contains("longer than 63"));
        assert!(err(&vec!["abcdefghi"; 30].join(".")).contains("at most 255"));
        assert!(err("192.0.2.300").contains("not one"));
        assert!(err("[2001:db8::zz]").contains("not an IPv6 address"));
        assert!(err("[2001:db8::1").contains("closing ']'"));
        assert!(err("2001:db8::1").contains("in brackets"));
        assert!(err("[::1]x").contains("only :port"));
        assert!(err("example.org:").contains("bad port"));
        assert!(err("example.org:84a8").contains("bad port"));
        assert!(err("example.org:123456").contains("bad port"));
        assert!(err("example.org:0").contains("out of range"));
        assert!(err("example.org:65536").contains("out of range"));
        assert!(err(":8448").contains("empty"));
    }
}
