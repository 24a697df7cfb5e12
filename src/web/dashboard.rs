//! The lab dashboard (`web_listen`, off by default): pages about the zones
//! as they are served now. Read-only: nothing on it changes anything.
//!
//! - `GET /`: the zones served, every server name they know with how peers
//!   find it (the federation map) and its lint status, and a form to explain
//!   any name;
//! - `GET /explain?name=S`: the explain page of S, resolved over the zones
//!   served (as `fedns explain --zones` would over the same files);
//! - `GET /check`: the offline findings of the zones served.
//!
//! Everything is computed from the zone store's current set on request, so
//! a reload, a transfer or an update shows at the next page. The findings and
//! resolutions are cached until a zone's serial changes; they are computed
//! from the snapshots served (no copy of a zone). Records of a served zone
//! carry no line numbers (the snapshot keeps none): findings point at the
//! zone's file. Work runs on the blocking pool, one page at a time
//! ([`super::http`]), never on the tasks that answer DNS.

use std::sync::{Arc, Mutex};

use maud::{Markup, html};

use super::http::{Handler, Request, Response};
use crate::lint::check::{ServerResolution, resolve_servers, servers_to_probe};
use crate::lint::delegation::Declared;
use crate::lint::{Finding, Severity, Summary, offline_findings_served, served_extracts};
use crate::matrix::server_name::ServerName;
use crate::report::check_page::{CheckView, ServerPicture, check_body};
use crate::report::explain_page::explain_body;
use crate::report::flow::{MapLine, how_found, map_svg};
use crate::report::{CONTENT_SECURITY_POLICY, CertVerdict, certificate_verdict, page, server_of};
use crate::snapshot::ZoneSet;
use crate::store::ZoneStore;
use crate::zone::Zone;

/// How the DNS answers are described on the pages.
const DNS_LABEL: &str = "the zones this server serves now";

/// What the pages are made from, for one version of the zone set.
struct Lint {
    /// (origin, serial) of every zone: the version these results are for.
    version: Vec<(String, u32)>,
    findings: Vec<Finding>,
    servers: Vec<ServerResolution>,
    notes: Vec<String>,
}

/// The dashboard of one server.
pub struct Dashboard {
    store: Arc<ZoneStore>,
    cache: Mutex<Option<Arc<Lint>>>,
}

impl Dashboard {
    /// A dashboard over `store`.
    pub fn new(store: Arc<ZoneStore>) -> Dashboard {
        Dashboard {
            store,
            cache: Mutex::new(None),
        }
    }

    /// The dashboard as an HTTP handler.
    pub fn handler(self) -> Handler {
        let dashboard = Arc::new(self);
        Arc::new(move |request: &Request| dashboard.answer(request))
    }

    /// Answers one request.
    pub fn answer(&self, request: &Request) -> Response {
        let zones = self.store.zones_owned();
        let (status, body) = match request.path.as_str() {
            "/" => (200, self.index(&zones)),
            "/check" => (200, self.check(&zones)),
            "/explain" => self.explain(&zones, request.param("name").unwrap_or_default()),
            _ => (
                404,
                page(
                    "Not found",
                    html! { (nav()) h1 { "Not found" } p { "There is no page " span class="mono" { (request.path) } " here." } },
                ),
            ),
        };
        Response::new(status, "text/html; charset=utf-8", body)
            .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    }

    /// The findings and resolutions for the zones now served (cached per
    /// version of the zone set).
    fn lint(&self, zones: &ZoneSet) -> Arc<Lint> {
        let version: Vec<(String, u32)> = zones
            .zones()
            .iter()
            .map(|z| (z.origin().to_string(), z.serial()))
            .collect();
        if let Ok(cache) = self.cache.lock()
            && let Some(lint) = cache.as_ref().filter(|l| l.version == version)
        {
            return Arc::clone(lint);
        }
        let mut notes = Vec::new();
        // What the rules read as written: the [[matrix]] sections and the
        // federation SRV records among it, so the server names come from it too.
        let written = served_extracts(zones);
        let refs: Vec<&Zone> = written.iter().collect();
        let findings = offline_findings_served(&refs, zones);
        let declared = Declared::from_zones(&refs);
        let servers = servers_to_probe(&declared, &refs);
        let servers = resolve_servers(zones, DNS_LABEL, &servers, &[], &mut notes);
        let lint = Arc::new(Lint {
            version,
            findings,
            servers,
            notes,
        });
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(Arc::clone(&lint));
        }
        lint
    }

    fn index(&self, zones: &ZoneSet) -> String {
        let lint = self.lint(zones);
        let verdicts: Vec<Option<CertVerdict>> = lint.servers.iter().map(verdict).collect();
        let lines: Vec<MapLine<'_>> = lint
            .servers
            .iter()
            .zip(&verdicts)
            .map(|(s, v)| MapLine {
                resolution: &s.resolution,
                verdict: v.as_ref().map(|c| c.fits),
            })
            .collect();
        let body = html! {
            (nav())
            h1 { "Zones and server names served" }
            p class="lead" { "As this server answers now; reloads, transfers and updates show at the next page." }
            (ask_form(""))
            h2 { "How peers find each server name" }
            @if lines.is_empty() {
                p { "The zones know no Matrix server name (no [[matrix]] section, no federation SRV record)." }
            } @else {
                div class="figure" { (map_svg(&lines)) }
                table id="servers" {
                    tr { th { "server name" } th { "found by" } th { "connect to" } th { "certificate there" } th { "lint" } }
                    @for (s, v) in lint.servers.iter().zip(&verdicts) {
                        @let r = &s.resolution;
                        tr data-server=(r.server_name.as_str()) {
                            td { a href=(format!("/explain?name={}", query_value(r.server_name.as_str()))) class="mono" { (r.server_name) } }
                            td { @match &r.result { Some(t) => { "step " (t.step.number()) ": " (how_found(t.step)) } None => { "nothing: federation fails" } } }
                            td class="mono" { @if let Some(t) = &r.result { (crate::matrix::explain::endpoint_line(t.host(), t.port())) } }
                            td { @match v {
                                Some(c) if c.fits => { span class="badge good" { "names " (c.required) } }
                                Some(c) => { span class="badge bad" { "lacks " (c.required) } }
                                None => { span class="badge info" { "not declared" } }
                            } }
                            td { (lint_status(&lint.findings, r.server_name.as_str())) }
                        }
                    }
                }
            }
            h2 { "Zones" }
            table id="zones" {
                tr { th { "zone" } th { "serial" } th { "records" } th { "from" } }
                @for z in zones.zones() {
                    tr {
                        td class="mono" { (z.origin()) }
                        td { (z.serial()) }
                        td { (z.record_count()) }
                        td class="mono" { @match z.source() { Some(p) => (p.display()), None => "transfer or catalog" } }
                    }
                }
                @for origin in zones.unavailable() {
                    tr { td class="mono" { (origin) } td colspan="3" { "not available yet (no copy transferred)" } }
                }
            }
            (notes(&lint.notes))
        };
        page("fedns: zones and server names", body)
    }

    fn check(&self, zones: &ZoneSet) -> String {
        let lint = self.lint(zones);
        let servers: Vec<ServerPicture> = lint
            .servers
            .iter()
            .map(|s| ServerPicture {
                resolution: s.resolution.clone(),
                cert: verdict(s),
            })
            .collect();
        let summary = Summary::of(&lint.findings);
        let view = CheckView {
            findings: &lint.findings,
            servers,
            zones: &[],
            exit_status: i32::from(summary.errors > 0),
            source_line: &|_| None,
        };
        page(
            "fedns: check of the zones served",
            html! { (nav()) (check_body(&view)) (notes(&lint.notes)) },
        )
    }

    fn explain(&self, zones: &ZoneSet, name: &str) -> (u16, String) {
        let name = name.trim();
        if name.is_empty() {
            return (
                200,
                page(
                    "fedns: explain",
                    html! { (nav()) h1 { "Explain a server name" } (ask_form("")) },
                ),
            );
        }
        let problem = |text: String| {
            (
                400,
                page(
                    "fedns: explain",
                    html! { (nav()) (ask_form(name)) h1 { "Cannot explain that" } p class="error" { (text) } },
                ),
            )
        };
        let s = match ServerName::parse(name) {
            Ok(s) => s,
            Err(e) => return problem(format!("{name:?} is not a Matrix server name: {e}")),
        };
        let lint = self.lint(zones);
        let mut notes = Vec::new();
        let known = lint.servers.iter().find(|k| {
            k.resolution
                .server_name
                .as_str()
                .eq_ignore_ascii_case(s.as_str())
        });
        let resolution = match known {
            Some(k) => Some(ServerResolution {
                resolution: k.resolution.clone(),
                certificate: k.certificate.clone(),
            }),
            None => {
                let mut one = Declared::default();
                if let Err(e) = one.add_server_name(s.as_str()) {
                    return problem(format!("{name:?}: {e}"));
                }
                resolve_servers(zones, DNS_LABEL, &one.servers, &[], &mut notes)
                    .into_iter()
                    .next()
            }
        };
        let Some(resolution) = resolution else {
            return problem(notes.join("; "));
        };
        let cert = verdict(&resolution);
        (
            200,
            page(
                &format!(
                    "How a homeserver reaches {}",
                    resolution.resolution.server_name
                ),
                html! { (nav()) (ask_form(name)) (explain_body(&resolution.resolution, cert.as_ref())) },
            ),
        )
    }
}

/// The certificate verdict of a resolved server name, when its chain is known and readable.
fn verdict(s: &ServerResolution) -> Option<CertVerdict> {
    let target = s.resolution.result.as_ref()?;
    certificate_verdict(target, s.certificate.as_ref()?).ok()
}

fn nav() -> Markup {
    html! {
        nav { a href="/" { "Zones and server names" } a href="/check" { "Check" } a href="/explain" { "Explain a name" } }
    }
}

fn ask_form(value: &str) -> Markup {
    html! {
        form class="ask" method="get" action="/explain" {
            label for="name" { "Explain a server name: " }
            input type="text" id="name" name="name" value=(value) placeholder="example.org" maxlength="300";
            " "
            button type="submit" { "Explain" }
        }
    }
}

fn lint_status(findings: &[Finding], server: &str) -> Markup {
    let server = server.to_ascii_lowercase();
    let count = |severity: Severity| {
        findings
            .iter()
            .filter(|f| f.severity == severity && server_of(&f.name) == server)
            .count()
    };
    let summary = Summary {
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
    };
    html! {
        @if summary.errors + summary.warnings + summary.infos == 0 {
            span class="badge good" { "no findings" }
        } @else {
            a href=(format!("/check#server-{}", server.to_ascii_lowercase())) {
                @if summary.errors > 0 { span class="badge error" { (summary.errors) " error(s)" } " " }
                @if summary.warnings > 0 { span class="badge warning" { (summary.warnings) " warning(s)" } " " }
                @if summary.infos > 0 { span class="badge info" { (summary.infos) " info(s)" } }
            }
        }
    }
}

fn notes(notes: &[String]) -> Markup {
    html! {
        @if !notes.is_empty() {
            h2 { "Notes" }
            ul { @for n in notes { li { (n) } } }
        }
    }
}

/// `text` for a URL query value.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
