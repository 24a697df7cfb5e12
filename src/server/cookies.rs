//! DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018).
//!
//! A client sends an 8-byte client cookie; fedns answers with it and a
//! 16-byte server cookie, and a client that sends that back later proves
//! it receives our answers at its address: it is not spoofed. The server
//! cookie is RFC 9018's, so every server of a fleet given the same secret
//! makes and accepts the same cookies:
//!
//! ```text
//! version 1 | reserved 0 0 0 | timestamp (u32, seconds) | hash (8 bytes)
//! hash = SipHash-2-4(secret, client cookie | version | reserved | timestamp | client address)
//! ```
//!
//! What a query gets (RFC 7873 5.2):
//! - no COOKIE option: nothing changes;
//! - a COOKIE option of a bad length (under 8, 9 to 15, over 40): FORMERR;
//! - a client cookie alone, or with a valid server cookie: the answer, and
//!   a fresh server cookie;
//! - with a server cookie that does not verify (another secret, too old,
//!   from the future, another address): over UDP BADCOOKIE with a fresh
//!   cookie and no answer, so the client retries with it; over TCP (which
//!   no spoofer reaches) the answer.
//!
//! A server cookie is valid for an hour and up to five minutes early
//! (clock skew between servers of a fleet, RFC 9018 4.3). The secret is
//! configured (`[cookies] secret`, 16 bytes in hex) or random at start;
//! `previous_secret` is still accepted, so a fleet can roll to a new secret
//! without BADCOOKIE storms.

use std::hash::Hasher;
use std::net::IpAddr;

use siphasher::sip::SipHasher24;

/// The EDNS option code of COOKIE.
pub const COOKIE_OPTION: u16 = 10;
/// How long a server cookie stays valid.
pub const COOKIE_LIFETIME: u32 = 3600;
/// How far in the future a server cookie's time may be (another server's clock).
pub const COOKIE_SKEW: u32 = 300;

/// The secrets server cookies are made and checked with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieSecrets {
    /// Makes and checks cookies.
    pub current: [u8; 16],
    /// Only checks them (the secret before a roll-over).
    pub previous: Option<[u8; 16]>,
}

impl CookieSecrets {
    /// A random secret (from the OS random source), none previous.
    pub fn random() -> CookieSecrets {
        let mut current = [0u8; 16];
        // A failing random source leaves zeros: cookies still work, they are
        // only as guessable as a published secret would make them.
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut current);
        CookieSecrets {
            current,
            previous: None,
        }
    }
}

/// What a query's COOKIE option says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookie {
    /// A client cookie, alone or with a server cookie that verifies.
    Good {
        /// The client cookie, to echo.
        client: [u8; 8],
        /// True when a server cookie came with it and verified.
        verified: bool,
    },
    /// A client cookie with a server cookie that does not verify.
    Bad {
        /// The client cookie, to echo.
        client: [u8; 8],
    },
    /// The option's length is not one RFC 7873 allows.
    Malformed,
}

/// Reads a COOKIE option's data (`option`) from `client_ip` at `now`.
pub fn check(option: &[u8], client_ip: IpAddr, secrets: &CookieSecrets, now: u32) -> Cookie {
    let len = option.len();
    if len < 8 || (len > 8 && len < 16) || len > 40 {
        return Cookie::Malformed;
    }
    let mut client = [0u8; 8];
    client.copy_from_slice(&option[..8]);
    if len == 8 {
        return Cookie::Good {
            client,
            verified: false,
        };
    }
    let server = &option[8..];
    let verifies = |secret: &[u8; 16]| {
        server.len() == 16
            && server[0] == 1
            && server[1..4] == [0, 0, 0]
            && {
                let stamp = u32::from_be_bytes([server[4], server[5], server[6], server[7]]);
                let age = now.wrapping_sub(stamp);
                // RFC 1982 arithmetic: "age" below 2^31 is the past.
                age <= COOKIE_LIFETIME || stamp.wrapping_sub(now) <= COOKIE_SKEW
            }
            && server[8..] == hash(secret, &client, &server[..8], client_ip)
    };
    if verifies(&secrets.current) || secrets.previous.as_ref().is_some_and(verifies) {
        Cookie::Good {
            client,
            verified: true,
        }
    } else {
        Cookie::Bad { client }
    }
}

/// The COOKIE option data of a response: the client cookie and a fresh
/// server cookie for `client_ip` made at `now`.
pub fn response_cookie(
    client: &[u8; 8],
    client_ip: IpAddr,
    secrets: &CookieSecrets,
    now: u32,
) -> Vec<u8> {
    let mut head = [0u8; 8];
    head[0] = 1;
    head[4..].copy_from_slice(&now.to_be_bytes());
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(client);
    out.extend_from_slice(&head);
    out.extend_from_slice(&hash(&secrets.current, client, &head, client_ip));
    out
}

/// RFC 9018 4.4: SipHash-2-4 over the client cookie, version, reserved,
/// timestamp and the client's address (4 or 16 bytes).
fn hash(secret: &[u8; 16], client: &[u8; 8], head: &[u8], client_ip: IpAddr) -> [u8; 8] {
    let mut h = SipHasher24::new_with_key(secret);
    h.write(client);
    h.write(head);
    match client_ip {
        IpAddr::V4(v4) => h.write(&v4.octets()),
        IpAddr::V6(v6) => h.write(&v6.octets()),
    }
    // SipHash's reference output (RFC 9018's hash) is the 64-bit state little-endian.
    h.finish().to_le_bytes()
}

/// The COOKIE option data of a request of the common shape (one question,
/// an OPT record first in the additional section), read without decoding
/// the message; `None` when there is none or the shape is another.
pub fn request_cookie(bytes: &[u8]) -> Option<&[u8]> {
    let word = |at: usize| Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
    if word(4)? != 1 || word(6)? != 0 || word(8)? != 0 || word(10)? == 0 {
        return None;
    }
    let mut at = 12;
    loop {
        let len = usize::from(*bytes.get(at)?);
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        at += 1 + len;
    }
    at += 5; // root label, QTYPE, QCLASS
    if *bytes.get(at)? != 0 || word(at + 1)? != 41 {
        return None;
    }
    let rdlen = usize::from(word(at + 9)?);
    let mut o = at + 11;
    let end = o + rdlen;
    while o + 4 <= end {
        let code = word(o)?;
        let len = usize::from(word(o + 2)?);
        if code == COOKIE_OPTION {
            return bytes.get(o + 4..o + 4 + len);
        }
        o += 4 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> CookieSecrets {
        CookieSecrets {
            current: *b"0123456789abcdef",
            previous: None,
        }
    }

    const CLIENT: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    #[test]
    fn a_server_cookie_verifies_for_its_client_and_address_within_its_lifetime() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let cookie = response_cookie(&CLIENT, ip, &secrets(), 1_000_000);
        assert_eq!(cookie.len(), 24);
        let good = Cookie::Good {
            client: CLIENT,
            verified: true,
        };
        assert_eq!(check(&cookie, ip, &secrets(), 1_000_000), good);
        assert_eq!(check(&cookie, ip, &secrets(), 1_003_600), good);
        assert_eq!(check(&cookie, ip, &secrets(), 999_800), good, "skew");
        let bad = Cookie::Bad { client: CLIENT };
        assert_eq!(check(&cookie, ip, &secrets(), 1_003_601), bad, "expired");
        assert_eq!(check(&cookie, ip, &secrets(), 999_000), bad, "future");
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(check(&cookie, other, &secrets(), 1_000_000), bad);
        let mut tampered = cookie.clone();
        tampered[23] ^= 1;
        assert_eq!(check(&tampered, ip, &secrets(), 1_000_000), bad);
        // After a roll-over the old secret still verifies.
        let rolled = CookieSecrets {
            current: *b"fedcba9876543210",
            previous: Some(secrets().current),
        };
        assert_eq!(check(&cookie, ip, &rolled, 1_000_000), good);
    }

    #[test]
    fn option_lengths_that_rfc7873_forbids_are_malformed() {
        let ip: IpAddr = "::1".parse().unwrap();
        for len in [0, 7, 9, 15, 41] {
            assert_eq!(
                check(&vec![0; len], ip, &secrets(), 5),
                Cookie::Malformed,
                "{len}"
            );
        }
        assert!(matches!(
            check(&[7; 8], ip, &secrets(), 5),
            Cookie::Good {
                verified: false,
                ..
            }
        ));
        assert!(matches!(
            check(&[7; 32], ip, &secrets(), 5),
            Cookie::Bad { .. }
        ));
    }

    #[test]
    fn the_hash_is_rfc9018s_test_vector() {
        // RFC 9018 Appendix A.1 and A.2: client 2464c4abcf10c957 at
        // 198.51.100.100, secret e5e973e5a6b2a43f48e7dc849e37bfcf.
        let client = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];
        let secret = CookieSecrets {
            current: [
                0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f, 0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37,
                0xbf, 0xcf,
            ],
            previous: None,
        };
        let ip: IpAddr = "198.51.100.100".parse().unwrap();
        let cookie = response_cookie(&client, ip, &secret, 1_559_731_985);
        assert_eq!(
            data_encoding::HEXLOWER.encode(&cookie),
            "2464c4abcf10c957010000005cf79f111f8130c3eee29480"
        );
        // 40 minutes later the client sends it back: valid, and renewed.
        assert_eq!(
            check(&cookie, ip, &secret, 1_559_734_385),
            Cookie::Good {
                client,
                verified: true
            }
        );
        assert_eq!(
            data_encoding::HEXLOWER.encode(&response_cookie(&client, ip, &secret, 1_559_734_385)),
            "2464c4abcf10c957010000005cf7a871d4a564a1442aca77"
        );
    }
}
