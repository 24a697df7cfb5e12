//! Durations as zone authors write them: `3600`, `"1h"`, `"2h30m"`, `"14d"`, `"1w"`.
//!
//! The units are BIND's (s, m, h, d, w, case-insensitive), so a TTL copied
//! from a master file means the same thing in TOML. Values are seconds and
//! must fit the 32-bit fields they end up in (TTL, SOA timers).

/// Parses a duration string into seconds.
///
/// A bare number is seconds. Otherwise a sequence of `<number><unit>` pairs,
/// summed. Errors say what was expected, for the caller to attach a place.
pub fn parse_duration(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration: write seconds or a value like \"1h\" or \"2h30m\"".into());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return u32::try_from(seconds).map_err(|_| format!("duration {text} is too large"));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0) * 10 + u64::from(digit);
            if n > u64::from(u32::MAX) {
                return Err(format!("duration {text:?} is too large"));
            }
            number = Some(n);
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => {
                return Err(format!(
                    "bad duration {text:?}: unknown unit {c:?} (use s, m, h, d or w)"
                ));
            }
        };
        let Some(n) = number.take() else {
            return Err(format!(
                "bad duration {text:?}: unit {c:?} without a number before it"
            ));
        };
        total += n * unit;
        if total > u64::from(u32::MAX) {
            return Err(format!("duration {text:?} is too large"));
        }
    }
    if number.is_some() {
        return Err(format!(
            "bad duration {text:?}: a number at the end needs a unit (s, m, h, d or w)"
        ));
    }
    u32::try_from(total).map_err(|_| format!("duration {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn accepts_seconds_and_units() {
        assert_eq!(parse_duration("3600"), Ok(3600));
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("2h30m"), Ok(9000));
        assert_eq!(parse_duration("14d"), Ok(1_209_600));
        assert_eq!(parse_duration("1W"), Ok(604_800));
        assert_eq!(parse_duration("0"), Ok(0));
    }

    #[test]
    fn rejects_malformed_durations() {
        assert!(parse_duration("").unwrap_err().contains("empty"));
        assert!(parse_duration("1x").unwrap_err().contains("unknown unit"));
        assert!(
            parse_duration("h")
                .unwrap_err()
                .contains("without a number")
        );
        assert!(parse_duration("1h30").unwrap_err().contains("needs a unit"));
        assert!(
            parse_duration("99999999999")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_duration("9999999w")
                .unwrap_err()
                .contains("too large")
        );
    }
}
