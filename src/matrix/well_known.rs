//! Step 3 of the spec: the `.well-known/matrix/server` answer for `S`.
//!
//! The response body is a JSON object whose `m.server` property names the
//! delegated host `D` as `<host>[:<port>]` (the server-name grammar). Any
//! failure (not 200, bad JSON, not an object, no `m.server`, a bad value, a
//! body over 50 KiB, a redirect loop) makes a homeserver skip to step 4.
//!
//! Where the answer comes from is a [`WellKnownSource`]: the `m.server` a
//! zone declares (`[[matrix]] well_known`), a JSON body given by hand, or an
//! HTTPS fetch ([`super::fetch`]). [`obtain`] turns a source into a
//! [`WellKnown`] report, success or failure, with what was seen.

use std::sync::Arc;

use hickory_proto::rr::Name;

use super::dns::{DnsError, Lookup, Resolver};
use super::fetch::{self, FetchOptions};
use super::server_name::{ServerName, ServerNameError};
use crate::snapshot::ZoneSet;
use crate::zone::Place;

/// The most of a `.well-known` body Synapse and Dendrite read (50 KiB);
/// a longer body is a failed `.well-known`.
pub const MAX_BODY_BYTES: usize = 50 * 1024;

/// Why a `.well-known` answer is not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WellKnownError {
    /// Nothing is known about it (offline without a declaration, or live without `--fetch`).
    #[error("{0}")]
    Unavailable(String),
    /// The body is over [`MAX_BODY_BYTES`].
    #[error(
        "the body is {0} bytes or more; homeservers stop reading at 51200 (50 KiB) and treat it as invalid"
    )]
    TooLarge(usize),
    /// The body is not JSON.
    #[error("the body is not valid JSON (line {line}, column {column}: {message})")]
    BadJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's words.
        message: String,
    },
    /// The body is JSON but not an object.
    #[error(
        "the body is JSON but not an object (it is {0}); it must look like {{\"m.server\": \"matrix.example.org:443\"}}"
    )]
    NotAnObject(&'static str),
    /// No `m.server` property.
    #[error("the JSON object has no \"m.server\" property")]
    NoServer,
    /// `m.server` is not a string.
    #[error("\"m.server\" must be a string, not {0}")]
    ServerNotString(&'static str),
    /// `m.server` is not a server name.
    #[error("\"m.server\" is {value:?}, which is not a server name: {error}")]
    BadServer {
        /// The value as written.
        value: String,
        /// What is wrong with it.
        error: ServerNameError,
    },
    /// The HTTPS request failed (connection, TLS, status, redirects...).
    #[error("{0}")]
    Fetch(String),
}

/// Where the `.well-known` answer for `S` comes from.
#[derive(Clone, Debug)]
pub enum WellKnownSource {
    /// Nothing is known: resolution goes on as after a failed request.
    /// The text says why (shown at step 3).
    Unavailable(String),
    /// A zone's `[[matrix]] well_known`: the `m.server` value served for S,
    /// as if the body were `{"m.server": value}`.
    Declared {
        /// The value as declared.
        m_server: String,
        /// Where it is declared.
        place: Place,
    },
    /// A response body given by hand (`--well-known JSON`), as served.
    Body(String),
    /// `GET https://S/.well-known/matrix/server` over HTTPS.
    Fetch(Arc<FetchOptions>),
}

/// What step 3 saw: where the answer came from, the body, and the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WellKnown {
    /// Where the answer came from, for people.
    pub source: String,
    /// The URL asked, for a fetch (the last one, after redirects).
    pub url: Option<String>,
    /// Every URL that redirected, in order.
    pub redirects: Vec<String>,
    /// The HTTP status of the last response, for a fetch.
    pub status: Option<u16>,
    /// The body as received or given (up to [`MAX_BODY_BYTES`], lossily UTF-8).
    pub body: Option<String>,
    /// DNS lookups made to find the web server.
    pub lookups: Vec<Lookup>,
    /// The delegated server name `D` (with its port, if any), or why there is none.
    pub outcome: Result<ServerName, WellKnownError>,
}

/// Parses a `.well-known/matrix/server` body into the delegated server name.
pub fn parse_body(body: &[u8]) -> Result<ServerName, WellKnownError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(WellKnownError::TooLarge(body.len()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| WellKnownError::BadJson {
            line: e.line(),
            column: e.column(),
            message: json_message(&e),
        })?;
    let object = value
        .as_object()
        .ok_or(WellKnownError::NotAnObject(json_type(&value)))?;
    let server = object.get("m.server").ok_or(WellKnownError::NoServer)?;
    let text = server
        .as_str()
        .ok_or(WellKnownError::ServerNotString(json_type(server)))?;
    ServerName::parse(text).map_err(|error| WellKnownError::BadServer {
        value: text.to_owned(),
        error,
    })
}

/// serde_json's message without its " at line L column C" suffix (we say it ourselves).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The `.well-known` a loaded zone declares for `server_name` (the first
/// `[[matrix]]` section for that name with a `well_known`), or
/// [`WellKnownSource::Unavailable`] saying there is none.
pub fn declared(zones: &ZoneSet, server_name: &ServerName) -> WellKnownSource {
    let Some(name) = server_name.dns_name() else {
        return WellKnownSource::Unavailable(format!(
            "{server_name} is an IP literal: no .well-known is asked"
        ));
    };
    let found = zones.zones().into_iter().find_map(|zone| {
        zone.matrix()
            .iter()
            .find(|d| d.server_name == name && d.well_known.is_some())
            .and_then(|d| {
                d.well_known
                    .clone()
                    .map(|m_server| (m_server, d.place.clone()))
            })
    });
    match found {
        Some((m_server, place)) => WellKnownSource::Declared { m_server, place },
        None => WellKnownSource::Unavailable(format!(
            "none is declared for {server_name} in the zones (no `well_known` in a [[matrix]] section), \
             so fedns explains as if the request failed; give one with --well-known JSON or --fetch"
        )),
    }
}

/// Reads `source` for `host` (S without a port): fetches, parses, or reports
/// the declaration. DNS transport errors while finding the web server end
/// resolution (they are not a `.well-known` failure).
pub fn obtain(
    source: &WellKnownSource,
    host: &Name,
    resolver: &dyn Resolver,
) -> Result<WellKnown, DnsError> {
    let host_text = host.to_string();
    let host_text = host_text.trim_end_matches('.');
    let mut report = WellKnown {
        source: String::new(),
        url: None,
        redirects: Vec::new(),
        status: None,
        body: None,
        lookups: Vec::new(),
        outcome: Err(WellKnownError::Unavailable(String::new())),
    };
    match source {
        WellKnownSource::Unavailable(why) => {
            report.source = "none".into();
            report.outcome = Err(WellKnownError::Unavailable(why.clone()));
        }
        WellKnownSource::Declared { m_server, place } => {
            let body = serde_json::json!({ "m.server": m_server }).to_string();
            report.source = format!("declared in the zone at {place} (well_known = {m_server:?})");
            report.outcome = parse_body(body.as_bytes());
            report.body = Some(body);
        }
        WellKnownSource::Body(body) => {
            report.source = "given with --well-known".into();
            report.outcome = parse_body(body.as_bytes());
            report.body = Some(body.clone());
        }
        WellKnownSource::Fetch(options) => {
            let fetched = fetch::fetch_well_known(options, host_text, resolver)?;
            report.source = "fetched over HTTPS".into();
            report.url = Some(fetched.url);
            report.redirects = fetched.redirects;
            report.status = fetched.status;
            report.lookups = fetched.lookups;
            report.body = fetched
                .body
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            report.outcome = match (fetched.error, fetched.body) {
                (Some(e), _) => Err(WellKnownError::Fetch(e)),
                (None, Some(body)) => parse_body(&body),
                (None, None) => Err(WellKnownError::Fetch("no response body".into())),
            };
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::server_name::Host;

    #[test]
    fn parses_m_server_with_and_without_port() {
        let d = parse_body(br#"{"m.server": "matrix.example.org:443"}"#).unwrap();
        assert_eq!(
            (d.host_text().as_str(), d.port()),
            ("matrix.example.org", Some(443))
        );
        let d = parse_body(br#"{"m.server": "matrix.example.org", "other": 1}"#).unwrap();
        assert_eq!(d.port(), None);
        let d = parse_body(br#"{"m.server": "[2001:db8::1]"}"#).unwrap();
        assert!(matches!(d.host(), Host::Ip(_)));
    }

    #[test]
    fn every_kind_of_bad_body_is_named() {
        let e = parse_body(b"{m.server: x}").unwrap_err().to_string();
        assert!(
            e.starts_with("the body is not valid JSON (line 1, column 2: key must be a string"),
            "{e}"
        );
        assert!(
            parse_body(b"[1]")
                .unwrap_err()
                .to_string()
                .contains("not an object (it is an array)")
        );
        assert_eq!(parse_body(b"{}").unwrap_err(), WellKnownError::NoServer);
        assert!(
            parse_body(br#"{"m.server": 8448}"#)
                .unwrap_err()
                .to_string()
                .contains("not a number")
        );
        let e = parse_body(br#"{"m.server": "https://matrix.example.org"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a URL"), "{e}");
        let big = format!(
            "{{\"m.server\": \"a.example\", \"pad\": \"{}\"}}",
            "x".repeat(MAX_BODY_BYTES)
        );
        assert!(matches!(
            parse_body(big.as_bytes()),
            Err(WellKnownError::TooLarge(_))
        ));
    }

    #[test]
    fn declared_well_known_is_found_by_server_name() {
        let zones = crate::testing::zones_from_toml(&[
            "origin = \"example.org.\"\n[soa]\nmname = \"ns1\"\nrname = \"h\"\nserial = 1\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\n[[matrix]]\nserver_name = \"@\"\nwell_known = \"matrix.example.org:443\"\n",
        ]);
        let s = ServerName::parse("Example.org").unwrap();
        match declared(&zones, &s) {
            WellKnownSource::Declared { m_server, place } => {
                assert_eq!(m_server, "matrix.example.org:443");
                assert_eq!(place.line, 9);
            }
            other => panic!("{other:?}"),
        }
        let other = ServerName::parse("example.net").unwrap();
        assert!(matches!(
            declared(&zones, &other),
            WellKnownSource::Unavailable(_)
        ));
    }
}
