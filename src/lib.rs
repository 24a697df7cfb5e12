//! fedns: an authoritative DNS server for Matrix federation delegation.
//!
//! The data flows one way, and the modules follow it:
//!
//! - [`zone`]: sources (TOML zones, RFC 1035 master files, the Matrix
//!   shorthand) parsed and validated into one zone model, every record with
//!   the `file:line:column` it came from;
//! - [`snapshot`]: immutable, indexed zones ([`snapshot::ZoneSet`]), swapped
//!   atomically on reload;
//! - [`engine`]: the answer function, pure, from a question and the zones to
//!   the sections of a response;
//! - [`server`]: the front end (UDP, TCP, EDNS, truncation, reload);
//! - [`matrix`]: the Matrix spec's server-name resolution, shared by
//!   `fedns explain` and `fedns check`;
//! - [`lint`]: `fedns check`, the lint for SRV delegation and its TLS
//!   certificate pitfalls (also run by `fedns serve` on every load);
//! - [`config`] and [`cli`]: the configuration file and the command line.

pub mod cli;
pub mod config;
pub mod engine;
pub mod lint;
pub mod matrix;
pub mod metrics;
pub mod proto;
pub mod server;
pub mod snapshot;
pub mod xfr;
pub mod zone;

#[cfg(test)]
mod testing;
