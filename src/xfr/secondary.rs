//! Secondary zones: the refresh timers of RFC 1034 4.3.5 and RFC 1996, the
//! copy kept on disk, and expiry.
//!
//! One task per zone:
//!
//! 1. On start, serve the copy in `data_dir` if its last successful refresh
//!    (the file's modification time) is within the SOA expire; otherwise the
//!    zone answers SERVFAIL until a transfer succeeds.
//! 2. Ask the primaries for the SOA serial; if theirs is newer (RFC 1982),
//!    transfer the zone by AXFR, validate it like any zone file, swap it in,
//!    and write it to disk atomically (temporary file, fsync, rename).
//! 3. Sleep for the SOA refresh (retry after a failure), or until a NOTIFY
//!    from a primary (or `fedns ctl refresh`) wakes the task.
//! 4. When expire passes without a successful refresh, the zone answers
//!    SERVFAIL until a primary is reachable again.
//!
//! Every version goes out through the zone store (which keeps the IXFR
//! history and tells NOTIFY-out and the metrics). The task of a zone
//! removed at run time (`fedns ctl zone-remove`, a catalog) ends when told
//! to, and its disk copy is deleted by whoever removed it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use hickory_proto::rr::{Name, Record};
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use super::client::{self, IncomingDiff, IxfrOutcome, TransferLimits};
use crate::metrics::{Metrics, TransferKey};
use crate::proto::clock::unix_now;
use crate::proto::name::{NameKey, name_key};
use crate::proto::serial::is_newer;
use crate::proto::tsig::TsigKey;
use crate::snapshot::ZoneSnapshot;
use crate::store::{ChangeKind, Edit, ZoneStore};
use crate::zone::load::load_zone_file;
use crate::zone::master::write_master_to;
use crate::zone::validate::validate_zone_indexed;
use crate::zone::{Place, SourcedRecord, Zone};

/// The shortest wait between refresh attempts, whatever the SOA says
/// (a zone with refresh 0 must not spin).
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// A secondary zone's configuration, with its key resolved, and the
/// handles that steer its task.
#[derive(Debug)]
pub struct SecondaryZone {
    /// The zone apex.
    pub zone: Name,
    /// Primaries, in order of preference: each is tried in turn.
    pub primaries: Vec<SocketAddr>,
    /// The key for transfers and NOTIFY, if any.
    pub key: Option<Arc<TsigKey>>,
    /// Wakes the refresh task (a NOTIFY arrived, or `fedns ctl refresh`).
    pub refresh_now: Notify,
    /// The next refresh transfers the whole zone by AXFR, whatever the
    /// serials say (`fedns ctl retransfer`).
    pub force_axfr: AtomicBool,
    /// What the task last did, for `fedns ctl status`.
    pub status: Mutex<SecondaryStatus>,
    /// True for a catalog zone (RFC 9432) whose members are served here.
    pub catalog: bool,
    /// The catalog this zone is a member of, when a catalog added it.
    pub member_of: Option<Name>,
    /// Transfers (and SOA queries) over TLS (XoT, RFC 9103), when set.
    pub tls: Option<Arc<super::xot::XotClient>>,
    stop: watch::Sender<bool>,
}

/// What a secondary zone's task last did (times are Unix seconds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecondaryStatus {
    /// The last refresh attempt, and what came of it.
    pub last_refresh: Option<(u64, String)>,
    /// The last time the data was confirmed current (a successful refresh).
    pub confirmed: Option<u64>,
    /// The primary that last answered.
    pub primary: Option<SocketAddr>,
    /// When the task will next ask the primaries.
    pub next_refresh: Option<u64>,
    /// When the data expires if no refresh succeeds before.
    pub expires: Option<u64>,
}

impl SecondaryZone {
    /// A secondary zone of `primaries`, transfers signed with `key`.
    pub fn new(zone: Name, primaries: Vec<SocketAddr>, key: Option<Arc<TsigKey>>) -> SecondaryZone {
        SecondaryZone {
            zone,
            primaries,
            key,
            refresh_now: Notify::new(),
            force_axfr: AtomicBool::new(false),
            status: Mutex::default(),
            catalog: false,
            member_of: None,
            tls: None,
            stop: watch::Sender::new(false),
        }
    }

    /// This zone, transferred over TLS with `tls`.
    pub fn over_tls(mut self, tls: Option<Arc<super::xot::XotClient>>) -> SecondaryZone {
        self.tls = tls;
        self
    }

    /// This zone, marked as a catalog zone that fedns consumes.
    pub fn consuming_catalog(mut self, catalog: bool) -> SecondaryZone {
        self.catalog = catalog;
        self
    }

    /// This zone, marked as a member of `catalog`.
    pub fn member_of(mut self, catalog: Name) -> SecondaryZone {
        self.member_of = Some(catalog);
        self
    }

    /// True if a NOTIFY from `peer` may trigger a refresh: it is one of the primaries.
    pub fn is_primary(&self, peer: SocketAddr) -> bool {
        self.primaries.iter().any(|p| p.ip() == peer.ip())
    }

    /// The file the zone is kept in.
    pub fn disk_path(&self, data_dir: &Path) -> PathBuf {
        let name = self.zone.to_ascii();
        let stem = name.trim_end_matches('.');
        data_dir.join(format!(
            "{}.zone",
            if stem.is_empty() { "root" } else { stem }
        ))
    }

    /// Ends the zone's task (it is being removed).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// A copy of what the task last did.
    pub fn status(&self) -> SecondaryStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn update_status(&self, f: impl FnOnce(&mut SecondaryStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// All secondary zones, by apex (for NOTIFY lookups and `fedns ctl`);
/// zones are added and removed at run time.
#[derive(Debug, Default)]
pub struct Secondaries(RwLock<HashMap<NameKey, Arc<SecondaryZone>>>);

impl Secondaries {
    /// A registry of `zones`.
    pub fn new(zones: Vec<Arc<SecondaryZone>>) -> Secondaries {
        Secondaries(RwLock::new(
            zones.into_iter().map(|z| (name_key(&z.zone), z)).collect(),
        ))
    }

    /// The secondary zone with this apex.
    pub fn get(&self, zone: &Name) -> Option<Arc<SecondaryZone>> {
        self.read().get(&*name_key(zone)).cloned()
    }

    /// Every secondary zone, sorted by apex.
    pub fn all(&self) -> Vec<Arc<SecondaryZone>> {
        let mut zones: Vec<_> = self.read().values().cloned().collect();
        zones.sort_by(|a, b| a.zone.cmp(&b.zone));
        zones
    }

    /// Adds `zone`; false (and nothing changes) if it is already here.
    pub fn insert(&self, zone: Arc<SecondaryZone>) -> bool {
        let mut zones = self.0.write().unwrap_or_else(|e| e.into_inner());
        let key = name_key(&zone.zone);
        if zones.contains_key(&key) {
            return false;
        }
        zones.insert(key, zone);
        true
    }

    /// Removes the zone with this apex, returning it.
    pub fn remove(&self, zone: &Name) -> Option<Arc<SecondaryZone>> {
        let mut zones = self.0.write().unwrap_or_else(|e| e.into_inner());
        zones.remove(&*name_key(zone))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<NameKey, Arc<SecondaryZone>>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The SOA timers of the version being served.
#[derive(Clone, Copy, Debug)]
struct Timers {
    serial: u32,
    refresh: Duration,
    retry: Duration,
    expire: Duration,
}

impl Timers {
    fn of(snapshot: &ZoneSnapshot) -> Timers {
        let soa = snapshot.soa();
        let secs = |v: i32| Duration::from_secs(u64::from(v.max(0).unsigned_abs()));
        Timers {
            serial: soa.serial,
            refresh: secs(soa.refresh),
            retry: secs(soa.retry),
            expire: secs(soa.expire),
        }
    }
}

/// Runs one secondary zone until `shutdown` turns true or the zone is
/// stopped ([`SecondaryZone::stop`]).
pub async fn run(
    zone: Arc<SecondaryZone>,
    store: Arc<ZoneStore>,
    data_dir: PathBuf,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut stopped = zone.stop.subscribe();
    let path = zone.disk_path(&data_dir);
    // The instant the data being served was last confirmed current.
    let mut confirmed: Option<(Instant, Timers)> = None;
    match load_disk_copy(&zone, &path) {
        Ok(Some((snapshot, age))) => {
            let timers = Timers::of(&snapshot);
            if age < timers.expire {
                info!(
                    "zone {} serial {} loaded from {} (refreshed {}s ago)",
                    zone.zone,
                    timers.serial,
                    path.display(),
                    age.as_secs()
                );
                zone.publish(&store, snapshot);
                confirmed = Some((
                    Instant::now().checked_sub(age).unwrap_or_else(Instant::now),
                    timers,
                ));
                let confirmed_at = unix_now().saturating_sub(age.as_secs());
                zone.update_status(|s| {
                    s.confirmed = Some(confirmed_at);
                    s.expires = Some(confirmed_at + timers.expire.as_secs());
                });
            } else {
                warn!(
                    "zone {}: the copy in {} is older than its expire; waiting for a transfer",
                    zone.zone,
                    path.display()
                );
            }
        }
        Ok(None) => {}
        Err(e) => warn!("zone {}: cannot use {}: {e}", zone.zone, path.display()),
    }
    if confirmed.is_none() {
        zone.mark_unavailable(&store);
    }
    loop {
        let force = zone.force_axfr.swap(false, Ordering::SeqCst);
        let held = confirmed.map(|(_, t)| t.serial).filter(|_| !force);
        let outcome = refresh(&zone, &store, &path, held, force).await;
        let now = unix_now();
        let wait = match outcome {
            Ok((timers, transfer, primary)) => {
                metrics.secondary_refreshed(&zone.zone.to_ascii(), timers.expire);
                if let Some(kind) = transfer {
                    metrics.count_transfer(TransferKey {
                        zone: zone.zone.to_ascii(),
                        direction: "in",
                        kind: kind.to_string(),
                        outcome: "ok",
                    });
                }
                confirmed = Some((Instant::now(), timers));
                zone.update_status(|s| {
                    let what = match transfer {
                        Some(kind) => format!("ok: {kind} to serial {}", timers.serial),
                        None => format!("ok: serial {} is current", timers.serial),
                    };
                    s.last_refresh = Some((now, what));
                    s.primary = Some(primary);
                    s.confirmed = Some(now);
                    s.expires = Some(now + timers.expire.as_secs());
                });
                timers.refresh
            }
            Err(e) => {
                warn!("zone {}: refresh failed: {e}", zone.zone);
                zone.update_status(|s| s.last_refresh = Some((now, format!("failed: {e}"))));
                metrics.count_transfer(TransferKey {
                    zone: zone.zone.to_ascii(),
                    direction: "in",
                    kind: "refresh".into(),
                    outcome: "failed",
                });
                match confirmed {
                    Some((at, timers)) if at.elapsed() >= timers.expire => {
                        warn!(
                            "zone {}: expired (no successful refresh in {}s); answering SERVFAIL",
                            zone.zone,
                            timers.expire.as_secs()
                        );
                        zone.mark_unavailable(&store);
                        confirmed = None;
                        zone.update_status(|s| s.expires = None);
                        timers.retry
                    }
                    Some((at, timers)) => {
                        timers.retry.min(timers.expire.saturating_sub(at.elapsed()))
                    }
                    None => Duration::from_secs(10),
                }
            }
        };
        let wait = wait.max(MIN_REFRESH_INTERVAL);
        zone.update_status(|s| s.next_refresh = Some(now + wait.as_secs()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = zone.refresh_now.notified() => {}
            _ = shutdown.changed() => return,
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// One refresh: SOA check against each primary in turn, and AXFR when the
/// primary's serial is newer than `current`. Returns the timers of the
/// version now served.
async fn refresh(
    zone: &SecondaryZone,
    store: &ZoneStore,
    path: &Path,
    current: Option<u32>,
    force_axfr: bool,
) -> Result<(Timers, Option<&'static str>, SocketAddr), String> {
    let mut errors = Vec::new();
    for &primary in &zone.primaries {
        let key = zone.key.as_ref();
        let serial = match client::soa_serial(
            primary,
            &zone.zone,
            key,
            Duration::from_secs(5),
            zone.tls.as_deref(),
        )
        .await
        {
            Ok(serial) => Some(serial),
            // A primary that serves the zone by transfer only (Knot's
            // generated catalogs): the IXFR below says whether we are
            // current.
            Err(client::TransferError::SoaRefused { .. }) => None,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        if let Some(ours) = current
            && let Some(serial) = serial
            && !is_newer(serial, ours)
            && let Some(snapshot) = store.zones().zone(&zone.zone)
        {
            touch(path);
            return Ok((Timers::of(snapshot), None, primary));
        }
        let started = Instant::now();
        // IXFR when we hold a version; any trouble with it falls back to AXFR.
        let held = store
            .zones()
            .zone(&zone.zone)
            .cloned()
            .filter(|_| !force_axfr);
        let mut incoming: Option<Incoming> = None;
        if let Some(current) = held.as_ref()
            && let Some(current_soa) = current.soa_record()
        {
            match client::ixfr(
                primary,
                &zone.zone,
                &current_soa,
                key,
                TransferLimits::default(),
                zone.tls.as_deref(),
            )
            .await
            {
                Ok((IxfrOutcome::UpToDate, _, _)) => {
                    touch(path);
                    return Ok((Timers::of(current), None, primary));
                }
                Ok((IxfrOutcome::Incremental { diffs, soa }, messages, bytes)) => {
                    match apply_diffs(current, diffs, soa) {
                        Ok(records) => {
                            incoming = Some((placed(&records, primary), "IXFR", messages, bytes))
                        }
                        Err(e) => warn!(
                            "zone {}: IXFR from {primary} does not apply ({e}); falling back to AXFR",
                            zone.zone
                        ),
                    }
                }
                Ok((IxfrOutcome::Full(records), messages, bytes)) => {
                    incoming = Some((
                        placed(&records, primary),
                        "IXFR (full zone)",
                        messages,
                        bytes,
                    ))
                }
                Err(e) => warn!(
                    "zone {}: IXFR failed ({e}); falling back to AXFR",
                    zone.zone
                ),
            }
        }
        let (records, kind, messages, bytes) = match incoming {
            Some(i) => i,
            None => match client::axfr(
                primary,
                &zone.zone,
                key,
                TransferLimits::default(),
                zone.tls.as_deref(),
            )
            .await
            {
                Ok(t) => (Ok(t.records), "AXFR", t.messages, t.bytes),
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            },
        };
        let records = match records {
            Ok(records) => records,
            Err(e) => {
                errors.push(format!("{kind} from {primary}: {e}"));
                continue;
            }
        };
        let new_zone = Zone {
            origin: zone.zone.clone(),
            records,
            matrix: Vec::new(),
            source: Some(path.to_path_buf()),
        };
        let index = match validate_zone_indexed(&new_zone) {
            Ok(index) => index,
            Err(e) => {
                errors.push(format!("{primary}: the transferred zone is invalid: {e}"));
                continue;
            }
        };
        if zone.is_stopped() {
            return Err("the zone is being removed".into());
        }
        let snapshot = match ZoneSnapshot::build_indexed(new_zone, index) {
            Ok(s) => s,
            Err(e) => {
                errors.push(format!("{primary}: {e}"));
                continue;
            }
        };
        let timers = Timers::of(&snapshot);
        let count = snapshot.record_count();
        zone.publish(store, snapshot);
        // The disk copy is written from the version now served: peers get
        // answers without waiting for it, and the zone is never held twice.
        // Awaited, so two transfers in a row cannot race their renames.
        let published = store.zones().zone(&zone.zone).cloned();
        if let Some(published) = published.filter(|_| !zone.is_stopped()) {
            let file = path.to_path_buf();
            let written =
                tokio::task::spawn_blocking(move || write_disk_copy(&file, &published)).await;
            if let Some(e) = match written {
                Ok(result) => result.err(),
                Err(e) => Some(std::io::Error::other(e)),
            } {
                warn!(
                    "zone {}: cannot write {}: {e} (serving the new version anyway)",
                    zone.zone,
                    path.display()
                );
            }
        }
        info!(
            "zone {} {kind} from {primary}: serial {} -> {} ({count} records, {messages} messages, {bytes} bytes, {} ms)",
            zone.zone,
            current.map_or_else(|| "none".to_string(), |s| s.to_string()),
            timers.serial,
            started.elapsed().as_millis()
        );
        let kind = if kind == "AXFR" { "AXFR" } else { "IXFR" };
        return Ok((timers, Some(kind), primary));
    }
    Err(errors.join("; "))
}

impl SecondaryZone {
    /// True once the zone is being removed ([`SecondaryZone::stop`]).
    pub fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Publishes a transferred version, unless the zone is being removed.
    fn publish(&self, store: &ZoneStore, snapshot: ZoneSnapshot) {
        store.apply_unless(
            vec![Edit::Publish(Box::new(snapshot))],
            ChangeKind::Transfer,
            || self.is_stopped(),
        );
    }

    /// Makes the zone answer SERVFAIL, unless it is being removed.
    fn mark_unavailable(&self, store: &ZoneStore) {
        store.apply_unless(
            vec![Edit::Unavailable(self.zone.clone())],
            ChangeKind::Unavailable,
            || self.is_stopped(),
        );
    }
}

/// The disk copy, validated, and how long ago it was last confirmed current.
fn load_disk_copy(
    zone: &SecondaryZone,
    path: &Path,
) -> Result<Option<(ZoneSnapshot, Duration)>, String> {
    let modified = match std::fs::metadata(path) {
        Ok(m) => m.modified().map_err(|e| e.to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let loaded = load_zone_file(path).map_err(|e| e.to_string())?;
    if loaded.origin != zone.zone {
        return Err(format!(
            "it holds zone {}, not {}",
            loaded.origin, zone.zone
        ));
    }
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or_default();
    ZoneSnapshot::build(loaded).map(|s| Some((s, age)))
}

/// A transferred version: its records (or why they cannot be kept), how it
/// came (`AXFR`, `IXFR`...), and the messages and bytes it took.
type Incoming = (
    Result<Vec<SourcedRecord>, String>,
    &'static str,
    usize,
    usize,
);

/// `records` (from an IXFR) placed at `<IXFR from PRIMARY>`.
fn placed(records: &[Record], primary: SocketAddr) -> Result<Vec<SourcedRecord>, String> {
    let source: Arc<str> = Arc::from(format!("<IXFR from {primary}>"));
    records
        .iter()
        .map(|record| SourcedRecord::new(record, Place::file(&source)))
        .collect()
}

/// Writes a served version of the zone as a master file (its SOA first):
/// temporary file, fsync, rename, so a crash leaves the old copy or the new
/// one, never half of one. Records are written one at a time from the
/// snapshot: the zone is never held again as text or as decoded records.
pub fn write_disk_copy(path: &Path, snapshot: &ZoneSnapshot) -> std::io::Result<()> {
    crate::store::files::write_atomically_with(path, |out| {
        write_master_to(
            out,
            snapshot.origin(),
            snapshot
                .soa_record()
                .into_iter()
                .chain(snapshot.records_except_soa()),
        )
    })
}

/// Marks the disk copy as confirmed current now (its mtime is the clock of expire).
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// The records of `current` with `diffs` applied (RFC 1995): each diff must
/// start at the serial the previous one produced, and every deletion must
/// name a record we hold, or the IXFR is refused (and AXFR used).
fn apply_diffs(
    current: &ZoneSnapshot,
    diffs: Vec<IncomingDiff>,
    soa: hickory_proto::rr::Record,
) -> Result<Vec<hickory_proto::rr::Record>, String> {
    use crate::snapshot::history::record_key;
    let mut records: HashMap<Vec<u8>, hickory_proto::rr::Record> = current
        .records_except_soa()
        .map(|r| (record_key(&r), r))
        .collect();
    let mut serial = current.serial();
    for diff in diffs {
        if diff.from_serial != serial {
            return Err(format!(
                "a difference from serial {} while we hold {serial}",
                diff.from_serial
            ));
        }
        for r in diff.removed {
            if records.remove(&record_key(&r)).is_none() {
                return Err(format!(
                    "it deletes {} {} which we do not hold",
                    r.name,
                    r.record_type()
                ));
            }
        }
        for r in diff.added {
            records.insert(record_key(&r), r);
        }
        serial = diff.to_serial;
    }
    Ok(std::iter::once(soa).chain(records.into_values()).collect())
}
