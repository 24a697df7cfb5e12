//! TCP: RFC 1035 4.2.2 / RFC 7766 length-prefixed messages, several per
//! connection, answered in order.
//!
//! Limits, each logged once when first hit: connections are capped by a
//! semaphore shared by all listeners (excess clients wait in the backlog)
//! and per client address (excess connections are closed at once); a
//! connection idle longer than the idle timeout, stalled mid-message, or
//! open longer than its lifetime is closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::FrontEnd;
use super::wire::{RequestKind, request_kind, respond_with_keys};
use crate::engine::Transport;
use crate::proto::Channel;

/// The per-connection limits.
#[derive(Clone, Copy, Debug)]
pub(super) struct TcpLimits {
    /// Idle time between messages, and time for a started message to arrive.
    pub idle_timeout: Duration,
    /// Connections one client address may hold at once.
    pub per_client: usize,
    /// How long one connection may stay open, however busy.
    pub lifetime: Duration,
}

/// Open connections per client address (the per-client cap).
#[derive(Debug, Default)]
pub(super) struct ClientConnections {
    open: Mutex<HashMap<IpAddr, usize>>,
    logged: AtomicBool,
}

/// One counted connection; the count drops with it.
pub(super) struct ClientSlot {
    clients: Arc<ClientConnections>,
    ip: IpAddr,
}

impl ClientConnections {
    /// A slot for one more connection from `ip`, unless it holds `limit`.
    pub(super) fn take(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<ClientSlot> {
        let mut open = self.open.lock().ok()?;
        let n = open.entry(ip).or_default();
        if *n >= limit {
            if !self.logged.swap(true, Ordering::Relaxed) {
                warn!(%ip, "per-client TCP connection limit ({limit}) reached; closing the excess (logged once)");
            }
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            clients: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.clients.open.lock()
            && let Some(n) = open.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Accepts connections until `shutdown` turns true, then waits for open
/// ones. With `tls`, each connection is a TLS handshake (bounded by the
/// idle timeout) and then the same protocol inside (DoT, XoT).
pub(super) async fn serve(
    listener: TcpListener,
    front: Arc<FrontEnd>,
    slots: Arc<Semaphore>,
    clients: Arc<ClientConnections>,
    limits: TcpLimits,
    tls: Option<Arc<super::tls::TlsCertificate>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let mut cap_logged = false;
    loop {
        // Wait for a free slot before accepting: excess clients queue in the kernel backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = shutdown.changed() => break,
        };
        if slots.available_permits() == 0 && !cap_logged {
            warn!("TCP connection limit reached; new connections wait");
            cap_logged = true;
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    debug!(error = %e, "tcp accept error");
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Some(client_slot) = clients.take(peer.ip(), limits.per_client) else {
            drop(stream);
            continue;
        };
        let front = Arc::clone(&front);
        let shutdown = shutdown.clone();
        // The certificate current now: a SIGHUP reload applies to the next connection.
        let tls = tls
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(std::sync::Arc::clone(&t.current().config)));
        connections.spawn(async move {
            let _ = stream.set_nodelay(true);
            let served = match tls {
                None => connection(stream, peer, front, limits, Channel::Plain, shutdown).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.idle_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            // rustls keeps a client certificate only once it verified.
                            let channel = if stream.get_ref().1.peer_certificates().is_some() {
                                Channel::EncryptedClientCertified
                            } else {
                                Channel::Encrypted
                            };
                            connection(stream, peer, front, limits, channel, shutdown).await
                        }
                        Ok(Err(e)) => Err(e),
                        Err(_) => Ok(()), // no handshake in time
                    }
                }
            };
            if let Err(e) = served {
                debug!(%peer, error = %e, "tcp connection closed");
            }
            drop(client_slot);
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// The time the next read or write may take: the idle timeout, but never
/// past the connection's lifetime.
fn limit(limits: &TcpLimits, closes_at: tokio::time::Instant) -> Duration {
    limits
        .idle_timeout
        .min(closes_at.saturating_duration_since(tokio::time::Instant::now()))
}

/// Serves one connection (plain TCP, or TLS as `channel` says): read a
/// length, read the message, answer, repeat.
async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    peer: std::net::SocketAddr,
    front: Arc<FrontEnd>,
    limits: TcpLimits,
    channel: Channel,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let closes_at = tokio::time::Instant::now() + limits.lifetime;
    let mut message = Vec::with_capacity(512);
    loop {
        let mut len_buf = [0u8; 2];
        tokio::select! {
            read = tokio::time::timeout(limit(&limits, closes_at), stream.read_exact(&mut len_buf)) => match read {
                Ok(Ok(_)) => {}
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(()), // idle
            },
            _ = shutdown.changed() => return Ok(()),
        }
        let len = usize::from(u16::from_be_bytes(len_buf));
        message.resize(len, 0);
        // The rest of a started message must arrive within the idle timeout too.
        match tokio::time::timeout(limit(&limits, closes_at), stream.read_exact(&mut message)).await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()),
        }
        let Some(responses) = stream_responses(&front, &message, peer, channel).await else {
            return Ok(());
        };
        for response in responses {
            let Ok(len) = u16::try_from(response.len()) else {
                continue;
            };
            let mut framed = Vec::with_capacity(response.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(&response);
            tokio::time::timeout(limit(&limits, closes_at), stream.write_all(&framed))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out")
                })??;
        }
    }
}

/// The responses to one message read off a stream (TCP, TLS or a QUIC
/// stream), in order: queries are answered here (padded when `encrypted`
/// and the query asks for it), NOTIFY, UPDATE and transfers go to the
/// [`ZoneRequests`](super::ZoneRequests). `None`: the server is shutting
/// down.
pub(super) async fn stream_responses(
    front: &Arc<FrontEnd>,
    message: &[u8],
    peer: std::net::SocketAddr,
    channel: Channel,
) -> Option<Vec<Vec<u8>>> {
    let responses = match request_kind(message) {
        RequestKind::Query => {
            let response = respond_with_keys(
                &front.served(),
                &front.keys,
                &front.identity,
                Some(peer.ip()),
                message,
                Transport::Tcp,
            );
            if let Some(r) = &response {
                front.metrics.count_query(Transport::Tcp, message, r);
            }
            let response = match response {
                Some(r) if channel.is_encrypted() && super::tls::asks_for_padding(message) => Some(
                    super::tls::pad_response(r, super::tls::RESPONSE_PADDING_BLOCK),
                ),
                other => other,
            };
            response.into_iter().collect()
        }
        RequestKind::Notify => front.requests.notify(message, peer).into_iter().collect(),
        RequestKind::Update => {
            let Ok(_slot) = Arc::clone(&front.update_slots).acquire_owned().await else {
                return None;
            };
            let requests = Arc::clone(&front.requests);
            let request = message.to_vec();
            tokio::task::spawn_blocking(move || requests.update(&request, peer))
                .await
                .ok()
                .flatten()
                .into_iter()
                .collect()
        }
        RequestKind::Transfer => {
            let zones = front.store.zones_owned();
            let requests = Arc::clone(&front.requests);
            let request = message.to_vec();
            // Encoding a large zone is CPU work: keep it off the async workers.
            tokio::task::spawn_blocking(move || requests.transfer(&zones, &request, peer, channel))
                .await
                .unwrap_or_default()
        }
    };
    Some(responses)
}
