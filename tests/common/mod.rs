//! Helpers shared by the integration tests: temporary directories, free
//! loopback ports, server processes started in the foreground and stopped by
//! PID, and DNS queries over real UDP and TCP built and decoded with
//! hickory-proto.
//!
//! Every network target is 127.0.0.1; every wait is bounded in time and in
//! iterations.
//!
//! Use from a test file with `mod common;`.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

/// Path of the `fedns` binary cargo built for this test run.
pub fn fedns_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fedns"))
}

/// The loopback address with `port`.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

fn assert_loopback(addr: SocketAddr) {
    assert_eq!(
        addr.ip(),
        std::net::IpAddr::V4(Ipv4Addr::LOCALHOST),
        "tests only ever talk to 127.0.0.1, not {addr}"
    );
}

// ------------------------------------------------------------------ tempdir --

/// A fresh directory under the system temp dir, removed on drop (kept when
/// `FEDNS_KEEP_TMP` is set, for post-mortems).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("{prefix}-{}-{nanos:x}-{n}", std::process::id()));
            if fs::create_dir(&path).is_ok() {
                return TempDir { path };
            }
        }
        panic!("could not create a temporary directory for {prefix}");
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("FEDNS_KEEP_TMP").is_some() {
            eprintln!("keeping {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// -------------------------------------------------------------------- ports --

/// A loopback port that is free for both UDP and TCP right now.
///
/// Ports come from below the kernel's ephemeral range
/// (`net.ipv4.ip_local_port_range`, 32768 and up by default): the kernel hands
/// those out to every outgoing connection and every `bind(0)` on the machine,
/// so a port picked from there can be taken between this check and the
/// server's own bind (CI saw exactly that). Below it, only another test binary
/// choosing the same number could collide, and each process starts its walk at
/// a different point (its PID) to make that unlikely. A port is never handed
/// out twice in one test binary.
pub fn free_port() -> u16 {
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000; // 20000..32000, below the ephemeral range
    static NEXT: Mutex<Option<u32>> = Mutex::new(None);
    let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
    let mut offset = next.unwrap_or_else(|| (std::process::id() * 211) % SPAN);
    for _ in 0..SPAN {
        let port = (FIRST + offset) as u16;
        offset = (offset + 1) % SPAN;
        let addr = loopback(port);
        let free = UdpSocket::bind(addr).is_ok() && TcpListener::bind(addr).is_ok();
        if free {
            *next = Some(offset);
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}..{}", FIRST + SPAN);
}

// --------------------------------------------------------------- processes --

/// A server process running in the foreground. Dropping it stops it by PID:
/// SIGTERM, up to 5 s to exit, then SIGKILL.
pub struct ServerProcess {
    pub name: String,
    pub port: u16,
    pub log: PathBuf,
    child: Child,
}

impl ServerProcess {
    pub fn addr(&self) -> SocketAddr {
        loopback(self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `lines` lines of the server's stdout+stderr log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stop the process now (the same as dropping it).
    pub fn stop(mut self) {
        self.terminate();
    }

    /// Kill the process with SIGKILL, as a crash would, and reap it.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn terminate(&mut self) {
        if !self.is_running() {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !self.is_running() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} (pid {pid}) ignored SIGTERM for 5 s, killing", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.terminate();
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Start a server on a free loopback port and wait until it answers a SOA
/// query for `ready_zone` over UDP with NOERROR and the SOA in the answer.
///
/// `make_cmd(port)` returns the command line (it must stay in the
/// foreground). Its stdout and stderr go to `log_dir/NAME.log`. Up to three
/// ports are tried (a port can be taken between picking and binding); each
/// attempt waits at most `ready_timeout`.
pub fn start_server(
    name: &str,
    log_dir: &Path,
    ready_zone: &str,
    ready_timeout: Duration,
    make_cmd: impl Fn(u16) -> Command,
) -> Result<ServerProcess, String> {
    let zone = Name::from_ascii(ready_zone).map_err(|e| format!("bad zone {ready_zone}: {e}"))?;
    let mut errors = Vec::new();
    for attempt in 1..=3 {
        let port = free_port();
        let log = log_dir.join(format!("{name}.{attempt}.log"));
        let out = File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = make_cmd(port);
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {name} ({cmd:?}): {e}"))?;
        let mut server = ServerProcess {
            name: name.to_string(),
            port,
            log,
            child,
        };
        match wait_ready(&mut server, &zone, ready_timeout) {
            Ok(()) => return Ok(server),
            Err(e) => {
                errors.push(format!(
                    "attempt {attempt} on port {port}: {e}\n--- log tail ---\n{}",
                    server.log_tail(30)
                ));
                drop(server);
            }
        }
    }
    Err(format!("{name} did not start:\n{}", errors.join("\n")))
}

/// Wait (bounded by `timeout`) until `server` answers SOA for `zone`.
pub fn wait_ready(
    server: &mut ServerProcess,
    zone: &Name,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut last = String::from("no query sent");
    for _ in 0..10_000 {
        if !server.is_running() {
            return Err(format!("{} exited before answering ({last})", server.name));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} not answering SOA {zone} on {} after {timeout:?} ({last})",
                server.name,
                server.addr()
            ));
        }
        let q = make_query(zone, RecordType::SOA, Some(1232));
        match query_udp(server.addr(), &q, Duration::from_millis(300)) {
            Ok(r)
                if r.metadata.response_code == ResponseCode::NoError
                    && r.answers.iter().any(|a| a.record_type() == RecordType::SOA) =>
            {
                return Ok(());
            }
            Ok(r) => last = format!("answered {}", r.metadata.response_code),
            Err(e) => last = e,
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err("wait_ready: iteration bound reached".to_string())
}

/// Look for an executable in $PATH and in the sbin directories (which a
/// non-root PATH may lack).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in [
        "/usr/sbin",
        "/sbin",
        "/usr/local/sbin",
        "/usr/bin",
        "/usr/local/bin",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Whether `FEDNS_INTEROP` asks for the interop suites to be mandatory.
pub fn interop_required() -> bool {
    matches!(std::env::var("FEDNS_INTEROP"), Ok(v) if !v.is_empty() && v != "0")
}

// ------------------------------------------------------------------ knotd --

/// Write a minimal Knot DNS config serving `zones` (origin, master file) on
/// 127.0.0.1@port into `dir/knot-PORT/` (zone files are loaded whole, nothing
/// is written back).
pub fn write_knot_conf(dir: &Path, port: u16, zones: &[(String, PathBuf)]) -> PathBuf {
    let d = dir.join(format!("knot-{port}"));
    fs::create_dir_all(d.join("db")).expect("create knot dir");
    let mut conf = format!(
        "# minimal authoritative Knot DNS config (fedns tests)\n\
         server:\n    rundir: \"{d}\"\n    listen: 127.0.0.1@{port}\n\n\
         log:\n  - target: stderr\n    any: info\n\n\
         database:\n    storage: \"{db}\"\n\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    journal-content: none\n    \
         zonefile-sync: -1\n    zonefile-load: whole\n\nzone:\n",
        d = d.display(),
        db = d.join("db").display(),
    );
    for (origin, file) in zones {
        conf.push_str(&format!(
            "  - domain: {origin}\n    file: \"{}\"\n",
            file.display()
        ));
    }
    let path = d.join("knot.conf");
    fs::write(&path, conf).expect("write knot.conf");
    path
}

/// Start knotd in the foreground serving `zones`; ready once every zone
/// answers SOA.
pub fn start_knot(
    knotd: &Path,
    dir: &Path,
    name: &str,
    zones: &[(String, PathBuf)],
) -> Result<ServerProcess, String> {
    let first = zones
        .first()
        .map(|z| z.0.clone())
        .unwrap_or_else(|| ".".into());
    let mut server = start_server(name, dir, &first, Duration::from_secs(30), |port| {
        let conf = write_knot_conf(dir, port, zones);
        let mut c = Command::new(knotd);
        c.arg("-c").arg(conf);
        c
    })?;
    wait_all_zones(&mut server, zones.iter().map(|z| z.0.as_str()))?;
    Ok(server)
}

/// Start `fedns serve --zones DIR` on a free port; ready once every zone in
/// `zones` answers SOA.
pub fn start_fedns_dir(
    dir: &Path,
    zones_dir: &Path,
    zones: &[(String, PathBuf)],
) -> Result<ServerProcess, String> {
    let first = zones
        .first()
        .map(|z| z.0.clone())
        .unwrap_or_else(|| ".".into());
    let mut server = start_server("fedns", dir, &first, Duration::from_secs(30), |port| {
        let mut c = Command::new(fedns_bin());
        c.arg("serve")
            .arg("--zones")
            .arg(zones_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"));
        c
    })?;
    wait_all_zones(&mut server, zones.iter().map(|z| z.0.as_str()))?;
    Ok(server)
}

fn wait_all_zones<'a>(
    server: &mut ServerProcess,
    zones: impl Iterator<Item = &'a str>,
) -> Result<(), String> {
    for z in zones {
        let name = Name::from_ascii(z).map_err(|e| format!("bad zone {z}: {e}"))?;
        wait_ready(server, &name, Duration::from_secs(10))
            .map_err(|e| format!("{e}\n--- log tail ---\n{}", server.log_tail(30)))?;
    }
    Ok(())
}

// ------------------------------------------------------------------ queries --

/// A query for (name, type, IN), RD clear, with EDNS (version 0, DO clear,
/// the given UDP size) when `edns_size` is set.
pub fn make_query(name: &Name, rtype: RecordType, edns_size: Option<u16>) -> Message {
    let mut m = Message::new(next_id(), MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = false;
    m.add_query(Query::query(name.clone(), rtype));
    if let Some(size) = edns_size {
        let mut edns = Edns::new();
        edns.set_max_payload(size);
        edns.set_version(0);
        edns.set_dnssec_ok(false);
        m.set_edns(edns);
    }
    m
}

fn next_id() -> u16 {
    static ID: AtomicU32 = AtomicU32::new(0x1234);
    (ID.fetch_add(0x9e37, Ordering::Relaxed) & 0xffff) as u16
}

/// Send `query` over UDP to `addr` and wait up to `timeout` for the response
/// with the same ID (datagrams with other IDs are ignored, at most 16).
pub fn query_udp(addr: SocketAddr, query: &Message, timeout: Duration) -> Result<Message, String> {
    assert_loopback(addr);
    let wire = query.to_vec().map_err(|e| format!("encode: {e}"))?;
    let sock = UdpSocket::bind(loopback(0)).map_err(|e| format!("bind: {e}"))?;
    sock.connect(addr).map_err(|e| format!("connect: {e}"))?;
    sock.send(&wire).map_err(|e| format!("send: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65535];
    for _ in 0..16 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        sock.set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(e) => return Err(format!("recv from {addr}: {e}")),
        };
        if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == query.metadata.id {
            return Message::from_vec(&buf[..n]).map_err(|e| format!("decode ({n} bytes): {e}"));
        }
    }
    Err(format!("UDP timeout after {timeout:?} from {addr}"))
}

/// Send `query` over TCP (2-byte length framing) and read one response.
pub fn query_tcp(addr: SocketAddr, query: &Message, timeout: Duration) -> Result<Message, String> {
    assert_loopback(addr);
    let wire = query.to_vec().map_err(|e| format!("encode: {e}"))?;
    let len = u16::try_from(wire.len()).map_err(|_| "query too long".to_string())?;
    let mut s =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(&wire);
    s.write_all(&framed).map_err(|e| format!("send: {e}"))?;
    let mut lenbuf = [0u8; 2];
    s.read_exact(&mut lenbuf)
        .map_err(|e| format!("read length from {addr}: {e}"))?;
    let mut body = vec![0u8; u16::from_be_bytes(lenbuf) as usize];
    s.read_exact(&mut body)
        .map_err(|e| format!("read body from {addr}: {e}"))?;
    let m = Message::from_vec(&body).map_err(|e| format!("decode ({} bytes): {e}", body.len()))?;
    if m.metadata.id != query.metadata.id {
        return Err(format!(
            "TCP response id {} != query id {}",
            m.metadata.id, query.metadata.id
        ));
    }
    Ok(m)
}

/// `query_udp` with up to `tries` attempts.
pub fn query_udp_retry(
    addr: SocketAddr,
    query: &Message,
    timeout: Duration,
    tries: u32,
) -> Result<Message, String> {
    let mut last = String::new();
    for _ in 0..tries.max(1) {
        match query_udp(addr, query, timeout) {
            Ok(m) => return Ok(m),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Start a server on a port chosen beforehand (for servers that must know
/// each other's ports: a primary that notifies a secondary). No readiness
/// wait: the caller decides what "ready" means.
pub fn spawn_on_port(
    name: &str,
    log_dir: &Path,
    port: u16,
    mut cmd: Command,
) -> Result<ServerProcess, String> {
    let log = log_dir.join(format!("{name}.log"));
    let out = File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let child = cmd.spawn().map_err(|e| format!("cannot run {name}: {e}"))?;
    Ok(ServerProcess {
        name: name.to_string(),
        port,
        log,
        child,
    })
}

/// What `cmd` printed, stdout then stderr, run as [`output_within`] runs it:
/// for the clients whose words a test reads (dig, kdig).
pub fn printed_within(cmd: Command, limit: Duration) -> String {
    let out = output_within(cmd, limit);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd` to completion within `limit` (stdout and stderr captured);
/// past it, the process is killed by PID and the test fails with what it
/// printed so far. For clients (lego, certbot...) that could hang on a
/// peer.
pub fn output_within(mut cmd: Command, limit: Duration) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!(
        "fedns-output-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    fs::create_dir_all(&dir).expect("create a temporary directory");
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("create stdout file"))
        .stderr(File::create(&err_path).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let finished = wait_until(limit, || {
        child
            .try_wait()
            .map(|s| s.is_some())
            .map_err(|e| e.to_string())
    });
    if finished.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().expect("wait for the child");
    let output = std::process::Output {
        status,
        stdout: fs::read(&out_path).unwrap_or_default(),
        stderr: fs::read(&err_path).unwrap_or_default(),
    };
    let _ = fs::remove_dir_all(&dir);
    if let Err(e) = finished {
        panic!(
            "{cmd:?} did not finish: {e}\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// Runs `fedns serve` with `args` (a `--config FILE` among them) on
/// loopback `port`, logging to `log_dir/NAME.log`, and waits until it
/// answers the SOA of `zone`; fails the test with the log's tail otherwise.
pub fn serve_fedns(
    name: &str,
    log_dir: &Path,
    port: u16,
    args: &[&std::ffi::OsStr],
    zone: &str,
) -> ServerProcess {
    let mut c = Command::new(fedns_bin());
    c.arg("serve").args(args);
    let server = spawn_on_port(name, log_dir, port, c).unwrap_or_else(|e| panic!("{e}"));
    wait_until(Duration::from_secs(30), || {
        serial_at(port, zone).map(|_| true)
    })
    .unwrap_or_else(|e| panic!("{name} did not start: {e}\n{}", server.log_tail(30)));
    server
}

/// Polls `check` until it holds, bounded by `limit`: the one way a test
/// waits for a condition. The error names the limit and the last reason
/// the condition did not hold.
pub fn wait_until(
    limit: Duration,
    mut check: impl FnMut() -> Result<bool, String>,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        match check() {
            Ok(true) => return Ok(()),
            Ok(false) => last = "condition not met".into(),
            Err(e) => last = e,
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err(format!("not reached in {limit:?}: {last}"))
}

/// The text of `path` once `ready` holds for it, bounded by `limit`: a
/// secondary writes its disk copy after it serves the version in it.
pub fn file_when(path: &Path, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    wait_until(limit, || {
        text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(ready(&text))
    })
    .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
    text
}

/// The SOA serial the server on loopback `port` answers for `zone` over
/// UDP, or why it does not (no answer, an rcode other than NOERROR, no SOA).
pub fn serial_at(port: u16, zone: &str) -> Result<u32, String> {
    let zone = Name::from_ascii(zone).map_err(|e| format!("bad zone {zone}: {e}"))?;
    let m = query_udp(
        loopback(port),
        &make_query(&zone, RecordType::SOA, None),
        Duration::from_secs(2),
    )?;
    if m.metadata.response_code != hickory_proto::op::ResponseCode::NoError {
        return Err(format!("rcode {}", m.metadata.response_code));
    }
    m.answers
        .iter()
        .find_map(|r| match &r.data {
            hickory_proto::rr::RData::SOA(s) => Some(s.serial),
            _ => None,
        })
        .ok_or_else(|| "no SOA".to_string())
}

/// The peer program `program` (knotd, named, ...), or `None` with a
/// message when it is not installed; with `FEDNS_INTEROP=1` a missing peer
/// fails the test instead.
pub fn peer(program: &str) -> Option<PathBuf> {
    match find_program(program) {
        Some(p) => Some(p),
        None if interop_required() => panic!("FEDNS_INTEROP=1 but {program} is not installed"),
        None => {
            eprintln!("skipping: {program} not installed");
            None
        }
    }
}

/// Sends SIGHUP to a server we started (reload).
pub fn hup(p: &ServerProcess) {
    assert!(
        Command::new("kill")
            .args(["-HUP", &p.pid().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false),
        "kill -HUP {}",
        p.pid()
    );
}

/// A knot.conf for a Knot on 127.0.0.1@`port`, kept in `dir/knot-PORT/`
/// (its rundir, database and zone storage), in Knot's YAML: `before` comes
/// ahead of the default template (what it refers to: keys, ACLs),
/// `default_template` holds its settings beside `storage`, `after` the rest
/// (remotes, more templates, zones). Knot wants an id defined before use.
pub fn knot_conf(
    dir: &Path,
    port: u16,
    before: &str,
    default_template: &str,
    after: &str,
) -> PathBuf {
    let d = dir.join(format!("knot-{port}"));
    fs::create_dir_all(d.join("db")).expect("create the knot directory");
    let conf = format!(
        "server:\n    rundir: \"{d}\"\n    listen: 127.0.0.1@{port}\n\nlog:\n  - target: stderr\n    any: info\n\n\
         database:\n    storage: \"{d}/db\"\n\n{before}\n\
         template:\n  - id: default\n    storage: \"{d}\"\n{default_template}\n{after}",
        d = d.display()
    );
    let path = d.join("knot.conf");
    fs::write(&path, conf).expect("write knot.conf");
    path
}

/// Runs `fedns ctl --config CONFIG ARGS...` and returns its output.
pub fn fedns_ctl(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(fedns_bin())
        .arg("ctl")
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run fedns ctl")
}

/// `fedns ctl --format json`: the server's answer; fails the test when the
/// command does.
pub fn fedns_ctl_json(config: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = fedns_ctl(config, &all);
    assert!(
        out.status.success(),
        "fedns ctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("fedns ctl prints JSON")
}

// ------------------------------------------------------------------- HTTP --

/// Sends `request` (raw bytes) to loopback `port` and reads the whole
/// response, each read bounded by `timeout`.
pub fn http_exchange(port: u16, request: &[u8], timeout: Duration) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(loopback(port))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(request)?;
    let mut body = Vec::new();
    s.read_to_end(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// `GET path` on loopback `port`, waiting (with [`wait_until`]) for the
/// listener: metrics and dashboard bind just after the DNS sockets that
/// the readiness check uses.
pub fn http_get(port: u16, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let mut response = String::new();
    wait_until(Duration::from_secs(10), || {
        response = http_exchange(port, request.as_bytes(), Duration::from_secs(10))
            .map_err(|e| format!("GET {path} on port {port}: {e}"))?;
        Ok(!response.is_empty())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    response
}

// --------------------------------------------------------------- Chromium --

/// What headless Chromium made of a page.
pub struct BrowserView {
    /// The DOM after loading (`--dump-dom`).
    pub dom: String,
    /// Console messages (errors, CSP violations), one per line.
    pub console: Vec<String>,
    /// The screenshot written.
    pub screenshot: PathBuf,
}

/// Headless Chromium, or `None` when it is not installed (with
/// `FEDNS_INTEROP=1`, a missing Chromium fails the test).
pub fn chromium() -> Option<PathBuf> {
    find_program("chromium-browser").or_else(|| peer("chromium"))
}

/// Loads `url` in headless Chromium twice, bounded in time: once for the
/// DOM and the console, once for a `width`x`height` screenshot saved as
/// `dir/NAME.png`. Chromium gets a new empty profile (removed after) and no
/// background networking (this machine has no network beyond loopback).
pub fn browse(browser: &Path, url: &str, dir: &Path, name: &str, size: (u32, u32)) -> BrowserView {
    let profile_dir = TempDir::new("chromium-profile");
    let profile = profile_dir.path().to_path_buf();
    let base = |cmd: &mut Command| {
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    };
    let mut dump = Command::new(browser);
    base(&mut dump);
    dump.args(["--enable-logging=stderr", "--v=0", "--dump-dom", url]);
    let out = output_within(dump, Duration::from_secs(90));
    assert!(out.status.success(), "chromium --dump-dom {url} failed");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    let screenshot = dir.join(format!("{name}.png"));
    let mut shot = Command::new(browser);
    base(&mut shot);
    shot.arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(url);
    let out = output_within(shot, Duration::from_secs(90));
    assert!(
        out.status.success() && screenshot.is_file(),
        "chromium --screenshot {url} failed"
    );
    BrowserView {
        dom,
        console,
        screenshot,
    }
}
