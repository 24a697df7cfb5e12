//! The control socket: `fedns ctl` talks to the running server here.
//!
//! A Unix stream socket (never TCP), mode 0600, created by the server
//! after it has dropped privileges, so it belongs to the service user:
//! whoever can open it may steer the server, and nobody else can. The
//! protocol is one JSON object per line each way: a [`Request`], then a
//! [`Response`] (`{"ok":true,"result":...}` or `{"ok":false,"error":"..."}`)
//! and the connection closes.
//!
//! Limits: a request is at most [`MAX_REQUEST`] bytes and must arrive
//! within [`REQUEST_TIMEOUT`]; at most [`MAX_CONNECTIONS`] are served at
//! once. A bad request gets an error answer and a debug log line; the
//! server never stops because of one.

use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use hickory_proto::rr::Name;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, watch};
use tracing::{debug, info, warn};

use super::Daemon;
use crate::config::SecondaryConfig;
use crate::proto::clock::unix_now;
use crate::store::ZoneChange;

/// The longest request line accepted.
pub const MAX_REQUEST: usize = 64 * 1024;
/// How long a client has to send its request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Control connections served at once; more wait.
pub const MAX_CONNECTIONS: usize = 8;
/// How long `fedns ctl` waits for the server's answer (a reload of big
/// zones takes a while).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// A command to the running server: what `fedns ctl` takes on its command
/// line, and sends as JSON.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq, clap::Subcommand)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Every zone: role, serial, records, where it came from, the timers of
    /// secondary zones, the last NOTIFY sent.
    Status {},
    /// Read the zone files again (all of them, or one zone's).
    Reload {
        /// The zone (default: every zone file).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// Ask a secondary zone's primaries for their serial now.
    Refresh {
        /// The zone.
        zone: String,
    },
    /// Transfer a secondary zone in full (AXFR) now, whatever the serials say.
    Retransfer {
        /// The zone.
        zone: String,
    },
    /// Send NOTIFY for a zone to its secondaries now.
    Notify {
        /// The zone.
        zone: String,
    },
    /// Add a secondary zone (kept in the data directory across restarts).
    ZoneAdd {
        /// The zone.
        zone: String,
        /// A primary, ADDRESS:PORT (repeatable; tried in order).
        #[arg(long = "primary", value_name = "ADDR:PORT", required = true)]
        primaries: Vec<String>,
        /// The [[tsig_key]] of the configuration its transfers are signed with.
        #[arg(long, value_name = "NAME")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tsig_key: Option<String>,
    },
    /// Remove a secondary zone added with zone-add (its disk copy too).
    ZoneRemove {
        /// The zone.
        zone: String,
    },
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Response {
    /// True when the command was carried out.
    pub ok: bool,
    /// What it produced (when `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why not (when not `ok`): one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Response {
    fn ok(result: Value) -> Response {
        Response {
            ok: true,
            result: Some(result),
            error: None,
        }
    }

    fn error(message: impl Into<String>) -> Response {
        Response {
            ok: false,
            result: None,
            error: Some(message.into()),
        }
    }
}

/// Binds the control socket at `path`. A stale socket (nobody answers on
/// it) is replaced; a live one means another server runs, and anything
/// that is not a socket is left alone: both are errors.
pub fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                bail!(
                    "control socket {}: another server answers on it (stop it, or set control_socket elsewhere)",
                    path.display()
                );
            }
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
        }
        Ok(_) => bail!(
            "control socket {}: the path exists and is not a socket; refusing to replace it",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("control socket {}", path.display())),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let listener = UnixListener::bind(path)
        .with_context(|| format!("cannot bind the control socket {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {} to its owner", path.display()))?;
    Ok(listener)
}

/// Serves control connections until `shutdown` turns true, then removes
/// the socket file.
pub async fn serve(
    listener: UnixListener,
    path: PathBuf,
    daemon: Arc<Daemon>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
                    let daemon = Arc::clone(&daemon);
                    connections.spawn(async move {
                        if let Err(e) = handle(stream, &daemon).await {
                            debug!("control connection: {e}");
                        }
                        drop(slot);
                    });
                }
                Err(e) => {
                    warn!("control socket: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    let _ = std::fs::remove_file(&path);
}

async fn handle(stream: UnixStream, daemon: &Daemon) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = Vec::new();
    let mut reader = BufReader::new(read).take(MAX_REQUEST as u64 + 1);
    let read = tokio::time::timeout(REQUEST_TIMEOUT, reader.read_until(b'\n', &mut line)).await;
    let response = match read {
        Err(_) => Response::error(format!("no request within {} s", REQUEST_TIMEOUT.as_secs())),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(_)) if line.len() > MAX_REQUEST => {
            Response::error(format!("request longer than {MAX_REQUEST} bytes"))
        }
        Ok(Ok(_)) => match serde_json::from_slice::<Request>(&line) {
            Ok(request) => {
                info!("control: {}", summary(&request));
                execute(daemon, request).await
            }
            Err(e) => Response::error(format!("malformed request: {e}")),
        },
    };
    let mut out = serde_json::to_vec(&response).unwrap_or_default();
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await
}

fn summary(request: &Request) -> String {
    match request {
        Request::Status {} => "status".into(),
        Request::Reload { zone: None } => "reload".into(),
        Request::Reload { zone: Some(z) } => format!("reload {z}"),
        Request::Refresh { zone } => format!("refresh {zone}"),
        Request::Retransfer { zone } => format!("retransfer {zone}"),
        Request::Notify { zone } => format!("notify {zone}"),
        Request::ZoneAdd { zone, .. } => format!("zone-add {zone}"),
        Request::ZoneRemove { zone } => format!("zone-remove {zone}"),
    }
}

/// Carries out one request.
async fn execute(daemon: &Daemon, request: Request) -> Response {
    let outcome = match request {
        Request::Status {} => Ok(status(daemon)),
        Request::Reload { zone: None } => match daemon.reload_all().await {
            Ok(outcome) => Ok(json!({
                "loaded": outcome.report.loaded.len(),
                "failed": outcome.report.failed.iter().map(|(p, e)| json!({
                    "file": p.display().to_string(),
                    "errors": e.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "refused": outcome.report.refused,
                "changes": outcome.changes.iter().map(change_json).collect::<Vec<_>>(),
            })),
            Err(e) => Err(format!("{e:#}")),
        },
        Request::Reload { zone: Some(zone) } => match zone_name(&zone) {
            Ok(zone) => daemon.reload_zone(&zone).await.map(
                |change| json!({ "changes": change.iter().map(change_json).collect::<Vec<_>>() }),
            ),
            Err(e) => Err(e),
        },
        Request::Refresh { zone } => secondary(daemon, &zone).map(|z| {
            z.refresh_now.notify_one();
            json!({ "zone": z.zone.to_ascii(), "refresh": "started" })
        }),
        Request::Retransfer { zone } => secondary(daemon, &zone).map(|z| {
            z.force_axfr
                .store(true, std::sync::atomic::Ordering::SeqCst);
            z.refresh_now.notify_one();
            json!({ "zone": z.zone.to_ascii(), "retransfer": "started" })
        }),
        Request::Notify { zone } => zone_name(&zone).and_then(|zone| {
            let serial = daemon
                .store
                .zones()
                .zone(&zone)
                .map(|z| z.serial())
                .ok_or_else(|| format!("no zone {zone} with data here"))?;
            let targets = daemon.xfr.policies.of(&zone).notify.clone();
            if targets.is_empty() {
                return Err(format!("zone {zone} has no notify targets"));
            }
            daemon.notify_now(zone.clone());
            Ok(json!({
                "zone": zone.to_ascii(),
                "serial": serial,
                "targets": targets.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))
        }),
        Request::ZoneAdd {
            zone,
            primaries,
            tsig_key,
        } => zone_add(daemon, &zone, &primaries, tsig_key),
        Request::ZoneRemove { zone } => zone_name(&zone)
            .and_then(|zone| daemon.remove_secondary(&zone).map(|()| zone))
            .map(|zone| json!({ "zone": zone.to_ascii(), "removed": true })),
    };
    match outcome {
        Ok(result) => Response::ok(result),
        Err(e) => Response::error(e),
    }
}

fn zone_add(
    daemon: &Daemon,
    zone: &str,
    primaries: &[String],
    tsig_key: Option<String>,
) -> Result<Value, String> {
    let zone = zone_name(zone)?;
    if primaries.is_empty() {
        return Err(format!("zone {zone} needs at least one primary"));
    }
    let primaries = primaries
        .iter()
        .map(|p| {
            p.parse()
                .map_err(|_| format!("bad primary {p:?}: write ADDRESS:PORT, e.g. 127.0.0.1:53"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    daemon.add_secondary(SecondaryConfig {
        zone: zone.clone(),
        primaries,
        tsig_key,
        catalog: false,
        tls: None,
        tls_client: None,
    })?;
    Ok(json!({ "zone": zone.to_ascii(), "added": true }))
}

fn zone_name(text: &str) -> Result<Name, String> {
    let mut name = Name::from_ascii(text).map_err(|e| format!("bad zone name {text:?}: {e}"))?;
    name.set_fqdn(true);
    Ok(name)
}

fn secondary(
    daemon: &Daemon,
    zone: &str,
) -> Result<Arc<crate::xfr::secondary::SecondaryZone>, String> {
    let name = zone_name(zone)?;
    daemon.xfr.secondaries.get(&name).ok_or_else(|| {
        if daemon.store.zones().contains(&name) {
            format!("zone {name} is a primary zone here: use `fedns ctl reload {name}`")
        } else {
            format!("no secondary zone {name} here")
        }
    })
}

fn change_json(change: &ZoneChange) -> Value {
    json!({
        "zone": change.zone.to_ascii(),
        "old_serial": change.old_serial,
        "new_serial": change.new_serial,
        "kind": change.kind.to_string(),
        "serial_not_increased": change.serial_not_increased,
    })
}

/// Every zone the server knows: what it serves, and the timers of
/// secondary zones.
fn status(daemon: &Daemon) -> Value {
    let now = unix_now();
    let zones = daemon.store.zones_owned();
    let mut names: Vec<Name> = zones
        .zones()
        .iter()
        .map(|z| z.origin().clone())
        .chain(zones.unavailable().cloned())
        .collect();
    names.sort();
    let secs_until = |at: Option<u64>| at.map(|t| t.saturating_sub(now));
    let entries: Vec<Value> = names
        .iter()
        .map(|name| {
            let snapshot = zones.zone(name);
            let secondary = daemon.xfr.secondaries.get(name);
            let status = secondary.as_ref().map(|z| z.status());
            let mut entry = json!({
                "zone": name.to_ascii(),
                "role": if secondary.is_some() { "secondary" } else { "primary" },
                "state": if snapshot.is_some() { "serving" } else { "unavailable" },
                "serial": snapshot.map(|z| z.serial()),
                "records": snapshot.map(|z| z.record_count()),
                "bytes": snapshot.map(|z| z.heap_bytes()),
                "loaded_from": match &status {
                    Some(s) => s.primary.map(|p| p.to_string()),
                    None => snapshot.and_then(|z| z.source()).map(|p| p.display().to_string()),
                },
            });
            if daemon.produced_catalogs.contains(name) {
                entry["catalog"] = json!("producer");
            }
            if let (Some(z), Some(s)) = (&secondary, status) {
                if z.catalog {
                    entry["catalog"] = json!("consumer");
                }
                if let Some(catalog) = &z.member_of {
                    entry["member_of"] = json!(catalog.to_ascii());
                }
                entry["primaries"] = json!(z.primaries.iter().map(ToString::to_string).collect::<Vec<_>>());
                entry["last_refresh"] = json!(s.last_refresh.as_ref().map(|(at, _)| at));
                entry["last_refresh_outcome"] = json!(s.last_refresh.as_ref().map(|(_, what)| what));
                entry["refresh_in"] = json!(secs_until(s.next_refresh));
                entry["expire_in"] = json!(secs_until(s.expires));
            }
            entry["last_notify"] = match daemon.xfr.notify_log.last(name) {
                Some(round) => json!({
                    "serial": round.serial,
                    "at": round.started,
                    "targets": round.targets.iter().map(|(t, o)| json!({"target": t.to_string(), "outcome": o})).collect::<Vec<_>>(),
                }),
                None => Value::Null,
            };
            entry
        })
        .collect();
    let tls = daemon.tls.as_ref().map(|tls| {
        let current = tls.current();
        json!({
            "certificate": current.chain_path.display().to_string(),
            "not_after": current.not_after,
            "expired": current.not_after < now as i64,
        })
    });
    json!({ "zones": entries, "tls": tls })
}

/// The answer to `request` for people: a few lines of text.
pub fn render(request: &Request, result: &Value) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let text = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let secs = |v: &Value| {
        v.as_u64()
            .map_or_else(|| "-".to_string(), |s| format!("{s}s"))
    };
    match request {
        Request::Status {} => {
            if let Some(tls) = result["tls"].as_object() {
                let days = (tls["not_after"].as_i64().unwrap_or(0) - unix_now() as i64) / 86_400;
                let state = if tls["expired"] == true {
                    format!("EXPIRED {} day(s) ago", -days)
                } else {
                    format!("valid for {days} more day(s)")
                };
                let _ = writeln!(
                    out,
                    "TLS certificate {}: {state}",
                    text(&tls["certificate"])
                );
            }
            for zone in result["zones"].as_array().into_iter().flatten() {
                let memory = match zone["bytes"].as_u64() {
                    Some(bytes) => format!(" ({} KiB)", bytes.div_ceil(1024)),
                    None => String::new(),
                };
                let _ = writeln!(
                    out,
                    "{}  {} {}  serial {}  {} records{memory}  from {}",
                    text(&zone["zone"]),
                    text(&zone["role"]),
                    text(&zone["state"]),
                    text(&zone["serial"]),
                    text(&zone["records"]),
                    text(&zone["loaded_from"]),
                );
                if zone["role"] == "secondary" {
                    let _ = writeln!(
                        out,
                        "    last refresh: {}  refresh in {}  expire in {}",
                        text(&zone["last_refresh_outcome"]),
                        secs(&zone["refresh_in"]),
                        secs(&zone["expire_in"]),
                    );
                }
                if let Some(round) = zone["last_notify"].as_object() {
                    let targets: Vec<String> = round["targets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|t| format!("{} {}", text(&t["target"]), text(&t["outcome"])))
                        .collect();
                    let _ = writeln!(
                        out,
                        "    last NOTIFY: serial {} to {}",
                        text(&round["serial"]),
                        targets.join(", ")
                    );
                }
            }
        }
        Request::Reload { .. } => {
            for change in result["changes"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "{}  serial {} -> {} ({})",
                    text(&change["zone"]),
                    text(&change["old_serial"]),
                    text(&change["new_serial"]),
                    text(&change["kind"]),
                );
            }
            for failed in result["failed"].as_array().into_iter().flatten() {
                for e in failed["errors"].as_array().into_iter().flatten() {
                    let _ = writeln!(out, "{}", text(e));
                }
            }
            if result["changes"].as_array().is_none_or(Vec::is_empty) {
                let _ = writeln!(out, "no zone changed");
            }
        }
        Request::Refresh { .. } => {
            let _ = writeln!(
                out,
                "zone {}: asking its primaries now",
                text(&result["zone"])
            );
        }
        Request::Retransfer { .. } => {
            let _ = writeln!(
                out,
                "zone {}: transferring it in full (AXFR) now",
                text(&result["zone"])
            );
        }
        Request::Notify { .. } => {
            let targets: Vec<String> = result["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            let _ = writeln!(
                out,
                "zone {}: NOTIFY for serial {} to {}",
                text(&result["zone"]),
                text(&result["serial"]),
                targets.join(", ")
            );
        }
        Request::ZoneAdd { primaries, .. } => {
            let _ = writeln!(
                out,
                "zone {} added, a secondary of {}",
                text(&result["zone"]),
                primaries.join(", ")
            );
        }
        Request::ZoneRemove { .. } => {
            let _ = writeln!(out, "zone {} removed", text(&result["zone"]));
        }
    }
    out
}

/// Why `fedns ctl` could not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Nothing to connect to, or no permission.
    #[error(
        "cannot connect to the control socket {path}: {cause} (is `fedns serve` running with this control_socket?)"
    )]
    Connect {
        /// The socket.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The connection broke or timed out.
    #[error("control socket {path}: {cause}")]
    Io {
        /// The socket.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// Something answered that is not a fedns server.
    #[error("control socket {path}: the answer is not from fedns ({detail})")]
    NotFedns {
        /// The socket.
        path: String,
        /// What was wrong with the answer.
        detail: String,
    },
}

/// Sends `request` to the server at `path` and returns its answer.
pub fn request(path: &Path, request: &Request) -> Result<Response, ControlError> {
    use std::io::{BufRead, Write};
    let display = path.display().to_string();
    let io = |cause| ControlError::Io {
        path: display.clone(),
        cause,
    };
    let mut stream =
        std::os::unix::net::UnixStream::connect(path).map_err(|cause| ControlError::Connect {
            path: display.clone(),
            cause,
        })?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).map_err(io)?;
    stream
        .set_write_timeout(Some(REQUEST_TIMEOUT))
        .map_err(io)?;
    let mut line = serde_json::to_vec(request).map_err(|e| io(std::io::Error::other(e)))?;
    line.push(b'\n');
    stream.write_all(&line).map_err(io)?;
    let mut answer = Vec::new();
    std::io::BufReader::new(&stream)
        .take(16 << 20)
        .read_until(b'\n', &mut answer)
        .map_err(io)?;
    if answer.is_empty() {
        return Err(ControlError::NotFedns {
            path: display,
            detail: "it closed the connection without answering".into(),
        });
    }
    serde_json::from_slice(&answer).map_err(|e| ControlError::NotFedns {
        path: display,
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_object_with_a_command() {
        let add = Request::ZoneAdd {
            zone: "example.net".into(),
            primaries: vec!["127.0.0.1:53".into()],
            tsig_key: None,
        };
        let text = serde_json::to_string(&add).unwrap();
        assert_eq!(
            text,
            r#"{"command":"zone-add","zone":"example.net","primaries":["127.0.0.1:53"]}"#
        );
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), add);
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"command":"status"}"#).unwrap(),
            Request::Status {}
        );
        for bad in [
            r#"{"command":"launch"}"#,
            r#"{"command":"refresh"}"#,
            r#"{"command":"status","extra":1}"#,
            "not json",
        ] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }
}
