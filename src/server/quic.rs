//! DNS over QUIC (RFC 9250): one query per bidirectional stream, a 2-octet
//! length before each message (as over TCP), message ID 0.
//!
//! A stream's message is answered by the same code as a TCP or TLS
//! connection's ([`super::tcp::stream_responses`]): same engine, answer
//! cache, padding of encrypted answers (RFC 8467), and transfers (XoT over
//! QUIC, RFC 9250 section 4.2 allows them; the transfer policy sees them
//! as encrypted). Limits: QUIC connections are capped like TCP ones (their
//! own count, `[tcp] max_connections` and `max_connections_per_client`),
//! each connection may have at most
//! [`MAX_STREAMS`] streams open at once (QUIC flow control enforces it),
//! and the idle timeout closes a quiet connection and a stream whose query
//! does not arrive in time.
//!
//! Errors are the RFC's: a message ID other than 0 closes the connection
//! with DOQ_PROTOCOL_ERROR; a stream that ends before its message is
//! complete is reset with DOQ_REQUEST_INCOMPLETE.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::debug;

use super::FrontEnd;
use super::tcp::{ClientConnections, stream_responses};
use super::tls::LoadedCertificate;

/// Streams one client may have open at once on a connection.
pub const MAX_STREAMS: u32 = 64;
/// DOQ_PROTOCOL_ERROR (RFC 9250 section 4.3).
const DOQ_PROTOCOL_ERROR: u32 = 0x2;
/// DOQ_REQUEST_INCOMPLETE.
const DOQ_REQUEST_INCOMPLETE: u32 = 0x4;
/// DOQ_NO_ERROR.
const DOQ_NO_ERROR: u32 = 0x0;

/// The QUIC server configuration for `certificate`, with `idle` as the
/// connection idle timeout.
pub(super) fn server_config(
    certificate: &LoadedCertificate,
    idle: Duration,
) -> Result<quinn::ServerConfig, String> {
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(Arc::clone(&certificate.quic))
        .map_err(|e| e.to_string())?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(MAX_STREAMS.into())
        .max_concurrent_uni_streams(0u32.into())
        .max_idle_timeout(quinn::IdleTimeout::try_from(idle).ok());
    config.transport_config(Arc::new(transport));
    Ok(config)
}

/// Accepts QUIC connections until `shutdown` turns true. `per_client`
/// caps the connections one address may hold (more are refused at once).
pub(super) async fn serve(
    endpoint: quinn::Endpoint,
    front: Arc<FrontEnd>,
    slots: Arc<Semaphore>,
    clients: Arc<ClientConnections>,
    per_client: usize,
    idle: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let incoming = tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(i) => i,
                None => break,
            },
            _ = shutdown.changed() => break,
        };
        let Some(client_slot) = clients.take(incoming.remote_address().ip(), per_client) else {
            incoming.refuse();
            continue;
        };
        let front = Arc::clone(&front);
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _client_slot = client_slot;
            let peer = incoming.remote_address();
            match tokio::time::timeout(idle, incoming).await {
                Ok(Ok(connection)) => serve_connection(connection, front, idle, shutdown).await,
                Ok(Err(e)) => debug!(%peer, error = %e, "QUIC handshake failed"),
                Err(_) => debug!(%peer, "QUIC handshake timed out"),
            }
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    endpoint.close(DOQ_NO_ERROR.into(), b"shutting down");
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(
    connection: quinn::Connection,
    front: Arc<FrontEnd>,
    idle: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let peer = connection.remote_address();
    let mut streams = JoinSet::new();
    loop {
        let (send, recv) = tokio::select! {
            accepted = connection.accept_bi() => match accepted {
                Ok(s) => s,
                Err(_) => break, // closed by the client, or idle
            },
            _ = shutdown.changed() => break,
        };
        let (front, connection) = (Arc::clone(&front), connection.clone());
        streams.spawn(async move {
            serve_stream(send, recv, &connection, &front, peer, idle).await;
        });
        while streams.try_join_next().is_some() {}
    }
    while streams.join_next().await.is_some() {}
}

/// One query on one stream: read it, answer it, finish the stream.
async fn serve_stream(
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    connection: &quinn::Connection,
    front: &Arc<FrontEnd>,
    peer: SocketAddr,
    idle: Duration,
) {
    let read = async {
        let mut len = [0u8; 2];
        recv.read_exact(&mut len).await.ok()?;
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
        recv.read_exact(&mut message).await.ok()?;
        Some(message)
    };
    let Ok(Some(message)) = tokio::time::timeout(idle, read).await else {
        let _ = send.reset(DOQ_REQUEST_INCOMPLETE.into());
        return;
    };
    // RFC 9250 section 4.2.1: the message ID is 0 on DoQ.
    if message.get(..2) != Some(&[0, 0][..]) {
        connection.close(DOQ_PROTOCOL_ERROR.into(), b"message ID must be 0");
        return;
    }
    let Some(responses) =
        stream_responses(front, &message, peer, crate::proto::Channel::Encrypted).await
    else {
        return;
    };
    for response in responses {
        let Ok(len) = u16::try_from(response.len()) else {
            continue;
        };
        let write = async {
            send.write_all(&len.to_be_bytes()).await?;
            send.write_all(&response).await
        };
        if !matches!(tokio::time::timeout(idle, write).await, Ok(Ok(()))) {
            return;
        }
    }
    let _ = send.finish();
}
