//! Output of `fedns check`: human text that teaches (rule, severity, place,
//! the message with real names, why it breaks, the fix), JSON for tools, and
//! the long explanation of one rule (`--explain`).
//!
//! The JSON document is an object:
//!
//! ```json
//! {"version": 1,
//!  "findings": [{"rule": "SRV025", "severity": "warning", "title": "...",
//!                "message": "...", "name": "example.org",
//!                "file": "zones/example.org.toml", "line": 58, "column": 1,
//!                "why": "...", "fix": "..."}],
//!  "summary": {"errors": 0, "warnings": 1, "infos": 0},
//!  "exit_status": 0}
//! ```
//!
//! `file`, `line` and `column` are present only when the finding comes from a
//! zone record or `[[matrix]]` section. When the zones cannot be read the
//! document has an `errors` array of `file:line:column: message` lines, no
//! findings, and `exit_status` 2.

use serde::Serialize;

use super::{Finding, Rule, Summary};

/// Width human output wraps at.
pub const WIDTH: usize = 88;

/// Wraps `text` to `width` columns, each line prefixed by `indent`; line
/// breaks in `text` are kept.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
                out.push_str(indent);
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One finding as human text.
pub fn render_finding(f: &Finding) -> String {
    let mut out = format!("{}[{}]", f.severity, f.rule);
    if let Some(place) = &f.place {
        out.push_str(&format!(" {place}"));
    }
    out.push_str(&format!(": {}\n", f.name));
    out.push_str(&wrap(&f.message, WIDTH, "    "));
    out.push_str(&wrap(&format!("why: {}", f.why_text()), WIDTH, "    "));
    let fix = f.fix_text();
    if fix.contains('\n') {
        out.push_str("    fix:\n");
        out.push_str(&wrap(fix, WIDTH, "      "));
    } else {
        out.push_str(&wrap(&format!("fix: {fix}"), WIDTH, "    "));
    }
    out.push_str(&format!("    more: fedns check --explain {}\n", f.rule));
    out
}

/// Every finding and a summary line.
pub fn render_human(findings: &[Finding], exit_status: i32) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&render_finding(f));
        out.push('\n');
    }
    let s = Summary::of(findings);
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    out.push_str(&format!(
        "{}, {}, {}; exit status {exit_status}\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info")
    ));
    out
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: Rule,
    severity: super::Severity,
    title: &'static str,
    message: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    why: &'a str,
    fix: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
    exit_status: i32,
}

/// The findings as the JSON document described in the module docs.
pub fn render_json(findings: &[Finding], exit_status: i32) -> String {
    let report = JsonReport {
        version: 1,
        findings: findings
            .iter()
            .map(|f| JsonFinding {
                rule: f.rule,
                severity: f.severity,
                title: f.rule.info().title,
                message: &f.message,
                name: &f.name,
                file: f.place.as_ref().map(|p| p.file.as_ref()),
                line: f.place.as_ref().filter(|p| p.line > 0).map(|p| p.line),
                column: f.place.as_ref().filter(|p| p.column > 0).map(|p| p.column),
                why: f.why_text(),
                fix: f.fix_text(),
            })
            .collect(),
        summary: Summary::of(findings),
        exit_status,
    };
    let mut text =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// The JSON document for input that could not be read: no findings, the
/// errors as lines, exit status 2.
pub fn render_input_errors(text: &str) -> String {
    let value = serde_json::json!({
        "version": 1,
        "errors": text.lines().collect::<Vec<_>>(),
        "findings": [],
        "summary": Summary::default(),
        "exit_status": 2,
    });
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}

/// The long explanation of one rule (`fedns check --explain RULE`).
pub fn render_explanation(rule: Rule) -> String {
    let info = rule.info();
    let mut out = format!("{} ({}): {}\n\n", info.id, info.severity, info.title);
    out.push_str(&wrap(info.explanation, WIDTH, ""));
    out.push('\n');
    out.push_str(&wrap(&format!("Why it breaks: {}", info.why), WIDTH, ""));
    out.push('\n');
    out.push_str(&wrap(&format!("Fix: {}", info.fix), WIDTH, ""));
    out.push('\n');
    out.push_str(&format!("Checked: {}.\n", info.stage.describe()));
    out
}

/// The catalogue as a table (`fedns check --list-rules`).
pub fn render_rule_list() -> String {
    let mut out = String::new();
    for rule in Rule::ALL {
        let info = rule.info();
        out.push_str(&format!(
            "{:<8} {:<8} {}\n",
            info.id,
            info.severity.as_str(),
            info.title
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::Place;
    use std::sync::Arc;

    #[test]
    fn wraps_words_and_keeps_line_breaks() {
        assert_eq!(wrap("aaa bbb ccc", 9, "  "), "  aaa bbb\n  ccc\n");
        assert_eq!(wrap("one\ntwo", 80, "> "), "> one\n> two\n");
        let long = "x".repeat(100);
        assert_eq!(
            wrap(&long, 10, ""),
            format!("{long}\n"),
            "a long word stays whole"
        );
    }

    #[test]
    fn human_output_has_rule_place_name_why_and_fix() {
        let file: Arc<str> = Arc::from("zones/example.org.toml");
        let f = Finding::new(Rule::Srv013, "example.org", "points at example.org:8008")
            .at(Some(&Place::new(&file, 58, 1)));
        let text = render_human(&[f], 0);
        assert!(
            text.starts_with("info[SRV013] zones/example.org.toml:58:1: example.org\n"),
            "{text}"
        );
        assert!(
            text.contains("    why: ")
                && text.contains("    fix: ")
                && text.contains("fedns check --explain SRV013"),
            "{text}"
        );
        assert!(
            text.ends_with("0 errors, 0 warnings, 1 info; exit status 0\n"),
            "{text}"
        );
    }

    #[test]
    fn json_has_the_documented_fields() {
        let file: Arc<str> = Arc::from("z.toml");
        let with_place =
            Finding::new(Rule::Srv012, "example.org", "port 0").at(Some(&Place::new(&file, 3, 0)));
        let without = Finding::new(Rule::Live001, "synapse.example.org", "refused");
        let value: serde_json::Value =
            serde_json::from_str(&render_json(&[with_place, without], 1)).unwrap();
        let first = &value["findings"][0];
        assert_eq!(first["rule"], "SRV012");
        assert_eq!(first["severity"], "error");
        assert_eq!(first["name"], "example.org");
        assert_eq!(first["file"], "z.toml");
        assert_eq!(first["line"], 3);
        assert!(first.get("column").is_none());
        assert!(value["findings"][1].get("file").is_none());
        assert_eq!(value["summary"]["errors"], 2);
        assert_eq!(value["exit_status"], 1);
    }

    #[test]
    fn explanations_name_the_rule_and_the_layouts() {
        let text = render_explanation(Rule::Srv025);
        assert!(text.starts_with("SRV025 (warning): "), "{text}");
        assert!(
            text.contains("Two layouts comply") && text.contains("Fix:"),
            "{text}"
        );
        assert_eq!(render_rule_list().lines().count(), Rule::ALL.len());
    }
}
