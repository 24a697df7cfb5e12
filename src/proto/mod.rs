//! Protocol basics every layer shares: wire-name keys and their limits
//! ([`name`]), serial number arithmetic ([`serial`]), TSIG ([`tsig`]), the
//! one wall clock ([`clock`]), the one source of message IDs
//! ([`query_id`]), extended errors on hand-built responses ([`ede`]) and
//! certificates and keys from PEM files ([`pem`]), and short wire octets
//! held without an allocation ([`octets`]).
//!
//! Nothing here knows about zones, sockets or the server: these are the
//! facts of RFC 1035, 1982, 4343 and 8945 that the zone store, the engine,
//! the front end and the transfer code all need, written once.

pub mod clock;
pub mod ede;
pub mod name;
pub mod octets;
pub mod pem;
pub mod query_id;
pub mod serial;
pub mod tls;
pub mod tsig;

/// The ALPN protocol id of DNS over TLS, for queries and zone transfers
/// alike (RFC 7858, RFC 9103 section 7.1).
pub const ALPN_DOT: &[u8] = b"dot";

/// The ALPN protocol id of DNS over QUIC (RFC 9250 section 4.1).
pub const ALPN_DOQ: &[u8] = b"doq";

/// How a request reached the server, as far as transfer policy cares
/// (RFC 9103: XoT, and XoT with a client certificate).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Channel {
    /// UDP or plain TCP.
    #[default]
    Plain,
    /// TLS or QUIC, the client anonymous.
    Encrypted,
    /// TLS with a client certificate that chains to the configured client CA.
    EncryptedClientCertified,
}

impl Channel {
    /// True over TLS or QUIC.
    pub fn is_encrypted(self) -> bool {
        self != Channel::Plain
    }
}
