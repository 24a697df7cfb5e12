//! The command line: `fedns serve` and friends. `main.rs` parses the
//! arguments with these types and calls [`run`].

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::daemon::ServeSettings;
use crate::daemon::control::Request as CtlRequest;
use crate::server::ListenConfig;
use crate::store::files::ZoneSources;

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
    /// Log lines as text or as JSON objects (one per line, for log collectors).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written to standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve zones over UDP and TCP (default: ./zones on 127.0.0.1:5300).
    Serve(ServeArgs),
    /// Lint Matrix SRV delegation and its TLS certificate pitfalls (zones,
    /// certificate chains, and live with --probe). Exit status 0: no error,
    /// 1: errors found, 2: input unreadable or bad arguments.
    Check(CheckArgs),
    /// Show, step by step, how a homeserver finds the Matrix server name S
    /// (the spec's resolution: .well-known, SRV, A/AAAA) and where it connects.
    Explain(ExplainArgs),
    /// Transfer a zone once by AXFR and write it as a master file (or to stdout).
    Transfer(TransferArgs),
    /// Zone file tools: import a master file as TOML, export TOML as a
    /// master file, normalise TOML zones.
    #[command(subcommand)]
    Zone(ZoneCommand),
    /// Ask or tell the running server something over its control socket:
    /// status, reload, refresh, retransfer, notify, zone-add, zone-remove.
    Ctl(CtlArgs),
}

/// `fedns ctl`.
#[derive(Debug, clap::Args)]
pub struct CtlArgs {
    /// The control socket (default: the one the configuration names, else
    /// data/fedns.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Read the socket's path from this configuration file.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Output as text or as the server's JSON.
    #[arg(long, value_enum, default_value_t = CtlFormat::Human)]
    pub format: CtlFormat,
    /// The command.
    #[command(subcommand)]
    pub command: CtlRequest,
}

/// How `fedns ctl` prints the answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CtlFormat {
    /// Lines for people.
    #[default]
    Human,
    /// The server's JSON answer.
    Json,
}

/// `fedns zone ...`.
#[derive(Debug, Subcommand)]
pub enum ZoneCommand {
    /// Write an RFC 1035 master file as the equivalent TOML zone.
    Import(ZoneImportArgs),
    /// Write a zone (TOML or master file) as an RFC 1035 master file that
    /// BIND, NSD and Knot read.
    Export(ZoneExportArgs),
    /// Normalise TOML zones in place (the layout `zone import` writes).
    Fmt(ZoneFmtArgs),
}

/// `fedns zone import`.
#[derive(Debug, clap::Args)]
pub struct ZoneImportArgs {
    /// The master file, e.g. example.org.zone.
    pub file: PathBuf,
    /// The zone's origin (default: the file name without its extension).
    #[arg(long, value_name = "NAME")]
    pub origin: Option<String>,
    /// Write the TOML zone here (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `fedns zone export`.
#[derive(Debug, clap::Args)]
pub struct ZoneExportArgs {
    /// The zone file, e.g. example.org.toml.
    pub file: PathBuf,
    /// Write the master file here (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include the dynamic updates that `fedns serve` journalled in this
    /// data directory (DIR/journal/ZONE.jnl): the zone as it is served.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `fedns zone fmt`.
#[derive(Debug, clap::Args)]
pub struct ZoneFmtArgs {
    /// TOML zone files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 if a file is not formatted.
    #[arg(long)]
    pub check: bool,
}

/// `fedns transfer`.
#[derive(Debug, clap::Args)]
pub struct TransferArgs {
    /// The zone, e.g. example.org.
    pub zone: String,
    /// The primary to transfer from, e.g. 127.0.0.1:53.
    #[arg(long, value_name = "ADDR:PORT")]
    pub from: SocketAddr,
    /// Sign with this TSIG key: NAME:ALGORITHM:BASE64SECRET (as tsig-keygen prints).
    #[arg(long, value_name = "NAME:ALG:SECRET")]
    pub tsig: Option<String>,
    /// Write the zone here (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
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
    /// After binding the sockets (e.g. port 53 as root), run as this user.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Refuse to start when the offline `fedns check` rules find an error
    /// (findings are logged on every load and reload either way).
    #[arg(long)]
    pub strict: bool,
    /// Serve the read-only dashboard here (overrides `web_listen`), e.g.
    /// 127.0.0.1:8053: the zones, how peers find each server name, the
    /// lint, and an explain form.
    #[arg(long = "web-listen", value_name = "ADDR:PORT")]
    pub web_listen: Option<SocketAddr>,
}

/// `fedns check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Zone files or directories of them (default: ./zones).
    pub paths: Vec<PathBuf>,
    /// A Matrix server name S to check (repeatable; [[matrix]] sections declare theirs).
    #[arg(long = "server-name", value_name = "S")]
    pub server_names: Vec<String>,
    /// The .well-known/matrix/server body served for S (repeatable),
    /// e.g. 'example.org={"m.server": "matrix.example.org:443"}'.
    #[arg(long = "well-known", value_name = "S=JSON", value_parser = parse_pair)]
    pub well_known: Vec<(String, String)>,
    /// The PEM chain served at host NAME (repeatable), e.g.
    /// synapse.example.org=fullchain.pem: checked against the name peers require.
    #[arg(long = "cert", value_name = "NAME=chain.pem", value_parser = parse_pair)]
    pub certs: Vec<(String, String)>,
    /// Also trust the CA certificates in FILE (PEM; repeatable), e.g. a lab CA.
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Trust only the --ca files, not the system roots.
    #[arg(long)]
    pub no_system_roots: bool,
    /// Probe live: resolve the SRV targets, connect with TLS (SNI = the
    /// required name), fetch the key and version endpoints.
    #[arg(long)]
    pub probe: bool,
    /// Also fetch https://S/.well-known/matrix/server (implies --probe).
    #[arg(long)]
    pub fetch_well_known: bool,
    /// Resolve names through this DNS server (default: /etc/resolv.conf).
    #[arg(long, value_name = "ADDR:PORT")]
    pub dns: Option<SocketAddr>,
    /// The most one network step of the probe may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub timeout: u64,
    /// Fetch .well-known from this port instead of 443 (labs, tests).
    #[arg(long, value_name = "PORT", default_value_t = 443, hide = true)]
    pub well_known_port: u16,
    /// Output: human, json (schema in the README) or html (one page).
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// `--deny warnings`: exit 1 on warnings too.
    #[arg(long, value_enum, value_name = "warnings")]
    pub deny: Option<Deny>,
    /// Print the long explanation of one rule (e.g. SRV025) and exit.
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
    /// List every rule and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// Output formats of `fedns check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// Text that explains each finding.
    Human,
    /// A JSON object with a `findings` array.
    Json,
    /// One self-contained HTML page: findings by server name, how peers
    /// find each server name, the layouts that work for SRV025.
    Html,
}

/// What `--deny` can turn into failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Deny {
    /// Exit 1 when there is a warning.
    Warnings,
}

/// `KEY=VALUE` (split at the first `=`).
fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.is_empty() => {
            Ok((k.trim().to_owned(), v.to_owned()))
        }
        _ => Err(format!("expected NAME=VALUE, not {text:?}")),
    }
}

/// `fedns explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The Matrix server name S: `example.org`, `example.org:8448`, `192.0.2.1`, `[2001:db8::1]:8448`.
    pub server_name: String,
    /// Resolve offline against the zone files in DIR (default: ./zones).
    #[arg(long, value_name = "DIR", conflicts_with = "dns")]
    pub zones: Option<PathBuf>,
    /// Ask this DNS server instead (fedns or any other), e.g. 127.0.0.1:5300.
    #[arg(long, value_name = "ADDR:PORT")]
    pub dns: Option<SocketAddr>,
    /// The .well-known/matrix/server body as served, e.g. '{"m.server": "matrix.example.org:443"}'
    /// (default: what the zones declare; nothing with --dns).
    #[arg(long = "well-known", value_name = "JSON", conflicts_with = "fetch")]
    pub well_known: Option<String>,
    /// Fetch https://S/.well-known/matrix/server over HTTPS.
    #[arg(long)]
    pub fetch: bool,
    /// With --fetch: trust only the CA certificates in FILE (PEM), e.g. a lab CA.
    #[arg(long, value_name = "FILE", requires = "fetch")]
    pub ca: Option<PathBuf>,
    /// With --fetch: connect to ADDR:PORT instead of S:443 (like curl --connect-to).
    #[arg(long = "fetch-addr", value_name = "ADDR:PORT", requires = "fetch")]
    pub fetch_addr: Option<SocketAddr>,
    /// The most one DNS exchange or HTTPS request may take: 3s, 500ms.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = crate::matrix::explain::parse_timeout)]
    pub timeout: Duration,
    /// Output: human (steps and result), json (schema in the README), or
    /// html (one self-contained page: the spec's flow with the path lit up).
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::matrix::explain::Format,
    /// With --format html: the PEM chain served where peers connect, judged
    /// against the name they demand (default: the zones' `certificate =`).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
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
        Command::Explain(args) => explain(args),
        Command::Transfer(args) => transfer(args),
        Command::Zone(ZoneCommand::Import(args)) => zone_import(args),
        Command::Zone(ZoneCommand::Export(args)) => zone_export(args),
        Command::Zone(ZoneCommand::Fmt(args)) => zone_fmt(args),
        Command::Ctl(args) => ctl(args),
    }
}

/// The settings of `fedns serve` after merging flags over the config file.
fn serve_settings(args: &ServeArgs) -> anyhow::Result<ServeSettings> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(addr) = args.web_listen {
        config.web_listen = Some(addr);
    }
    let configured_files: Vec<PathBuf> = config
        .zones
        .iter()
        .chain(config.zone_settings.iter().filter_map(|z| z.file.as_ref()))
        .cloned()
        .collect();
    let sources = if !args.zone_files.is_empty() {
        ZoneSources::files(args.zone_files.clone())
    } else if let Some(dir) = &args.zones {
        ZoneSources::dir(dir.clone())
    } else if let Some(dir) = &config.zones_dir {
        ZoneSources {
            dir: Some(dir.clone()),
            files: configured_files,
        }
    } else if !configured_files.is_empty() {
        ZoneSources::files(configured_files)
    } else if args.config.is_some() && !config.secondaries.is_empty() {
        // Only secondary zones: no zones directory is needed.
        ZoneSources::default()
    } else {
        ZoneSources::dir(DEFAULT_ZONES_DIR)
    };
    let data_dir = data_dir(&config, args.config.as_deref());
    let control_socket = config.control_socket.clone().or_else(|| {
        args.config
            .as_ref()
            .map(|_| data_dir.join(crate::daemon::CONTROL_SOCKET_NAME))
    });
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
    if let Some(n) = config.tcp_max_per_client {
        listen.max_tcp_per_client = n;
    }
    if let Some(t) = config.tcp_lifetime {
        listen.tcp_lifetime = t;
    }
    if let Some(n) = config.udp_workers {
        listen.udp_workers = n;
    }
    if let Some(tls) = &config.tls {
        let certificate = crate::server::tls::TlsCertificate::load(
            &tls.certificate,
            &tls.key,
            tls.client_ca.as_deref(),
        )
        .context("[tls]: cannot serve DNS over TLS")?;
        if let Some(warning) = certificate.expiry_warning(crate::proto::clock::unix_now() as i64) {
            tracing::warn!("{warning}");
        }
        listen.tls = Some(std::sync::Arc::new(certificate));
        listen.tls_listen = tls.listen.clone();
        listen.quic_listen = tls.quic_listen.clone();
    }
    let user_from_config = config.user.clone();
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
    Ok(ServeSettings {
        sources,
        listen,
        data_dir,
        control_socket,
        config,
        gate: std::sync::Arc::new(crate::lint::load_gate(
            args.strict,
            Some(std::sync::Arc::clone(&metrics)),
        )),
        update_gate: std::sync::Arc::new(crate::lint::update_gate(args.strict)),
        metrics,
        user: args.user.clone().or(user_from_config),
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    crate::daemon::serve(serve_settings(&args)?).await
}

/// The data directory: the configuration's `data_dir`, else `data` beside
/// the configuration file, else `./data`.
fn data_dir(config: &Config, config_path: Option<&std::path::Path>) -> PathBuf {
    config.data_dir.clone().unwrap_or_else(|| {
        config_path
            .and_then(|p| p.parent())
            .unwrap_or(std::path::Path::new(""))
            .join(crate::daemon::DEFAULT_DATA_DIR)
    })
}

fn ctl(args: CtlArgs) -> anyhow::Result<()> {
    let socket = match (&args.socket, &args.config) {
        (Some(path), _) => path.clone(),
        (None, Some(config_path)) => {
            let config = Config::load(config_path)?;
            config.control_socket.clone().unwrap_or_else(|| {
                data_dir(&config, Some(config_path)).join(crate::daemon::CONTROL_SOCKET_NAME)
            })
        }
        (None, None) => {
            PathBuf::from(crate::daemon::DEFAULT_DATA_DIR).join(crate::daemon::CONTROL_SOCKET_NAME)
        }
    };
    let request = args.command;
    let response = crate::daemon::control::request(&socket, &request)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        CtlFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &response)?;
            writeln!(out)?;
        }
        CtlFormat::Human => {
            if let Some(result) = &response.result {
                write!(out, "{}", crate::daemon::control::render(&request, result))?;
            }
        }
    }
    match (response.ok, response.error) {
        (true, _) => Ok(()),
        (false, error) => {
            anyhow::bail!("{}", error.unwrap_or_else(|| "the server refused".into()))
        }
    }
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    use crate::lint::check::{CheckOptions, Format, explain, list_rules, run};
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let status = if let Some(rule) = &args.explain {
        explain(rule, &mut out, &mut err)
    } else if args.list_rules {
        list_rules(&mut out)
    } else {
        let options = CheckOptions {
            paths: args.paths,
            server_names: args.server_names,
            well_known: args.well_known,
            certs: args
                .certs
                .into_iter()
                .map(|(name, path)| (name, PathBuf::from(path)))
                .collect(),
            ca: args.ca,
            system_roots: !args.no_system_roots,
            probe: args.probe || args.fetch_well_known,
            fetch_well_known: args.fetch_well_known,
            dns: args.dns,
            timeout: Duration::from_secs(args.timeout.clamp(1, 120)),
            well_known_port: args.well_known_port,
            deny_warnings: args.deny == Some(Deny::Warnings),
            now: None,
            resolve_servers: args.format == CheckFormat::Html,
        };
        match args.format {
            CheckFormat::Json => run(&options, Format::Json, &mut out, &mut err),
            CheckFormat::Human => run(&options, Format::Human, &mut out, &mut err),
            CheckFormat::Html => {
                let render = |report: &crate::lint::check::CheckReport, status: i32| {
                    crate::report::check_page::check_page(
                        &crate::report::check_page::CheckView::of(report, status),
                    )
                };
                crate::lint::check::run_rendered(
                    &options,
                    Format::Human,
                    &render,
                    &mut out,
                    &mut err,
                )
            }
        }
    };
    if status != 0 {
        // `fedns check` has its own exit statuses (1: findings, 2: input).
        std::process::exit(status);
    }
    Ok(())
}

fn explain(args: ExplainArgs) -> anyhow::Result<()> {
    use crate::matrix::explain::{DnsSource, ExplainOptions, WellKnownInput};
    let dns = match args.dns {
        Some(addr) => DnsSource::Server(addr),
        None => DnsSource::Zones(
            args.zones
                .unwrap_or_else(|| PathBuf::from(DEFAULT_ZONES_DIR)),
        ),
    };
    let well_known = match (args.fetch, args.well_known) {
        (true, _) => WellKnownInput::Fetch {
            ca: args.ca,
            connect_to: args.fetch_addr,
        },
        (false, Some(body)) => WellKnownInput::Json(body),
        (false, None) => WellKnownInput::Default,
    };
    let options = ExplainOptions {
        server_name: args.server_name,
        dns,
        well_known,
        timeout: args.timeout,
    };
    let explained = crate::matrix::explain::explain(&options)?;
    for warning in &explained.warnings {
        eprintln!("fedns: warning: {warning}");
    }
    let output = match args.format {
        crate::matrix::explain::Format::Html => {
            let chain = args.cert.or(explained.declared_certificate);
            let target = explained.resolution.result.as_ref();
            let verdict = match (target, chain) {
                (Some(target), Some(chain)) => {
                    match crate::report::certificate_verdict(target, &chain) {
                        Ok(verdict) => Some(verdict),
                        Err(e) => {
                            eprintln!("fedns: warning: the certificate is not judged: {e}");
                            None
                        }
                    }
                }
                _ => None,
            };
            crate::report::explain_page::explain_page(&explained.resolution, verdict.as_ref())
        }
        format => explained.render(format),
    };
    print!("{output}");
    Ok(())
}

fn transfer(args: TransferArgs) -> anyhow::Result<()> {
    use crate::proto::tsig::TsigKey;
    use crate::xfr::client::{TransferLimits, axfr};
    let mut zone = hickory_proto::rr::Name::from_ascii(&args.zone)
        .with_context(|| format!("bad zone name {:?}", args.zone))?;
    zone.set_fqdn(true);
    let key = match &args.tsig {
        Some(spec) => {
            let mut parts = spec.splitn(3, ':');
            let (Some(name), Some(alg), Some(secret)) = (parts.next(), parts.next(), parts.next())
            else {
                anyhow::bail!(
                    "--tsig takes NAME:ALGORITHM:SECRET, e.g. xfr-key:hmac-sha256:c2VjcmV0"
                );
            };
            Some(std::sync::Arc::new(
                TsigKey::new(name, alg, secret).map_err(|e| anyhow::anyhow!("--tsig: {e}"))?,
            ))
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let started = std::time::Instant::now();
    let transferred = runtime.block_on(axfr(
        args.from,
        &zone,
        key.as_ref(),
        TransferLimits::default(),
        None,
    ))?;
    let records = transferred
        .records
        .iter()
        .map(crate::zone::SourcedRecord::record);
    match &args.output {
        Some(path) => crate::store::files::write_atomically_with(path, |out| {
            crate::zone::master::write_master_to(out, &zone, records)
        })
        .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            crate::zone::master::write_master_to(&mut out, &zone, records)
                .and_then(|()| std::io::Write::flush(&mut out))
                .context("cannot write the zone to stdout")?;
        }
    }
    eprintln!(
        "{zone}: {} records in {} messages ({} bytes) from {} in {} ms",
        transferred.records.len(),
        transferred.messages,
        transferred.bytes,
        args.from,
        started.elapsed().as_millis()
    );
    Ok(())
}

// ---------------------------------------------------------------- fedns zone --

/// Reads a zone file's text (at most [`crate::zone::load::MAX_ZONE_FILE_BYTES`]).
fn read_zone_text(path: &std::path::Path) -> anyhow::Result<String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > crate::zone::load::MAX_ZONE_FILE_BYTES {
        anyhow::bail!(
            "{}: file is {size} bytes, more than a zone file may be",
            path.display()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes `text` to `path` (through a temporary file and a rename) or to
/// standard output.
fn write_output(path: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    let Some(path) = path else {
        print!("{text}");
        return Ok(());
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".fedns-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Refuses, with every place, a zone the TOML format cannot hold exactly.
fn ensure_toml_can_hold(zone: &crate::zone::Zone) -> anyhow::Result<()> {
    let problems = crate::zone::toml_write::toml_problems(zone);
    if problems.is_empty() {
        return Ok(());
    }
    anyhow::bail!("{}", crate::zone::ZoneErrors(problems))
}

/// Re-reads written TOML and checks it holds exactly `zone`'s records and
/// Matrix sections (a guard: a difference is a bug in the writer).
fn verify_toml(zone: &crate::zone::Zone, text: &str) -> anyhow::Result<()> {
    use crate::zone::toml_write::record_lines;
    let file: std::sync::Arc<str> = std::sync::Arc::from("<written TOML>");
    let back = crate::zone::toml_zone::parse_toml_zone(text, &file, None)
        .map_err(|e| anyhow::anyhow!("the written TOML does not read back (a fedns bug): {e}"))?;
    if record_lines(&zone.origin, &zone.records) != record_lines(&back.origin, &back.records)
        || zone.matrix.len() != back.matrix.len()
    {
        anyhow::bail!(
            "the written TOML reads back to other records (a fedns bug); nothing written"
        );
    }
    Ok(())
}

fn zone_import(args: ZoneImportArgs) -> anyhow::Result<()> {
    use crate::zone::{Zone, master::parse_master, validate::validate_zone};
    let origin = match &args.origin {
        Some(text) => {
            let mut name = hickory_proto::rr::Name::from_ascii(text)
                .with_context(|| format!("bad --origin {text:?}"))?;
            name.set_fqdn(true);
            name
        }
        None => crate::zone::load::origin_from_file_name(&args.file).with_context(|| {
            format!(
                "cannot take a zone name from {}: give --origin",
                args.file.display()
            )
        })?,
    };
    let text = read_zone_text(&args.file)?;
    let file: std::sync::Arc<str> = std::sync::Arc::from(args.file.display().to_string());
    let records = parse_master(&text, &file, &origin).map_err(|e| anyhow::anyhow!("{e}"))?;
    let zone = Zone {
        origin,
        records,
        matrix: Vec::new(),
        source: Some(args.file.clone()),
    };
    validate_zone(&zone).map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure_toml_can_hold(&zone)?;
    let toml = crate::zone::toml_write::write_toml_zone(&zone);
    verify_toml(&zone, &toml)?;
    write_output(args.output.as_deref(), &toml)?;
    eprintln!(
        "{}: {} records imported from {}",
        zone.origin,
        zone.records.len(),
        args.file.display()
    );
    Ok(())
}

fn zone_export(args: ZoneExportArgs) -> anyhow::Result<()> {
    use crate::zone::master::{parse_master, write_master};
    use crate::zone::toml_write::record_lines;
    let mut zone = crate::zone::load_zone_file(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = &args.data_dir {
        use crate::store::files::{JournalWrites, with_journal};
        zone =
            with_journal(zone, dir, JournalWrites::ReadOnly).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let records = crate::zone::toml_write::canonical_order(&zone);
    let text = write_master(&zone.origin, &records);
    let file: std::sync::Arc<str> = std::sync::Arc::from("<written master file>");
    let back = parse_master(&text, &file, &zone.origin).map_err(|e| {
        anyhow::anyhow!("the written master file does not read back (a fedns bug): {e}")
    })?;
    if record_lines(&zone.origin, &zone.records) != record_lines(&zone.origin, &back) {
        anyhow::bail!(
            "the written master file reads back to other records (a fedns bug); nothing written"
        );
    }
    write_output(args.output.as_deref(), &text)?;
    eprintln!(
        "{}: {} records exported from {}",
        zone.origin,
        zone.records.len(),
        args.file.display()
    );
    Ok(())
}

fn zone_fmt(args: ZoneFmtArgs) -> anyhow::Result<()> {
    use crate::zone::toml_write::write_toml_zone_with_comments;
    let mut unformatted = Vec::new();
    for path in &args.files {
        let text = read_zone_text(path)?;
        let file: std::sync::Arc<str> = std::sync::Arc::from(path.display().to_string());
        let default_origin = crate::zone::load::origin_from_file_name(path);
        let zone = crate::zone::toml_zone::parse_toml_zone(&text, &file, default_origin.as_ref())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        ensure_toml_can_hold(&zone)?;
        let formatted = write_toml_zone_with_comments(&zone, &text);
        verify_toml(&zone, &formatted)?;
        if formatted == text {
            continue;
        }
        if args.check {
            eprintln!("{}: not formatted", path.display());
            unformatted.push(path.display().to_string());
        } else {
            write_output(Some(path), &formatted)?;
            eprintln!("{}: formatted", path.display());
        }
    }
    if !unformatted.is_empty() {
        anyhow::bail!(
            "{} file(s) not formatted: run `fedns zone fmt {}`",
            unformatted.len(),
            unformatted.join(" ")
        );
    }
    Ok(())
}
