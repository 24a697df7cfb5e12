//! Dynamic updates (RFC 2136) signed with TSIG (RFC 8945), checked against
//! a per-key policy (RFC 3007), journalled, and published through the zone
//! store like every other change.
//!
//! The path of one UPDATE, each step able to stop it with nothing changed:
//!
//! 1. decode; the zone section must name one zone, type SOA, class IN
//!    (FORMERR);
//! 2. a secondary zone with `forward_updates = true` sends the message,
//!    untouched, to its primaries (RFC 2136 section 6): the primary checks
//!    the signature, so this server need not hold the key. A zone not
//!    served here is NOTAUTH; a zone without `[[zone.update]]` rules is
//!    REFUSED;
//! 3. TSIG: a bad signature is NOTAUTH with the TSIG error (BADSIG,
//!    BADKEY, BADTIME: a replayed or delayed request is refused); an
//!    unsigned update is REFUSED: fedns takes no update without a key;
//! 4. under the writer lock (one update at a time, and never beside a
//!    reload): prerequisites (section 3.2), the policy for every record
//!    touched (3.3), the prescan (3.4.1), the changes (3.4.2) on a draft of
//!    the zone ([`rules`]);
//! 5. nothing changed: NOERROR, no new serial. Else the serial moves
//!    ([`policy::SerialPolicy`]), the result is validated exactly like a
//!    zone file and passes the lint gate of `fedns serve --strict`
//!    (REFUSED with the reason otherwise);
//! 6. the change is appended to the zone's journal and fsynced
//!    ([`crate::store::journal`]); a write error is SERVFAIL and nothing is
//!    published;
//! 7. published through [`ZoneStore::apply`] as [`ChangeKind::Update`]:
//!    from there IXFR history, NOTIFY and the metrics follow as for any
//!    change. Then the NOERROR answer is sent.
//!
//! Pre-signed (DNSSEC) zones take no updates: fedns does not sign, and an
//! unsigned change would break the zone's signatures.
//!
//! Cost: an update rebuilds the zone's snapshot and validates it whole,
//! so it takes time in proportion to the zone (about 30 ms at 20 000
//! records, release build; `bench/updates.sh`). Fine for the small zones
//! ACME writes to; an incremental path for big zones is open work.
//!
//! Refusals are logged with the peer and the key, rate-limited per network
//! ([`crate::log_limit`]); accepted updates are logged at info with the
//! serials (they are authenticated, so a flood of them needs a key).

pub mod policy;
pub mod rules;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use tracing::{error, info};

use crate::metrics::Metrics;
use crate::proto::name::{NameKey, name_key};
use crate::proto::tsig::{KeyRing, RequestAuth, ResponseSigner, unix_now, verify_request};
use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::store::journal::{self, JournalDiff};
use crate::store::{ChangeKind, Edit, ZoneStore};
use crate::zone::{Place, Zone};
use policy::UpdatePolicy;
use rules::{Draft, Rejection};

/// The most prerequisite and update records one UPDATE may carry. A TCP
/// message can hold thousands; a bound keeps one request's work small.
pub const MAX_UPDATE_RECORDS: usize = 1000;

/// Sees each updated zone before it is published: as written, as it would
/// be served, and the version served now (the lint: it logs what the
/// update brought, and refuses it under `fedns serve --strict` when that is
/// an error).
pub type UpdateGate = dyn Fn(&Zone, &ZoneSet, &Arc<ZoneSnapshot>) -> bool + Send + Sync;

/// How long a forwarded update may take at the primary.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);

/// What a zone does with updates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZoneUpdates {
    /// A primary zone: apply the updates its policy grants.
    Apply(UpdatePolicy),
    /// A secondary zone: forward every update to these primaries in turn.
    Forward(Vec<SocketAddr>),
}

/// Dynamic updates for every zone of the server.
pub struct Updater {
    store: Arc<ZoneStore>,
    keys: Arc<KeyRing>,
    zones: RwLock<HashMap<NameKey, Arc<ZoneUpdates>>>,
    data_dir: PathBuf,
    /// Serialises updates with each other and with zone-file reloads, so a
    /// reload's merge of file and journal never misses an update.
    writer: Arc<tokio::sync::Mutex<()>>,
    gate: Arc<UpdateGate>,
    metrics: Arc<Metrics>,
    log_limit: crate::log_limit::LogLimiter,
}

impl std::fmt::Debug for Updater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updater")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// How an update ended, for the response and the log.
enum Outcome {
    /// Applied (or nothing to change): NOERROR.
    Done,
    /// Stopped with this code.
    Rejected(Rejection),
}

impl Updater {
    /// An updater over `store`. `writer` is the lock reloads take too;
    /// `data_dir` holds the journals.
    pub fn new(
        store: Arc<ZoneStore>,
        keys: Arc<KeyRing>,
        data_dir: PathBuf,
        writer: Arc<tokio::sync::Mutex<()>>,
        gate: Arc<UpdateGate>,
        metrics: Arc<Metrics>,
    ) -> Updater {
        Updater {
            store,
            keys,
            zones: RwLock::new(HashMap::new()),
            data_dir,
            writer,
            gate,
            metrics,
            log_limit: Default::default(),
        }
    }

    /// Sets what `zone` does with updates (`None`: refuses them).
    pub fn set_zone(&self, zone: &Name, updates: Option<ZoneUpdates>) {
        let mut zones = self.zones.write().unwrap_or_else(|e| e.into_inner());
        match updates {
            Some(u) => zones.insert(name_key(zone), Arc::new(u)),
            None => zones.remove(&name_key(zone)),
        };
    }

    fn zone_updates(&self, zone: &Name) -> Option<Arc<ZoneUpdates>> {
        let zones = self.zones.read().unwrap_or_else(|e| e.into_inner());
        zones.get(&name_key(zone)).cloned()
    }

    /// The response to the UPDATE `request` from `peer` (nothing for a
    /// message too broken to answer). Blocks: on the writer lock, on the
    /// journal's fsync and, for a forwarded update, on the primary; call
    /// it from a blocking task.
    pub fn handle(&self, request: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        let message = match Message::from_vec(request) {
            Ok(m) => m,
            Err(e) => {
                self.refused(peer, "update-malformed", || {
                    format!("UPDATE that does not decode: {e}")
                });
                return header_only_error(request);
            }
        };
        if message.metadata.message_type != MessageType::Query {
            return None;
        }
        let Some(zone_section) = message
            .queries
            .first()
            .filter(|_| message.queries.len() == 1)
        else {
            self.refused(peer, "update-malformed", || {
                format!(
                    "UPDATE with {} zones in its zone section (one is allowed)",
                    message.queries.len()
                )
            });
            return Some(response(&message, ResponseCode::FormErr, None));
        };
        let zone_name = zone_section.name().clone();
        if zone_section.query_type() != RecordType::SOA {
            self.refused(peer, "update-malformed", || {
                format!("UPDATE for {zone_name}: the zone section's type must be SOA")
            });
            return Some(response(&message, ResponseCode::FormErr, None));
        }
        let settings = self.zone_updates(&zone_name);
        if let Some(ZoneUpdates::Forward(primaries)) = settings.as_deref() {
            // The primary checks the signature; this server may not hold the key.
            return self.forward(request, &zone_name, primaries, peer, &message);
        }
        let now = unix_now();
        let auth = verify_request(request, &self.keys, now);
        let signer = |mut r: Vec<u8>| {
            if let RequestAuth::Signed { key, request_mac } = &auth {
                ResponseSigner::new(Arc::clone(key), request_mac.clone(), now).sign(&mut r);
            }
            r
        };
        let key_text = match &auth {
            RequestAuth::Signed { key, .. } => format!("key {}", key.name()),
            RequestAuth::Failed { key_name, .. } => format!("key {key_name}, not verified"),
            _ => "no key".to_string(),
        };
        let served = self.store.zones().zone(&zone_name).is_some();
        let policy = match (served, settings.as_deref()) {
            (_, Some(ZoneUpdates::Forward(_))) | (false, _) => {
                self.refused(peer, "update-not-ours", || {
                    format!("UPDATE for {zone_name} ({key_text}) refused: not a zone served here")
                });
                return Some(signer(response(
                    &message,
                    ResponseCode::NotAuth,
                    Some((20, "not authoritative for the zone")),
                )));
            }
            (true, None) => {
                self.refused(peer, "update-not-allowed", || {
                    format!(
                        "UPDATE for {zone_name} ({key_text}) refused: the zone takes no updates"
                    )
                });
                return Some(signer(response(
                    &message,
                    ResponseCode::Refused,
                    Some((18, "this zone takes no dynamic updates")),
                )));
            }
            (true, Some(ZoneUpdates::Apply(policy))) => policy,
        };
        let (key, request_mac) = match &auth {
            RequestAuth::Malformed(e) => {
                self.refused(peer, "update-tsig", || {
                    format!("UPDATE for {zone_name} with a malformed TSIG: {e}")
                });
                return Some(response(&message, ResponseCode::FormErr, None));
            }
            RequestAuth::Failed {
                error, key_name, ..
            } => {
                self.refused(peer, "update-tsig", || {
                    format!("UPDATE for {zone_name} refused: TSIG {error:?} with key {key_name}")
                });
                let mut r = response(&message, ResponseCode::NotAuth, None);
                auth.sign_failure(&mut r, now);
                return Some(r);
            }
            RequestAuth::Signed { key, request_mac } => {
                (Some(Arc::clone(key)), request_mac.clone())
            }
            RequestAuth::Unsigned => (None, Vec::new()),
        };
        let sign = |mut r: Vec<u8>| {
            if let Some(key) = &key {
                ResponseSigner::new(Arc::clone(key), request_mac.clone(), now).sign(&mut r);
            }
            r
        };
        let Some(key) = key.as_ref() else {
            self.refused(peer, "update-unsigned", || {
                format!("UPDATE for {zone_name} refused: not signed with a TSIG key")
            });
            return Some(response(
                &message,
                ResponseCode::Refused,
                Some((18, "updates must be signed with a TSIG key")),
            ));
        };
        let started = Instant::now();
        let outcome = self.apply(&message, &zone_name, policy, key.name(), now);
        self.metrics.count_update(match &outcome {
            Outcome::Done => "applied",
            Outcome::Rejected(_) => "rejected",
        });
        match outcome {
            Outcome::Done => Some(sign(response(&message, ResponseCode::NoError, None))),
            Outcome::Rejected(rejection) => {
                let kind = if rejection.rcode == ResponseCode::Refused {
                    "update-policy"
                } else {
                    "update-rejected"
                };
                self.refused(peer, kind, || {
                    format!(
                        "UPDATE for {zone_name} (key {}) answered {:?}: {} ({} us)",
                        key.name(),
                        rejection.rcode,
                        rejection.reason,
                        started.elapsed().as_micros()
                    )
                });
                let ede = (rejection.rcode == ResponseCode::Refused)
                    .then_some((18u16, rejection.reason.as_str()));
                Some(sign(response(&message, rejection.rcode, ede)))
            }
        }
    }

    /// Steps 4 to 7 of the module doc, under the writer lock.
    fn apply(
        &self,
        message: &Message,
        zone_name: &Name,
        policy: &UpdatePolicy,
        key: &Name,
        now: u64,
    ) -> Outcome {
        let rejected = |rcode, reason: String| Outcome::Rejected(Rejection { rcode, reason });
        let prerequisites = &message.answers;
        let updates = &message.authorities;
        if prerequisites.len() + updates.len() > MAX_UPDATE_RECORDS {
            return rejected(
                ResponseCode::FormErr,
                format!("more than {MAX_UPDATE_RECORDS} records"),
            );
        }
        let _writer = self.writer.blocking_lock();
        let Some(current) = self.store.zones().zone(zone_name).cloned() else {
            return rejected(ResponseCode::NotAuth, "the zone is no longer served".into());
        };
        if current.is_signed() {
            return rejected(
                ResponseCode::Refused,
                "the zone is DNSSEC-signed and fedns does not sign".into(),
            );
        }
        let origin = current.origin().clone();
        let mut draft = Draft::new(origin.clone(), current.records());
        if let Err(r) = draft.check_prerequisites(prerequisites) {
            return Outcome::Rejected(r);
        }
        if let Err(reason) = authorise(&draft, policy, key, &origin, updates) {
            return rejected(ResponseCode::Refused, reason);
        }
        if let Err(r) = draft.prescan(updates) {
            return Outcome::Rejected(r);
        }
        let old_serial = draft.serial().unwrap_or_default();
        draft.apply(updates);
        if draft.changes() == (Vec::new(), Vec::new()) {
            return Outcome::Done;
        }
        let serial_set = draft
            .serial()
            .is_some_and(|s| crate::proto::serial::is_newer(s, old_serial));
        if !serial_set {
            draft.set_serial(policy.serial.next(old_serial, now));
        }
        let (removed, added) = draft.changes();
        let new_serial = draft.serial().unwrap_or_default();
        let new_records = draft.into_records();
        let snapshot = match build(&current, new_records, &added, key) {
            Ok(s) => s,
            Err(reason) => return rejected(ResponseCode::Refused, reason),
        };
        let (updated, written_zone) = snapshot;
        let served = ZoneSet::new([Arc::new(updated)]);
        let admitted = (self.gate)(&written_zone, &served, &current);
        let updated = served.zone(&origin).cloned().and_then(|s| {
            drop(served);
            Arc::try_unwrap(s).ok()
        });
        let Some(updated) = updated.filter(|_| admitted) else {
            return rejected(
                ResponseCode::Refused,
                "the updated zone has delegation errors and fedns serves with --strict".into(),
            );
        };
        let path = journal::journal_path(&self.data_dir, &origin);
        // No journal yet: the zone is its file's version, the journal's base.
        let written = if path.exists() {
            Ok(())
        } else {
            journal::rewrite(&path, &current.records().collect::<Vec<_>>(), &[])
        }
        .and_then(|()| {
            journal::append(
                &path,
                &JournalDiff {
                    from_serial: old_serial,
                    to_serial: new_serial,
                    removed: removed.clone(),
                    added: added.clone(),
                },
            )
        });
        if let Err(e) = written {
            error!("zone {origin}: update not applied: cannot write its journal: {e}");
            return rejected(
                ResponseCode::ServFail,
                format!("cannot write the journal: {e}"),
            );
        }
        self.store
            .apply(vec![Edit::Publish(Box::new(updated))], ChangeKind::Update);
        info!(
            "zone {origin} updated by key {key}: serial {old_serial} -> {new_serial} ({} record(s) added, {} removed)",
            added.len().saturating_sub(1),
            removed.len().saturating_sub(1)
        );
        Outcome::Done
    }

    /// Forwards `request` to the zone's primaries, in turn, and relays the
    /// first answer (its ID and TSIG are the primary's answer to the
    /// client's own message, so the client checks them as usual).
    fn forward(
        &self,
        request: &[u8],
        zone: &Name,
        primaries: &[SocketAddr],
        peer: SocketAddr,
        message: &Message,
    ) -> Option<Vec<u8>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        for primary in primaries {
            let exchange = crate::xfr::client::exchange_tcp(*primary, request, FORWARD_TIMEOUT);
            match handle.block_on(exchange) {
                Ok(answer) => {
                    info!(%peer, "UPDATE for {zone} forwarded to {primary}");
                    return Some(answer);
                }
                Err(e) => self.refused(peer, "update-forward", || {
                    format!("UPDATE for {zone}: forwarding to {primary} failed: {e}")
                }),
            }
        }
        Some(response(
            message,
            ResponseCode::ServFail,
            Some((23, "no primary answered the forwarded update")),
        ))
    }

    fn refused(&self, peer: SocketAddr, kind: &'static str, message: impl FnOnce() -> String) {
        self.log_limit.refused(&self.metrics, peer, kind, message);
    }
}

/// 3.3: every record the update touches must be granted to `key`. A
/// delete of a whole name needs the types now there (or, for a name with
/// no data, the name itself).
fn authorise(
    draft: &Draft,
    policy: &UpdatePolicy,
    key: &Name,
    zone: &Name,
    updates: &[Record],
) -> Result<(), String> {
    for rr in updates {
        let name = &rr.name;
        let types = match (rr.dns_class, rr.record_type()) {
            (DNSClass::ANY, RecordType::ANY) => draft.types_at(name),
            (_, t) => vec![t],
        };
        let granted = if types.is_empty() {
            policy.rules.iter().any(|r| {
                r.key.to_lowercase() == key.to_lowercase()
                    && r.names.iter().any(|p| p.matches(name, zone, key))
            })
        } else {
            types.iter().all(|t| policy.grants(key, name, *t, zone))
        };
        if !granted {
            let what = types
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            return Err(format!("key {key} may not change {what} at {name}"));
        }
    }
    Ok(())
}

/// The new version of `current` holding `records`: validated like a zone
/// file, then indexed. Also returns the zone for the lint gate. Records
/// the update added are placed at `<update signed by KEY>`, the others at
/// the zone's file (the snapshot keeps no line numbers).
fn build(
    current: &ZoneSnapshot,
    records: Vec<Record>,
    added: &[Record],
    key: &Name,
) -> Result<(ZoneSnapshot, Zone), String> {
    let update_place = Place::file(&Arc::from(format!("<update signed by {key}>")));
    let added: std::collections::HashSet<Vec<u8>> = added
        .iter()
        .map(crate::snapshot::history::record_key)
        .collect();
    let zone = current.zone_of(records, |r| {
        added
            .contains(&crate::snapshot::history::record_key(r))
            .then(|| update_place.clone())
    })?;
    crate::zone::validate::validate_zone(&zone)
        .map_err(|e| format!("the updated zone would be invalid: {e}"))?;
    let snapshot = ZoneSnapshot::build(zone.clone())?;
    Ok((snapshot, zone))
}

/// A response to the UPDATE `request`: its ID and zone section, `rcode`,
/// and an Extended DNS Error when the request had EDNS.
fn response(request: &Message, rcode: ResponseCode, ede: Option<(u16, &str)>) -> Vec<u8> {
    let mut m = Message::new(request.metadata.id, MessageType::Response, OpCode::Update);
    m.metadata.response_code = rcode;
    m.queries = request.queries.clone();
    let mut bytes = m.to_vec().unwrap_or_default();
    if let (Some((code, text)), Some(_)) = (ede, &request.edns) {
        crate::proto::ede::append_ede(&mut bytes, code, text);
    }
    bytes
}

/// FORMERR for a message that does not decode, when its header can be
/// read (RFC 1035 4.1.1: the ID is echoed, nothing else is trusted).
fn header_only_error(request: &[u8]) -> Option<Vec<u8>> {
    let header = request.get(..4)?;
    if header[2] & 0x80 != 0 {
        return None; // a response: never answer one
    }
    let mut r = vec![0u8; 12];
    r[..2].copy_from_slice(&header[..2]);
    r[2] = 0x80 | (5 << 3); // QR, opcode UPDATE
    r[3] = 1; // FORMERR
    Some(r)
}
