//! A small stub resolver for the live probe: one question at a time over UDP
//! (TCP when the answer is truncated), to `--dns ADDR:PORT` or the
//! nameservers of `/etc/resolv.conf`, with bounded timeouts.
//!
//! The probe needs more than addresses: the response code of the SRV
//! question (LIVE012: SERVFAIL, REFUSED or a timeout are fatal for Synapse)
//! and of the empty non-terminal `_tcp.X` (LIVE013), so it asks the questions
//! itself; each exchange is the one `fedns explain` makes
//! ([`crate::matrix::dns::DnsResolver`]).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::SRV;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::matrix::dns as matrix_dns;

/// The most addresses of one host the probe looks at.
pub const MAX_ADDRESSES: usize = 8;

/// Why a DNS question got no response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// No response within the timeout from any server.
    #[error("no response from {servers} within {timeout:?}")]
    Timeout {
        /// The servers asked.
        servers: String,
        /// The timeout per server.
        timeout: Duration,
    },
    /// A socket error.
    #[error("{0}")]
    Io(String),
    /// The response does not decode.
    #[error("undecodable response: {0}")]
    Decode(String),
    /// No nameserver to ask.
    #[error("no nameserver: none in /etc/resolv.conf; use --dns ADDR:PORT")]
    NoServers,
    /// A CNAME chain longer than [`crate::matrix::dns::MAX_CNAME_HOPS`] or a loop.
    #[error("CNAME chain too long or looping at {0}")]
    CnameLoop(String),
}

/// A response: its code and answer section.
#[derive(Clone, Debug)]
pub struct DnsAnswer {
    /// The response code.
    pub rcode: ResponseCode,
    /// The answer section.
    pub answers: Vec<Record>,
}

/// A stub resolver.
#[derive(Clone, Debug)]
pub struct Resolver {
    servers: Vec<SocketAddr>,
    timeout: Duration,
}

impl Resolver {
    /// Asks `server` only.
    pub fn at(server: SocketAddr, timeout: Duration) -> Resolver {
        Resolver {
            servers: vec![server],
            timeout,
        }
    }

    /// Asks the nameservers of `/etc/resolv.conf`.
    pub fn system(timeout: Duration) -> Result<Resolver, DnsError> {
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let servers = parse_resolv_conf(&text);
        if servers.is_empty() {
            return Err(DnsError::NoServers);
        }
        Ok(Resolver { servers, timeout })
    }

    /// The servers this resolver asks.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// Asks (name, rtype, IN) with RD set, trying each server in turn.
    pub fn query(&self, name: &Name, rtype: RecordType) -> Result<DnsAnswer, DnsError> {
        let mut last = None;
        for server in &self.servers {
            match query_one(*server, name, rtype, self.timeout) {
                Ok(answer) => return Ok(answer),
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(DnsError::Timeout { .. }) | None => DnsError::Timeout {
                servers: self.describe(),
                timeout: self.timeout,
            },
            Some(e) => e,
        })
    }

    fn describe(&self) -> String {
        self.servers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The SRV records at `owner` and the response code.
    pub fn srv(&self, owner: &Name) -> Result<(ResponseCode, Vec<SRV>), DnsError> {
        let answer = self.query(owner, RecordType::SRV)?;
        let records = answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some(srv.clone()),
                _ => None,
            })
            .collect();
        Ok((answer.rcode, records))
    }

    /// The A and AAAA addresses of `host`, following CNAMEs as `fedns
    /// explain` does ([`crate::matrix::dns::lookup`]); at most
    /// [`MAX_ADDRESSES`].
    pub fn addresses(&self, host: &Name) -> Result<Vec<IpAddr>, DnsError> {
        let mut out = Vec::new();
        for rtype in [RecordType::A, RecordType::AAAA] {
            let found = matrix_dns::lookup(self, host, rtype).map_err(|e| match e {
                matrix_dns::DnsError::Timeout { .. } => DnsError::Timeout {
                    servers: self.describe(),
                    timeout: self.timeout,
                },
                matrix_dns::DnsError::Unreachable { reason, .. } => DnsError::Io(reason),
                other => DnsError::Io(other.to_string()),
            })?;
            if found.chain_cut {
                return Err(DnsError::CnameLoop(host.to_string()));
            }
            out.extend(found.addresses());
        }
        out.dedup();
        out.truncate(MAX_ADDRESSES);
        Ok(out)
    }
}

/// The probe's questions go through the lookup `fedns explain` makes.
impl matrix_dns::Resolver for Resolver {
    fn query(
        &self,
        name: &Name,
        rtype: RecordType,
    ) -> Result<matrix_dns::DnsResponse, matrix_dns::DnsError> {
        let server = self
            .servers
            .first()
            .copied()
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 53)));
        let question = format!("{name} {rtype}");
        let answer = Resolver::query(self, name, rtype).map_err(|e| match e {
            DnsError::Timeout { timeout, .. } => matrix_dns::DnsError::Timeout {
                server,
                question,
                tries: 1,
                timeout,
            },
            other => matrix_dns::DnsError::Unreachable {
                server,
                transport: "UDP",
                question,
                reason: other.to_string(),
            },
        })?;
        Ok(matrix_dns::DnsResponse {
            rcode: answer.rcode,
            answers: answer.answers,
            referral: false,
            synthesised: Vec::new(),
        })
    }

    fn describe(&self) -> String {
        Resolver::describe(self)
    }
}

/// The `nameserver` lines of resolv.conf text, on port 53.
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
        })
        .filter_map(|addr| {
            addr.split('%')
                .next()
                .and_then(|a| a.parse::<IpAddr>().ok())
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// One question to one server. The exchange itself (UDP with a random ID,
/// TCP when truncated, the ID and the question checked) is the one `fedns
/// explain` uses ([`crate::matrix::dns::DnsResolver`]); only its errors are
/// put in the probe's terms.
fn query_one(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<DnsAnswer, DnsError> {
    use crate::matrix::dns::{DnsError as ExchangeError, DnsResolver, Resolver as _};
    match DnsResolver::new(server, timeout, 1).query(name, rtype) {
        Ok(response) => Ok(DnsAnswer {
            rcode: response.rcode,
            answers: response.answers,
        }),
        Err(ExchangeError::Timeout { .. }) => Err(DnsError::Timeout {
            servers: server.to_string(),
            timeout,
        }),
        Err(e @ ExchangeError::Unreachable { .. }) => Err(DnsError::Io(e.to_string())),
        Err(e @ ExchangeError::BadResponse { .. }) => Err(DnsError::Decode(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Instant;

    #[test]
    fn reads_nameservers_from_resolv_conf() {
        let text = "# comment\nsearch example.org\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:1\n";
        let servers = parse_resolv_conf(text);
        assert_eq!(
            servers,
            vec![
                "192.0.2.53:53".parse().unwrap(),
                "[fe80::1]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn a_silent_server_times_out_in_bounded_time() {
        // A bound socket that never answers.
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let resolver = Resolver::at(silent.local_addr().unwrap(), Duration::from_millis(200));
        let start = Instant::now();
        let e = resolver
            .query(&Name::from_ascii("example.org.").unwrap(), RecordType::A)
            .unwrap_err();
        assert!(matches!(e, DnsError::Timeout { .. }), "{e}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
