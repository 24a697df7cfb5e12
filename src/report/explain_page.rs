//! `fedns explain S --format html`: one resolution as a page. The spec's
//! flow with the path lit up, the result box (where to connect, SNI, Host,
//! the certificate name and, when the certificate is known, whether it fits),
//! then every step with its condition, the DNS questions and the records
//! that answered them, the `.well-known` body, and where homeservers differ.

use maud::{Markup, html};

use super::flow::{StepMark, flow_svg, step_marks};
use super::{CertVerdict, page, result_box};
use crate::matrix::dns::Lookup;
use crate::matrix::explain::title;
use crate::matrix::resolve::{Resolution, Step};

/// The whole page for `r`.
pub fn explain_page(r: &Resolution, cert: Option<&CertVerdict>) -> String {
    page(
        &format!("How a homeserver reaches {}", r.server_name),
        explain_body(r, cert),
    )
}

/// The page's content, for pages that add their own navigation.
pub fn explain_body(r: &Resolution, cert: Option<&CertVerdict>) -> Markup {
    let marks = step_marks(r);
    html! {
        h1 { "How a homeserver reaches " span class="mono" { (r.server_name) } }
        p class="lead" {
            "S = " span class="mono" { (r.server_name) }
            @if let Some(d) = &r.delegated { ", D = " span class="mono" { (d) } " (from the .well-known)" }
            ". DNS: " (r.dns) "."
        }
        div class="figure" { (flow_svg(r, cert.map(|c| c.fits))) }
        h2 { "Result" }
        (result_box(r.result.as_ref(), r.failure.as_deref(), cert))
        h2 { "The steps" }
        @for step in &r.steps {
            @let mark = marks.iter().find(|(id, _)| *id == step.id).map_or(StepMark::OffPath, |(_, m)| *m);
            (step_detail(step, mark, r))
        }
    }
}

fn step_detail(step: &Step, mark: StepMark, r: &Resolution) -> Markup {
    let (class, word) = mark.class_and_word(step.id);
    html! {
        section class=(format!("step-detail {class}")) id=(format!("step-{}", step.id.number())) data-mark=(class) {
            h3 {
                span class="mono" { (step.id.number()) } " \u{2003}" (title(step.id, r)) " "
                span class=(format!("badge {}", if class == "off" { "info" } else if class == "dead" { "bad" } else if class == "decided" { "good" } else { "info" })) { (word) }
            }
            p class="condition" { "Condition: " (step.id.condition()) "." }
            @if let Some(wk) = &step.well_known {
                table class="well-known" {
                    tr { th { "source" } td { (wk.source) } }
                    @for from in &wk.redirects { tr { th { "redirect" } td class="mono" { (from) } } }
                    @if let Some(url) = &wk.url { tr { th { "GET" } td class="mono" { (url) } } }
                    @if let Some(status) = wk.status { tr { th { "status" } td { "HTTP " (status) } } }
                }
                @for l in &wk.lookups { (lookup(l)) }
                @if let Some(body) = &wk.body {
                    p { "The body:" }
                    pre class="body" { (body) }
                }
            }
            @for l in &step.lookups { (lookup(l)) }
            p class="reason" { (step.reason) }
            @if !step.differences.is_empty() {
                p { "Where homeservers differ here:" }
                ul class="differences" { @for d in &step.differences { li { (d) } } }
            }
        }
    }
}

fn lookup(l: &Lookup) -> Markup {
    html! {
        div class="lookup" {
            p class="mono question" { "; " (l.name) " " (l.rtype) ": " (l.status()) }
            @if !l.records.is_empty() || !l.synthesised.is_empty() {
                pre {
                    @for record in &l.records { (record) "\n" }
                    @for (owner, wildcard) in &l.synthesised {
                        "; " (owner) " does not exist: its records are synthesised from the wildcard " (wildcard) " (RFC 4592)\n"
                    }
                }
            }
        }
    }
}
