//! The zone store: the one owner of the published zone set, and the only
//! way to change it.
//!
//! Every source of zone data goes through [`ZoneStore::apply`]: a file
//! load or SIGHUP reload, a transfer in, a dynamic update, a catalog
//! adding or removing a member, a control command. One function publishes,
//! so the invariants live in one place:
//!
//! - a new version of a zone *succeeds* the version it replaces: the IXFR
//!   history is carried forward and extended with the difference between
//!   the two (or dropped when the data changed under the same serial, which
//!   the change event reports so the caller can warn);
//! - a batch of edits is published in one atomic swap, so no query ever
//!   sees half of a reload;
//! - edits are serialised (one writer at a time), so two publishers can
//!   never lose each other's change;
//! - zones the batch does not name are untouched: their snapshots are
//!   shared, never rebuilt;
//! - every edit that changes what is served emits one [`ZoneChange`] to
//!   every subscriber, in publication order. NOTIFY-out, the metrics, the
//!   control socket's status and the secondary's bookkeeping subscribe;
//!   nobody else learns of changes another way.
//!
//! Readers (the front end, transfers out, `fedns ctl status`) take the
//! current set with [`ZoneStore::zones`]: one atomic load, no lock.
//!
//! Subscribers get their own unbounded channel. That is a deliberate
//! choice over a bounded broadcast: a lagging NOTIFY-out task must not
//! silently miss a serial. The queue cannot grow without bound in
//! practice: events are made only by configuration, files, transfers and
//! authenticated updates, never by an unauthenticated packet, and each
//! carries a name and two serials.

pub mod files;
pub mod journal;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::{ArcSwap, Guard};
use hickory_proto::rr::Name;
use tokio::sync::mpsc;

use crate::snapshot::{Succession, ZoneSet, ZoneSnapshot};

/// Why a zone changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Loaded from its file when the server started.
    Load,
    /// Read again from its file (SIGHUP or `fedns ctl reload`).
    Reload,
    /// Transferred from a primary (AXFR or IXFR), or read from the
    /// secondary's disk copy.
    Transfer,
    /// Changed by a dynamic update (RFC 2136).
    Update,
    /// A secondary zone that passed its SOA expire, or has no data yet.
    Unavailable,
    /// No longer served (its file is gone, or the zone was removed).
    Remove,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Load => "load",
            ChangeKind::Reload => "reload",
            ChangeKind::Transfer => "transfer",
            ChangeKind::Update => "update",
            ChangeKind::Unavailable => "unavailable",
            ChangeKind::Remove => "remove",
        })
    }
}

/// One published change to one zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneChange {
    /// The zone's apex.
    pub zone: Name,
    /// The serial served before (`None`: the zone had no data).
    pub old_serial: Option<u32>,
    /// The serial served now (`None`: removed, or without data).
    pub new_serial: Option<u32>,
    /// What caused it.
    pub kind: ChangeKind,
    /// True when the zone's records changed but its serial did not:
    /// secondaries will not see the change, and the IXFR history restarts.
    pub serial_not_increased: bool,
}

impl ZoneChange {
    /// The zone no longer has data (removed, or unavailable) after `old`.
    fn without_data(zone: Name, old_serial: Option<u32>, kind: ChangeKind) -> ZoneChange {
        ZoneChange {
            zone,
            old_serial,
            new_serial: None,
            kind,
            serial_not_increased: false,
        }
    }

    /// True when secondaries should hear of this change (NOTIFY): the zone
    /// now has data at a serial it did not have before.
    pub fn is_new_serial(&self) -> bool {
        self.new_serial.is_some() && self.new_serial != self.old_serial
    }
}

/// One edit of a batch given to [`ZoneStore::apply`].
#[derive(Debug)]
pub enum Edit {
    /// Serve this version of its zone (added if the zone is new).
    Publish(Box<ZoneSnapshot>),
    /// Keep the zone configured but answer SERVFAIL for it (a secondary
    /// without data, or past its expire).
    Unavailable(Name),
    /// Stop serving the zone: names in it get REFUSED (or an enclosing
    /// zone's answer).
    Remove(Name),
}

/// The published zone set and its change events.
#[derive(Debug, Default)]
pub struct ZoneStore {
    published: ArcSwap<ZoneSet>,
    /// Held for the whole of an edit: one writer at a time.
    writer: Mutex<Vec<mpsc::UnboundedSender<ZoneChange>>>,
}

impl ZoneStore {
    /// A store serving nothing yet.
    pub fn new() -> ZoneStore {
        ZoneStore::default()
    }

    /// A store serving `zones` from the start, with no events for them
    /// (used where no one subscribes: tests, `fedns explain`, benchmarks).
    pub fn with_zones(zones: ZoneSet) -> ZoneStore {
        ZoneStore {
            published: ArcSwap::from_pointee(zones),
            writer: Mutex::default(),
        }
    }

    /// The zones as now published: one atomic load, for the hot path.
    pub fn zones(&self) -> Guard<Arc<ZoneSet>> {
        self.published.load()
    }

    /// The zones as now published, as an owned handle (for work that
    /// outlives a short borrow, such as a transfer out).
    pub fn zones_owned(&self) -> Arc<ZoneSet> {
        self.published.load_full()
    }

    /// A new subscriber: it receives every change published from now on, in
    /// order. Dropping the receiver unsubscribes.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<ZoneChange> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().push(tx);
        rx
    }

    /// Publishes one new version of one zone.
    pub fn publish(&self, zone: ZoneSnapshot, kind: ChangeKind) -> Option<ZoneChange> {
        self.apply(vec![Edit::Publish(Box::new(zone))], kind).pop()
    }

    /// Applies `edits` in one atomic swap and returns the changes they made
    /// (also sent to every subscriber). An edit that changes nothing (the
    /// same records at the same serial, a removal of a zone not served)
    /// makes no event.
    pub fn apply(&self, edits: Vec<Edit>, kind: ChangeKind) -> Vec<ZoneChange> {
        self.apply_unless(edits, kind, || false)
    }

    /// [`ZoneStore::apply`], unless `withdrawn()` is true when the writer
    /// lock is held: a source whose zone is being removed (a secondary
    /// task that finishes a transfer just as its zone leaves a catalog)
    /// cannot bring the zone back. The remover sets its flag, then removes
    /// the zone; whichever of the two edits comes second wins.
    pub fn apply_unless(
        &self,
        edits: Vec<Edit>,
        kind: ChangeKind,
        withdrawn: impl FnOnce() -> bool,
    ) -> Vec<ZoneChange> {
        let mut subscribers = self.lock();
        if withdrawn() {
            return Vec::new();
        }
        let current = self.published.load_full();
        let (next, changes) = next_version(&current, edits, kind);
        if let Some(next) = next {
            self.published.store(Arc::new(next));
        }
        subscribers.retain(|s| changes.iter().all(|c| s.send(c.clone()).is_ok()));
        changes
    }

    /// The writer lock. A panic while publishing cannot leave a half-made
    /// version (the swap is the last step), so a poisoned lock is safe to
    /// take over.
    fn lock(&self) -> MutexGuard<'_, Vec<mpsc::UnboundedSender<ZoneChange>>> {
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The set that `edits` make of `current`, and the changes: pure, so the
/// rules are tested without a store. `None` when nothing changed.
fn next_version(
    current: &ZoneSet,
    edits: Vec<Edit>,
    kind: ChangeKind,
) -> (Option<ZoneSet>, Vec<ZoneChange>) {
    let mut next = current.clone();
    let mut changes = Vec::new();
    let mut touched = false;
    for edit in edits {
        match edit {
            Edit::Publish(snapshot) => {
                let old = next.zone(snapshot.origin()).cloned();
                let (snapshot, succession) = match &old {
                    Some(previous) => snapshot.succeeding(previous),
                    None => (*snapshot, Succession::NewData),
                };
                let same_data = succession == Succession::SameData
                    && old.as_ref().map(|z| z.serial()) == Some(snapshot.serial());
                let change = ZoneChange {
                    zone: snapshot.origin().clone(),
                    old_serial: old.as_ref().map(|z| z.serial()),
                    new_serial: Some(snapshot.serial()),
                    kind,
                    serial_not_increased: succession == Succession::NewDataSameSerial,
                };
                // The new snapshot is published even when its records are
                // the same: the zone's metadata ([[matrix]] settings, its
                // source file) may have changed. No event: nothing a peer
                // or a counter can see did.
                next.insert(Arc::new(snapshot));
                touched = true;
                if !same_data {
                    changes.push(change);
                }
            }
            Edit::Unavailable(origin) => {
                let old = next.zone(&origin).map(|z| z.serial());
                if old.is_some() || !next.contains(&origin) {
                    next.insert_unavailable(&origin);
                    touched = true;
                    changes.push(ZoneChange::without_data(origin, old, kind));
                }
            }
            Edit::Remove(origin) => {
                if next.contains(&origin) {
                    let old = next.zone(&origin).map(|z| z.serial());
                    next.remove(&origin);
                    touched = true;
                    changes.push(ZoneChange::without_data(origin, old, ChangeKind::Remove));
                }
            }
        }
    }
    (touched.then_some(next), changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::snapshot_from_toml;

    fn zone(origin: &str, serial: u32, address: &str) -> ZoneSnapshot {
        let text = format!(
            "origin = \"{origin}\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = {serial}\n\
             [[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"{address}\"]\n"
        );
        snapshot_from_toml(&text)
    }

    fn name(s: &str) -> Name {
        s.parse().unwrap()
    }

    #[test]
    fn publishing_adds_then_succeeds_with_ixfr_history() {
        let store = ZoneStore::new();
        let mut events = store.subscribe();
        let first = store
            .publish(zone("a.test.", 1, "192.0.2.1"), ChangeKind::Load)
            .unwrap();
        assert_eq!((first.old_serial, first.new_serial), (None, Some(1)));
        assert!(first.is_new_serial());
        let second = store
            .publish(zone("a.test.", 2, "192.0.2.2"), ChangeKind::Reload)
            .unwrap();
        assert_eq!((second.old_serial, second.new_serial), (Some(1), Some(2)));
        let served = store.zones();
        let a = served.zone(&name("a.test.")).unwrap();
        assert_eq!(a.serial(), 2);
        assert_eq!(a.history().since(1).map(<[_]>::len), Some(1), "IXFR 1 -> 2");
        assert_eq!(events.try_recv().unwrap(), first);
        assert_eq!(events.try_recv().unwrap(), second);
        assert!(events.try_recv().is_err());
    }

    #[test]
    fn the_same_data_again_makes_no_event_and_new_data_under_an_old_serial_says_so() {
        let store = ZoneStore::new();
        store.publish(zone("a.test.", 5, "192.0.2.1"), ChangeKind::Load);
        let mut events = store.subscribe();
        assert_eq!(
            store.publish(zone("a.test.", 5, "192.0.2.1"), ChangeKind::Reload),
            None
        );
        assert!(events.try_recv().is_err());
        let stale = store
            .publish(zone("a.test.", 5, "192.0.2.9"), ChangeKind::Reload)
            .unwrap();
        assert!(stale.serial_not_increased);
        assert!(!stale.is_new_serial(), "no NOTIFY for an unchanged serial");
        assert!(
            store
                .zones()
                .zone(&name("a.test."))
                .unwrap()
                .history()
                .is_empty()
        );
    }

    #[test]
    fn a_batch_is_one_swap_and_leaves_other_zones_shared() {
        let store = ZoneStore::new();
        store.apply(
            vec![
                Edit::Publish(Box::new(zone("a.test.", 1, "192.0.2.1"))),
                Edit::Publish(Box::new(zone("b.test.", 1, "192.0.2.2"))),
                Edit::Publish(Box::new(zone("c.test.", 1, "192.0.2.3"))),
            ],
            ChangeKind::Load,
        );
        let before = store.zones_owned();
        let changes = store.apply(
            vec![
                Edit::Publish(Box::new(zone("a.test.", 2, "192.0.2.4"))),
                Edit::Remove(name("b.test.")),
                Edit::Unavailable(name("d.test.")),
                Edit::Remove(name("nothere.test.")),
            ],
            ChangeKind::Reload,
        );
        let kinds: Vec<_> = changes
            .iter()
            .map(|c| (c.zone.to_ascii(), c.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("a.test.".into(), ChangeKind::Reload),
                ("b.test.".into(), ChangeKind::Remove),
                ("d.test.".into(), ChangeKind::Reload),
            ]
        );
        let after = store.zones_owned();
        assert!(Arc::ptr_eq(
            before.zone(&name("c.test.")).unwrap(),
            after.zone(&name("c.test.")).unwrap()
        ));
        assert!(!after.contains(&name("b.test.")));
        assert!(after.contains(&name("d.test.")) && after.zone(&name("d.test.")).is_none());
        assert_eq!(
            before.zone(&name("a.test.")).unwrap().serial(),
            1,
            "readers keep their version"
        );
    }

    #[test]
    fn a_withdrawn_source_cannot_publish() {
        let store = ZoneStore::new();
        let changes = store.apply_unless(
            vec![Edit::Publish(Box::new(zone("a.test.", 1, "192.0.2.1")))],
            ChangeKind::Transfer,
            || true,
        );
        assert!(changes.is_empty());
        assert!(!store.zones().contains(&name("a.test.")));
    }

    #[test]
    fn a_dropped_subscriber_is_forgotten() {
        let store = ZoneStore::new();
        drop(store.subscribe());
        let mut live = store.subscribe();
        store.publish(zone("a.test.", 1, "192.0.2.1"), ChangeKind::Load);
        assert!(live.try_recv().is_ok());
        assert_eq!(store.lock().len(), 1);
    }
}
