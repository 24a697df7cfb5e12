//! TCP: RFC 1035 4.2.2 / RFC 7766 length-prefixed messages, several per
//! connection, answered in order. Connections are capped by a semaphore
//! shared by all listeners; a connection idle longer than the timeout, or
//! that stalls mid-message, is closed.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::FrontEnd;
use super::wire::{RequestKind, request_kind, respond_with_keys};
use crate::engine::Transport;

/// Accepts connections until `shutdown` turns true, then waits for open ones.
pub(super) async fn serve(
    listener: TcpListener,
    front: Arc<FrontEnd>,
    slots: Arc<Semaphore>,
    idle_timeout: Duration,
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
        let front = Arc::clone(&front);
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            if let Err(e) = connection(stream, peer, front, idle_timeout, shutdown).await {
                debug!(%peer, error = %e, "tcp connection closed");
            }
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Serves one connection: read a length, read the message, answer, repeat.
async fn connection(
    mut stream: TcpStream,
    peer: std::net::SocketAddr,
    front: Arc<FrontEnd>,
    idle_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut message = Vec::with_capacity(512);
    loop {
        let mut len_buf = [0u8; 2];
        tokio::select! {
            read = tokio::time::timeout(idle_timeout, stream.read_exact(&mut len_buf)) => match read {
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
        match tokio::time::timeout(idle_timeout, stream.read_exact(&mut message)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()),
        }
        let responses = match request_kind(&message) {
            RequestKind::Query => {
                let response = respond_with_keys(
                    &front.zones.load(),
                    &front.xfr.keys,
                    &message,
                    Transport::Tcp,
                );
                if let Some(r) = &response {
                    front.metrics.count_query(Transport::Tcp, &message, r);
                }
                response.into_iter().collect()
            }
            RequestKind::Notify => crate::xfr::notify::handle_notify(&front.xfr, &message, peer)
                .into_iter()
                .collect(),
            RequestKind::Transfer => {
                let served = front.zones.load_full();
                let xfr = Arc::clone(&front.xfr);
                let request = message.clone();
                // Encoding a large zone is CPU work: keep it off the async workers.
                let messages = tokio::task::spawn_blocking(move || {
                    crate::xfr::primary::transfer_response(&xfr, &served.zones, &request, peer)
                })
                .await
                .unwrap_or_default();
                if let Some(key) = crate::xfr::primary::transfer_metric(&message, &messages) {
                    front.metrics.count_transfer(key);
                }
                messages
            }
        };
        for response in responses {
            let Ok(len) = u16::try_from(response.len()) else {
                continue;
            };
            let mut framed = Vec::with_capacity(response.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(&response);
            tokio::time::timeout(idle_timeout, stream.write_all(&framed))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out")
                })??;
        }
    }
}
