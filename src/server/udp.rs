//! UDP: a fixed set of worker tasks per socket, each receiving, answering
//! and sending in turn. No task per packet: the number of workers bounds the
//! work in flight, and a flood costs queue drops, not memory.
//!
//! On Linux a worker moves datagrams in batches: one `recvmmsg(2)` takes up
//! to [`BATCH`] queued queries, they are answered against one load of the
//! zones, and one `sendmmsg(2)` sends the answers. Issue 6 measured it: with
//! the server pinned to one core under dnsperf, about 88 % of its CPU per
//! query is the kernel's UDP path; batching saves the per-datagram syscall
//! and reactor round trips (5.2 -> 4.8 us of server CPU per query at 10 000
//! hosts with the answer-cache changes; NSD 5.0 in the same runs). The
//! syscalls go through tokio's `try_io`, so readiness, shutdown and fairness
//! with the TCP tasks work as with `recv_from`/`send_to`; under light load a
//! batch is one datagram. Elsewhere the plain loop (`serve_each`) runs.
//!
//! Both loops send what [`answer`] decides for each datagram: the wire
//! layer's response ([`respond_with_keys`], or the NOTIFY handler's),
//! counted in the metrics and passed through response rate limiting when it
//! is configured. Nothing else is sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::watch;
#[cfg(not(target_os = "linux"))]
use tracing::{debug, warn};

use super::rrl::{RrlAction, slipped};
use super::wire::{RequestKind, request_kind, respond_with_keys};
use super::{FrontEnd, ServedZones};
use crate::engine::Transport;

/// The largest datagram read (anything longer is not a DNS query we answer).
const MAX_DATAGRAM: usize = 65_535;

/// Datagrams taken by one `recvmmsg` (Linux). NSD reads up to 100; 32 keeps
/// the added latency of answering a batch before sending it near 30 us.
const BATCH: usize = 32;

/// Serves one socket until `shutdown` turns true.
pub(super) async fn serve(
    socket: Arc<UdpSocket>,
    front: Arc<FrontEnd>,
    shutdown: watch::Receiver<bool>,
) {
    #[cfg(target_os = "linux")]
    batched::serve(socket, front, shutdown).await;
    #[cfg(not(target_os = "linux"))]
    serve_each(socket, front, shutdown).await;
}

/// What to send for one datagram from `peer`, if anything: NOTIFY goes to
/// the transfer side, everything else (queries, and AXFR/IXFR, which the
/// wire layer refuses over UDP) to [`respond_with_keys`]; the answer is
/// counted, then passes response rate limiting when it is configured.
///
/// A panic while answering one datagram (a bug: the fuzzers look for them)
/// is caught and logged with the peer, and that datagram goes unanswered;
/// it never takes the worker, and with it the socket, down.
fn answer(
    front: &FrontEnd,
    socket: &Arc<UdpSocket>,
    served: &ServedZones,
    datagram: &[u8],
    peer: impl Fn() -> Option<SocketAddr>,
    now: impl FnOnce() -> Instant,
) -> Option<Vec<u8>> {
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        answer_unguarded(front, socket, served, datagram, &peer, now)
    }));
    guarded.unwrap_or_else(|_| {
        tracing::error!(peer = ?peer(), "internal error answering a UDP query (please report it with the query); dropped");
        None
    })
}

fn answer_unguarded(
    front: &FrontEnd,
    socket: &Arc<UdpSocket>,
    served: &ServedZones,
    datagram: &[u8],
    peer: &impl Fn() -> Option<SocketAddr>,
    now: impl FnOnce() -> Instant,
) -> Option<Vec<u8>> {
    let response = match request_kind(datagram) {
        RequestKind::Notify => front.requests.notify(datagram, peer()?)?,
        RequestKind::Update => {
            update_in_background(front, socket, datagram, peer()?);
            return None;
        }
        RequestKind::Query | RequestKind::Transfer => respond_with_keys(
            served,
            &front.keys,
            &front.identity,
            peer().map(|p| p.ip()),
            datagram,
            Transport::Udp,
        )?,
    };
    front
        .metrics
        .count_query(Transport::Udp, datagram, &response);
    let Some(limiter) = &front.rrl else {
        return Some(response);
    };
    let Some(client) = peer() else {
        return Some(response);
    };
    // A client that returns our server cookie receives our answers at its
    // address: it is not spoofed, and rate limiting is for spoofed traffic.
    if let (Some(secrets), Some(cookie)) = (
        &front.identity.cookies,
        super::cookies::request_cookie(datagram),
    ) && matches!(
        super::cookies::check(
            cookie,
            client.ip(),
            secrets,
            crate::proto::clock::unix_now() as u32
        ),
        super::cookies::Cookie::Good { verified: true, .. }
    ) {
        return Some(response);
    }
    match limiter.check(client.ip(), &response, now()) {
        RrlAction::Send => Some(response),
        RrlAction::Slip => {
            front.metrics.count_rate_limited(true);
            slipped(&response)
        }
        RrlAction::Drop => {
            front.metrics.count_rate_limited(false);
            None
        }
    }
}

/// Hands an UPDATE to a blocking task, which sends its response itself:
/// an update waits for the zone writer lock and an fsync, and the socket's
/// workers must not. Beyond [`super::MAX_UPDATES_IN_FLIGHT`] the datagram
/// is dropped (counted), and the client retries as for a lost packet.
fn update_in_background(
    front: &FrontEnd,
    socket: &Arc<UdpSocket>,
    datagram: &[u8],
    peer: SocketAddr,
) {
    let Ok(slot) = Arc::clone(&front.update_slots).try_acquire_owned() else {
        front.metrics.count_refused("update-busy");
        return;
    };
    let requests = Arc::clone(&front.requests);
    let socket = Arc::clone(socket);
    let request = datagram.to_vec();
    tokio::spawn(async move {
        let _slot = slot;
        let response = tokio::task::spawn_blocking(move || requests.update(&request, peer))
            .await
            .ok()
            .flatten();
        if let Some(response) = response {
            let _ = socket.send_to(&response, peer).await;
        }
    });
}

/// The portable loop: one `recv_from`, one answer, one `send_to`.
#[cfg(not(target_os = "linux"))]
async fn serve_each(
    socket: Arc<UdpSocket>,
    front: Arc<FrontEnd>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, peer) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors from earlier sends surface here on some systems; keep serving.
                    debug!(error = %e, "udp receive error");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let response = answer(
            &front,
            &socket,
            &front.served(),
            &buf[..len],
            || Some(peer),
            Instant::now,
        );
        if let Some(response) = response
            && let Err(e) = socket.send_to(&response, peer).await
            && let Some(n) = front.log_limit.allow(peer.ip(), "udp-send", Instant::now())
        {
            warn!(%peer, error = %e, "udp send failed{}", crate::log_limit::suppressed_note(n));
        }
    }
}

#[cfg(target_os = "linux")]
mod batched {
    //! `recvmmsg`/`sendmmsg` through tokio's readiness (`try_io`).
    //!
    //! The `mmsghdr`/`iovec` arrays hold raw pointers into the buffers, so
    //! they are built on the stack inside each syscall call and never held
    //! across an `.await` (the task stays `Send`).

    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::{AsRawFd, RawFd};
    use std::ptr;
    use std::sync::Arc;

    use tokio::io::Interest;
    use tokio::net::UdpSocket;
    use tokio::sync::watch;
    use tracing::{debug, warn};

    use std::time::Instant;

    use super::{BATCH, MAX_DATAGRAM, answer};
    use crate::server::FrontEnd;

    /// Receive buffers and the peers of one batch.
    struct Batch {
        /// `BATCH` slots of `MAX_DATAGRAM` bytes. Allocated zeroed in one
        /// block, so the kernel maps its pages only as datagrams touch them
        /// (a page or two per slot in use, not 2 MB).
        data: Vec<u8>,
        peers: Vec<libc::sockaddr_storage>,
        peer_lens: Vec<libc::socklen_t>,
        lens: Vec<usize>,
    }

    impl Batch {
        fn new() -> Batch {
            Batch {
                data: vec![0u8; BATCH * MAX_DATAGRAM],
                // SAFETY: sockaddr_storage is plain integers; all-zero is valid.
                peers: vec![unsafe { zeroed() }; BATCH],
                peer_lens: vec![0; BATCH],
                lens: vec![0; BATCH],
            }
        }

        fn datagram(&self, i: usize) -> &[u8] {
            &self.data[i * MAX_DATAGRAM..i * MAX_DATAGRAM + self.lens[i]]
        }

        /// One `recvmmsg` without waiting: how many datagrams it took.
        fn receive(&mut self, fd: RawFd) -> io::Result<usize> {
            // SAFETY: all-zero iovec/mmsghdr are valid (null pointers, zero lengths).
            let mut iovecs: [libc::iovec; BATCH] = unsafe { zeroed() };
            let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
            let base = self.data.as_mut_ptr();
            for i in 0..BATCH {
                iovecs[i] = libc::iovec {
                    // SAFETY: slot i lies inside `data` (BATCH * MAX_DATAGRAM bytes).
                    iov_base: unsafe { base.add(i * MAX_DATAGRAM) }.cast(),
                    iov_len: MAX_DATAGRAM,
                };
                let h = &mut headers[i].msg_hdr;
                h.msg_name = ptr::from_mut(&mut self.peers[i]).cast();
                h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_iov = &mut iovecs[i];
                h.msg_iovlen = 1;
            }
            // SAFETY: every header points at a live buffer and address slot of
            // `self` with its true size, borrowed mutably for this call.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    BATCH as _,
                    libc::MSG_DONTWAIT as _,
                    ptr::null_mut(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = n as usize;
            for (i, h) in headers.iter().take(n).enumerate() {
                self.lens[i] = h.msg_len as usize;
                self.peer_lens[i] = h.msg_hdr.msg_namelen;
            }
            Ok(n)
        }
    }

    /// One `sendmmsg` without waiting of `answers` (slot, bytes) to the peers
    /// of their slots: how many were sent (the first of the rest failed, or
    /// the send buffer is full).
    fn send(fd: RawFd, batch: &Batch, answers: &[(usize, Vec<u8>)]) -> io::Result<usize> {
        // SAFETY: all-zero iovec/mmsghdr are valid (null pointers, zero lengths).
        let mut iovecs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let count = answers.len().min(BATCH);
        for (i, (slot, bytes)) in answers.iter().take(count).enumerate() {
            iovecs[i] = libc::iovec {
                iov_base: bytes.as_ptr().cast_mut().cast(),
                iov_len: bytes.len(),
            };
            let h = &mut headers[i].msg_hdr;
            h.msg_name = ptr::from_ref(&batch.peers[*slot]).cast_mut().cast();
            h.msg_namelen = batch.peer_lens[*slot];
            h.msg_iov = &mut iovecs[i];
            h.msg_iovlen = 1;
        }
        // SAFETY: the headers point at live answers and peer addresses, which
        // sendmmsg only reads.
        let n = unsafe {
            libc::sendmmsg(
                fd,
                headers.as_mut_ptr(),
                count as _,
                libc::MSG_DONTWAIT as _,
            )
        };
        match n {
            n if n < 0 => Err(io::Error::last_os_error()),
            // Not expected for count > 0; never report progress that was not made.
            0 => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n as usize),
        }
    }

    /// The peer in slot `i`, for logs.
    fn peer(batch: &Batch, i: usize) -> Option<SocketAddr> {
        let storage = &batch.peers[i];
        match i32::from(storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the kernel wrote a sockaddr_in (family AF_INET) here.
                let a: &libc::sockaddr_in = unsafe { &*ptr::from_ref(storage).cast() };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the kernel wrote a sockaddr_in6 (family AF_INET6) here.
                let a: &libc::sockaddr_in6 = unsafe { &*ptr::from_ref(storage).cast() };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(a.sin6_addr.s6_addr),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    pub(super) async fn serve(
        socket: Arc<UdpSocket>,
        front: Arc<FrontEnd>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let fd = socket.as_raw_fd();
        let mut batch = Batch::new();
        let mut answers: Vec<(usize, Vec<u8>)> = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                ready = socket.readable() => if let Err(e) = ready {
                    debug!(error = %e, "udp readiness error");
                    continue;
                },
                _ = shutdown.changed() => return,
            }
            let received = match socket.try_io(Interest::READABLE, || batch.receive(fd)) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    // ICMP errors from earlier sends surface here on some systems; keep serving.
                    debug!(error = %e, "udp receive error");
                    continue;
                }
            };
            {
                let served = front.served();
                // One clock read per batch, and only for rate limiting.
                let mut now = None;
                answers.extend((0..received).filter_map(|i| {
                    let now = || *now.get_or_insert_with(Instant::now);
                    answer(
                        &front,
                        &socket,
                        &served,
                        batch.datagram(i),
                        || peer(&batch, i),
                        now,
                    )
                    .map(|r| (i, r))
                }));
            }
            let mut sent = 0;
            while sent < answers.len() {
                match socket.try_io(Interest::WRITABLE, || send(fd, &batch, &answers[sent..])) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        tokio::select! {
                            _ = socket.writable() => {}
                            _ = shutdown.changed() => return,
                        }
                    }
                    Err(e) => {
                        // This answer cannot go (bad peer address...): skip it, send the rest.
                        let slot = answers[sent].0;
                        let p = peer(&batch, slot);
                        let ip = p.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.ip());
                        if let Some(n) =
                            front
                                .log_limit
                                .allow(ip, "udp-send", std::time::Instant::now())
                        {
                            warn!(peer = ?p, error = %e, "udp send failed{}", crate::log_limit::suppressed_note(n));
                        }
                        sent += 1;
                    }
                }
            }
            answers.clear();
        }
    }
}
