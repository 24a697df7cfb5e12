//! Who may change what in a zone by dynamic update: the `[[zone.update]]`
//! rules, in the manner of BIND's `update-policy` and Knot's ACL
//! `update-owner` / `update-type`.
//!
//! A rule grants one TSIG key the right to change records of some types at
//! some names. An update is accepted only when *every* record it adds or
//! deletes is granted by some rule for the key that signed it; there is no
//! unsigned update (RFC 3007 section 4: the server decides per key).
//!
//! Names are patterns relative to the zone apex, label by label:
//!
//! - `@` is the apex; `www` is `www.<zone>`; a name with a trailing dot is
//!   absolute (and must be inside the zone);
//! - the label `*` matches any run of labels, none included: so
//!   `_acme-challenge.*` is `_acme-challenge.<zone>` and every
//!   `_acme-challenge.<name>.<zone>` (what ACME DNS-01 writes for the apex
//!   and for every host), and `*` alone is every name of the zone;
//! - `self` is the key's own name (for a host that updates its own
//!   address, as BIND's `self` rule).
//!
//! Comparisons ignore ASCII case (RFC 4343).

use hickory_proto::rr::{Name, RecordType};

/// One label pattern of a [`NamePattern`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelPattern {
    /// Exactly this label (lower case).
    Label(Vec<u8>),
    /// Any run of labels, possibly empty.
    Any,
}

/// A name pattern relative to the zone (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamePattern {
    /// Labels from the leftmost, relative to the apex.
    Relative(Vec<LabelPattern>),
    /// The name of the key that signed the update.
    KeyName,
}

impl NamePattern {
    /// Parses `text` for `zone` (see the module doc for the grammar).
    pub fn parse(text: &str, zone: &Name) -> Result<NamePattern, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("self") {
            return Ok(NamePattern::KeyName);
        }
        if text == "@" {
            return Ok(NamePattern::Relative(Vec::new()));
        }
        if text.is_empty() {
            return Err("an empty name pattern (write \"@\" for the apex)".into());
        }
        let relative = if let Some(absolute) = text.strip_suffix('.') {
            let zone_text = zone.to_lowercase().to_ascii();
            let zone_text = zone_text.trim_end_matches('.');
            let lower = absolute.to_ascii_lowercase();
            if lower == zone_text {
                return Ok(NamePattern::Relative(Vec::new()));
            }
            match lower.strip_suffix(&format!(".{zone_text}")) {
                Some(r) => r.to_string(),
                None if zone_text.is_empty() => lower,
                None => return Err(format!("{text} is not inside zone {zone}")),
            }
        } else {
            text.to_ascii_lowercase()
        };
        let mut labels = Vec::new();
        for label in relative.split('.') {
            match label {
                "" => return Err(format!("{text:?} has an empty label")),
                "*" => labels.push(LabelPattern::Any),
                l if l.len() > 63 => return Err(format!("{text:?} has a label over 63 octets")),
                l => labels.push(LabelPattern::Label(l.as_bytes().to_vec())),
            }
        }
        Ok(NamePattern::Relative(labels))
    }

    /// True when `name` (inside `zone`) matches, for an update signed by `key`.
    pub fn matches(&self, name: &Name, zone: &Name, key: &Name) -> bool {
        match self {
            NamePattern::KeyName => name.to_lowercase() == key.to_lowercase(),
            NamePattern::Relative(pattern) => {
                if !zone.zone_of(name) {
                    return false;
                }
                let extra = usize::from(name.num_labels()) - usize::from(zone.num_labels());
                let labels: Vec<Vec<u8>> = name
                    .iter()
                    .take(extra)
                    .map(|l| l.to_ascii_lowercase())
                    .collect();
                glob(pattern, &labels)
            }
        }
    }
}

/// Label-wise glob: `Any` matches any run of labels.
fn glob(pattern: &[LabelPattern], labels: &[Vec<u8>]) -> bool {
    match pattern.split_first() {
        None => labels.is_empty(),
        Some((LabelPattern::Any, rest)) => {
            (0..=labels.len()).any(|skip| glob(rest, &labels[skip..]))
        }
        Some((LabelPattern::Label(want), rest)) => labels
            .split_first()
            .is_some_and(|(first, others)| first == want && glob(rest, others)),
    }
}

/// One `[[zone.update]]` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRule {
    /// The TSIG key granted the right.
    pub key: Name,
    /// The names it may change.
    pub names: Vec<NamePattern>,
    /// The types it may change; empty for every type.
    pub types: Vec<RecordType>,
}

impl UpdateRule {
    /// True when this rule lets `key` change `rtype` records at `name`.
    pub fn grants(&self, key: &Name, name: &Name, rtype: RecordType, zone: &Name) -> bool {
        self.key.to_lowercase() == key.to_lowercase()
            && (self.types.is_empty() || self.types.contains(&rtype))
            && self.names.iter().any(|p| p.matches(name, zone, key))
    }
}

/// A zone's dynamic-update settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdatePolicy {
    /// The rules; none means the zone takes no updates.
    pub rules: Vec<UpdateRule>,
    /// How the serial moves on an update.
    pub serial: SerialPolicy,
}

impl UpdatePolicy {
    /// True when some rule lets `key` change `rtype` records at `name`.
    pub fn grants(&self, key: &Name, name: &Name, rtype: RecordType, zone: &Name) -> bool {
        self.rules.iter().any(|r| r.grants(key, name, rtype, zone))
    }
}

/// How an update moves the SOA serial (when the update itself does not
/// set a newer one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SerialPolicy {
    /// serial + 1 (RFC 1982 arithmetic), as BIND and Knot by default.
    #[default]
    Increment,
    /// The current Unix time, or serial + 1 when that is not newer.
    UnixTime,
}

impl SerialPolicy {
    /// The serial after `serial` at Unix time `now`.
    pub fn next(self, serial: u32, now: u64) -> u32 {
        let incremented = serial.wrapping_add(1);
        match self {
            SerialPolicy::Increment => incremented,
            SerialPolicy::UnixTime => {
                let time = now as u32;
                if crate::proto::serial::is_newer(time, serial) {
                    time
                } else {
                    incremented
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn acme_pattern_matches_the_challenge_names_and_nothing_else() {
        let zone = n("example.org.");
        let key = n("acme.");
        let p = NamePattern::parse("_acme-challenge.*", &zone).unwrap();
        for yes in [
            "_acme-challenge.example.org.",
            "_ACME-Challenge.synapse.example.org.",
            "_acme-challenge.a.b.example.org.",
        ] {
            assert!(p.matches(&n(yes), &zone, &key), "{yes}");
        }
        for no in [
            "example.org.",
            "www.example.org.",
            "x._acme-challenge.example.org.",
            "_acme-challenge.example.net.",
        ] {
            assert!(!p.matches(&n(no), &zone, &key), "{no}");
        }
    }

    #[test]
    fn apex_absolute_star_and_self_patterns() {
        let zone = n("example.org.");
        let key = n("host.example.org.");
        let apex = NamePattern::parse("@", &zone).unwrap();
        assert!(apex.matches(&n("Example.org."), &zone, &key));
        assert!(!apex.matches(&n("www.example.org."), &zone, &key));
        let abs = NamePattern::parse("WWW.example.org.", &zone).unwrap();
        assert!(abs.matches(&n("www.example.org."), &zone, &key));
        let all = NamePattern::parse("*", &zone).unwrap();
        assert!(all.matches(&n("a.b.example.org."), &zone, &key));
        assert!(all.matches(&n("example.org."), &zone, &key));
        let below = NamePattern::parse("*.dyn", &zone).unwrap();
        assert!(below.matches(&n("h.dyn.example.org."), &zone, &key));
        assert!(!below.matches(&n("dyn2.example.org."), &zone, &key));
        let me = NamePattern::parse("self", &zone).unwrap();
        assert!(me.matches(&n("HOST.example.org."), &zone, &key));
        assert!(!me.matches(&n("other.example.org."), &zone, &key));
        assert!(NamePattern::parse("www.example.net.", &zone).is_err());
        assert!(NamePattern::parse("a..b", &zone).is_err());
    }

    #[test]
    fn a_rule_grants_its_key_its_types_only() {
        let zone = n("example.org.");
        let rule = UpdateRule {
            key: n("acme."),
            names: vec![NamePattern::parse("_acme-challenge.*", &zone).unwrap()],
            types: vec![RecordType::TXT],
        };
        let name = n("_acme-challenge.example.org.");
        assert!(rule.grants(&n("ACME."), &name, RecordType::TXT, &zone));
        assert!(!rule.grants(&n("acme."), &name, RecordType::A, &zone));
        assert!(!rule.grants(&n("other."), &name, RecordType::TXT, &zone));
    }

    #[test]
    fn serials_move_forward_under_both_policies() {
        assert_eq!(SerialPolicy::Increment.next(7, 0), 8);
        assert_eq!(SerialPolicy::Increment.next(u32::MAX, 0), 0);
        assert_eq!(SerialPolicy::UnixTime.next(7, 1_800_000_000), 1_800_000_000);
        assert_eq!(
            SerialPolicy::UnixTime.next(2_000_000_000, 1_800_000_000),
            2_000_000_001
        );
    }
}
