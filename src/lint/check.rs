//! The `fedns check` driver: reads the zones and the command-line
//! declarations, runs the offline, certificate and live rules, prints the
//! findings and decides the exit status.
//!
//! Exit status: 0 when there is no error (warnings allowed, unless
//! `--deny warnings`), 1 when there is an error, 2 when the input could not
//! be read or the arguments are wrong.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hickory_proto::rr::Name;

use super::cert::{
    ChainSource, TrustStore, check_chain, load_pem_chain, requirements_for_host,
    requirements_for_server, unix_now,
};
use super::delegation::{Declared, DeclaredServer, Host, ServerAddress, display_name};
use super::dns::Resolver;
use super::probe::{ProbeOptions, probe_server};
use super::render::{
    render_explanation, render_human, render_input_errors, render_json, render_rule_list,
};
use super::srv::{ServiceOwner, classify_owner, srv_findings};
use super::{Finding, Rule, Severity, Summary, sort_findings};
use crate::matrix::dns::ZoneResolver;
use crate::matrix::explain::certificate_declared;
use crate::matrix::resolve::{Resolution, resolve};
use crate::matrix::server_name::ServerName;
use crate::matrix::well_known::{self, WellKnownSource};
use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::zone::Zone;
use crate::zone::load::{ZoneFormat, load_zone_files};

/// Exit status: no error.
pub const EXIT_OK: i32 = 0;
/// Exit status: at least one error (or a warning with `--deny warnings`).
pub const EXIT_FINDINGS: i32 = 1;
/// Exit status: the input could not be read or the arguments are wrong.
pub const EXIT_INPUT: i32 = 2;

/// Where zones are looked for when no path is given.
pub const DEFAULT_ZONES_DIR: &str = "zones";

/// Why `fedns check` could not check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Zone files that do not load.
    #[error("{0}")]
    Zones(String),
    /// A certificate or CA file that does not read.
    #[error(transparent)]
    Cert(#[from] super::cert::CertError),
    /// A bad argument.
    #[error("{0}")]
    Argument(String),
    /// No resolver for the probe.
    #[error("--probe: {0}")]
    Dns(#[from] super::dns::DnsError),
}

/// Output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Text for people.
    #[default]
    Human,
    /// The JSON document of [`super::render`].
    Json,
}

/// What to check and how.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Zone files or directories (empty: `./zones`).
    pub paths: Vec<PathBuf>,
    /// `--server-name S`.
    pub server_names: Vec<String>,
    /// `--well-known S=JSON`.
    pub well_known: Vec<(String, String)>,
    /// `--cert NAME=chain.pem`.
    pub certs: Vec<(String, PathBuf)>,
    /// `--ca FILE`.
    pub ca: Vec<PathBuf>,
    /// Trust the system roots too.
    pub system_roots: bool,
    /// `--probe`.
    pub probe: bool,
    /// `--fetch-well-known`.
    pub fetch_well_known: bool,
    /// `--dns ADDR:PORT`.
    pub dns: Option<SocketAddr>,
    /// The bound on each network step.
    pub timeout: Duration,
    /// The port `.well-known` is fetched from.
    pub well_known_port: u16,
    /// `--deny warnings`.
    pub deny_warnings: bool,
    /// The current time, seconds since the epoch (tests fix it).
    pub now: Option<i64>,
    /// Also resolve every server name offline over the zones (for pictures).
    pub resolve_servers: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            paths: Vec::new(),
            server_names: Vec::new(),
            well_known: Vec::new(),
            certs: Vec::new(),
            ca: Vec::new(),
            system_roots: true,
            probe: false,
            fetch_well_known: false,
            dns: None,
            timeout: Duration::from_secs(5),
            well_known_port: 443,
            deny_warnings: false,
            now: None,
            resolve_servers: false,
        }
    }
}

/// What a check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// The findings, sorted.
    pub findings: Vec<Finding>,
    /// One line per zone checked.
    pub zones: Vec<String>,
    /// Remarks for stderr (trust store problems and such).
    pub notes: Vec<String>,
    /// With [`CheckOptions::resolve_servers`]: every server name the check
    /// knows, resolved offline over the zones as `fedns serve` answers them.
    pub servers: Vec<ServerResolution>,
}

/// A server name resolved over the zones checked.
#[derive(Debug)]
pub struct ServerResolution {
    /// The resolution, as `fedns explain` makes it.
    pub resolution: Resolution,
    /// The chain served where peers connect, when the zones (`certificate
    /// =`) or `--cert HOST=FILE` for the host connected to say which.
    pub certificate: Option<PathBuf>,
}

/// The exit status for `findings`.
pub fn exit_status(findings: &[Finding], deny_warnings: bool) -> i32 {
    let s = Summary::of(findings);
    if s.errors > 0 || (deny_warnings && s.warnings > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// Runs `fedns check` and writes its output; returns the exit status.
pub fn run(opts: &CheckOptions, format: Format, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let render = |report: &CheckReport, status: i32| match format {
        Format::Json => render_json(&report.findings, status),
        Format::Human => {
            let mut text = String::new();
            for z in &report.zones {
                text.push_str(&format!("checked {z}\n"));
            }
            if !report.zones.is_empty() {
                text.push('\n');
            }
            text.push_str(&render_human(&report.findings, status));
            text
        }
    };
    run_rendered(opts, format, &render, out, err)
}

/// Runs `fedns check` and writes what `render` makes of the report; zone
/// errors are written as `errors_as` says. Returns the exit status.
pub fn run_rendered(
    opts: &CheckOptions,
    errors_as: Format,
    render: &dyn Fn(&CheckReport, i32) -> String,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let report = match check(opts) {
        Ok(report) => report,
        Err(CheckError::Zones(text)) => {
            // The zone errors are what the user asked to see: stdout, like findings.
            let _ = match errors_as {
                Format::Human => writeln!(out, "{text}"),
                Format::Json => out.write_all(render_input_errors(&text).as_bytes()),
            };
            let _ = writeln!(
                err,
                "fedns check: the zones could not be read; fix the errors above (exit status {EXIT_INPUT})"
            );
            return EXIT_INPUT;
        }
        Err(e) => {
            let _ = writeln!(err, "fedns check: {e}");
            return EXIT_INPUT;
        }
    };
    for note in &report.notes {
        let _ = writeln!(err, "fedns check: note: {note}");
    }
    let status = exit_status(&report.findings, opts.deny_warnings);
    let text = render(&report, status);
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    status
}

/// `fedns check --explain RULE`; returns the exit status.
pub fn explain(rule: &str, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match Rule::from_id(rule) {
        Some(r) => {
            let _ = out.write_all(render_explanation(r).as_bytes());
            EXIT_OK
        }
        None => {
            let _ = writeln!(
                err,
                "fedns check: no rule {rule:?}; the rules are:\n{}",
                render_rule_list()
            );
            EXIT_INPUT
        }
    }
}

/// `fedns check --list-rules`.
pub fn list_rules(out: &mut dyn Write) -> i32 {
    let _ = out.write_all(render_rule_list().as_bytes());
    EXIT_OK
}

/// Runs every rule the options ask for.
pub fn check(opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    let mut report = CheckReport::default();
    let zones = load_zones(opts)?;
    let zone_refs: Vec<&Zone> = zones.iter().collect();
    for z in &zones {
        let from = z
            .source
            .as_ref()
            .map(|p| format!(" from {}", p.display()))
            .unwrap_or_default();
        report.zones.push(format!(
            "zone {} serial {} ({} records){from}",
            display_name(&z.origin),
            z.serial().unwrap_or(0),
            z.records.len()
        ));
    }
    let mut declared = Declared::from_zones(&zone_refs);
    for s in &opts.server_names {
        declared
            .add_server_name(s)
            .map_err(|e| CheckError::Argument(format!("--server-name {s}: {e}")))?;
    }
    for (s, body) in &opts.well_known {
        declared
            .set_well_known(s, body)
            .map_err(|e| CheckError::Argument(format!("--well-known {s}=...: {e}")))?;
    }
    let needs_trust = opts.probe
        || !opts.certs.is_empty()
        || declared.servers.iter().any(|s| s.certificate.is_some());
    let trust = if needs_trust {
        let t = TrustStore::load(&opts.ca, opts.system_roots)?;
        report.notes.extend(t.notes.iter().cloned());
        Some(t)
    } else {
        None
    };
    let now = opts.now.unwrap_or_else(unix_now);
    // The probe's options, and, with --fetch-well-known, the delegations
    // the servers publish now: peers follow them, so every judgement below
    // (SRV at the delegated host, the certificate name) must too.
    let probe = match (&trust, opts.probe || opts.fetch_well_known) {
        (Some(trust), true) => Some(ProbeOptions {
            resolver: match opts.dns {
                Some(addr) => Resolver::at(addr, opts.timeout),
                None => Resolver::system(opts.timeout)?,
            },
            trust: trust.clone(),
            timeout: opts.timeout,
            fetch_well_known: opts.fetch_well_known,
            well_known_port: opts.well_known_port,
            now,
        }),
        _ => None,
    };
    if let Some(probe) = probe.as_ref().filter(|p| p.fetch_well_known) {
        for server in servers_to_probe(&declared, &zone_refs) {
            if server.delegated().is_some() {
                continue;
            }
            if let Some(delegated) = super::probe::fetched_delegation(&server, &zone_refs, probe) {
                let body = serde_json::json!({ "m.server": delegated.to_string() }).to_string();
                declared
                    .set_well_known(&server.text, &body)
                    .map_err(|e| CheckError::Argument(format!("{}: {e}", server.text)))?;
            }
        }
    }
    let mut findings = srv_findings(&zone_refs, &declared);
    if let Some(trust) = &trust {
        for (name_text, path) in &opts.certs {
            let host = parse_host(name_text)?;
            let chain = load_pem_chain(path)?;
            let source = ChainSource {
                chain: &chain,
                origin: path.display().to_string(),
            };
            for req in requirements_for_host(&host, &zone_refs, &declared) {
                findings.extend(check_chain(&source, &req, trust, now));
            }
        }
        for server in declared.servers.iter().filter(|s| s.certificate.is_some()) {
            let Some(path) = &server.certificate else {
                continue;
            };
            let chain = load_pem_chain(path)?;
            let source = ChainSource {
                chain: &chain,
                origin: path.display().to_string(),
            };
            for req in requirements_for_server(server, &zone_refs) {
                findings.extend(check_chain(&source, &req, trust, now));
            }
        }
        if let Some(probe) = &probe {
            for server in servers_to_probe(&declared, &zone_refs) {
                findings.extend(probe_server(&server, &zone_refs, probe));
            }
        }
    }
    sort_findings(&mut findings);
    report.findings = findings;
    if opts.resolve_servers {
        let mut snapshots = Vec::new();
        for zone in &zones {
            match ZoneSnapshot::build(zone.clone()) {
                Ok(snapshot) => snapshots.push(std::sync::Arc::new(snapshot)),
                Err(e) => report
                    .notes
                    .push(format!("{}: not resolved: {e}", display_name(&zone.origin))),
            }
        }
        let zone_set = ZoneSet::new(snapshots);
        let servers = servers_to_probe(&declared, &zone_refs);
        report.servers = resolve_servers(
            &zone_set,
            "offline, the zones checked",
            &servers,
            &opts.certs,
            &mut report.notes,
        );
    }
    Ok(report)
}

/// Resolves `servers` offline over `zones`, as `fedns serve` would answer
/// them and `fedns explain` follows them; what cannot be resolved becomes a
/// note.
pub fn resolve_servers(
    zone_set: &ZoneSet,
    dns_label: &str,
    servers: &[DeclaredServer],
    certs: &[(String, PathBuf)],
    notes: &mut Vec<String>,
) -> Vec<ServerResolution> {
    let resolver = ZoneResolver::new(zone_set, dns_label);
    let mut out = Vec::new();
    for server in servers {
        let s = match ServerName::parse(&server.text) {
            Ok(s) => s,
            Err(e) => {
                notes.push(format!("{}: not resolved: {e}", server.text));
                continue;
            }
        };
        // A body from the command line or a fetch is served as given; a
        // zone's `well_known` is the zone's declaration.
        let source = match &server.well_known {
            Some(w) if w.place.is_none() => WellKnownSource::Body(w.raw.clone()),
            _ => well_known::declared(zone_set, &s),
        };
        let resolution = match resolve(&s, &resolver, &source) {
            Ok(r) => r,
            Err(e) => {
                notes.push(format!("{}: not resolved: {e}", server.text));
                continue;
            }
        };
        let host = resolution.result.as_ref().map(|t| t.host().to_owned());
        let given = certs.iter().find(|(name, _)| {
            host.as_deref()
                .is_some_and(|h| name.trim().trim_end_matches('.').eq_ignore_ascii_case(h))
        });
        let certificate = given
            .map(|(_, path)| path.clone())
            .or_else(|| certificate_declared(zone_set, &resolution));
        out.push(ServerResolution {
            resolution,
            certificate,
        });
    }
    out
}

/// The declared server names, or, when none is declared, every name with
/// federation SRV records (each taken as a server name).
pub fn servers_to_probe(declared: &Declared, zones: &[&Zone]) -> Vec<DeclaredServer> {
    if !declared.servers.is_empty() {
        return declared.servers.clone();
    }
    let mut out: Vec<DeclaredServer> = Vec::new();
    for record in zones.iter().flat_map(|z| &z.records) {
        if let ServiceOwner::Federation { base, .. } = classify_owner(&record.name())
            && !out.iter().any(|s| s.dns_name() == Some(&base))
        {
            out.push(DeclaredServer {
                text: display_name(&base),
                address: ServerAddress {
                    host: Host::Dns(base),
                    port: None,
                },
                well_known: None,
                place: Some(record.place.clone()),
                certificate: None,
                zone: None,
            });
        }
    }
    out
}

fn parse_host(text: &str) -> Result<Name, CheckError> {
    let mut name = Name::from_ascii(text.trim())
        .map_err(|e| CheckError::Argument(format!("--cert {text}=...: not a host name: {e}")))?;
    name.set_fqdn(true);
    Ok(name)
}

/// Loads the zones named by the options; every load error is an input error.
fn load_zones(opts: &CheckOptions) -> Result<Vec<Zone>, CheckError> {
    let default_dir = PathBuf::from(DEFAULT_ZONES_DIR);
    let paths: Vec<PathBuf> = if opts.paths.is_empty() {
        let something_else =
            !opts.server_names.is_empty() || !opts.certs.is_empty() || !opts.well_known.is_empty();
        if !default_dir.is_dir() && something_else {
            return Ok(Vec::new());
        }
        vec![default_dir]
    } else {
        opts.paths.clone()
    };
    let mut files = Vec::new();
    for path in &paths {
        files.extend(zone_files(path)?);
    }
    let load = load_zone_files(&files);
    if !load.failures.is_empty() {
        let mut text = String::new();
        for (path, errors) in &load.failures {
            for e in errors.iter() {
                text.push_str(&format!("{e}\n"));
            }
            text.push_str(&format!(
                "{}: not loaded ({} error(s)); fix it and check again",
                path.display(),
                errors.0.len()
            ));
            text.push('\n');
        }
        return Err(CheckError::Zones(text.trim_end().to_owned()));
    }
    Ok(load.zones)
}

/// The zone files of a path: the file itself, or the `*.toml` / `*.zone`
/// files of a directory, sorted.
fn zone_files(path: &Path) -> Result<Vec<PathBuf>, CheckError> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| CheckError::Zones(format!("cannot read {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && ZoneFormat::of(p).is_some())
            .collect();
        entries.sort();
        if entries.is_empty() {
            return Err(CheckError::Zones(format!(
                "{}: no zone files (*.toml, *.zone) in this directory",
                path.display()
            )));
        }
        Ok(entries)
    } else if path.exists() {
        Ok(vec![path.to_path_buf()])
    } else {
        Err(CheckError::Zones(format!(
            "{}: no such file or directory",
            path.display()
        )))
    }
}

/// The severity a finding would get under `--deny warnings` (for callers
/// that want to show it).
pub fn effective_severity(f: &Finding, deny_warnings: bool) -> Severity {
    if deny_warnings && f.severity == Severity::Warning {
        Severity::Error
    } else {
        f.severity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_follows_severity_and_deny() {
        let warning = Finding::new(Rule::Srv025, "x", "m");
        let error = Finding::new(Rule::Srv012, "x", "m");
        let info = Finding::new(Rule::Srv013, "x", "m");
        assert_eq!(exit_status(&[], false), EXIT_OK);
        assert_eq!(exit_status(std::slice::from_ref(&info), true), EXIT_OK);
        assert_eq!(exit_status(std::slice::from_ref(&warning), false), EXIT_OK);
        assert_eq!(
            exit_status(std::slice::from_ref(&warning), true),
            EXIT_FINDINGS
        );
        assert_eq!(exit_status(&[error, info], false), EXIT_FINDINGS);
        assert_eq!(effective_severity(&warning, true), Severity::Error);
    }

    #[test]
    fn explain_knows_every_rule_and_refuses_others() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(explain("crt002", &mut out, &mut err), EXIT_OK);
        assert!(String::from_utf8_lossy(&out).starts_with("CRT002 (error)"));
        assert_eq!(explain("XYZ1", &mut out, &mut err), EXIT_INPUT);
        assert!(String::from_utf8_lossy(&err).contains("SRV025"));
    }

    #[test]
    fn missing_paths_are_input_errors() {
        let opts = CheckOptions {
            paths: vec![PathBuf::from("/nonexistent/fedns/zones")],
            ..CheckOptions::default()
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run(&opts, Format::Human, &mut out, &mut err), EXIT_INPUT);
        assert!(String::from_utf8_lossy(&out).contains("no such file or directory"));
        assert!(String::from_utf8_lossy(&err).contains("could not be read"));
    }
}
