//! Catalog zones (RFC 9432) at run time, both roles.
//!
//! - **Consumer.** [`follow_catalogs`] subscribes to the zone store. When a
//!   catalog zone fedns consumes is published at a new serial (a transfer,
//!   or its disk copy at start), its members are read
//!   ([`catalog::parse`]) and applied: new members become secondary zones
//!   of the catalog's primaries (with its key), members that left are
//!   removed (no longer served, their disk copies deleted), a member whose
//!   unique ID changed is transferred afresh. A broken catalog changes
//!   nothing. Members are not written anywhere else: after a restart the
//!   catalog's own disk copy brings them back.
//! - **Producer.** [`Daemon::publish_produced_catalogs`] writes each
//!   catalog fedns produces, listing every primary zone loaded from a
//!   file, after every load and reload; its serial goes up (to the Unix
//!   time, or by one) whenever the membership changes, and NOTIFY follows
//!   through the store like for any zone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hickory_proto::rr::Name;
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use super::Daemon;
use crate::proto::clock::unix_now;
use crate::proto::name::{NameKey, name_key};
use crate::proto::serial::is_newer;
use crate::store::{ChangeKind, Edit, ZoneChange};
use crate::xfr::catalog::{self, Catalog};
use crate::xfr::secondary::SecondaryZone;

/// The members each consumed catalog has added, by catalog.
pub type AppliedCatalogs = HashMap<NameKey, Catalog>;

/// Follows the store's `changes` until `shutdown`, applying every new
/// version of a consumed catalog.
pub async fn follow_catalogs(
    daemon: Arc<Daemon>,
    mut changes: mpsc::UnboundedReceiver<ZoneChange>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Some(change) => daemon.catalog_changed(&change),
                None => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}

impl Daemon {
    fn catalog_changed(&self, change: &ZoneChange) {
        let Some(catalog_zone) = self.xfr.secondaries.get(&change.zone).filter(|z| z.catalog)
        else {
            return;
        };
        if change.kind == ChangeKind::Remove {
            self.apply_catalog(&catalog_zone, Catalog::default());
            return;
        }
        let Some(serial) = change.new_serial.filter(|_| change.is_new_serial()) else {
            return;
        };
        let Some(snapshot) = self.store.zones().zone(&change.zone).cloned() else {
            return;
        };
        match catalog::parse(&snapshot) {
            Ok(catalog) => self.apply_catalog(&catalog_zone, catalog),
            Err(e) => warn!(
                "catalog {} serial {serial} is broken, its members stay as they were: {e}",
                change.zone
            ),
        }
    }

    /// Makes the members of `catalog_zone` those of `catalog`.
    fn apply_catalog(&self, catalog_zone: &SecondaryZone, catalog: Catalog) {
        let name = &catalog_zone.zone;
        let mut applied = self
            .catalog_members
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let old = applied.remove(&name_key(name)).unwrap_or_default();
        let mut kept = Catalog::default();
        for (key, member) in catalog.members {
            match old.members.get(&key) {
                Some(before) => {
                    if before.id != member.id {
                        // RFC 9432 5.5: a new unique ID resets the member.
                        if let Some(zone) = self.xfr.secondaries.get(&member.zone) {
                            info!(
                                "zone {}: its ID in catalog {name} changed ({} -> {}); transferring it afresh",
                                member.zone, before.id, member.id
                            );
                            zone.force_axfr
                                .store(true, std::sync::atomic::Ordering::SeqCst);
                            zone.refresh_now.notify_one();
                        }
                    }
                    kept.members.insert(key, member);
                }
                None => {
                    if self.store.zones().contains(&member.zone)
                        || self.xfr.secondaries.get(&member.zone).is_some()
                    {
                        warn!(
                            "catalog {name} lists zone {}, which is already served here otherwise; ignored",
                            member.zone
                        );
                        continue;
                    }
                    let zone = Arc::new(
                        SecondaryZone::new(
                            member.zone.clone(),
                            catalog_zone.primaries.clone(),
                            catalog_zone.key.clone(),
                        )
                        .member_of(name.clone())
                        .over_tls(catalog_zone.tls.clone()),
                    );
                    if !self.xfr.secondaries.insert(Arc::clone(&zone)) {
                        continue;
                    }
                    self.store.apply(
                        vec![Edit::Unavailable(member.zone.clone())],
                        ChangeKind::Unavailable,
                    );
                    self.start_secondary(zone);
                    info!(
                        "zone {} added from catalog {name} (ID {})",
                        member.zone, member.id
                    );
                    kept.members.insert(key, member);
                }
            }
        }
        for (key, member) in &old.members {
            if !kept.members.contains_key(key) {
                self.drop_secondary(&member.zone);
                info!("zone {} removed: it left catalog {name}", member.zone);
            }
        }
        applied.insert(name_key(name), kept);
    }

    /// Writes each catalog fedns produces, listing the primary zones the
    /// files own (`file_zones`), when its membership changed.
    pub(super) fn publish_produced_catalogs(&self, file_zones: &HashSet<NameKey>) {
        if self.produced_catalogs.is_empty() {
            return;
        }
        let zones = self.store.zones_owned();
        let mut members: Vec<Name> = zones
            .zones()
            .iter()
            .filter(|z| file_zones.contains(z.origin_key()))
            .map(|z| z.origin().clone())
            .collect();
        members.sort();
        for origin in &self.produced_catalogs {
            let current = zones.zone(origin);
            if let Some(current) = current
                && catalog::parse(current).is_ok_and(|c| catalog::member_names(&c) == members)
            {
                continue;
            }
            let serial = next_serial(current.map(|z| z.serial()));
            match catalog::produce(origin, &members, serial) {
                Ok(snapshot) => {
                    info!(
                        "catalog {origin} serial {serial}: {} member zone(s)",
                        members.len()
                    );
                    self.store.publish(snapshot, ChangeKind::Reload);
                }
                Err(e) => warn!("catalog {origin} cannot be written: {e}"),
            }
        }
    }
}

/// The serial of a produced catalog's next version: the Unix time, or one
/// more than `old` when that is not newer (RFC 1982).
fn next_serial(old: Option<u32>) -> u32 {
    // Serials are 32-bit sequence numbers: the time wraps with them.
    let now = unix_now() as u32;
    match old {
        Some(old) if !is_newer(now, old) => old.wrapping_add(1),
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_produced_catalog_serial_always_goes_up() {
        let now = unix_now() as u32;
        assert!(next_serial(None) >= now);
        assert_eq!(next_serial(Some(now + 100)), now + 101);
        assert!(next_serial(Some(5)) >= now);
    }
}
