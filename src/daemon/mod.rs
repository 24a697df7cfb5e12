//! The long-running `fedns serve` process: the one place that wires the
//! pieces together.
//!
//! It owns the [`ZoneStore`] and everything around it: the zone files
//! (loaded at start, reloaded on SIGHUP and `fedns ctl reload`), the
//! secondary zones' tasks (started from the configuration, added and
//! removed by `fedns ctl`), the NOTIFY-out and metrics subscribers, the
//! listeners, the metrics endpoint and the control socket ([`control`]).
//! The front end and the transfer side never meet: it hands the front end
//! the transfer side's NOTIFY and transfer handlers through the
//! [`ZoneRequests`] seam.
//!
//! Every task it starts is owned by it and drained on SIGTERM: the
//! listeners first (in-flight answers finish), then the background tasks,
//! each given [`SHUTDOWN_GRACE`] before it is stopped.

mod catalogs;
pub mod control;
mod runtime_zones;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use hickory_proto::rr::Name;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::config::{Config, SecondaryConfig};
use crate::metrics::Metrics;
use crate::proto::name::{NameKey, name_key};
use crate::proto::tsig::{KeyRing, TsigKey};
use crate::server::{FrontEnd, ListenConfig, RunningServer, ZoneRequests};
use crate::snapshot::ZoneSet;
use crate::store::files::{LoadGate, LoadReport, ZoneSources, load, load_one};
use crate::store::{ChangeKind, Edit, ZoneChange, ZoneStore};
use crate::update::policy::UpdatePolicy;
use crate::update::{Updater, ZoneUpdates};
use crate::xfr::XfrContext;
use crate::xfr::policy::{TransferPolicy, ZonePolicies, ZonePolicy};
use crate::xfr::secondary::{self, Secondaries, SecondaryZone};

/// Where secondary zones and the control socket are kept when the
/// configuration does not say (beside the configuration file when there is
/// one).
pub const DEFAULT_DATA_DIR: &str = "data";
/// The control socket's file name in the data directory.
pub const CONTROL_SOCKET_NAME: &str = "fedns.sock";
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
    /// Where secondary zones (and, by default, the control socket) live.
    pub data_dir: PathBuf,
    /// The control socket, if one is to be served.
    pub control_socket: Option<PathBuf>,
    /// The counters the metrics endpoint shows (shared with the load gate).
    pub metrics: Arc<Metrics>,
    /// Run as this user once the sockets are bound (`--user`).
    pub user: Option<String>,
    /// Sees the valid zones of every load and reload before they are served
    /// (the lint logs its findings here, and refuses them with `--strict`).
    pub gate: Arc<LoadGate>,
    /// The same for each zone a dynamic update makes.
    pub update_gate: Arc<crate::update::UpdateGate>,
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

/// What the front end hands over: NOTIFY and transfers to the transfer
/// side, UPDATE to the updater.
#[derive(Debug)]
pub struct Requests {
    /// Transfers, NOTIFY, secondary zones.
    pub xfr: Arc<XfrContext>,
    /// Dynamic updates.
    pub updates: Arc<Updater>,
}

impl ZoneRequests for Requests {
    fn notify(&self, request: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        crate::xfr::notify::handle_notify(&self.xfr, request, peer)
    }

    fn transfer(
        &self,
        zones: &ZoneSet,
        request: &[u8],
        peer: SocketAddr,
        channel: crate::proto::Channel,
    ) -> Vec<Vec<u8>> {
        crate::xfr::primary::transfer_response(&self.xfr, zones, request, peer, channel)
    }

    fn update(&self, request: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        self.updates.handle(request, peer)
    }
}

/// The running server's state, shared by the signal loop and the control
/// socket.
pub struct Daemon {
    /// The published zones.
    pub store: Arc<ZoneStore>,
    /// Transfers, NOTIFY, secondary zones and their policies.
    pub xfr: Arc<XfrContext>,
    sources: ZoneSources,
    gate: Arc<LoadGate>,
    metrics: Arc<Metrics>,
    data_dir: PathBuf,
    /// The zones the files own; the lock also serialises reloads.
    file_zones: tokio::sync::Mutex<HashSet<NameKey>>,
    /// Held by a reload from reading the files (and journals) to
    /// publishing, and by every dynamic update: neither loses the other's
    /// change.
    zone_writer: Arc<tokio::sync::Mutex<()>>,
    /// Secondary zones added by `fedns ctl zone-add` (kept on disk).
    runtime_zones: Mutex<runtime_zones::RuntimeZones>,
    /// The secondary zones' tasks.
    secondary_tasks: Mutex<JoinSet<()>>,
    /// NOTIFY rounds asked for by hand (`fedns ctl notify`).
    forced_notify: mpsc::UnboundedSender<(Name, u32)>,
    /// The members each consumed catalog zone has added.
    catalog_members: Mutex<catalogs::AppliedCatalogs>,
    /// The catalog zones fedns writes.
    produced_catalogs: Vec<Name>,
    /// The DNS-over-TLS certificate, re-read on SIGHUP.
    pub tls: Option<Arc<crate::server::tls::TlsCertificate>>,
    stopped: watch::Receiver<bool>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("sources", &self.sources)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// What reloading the zone files did.
#[derive(Debug)]
pub struct ReloadOutcome {
    /// The load's report (also logged).
    pub report: LoadReport,
    /// The changes published.
    pub changes: Vec<ZoneChange>,
}

impl Daemon {
    /// Reads every zone file again and publishes what changed; a zone whose
    /// file fails keeps serving (the report says so).
    pub async fn reload_all(&self) -> anyhow::Result<ReloadOutcome> {
        let mut owned = self.file_zones.lock().await;
        let _writer = self.zone_writer.lock().await;
        let sources = self.sources.clone();
        let current = self.store.zones_owned();
        let gate = Arc::clone(&self.gate);
        let previous = owned.clone();
        let data_dir = self.data_dir.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            load(&sources, &current, &previous, &gate, Some(&data_dir))
        })
        .await
        .context("reload task failed")?;
        log_report(&loaded.report, false);
        if loaded.report.refused {
            error!(
                "--strict: the reloaded zones have delegation errors (above); still serving the previous versions"
            );
            self.metrics.count_reload("refused");
            return Ok(ReloadOutcome {
                report: loaded.report,
                changes: Vec::new(),
            });
        }
        let mut edits = loaded.edits;
        // A zone file must not take over a secondary zone.
        edits.retain(|edit| match edit {
            Edit::Publish(z) if self.xfr.secondaries.get(z.origin()).is_some() => {
                error!(
                    "zone {} is a secondary zone here; its file is ignored",
                    z.origin()
                );
                false
            }
            _ => true,
        });
        let changes = self.store.apply(edits, ChangeKind::Reload);
        log_stale_serials(&changes);
        for c in changes.iter().filter(|c| c.new_serial.is_some()) {
            info!(
                "zone {} reloaded: serial {} -> {}",
                c.zone,
                c.old_serial
                    .map_or_else(|| "none".into(), |s| s.to_string()),
                c.new_serial.unwrap_or_default()
            );
        }
        info!(
            "reload: {} zone file(s) read, {} zone(s) changed, {} file(s) failed",
            loaded.report.loaded.len(),
            changes.len(),
            loaded.report.failed.len()
        );
        self.metrics
            .count_reload(if loaded.report.failed.is_empty() {
                "ok"
            } else {
                "partial"
            });
        *owned = loaded.zones;
        self.publish_produced_catalogs(&owned);
        // The replaced versions are gone (queries hold them for microseconds).
        crate::store::files::release_freed_memory();
        Ok(ReloadOutcome {
            report: loaded.report,
            changes,
        })
    }

    /// Reads the DNS-over-TLS certificate and key again (SIGHUP): new
    /// connections get the new certificate; on an error the previous one
    /// stays, and the error names the file.
    pub fn reload_tls(&self) {
        let Some(tls) = &self.tls else {
            return;
        };
        match tls.reload() {
            Ok(()) => {
                info!(
                    "TLS certificate re-read from {}",
                    tls.current().chain_path.display()
                );
                if let Some(warning) = tls.expiry_warning(crate::proto::clock::unix_now() as i64) {
                    warn!("{warning}");
                }
            }
            Err(e) => error!("{e}; still serving the previous TLS certificate"),
        }
    }

    /// Reads one primary zone's file again (`fedns ctl reload ZONE`).
    pub async fn reload_zone(&self, zone: &Name) -> Result<Option<ZoneChange>, String> {
        let owned = self.file_zones.lock().await;
        if !owned.contains(&name_key(zone)) {
            return Err(match self.xfr.secondaries.get(zone) {
                Some(_) => format!(
                    "zone {zone} is a secondary zone: use `fedns ctl refresh` or `retransfer`"
                ),
                None => format!("no zone {zone} is served from a file here"),
            });
        }
        let path = self
            .store
            .zones()
            .zone(zone)
            .and_then(|z| z.source().cloned())
            .ok_or_else(|| format!("zone {zone} has no file to reload"))?;
        let _writer = self.zone_writer.lock().await;
        let gate = Arc::clone(&self.gate);
        let file = path.clone();
        let data_dir = self.data_dir.clone();
        let loaded = tokio::task::spawn_blocking(move || load_one(&file, &gate, Some(&data_dir)))
            .await
            .map_err(|e| format!("reload task failed: {e}"))?;
        match loaded {
            Ok((edit, described)) => {
                if let Edit::Publish(z) = &edit
                    && z.origin() != zone
                {
                    return Err(format!(
                        "{} now holds zone {}, not {zone}: reload every zone instead",
                        path.display(),
                        z.origin()
                    ));
                }
                info!(
                    "reloaded zone {} serial {} ({} records) from {}",
                    described.origin,
                    described.serial,
                    described.records,
                    path.display()
                );
                let changes = self.store.apply(vec![edit], ChangeKind::Reload);
                log_stale_serials(&changes);
                self.metrics.count_reload("ok");
                Ok(changes.into_iter().next())
            }
            Err(errors) => {
                for e in errors.iter() {
                    error!("{e}");
                }
                self.metrics.count_reload("partial");
                Err(format!(
                    "{} did not load ({} error(s), first: {}); zone {zone} keeps serving its previous version",
                    path.display(),
                    errors.0.len(),
                    errors
                        .iter()
                        .next()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ))
            }
        }
    }

    /// Adds a secondary zone at run time (`fedns ctl zone-add`), kept on
    /// disk so that it survives a restart.
    pub fn add_secondary(&self, config: SecondaryConfig) -> Result<(), String> {
        let zone = &config.zone;
        if self.store.zones().contains(zone) {
            return Err(format!("zone {zone} is already served here"));
        }
        let key = resolve_key(&self.xfr.keys, config.tsig_key.as_deref())?;
        let mut runtime = self.runtime_zones.lock().unwrap_or_else(|e| e.into_inner());
        let secondary = Arc::new(SecondaryZone::new(
            zone.clone(),
            config.primaries.clone(),
            key,
        ));
        if !self.xfr.secondaries.insert(Arc::clone(&secondary)) {
            return Err(format!("zone {zone} is already a secondary zone here"));
        }
        if let Err(e) = runtime.add(config.clone()) {
            self.xfr.secondaries.remove(zone);
            return Err(e);
        }
        self.store.apply(
            vec![Edit::Unavailable(zone.clone())],
            ChangeKind::Unavailable,
        );
        self.start_secondary(secondary);
        info!(
            "zone {zone} added as a secondary of {}",
            join(&config.primaries)
        );
        Ok(())
    }

    /// Removes a secondary zone added at run time (`fedns ctl
    /// zone-remove`): its task ends, it is no longer served, its disk copy
    /// is deleted.
    pub fn remove_secondary(&self, zone: &Name) -> Result<(), String> {
        let mut runtime = self.runtime_zones.lock().unwrap_or_else(|e| e.into_inner());
        if !runtime.contains(zone) {
            return Err(match self.xfr.secondaries.get(zone) {
                Some(z) => match &z.member_of {
                    Some(catalog) => format!(
                        "zone {zone} is a member of catalog {catalog}: remove it from the catalog on its primary"
                    ),
                    None => format!(
                        "zone {zone} is in the configuration file: remove it there and restart"
                    ),
                },
                None => format!("no secondary zone {zone} here"),
            });
        }
        runtime.remove(zone)?;
        self.drop_secondary(zone);
        info!("zone {zone} removed");
        Ok(())
    }

    /// Ends a secondary zone: its task stops, it is no longer served, its
    /// disk copy is deleted.
    fn drop_secondary(&self, zone: &Name) {
        if let Some(secondary) = self.xfr.secondaries.remove(zone) {
            secondary.stop();
            let path = secondary.disk_path(&self.data_dir);
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                warn!("zone {zone}: cannot delete {}: {e}", path.display());
            }
        }
        self.store
            .apply(vec![Edit::Remove(zone.clone())], ChangeKind::Remove);
    }

    fn start_secondary(&self, zone: Arc<SecondaryZone>) {
        let mut tasks = self
            .secondary_tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Tasks of removed zones have ended: forget them.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(secondary::run(
            zone,
            Arc::clone(&self.store),
            self.data_dir.clone(),
            Arc::clone(&self.metrics),
            self.stopped.clone(),
        ));
    }

    /// Sends NOTIFY for `zone`'s current serial to its targets now.
    pub fn notify_now(&self, zone: Name) {
        if let Some(serial) = self.store.zones().zone(&zone).map(|z| z.serial()) {
            let _ = self.forced_notify.send((zone, serial));
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn serve(settings: ServeSettings) -> anyhow::Result<()> {
    let ServeSettings {
        sources,
        listen,
        config,
        data_dir,
        control_socket,
        gate,
        update_gate,
        user,
        metrics,
    } = settings;
    let runtime = runtime_zones::RuntimeZones::open(&data_dir)?;
    let xfr = Arc::new(xfr_context(&config, runtime.zones(), Arc::clone(&metrics))?);
    let store = Arc::new(ZoneStore::new());
    // Subscribed before the first publication, so the zones loaded now are
    // announced (NOTIFY at start) and counted like every later change.
    let notifier_events = store.subscribe();
    let metrics_events = store.subscribe();
    let catalog_events = store.subscribe();
    let produced_catalogs: Vec<Name> = config
        .zone_settings
        .iter()
        .filter(|z| z.catalog == Some(crate::xfr::catalog::CatalogRole::Producer))
        .map(|z| z.name.clone())
        .collect();

    let loaded = if sources.is_empty() {
        Default::default()
    } else {
        load(
            &sources,
            &ZoneSet::default(),
            &HashSet::new(),
            &gate,
            Some(&data_dir),
        )
    };
    log_report(&loaded.report, true);
    if loaded.report.refused {
        bail!(
            "--strict: the zones have delegation errors (above); not serving. `fedns check` explains them"
        );
    }
    if !loaded.report.failed.is_empty() {
        bail!(
            "{} zone file(s) failed to load; fix the errors above",
            loaded.report.failed.len()
        );
    }
    let secondaries = xfr.secondaries.all();
    for edit in &loaded.edits {
        if let Edit::Publish(z) = edit
            && xfr.secondaries.get(z.origin()).is_some()
        {
            bail!(
                "zone {} is both a secondary zone and loaded from {}: remove one",
                z.origin(),
                z.source()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
        }
    }
    for settings in &config.zone_settings {
        if settings.file.is_some() && !loaded.zones.contains(&name_key(&settings.name)) {
            bail!(
                "[[zone]] {}: its file holds another zone (name the zone's origin, or set `origin` in the file)",
                settings.name
            );
        }
    }
    if loaded.edits.is_empty() && secondaries.is_empty() && produced_catalogs.is_empty() {
        bail!(
            "no zones to serve in {}: add NAME.toml or NAME.zone files, or secondary zones to the configuration",
            if sources.is_empty() {
                "the configuration".into()
            } else {
                sources.describe()
            }
        );
    }
    let mut edits = loaded.edits;
    edits.extend(
        secondaries
            .iter()
            .map(|z| Edit::Unavailable(z.zone.clone())),
    );
    store.apply(edits, ChangeKind::Load);

    let zone_writer = Arc::new(tokio::sync::Mutex::new(()));
    let updates = Arc::new(Updater::new(
        Arc::clone(&store),
        Arc::clone(&xfr.keys),
        data_dir.clone(),
        Arc::clone(&zone_writer),
        update_gate,
        Arc::clone(&metrics),
    ));
    configure_updates(&updates, &config);
    let front = Arc::new(FrontEnd::new(
        Arc::clone(&store),
        Arc::clone(&xfr.keys),
        identity(&config),
        Arc::new(Requests {
            xfr: Arc::clone(&xfr),
            updates,
        }) as Arc<dyn ZoneRequests>,
        config
            .rate_limit
            .clone()
            .map(crate::server::rrl::ResponseRateLimiter::new),
        Arc::clone(&metrics),
    ));
    let server = RunningServer::start(&listen, front)
        .await
        .with_context(|| format!("cannot listen on {}", join(&listen.listen)))?;
    for addr in server.local_addrs() {
        info!("listening on {addr} (UDP and TCP)");
    }
    for addr in server.tls_addrs() {
        info!("listening on {addr} (DNS over TLS, zone transfers over TLS)");
    }
    for addr in server.quic_addrs() {
        info!("listening on {addr} (DNS over QUIC)");
    }
    if let Some(user) = &user {
        let (uid, gid) = crate::server::privileges::drop_privileges(user)?;
        info!("running as user {user} (uid {uid}, gid {gid})");
    }

    let (stop, stopped) = watch::channel(false);
    if let Some(addr) = config.metrics_listen {
        crate::metrics::serve(addr, Arc::clone(&metrics), stopped.clone())
            .await
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
    }
    if let Some(addr) = config.web_listen {
        let dashboard = crate::web::dashboard::Dashboard::new(Arc::clone(&store));
        let local =
            crate::web::http::serve(addr, "dashboard", dashboard.handler(), stopped.clone())
                .await
                .with_context(|| format!("cannot serve the dashboard on {addr}"))?;
        info!("dashboard on http://{local}/");
    }
    let (forced_notify, forced_notify_rx) = mpsc::unbounded_channel();
    let daemon = Arc::new(Daemon {
        forced_notify,
        catalog_members: Mutex::default(),
        produced_catalogs,
        store: Arc::clone(&store),
        xfr: Arc::clone(&xfr),
        sources,
        gate,
        metrics: Arc::clone(&metrics),
        data_dir,
        file_zones: tokio::sync::Mutex::new(loaded.zones),
        zone_writer,
        tls: listen.tls.clone(),
        runtime_zones: Mutex::new(runtime),
        secondary_tasks: Mutex::new(JoinSet::new()),
        stopped: stopped.clone(),
    });
    let mut background = JoinSet::new();
    if let Some(path) = &control_socket {
        let listener = control::bind(path)?;
        info!("control socket {} (fedns ctl)", path.display());
        background.spawn(control::serve(
            listener,
            path.clone(),
            Arc::clone(&daemon),
            stopped.clone(),
        ));
    }
    background.spawn(crate::xfr::notify::run_notifier(
        Arc::clone(&xfr),
        notifier_events,
        forced_notify_rx,
        stopped.clone(),
    ));
    background.spawn(catalogs::follow_catalogs(
        Arc::clone(&daemon),
        catalog_events,
        stopped.clone(),
    ));
    {
        let owned = daemon.file_zones.lock().await;
        daemon.publish_produced_catalogs(&owned);
    }
    background.spawn(follow_serials(
        metrics_events,
        Arc::clone(&metrics),
        stopped.clone(),
    ));
    for zone in secondaries {
        daemon.start_secondary(zone);
    }

    wait_for_signals(&daemon).await?;
    info!("shutting down");
    let _ = stop.send(true);
    server.shutdown(SHUTDOWN_GRACE).await;
    let secondary_tasks = std::mem::take(
        &mut *daemon
            .secondary_tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner()),
    );
    for mut tasks in [background, secondary_tasks] {
        if tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tasks.abort_all();
        }
    }
    Ok(())
}

/// NSID and the CHAOS identity from the configuration: the NSID only when
/// configured; `id.server` the configured identity, else the NSID text,
/// else the host name; the version only when configured.
fn identity(config: &Config) -> crate::server::wire::Identity {
    use crate::config::Setting;
    let nsid = config.nsid.as_ref().map(|s| match s {
        Setting::Text(text) => text.clone(),
        Setting::Default => host_name(),
    });
    crate::server::wire::Identity {
        id: Some(
            config
                .identity
                .clone()
                .or_else(|| nsid.clone())
                .unwrap_or_else(host_name),
        ),
        nsid: nsid.map(String::into_bytes),
        version: config.version.as_ref().map(|s| match s {
            Setting::Text(text) => text.clone(),
            Setting::Default => format!("fedns {}", env!("CARGO_PKG_VERSION")),
        }),
        cookies: match &config.cookies {
            crate::config::Cookies::RandomSecret => {
                Some(crate::server::cookies::CookieSecrets::random())
            }
            crate::config::Cookies::Secrets(secrets) => Some(secrets.clone()),
            crate::config::Cookies::Off => None,
        },
    }
}

/// This machine's host name (`localhost` if it cannot be read).
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..len]) {
        Ok(name) if ok && !name.is_empty() => name.to_string(),
        _ => "localhost".to_string(),
    }
}

/// Keeps the per-zone serial gauges in step with the store.
async fn follow_serials(
    mut changes: mpsc::UnboundedReceiver<ZoneChange>,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Some(change) => {
                    let zone = change.zone.to_ascii();
                    match change.new_serial {
                        Some(serial) => metrics.set_serial(&zone, serial),
                        None if change.kind == ChangeKind::Remove => metrics.forget_zone(&zone),
                        None => {}
                    }
                }
                None => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// Tells the updater which zones take updates (their `[[zone.update]]`
/// rules) and which forward them to their primaries.
fn configure_updates(updates: &Updater, config: &Config) {
    for zone in &config.zone_settings {
        if !zone.update_rules.is_empty() {
            updates.set_zone(
                &zone.name,
                Some(ZoneUpdates::Apply(UpdatePolicy {
                    rules: zone.update_rules.clone(),
                    serial: zone.serial_policy,
                })),
            );
        }
    }
    for secondary in &config.secondaries {
        let forwards = config
            .zone_settings
            .iter()
            .any(|z| z.name == secondary.zone && z.forward_updates);
        if forwards {
            updates.set_zone(
                &secondary.zone,
                Some(ZoneUpdates::Forward(secondary.primaries.clone())),
            );
        }
    }
}

/// Keys, per-zone policies and secondary zones from the configuration
/// (and the secondary zones added by `fedns ctl`, `runtime`).
pub fn xfr_context(
    config: &Config,
    runtime: &[SecondaryConfig],
    metrics: Arc<Metrics>,
) -> anyhow::Result<XfrContext> {
    let mut keys = Vec::new();
    for k in &config.tsig_keys {
        keys.push(
            TsigKey::new(&k.name, &k.algorithm, &k.secret)
                .map_err(|e| anyhow::anyhow!("tsig_key {:?}: {e}", k.name))?,
        );
    }
    let keys = KeyRing::new(keys);
    let default = ZonePolicy {
        allow: TransferPolicy::new(config.transfer_allow.clone()),
        notify: config.notify.clone(),
        notify_key: resolve_key(&keys, config.notify_key.as_deref()).map_err(anyhow::Error::msg)?,
    };
    let policies = ZonePolicies::new(default.clone());
    for zone in &config.zone_settings {
        policies.set(
            &zone.name,
            ZonePolicy {
                allow: zone
                    .allow
                    .clone()
                    .map_or_else(|| default.allow.clone(), TransferPolicy::new),
                notify: zone
                    .notify
                    .clone()
                    .unwrap_or_else(|| default.notify.clone()),
                notify_key: match &zone.notify_key {
                    Some(name) => resolve_key(&keys, Some(name)).map_err(anyhow::Error::msg)?,
                    None => default.notify_key.clone(),
                },
            },
        );
    }
    let mut secondaries = Vec::new();
    for s in config.secondaries.iter().chain(runtime) {
        if secondaries
            .iter()
            .any(|z: &Arc<SecondaryZone>| z.zone == s.zone)
        {
            bail!(
                "zone {} is both in the configuration and added by `fedns ctl zone-add`: remove it with `fedns ctl zone-remove` once the server runs, or from the configuration",
                s.zone
            );
        }
        let client = s
            .tls_client
            .as_ref()
            .map(|(c, k)| (c.as_path(), k.as_path()));
        let tls = match &s.tls {
            None => None,
            Some(crate::config::PrimaryTls::Opportunistic) => Some(
                crate::xfr::xot::XotClient::opportunistic(client)
                    .map_err(|e| anyhow::anyhow!("zone {}: transfer_tls: {e}", s.zone))?,
            ),
            Some(crate::config::PrimaryTls::Strict { ca, name }) => Some(
                crate::xfr::xot::XotClient::strict(ca, name, client)
                    .map_err(|e| anyhow::anyhow!("zone {}: transfer_tls: {e}", s.zone))?,
            ),
        };
        secondaries.push(Arc::new(
            SecondaryZone::new(
                s.zone.clone(),
                s.primaries.clone(),
                resolve_key(&keys, s.tsig_key.as_deref()).map_err(anyhow::Error::msg)?,
            )
            .consuming_catalog(s.catalog)
            .over_tls(tls.map(Arc::new)),
        ));
    }
    Ok(XfrContext {
        keys: Arc::new(keys),
        policies,
        secondaries: Secondaries::new(secondaries),
        metrics,
        notify_log: Default::default(),
        log_limit: Default::default(),
    })
}

/// The key named `name` (`None` for no name).
fn resolve_key(keys: &KeyRing, name: Option<&str>) -> Result<Option<Arc<TsigKey>>, String> {
    let Some(n) = name else {
        return Ok(None);
    };
    let name = Name::from_ascii(n).map_err(|e| format!("bad key name {n:?}: {e}"))?;
    keys.get(&name)
        .cloned()
        .map(Some)
        .ok_or_else(|| format!("no [[tsig_key]] named {n:?}"))
}

/// Reloads on SIGHUP; returns on SIGTERM or SIGINT.
#[cfg(unix)]
async fn wait_for_signals(daemon: &Daemon) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                info!("SIGHUP: reloading zones");
                if let Err(e) = daemon.reload_all().await {
                    error!("reload failed: {e:#}");
                }
                daemon.reload_tls();
            }
            _ = term.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signals(_: &Daemon) -> anyhow::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")
}

/// Logs what a load did: each error with its place, each zone kept or
/// removed, and with `each_zone` (the first load) each zone with its serial
/// (a reload logs the zones that changed instead, from the store).
pub fn log_report(report: &LoadReport, each_zone: bool) {
    for z in report.loaded.iter().filter(|_| each_zone) {
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
    for zone in &report.removed {
        info!("zone {zone} is no longer served (its file is gone)");
    }
}

fn log_stale_serials(changes: &[ZoneChange]) {
    for c in changes.iter().filter(|c| c.serial_not_increased) {
        warn!(
            "zone {} changed but its serial {} did not: increase it, or secondaries keep the old data",
            c.zone,
            c.new_serial.unwrap_or_default()
        );
    }
}

fn join(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
