//! `fedns explain S`: a resolution rendered for people (every step, the
//! records it read as zone-file lines, why it was taken or skipped, where
//! homeservers differ) or as JSON for programs.
//!
//! JSON schema (`--format json`), one object:
//!
//! ```text
//! server_name            string   S as given
//! dns                    string   where DNS answers came from
//! delegated_server_name  string?  m.server of a valid .well-known (D, with its port)
//! steps[]                         all eleven steps, in the spec's order
//!   step                 string   "1" "2" "3" "3.1" "3.2" "3.3" "3.4" "3.5" "4" "5" "6"
//!   condition            string   the spec's condition for the step
//!   taken                bool     true for the steps on the path to the result
//!   reason               string   why it was taken or skipped
//!   records[]            string   every record seen at the step, as zone-file lines
//!   lookups[]                     the DNS questions asked at the step
//!     name, type, status string   status: NOERROR NODATA NXDOMAIN SERVFAIL REFUSED REFERRAL
//!     records[]          string
//!   well_known           object   step 3 only: source, url?, redirects[], status?,
//!                                 body?, lookups[], m_server?, error?
//!   differences[]        string   where Synapse, Dendrite or the Conduit family differ here
//! result                 object?  null when there is nothing to connect to
//!   step                 string   the step that decided
//!   host                 string   where to connect (preferred endpoint)
//!   port                 number
//!   addresses[]          string   IP addresses of host (empty: cannot connect)
//!   sni                  string?  TLS server name sent (null for IP literals)
//!   host_header          string   HTTP Host header sent
//!   certificate_name     string   the name (or IP) the certificate must be valid for
//!   endpoints[]                   every SRV target in preference order (host, port,
//!                                 addresses, priority, weight); one entry otherwise
//! failure                string?  why federation to S fails, when it does
//! ```

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::dns::{DnsError, DnsResolver, Lookup, ZoneResolver};
use super::fetch::{FetchOptions, FetchSetupError};
use super::resolve::{Resolution, Step, StepId, resolve};
use super::server_name::{ServerName, ServerNameError};
use super::well_known::{self, WellKnownError, WellKnownSource};
use crate::snapshot::{ZoneSet, ZoneSnapshot};
use crate::zone::load_zones_dir;

/// How `fedns explain` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Steps and result for people.
    #[default]
    Human,
    /// One JSON object (schema in the README and in this module's documentation).
    Json,
    /// One self-contained HTML page: the spec's flow as a picture, the path
    /// taken lit up (rendered by [`crate::report`]).
    Html,
}

/// Where DNS answers come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsSource {
    /// The zone files in a directory, offline.
    Zones(PathBuf),
    /// A DNS server, live.
    Server(SocketAddr),
}

/// Where the `.well-known` answer comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WellKnownInput {
    /// Offline: what the zones declare (`[[matrix]] well_known`); live: nothing.
    Default,
    /// A JSON body, as served.
    Json(String),
    /// Fetched over HTTPS.
    Fetch {
        /// Trust only this CA file (PEM) instead of Mozilla's roots.
        ca: Option<PathBuf>,
        /// Connect here instead of to S:443.
        connect_to: Option<SocketAddr>,
    },
}

/// Everything `fedns explain` needs.
#[derive(Clone, Debug)]
pub struct ExplainOptions {
    /// S, as typed.
    pub server_name: String,
    /// Where DNS answers come from.
    pub dns: DnsSource,
    /// Where the `.well-known` comes from.
    pub well_known: WellKnownInput,
    /// The most one DNS exchange or HTTPS request may take.
    pub timeout: Duration,
}

/// Why `fedns explain` could not explain.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// S is not a server name.
    #[error("{text:?} is not a Matrix server name: {error}")]
    ServerName {
        /// What was given.
        text: String,
        /// What is wrong.
        error: ServerNameError,
    },
    /// The zones directory cannot be read.
    #[error(
        "cannot read the zones in {dir}: {reason} (give --zones DIR, or ask a DNS server with --dns ADDR:PORT)"
    )]
    ZonesDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
    /// Some zone files do not load.
    #[error(
        "{count} zone file(s) in {dir} do not load; fix them first (fedns check lists every error):\n{errors}"
    )]
    Zones {
        /// The directory.
        dir: PathBuf,
        /// How many files failed.
        count: usize,
        /// The errors, one per line.
        errors: String,
    },
    /// DNS could not be asked.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// The HTTPS fetch cannot be set up.
    #[error(transparent)]
    Fetch(#[from] FetchSetupError),
}

/// What `fedns explain` produced: the resolution, warnings for stderr, and
/// the certificate chain the zones say is served where peers connect.
#[derive(Debug)]
pub struct Explained {
    /// Things the user should know about their input (for stderr).
    pub warnings: Vec<String>,
    /// The resolution.
    pub resolution: Resolution,
    /// The `certificate =` of the zones' `[[matrix]]` section for the
    /// delegated host D, else for S (offline only).
    pub declared_certificate: Option<PathBuf>,
}

impl Explained {
    /// The resolution as text or JSON (HTML is [`crate::report`]'s).
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Human => render_human(&self.resolution),
            Format::Json | Format::Html => to_json_text(&self.resolution),
        }
    }
}

/// The longest `--timeout` accepted (every wait stays bounded).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Parses a timeout: `3`, `3s`, `500ms` (more than 0, at most [`MAX_TIMEOUT`]).
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => (text.strip_suffix('s').unwrap_or(text), 1000),
    };
    let value: u64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write 3s or 500ms"))?;
    let timeout = Duration::from_millis(value.saturating_mul(unit));
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return Err(format!(
            "{text:?} is out of range: between 1ms and {}s",
            MAX_TIMEOUT.as_secs()
        ));
    }
    Ok(timeout)
}

/// Runs `fedns explain`: parses S, sets up DNS and the `.well-known`, resolves, renders.
pub fn explain(options: &ExplainOptions) -> Result<Explained, ExplainError> {
    let s = ServerName::parse(&options.server_name).map_err(|error| ExplainError::ServerName {
        text: options.server_name.clone(),
        error,
    })?;
    let mut warnings = Vec::new();
    if s.has_upper_case() {
        warnings.push(format!("{s} has upper-case letters: DNS ignores case, but peers compare server names as written; use lower case"));
    }
    let fetch_source = match &options.well_known {
        WellKnownInput::Fetch { ca, connect_to } => Some(WellKnownSource::Fetch(Arc::new(
            FetchOptions::new(ca.as_deref(), *connect_to, options.timeout)?,
        ))),
        WellKnownInput::Json(body) => {
            if let Err(e @ (WellKnownError::BadJson { .. } | WellKnownError::NotAnObject(_))) =
                well_known::parse_body(body.as_bytes())
            {
                warnings.push(format!(
                    "--well-known: {e}; explaining what a homeserver does with such a .well-known"
                ));
            }
            Some(WellKnownSource::Body(body.clone()))
        }
        WellKnownInput::Default => None,
    };
    let mut declared_certificate = None;
    let resolution = match &options.dns {
        DnsSource::Zones(dir) => {
            let zones = load_zone_set(dir)?;
            let resolver =
                ZoneResolver::new(&zones, format!("offline, zone files in {}", dir.display()));
            let source = fetch_source.unwrap_or_else(|| well_known::declared(&zones, &s));
            let resolution = resolve(&s, &resolver, &source)?;
            declared_certificate = certificate_declared(&zones, &resolution);
            resolution
        }
        DnsSource::Server(addr) => {
            let resolver = DnsResolver::new(*addr, options.timeout, 2);
            let source = fetch_source.unwrap_or_else(|| {
                WellKnownSource::Unavailable(
                    "none given (with --dns, give the body with --well-known JSON or fetch it with --fetch), \
                     so fedns explains as if the request failed"
                        .to_owned(),
                )
            });
            resolve(&s, &resolver, &source)?
        }
    };
    Ok(Explained {
        warnings,
        resolution,
        declared_certificate,
    })
}

/// The certificate chain the zones declare for where `r` connects: the
/// `certificate =` of the `[[matrix]]` section of the delegated host D,
/// else of S; relative paths are relative to the zone file.
pub fn certificate_declared(zones: &ZoneSet, r: &Resolution) -> Option<PathBuf> {
    let names = r
        .delegated
        .iter()
        .chain(std::iter::once(&r.server_name))
        .filter_map(ServerName::dns_name);
    for name in names {
        for zone in zones.zones() {
            let found = zone
                .matrix()
                .iter()
                .find(|d| d.server_name == name && d.certificate.is_some());
            if let Some(path) = found.and_then(|d| d.certificate.as_ref()) {
                let base = zone.source().and_then(|p| p.parent());
                return Some(match base {
                    Some(dir) if path.is_relative() => dir.join(path),
                    _ => path.clone(),
                });
            }
        }
    }
    None
}

/// Loads every zone file in `dir` into a zone set; any failing file is an error.
pub fn load_zone_set(dir: &Path) -> Result<ZoneSet, ExplainError> {
    let loaded = load_zones_dir(dir).map_err(|e| ExplainError::ZonesDir {
        dir: dir.to_owned(),
        reason: e.to_string(),
    })?;
    if !loaded.failures.is_empty() {
        let errors = loaded
            .failures
            .iter()
            .flat_map(|(_, errors)| errors.iter().map(ToString::to_string))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(ExplainError::Zones {
            dir: dir.to_owned(),
            count: loaded.failures.len(),
            errors,
        });
    }
    if loaded.zones.is_empty() {
        return Err(ExplainError::ZonesDir {
            dir: dir.to_owned(),
            reason: "no *.toml or *.zone files in it".into(),
        });
    }
    let mut snapshots = Vec::new();
    for zone in loaded.zones {
        let origin = zone.origin.to_string();
        let snapshot = ZoneSnapshot::build(zone).map_err(|reason| ExplainError::Zones {
            dir: dir.to_owned(),
            count: 1,
            errors: format!("{origin}: {reason}"),
        })?;
        snapshots.push(Arc::new(snapshot));
    }
    Ok(ZoneSet::new(snapshots))
}

// ------------------------------------------------------------------ JSON --

/// The JSON form of a resolution (schema in the module documentation).
pub fn to_json(r: &Resolution) -> Value {
    serde_json::to_value(json_view(r)).unwrap_or(Value::Null)
}

/// The JSON form of a resolution as pretty-printed text, keys in schema order.
pub fn to_json_text(r: &Resolution) -> String {
    let mut text = serde_json::to_string_pretty(&json_view(r)).unwrap_or_default();
    text.push('\n');
    text
}

fn json_view(r: &Resolution) -> JsonResolution<'_> {
    JsonResolution {
        server_name: r.server_name.as_str(),
        dns: &r.dns,
        delegated_server_name: r.delegated.as_ref().map(ServerName::as_str),
        steps: r.steps.iter().map(JsonStep::of).collect(),
        result: r.result.as_ref().map(|t| JsonResult {
            step: t.step.number(),
            host: t.host(),
            port: t.port(),
            addresses: t.addresses().iter().map(ToString::to_string).collect(),
            sni: t.sni.as_deref(),
            host_header: &t.host_header,
            certificate_name: &t.certificate_name,
            endpoints: t
                .endpoints
                .iter()
                .map(|e| JsonEndpoint {
                    host: &e.host,
                    port: e.port,
                    addresses: e.addresses.iter().map(ToString::to_string).collect(),
                    priority: e.srv.map(|s| s.priority),
                    weight: e.srv.map(|s| s.weight),
                })
                .collect(),
        }),
        failure: r.failure.as_deref(),
    }
}

#[derive(Serialize)]
struct JsonResolution<'a> {
    server_name: &'a str,
    dns: &'a str,
    delegated_server_name: Option<&'a str>,
    steps: Vec<JsonStep<'a>>,
    result: Option<JsonResult<'a>>,
    failure: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    step: &'static str,
    condition: &'static str,
    taken: bool,
    reason: &'a str,
    records: Vec<String>,
    lookups: Vec<JsonLookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    well_known: Option<JsonWellKnown<'a>>,
    differences: &'a [String],
}

impl<'a> JsonStep<'a> {
    fn of(step: &'a Step) -> JsonStep<'a> {
        JsonStep {
            step: step.id.number(),
            condition: step.id.condition(),
            taken: step.taken,
            reason: &step.reason,
            records: records_of(step),
            lookups: step.lookups.iter().map(JsonLookup::of).collect(),
            well_known: step.well_known.as_ref().map(|wk| JsonWellKnown {
                source: &wk.source,
                url: wk.url.as_deref(),
                redirects: &wk.redirects,
                status: wk.status,
                body: wk.body.as_deref(),
                lookups: wk.lookups.iter().map(JsonLookup::of).collect(),
                m_server: wk.outcome.as_ref().ok().map(ServerName::as_str),
                error: wk.outcome.as_ref().err().map(ToString::to_string),
            }),
            differences: &step.differences,
        }
    }
}

#[derive(Serialize)]
struct JsonLookup {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    status: String,
    records: Vec<String>,
    /// Owners answered by a wildcard: owner -> the wildcard.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    synthesised_from: std::collections::BTreeMap<String, String>,
}

impl JsonLookup {
    fn of(l: &Lookup) -> JsonLookup {
        JsonLookup {
            name: l.name.to_string(),
            rtype: l.rtype.to_string(),
            status: l.status(),
            records: l.records.iter().map(ToString::to_string).collect(),
            synthesised_from: l
                .synthesised
                .iter()
                .map(|(owner, wildcard)| (owner.to_string(), wildcard.to_string()))
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct JsonWellKnown<'a> {
    source: &'a str,
    url: Option<&'a str>,
    redirects: &'a [String],
    status: Option<u16>,
    body: Option<&'a str>,
    lookups: Vec<JsonLookup>,
    m_server: Option<&'a str>,
    error: Option<String>,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    step: &'static str,
    host: &'a str,
    port: u16,
    addresses: Vec<String>,
    sni: Option<&'a str>,
    host_header: &'a str,
    certificate_name: &'a str,
    endpoints: Vec<JsonEndpoint<'a>>,
}

#[derive(Serialize)]
struct JsonEndpoint<'a> {
    host: &'a str,
    port: u16,
    addresses: Vec<String>,
    priority: Option<u16>,
    weight: Option<u16>,
}

/// Every record seen at a step, as zone-file lines, without repeats.
pub fn records_of(step: &Step) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let wk_lookups = step.well_known.iter().flat_map(|wk| wk.lookups.iter());
    for line in wk_lookups
        .chain(step.lookups.iter())
        .flat_map(|l| l.records.iter().map(ToString::to_string))
    {
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

// ----------------------------------------------------------------- human --

/// Width the human output wraps prose at.
const WIDTH: usize = 100;
/// Indent of everything under a step's heading.
const INDENT: &str = "        ";

/// The resolution for people: one block per step, then the result.
pub fn render_human(r: &Resolution) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "How a homeserver reaches {} (DNS: {})",
        r.server_name, r.dns
    );
    for step in &r.steps {
        out.push('\n');
        let state = match (step.taken, &step.well_known) {
            (true, _) => "TAKEN",
            (false, Some(wk)) if wk.outcome.is_err() => "failed",
            _ => "skipped",
        };
        let _ = writeln!(
            out,
            "{:<6}{:<9}{}",
            step.id.number(),
            state,
            title(step.id, r)
        );
        if let Some(wk) = &step.well_known {
            let _ = writeln!(out, "{INDENT}; source: {}", wk.source);
            if let Some(url) = &wk.url {
                for from in &wk.redirects {
                    let _ = writeln!(out, "{INDENT}; GET {from} -> redirect");
                }
                let status = wk
                    .status
                    .map_or("no response".to_owned(), |s| format!("HTTP {s}"));
                let _ = writeln!(out, "{INDENT}; GET {url} -> {status}");
            }
            for l in &wk.lookups {
                write_lookup(&mut out, l);
            }
            if let Some(body) = &wk.body {
                let shown: String = body.trim().chars().take(200).collect();
                let more = if body.trim().chars().count() > 200 {
                    " ..."
                } else {
                    ""
                };
                let _ = writeln!(out, "{INDENT}; body: {shown}{more}");
            }
        }
        for l in &step.lookups {
            write_lookup(&mut out, l);
        }
        wrap_into(&mut out, "", &step.reason);
        for d in &step.differences {
            wrap_into(&mut out, "in practice: ", d);
        }
    }
    out.push('\n');
    match &r.result {
        Some(t) => {
            let _ = writeln!(out, "Result (step {})", t.step.number());
            let _ = writeln!(
                out,
                "  connect to        {}",
                endpoint_line(t.host(), t.port())
            );
            let addresses = if t.addresses().is_empty() {
                "none: a homeserver cannot connect".to_owned()
            } else {
                t.addresses()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(out, "  addresses         {addresses}");
            for e in t.endpoints.iter().skip(1) {
                let rank = e
                    .srv
                    .map(|s| format!(" (priority {}, weight {})", s.priority, s.weight))
                    .unwrap_or_default();
                let ips = e
                    .addresses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(
                    out,
                    "  then              {}{rank}: {}",
                    endpoint_line(&e.host, e.port),
                    if ips.is_empty() { "no addresses" } else { &ips }
                );
            }
            let _ = writeln!(
                out,
                "  SNI               {}",
                t.sni.as_deref().unwrap_or("none (IP literal)")
            );
            let _ = writeln!(out, "  Host header       {}", t.host_header);
            let whose = match t.step {
                StepId::DelegatedFedSrv | StepId::DelegatedLegacySrv => "the delegated host D",
                _ => "the server name S",
            };
            let srv_target = t
                .endpoints
                .iter()
                .find(|e| e.srv.is_some() && !e.host.eq_ignore_ascii_case(&t.certificate_name));
            let not_target = match srv_target {
                Some(e) => format!("  ({whose}, not the SRV target {})", e.host),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "  certificate for   {}{not_target}",
                t.certificate_name
            );
        }
        None => {
            let _ = writeln!(out, "Result: nothing to connect to");
        }
    }
    if let Some(failure) = &r.failure {
        wrap_into(&mut out, "  federation fails: ", failure);
    }
    out
}

/// The step's heading with the names of this resolution filled in.
pub fn title(id: StepId, r: &Resolution) -> String {
    let s = r.server_name.host_text();
    let d = r
        .delegated
        .as_ref()
        .map(|d| d.host_text())
        .unwrap_or_else(|| "D".to_owned());
    match id {
        StepId::IpLiteral => format!("{} is an IP literal?", r.server_name),
        StepId::ExplicitPort => format!("{} has an explicit port?", r.server_name),
        StepId::WellKnown => format!("GET https://{s}/.well-known/matrix/server"),
        StepId::DelegatedIpLiteral => "m.server is an IP literal?".to_owned(),
        StepId::DelegatedPort => "m.server has a port (D:port)?".to_owned(),
        StepId::DelegatedFedSrv => format!("SRV _matrix-fed._tcp.{d}"),
        StepId::DelegatedLegacySrv => format!("SRV _matrix._tcp.{d} (deprecated)"),
        StepId::DelegatedDefault => format!("A/AAAA of {d}, port 8448"),
        StepId::FedSrv => format!("SRV _matrix-fed._tcp.{s}"),
        StepId::LegacySrv => format!("SRV _matrix._tcp.{s} (deprecated)"),
        StepId::Default => format!("A/AAAA of {s}, port 8448"),
    }
}

/// `host:port`, with brackets around an IPv6 address.
pub fn endpoint_line(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn write_lookup(out: &mut String, l: &Lookup) {
    let _ = writeln!(out, "{INDENT}; {} {}: {}", l.name, l.rtype, l.status());
    for record in &l.records {
        let _ = writeln!(out, "{INDENT}{record}");
    }
    for (owner, wildcard) in &l.synthesised {
        let _ = writeln!(
            out,
            "{INDENT}; {owner} does not exist: its records are synthesised from the wildcard {wildcard} (RFC 4592)"
        );
    }
}

/// Appends `text` wrapped at [`WIDTH`], the first line prefixed with `lead`,
/// the others indented to match.
fn wrap_into(out: &mut String, lead: &str, text: &str) {
    let hang = format!("{INDENT}{}", " ".repeat(lead.chars().count()));
    let mut line = format!("{INDENT}{lead}");
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = hang.clone();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_with_units_and_bounds() {
        assert_eq!(parse_timeout("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timeout("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("61s").is_err());
        assert!(parse_timeout("soon").is_err());
    }

    #[test]
    fn wrapping_keeps_words_and_indents() {
        let mut out = String::new();
        wrap_into(&mut out, "note: ", &"word ".repeat(40));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert!(lines[0].starts_with("        note: word"));
        assert!(lines[1].starts_with("              word"));
    }

    #[test]
    fn json_has_every_step_and_the_result_fields() {
        let zones = crate::testing::zones_from_toml(&[
            "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\nA = [\"192.0.2.1\"]\n",
        ]);
        let resolver = ZoneResolver::new(&zones, "test");
        let s = ServerName::parse("example.org").unwrap();
        let r = resolve(&s, &resolver, &WellKnownSource::Unavailable("none".into())).unwrap();
        let v = to_json(&r);
        assert_eq!(v["steps"].as_array().map(Vec::len), Some(11));
        assert_eq!(v["steps"][10]["step"], "6");
        assert_eq!(v["steps"][10]["taken"], true);
        assert_eq!(
            v["steps"][10]["records"][0],
            "example.org. 3600 IN A 192.0.2.1"
        );
        for key in [
            "host",
            "port",
            "addresses",
            "sni",
            "host_header",
            "certificate_name",
        ] {
            assert!(v["result"].get(key).is_some(), "{key}");
        }
        assert_eq!(v["steps"][2]["well_known"]["error"], "none");
        let text = render_human(&r);
        assert!(
            text.contains("6     TAKEN    A/AAAA of example.org, port 8448"),
            "{text}"
        );
        assert!(text.contains("certificate for   example.org"), "{text}");
    }
}
