//! What `fedns serve` says over HTTP: the small server both endpoints use
//! ([`http`]), and the read-only lab dashboard ([`dashboard`]). The metrics
//! endpoint's content is [`crate::metrics`].

pub mod dashboard;
pub mod http;
