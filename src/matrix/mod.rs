//! How a homeserver finds another: the Matrix spec's "Resolving server
//! names" algorithm, shared by `fedns explain` and `fedns check`.
//!
//! Given a server name `S`, [`resolve()`] walks the steps of the spec's table
//! (server-server API, "Resolving server names"): 1 IP literal, 2 explicit port,
//! 3 `.well-known` (3.1 IP literal, 3.2 `D:port`, 3.3 SRV `_matrix-fed._tcp.D`,
//! 3.4 SRV `_matrix._tcp.D`, 3.5 `D:8448`), 4 SRV `_matrix-fed._tcp.S`,
//! 5 SRV `_matrix._tcp.S`, 6 `S:8448`. It records every step, taken or
//! skipped, with the DNS records it read and where real homeservers
//! (Synapse, Dendrite, the Conduit family) differ from the spec, and ends
//! with a [`Target`]: endpoints, SNI, `Host` header, certificate name.
//!
//! The public API is small:
//!
//! ```no_run
//! use fedns::matrix::{resolve, DnsResolver, ServerName, WellKnownSource, ZoneResolver};
//! # fn demo(zones: &fedns::snapshot::ZoneSet) -> Result<(), Box<dyn std::error::Error>> {
//! let s = ServerName::parse("example.org")?;
//! // Offline, against loaded zones, with the .well-known they declare:
//! let resolver = ZoneResolver::new(zones, "zones in ./zones");
//! let resolution = resolve(&s, &resolver, &fedns::matrix::well_known::declared(zones, &s))?;
//! if let Some(target) = &resolution.result {
//!     println!("{}:{} needs a certificate for {}", target.host(), target.port(), target.certificate_name);
//! }
//! // Live, against a DNS server, with a .well-known body given by hand:
//! let live = DnsResolver::new("127.0.0.1:5300".parse()?, std::time::Duration::from_secs(3), 2);
//! let body = WellKnownSource::Body(r#"{"m.server": "matrix.example.org:443"}"#.into());
//! let resolution = resolve(&s, &live, &body)?;
//! # let _ = resolution; Ok(()) }
//! ```
//!
//! Modules: [`server_name`] (the grammar of `S` and `m.server`), [`dns`]
//! (the [`Resolver`] trait, offline and live implementations, CNAME
//! following), [`well_known`] (the `.well-known` body and its sources),
//! [`https`] (the one HTTPS client: a TLS handshake that records the chain
//! presented, HTTP/1.1 over it), [`fetch`] (the `.well-known` fetch, with
//! redirects), [`keys`] (a server's signed key response and canonical
//! JSON), [`resolve`](mod@resolve) (the step machine, SRV order),
//! [`explain`] (human and JSON rendering for `fedns explain`).
//!
//! `fedns check` (the lint) judges through these: the same grammar, body
//! parser, HTTPS client, CNAME following and SRV order, and, offline, the
//! same answer engine the server answers with. Its rules are judgements;
//! it has no DNS or HTTP semantics of its own.

pub mod dns;
pub mod explain;
pub mod fetch;
mod homeservers;
pub mod https;
pub mod keys;
pub mod resolve;
pub mod server_name;
pub mod well_known;

pub use dns::{DnsError, DnsResolver, Lookup, Resolver, ZoneResolver};
pub use fetch::FetchOptions;
pub use resolve::{Endpoint, Resolution, SrvRank, Step, StepId, Target, resolve};
pub use server_name::{Host, ServerName, ServerNameError};
pub use well_known::{WellKnown, WellKnownError, WellKnownSource};
