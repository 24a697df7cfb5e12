//! `fedns.toml`: the server's configuration file.
//!
//! ```toml
//! listen = ["127.0.0.1:5300", "[::1]:5300"]
//! zones_dir = "zones"            # every *.toml and *.zone file in it
//! # zones = ["zones/example.org.toml"]   # or exactly these files
//! [tcp]
//! max_connections = 512
//! idle_timeout = "10s"
//! ```
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
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
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
    /// Worker tasks per UDP socket.
    pub udp_workers: Option<usize>,
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
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTcp {
    max_connections: Option<usize>,
    idle_timeout: Option<toml::Spanned<String>>,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
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
        Ok(Config {
            listen,
            zones_dir: raw.zones_dir.map(|d| base.join(d)),
            zones: raw.zones.into_iter().map(|z| base.join(z)).collect(),
            tcp_max_connections: raw.tcp.max_connections,
            tcp_idle_timeout,
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
    fn unknown_key_is_an_error_with_its_place() {
        let err = Config::parse("listn = []\n", Path::new("fedns.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("fedns.toml:1:1:"), "{err}");
        assert!(err.contains("unknown field"), "{err}");
    }
}
