//! Zone transfers and their companions: AXFR/IXFR out (primary), AXFR and
//! IXFR in (secondary), NOTIFY both ways, and the refresh timers of RFC 1034
//! 4.3.5 / RFC 1996, with per-zone policy.
//!
//! This module sits above the [`ZoneStore`](crate::store::ZoneStore) and
//! beside the front end: secondaries publish through the store, NOTIFY-out
//! follows the store's change events, and the front end hands transfer and
//! NOTIFY requests here through its `ZoneRequests` seam without knowing
//! this module.
//!
//! hickory 0.26 has no secondary support and its transfer client loses
//! messages, so transfers are read and written here on plain tokio TCP
//! streams, with hickory-proto for the messages.

pub mod catalog;
pub mod client;
pub mod notify;
pub mod policy;
pub mod primary;
pub mod secondary;
pub mod xot;

use std::sync::Arc;

use crate::metrics::Metrics;
use crate::proto::tsig::KeyRing;
use policy::ZonePolicies;
use secondary::Secondaries;

/// What the transfer side needs to serve transfers and NOTIFY and to run
/// secondary zones.
#[derive(Debug, Default)]
pub struct XfrContext {
    /// The TSIG keys we know.
    pub keys: Arc<KeyRing>,
    /// Who may transfer each zone, and whom to NOTIFY when it changes.
    pub policies: ZonePolicies,
    /// Our secondary zones (NOTIFY in, refresh, `fedns ctl`).
    pub secondaries: Secondaries,
    /// Transfer counters.
    pub metrics: Arc<Metrics>,
    /// The last NOTIFY round of each zone.
    pub notify_log: notify::NotifyLog,
    /// Keeps refusals caused by remote input from filling the log.
    pub log_limit: crate::log_limit::LogLimiter,
}

impl XfrContext {
    /// A request from `peer` was refused: counted in the metrics, and
    /// logged (`message`) unless this network caused the same `kind` of
    /// line within the last minute.
    pub fn refused(
        &self,
        peer: std::net::SocketAddr,
        kind: &'static str,
        message: impl FnOnce() -> String,
    ) {
        self.log_limit.refused(&self.metrics, peer, kind, message);
    }
}
