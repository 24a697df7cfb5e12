//! NOTIFY (RFC 1996) both ways.
//!
//! In: a NOTIFY for a secondary zone from one of its primaries (signed with
//! the zone's key when one is configured) wakes the zone's refresh task and
//! is answered NOERROR; from anyone else, or for a zone we are not a
//! secondary of, it is REFUSED; a bad signature gets NOTAUTH.
//!
//! Out: one path, [`run_notifier`], fed by the zone store's change events.
//! Whenever a zone is published at a new serial (its first load at start, a
//! reload, a transfer in, an update), each secondary in the zone's `notify`
//! list is sent a NOTIFY over UDP, retried until it answers or
//! [`NOTIFY_ATTEMPTS`] have gone unanswered (then a log line says so). A
//! newer serial of the same zone replaces a NOTIFY still being retried.
//! The notifier owns every send; on shutdown they get a grace period, then
//! are stopped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tracing::{debug, info, warn};

use super::XfrContext;
use super::primary::{error_message, error_message_with_ede};
use crate::proto::name::{NameKey, name_key};
use crate::proto::tsig::{
    RequestAuth, ResponseSigner, ResponseVerifier, TsigKey, append_unsigned_error, sign_request,
    unix_now, verify_request,
};
use crate::store::ZoneChange;

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
        ctx.refused(peer, "notify-not-secondary", || {
            format!("NOTIFY for {zone_name} refused: not a secondary zone here")
        });
        return Some(error_message_with_ede(
            &message,
            ResponseCode::Refused,
            20,
            "not a secondary zone here",
        ));
    };
    if !zone.is_primary(peer) {
        ctx.refused(peer, "notify-not-primary", || {
            format!("NOTIFY for {zone_name} refused: not from one of its primaries")
        });
        return Some(error_message_with_ede(
            &message,
            ResponseCode::Refused,
            18,
            "NOTIFY accepted from the zone's primaries only",
        ));
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
            ctx.refused(peer, "notify-tsig", || {
                format!("NOTIFY for {zone_name}: TSIG {error:?} (key {key_name})")
            });
            let mut response = notify_answer(&message, ResponseCode::NotAuth);
            append_unsigned_error(&mut response, &key_name, error, now);
            return Some(response);
        }
        (Some(want), _) => {
            ctx.refused(peer, "notify-unsigned", || {
                format!(
                    "NOTIFY for {zone_name} refused: not signed with key {}",
                    want.name()
                )
            });
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

/// The last NOTIFY round of one zone, for `fedns ctl status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyRound {
    /// The serial announced.
    pub serial: u32,
    /// When the round started (Unix time).
    pub started: u64,
    /// Each target and what became of it (`pending` while it is retried).
    pub targets: Vec<(SocketAddr, String)>,
}

/// The last NOTIFY round of every zone that had one.
#[derive(Debug, Default)]
pub struct NotifyLog(Mutex<HashMap<NameKey, NotifyRound>>);

impl NotifyLog {
    /// The last round for `zone`.
    pub fn last(&self, zone: &Name) -> Option<NotifyRound> {
        self.lock().get(&name_key(zone)).cloned()
    }

    fn start(&self, zone: &Name, serial: u32, targets: &[SocketAddr]) {
        let round = NotifyRound {
            serial,
            started: unix_now(),
            targets: targets.iter().map(|t| (*t, "pending".into())).collect(),
        };
        self.lock().insert(name_key(zone), round);
    }

    fn record(&self, zone: &Name, serial: u32, target: SocketAddr, outcome: String) {
        if let Some(round) = self.lock().get_mut(&*name_key(zone))
            && round.serial == serial
            && let Some(slot) = round.targets.iter_mut().find(|(t, _)| *t == target)
        {
            slot.1 = outcome;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<NameKey, NotifyRound>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long NOTIFY sends still being retried get at shutdown.
pub const NOTIFY_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The one NOTIFY-out path: follows the store's `changes` until `shutdown`
/// turns true (or the store is gone), sending NOTIFY for every zone
/// published at a new serial to the targets of its policy. `forced` takes
/// announcements made by hand (`fedns ctl notify`): the zone and the serial
/// it serves.
pub async fn run_notifier(
    ctx: Arc<XfrContext>,
    mut changes: mpsc::UnboundedReceiver<ZoneChange>,
    mut forced: mpsc::UnboundedReceiver<(Name, u32)>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut sends: JoinSet<()> = JoinSet::new();
    let mut in_flight: HashMap<NameKey, AbortHandle> = HashMap::new();
    loop {
        tokio::select! {
            change = changes.recv() => {
                let Some(change) = change else { break };
                let serial = change.new_serial.filter(|_| change.is_new_serial());
                if let Some(handle) = notify_for(&ctx, &change.zone, serial, &mut sends)
                    && let Some(old) = in_flight.insert(name_key(&change.zone), handle)
                {
                    old.abort();
                }
            }
            Some((zone, serial)) = forced.recv() => {
                if let Some(handle) = notify_for(&ctx, &zone, Some(serial), &mut sends)
                    && let Some(old) = in_flight.insert(name_key(&zone), handle)
                {
                    old.abort();
                }
            }
            Some(_) = sends.join_next(), if !sends.is_empty() => {
                in_flight.retain(|_, handle| !handle.is_finished());
            }
            _ = shutdown.changed() => break,
        }
    }
    let drain = async { while sends.join_next().await.is_some() {} };
    if tokio::time::timeout(NOTIFY_SHUTDOWN_GRACE, drain)
        .await
        .is_err()
    {
        sends.abort_all();
        while sends.join_next().await.is_some() {}
    }
}

/// Starts the NOTIFY round announcing `serial` (if any) of `zone`, if the
/// zone has targets.
fn notify_for(
    ctx: &Arc<XfrContext>,
    zone: &Name,
    serial: Option<u32>,
    sends: &mut JoinSet<()>,
) -> Option<AbortHandle> {
    let serial = serial?;
    let policy = ctx.policies.of(zone);
    if policy.notify.is_empty() {
        return None;
    }
    ctx.notify_log.start(zone, serial, &policy.notify);
    let ctx = Arc::clone(ctx);
    let zone = zone.clone();
    Some(sends.spawn(async move { notify_secondaries(ctx, zone, serial).await }))
}

/// Sends NOTIFY for `zone` (now at `serial`) to each target of its policy,
/// in parallel, each retried until acknowledged or given up.
async fn notify_secondaries(ctx: Arc<XfrContext>, zone: Name, serial: u32) {
    let policy = ctx.policies.of(&zone);
    let mut targets = JoinSet::new();
    for &target in &policy.notify {
        let (ctx, zone, key) = (Arc::clone(&ctx), zone.clone(), policy.notify_key.clone());
        targets.spawn(async move {
            let outcome = match notify_one(&zone, target, key.as_ref()).await {
                Ok(attempts) => {
                    info!("NOTIFY for {zone} serial {serial} acknowledged by {target} (attempt {attempts})");
                    format!("acknowledged (attempt {attempts})")
                }
                Err(e) => {
                    warn!("NOTIFY for {zone} serial {serial} to {target} given up: {e}");
                    format!("given up: {e}")
                }
            };
            ctx.notify_log.record(&zone, serial, target, outcome);
        });
    }
    while targets.join_next().await.is_some() {}
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
