//! Pictures for people who teach and learn delegation: `fedns explain
//! --format html`, `fedns check --format html`, and the pages of the
//! dashboard `fedns serve` can show ([`crate::web`]).
//!
//! Every page is one self-contained HTML document: its CSS inline, its
//! pictures inline SVG, no script at all, and a Content-Security-Policy that
//! forbids loading anything, so a page works offline in a lab and a name
//! with HTML in it can do nothing (maud escapes every interpolated value;
//! the policy is the second wall). Pages print: the path taken reads from
//! line style and words, not colour alone.
//!
//! Rendering is pure: it takes resolutions ([`crate::matrix::resolve()`]) and
//! findings ([`crate::lint`]) computed elsewhere and returns text.

pub mod check_page;
pub mod explain_page;
pub mod flow;

use std::net::IpAddr;
use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::lint::cert::{cert_facts, dns_name_matches, load_pem_chain};
use crate::matrix::resolve::Target;

/// The stylesheet every page carries inline.
const STYLE: &str = include_str!("style.css");

/// The policy every page carries (and the dashboard sends as a header):
/// nothing may be loaded or run; inline styles only; forms post to the page's
/// own origin (the dashboard's explain form).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'";

/// A whole HTML document around `body`.
pub fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
                meta name="generator" content=(concat!("fedns ", env!("CARGO_PKG_VERSION")));
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (body)
                footer {
                    "Made by fedns " (env!("CARGO_PKG_VERSION"))
                    ". Steps as numbered in the Matrix server-server API, \u{201c}Resolving server names\u{201d}."
                }
            }
        }
    }
    .into_string()
}

/// What is known of the certificate served where peers connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertVerdict {
    /// Where the chain was read from.
    pub file: String,
    /// The name the certificate must be valid for.
    pub required: String,
    /// The leaf's dNSName and iPAddress subjectAltNames.
    pub names: Vec<String>,
    /// Whether one of them covers `required`.
    pub fits: bool,
}

/// Judges the PEM chain in `chain_file` (leaf first) against the name
/// `target` needs. Errors name the file.
pub fn certificate_verdict(target: &Target, chain_file: &Path) -> Result<CertVerdict, String> {
    let chain = load_pem_chain(chain_file).map_err(|e| e.to_string())?;
    let leaf = chain
        .first()
        .ok_or_else(|| format!("{}: no certificate in it", chain_file.display()))?;
    let facts = cert_facts(leaf).map_err(|e| format!("{}: {e}", chain_file.display()))?;
    let required = target.certificate_name.clone();
    let fits = match required.parse::<IpAddr>() {
        Ok(ip) => facts.ip_addresses.contains(&ip),
        Err(_) => facts
            .dns_names
            .iter()
            .any(|pattern| dns_name_matches(pattern, &required)),
    };
    let names = facts
        .dns_names
        .iter()
        .cloned()
        .chain(facts.ip_addresses.iter().map(ToString::to_string))
        .collect();
    Ok(CertVerdict {
        file: chain_file.display().to_string(),
        required,
        names,
        fits,
    })
}

/// The server name a finding is about: its name without the federation
/// SRV service labels, lower case, without the root dot.
pub fn server_of(name: &str) -> String {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    for prefix in ["_matrix-fed._tcp.", "_matrix._tcp."] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    name
}

/// The result box: where peers connect, the names they send, and the
/// certificate verdict when one is known.
pub fn result_box(
    target: Option<&Target>,
    failure: Option<&str>,
    cert: Option<&CertVerdict>,
) -> Markup {
    let class = match (target, cert) {
        (None, _) => "verdict bad",
        (Some(t), _) if t.addresses().is_empty() => "verdict bad",
        (Some(_), Some(c)) if !c.fits => "verdict bad",
        (Some(_), Some(_)) => "verdict good",
        (Some(_), None) => "verdict",
    };
    html! {
        section class=(class) id="result" {
            @match target {
                Some(t) => {
                    table {
                        tr { th { "decided by" } td { "step " (t.step.number()) ": " (t.step.condition()) } }
                        tr { th { "connect to" } td class="mono" { (crate::matrix::explain::endpoint_line(t.host(), t.port())) } }
                        tr { th { "addresses" } td class="mono" {
                            @if t.addresses().is_empty() { "none: a homeserver cannot connect" }
                            @else { (t.addresses().iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                        } }
                        @for e in t.endpoints.iter().skip(1) {
                            tr { th { "then" } td class="mono" {
                                (crate::matrix::explain::endpoint_line(&e.host, e.port))
                                @if let Some(rank) = e.srv { " (priority " (rank.priority) ", weight " (rank.weight) ")" }
                            } }
                        }
                        tr { th { "SNI" } td class="mono" { (t.sni.as_deref().unwrap_or("none (IP literal)")) } }
                        tr { th { "Host header" } td class="mono" { (t.host_header) } }
                        tr { th { "certificate for" } td class="mono" { (t.certificate_name) } }
                        @if let Some(c) = cert {
                            tr { th { "certificate there" } td {
                                @if c.fits { span class="badge good" { "fits" } } @else { span class="badge bad" { "does not fit" } }
                                " " span class="mono" { (c.file) } ": valid for "
                                span class="mono" { (if c.names.is_empty() { "no name at all".to_owned() } else { c.names.join(", ") }) }
                                @if !c.fits { "; peers demand " span class="mono" { (c.required) } ", so they refuse the connection" }
                            } }
                        }
                    }
                }
                None => { p { strong { "Nothing to connect to." } } }
            }
            @if let Some(f) = failure { p { strong { "Federation fails: " } (f) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_group_under_the_server_name() {
        assert_eq!(server_of("_matrix-fed._tcp.Example.org."), "example.org");
        assert_eq!(server_of("_matrix._tcp.example.org"), "example.org");
        assert_eq!(server_of("synapse.example.org."), "synapse.example.org");
    }

    #[test]
    fn a_page_escapes_what_it_is_given_and_forbids_scripts() {
        let text = page(
            "<script>x</script>",
            html! { p { ("<script>alert(1)</script>") } },
        );
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(text.contains("default-src 'none'"));
    }
}
