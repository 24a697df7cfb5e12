//! UDP: a fixed set of worker tasks per socket, each receiving, answering
//! and sending in turn. No task per packet: the number of workers bounds the
//! work in flight, and a flood costs queue drops, not memory.

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::FrontEnd;
use super::wire::{RequestKind, request_kind, respond_with_keys};
use crate::engine::Transport;

/// The largest datagram read (anything longer is not a DNS query we answer).
const MAX_DATAGRAM: usize = 65_535;

/// Serves one socket until `shutdown` turns true.
pub(super) async fn serve(
    socket: Arc<UdpSocket>,
    front: Arc<FrontEnd>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, peer) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors from earlier sends surface here on some systems; keep serving.
                    debug!(error = %e, "udp receive error");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let request = &buf[..len];
        let response = match request_kind(request) {
            RequestKind::Notify => crate::xfr::notify::handle_notify(&front.xfr, request, peer),
            RequestKind::Query | RequestKind::Transfer => respond_with_keys(
                &front.zones.load(),
                &front.xfr.keys,
                request,
                Transport::Udp,
            ),
        };
        if let Some(response) = response
            && let Err(e) = socket.send_to(&response, peer).await
        {
            warn!(%peer, error = %e, "udp send failed");
        }
    }
}
