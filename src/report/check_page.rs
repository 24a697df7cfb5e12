//! `fedns check --format html`: the findings as a page, grouped by server
//! name, each with its rule, the zone line it points at, why it breaks and
//! the fix; the federation map of every server name the zones know; and for
//! SRV025 (a certificate for the target, not the server name) the two layouts
//! that work, drawn side by side with the real names.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::flow::{MapLine, map_svg, shorten};
use super::{CertVerdict, certificate_verdict, page, server_of};
use crate::lint::check::CheckReport;
use crate::lint::{Finding, Rule, Summary};
use crate::matrix::resolve::Resolution;
use crate::zone::Place;

/// One server name as the check sees it: its resolution over the zones,
/// and the certificate verdict when a chain is known.
#[derive(Clone, Debug)]
pub struct ServerPicture {
    /// The resolution, offline over the zones checked.
    pub resolution: Resolution,
    /// The certificate at the target, when known.
    pub cert: Option<CertVerdict>,
}

/// What a check page shows.
pub struct CheckView<'a> {
    /// The findings, sorted.
    pub findings: &'a [Finding],
    /// The server names the zones know, resolved.
    pub servers: Vec<ServerPicture>,
    /// One line per zone checked.
    pub zones: &'a [String],
    /// The exit status `fedns check` gives.
    pub exit_status: i32,
    /// The text of a zone line, for the places findings point at.
    pub source_line: &'a dyn Fn(&Place) -> Option<String>,
}

impl<'a> CheckView<'a> {
    /// The view of what `fedns check` found, certificates judged from the
    /// files the check names, zone lines read from disk.
    pub fn of(report: &'a CheckReport, exit_status: i32) -> CheckView<'a> {
        CheckView {
            findings: &report.findings,
            servers: report
                .servers
                .iter()
                .map(|s| ServerPicture {
                    resolution: s.resolution.clone(),
                    cert: match (&s.resolution.result, &s.certificate) {
                        (Some(target), Some(chain)) => certificate_verdict(target, chain).ok(),
                        _ => None,
                    },
                })
                .collect(),
            zones: &report.zones,
            exit_status,
            source_line: &zone_line_from_disk,
        }
    }
}

/// The text of the line `place` points at, read from its file.
pub fn zone_line_from_disk(place: &Place) -> Option<String> {
    if place.line == 0 {
        return None;
    }
    let text = std::fs::read_to_string(&*place.file).ok()?;
    let index = usize::try_from(place.line).ok()?.checked_sub(1)?;
    text.lines().nth(index).map(str::to_owned)
}

/// The whole page.
pub fn check_page(view: &CheckView<'_>) -> String {
    page("fedns check", check_body(view))
}

/// The page's content, for pages that add their own navigation.
pub fn check_body(view: &CheckView<'_>) -> Markup {
    let summary = Summary::of(view.findings);
    let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in view.findings {
        groups.entry(server_of(&f.name)).or_default().push(f);
    }
    let lines: Vec<MapLine<'_>> = view
        .servers
        .iter()
        .map(|s| MapLine {
            resolution: &s.resolution,
            verdict: s.cert.as_ref().map(|c| c.fits),
        })
        .collect();
    html! {
        h1 { "fedns check" }
        p class="lead" id="summary" data-errors=(summary.errors) data-warnings=(summary.warnings) data-infos=(summary.infos) {
            (summary.errors) " error(s), " (summary.warnings) " warning(s), " (summary.infos) " info(s); exit status " (view.exit_status) "."
        }
        @if !view.zones.is_empty() {
            details { summary { "Zones checked (" (view.zones.len()) ")" }
                ul { @for z in view.zones { li class="mono" { (z) } } }
            }
        }
        @if !lines.is_empty() {
            h2 { "How peers find each server name" }
            div class="figure" { (map_svg(&lines)) }
        }
        h2 { "Findings" }
        @if view.findings.is_empty() { p { "No findings: the delegation is sound as far as the zones tell." } }
        @for (server, findings) in &groups {
            section class="server" id=(format!("server-{server}")) {
                h3 { span class="mono" { (server) } " \u{2014} " (findings.len()) " finding(s)" }
                @for f in findings {
                    (finding(f, view.source_line))
                    @if f.rule == Rule::Srv025 {
                        (srv025_layouts(server, &view.servers))
                    }
                }
            }
        }
    }
}

fn finding(f: &Finding, source_line: &dyn Fn(&Place) -> Option<String>) -> Markup {
    let severity = f.severity.as_str();
    html! {
        article class=(format!("finding {severity}")) data-rule=(f.rule.id()) {
            div {
                span class=(format!("badge {severity}")) { (severity) } " "
                strong class="mono" { (f.rule.id()) } " " (f.rule.info().title)
            }
            p class="message" { (f.message) }
            dl {
                @if let Some(place) = &f.place {
                    dt { "where" }
                    dd { span class="mono place" { (place) }
                        @if let Some(text) = source_line(place) { pre { (text) } }
                    }
                }
                dt { "why" } dd { (f.why_text()) }
                dt { "fix" } dd { (f.fix_text()) }
                dt { "more" } dd { span class="mono" { "fedns check --explain " (f.rule.id()) } }
            }
        }
    }
}

/// The two layouts that work when an SRV record sends peers to a target
/// whose certificate names only the target.
fn srv025_layouts(server: &str, servers: &[ServerPicture]) -> Markup {
    let target = servers
        .iter()
        .filter(|s| {
            s.resolution
                .server_name
                .as_str()
                .eq_ignore_ascii_case(server)
        })
        .find_map(|s| s.resolution.result.as_ref())
        .map(|t| (t.host().to_owned(), t.port()));
    let (host, port) = target.unwrap_or_else(|| ("the SRV target".to_owned(), 8448));
    let endpoint = crate::matrix::explain::endpoint_line(&host, port);
    html! {
        div class="layouts" data-layouts-for=(server) {
            figure {
                figcaption { "Works: keep the SRV record, serve a certificate for " span class="mono" { (server) } }
                (layout_svg(server, &format!("SRV _matrix-fed._tcp.{}", shorten(server, 26)), &endpoint, &format!("certificate names {} ✓", shorten(server, 26))))
                p { "Peers connect to " span class="mono" { (endpoint) } " with SNI " span class="mono" { (server) } "; the certificate there must list " span class="mono" { (server) } "." }
            }
            figure {
                figcaption { "Works: delegate with .well-known, drop the SRV records" }
                (layout_svg(server, &format!("m.server \"{}\"", shorten(&endpoint, 28)), &endpoint, &format!("certificate names {} ✓", shorten(&host, 26))))
                p { "Serve " code { "{\"m.server\": \"" (endpoint) "\"}" } " at " span class="mono" { "https://" (server) "/.well-known/matrix/server" }
                  "; peers then connect with SNI " span class="mono" { (host) } ", which the certificate already names." }
            }
        }
    }
}

fn layout_svg(from: &str, arrow: &str, to: &str, cert: &str) -> Markup {
    html! {
        svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 420 130" width="420" height="130" role="img" aria-label=(format!("{from} to {to}: {cert}")) {
            defs {
                marker id="layout-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse" {
                    path class="arrowhead-on" d="M 0 0 L 10 5 L 0 10 z" {}
                }
            }
            g class="map-line good" {
                rect class="map-server" x="5" y="5" width="200" height="36" rx="18" {}
                text class="map-name" x="105" y="28" text-anchor="middle" { (shorten(from, 26)) }
                line class="edge on" x1="105" y1="42" x2="105" y2="78" marker-end="url(#layout-arrow)" {}
                text class="map-how" x="115" y="64" { (arrow) }
                rect class="map-target" x="5" y="80" width="410" height="44" rx="6" {}
                text class="map-name" x="15" y="99" { (shorten(to, 44)) }
                text class="map-cert" x="15" y="117" { (cert) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Severity;

    #[test]
    fn every_finding_appears_once_under_its_server_name() {
        let findings = vec![
            Finding::new(
                Rule::Srv025,
                "_matrix-fed._tcp.a.test.",
                "first <b>message</b>",
            ),
            Finding::new(Rule::Srv025, "_matrix-fed._tcp.b.test.", "second message"),
            Finding::new(Rule::Srv020, "hs.a.test.", "third message").severity(Severity::Info),
            Finding::new(Rule::Crt002, "a.test", "fourth message"),
        ];
        let view = CheckView {
            findings: &findings,
            servers: Vec::new(),
            zones: &[],
            exit_status: 1,
            source_line: &|_| None,
        };
        let html = check_body(&view).into_string();
        assert_eq!(
            html.matches("<article class=\"finding").count(),
            findings.len()
        );
        for message in [
            "first &lt;b&gt;message&lt;/b&gt;",
            "second message",
            "third message",
            "fourth message",
        ] {
            assert_eq!(html.matches(message).count(), 1, "{message}");
        }
        // a.test has two findings (its SRV owner and its name), b.test one.
        let a = html.find("id=\"server-a.test\"").expect("a.test's group");
        let b = html.find("id=\"server-b.test\"").expect("b.test's group");
        assert!(a < b);
        assert_eq!(
            html.matches("data-layouts-for=").count(),
            2,
            "one SRV025 drawing each"
        );
        assert!(html.contains("data-errors=\"1\" data-warnings=\"2\" data-infos=\"1\""));
    }
}
