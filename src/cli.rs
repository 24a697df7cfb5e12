//! The command line: `fedns serve` and friends. `main.rs` parses the
//! arguments with these types and calls [`run`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use clap::{Parser, Subcommand};
use tracing::{error, info, warn};

use crate::config::Config;
use crate::server::reload::{LoadReport, ZoneSources, load};
use crate::server::{ListenConfig, RunningServer, ServedZones};
use crate::snapshot::ZoneSet;

/// Where `fedns serve` listens when nothing else is said.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5300";
/// Where `fedns serve` looks for zones when nothing else is said.
pub const DEFAULT_ZONES_DIR: &str = "zones";

/// An authoritative DNS server for Matrix federation delegation, labs and teaching.
#[derive(Debug, Parser)]
#[command(name = "fedns", version, about)]
pub struct Cli {
    /// Log filter (error, warn, info, debug, trace, or tracing directives).
    #[arg(long, global = true, default_value = "info")]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve zones over UDP and TCP (default: ./zones on 127.0.0.1:5300).
    Serve(ServeArgs),
    /// Load zone files and report every error, without serving.
    Check(CheckArgs),
}

/// `fedns serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (fedns.toml).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Directory of zone files (*.toml, *.zone).
    #[arg(long)]
    pub zones: Option<PathBuf>,
    /// A zone file to serve (repeatable; instead of a directory).
    #[arg(long = "zone", value_name = "FILE")]
    pub zone_files: Vec<PathBuf>,
    /// Address to listen on, UDP and TCP (repeatable), e.g. 127.0.0.1:5300 or [::1]:5300.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
}

/// `fedns check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Zone files or directories of them (default: ./zones).
    pub paths: Vec<PathBuf>,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(serve(args))
        }
        Command::Check(args) => check(args),
    }
}

/// The settings of `fedns serve` after merging flags over the config file.
fn serve_settings(args: &ServeArgs) -> anyhow::Result<(ZoneSources, ListenConfig)> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let sources = if !args.zone_files.is_empty() {
        ZoneSources::Files(args.zone_files.clone())
    } else if let Some(dir) = &args.zones {
        ZoneSources::Dir(dir.clone())
    } else if !config.zones.is_empty() {
        ZoneSources::Files(config.zones.clone())
    } else {
        ZoneSources::Dir(
            config
                .zones_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_ZONES_DIR)),
        )
    };
    let mut listen = ListenConfig::default();
    if !args.listen.is_empty() {
        listen.listen = args.listen.clone();
    } else if !config.listen.is_empty() {
        listen.listen = config.listen.clone();
    }
    if let Some(n) = config.tcp_max_connections {
        listen.max_tcp_connections = n;
    }
    if let Some(t) = config.tcp_idle_timeout {
        listen.tcp_idle_timeout = t;
    }
    if let Some(n) = config.udp_workers {
        listen.udp_workers = n;
    }
    Ok((sources, listen))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (sources, listen) = serve_settings(&args)?;
    let (zones, report) = load(&sources, &ZoneSet::default());
    log_report(&report);
    if !report.failed.is_empty() {
        bail!(
            "{} zone file(s) failed to load; fix the errors above",
            report.failed.len()
        );
    }
    if zones.is_empty() {
        bail!(
            "no zones to serve in {}: add NAME.toml or NAME.zone files",
            describe_sources(&sources)
        );
    }
    let shared = Arc::new(ArcSwap::from_pointee(ServedZones::new(zones)));
    let server = RunningServer::start(&listen, Arc::clone(&shared))
        .await
        .with_context(|| format!("cannot listen on {}", join(&listen.listen)))?;
    for addr in server.local_addrs() {
        info!("listening on {addr} (UDP and TCP)");
    }
    wait_for_signals(&sources, &shared).await?;
    info!("shutting down");
    server.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// Reloads on SIGHUP; returns on SIGTERM or SIGINT.
#[cfg(unix)]
async fn wait_for_signals(
    sources: &ZoneSources,
    shared: &crate::server::SharedZones,
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
                let (zones, report) = tokio::task::spawn_blocking(move || load(&sources, &current.zones))
                    .await
                    .context("reload task failed")?;
                log_report(&report);
                shared.store(Arc::new(ServedZones::new(zones)));
            }
            _ = term.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signals(_: &ZoneSources, _: &crate::server::SharedZones) -> anyhow::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")
}

fn log_report(report: &LoadReport) {
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
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(DEFAULT_ZONES_DIR)]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for path in &paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| crate::zone::load::ZoneFormat::of(p).is_some())
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path.clone());
        }
    }
    let (_, report) = load(&ZoneSources::Files(files), &ZoneSet::default());
    for z in &report.loaded {
        println!(
            "ok: zone {} serial {} ({} records)",
            z.origin, z.serial, z.records
        );
    }
    for (_, errors) in &report.failed {
        for e in errors.iter() {
            println!("{e}");
        }
    }
    if !report.failed.is_empty() {
        bail!("{} zone file(s) have errors", report.failed.len());
    }
    Ok(())
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
