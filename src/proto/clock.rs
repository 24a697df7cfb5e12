//! The one wall clock: seconds since the Unix epoch.
//!
//! TSIG time signed (RFC 8945), certificate validity, the metrics' refresh
//! times and the control socket's timers all read it here, so a test or a
//! reader finds one place that says what "now" is. A clock before 1970 reads
//! as 0 rather than failing: every user compares it with a fudge or a
//! window, and none can do better with an error.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    unix_time(SystemTime::now())
}

/// Seconds since the Unix epoch at `at` (0 before it).
pub fn unix_time(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_before_the_epoch_read_as_zero() {
        assert_eq!(unix_time(UNIX_EPOCH - Duration::from_secs(5)), 0);
        assert_eq!(unix_time(UNIX_EPOCH + Duration::from_secs(5)), 5);
        assert!(unix_now() > 1_700_000_000);
    }
}
