//! UDP: a fixed set of threads per socket, each receiving, answering and
//! sending in turn, with no event loop on the hot path. The number of
//! threads bounds the work in flight, and a flood costs queue drops, not
//! memory.
//!
//! Why threads and not tokio tasks (issue 18): with the server pinned to
//! one core under dnsperf, about 85 % of its CPU per query is the kernel's
//! UDP path, and a readiness loop adds its own syscalls to every batch (an
//! `epoll_wait`, then a receive that comes back `EAGAIN` once the queue is
//! empty). A thread that blocks in the receive itself pays neither: it
//! sleeps in the kernel until a datagram comes and wakes with it. The
//! threads share the socket (the kernel wakes one sleeper per datagram),
//! so there is no handoff between threads per query either.
//!
//! On Linux a thread moves datagrams in batches: one `recvmmsg(2)` waits
//! for the first queued query and takes up to [`BATCH`] (`MSG_WAITFORONE`),
//! they are answered against one load of the zones, and one `sendmmsg(2)`
//! sends the answers. Elsewhere the plain loop (`serve_each`) runs.
//!
//! Shutdown: the task returned by [`spawn`] raises a flag and shuts the
//! socket's receive side down when the server stops (or when the task is
//! dropped), which wakes every sleeping thread on Linux; the socket's read
//! timeout ([`IDLE_WAKE`]) bounds the wait anywhere else.
//!
//! Every loop sends what [`answer`] decides for each datagram: the wire
//! layer's response ([`respond_with_keys_into`], or the NOTIFY handler's),
//! counted in the metrics and passed through response rate limiting when it
//! is configured. Nothing else is sent.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::rrl::{RrlAction, slipped};
use super::wire::{RequestKind, request_kind, respond_with_keys_into};
use super::{FrontEnd, ServedZones};
use crate::engine::Transport;

/// The largest datagram read (anything longer is not a DNS query we answer).
const MAX_DATAGRAM: usize = 65_535;

/// Datagrams taken by one `recvmmsg` (Linux). NSD reads up to 100; 32 keeps
/// the added latency of answering a batch before sending it near 30 us.
const BATCH: usize = 32;

/// The longest a receiving thread sleeps before it looks at the stop flag
/// again (on Linux the socket's shutdown wakes it at once).
const IDLE_WAKE: Duration = Duration::from_secs(1);

/// Starts `workers` threads serving `socket`; the returned future ends when
/// `shutdown` turns true (or its sender is gone) and every thread has
/// stopped and closed the socket. Dropping the future stops the threads too.
pub(super) fn spawn(
    socket: tokio::net::UdpSocket,
    front: Arc<FrontEnd>,
    workers: usize,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let socket = Arc::new(socket.into_std()?);
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(Some(IDLE_WAKE))?;
    let stop = Stop {
        flag: Arc::new(AtomicBool::new(false)),
        socket: Arc::clone(&socket),
    };
    // Worker threads enter the runtime, so what they call (an UPDATE handed
    // to the blocking pool, a NOTIFY waking a refresh) finds it.
    let runtime = tokio::runtime::Handle::current();
    let mut finished = Vec::with_capacity(workers);
    for i in 0..workers.max(1) {
        let (done, finished_rx) = oneshot::channel::<()>();
        let (socket, front, flag, runtime) = (
            Arc::clone(&socket),
            Arc::clone(&front),
            Arc::clone(&stop.flag),
            runtime.clone(),
        );
        let started = std::thread::Builder::new()
            .name(format!("fedns-udp-{i}"))
            .spawn(move || {
                let _runtime = runtime.enter();
                serve_thread(&socket, &front, &flag);
                // Closed before the stop is reported, so a stopped server
                // has released its port.
                drop(socket);
                let _ = done.send(());
            });
        if let Err(e) = started {
            stop.raise();
            return Err(e);
        }
        finished.push(finished_rx);
    }
    Ok(async move {
        while !*shutdown.borrow_and_update() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
        stop.raise();
        drop(stop);
        for thread in finished {
            let _ = thread.await;
        }
    })
}

/// Stops a socket's threads when raised or dropped.
struct Stop {
    flag: Arc<AtomicBool>,
    socket: Arc<UdpSocket>,
}

impl Stop {
    fn raise(&self) {
        if self.flag.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wakes the threads sleeping in a receive (Linux returns at once
        // from a shut-down socket; elsewhere IDLE_WAKE bounds the wait). The
        // call may report ENOTCONN for an unconnected UDP socket on Linux
        // after it has done so: the result says nothing useful.
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: shutdown(2) on a descriptor this struct keeps open.
            unsafe { libc::shutdown(self.socket.as_raw_fd(), libc::SHUT_RD) };
        }
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.raise();
    }
}

/// One thread's loop, until `stop` is raised.
fn serve_thread(socket: &Arc<UdpSocket>, front: &FrontEnd, stop: &AtomicBool) {
    #[cfg(target_os = "linux")]
    batched::serve(socket, front, stop);
    #[cfg(not(target_os = "linux"))]
    serve_each(socket, front, stop);
}

/// What to send for one datagram from `peer`, written into `out`; false
/// when nothing is to be sent. NOTIFY goes to the transfer side,
/// everything else (queries, and AXFR/IXFR, which the wire layer refuses
/// over UDP) to [`respond_with_keys_into`]; the answer is counted, then
/// passes response rate limiting when it is configured. `out` is the
/// thread's own buffer for this slot, kept from batch to batch, so a cached
/// answer costs no allocation.
///
/// A panic while answering one datagram (a bug: the fuzzers look for them)
/// is caught and logged with the peer, and that datagram goes unanswered;
/// it never takes the thread, and with it the socket, down.
fn answer(
    front: &FrontEnd,
    socket: &Arc<UdpSocket>,
    served: &ServedZones,
    datagram: &[u8],
    peer: impl Fn() -> Option<SocketAddr>,
    now: impl FnOnce() -> Instant,
    out: &mut Vec<u8>,
) -> bool {
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        answer_unguarded(front, socket, served, datagram, &peer, now, out)
    }));
    guarded.unwrap_or_else(|_| {
        tracing::error!(peer = ?peer(), "internal error answering a UDP query (please report it with the query); dropped");
        false
    })
}

fn answer_unguarded(
    front: &FrontEnd,
    socket: &Arc<UdpSocket>,
    served: &ServedZones,
    datagram: &[u8],
    peer: &impl Fn() -> Option<SocketAddr>,
    now: impl FnOnce() -> Instant,
    out: &mut Vec<u8>,
) -> bool {
    let answered = match request_kind(datagram) {
        RequestKind::Notify => match peer().and_then(|p| front.requests.notify(datagram, p)) {
            Some(response) => {
                *out = response;
                true
            }
            None => false,
        },
        RequestKind::Update => {
            if let Some(p) = peer() {
                update_in_background(front, socket, datagram, p);
            }
            return false;
        }
        RequestKind::Query | RequestKind::Transfer => respond_with_keys_into(
            served,
            &front.keys,
            &front.identity,
            peer().map(|p| p.ip()),
            datagram,
            Transport::Udp,
            out,
        ),
    };
    if !answered {
        return false;
    }
    front.metrics.count_query(Transport::Udp, datagram, out);
    let Some(limiter) = &front.rrl else {
        return true;
    };
    let Some(client) = peer() else {
        return true;
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
        return true;
    }
    match limiter.check(client.ip(), out, now()) {
        RrlAction::Send => true,
        RrlAction::Slip => {
            front.metrics.count_rate_limited(true);
            match slipped(out) {
                Some(truncated) => {
                    *out = truncated;
                    true
                }
                None => false,
            }
        }
        RrlAction::Drop => {
            front.metrics.count_rate_limited(false);
            false
        }
    }
}

/// Hands an UPDATE to a blocking task, which sends its response itself:
/// an update waits for the zone writer lock and an fsync, and the socket's
/// threads must not. Beyond [`super::MAX_UPDATES_IN_FLIGHT`] the datagram
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
    // The calling thread entered the runtime (see `spawn`).
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        if let Some(response) = requests.update(&request, peer) {
            let _ = socket.send_to(&response, peer);
        }
    });
}

/// The portable loop: one `recv_from`, one answer, one `send_to`.
#[cfg(not(target_os = "linux"))]
fn serve_each(socket: &Arc<UdpSocket>, front: &FrontEnd, stop: &AtomicBool) {
    use tracing::{debug, warn};
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let (len, peer) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            // A read timeout (IDLE_WAKE), an interrupted call, or an ICMP
            // error from an earlier send: look at the flag, keep serving.
            Err(e) => {
                debug!(error = %e, "udp receive");
                continue;
            }
        };
        let answered = answer(
            front,
            socket,
            &front.served(),
            &buf[..len],
            || Some(peer),
            Instant::now,
            &mut out,
        );
        if answered
            && let Err(e) = socket.send_to(&out, peer)
            && let Some(n) = front.log_limit.allow(peer.ip(), "udp-send", Instant::now())
        {
            warn!(%peer, error = %e, "udp send failed{}", crate::log_limit::suppressed_note(n));
        }
    }
}

#[cfg(target_os = "linux")]
mod batched {
    //! Blocking `recvmmsg`/`sendmmsg` on a socket shared by the threads.
    //!
    //! Each thread owns one [`Batch`]: the receive buffers, the answer
    //! buffers, and the `mmsghdr`/`iovec` arrays both syscalls read, set up
    //! once. The arrays hold raw pointers into the buffers, which live on
    //! the heap, never move and never grow, and the whole batch stays on
    //! the thread that made it (the raw pointers make it neither `Send` nor
    //! `Sync`). A receive resets one length per slot; a send fills in the
    //! entries of the answers it sends; nothing is allocated or zeroed per
    //! datagram (issue 18: the arrays were 5 KB of stores a batch).

    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::UdpSocket;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::{AsRawFd, RawFd};
    use std::ptr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    use tracing::{debug, warn};

    use super::{BATCH, MAX_DATAGRAM, answer};
    use crate::server::FrontEnd;

    /// One thread's datagrams: up to [`BATCH`] queries in, their answers out.
    struct Batch {
        /// `BATCH` slots of `MAX_DATAGRAM` bytes. Allocated zeroed in one
        /// block, so the kernel maps its pages only as datagrams touch them
        /// (a page or two per slot in use, not 2 MB).
        data: Vec<u8>,
        peers: Box<[libc::sockaddr_storage; BATCH]>,
        /// The answer of each slot, its buffer kept from batch to batch.
        answers: Vec<Vec<u8>>,
        /// The slots that have an answer to send, in order.
        ready: Vec<usize>,
        recv_iovecs: Box<[libc::iovec; BATCH]>,
        recv_headers: Box<[libc::mmsghdr; BATCH]>,
        send_iovecs: Box<[libc::iovec; BATCH]>,
        send_headers: Box<[libc::mmsghdr; BATCH]>,
    }

    impl Batch {
        fn new() -> Batch {
            // SAFETY (all four zeroed() calls): sockaddr_storage, iovec and
            // mmsghdr are plain integers and pointers; all-zero is valid.
            let mut batch = Batch {
                data: vec![0u8; BATCH * MAX_DATAGRAM],
                peers: Box::new(unsafe { zeroed() }),
                answers: vec![Vec::new(); BATCH],
                ready: Vec::with_capacity(BATCH),
                recv_iovecs: Box::new(unsafe { zeroed() }),
                recv_headers: Box::new(unsafe { zeroed() }),
                send_iovecs: Box::new(unsafe { zeroed() }),
                send_headers: Box::new(unsafe { zeroed() }),
            };
            let base = batch.data.as_mut_ptr();
            for i in 0..BATCH {
                batch.recv_iovecs[i] = libc::iovec {
                    // SAFETY: slot i lies inside `data` (BATCH * MAX_DATAGRAM bytes).
                    iov_base: unsafe { base.add(i * MAX_DATAGRAM) }.cast(),
                    iov_len: MAX_DATAGRAM,
                };
                let h = &mut batch.recv_headers[i].msg_hdr;
                h.msg_name = ptr::from_mut(&mut batch.peers[i]).cast();
                h.msg_iov = &mut batch.recv_iovecs[i];
                h.msg_iovlen = 1;
                let h = &mut batch.send_headers[i].msg_hdr;
                h.msg_iov = &mut batch.send_iovecs[i];
                h.msg_iovlen = 1;
            }
            batch
        }

        fn datagram(&self, i: usize) -> &[u8] {
            let len = self.recv_headers[i].msg_len as usize;
            &self.data[i * MAX_DATAGRAM..i * MAX_DATAGRAM + len.min(MAX_DATAGRAM)]
        }

        /// One `recvmmsg`: waits for the first datagram (up to the socket's
        /// read timeout), then takes what is queued behind it, and says how
        /// many datagrams it took.
        fn receive(&mut self, fd: RawFd) -> io::Result<usize> {
            for h in self.recv_headers.iter_mut() {
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            }
            // SAFETY: every header points at a live slot of `data`, a peer
            // address slot and an iovec of `self`, with their true sizes,
            // all set up in `new` and borrowed mutably for this call.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    self.recv_headers.as_mut_ptr(),
                    BATCH as _,
                    libc::MSG_WAITFORONE as _,
                    ptr::null_mut(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(n as usize)
        }

        /// One `sendmmsg` of the answers of `self.ready[from..]` to the
        /// peers of their slots: how many were sent (the first of the rest
        /// failed). It waits while the socket's send buffer is full.
        fn send(&mut self, fd: RawFd, from: usize) -> io::Result<usize> {
            let slots = self.ready.get(from..).unwrap_or_default();
            let count = slots.len().min(BATCH);
            for (i, &slot) in slots.iter().take(count).enumerate() {
                let answer = &self.answers[slot];
                self.send_iovecs[i].iov_base = answer.as_ptr().cast_mut().cast();
                self.send_iovecs[i].iov_len = answer.len();
                let h = &mut self.send_headers[i].msg_hdr;
                h.msg_name = ptr::from_ref(&self.peers[slot]).cast_mut().cast();
                h.msg_namelen = self.recv_headers[slot].msg_hdr.msg_namelen;
            }
            // SAFETY: the first `count` headers point at live answers and
            // peer addresses of `self`, which sendmmsg only reads.
            let n = unsafe { libc::sendmmsg(fd, self.send_headers.as_mut_ptr(), count as _, 0) };
            match n {
                n if n < 0 => Err(io::Error::last_os_error()),
                // Not expected for count > 0; never report progress that was not made.
                0 => Err(io::ErrorKind::WouldBlock.into()),
                n => Ok(n as usize),
            }
        }

        /// The peer in slot `i`, for logs and for the request handlers.
        fn peer(&self, i: usize) -> Option<SocketAddr> {
            let storage = &self.peers[i];
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
    }

    pub(super) fn serve(socket: &Arc<UdpSocket>, front: &FrontEnd, stop: &AtomicBool) {
        let fd = socket.as_raw_fd();
        let mut batch = Batch::new();
        while !stop.load(Ordering::Relaxed) {
            let received = match batch.receive(fd) {
                Ok(n) => n,
                // A read timeout (IDLE_WAKE), an interrupted call, or an ICMP
                // error from an earlier send: look at the flag, keep serving.
                Err(e) => {
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) {
                        debug!(error = %e, "udp receive error");
                    }
                    continue;
                }
            };
            if stop.load(Ordering::Relaxed) {
                return; // woken by the shutdown: what it returned is no query
            }
            {
                let served = front.served();
                // One clock read per batch, and only for rate limiting.
                let mut now = None;
                batch.ready.clear();
                for i in 0..received {
                    let mut out = std::mem::take(&mut batch.answers[i]);
                    let answered = answer(
                        front,
                        socket,
                        &served,
                        batch.datagram(i),
                        || batch.peer(i),
                        || *now.get_or_insert_with(Instant::now),
                        &mut out,
                    );
                    batch.answers[i] = out;
                    if answered {
                        batch.ready.push(i);
                    }
                }
            }
            let mut sent = 0;
            while sent < batch.ready.len() {
                match batch.send(fd, sent) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // This answer cannot go (bad peer address...): skip it, send the rest.
                        let p = batch.peer(batch.ready[sent]);
                        let ip = p.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.ip());
                        if let Some(n) = front.log_limit.allow(ip, "udp-send", Instant::now()) {
                            warn!(peer = ?p, error = %e, "udp send failed{}", crate::log_limit::suppressed_note(n));
                        }
                        sent += 1;
                    }
                }
            }
        }
    }
}
