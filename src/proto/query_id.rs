//! Message IDs for the queries fedns sends (SOA checks, transfers, NOTIFY,
//! the `explain` and `check` resolvers).
//!
//! An ID an off-path attacker can guess lets them forge the answer (RFC
//! 5452 section 9.2), so every ID comes from the operating system's random
//! source (`getrandom` through ring). If that source fails, which Linux
//! only does before the entropy pool is first seeded, the process's
//! randomly keyed SipHash over the nanosecond clock stands in: still not
//! guessable from outside, and never a fixed or counting value.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};

/// A fresh, unpredictable 16-bit message ID.
pub fn random_id() -> u16 {
    let mut bytes = [0u8; 2];
    if SystemRandom::new().fill(&mut bytes).is_ok() {
        return u16::from_be_bytes(bytes);
    }
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    (hasher.finish() & 0xffff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_not_a_sequence_or_a_constant() {
        let ids: Vec<u16> = (0..64).map(|_| random_id()).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        // 64 draws from 65 536 values: a repeat is possible, a handful is not.
        assert!(distinct.len() > 56, "{ids:?}");
        assert!(ids.windows(2).any(|w| w[1] != w[0].wrapping_add(1)));
    }
}
