//! Zone transfers and their companions: AXFR/IXFR out (primary), AXFR in
//! (secondary), NOTIFY both ways, TSIG, and the refresh timers of RFC 1034
//! 4.3.5 / RFC 1996.
//!
//! hickory 0.26 has no secondary support and its transfer client loses
//! messages (see `shared/hickory-0.26-notes.md`), so transfers are read and
//! written here on plain tokio TCP streams, with hickory-proto for the
//! messages.

pub mod client;
pub mod notify;
pub mod primary;
pub mod secondary;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::proto::tsig::{KeyRing, TsigKey};
use primary::TransferPolicy;
use secondary::Secondaries;

/// What the front end needs to serve transfers and NOTIFY.
#[derive(Debug, Default)]
pub struct XfrContext {
    /// Who may transfer our zones.
    pub policy: TransferPolicy,
    /// The TSIG keys we know.
    pub keys: KeyRing,
    /// Our secondary zones (NOTIFY in).
    pub secondaries: Secondaries,
    /// Where to send NOTIFY when a zone changes.
    pub notify: Vec<SocketAddr>,
    /// The key NOTIFY out is signed with.
    pub notify_key: Option<Arc<TsigKey>>,
}
