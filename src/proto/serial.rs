//! Serial number arithmetic (RFC 1982) for SOA serials.

use std::cmp::Ordering;

/// Compares two SOA serials in sequence space (RFC 1982 3.2). `None` when
/// they are exactly 2^31 apart, which RFC 1982 leaves undefined.
pub fn serial_cmp(a: u32, b: u32) -> Option<Ordering> {
    if a == b {
        return Some(Ordering::Equal);
    }
    let diff = b.wrapping_sub(a);
    match diff.cmp(&0x8000_0000) {
        Ordering::Less => Some(Ordering::Less),
        Ordering::Greater => Some(Ordering::Greater),
        Ordering::Equal => None,
    }
}

/// True when `newer` is a later serial than `older` (a transfer is due).
pub fn is_newer(newer: u32, older: u32) -> bool {
    serial_cmp(newer, older) == Some(Ordering::Greater)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_in_sequence_space() {
        assert!(is_newer(2, 1));
        assert!(!is_newer(1, 2));
        assert!(!is_newer(5, 5));
        assert!(is_newer(0, u32::MAX), "wraps around");
        assert!(is_newer(100, 0xFFFF_FF00));
        assert_eq!(
            serial_cmp(0, 0x8000_0000),
            None,
            "undefined at exactly 2^31"
        );
        assert!(!is_newer(0x8000_0001, 1) || serial_cmp(1, 0x8000_0001) == Some(Ordering::Greater));
    }
}
