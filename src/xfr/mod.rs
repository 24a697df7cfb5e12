//! Zone transfers and their companions: AXFR/IXFR out (primary), AXFR in
//! (secondary), NOTIFY both ways, TSIG, and the refresh timers of RFC 1034
//! 4.3.5 / RFC 1996.
//!
//! hickory 0.26 has no secondary support and its transfer client loses
//! messages (see `shared/hickory-0.26-notes.md`), so transfers are read and
//! written here on plain tokio TCP streams, with hickory-proto for the
//! messages.

pub mod tsig;
