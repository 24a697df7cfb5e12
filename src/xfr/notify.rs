//! NOTIFY (RFC 1996) both ways.
//!
//! In: a NOTIFY for a secondary zone from one of its primaries (signed with
//! the zone's key when one is configured) wakes the zone's refresh task and
//! is answered NOERROR; from anyone else, or for a zone we are not a
//! secondary of, it is REFUSED; a bad signature gets NOTAUTH.
//!
//! Out: when a zone's serial changes (and at start), each configured
//! secondary is sent a NOTIFY over UDP, retried until it answers or
//! [`NOTIFY_ATTEMPTS`] have gone unanswered (then a log line says so).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::UdpSocket;
use tracing::{debug, info, warn};

use super::XfrContext;
use super::primary::error_message;
use crate::proto::tsig::{
    RequestAuth, ResponseSigner, ResponseVerifier, TsigKey, append_unsigned_error, sign_request,
    unix_now, verify_request,
};

/// How many times a NOTIFY is sent before giving up.
pub const NOTIFY_ATTEMPTS: u32 = 5;
/// How long to wait for each answer (doubling after each attempt).
pub const NOTIFY_FIRST_TIMEOUT: Duration = Duration::from_secs(1);

/// Answers a NOTIFY request from `peer`.
pub fn handle_notify(ctx: &XfrContext, request: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
    let message = Message::from_vec(request).ok()?;
    if message.metadata.message_type != MessageType::Query {
        return None;
    }
    let now = unix_now();
    let auth = verify_request(request, &ctx.keys, now);
    let Some(question) = message
        .queries
        .first()
        .filter(|_| message.queries.len() == 1)
    else {
        return Some(error_message(&message, ResponseCode::FormErr));
    };
    let zone_name = question.name();
    let Some(zone) = ctx.secondaries.get(zone_name) else {
        info!(%peer, "NOTIFY for {zone_name} refused: not a secondary zone here");
        return Some(error_message(&message, ResponseCode::Refused));
    };
    if !zone.is_primary(peer) {
        warn!(%peer, "NOTIFY for {zone_name} refused: not from one of its primaries");
        return Some(error_message(&message, ResponseCode::Refused));
    }
    let signer = match (&zone.key, auth) {
        (None, RequestAuth::Unsigned) => None,
        (Some(want), RequestAuth::Signed { key, request_mac }) if key.name() == want.name() => {
            Some(ResponseSigner::new(key, request_mac, now))
        }
        (
            _,
            RequestAuth::Failed {
                error, key_name, ..
            },
        ) => {
            warn!(%peer, "NOTIFY for {zone_name}: TSIG {error:?} (key {key_name})");
            let mut response = notify_answer(&message, ResponseCode::NotAuth);
            append_unsigned_error(&mut response, &key_name, error, now);
            return Some(response);
        }
        (Some(want), _) => {
            warn!(%peer, "NOTIFY for {zone_name} refused: not signed with key {}", want.name());
            return Some(error_message(&message, ResponseCode::NotAuth));
        }
        (None, _) => None,
    };
    debug!(%peer, "NOTIFY for {zone_name}: checking the primary now");
    zone.refresh_now.notify_one();
    let mut response = notify_answer(&message, ResponseCode::NoError);
    if let Some(mut signer) = signer {
        signer.sign(&mut response);
    }
    Some(response)
}

fn notify_answer(request: &Message, rcode: ResponseCode) -> Vec<u8> {
    let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Notify);
    response.metadata.authoritative = rcode == ResponseCode::NoError;
    response.metadata.response_code = rcode;
    response.queries = request.queries.clone();
    response.to_vec().unwrap_or_default()
}

/// Sends NOTIFY for `zone` (now at `serial`) to each target, in parallel,
/// each retried until acknowledged or given up.
pub async fn notify_secondaries(
    zone: Name,
    serial: u32,
    targets: Vec<SocketAddr>,
    key: Option<Arc<TsigKey>>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let zone = zone.clone();
        let key = key.clone();
        tasks.spawn(async move {
            match notify_one(&zone, target, key.as_ref()).await {
                Ok(attempts) => info!("NOTIFY for {zone} serial {serial} acknowledged by {target} (attempt {attempts})"),
                Err(e) => warn!("NOTIFY for {zone} serial {serial} to {target} given up: {e}"),
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Sends one NOTIFY until answered; returns the attempt that was answered.
pub async fn notify_one(
    zone: &Name,
    target: SocketAddr,
    key: Option<&Arc<TsigKey>>,
) -> Result<u32, String> {
    let bind: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(bind)
        .await
        .map_err(|e| format!("cannot bind: {e}"))?;
    socket
        .connect(target)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let mut timeout = NOTIFY_FIRST_TIMEOUT;
    let mut last = String::from("no answer");
    for attempt in 1..=NOTIFY_ATTEMPTS {
        let id = crate::proto::query_id::random_id();
        let mut m = Message::new(id, MessageType::Query, OpCode::Notify);
        m.metadata.authoritative = true;
        m.add_query(Query::query(zone.clone(), RecordType::SOA));
        let mut bytes = m.to_vec().map_err(|e| e.to_string())?;
        let mut verifier = key.map(|k| {
            let now = unix_now();
            ResponseVerifier::new(Arc::clone(k), sign_request(&mut bytes, k, now), now)
        });
        if let Err(e) = socket.send(&bytes).await {
            last = format!("send failed: {e}");
        } else {
            let mut buf = vec![0u8; 1500];
            let deadline = tokio::time::Instant::now() + timeout;
            last = format!("no answer within {} s", timeout.as_secs());
            while let Ok(Ok(len)) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                let Ok(response) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                if response.metadata.id != id
                    || response.metadata.message_type != MessageType::Response
                {
                    continue;
                }
                if let Some(v) = verifier.as_mut()
                    && let Err(e) = v.verify(&buf[..len])
                {
                    last = format!("answer failed TSIG: {e}");
                    break;
                }
                if response.metadata.response_code == ResponseCode::NoError {
                    return Ok(attempt);
                }
                return Err(format!("answered {}", response.metadata.response_code));
            }
            // No answer: an ICMP error (nobody listening yet) ends the wait
            // early, but the next attempt still waits for its turn.
            tokio::time::sleep_until(deadline).await;
        }
        timeout *= 2;
    }
    Err(format!("{last} after {NOTIFY_ATTEMPTS} attempts"))
}
