//! The spec's decision flow as an SVG picture, with the path a homeserver
//! took lit up; and the federation map (one line per server name: how it is
//! found, where peers connect, whether the certificate there fits).
//!
//! Layout of the flow (`S` the server name, `D` the delegated host):
//!
//! ```text
//!  [1 S is an IP literal?]
//!  [2 S has a port?]
//!  [3 .well-known of S] --valid--> [3.1] -> [3.2] -> ... [3.5]   (down)
//!  [4 SRV _matrix-fed._tcp.S]
//!  [5 SRV _matrix._tcp.S]
//!  [6 A/AAAA of S, 8448]
//!  [result: connect to, SNI, certificate name]
//! ```
//!
//! The path from the deciding step to the result runs in the gutter left
//! of the first column or right of the second, so it never crosses a box.
//!
//! Steps on the path are drawn solid, the deciding one filled; steps off
//! the path dashed and grey; so the picture reads without colour (print).
//! Texts are the spec's conditions, in its own letters S and D, so every box
//! keeps its width whatever the names; the names are in the page around it.

use maud::{Markup, html};

use crate::matrix::resolve::{Resolution, StepId};

const BOX_W: i32 = 290;
const BOX_H: i32 = 52;
const ROW: i32 = 74;
/// Left of the first column; the gap before it carries the path to the result.
const COL_A: i32 = 40;
const COL_B: i32 = COL_A + BOX_W + 60;
/// The right gutter, where the path from the second column runs down.
const GUTTER_R: i32 = COL_B + BOX_W + 20;
const TOP: i32 = 10;
/// The result box: below both columns, as wide as both.
const RESULT_Y: i32 = TOP + 7 * ROW + 6;
const RESULT_H: i32 = 100;
/// Longest text kept in a box before it is cut with an ellipsis.
const MAX_BOX_TEXT: usize = 40;

/// How one step is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepMark {
    /// Not evaluated by a homeserver for this server name.
    OffPath,
    /// Evaluated; its condition did not hold, resolution went on.
    Passed,
    /// Evaluated and held, resolution went on (a valid `.well-known`).
    Held,
    /// Evaluated and decided the result.
    Decided,
    /// Evaluated, held, and left nothing to connect to (SRV target `.`).
    Dead,
}

impl StepMark {
    /// The CSS class and the word shown in the box.
    pub fn class_and_word(self, id: StepId) -> (&'static str, &'static str) {
        match (self, id) {
            (StepMark::OffPath, _) => ("off", "not reached"),
            (StepMark::Passed, StepId::WellKnown) => ("passed", "failed: go on at 4"),
            (StepMark::Passed, _) => ("passed", "no: next step"),
            (StepMark::Held, _) => ("held", "valid: go on at 3.1"),
            (StepMark::Decided, _) => ("decided", "yes: this decides"),
            (StepMark::Dead, _) => ("dead", "yes, but no target"),
        }
    }
}

/// How each step of `r` is drawn, in the spec's order.
pub fn step_marks(r: &Resolution) -> Vec<(StepId, StepMark)> {
    let path = r.path();
    let decided = r.result.as_ref().map(|t| t.step);
    StepId::ALL
        .iter()
        .map(|&id| {
            let held = r.step(id).is_some_and(|s| s.taken);
            let mark = if !path.contains(&id) {
                StepMark::OffPath
            } else if Some(id) == decided {
                StepMark::Decided
            } else if held && id == StepId::WellKnown {
                StepMark::Held
            } else if held {
                StepMark::Dead
            } else {
                StepMark::Passed
            };
            (id, mark)
        })
        .collect()
}

/// Where a step's box is: (x, y) of its top-left corner.
fn position(id: StepId) -> (i32, i32) {
    let (col, row) = match id {
        StepId::IpLiteral => (COL_A, 0),
        StepId::ExplicitPort => (COL_A, 1),
        StepId::WellKnown => (COL_A, 2),
        StepId::FedSrv => (COL_A, 3),
        StepId::LegacySrv => (COL_A, 4),
        StepId::Default => (COL_A, 5),
        StepId::DelegatedIpLiteral => (COL_B, 2),
        StepId::DelegatedPort => (COL_B, 3),
        StepId::DelegatedFedSrv => (COL_B, 4),
        StepId::DelegatedLegacySrv => (COL_B, 5),
        StepId::DelegatedDefault => (COL_B, 6),
    };
    (col, TOP + row * ROW)
}

/// The condition as a box shows it (the spec's, shortened where long).
fn box_label(id: StepId) -> &'static str {
    match id {
        StepId::WellKnown => "GET S/.well-known/matrix/server",
        _ => id.condition(),
    }
}

/// The arrows between steps: (from, to, label).
const EDGES: [(StepId, StepId, &str); 10] = [
    (StepId::IpLiteral, StepId::ExplicitPort, "no"),
    (StepId::ExplicitPort, StepId::WellKnown, "no"),
    (StepId::WellKnown, StepId::FedSrv, "failed"),
    (StepId::FedSrv, StepId::LegacySrv, "none"),
    (StepId::LegacySrv, StepId::Default, "none"),
    (StepId::WellKnown, StepId::DelegatedIpLiteral, "valid"),
    (StepId::DelegatedIpLiteral, StepId::DelegatedPort, "no"),
    (StepId::DelegatedPort, StepId::DelegatedFedSrv, "no"),
    (StepId::DelegatedFedSrv, StepId::DelegatedLegacySrv, "none"),
    (StepId::DelegatedLegacySrv, StepId::DelegatedDefault, "none"),
];

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// The flow diagram of `r` as inline SVG; `verdict` colours the result box
/// when the certificate at the target is known (`Some(true)`: it fits).
pub fn flow_svg(r: &Resolution, verdict: Option<bool>) -> Markup {
    let marks = step_marks(r);
    let path = r.path();
    let on_path = |from: StepId, to: StepId| {
        path.windows(2)
            .any(|pair| pair.first() == Some(&from) && pair.get(1) == Some(&to))
    };
    let height = RESULT_Y + RESULT_H + 10;
    let width = GUTTER_R + 10;
    let decided = marks
        .iter()
        .find(|(_, m)| matches!(m, StepMark::Decided | StepMark::Dead))
        .map(|(id, _)| *id);
    html! {
        svg class="flow" xmlns="http://www.w3.org/2000/svg" role="img"
            viewBox=(format!("0 0 {width} {height}")) width=(width) height=(height)
            aria-label=(format!("How a homeserver resolves {}: the steps of the Matrix spec, path taken highlighted", r.server_name)) {
            defs {
                marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse" {
                    path class="arrowhead" d="M 0 0 L 10 5 L 0 10 z" {}
                }
                marker id="arrow-on" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse" {
                    path class="arrowhead-on" d="M 0 0 L 10 5 L 0 10 z" {}
                }
            }
            @for (from, to, label) in EDGES {
                (edge(from, to, label, on_path(from, to)))
            }
            @for (id, mark) in &marks {
                (step_box(*id, *mark))
            }
            (result_box(r, decided, verdict))
        }
    }
}

fn edge(from: StepId, to: StepId, label: &str, lit: bool) -> Markup {
    let (fx, fy) = position(from);
    let (tx, ty) = position(to);
    let (x1, y1, x2, y2, lx, ly) = if fx == tx {
        let x = fx + 30;
        (
            x,
            fy + BOX_H,
            x,
            ty,
            x + 8,
            fy + BOX_H + (ty - fy - BOX_H) / 2 + 4,
        )
    } else {
        let y = fy + BOX_H / 2;
        (fx + BOX_W, y, tx, y, fx + BOX_W + 8, y - 6)
    };
    let class = if lit { "edge on" } else { "edge" };
    let marker = if lit { "url(#arrow-on)" } else { "url(#arrow)" };
    html! {
        g class=(class) data-from=(from.number()) data-to=(to.number()) {
            line x1=(x1) y1=(y1) x2=(x2) y2=(y2) marker-end=(marker) {}
            text class="edge-label" x=(lx) y=(ly) { (label) }
        }
    }
}

fn step_box(id: StepId, mark: StepMark) -> Markup {
    let (x, y) = position(id);
    let (class, word) = mark.class_and_word(id);
    html! {
        g class=(format!("step {class}")) data-step=(id.number()) data-mark=(class) {
            rect x=(x) y=(y) width=(BOX_W) height=(BOX_H) rx="6" {}
            text class="step-number" x=(x + 10) y=(y + 21) { (id.number()) }
            text class="step-condition" x=(x + 44) y=(y + 21) { (shorten(box_label(id), MAX_BOX_TEXT)) }
            text class="step-word" x=(x + 44) y=(y + 40) { (word) }
        }
    }
}

fn result_box(r: &Resolution, decided: Option<StepId>, verdict: Option<bool>) -> Markup {
    let y = RESULT_Y;
    let width = COL_B + BOX_W - COL_A;
    // From the deciding box, along its gutter, into the result box's side.
    let route = decided.map(|id| {
        let (x, top) = position(id);
        let mid = top + BOX_H / 2;
        let into = y + RESULT_H / 2;
        if x == COL_A {
            format!("M {x} {mid} H {} V {into} H {}", COL_A - 20, COL_A - 2)
        } else {
            format!(
                "M {} {mid} H {GUTTER_R} V {into} H {}",
                x + BOX_W,
                COL_B + BOX_W + 2
            )
        }
    });
    let class = match (&r.result, verdict) {
        (None, _) => "result failed",
        (Some(t), _) if t.addresses().is_empty() => "result failed",
        (Some(_), Some(false)) => "result failed",
        (Some(_), Some(true)) => "result good",
        (Some(_), None) => "result",
    };
    html! {
        @if let Some(d) = route {
            path class="edge on route" d=(d) fill="none" marker-end="url(#arrow-on)" {}
        }
        g class=(class) data-result=(decided.map_or("none", StepId::number)) {
            rect x=(COL_A) y=(y) width=(width) height=(RESULT_H) rx="6" {}
            @match &r.result {
                Some(t) => {
                    text class="result-title" x=(COL_A + 12) y=(y + 22) { "Result (step " (t.step.number()) "): connect to "
                        (shorten(&crate::matrix::explain::endpoint_line(t.host(), t.port()), 50)) }
                    text class="result-line" x=(COL_A + 12) y=(y + 44) {
                        "addresses " (shorten(&if t.addresses().is_empty() { "none: cannot connect".to_owned() } else {
                            t.addresses().iter().map(ToString::to_string).collect::<Vec<_>>().join(", ") }, 70))
                    }
                    text class="result-line" x=(COL_A + 12) y=(y + 64) {
                        "SNI " (shorten(t.sni.as_deref().unwrap_or("none (IP literal)"), 30))
                        ", Host: " (shorten(&t.host_header, 30))
                    }
                    text class="result-line" x=(COL_A + 12) y=(y + 84) {
                        "certificate must name " (shorten(&t.certificate_name, 40))
                        @match verdict { Some(true) => ": it does ✓", Some(false) => ": it does not ✗", None => "" }
                    }
                }
                None => {
                    text class="result-title" x=(COL_A + 12) y=(y + 22) { "Result: nothing to connect to" }
                    text class="result-line" x=(COL_A + 12) y=(y + 44) { "federation with this server name fails" }
                }
            }
        }
    }
}

/// One line of the federation map.
pub struct MapLine<'a> {
    /// The resolution of the server name.
    pub resolution: &'a Resolution,
    /// Whether the certificate at the target fits, when known.
    pub verdict: Option<bool>,
}

/// How a step finds the target, in a few words.
pub fn how_found(id: StepId) -> &'static str {
    match id {
        StepId::IpLiteral => "IP literal",
        StepId::ExplicitPort => "explicit port",
        StepId::WellKnown => ".well-known",
        StepId::DelegatedIpLiteral => ".well-known → IP",
        StepId::DelegatedPort => ".well-known → D:port",
        StepId::DelegatedFedSrv => ".well-known → SRV at D",
        StepId::DelegatedLegacySrv => ".well-known → old SRV at D",
        StepId::DelegatedDefault => ".well-known → D:8448",
        StepId::FedSrv => "SRV _matrix-fed._tcp",
        StepId::LegacySrv => "SRV _matrix._tcp (old)",
        StepId::Default => "A/AAAA, port 8448",
    }
}

/// The federation map: for each server name, how peers find it and where
/// they connect, with the certificate verdict when known.
pub fn map_svg(lines: &[MapLine<'_>]) -> Markup {
    const LINE_H: i32 = 58;
    let width = 920;
    let height = TOP * 2 + LINE_H * i32::try_from(lines.len()).unwrap_or(0);
    html! {
        svg class="map" xmlns="http://www.w3.org/2000/svg" role="img"
            viewBox=(format!("0 0 {width} {height}")) width=(width) height=(height)
            aria-label="How peers find each server name" {
            defs {
                marker id="map-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse" {
                    path class="arrowhead-on" d="M 0 0 L 10 5 L 0 10 z" {}
                }
            }
            @for (i, line) in lines.iter().enumerate() {
                @let y = TOP + LINE_H * i32::try_from(i).unwrap_or(0);
                @let r = line.resolution;
                @let (class, how, target, sni) = match &r.result {
                    Some(t) => (
                        match (t.addresses().is_empty(), line.verdict) {
                            (true, _) | (_, Some(false)) => "map-line failed",
                            (false, Some(true)) => "map-line good",
                            (false, None) => "map-line",
                        },
                        format!("step {}: {}", t.step.number(), how_found(t.step)),
                        crate::matrix::explain::endpoint_line(t.host(), t.port()),
                        format!("SNI {}", t.sni.as_deref().unwrap_or("none")),
                    ),
                    None => ("map-line failed", "no target".to_owned(), "federation fails".to_owned(), String::new()),
                };
                g class=(class) data-server=(r.server_name.as_str()) {
                    rect class="map-server" x="10" y=(y) width="250" height="44" rx="22" {}
                    text class="map-name" x="135" y=(y + 27) text-anchor="middle" { (shorten(r.server_name.as_str(), 30)) }
                    line class="edge on" x1="262" y1=(y + 22) x2="578" y2=(y + 22) marker-end="url(#map-arrow)" {}
                    text class="map-how" x="420" y=(y + 15) text-anchor="middle" { (how) }
                    text class="map-sni" x="420" y=(y + 40) text-anchor="middle" { (shorten(&sni, 40)) }
                    rect class="map-target" x="580" y=(y) width="330" height="44" rx="6" {}
                    text class="map-name" x="592" y=(y + 20) { (shorten(&target, 38)) }
                    text class="map-cert" x="592" y=(y + 37) {
                        @match (&r.result, line.verdict) {
                            (Some(t), Some(true)) => { "certificate fits " (shorten(&t.certificate_name, 24)) " ✓" }
                            (Some(t), Some(false)) => { "certificate lacks " (shorten(&t.certificate_name, 24)) " ✗" }
                            (Some(t), None) => { "needs a certificate for " (shorten(&t.certificate_name, 20)) }
                            (None, _) => { "" }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::matrix::dns::ZoneResolver;
    use crate::matrix::explain::load_zone_set;
    use crate::matrix::resolve::resolve;
    use crate::matrix::server_name::ServerName;
    use crate::matrix::well_known;

    type Pairs = Vec<(String, String)>;

    /// Every `(step, mark)` drawn, and every lit edge `(from, to)`.
    fn drawn(svg: &str) -> (Pairs, Pairs) {
        let attr = |piece: &str, name: &str| {
            piece
                .split(&format!("{name}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(str::to_owned)
        };
        let steps = svg
            .split("<g class=\"step ")
            .skip(1)
            .filter_map(|p| Some((attr(p, "data-step")?, attr(p, "data-mark")?)))
            .collect();
        let lit = svg
            .split("<g class=\"edge on\"")
            .skip(1)
            .filter_map(|p| Some((attr(p, "data-from")?, attr(p, "data-to")?)))
            .collect();
        (steps, lit)
    }

    #[test]
    fn the_path_of_each_lab_delegation_style_is_the_one_lit() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab-federation/zones");
        let zones = load_zone_set(&dir).expect("the lab's zones load");
        let resolver = ZoneResolver::new(&zones, "lab");
        let cases: [(&str, &[&str]); 5] = [
            ("alpha.lab.test", &["1", "2", "3", "4", "5", "6"]),
            ("beta.lab.test", &["1", "2", "3", "3.1", "3.2"]),
            ("gamma.lab.test", &["1", "2", "3", "3.1", "3.2", "3.3"]),
            ("delta.lab.test", &["1", "2", "3", "4"]),
            ("epsilon.lab.test", &["1", "2", "3", "4"]),
        ];
        for (name, path) in cases {
            let s = ServerName::parse(name).expect("a server name");
            let r = resolve(&s, &resolver, &well_known::declared(&zones, &s)).expect("resolves");
            let (steps, lit) = drawn(&flow_svg(&r, None).into_string());
            assert_eq!(steps.len(), 11, "{name}: every step drawn once");
            for (step, mark) in &steps {
                let expected = match path.iter().position(|p| p == step) {
                    None => "off",
                    Some(i) if i + 1 == path.len() => "decided",
                    Some(_) if step == "3" && path.contains(&"3.1") => "held",
                    Some(_) => "passed",
                };
                assert_eq!(mark, expected, "{name}: step {step}");
            }
            let expected: Vec<(String, String)> = path
                .windows(2)
                .map(|w| (w[0].to_owned(), w[1].to_owned()))
                .collect();
            let mut lit_sorted = lit.clone();
            lit_sorted.sort();
            let mut expected_sorted = expected.clone();
            expected_sorted.sort();
            assert_eq!(lit_sorted, expected_sorted, "{name}: the lit edges");
        }
    }

    #[test]
    fn federation_switched_off_ends_the_path_in_red() {
        let dir = std::env::temp_dir().join(format!("fedns-flow-dead-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        std::fs::write(
            dir.join("off.test.zone"),
            "$ORIGIN off.test.\n$TTL 300\n@ SOA ns1 h 1 7200 900 1209600 300\n@ NS ns1\n\
             ns1 A 192.0.2.53\n_matrix-fed._tcp SRV 0 0 0 .\n",
        )
        .expect("write the zone");
        let zones = load_zone_set(&dir).expect("loads");
        let resolver = ZoneResolver::new(&zones, "test");
        let s = ServerName::parse("off.test").expect("a server name");
        let r = resolve(&s, &resolver, &well_known::declared(&zones, &s)).expect("resolves");
        let svg = flow_svg(&r, None).into_string();
        let (steps, _) = drawn(&svg);
        let mark = |id: &str| steps.iter().find(|(s, _)| s == id).map(|(_, m)| m.as_str());
        assert_eq!(mark("4"), Some("dead"), "{svg}");
        assert_eq!(mark("5"), Some("off"));
        assert!(svg.contains("nothing to connect to") && svg.contains("result failed"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_dead_end_and_long_names_stay_in_their_boxes() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(
            StepMark::Dead.class_and_word(StepId::FedSrv),
            ("dead", "yes, but no target")
        );
    }
}
