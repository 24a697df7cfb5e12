//! The operator files in `examples/`: the production configuration loads
//! with `Config::load` and says what its comments say, and the systemd unit
//! carries the hardening the README promises and agrees with the config.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use fedns::config::{Config, TransferRule};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_production_config_loads() {
    let config = Config::load(&repo().join("examples/fedns.production.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        config.listen.iter().all(|a| a.port() == 53),
        "{:?}",
        config.listen
    );
    assert!(
        config.listen.iter().any(SocketAddr::is_ipv4)
            && config.listen.iter().any(SocketAddr::is_ipv6)
    );
    assert_eq!(
        config.zones_dir.as_deref(),
        Some(Path::new("/etc/fedns/zones"))
    );
    assert_eq!(
        config.data_dir.as_deref(),
        Some(Path::new("/var/lib/fedns"))
    );
    assert_eq!(config.tsig_keys.len(), 1);
    assert_eq!(config.secondaries.len(), 1);
    assert_eq!(config.secondaries[0].tsig_key.as_deref(), Some("xfr-key"));
    assert_eq!(config.transfer_allow, [TransferRule::Key("xfr-key".into())]);
    assert_eq!(config.notify.len(), 2);
    assert_eq!(config.notify_key.as_deref(), Some("xfr-key"));
    assert!(config.rate_limit.is_some());
    assert!(config.metrics_listen.is_some_and(|a| a.ip().is_loopback()));
    // The unit runs fedns unprivileged: a `user` to switch to would fail there.
    assert_eq!(config.user, None);
}

/// `Key=value` lines of a unit file (every value of a repeated key).
fn unit_values<'u>(unit: &'u str, key: &str) -> Vec<&'u str> {
    unit.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
        .collect()
}

#[test]
fn the_systemd_unit_is_hardened_and_matches_the_config() {
    let unit = std::fs::read_to_string(repo().join("examples/systemd/fedns.service")).unwrap();
    let one = |key: &str| {
        let values = unit_values(&unit, key);
        assert_eq!(values.len(), 1, "{key}: {values:?}");
        values[0]
    };
    assert_eq!(one("DynamicUser"), "yes");
    assert_eq!(one("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
    assert_eq!(one("CapabilityBoundingSet"), "CAP_NET_BIND_SERVICE");
    assert_eq!(one("NoNewPrivileges"), "yes");
    assert_eq!(one("ProtectSystem"), "strict");
    assert_eq!(one("RestrictAddressFamilies"), "AF_INET AF_INET6");
    assert_eq!(unit_values(&unit, "SystemCallFilter")[0], "@system-service");
    assert_eq!(one("ExecReload"), "/bin/kill -HUP $MAINPID");
    // data_dir is the state directory, the zones are read-only, the config
    // comes in as a credential.
    assert_eq!(one("StateDirectory"), "fedns");
    assert_eq!(one("ReadOnlyPaths"), "/etc/fedns");
    assert_eq!(one("LoadCredential"), "fedns.toml:/etc/fedns/fedns.toml");
    assert_eq!(
        one("ExecStart"),
        "/usr/local/bin/fedns serve --config %d/fedns.toml"
    );
    let config = Config::load(&repo().join("examples/fedns.production.toml")).unwrap();
    assert_eq!(
        config.data_dir,
        Some(PathBuf::from("/var/lib").join(one("StateDirectory")))
    );
    assert!(config.zones_dir.unwrap().starts_with(one("ReadOnlyPaths")));
}
