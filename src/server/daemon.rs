//! The long-running `fedns serve` process: load the zones, listen, run the
//! secondary zones, send NOTIFY, reload on SIGHUP, stop on SIGTERM.
//!
//! This is the one place that wires the pieces together; each piece (zone
//! loading, the listeners, the secondary tasks, NOTIFY) is its own module.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use hickory_proto::rr::Name;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use super::reload::{LoadGate, LoadReport, ZoneSources, load};
use super::{FrontEnd, ListenConfig, RunningServer, ServedZones, SharedZones};
use crate::config::Config;
use crate::proto::tsig::{KeyRing, TsigKey};
use crate::snapshot::ZoneSet;
use crate::xfr::XfrContext;
use crate::xfr::primary::TransferPolicy;
use crate::xfr::secondary::{self, Secondaries, SecondaryZone};

/// Where secondary zones are kept when the configuration does not say.
pub const DEFAULT_DATA_DIR: &str = "data";
/// How long in-flight answers and transfers get to finish on SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Everything `fedns serve` needs to run.
pub struct ServeSettings {
    /// The zone files.
    pub sources: ZoneSources,
    /// The listeners.
    pub listen: ListenConfig,
    /// The configuration file's contents (transfers, keys, secondaries).
    pub config: Config,
    /// The counters the metrics endpoint shows (shared with the load gate).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Run as this user once the sockets are bound (`--user`).
    pub user: Option<String>,
    /// Sees the valid zones of every load and reload before they are served
    /// (the lint logs its findings here, and refuses them with `--strict`).
    pub gate: Arc<LoadGate>,
}

impl std::fmt::Debug for ServeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeSettings")
            .field("sources", &self.sources)
            .field("listen", &self.listen)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn serve(settings: ServeSettings) -> anyhow::Result<()> {
    let ServeSettings {
        sources,
        listen,
        config,
        gate,
        user,
        metrics,
    } = settings;
    let xfr = Arc::new(xfr_context(&config)?);
    let (zones, report) = load(&sources, &ZoneSet::default(), &*gate);
    log_report(&report);
    if report.refused {
        bail!(
            "--strict: the zones have delegation errors (above); not serving. `fedns check` explains them"
        );
    }
    if !report.failed.is_empty() {
        bail!(
            "{} zone file(s) failed to load; fix the errors above",
            report.failed.len()
        );
    }
    for zone in xfr.secondaries.iter() {
        if zones.contains(&zone.zone) {
            bail!(
                "zone {} is both a [[secondary]] and loaded from a zone file: remove one",
                zone.zone
            );
        }
    }
    if zones.is_empty() && xfr.secondaries.iter().next().is_none() {
        bail!(
            "no zones to serve in {}: add NAME.toml or NAME.zone files",
            describe_sources(&sources)
        );
    }
    let mut initial = zones;
    for zone in xfr.secondaries.iter() {
        initial = initial.with_unavailable(&zone.zone);
    }
    let primary_zones: Vec<(Name, u32)> = initial
        .zones()
        .iter()
        .map(|z| (z.origin().clone(), z.serial()))
        .collect();
    let shared: SharedZones = Arc::new(ArcSwap::from_pointee(ServedZones::new(initial)));
    let front = Arc::new(FrontEnd {
        zones: Arc::clone(&shared),
        xfr: Arc::clone(&xfr),
        rrl: config
            .rate_limit
            .clone()
            .map(super::rrl::ResponseRateLimiter::new),
        metrics: Arc::clone(&metrics),
    });
    let server = RunningServer::start(&listen, front)
        .await
        .with_context(|| format!("cannot listen on {}", join(&listen.listen)))?;
    for addr in server.local_addrs() {
        info!("listening on {addr} (UDP and TCP)");
    }
    for (zone, serial) in &primary_zones {
        metrics.set_serial(&zone.to_ascii(), *serial);
    }
    if let Some(user) = &user {
        let (uid, gid) = super::privileges::drop_privileges(user)?;
        info!("running as user {user} (uid {uid}, gid {gid})");
    }

    let (stop, stopped) = watch::channel(false);
    if let Some(addr) = config.metrics_listen {
        crate::metrics::serve(addr, Arc::clone(&metrics), stopped.clone())
            .await
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
    }
    let mut background = JoinSet::new();
    let data_dir = config
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    for zone in xfr.secondaries.iter() {
        let notify = (!xfr.notify.is_empty()).then(|| (xfr.notify.clone(), xfr.notify_key.clone()));
        background.spawn(secondary::run(
            Arc::clone(zone),
            Arc::clone(&shared),
            data_dir.clone(),
            notify,
            Arc::clone(&metrics),
            stopped.clone(),
        ));
    }
    for (zone, serial) in primary_zones {
        notify_changed(&xfr, &mut background, zone, serial);
    }

    wait_for_signals(&sources, &shared, &xfr, &mut background, &gate, &metrics).await?;
    info!("shutting down");
    let _ = stop.send(true);
    server.shutdown(SHUTDOWN_GRACE).await;
    if tokio::time::timeout(SHUTDOWN_GRACE, async {
        while background.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        background.abort_all();
    }
    Ok(())
}

/// Keys, transfer policy, secondaries and NOTIFY targets from the configuration.
pub fn xfr_context(config: &Config) -> anyhow::Result<XfrContext> {
    let mut keys = Vec::new();
    for k in &config.tsig_keys {
        keys.push(
            TsigKey::new(&k.name, &k.algorithm, &k.secret)
                .map_err(|e| anyhow::anyhow!("tsig_key {:?}: {e}", k.name))?,
        );
    }
    let keys = KeyRing::new(keys);
    let key_named = |name: &Option<String>| -> anyhow::Result<Option<Arc<TsigKey>>> {
        match name {
            None => Ok(None),
            Some(n) => {
                let name = Name::from_ascii(n).with_context(|| format!("bad key name {n:?}"))?;
                keys.get(&name)
                    .cloned()
                    .map(Some)
                    .with_context(|| format!("no [[tsig_key]] named {n:?}"))
            }
        }
    };
    let mut secondaries = Vec::new();
    for s in &config.secondaries {
        secondaries.push(Arc::new(SecondaryZone {
            zone: s.zone.clone(),
            primaries: s.primaries.clone(),
            key: key_named(&s.tsig_key)?,
            refresh_now: Notify::new(),
        }));
    }
    Ok(XfrContext {
        policy: TransferPolicy::new(config.transfer_allow.clone()),
        notify_key: key_named(&config.notify_key)?,
        keys,
        secondaries: Secondaries::new(secondaries),
        notify: config.notify.clone(),
    })
}

/// Sends NOTIFY for `zone` to the configured secondaries, in the background.
fn notify_changed(xfr: &XfrContext, tasks: &mut JoinSet<()>, zone: Name, serial: u32) {
    if xfr.notify.is_empty() {
        return;
    }
    tasks.spawn(crate::xfr::notify::notify_secondaries(
        zone,
        serial,
        xfr.notify.clone(),
        xfr.notify_key.clone(),
    ));
}

/// Reloads on SIGHUP; returns on SIGTERM or SIGINT.
#[cfg(unix)]
async fn wait_for_signals(
    sources: &ZoneSources,
    shared: &SharedZones,
    xfr: &Arc<XfrContext>,
    background: &mut JoinSet<()>,
    gate: &Arc<LoadGate>,
    metrics: &Arc<crate::metrics::Metrics>,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                info!("SIGHUP: reloading zones");
                let sources = sources.clone();
                let current = shared.load_full();
                let gate = Arc::clone(gate);
                let (files, report) = tokio::task::spawn_blocking(move || load(&sources, &current.zones, &*gate))
                    .await
                    .context("reload task failed")?;
                log_report(&report);
                if report.refused {
                    error!("--strict: the reloaded zones have delegation errors (above); still serving the previous versions");
                    metrics.count_reload("refused");
                    continue;
                }
                metrics.count_reload(if report.failed.is_empty() { "ok" } else { "partial" });
                let before: Vec<(Name, u32)> = shared.load().zones.zones().iter().map(|z| (z.origin().clone(), z.serial())).collect();
                let files = Arc::new(files);
                // Secondary zones are not in the files: keep their current state.
                shared.rcu(|current| {
                    let mut next = ZoneSet::new(files.zones().into_iter().cloned());
                    for zone in xfr.secondaries.iter() {
                        next = match current.zones.zone(&zone.zone) {
                            Some(z) => next.with_zone(Arc::clone(z)),
                            None => next.with_unavailable(&zone.zone),
                        };
                    }
                    ServedZones::new(next)
                });
                for z in files.zones() {
                    metrics.set_serial(&z.origin().to_ascii(), z.serial());
                    let changed = before.iter().find(|(o, _)| o == z.origin()).is_none_or(|(_, s)| *s != z.serial());
                    if changed {
                        notify_changed(xfr, background, z.origin().clone(), z.serial());
                    }
                }
                // The replaced versions are gone (queries hold them for microseconds).
                crate::server::reload::release_freed_memory();
                while background.try_join_next().is_some() {}
            }
            _ = term.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signals(
    _: &ZoneSources,
    _: &SharedZones,
    _: &Arc<XfrContext>,
    _: &mut JoinSet<()>,
    _: &Arc<LoadGate>,
    _: &Arc<crate::metrics::Metrics>,
) -> anyhow::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")
}

/// Logs what a load did: each zone with its serial, each error with its place.
pub fn log_report(report: &LoadReport) {
    for z in &report.loaded {
        let from = z
            .source
            .as_ref()
            .map(|p| format!(" from {}", p.display()))
            .unwrap_or_default();
        info!(
            "loaded zone {} serial {} ({} records){from}",
            z.origin, z.serial, z.records
        );
    }
    for (path, errors) in &report.failed {
        for e in errors.iter() {
            error!("{e}");
        }
        error!(
            "{}: not loaded ({} error(s))",
            path.display(),
            errors.0.len()
        );
    }
    for z in &report.kept {
        warn!(
            "zone {} keeps serving serial {} (its file failed to load)",
            z.origin, z.serial
        );
    }
    for z in &report.serial_not_increased {
        warn!(
            "zone {} changed but its serial {} did not: increase it, or secondaries keep the old data",
            z.origin, z.serial
        );
    }
}

fn describe_sources(sources: &ZoneSources) -> String {
    match sources {
        ZoneSources::Dir(d) => d.display().to_string(),
        ZoneSources::Files(f) => f
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn join(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
