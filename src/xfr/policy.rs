//! Per-zone transfer policy: who may transfer a zone (AXFR/IXFR out), and
//! whom to NOTIFY when it changes, with the global `[transfer]` settings as
//! the default for every zone that does not say otherwise (as Knot's
//! templates and BIND's `options` / `zone` statements work).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};

use hickory_proto::rr::Name;

use crate::proto::name::{NameKey, name_key};
use crate::proto::tsig::{RequestAuth, TsigKey};

/// One entry of a transfer `allow` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferRule {
    /// Clients in this address range.
    Network(ipnet::IpNet),
    /// Requests signed with this key.
    Key(String),
    /// Clients in this range, over TLS only (XoT, RFC 9103).
    TlsNetwork(ipnet::IpNet),
    /// Requests signed with this key, over TLS only.
    TlsKey(String),
    /// Clients over TLS with a certificate from the configured client CA
    /// (mutual TLS), from this range (any address when `None`).
    TlsClientCertificate(Option<ipnet::IpNet>),
}

/// Who may transfer a zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferPolicy {
    rules: Vec<TransferRule>,
}

impl TransferPolicy {
    /// A policy of `rules` (empty: nobody; the default).
    pub fn new(rules: Vec<TransferRule>) -> TransferPolicy {
        TransferPolicy { rules }
    }

    /// True if `peer`, whose request authenticated as `auth` and came over
    /// `channel`, may transfer.
    pub fn permits(
        &self,
        peer: IpAddr,
        auth: &RequestAuth,
        channel: crate::proto::Channel,
    ) -> bool {
        use crate::proto::Channel;
        let over_tls = channel.is_encrypted();
        let signed_by = |name: &str| {
            matches!(auth, RequestAuth::Signed { key, .. }
                if key.name().to_ascii().trim_end_matches('.').eq_ignore_ascii_case(name.trim_end_matches('.')))
        };
        self.rules.iter().any(|rule| match rule {
            TransferRule::Network(net) => net.contains(&peer),
            TransferRule::Key(name) => signed_by(name),
            TransferRule::TlsNetwork(net) => over_tls && net.contains(&peer),
            TransferRule::TlsKey(name) => over_tls && signed_by(name),
            TransferRule::TlsClientCertificate(net) => {
                channel == Channel::EncryptedClientCertified
                    && net.is_none_or(|net| net.contains(&peer))
            }
        })
    }
}

/// The transfer settings of one zone.
#[derive(Clone, Debug, Default)]
pub struct ZonePolicy {
    /// Who may transfer it.
    pub allow: TransferPolicy,
    /// Secondaries to NOTIFY when its serial changes (and at start).
    pub notify: Vec<SocketAddr>,
    /// The key NOTIFY messages are signed with.
    pub notify_key: Option<Arc<TsigKey>>,
}

/// The policy of every zone: per-zone entries over a default.
#[derive(Debug, Default)]
pub struct ZonePolicies {
    default: Arc<ZonePolicy>,
    zones: RwLock<HashMap<NameKey, Arc<ZonePolicy>>>,
}

impl ZonePolicies {
    /// Policies with `default` for every zone not given its own.
    pub fn new(default: ZonePolicy) -> ZonePolicies {
        ZonePolicies {
            default: Arc::new(default),
            zones: RwLock::default(),
        }
    }

    /// The policy of `zone`.
    pub fn of(&self, zone: &Name) -> Arc<ZonePolicy> {
        let zones = self.zones.read().unwrap_or_else(|e| e.into_inner());
        zones
            .get(&name_key(zone))
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.default))
    }

    /// The default policy.
    pub fn default_policy(&self) -> &ZonePolicy {
        &self.default
    }

    /// Gives `zone` its own policy.
    pub fn set(&self, zone: &Name, policy: ZonePolicy) {
        let mut zones = self.zones.write().unwrap_or_else(|e| e.into_inner());
        zones.insert(name_key(zone), Arc::new(policy));
    }

    /// `zone` goes back to the default policy.
    pub fn forget(&self, zone: &Name) {
        let mut zones = self.zones.write().unwrap_or_else(|e| e.into_inner());
        zones.remove(&name_key(zone));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_without_its_own_policy_gets_the_default() {
        let default = ZonePolicy {
            notify: vec!["127.0.0.2:53".parse().unwrap()],
            ..ZonePolicy::default()
        };
        let policies = ZonePolicies::new(default);
        let a: Name = "a.test.".parse().unwrap();
        let b: Name = "B.TEST.".parse().unwrap();
        policies.set(
            &"b.test.".parse().unwrap(),
            ZonePolicy {
                allow: TransferPolicy::new(vec![TransferRule::Network(
                    "127.0.0.0/8".parse().unwrap(),
                )]),
                ..ZonePolicy::default()
            },
        );
        assert_eq!(policies.of(&a).notify.len(), 1);
        assert!(policies.of(&b).notify.is_empty(), "case-insensitive lookup");
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(policies.of(&b).allow.permits(
            peer,
            &RequestAuth::Unsigned,
            crate::proto::Channel::Plain
        ));
        assert!(!policies.of(&a).allow.permits(
            peer,
            &RequestAuth::Unsigned,
            crate::proto::Channel::Plain
        ));
        policies.forget(&b);
        assert_eq!(policies.of(&b).notify.len(), 1);
    }
}
