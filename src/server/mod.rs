//! The front end: UDP and TCP listeners on tokio sockets, feeding
//! [`wire::respond`] with the current [`ZoneSet`].
//!
//! Why not hickory-server's `Server`: in 0.26 it spawns one task per UDP
//! packet with no bound, has no cap on TCP connections, logs two INFO lines
//! per query, and can only send responses built from record iterators (no
//! pre-encoded answers). Here each UDP socket is served by a fixed number of
//! worker tasks and TCP connections are bounded by a semaphore, so load can
//! never turn into unbounded memory.
//!
//! Zones are read from the [`ZoneStore`]: a batch of queries loads the
//! published set once and sees one consistent [`ZoneSet`]. The answer cache
//! belongs to exactly one published set ([`FrontEnd::served`] starts an
//! empty one when the store publishes), so a cached answer never outlives
//! the zones it came from.
//!
//! The front end answers queries itself and hands the rest (NOTIFY, zone
//! transfers, UPDATE) to a [`ZoneRequests`] given to it: it never
//! knows the transfer code, which sits beside it above the store.

pub mod answer_cache;
pub mod cookies;
pub mod fast_path;
pub mod privileges;
mod quic;
pub mod rrl;
mod tcp;
pub mod tls;
mod udp;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

pub use answer_cache::ServedZones;

use crate::metrics::Metrics;
use crate::proto::tsig::KeyRing;
use crate::snapshot::ZoneSet;
use crate::store::ZoneStore;

/// The requests the front end does not answer itself: NOTIFY (RFC 1996)
/// and zone transfers (RFC 5936, RFC 1995). Implemented by the transfer
/// side; the front end only moves their bytes.
pub trait ZoneRequests: Send + Sync + std::fmt::Debug {
    /// The response to a NOTIFY from `peer`, if one is to be sent.
    fn notify(&self, request: &[u8], peer: SocketAddr) -> Option<Vec<u8>>;
    /// The messages answering an AXFR or IXFR over TCP from `peer`, in
    /// order; `channel` says whether the connection is encrypted (XoT,
    /// RFC 9103) and whether the client presented a certificate.
    fn transfer(
        &self,
        zones: &ZoneSet,
        request: &[u8],
        peer: SocketAddr,
        channel: crate::proto::Channel,
    ) -> Vec<Vec<u8>>;
    /// The response to a dynamic UPDATE (RFC 2136) from `peer`, if one is
    /// to be sent. May block (a lock, an fsync, a forward to a primary):
    /// the front end calls it from a blocking task.
    fn update(&self, request: &[u8], peer: SocketAddr) -> Option<Vec<u8>>;
}

/// UPDATE requests in progress at once, over UDP and TCP together. More
/// UDP updates are dropped (the client retries); a TCP connection waits.
/// Updates are applied one at a time anyway (the zone writer lock); this
/// bounds the requests queued for it.
pub const MAX_UPDATES_IN_FLIGHT: usize = 16;

/// What every listener task shares.
#[derive(Debug)]
pub struct FrontEnd {
    /// The published zones.
    pub store: Arc<ZoneStore>,
    /// The published zones with the answer cache of exactly that version.
    served: ArcSwap<ServedZones>,
    /// The TSIG keys signed queries are checked against.
    pub keys: Arc<KeyRing>,
    /// NSID and the CHAOS identity.
    pub identity: wire::Identity,
    /// NOTIFY and transfers.
    pub requests: Arc<dyn ZoneRequests>,
    /// Response rate limiting of UDP answers, when configured.
    pub rrl: Option<rrl::ResponseRateLimiter>,
    /// Counters for the metrics endpoint.
    pub metrics: Arc<Metrics>,
    /// Keeps errors caused by remote peers from filling the log.
    pub log_limit: crate::log_limit::LogLimiter,
    /// Slots for UPDATE requests in progress ([`MAX_UPDATES_IN_FLIGHT`]).
    pub update_slots: Arc<Semaphore>,
}

impl FrontEnd {
    /// A front end over `store`.
    pub fn new(
        store: Arc<ZoneStore>,
        keys: Arc<KeyRing>,
        identity: wire::Identity,
        requests: Arc<dyn ZoneRequests>,
        rrl: Option<rrl::ResponseRateLimiter>,
        metrics: Arc<Metrics>,
    ) -> FrontEnd {
        let served = ArcSwap::from_pointee(ServedZones::new(store.zones_owned()));
        FrontEnd {
            store,
            served,
            keys,
            identity,
            requests,
            rrl,
            metrics,
            log_limit: Default::default(),
            update_slots: Arc::new(Semaphore::new(MAX_UPDATES_IN_FLIGHT)),
        }
    }

    /// The zones now published, with their answer cache. Two pointer loads
    /// when nothing changed; after a publication the first caller starts
    /// the new version's (empty) cache.
    pub fn served(&self) -> arc_swap::Guard<Arc<ServedZones>> {
        let served = self.served.load();
        let published = self.store.zones();
        if Arc::ptr_eq(&served.zones, &published) {
            return served;
        }
        drop(served);
        self.served.rcu(|served| {
            if Arc::ptr_eq(&served.zones, &published) {
                Arc::clone(served)
            } else {
                Arc::new(ServedZones::new(Arc::clone(&published)))
            }
        });
        self.served.load()
    }
}

/// Listener settings.
#[derive(Clone, Debug)]
pub struct ListenConfig {
    /// Addresses to serve on, UDP and TCP each.
    pub listen: Vec<SocketAddr>,
    /// Threads reading each UDP socket (bounds in-flight UDP work).
    pub udp_workers: usize,
    /// Concurrent TCP connections across all listeners; more wait in the backlog.
    pub max_tcp_connections: usize,
    /// A TCP connection idle this long between messages is closed.
    pub tcp_idle_timeout: Duration,
    /// TCP connections one client address may hold at once.
    pub max_tcp_per_client: usize,
    /// How long one TCP connection may stay open, however busy.
    pub tcp_lifetime: Duration,
    /// Addresses to serve DNS over TLS on (TCP only; RFC 7858).
    pub tls_listen: Vec<SocketAddr>,
    /// Addresses to serve DNS over QUIC on (UDP; RFC 9250).
    pub quic_listen: Vec<SocketAddr>,
    /// The certificate for DoT and DoQ (re-read on SIGHUP by the daemon).
    pub tls: Option<Arc<tls::TlsCertificate>>,
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 5300))],
            udp_workers: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(1, 8),
            max_tcp_connections: 512,
            tcp_idle_timeout: Duration::from_secs(10),
            max_tcp_per_client: 32,
            tcp_lifetime: Duration::from_secs(300),
            tls_listen: Vec::new(),
            quic_listen: Vec::new(),
            tls: None,
        }
    }
}

/// A running server: its bound addresses, and the handle that stops it.
pub struct RunningServer {
    local_addrs: Vec<SocketAddr>,
    tls_addrs: Vec<SocketAddr>,
    quic_addrs: Vec<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// Binds every address (UDP and TCP) and starts serving `zones`.
    ///
    /// Port 0 binds an ephemeral port; the TCP listener then uses the port
    /// the UDP socket got, so one address serves both.
    pub async fn start(
        config: &ListenConfig,
        front: Arc<FrontEnd>,
    ) -> std::io::Result<RunningServer> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut local_addrs = Vec::new();
        let tcp_slots = Arc::new(Semaphore::new(config.max_tcp_connections.max(1)));
        let tcp_clients = Arc::new(tcp::ClientConnections::default());
        let tcp_limits = tcp::TcpLimits {
            idle_timeout: config.tcp_idle_timeout,
            per_client: config.max_tcp_per_client.max(1),
            lifetime: config.tcp_lifetime,
        };
        for addr in &config.listen {
            let (udp, tcp) = bind_pair(*addr).await?;
            let local = udp.local_addr()?;
            local_addrs.push(local);
            tasks.spawn(udp::spawn(
                udp,
                Arc::clone(&front),
                config.udp_workers,
                shutdown_rx.clone(),
            )?);
            tasks.spawn(tcp::serve(
                tcp,
                Arc::clone(&front),
                Arc::clone(&tcp_slots),
                Arc::clone(&tcp_clients),
                tcp_limits,
                None,
                shutdown_rx.clone(),
            ));
        }
        let mut tls_addrs = Vec::new();
        // TLS connections have their own caps: idle TLS clients filling the
        // limit must not keep plain TCP clients waiting (nor the reverse).
        let tls_slots = Arc::new(Semaphore::new(config.max_tcp_connections.max(1)));
        let tls_clients = Arc::new(tcp::ClientConnections::default());
        if let Some(tls) = &config.tls {
            for addr in &config.tls_listen {
                let listener = TcpListener::bind(addr).await?;
                tls_addrs.push(listener.local_addr()?);
                tasks.spawn(tcp::serve(
                    listener,
                    Arc::clone(&front),
                    Arc::clone(&tls_slots),
                    Arc::clone(&tls_clients),
                    tcp_limits,
                    Some(Arc::clone(tls)),
                    shutdown_rx.clone(),
                ));
            }
        }
        let mut quic_addrs = Vec::new();
        if let Some(tls) = &config.tls {
            let quic_slots = Arc::new(Semaphore::new(config.max_tcp_connections.max(1)));
            let quic_clients = Arc::new(tcp::ClientConnections::default());
            for addr in &config.quic_listen {
                let server_config = quic::server_config(&tls.current(), config.tcp_idle_timeout)
                    .map_err(std::io::Error::other)?;
                let endpoint = quinn::Endpoint::server(server_config, *addr)?;
                quic_addrs.push(endpoint.local_addr()?);
                tls.serve_quic(endpoint.clone(), config.tcp_idle_timeout);
                tasks.spawn(quic::serve(
                    endpoint,
                    Arc::clone(&front),
                    Arc::clone(&quic_slots),
                    Arc::clone(&quic_clients),
                    config.max_tcp_per_client.max(1),
                    config.tcp_idle_timeout,
                    shutdown_rx.clone(),
                ));
            }
        }
        Ok(RunningServer {
            local_addrs,
            tls_addrs,
            quic_addrs,
            shutdown,
            tasks,
        })
    }

    /// The addresses actually bound (ephemeral ports resolved).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The DNS-over-TLS addresses actually bound.
    pub fn tls_addrs(&self) -> &[SocketAddr] {
        &self.tls_addrs
    }

    /// The DNS-over-QUIC addresses actually bound.
    pub fn quic_addrs(&self) -> &[SocketAddr] {
        &self.quic_addrs
    }

    /// Stops accepting, lets in-flight answers finish (up to `grace`), and returns.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, drain).await.is_err() {
            self.tasks.abort_all();
        }
    }
}

/// Binds UDP and TCP on the same address; with port 0, on the same ephemeral port.
async fn bind_pair(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let attempts = if addr.port() == 0 { 16 } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(addr).await?;
        let bound = udp.local_addr()?;
        match TcpListener::bind(bound).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("cannot bind")))
}
