//! fedns: an authoritative DNS server for Matrix federation delegation.
//!
//! The data flows one way, and the modules follow it:
//!
//! - [`zone`]: sources (TOML zones, RFC 1035 master files, the Matrix
//!   shorthand) parsed and validated into one zone model, every record with
//!   the `file:line:column` it came from;
//! - [`store`]: the zone store, the one owner of the published zones and the
//!   only way to publish a new version, add or remove a zone; its change
//!   events feed NOTIFY-out and the metrics;
//! - [`snapshot`]: immutable, indexed zones ([`snapshot::ZoneSet`]), one
//!   per version;
//! - [`engine`]: the answer function, pure, from a question and the zones to
//!   the sections of a response;
//! - [`server`]: the front end (UDP, TCP, DNS over TLS and QUIC, EDNS,
//!   truncation, the answer cache);
//! - [`xfr`]: transfers in and out, NOTIFY, per-zone transfer policy,
//!   secondary zones (beside the front end, above the store: the two never
//!   import each other);
//! - [`update`]: dynamic updates (RFC 2136) with TSIG and a per-key policy,
//!   journalled ([`store::journal`]) and published through the store;
//! - [`daemon`]: `fedns serve`, which wires them together, and the control
//!   socket of `fedns ctl`;
//! - [`proto`]: protocol basics every layer shares (wire-name keys, serial
//!   arithmetic, TSIG, the clock, message IDs); [`metrics`]: the counters;
//! - [`matrix`]: the Matrix spec's server-name resolution, shared by
//!   `fedns explain` and `fedns check`;
//! - [`lint`]: `fedns check`, the lint for SRV delegation and its TLS
//!   certificate pitfalls (also run by `fedns serve` on every load);
//! - [`config`] and [`cli`]: the configuration file and the command line.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod lint;
pub mod log_limit;
pub mod matrix;
pub mod metrics;
pub mod proto;
pub mod report;
pub mod server;
pub mod snapshot;
pub mod store;
pub mod update;
pub mod web;
pub mod xfr;
pub mod zone;

#[cfg(test)]
mod testing;
