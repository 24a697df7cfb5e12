//! Dynamic updates (RFC 2136) over real sockets: BIND's `nsupdate` and
//! Knot's `knsupdate` with TSIG against `fedns serve`, the update policy,
//! the journal across restarts, `kill -9` and reloads of an edited file,
//! concurrent clients, and malformed or replayed messages.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use common::{
    ServerProcess, TempDir, free_port, hup, loopback, make_query, query_udp, serial_at,
    spawn_on_port, wait_until,
};
use fedns::proto::tsig::{TsigKey, sign_request, unix_now};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

const ACME_SECRET: &str = "h2sOGgwTDCAdkOiEo5Uqzd4z4LdDD4iHmk5R4A1fR7s=";
const ADMIN_SECRET: &str = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Lg==";
const WAIT: Duration = Duration::from_secs(20);

const ZONE: &str = "$ORIGIN example.org.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 300
@       IN NS  ns1
ns1     IN A   192.0.2.53
www     IN A   192.0.2.1
a.deep  IN A   192.0.2.2
";

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

/// A fedns primary of example.org with two keys: `acme-key` may change
/// `_acme-challenge` TXT records only, `admin-key` anything.
struct Lab {
    dir: TempDir,
    port: u16,
    config: PathBuf,
    zone_file: PathBuf,
    server: Option<ServerProcess>,
}

impl Lab {
    fn new(prefix: &str) -> Lab {
        Lab::notifying(prefix, None)
    }

    /// A lab whose primary sends NOTIFY to 127.0.0.1:`notify`.
    fn notifying(prefix: &str, notify: Option<u16>) -> Lab {
        let dir = TempDir::new(prefix);
        let port = free_port();
        let notify = notify
            .map(|p| format!("notify = [\"127.0.0.1:{p}\"]\n"))
            .unwrap_or_default();
        let zone_file = dir.path().join("example.org.zone");
        fs::write(&zone_file, ZONE).unwrap();
        let config = dir.path().join("fedns.toml");
        fs::write(
            &config,
            format!(
                "listen = [\"127.0.0.1:{port}\"]\ndata_dir = \"data\"\n\
                 [[tsig_key]]\nname = \"acme-key\"\nsecret = \"{ACME_SECRET}\"\n\
                 [[tsig_key]]\nname = \"admin-key\"\nsecret = \"{ADMIN_SECRET}\"\n\
                 [transfer]\nallow = [\"127.0.0.0/8\"]\n{notify}\
                 [[zone]]\nname = \"example.org\"\nfile = \"example.org.zone\"\n\
                 [[zone.update]]\nkey = \"acme-key\"\nnames = [\"_acme-challenge.*\"]\ntypes = [\"TXT\"]\n\
                 [[zone.update]]\nkey = \"admin-key\"\nnames = [\"*\"]\n"
            ),
        )
        .unwrap();
        let mut lab = Lab {
            dir,
            port,
            config,
            zone_file,
            server: None,
        };
        lab.start();
        lab
    }

    fn start(&mut self) {
        let n = fs::read_dir(self.dir.path()).unwrap().count();
        let server = common::serve_fedns(
            &format!("fedns-{n}"),
            self.dir.path(),
            self.port,
            &["--config".as_ref(), self.config.as_os_str()],
            "example.org.",
        );
        self.server = Some(server);
    }

    fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }

    fn log(&self) -> String {
        self.server
            .as_ref()
            .map(|s| s.log_tail(200))
            .unwrap_or_default()
    }

    fn serial(&self) -> u32 {
        serial_at(self.port, "example.org.").unwrap()
    }

    /// The records of `rtype` at `owner`, as text, sorted.
    fn lookup(&self, owner: &str, rtype: RecordType) -> Vec<String> {
        let r = query_udp(
            loopback(self.port),
            &make_query(&name(owner), rtype, Some(1232)),
            Duration::from_secs(2),
        )
        .unwrap();
        let mut out: Vec<String> = r
            .answers
            .iter()
            .filter(|a| a.record_type() == rtype)
            .map(|a| a.data.to_string())
            .collect();
        out.sort();
        out
    }
}

/// Runs `command` (nsupdate or knsupdate, with its options) with `key` on
/// `script`, after `server` and `zone` lines for the lab: whether the
/// update succeeded (knsupdate exits 0 even when one failed, so the
/// printed rcode counts too) and everything it printed.
fn run_update_tool(
    command: &[&str],
    port: u16,
    key: Option<(&str, &str)>,
    script: &str,
) -> (bool, String) {
    let mut c = Command::new(command[0]);
    c.args(&command[1..]);
    if let Some((k, secret)) = key {
        c.arg("-y").arg(format!("hmac-sha256:{k}:{secret}"));
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    let full = format!("server 127.0.0.1 {port}\nzone example.org.\n{script}\nquit\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(full.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let failed = text.contains("update failed") || text.contains("error");
    (out.status.success() && !failed, text)
}

fn acme() -> Option<(&'static str, &'static str)> {
    Some(("acme-key", ACME_SECRET))
}

fn admin() -> Option<(&'static str, &'static str)> {
    Some(("admin-key", ADMIN_SECRET))
}

#[test]
fn nsupdate_adds_deletes_and_meets_the_policy_and_the_prerequisites() {
    let Some(nsupdate) = common::peer("nsupdate") else {
        return;
    };
    let nsupdate = nsupdate.to_str().unwrap().to_string();
    let lab = Lab::new("update-nsupdate");
    let run = |key, script: &str| run_update_tool(&[&nsupdate], lab.port, key, script);

    // The ACME key writes its challenge: NOERROR, the serial moves by one.
    let (ok, out) = run(
        acme(),
        "update add _acme-challenge.example.org. 60 TXT \"token-1\"\nsend",
    );
    assert!(ok, "{out}\n{}", lab.log());
    assert_eq!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT),
        vec!["token-1"]
    );
    assert_eq!(lab.serial(), 2);
    // The same add again changes nothing (a duplicate), so no new serial.
    let (ok, out) = run(
        acme(),
        "update add _acme-challenge.example.org. 60 TXT \"token-1\"\nsend",
    );
    assert!(ok, "{out}");
    assert_eq!(lab.serial(), 2);

    // Outside its policy: another type, another name. REFUSED, nothing changes.
    for script in [
        "update add www.example.org. 60 A 192.0.2.99\nsend",
        "update add _acme-challenge.example.org. 60 CAA 0 issue \"ca.example.net\"\nsend",
        "update delete www.example.org. A\nsend",
    ] {
        let (ok, out) = run(acme(), script);
        assert!(!ok && out.contains("REFUSED"), "{script}: {out}");
    }
    // Unsigned, and signed with a wrong secret.
    let (ok, out) = run(None, "update add x.example.org. 60 A 192.0.2.9\nsend");
    assert!(!ok && out.contains("REFUSED"), "unsigned: {out}");
    let wrong = Some(("acme-key", ADMIN_SECRET));
    let (ok, out) = run(
        wrong,
        "update add _acme-challenge.example.org. 60 TXT \"x\"\nsend",
    );
    assert!(!ok, "bad signature accepted: {out}");
    assert_eq!(lab.serial(), 2);
    assert_eq!(
        lab.lookup("www.example.org.", RecordType::A),
        vec!["192.0.2.1"]
    );

    // Prerequisites that fail, with the codes nsupdate reports.
    for (script, code) in [
        (
            "prereq nxdomain www.example.org.\nupdate add y.example.org. 60 A 192.0.2.9\nsend",
            "YXDOMAIN",
        ),
        (
            "prereq yxdomain nope.example.org.\nupdate add y.example.org. 60 A 192.0.2.9\nsend",
            "NXDOMAIN",
        ),
        (
            "prereq yxrrset www.example.org. TXT\nupdate add y.example.org. 60 A 192.0.2.9\nsend",
            "NXRRSET",
        ),
        (
            "prereq nxrrset www.example.org. A\nupdate add y.example.org. 60 A 192.0.2.9\nsend",
            "YXRRSET",
        ),
        (
            "prereq yxrrset www.example.org. A 192.0.2.7\nupdate add y.example.org. 60 A 192.0.2.9\nsend",
            "NXRRSET",
        ),
    ] {
        let (ok, out) = run(admin(), script);
        assert!(
            !ok && out.contains(code),
            "{script}: want {code}, got {out}"
        );
    }
    assert!(lab.lookup("y.example.org.", RecordType::A).is_empty());
    // A value-dependent prerequisite that holds.
    let (ok, out) = run(
        admin(),
        "prereq yxrrset www.example.org. A 192.0.2.1\nupdate delete www.example.org. A\nupdate add www.example.org. 60 A 192.0.2.5\nsend",
    );
    assert!(ok, "{out}");
    assert_eq!(
        lab.lookup("www.example.org.", RecordType::A),
        vec!["192.0.2.5"]
    );

    // The zone is protected: the apex SOA and NS stay, CNAME beside data
    // is ignored, and a change that breaks the zone is refused whole.
    let (ok, out) = run(
        admin(),
        "update delete example.org. SOA\nupdate delete example.org. NS\nupdate add www.example.org. 60 CNAME elsewhere.example.net.\nsend",
    );
    assert!(ok, "{out}");
    assert_eq!(
        lab.lookup("example.org.", RecordType::NS),
        vec!["ns1.example.org."]
    );
    assert_eq!(
        lab.lookup("www.example.org.", RecordType::A),
        vec!["192.0.2.5"]
    );
    let before = lab.serial();
    let (ok, out) = run(
        admin(),
        "update add z.example.org. 60 A 192.0.2.10\nupdate add deep.example.org. 60 DNAME target.example.net.\nsend",
    );
    assert!(!ok && out.contains("REFUSED"), "DNAME above a name: {out}");
    assert!(
        lab.lookup("z.example.org.", RecordType::A).is_empty(),
        "half applied"
    );
    assert_eq!(lab.serial(), before);

    // A zone we do not serve.
    let (ok, out) = run(
        admin(),
        "zone example.net\nupdate add x.example.net. 60 A 192.0.2.1\nsend",
    );
    assert!(!ok && out.contains("NOTAUTH"), "{out}");

    // Delete by value, then the RRset.
    let (ok, out) = run(
        acme(),
        "update add _acme-challenge.example.org. 60 TXT \"token-2\"\nupdate delete _acme-challenge.example.org. TXT \"token-1\"\nsend",
    );
    assert!(ok, "{out}");
    assert_eq!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT),
        vec!["token-2"]
    );
    let (ok, out) = run(
        acme(),
        "update delete _acme-challenge.example.org. TXT\nsend",
    );
    assert!(ok, "{out}");
    assert!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT)
            .is_empty()
    );
    // Refusals were logged with the peer and the key.
    let log = lab.log();
    assert!(
        log.contains("key acme-key") && log.contains("127.0.0.1"),
        "{log}"
    );
}

#[test]
fn knsupdate_over_tcp_and_udp() {
    let Some(knsupdate) = common::peer("knsupdate") else {
        return;
    };
    let knsupdate = knsupdate.to_str().unwrap().to_string();
    let lab = Lab::new("update-knsupdate");
    // UDP, then TCP (-v).
    for (i, command) in [vec![knsupdate.as_str()], vec![knsupdate.as_str(), "-v"]]
        .iter()
        .enumerate()
    {
        let script = format!("update add _acme-challenge.www.example.org. 60 TXT \"k{i}\"\nsend");
        let (ok, out) = run_update_tool(command, lab.port, acme(), &script);
        assert!(ok, "{out}\n{}", lab.log());
    }
    assert_eq!(
        lab.lookup("_acme-challenge.www.example.org.", RecordType::TXT),
        vec!["k0", "k1"]
    );
    let (ok, out) = run_update_tool(
        &[&knsupdate],
        lab.port,
        acme(),
        "update add www.example.org. 60 TXT \"no\"\nsend",
    );
    assert!(!ok && out.contains("REFUSED"), "{out}");
    let (ok, out) = run_update_tool(
        &[&knsupdate],
        lab.port,
        admin(),
        "prereq nxdomain www.example.org.\nupdate add q.example.org. 60 A 192.0.2.1\nsend",
    );
    assert!(!ok && out.contains("YXDOMAIN"), "{out}");
}

// ------------------------------------------------- a client of our own --

fn key(name: &str, secret: &str) -> TsigKey {
    TsigKey::new(name, "hmac-sha256", secret).unwrap()
}

/// An UPDATE message for example.org: `prerequisites`, then `updates`,
/// signed with `key` at `time` when given.
fn update_message(
    id: u16,
    prerequisites: Vec<Record>,
    updates: Vec<Record>,
    key: Option<&TsigKey>,
    time: u64,
) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Update);
    let mut zone = Query::query(name("example.org."), RecordType::SOA);
    zone.set_query_class(DNSClass::IN);
    m.queries.push(zone);
    m.answers = prerequisites;
    m.authorities = updates;
    let mut bytes = m.to_vec().unwrap();
    if let Some(key) = key {
        sign_request(&mut bytes, key, time);
    }
    bytes
}

fn txt_add(owner: &str, text: &str) -> Record {
    Record::from_rdata(name(owner), 60, RData::TXT(TXT::new(vec![text.into()])))
}

/// One request over a TCP connection: the response's rcode (extended by a
/// TSIG error when there is one: hickory puts it in the rcode).
fn exchange(stream: &mut TcpStream, bytes: &[u8]) -> Result<Message, String> {
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).map_err(|e| e.to_string())?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).map_err(|e| e.to_string())?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).map_err(|e| e.to_string())?;
    Message::from_vec(&body).map_err(|e| e.to_string())
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(loopback(port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn a_thousand_updates_survive_a_restart_and_a_kill_loses_none_acknowledged() {
    let mut lab = Lab::new("update-journal");
    let acme = key("acme-key", ACME_SECRET);
    let mut stream = connect(lab.port);
    for i in 0..1000u32 {
        let bytes = update_message(
            i as u16,
            vec![],
            vec![txt_add(&format!("_acme-challenge.h{i}.example.org."), "t")],
            Some(&acme),
            unix_now(),
        );
        let r = exchange(&mut stream, &bytes).unwrap();
        assert_eq!(
            r.metadata.response_code,
            ResponseCode::NoError,
            "update {i}"
        );
        assert_eq!(r.metadata.op_code, OpCode::Update);
    }
    drop(stream);
    assert_eq!(lab.serial(), 1001);
    lab.stop();
    lab.start();
    assert_eq!(lab.serial(), 1001, "{}", lab.log());
    for i in 0..1000 {
        assert_eq!(
            lab.lookup(
                &format!("_acme-challenge.h{i}.example.org."),
                RecordType::TXT
            ),
            vec!["t"]
        );
    }

    // A burst from another thread; SIGKILL in the middle of it.
    let acknowledged = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let burst = {
        let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
        let port = lab.port;
        thread::spawn(move || {
            let acme = key("acme-key", ACME_SECRET);
            let mut stream = connect(port);
            for i in 0..5000u32 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let bytes = update_message(
                    i as u16,
                    vec![],
                    vec![txt_add(&format!("_acme-challenge.k{i}.example.org."), "k")],
                    Some(&acme),
                    unix_now(),
                );
                match exchange(&mut stream, &bytes) {
                    Ok(r) if r.metadata.response_code == ResponseCode::NoError => {
                        acknowledged.store(i + 1, Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
        })
    };
    wait_until(WAIT, || Ok(acknowledged.load(Ordering::SeqCst) >= 50)).unwrap();
    lab.server.take().unwrap().kill_hard();
    stop.store(true, Ordering::SeqCst);
    burst.join().unwrap();
    let acked = acknowledged.load(Ordering::SeqCst);
    lab.start();
    for i in 0..acked {
        assert_eq!(
            lab.lookup(
                &format!("_acme-challenge.k{i}.example.org."),
                RecordType::TXT
            ),
            vec!["k"],
            "update {i} of {acked} acknowledged before the kill is lost\n{}",
            lab.log()
        );
    }
    assert!(lab.serial() >= 1001 + acked);
}

#[test]
fn a_reload_merges_the_edited_file_with_the_updates_or_refuses_a_conflict() {
    let mut lab = Lab::new("update-reload");
    let acme = key("acme-key", ACME_SECRET);
    let admin = key("admin-key", ADMIN_SECRET);
    let port = lab.port;
    let send = |k: &TsigKey, updates: Vec<Record>| {
        let r = exchange(
            &mut connect(port),
            &update_message(7, vec![], updates, Some(k), unix_now()),
        )
        .unwrap();
        r.metadata.response_code
    };
    assert_eq!(
        send(&acme, vec![txt_add("_acme-challenge.example.org.", "u1")]),
        ResponseCode::NoError
    );
    assert_eq!(lab.serial(), 2);

    // 1. The file unchanged: a reload keeps the update.
    hup(lab.server.as_ref().unwrap());
    wait_until(WAIT, || Ok(lab.log().contains("applied on top of"))).unwrap();
    assert_eq!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT),
        vec!["u1"]
    );
    assert_eq!(lab.serial(), 2);

    // 2. A person edits www (the serial left at 1): both changes are served,
    //    under a serial above both.
    fs::write(&lab.zone_file, ZONE.replace("192.0.2.1", "192.0.2.111")).unwrap();
    hup(lab.server.as_ref().unwrap());
    wait_until(WAIT, || {
        Ok(lab.lookup("www.example.org.", RecordType::A) == vec!["192.0.2.111"])
    })
    .unwrap();
    assert_eq!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT),
        vec!["u1"]
    );
    assert_eq!(lab.serial(), 3);
    // ... and it survives a restart (the journal was rebased on the new file).
    lab.stop();
    lab.start();
    assert_eq!(lab.serial(), 3, "{}", lab.log());
    assert_eq!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT),
        vec!["u1"]
    );

    // 3. An edit that conflicts with the updates (a CNAME where an update
    //    put a TXT): the reload is refused and everything keeps serving.
    fs::write(
        &lab.zone_file,
        format!(
            "{}_acme-challenge IN CNAME elsewhere.example.net.\n",
            ZONE.replace("192.0.2.1", "192.0.2.111")
        ),
    )
    .unwrap();
    hup(lab.server.as_ref().unwrap());
    wait_until(WAIT, || Ok(lab.log().contains("conflict with the"))).unwrap();
    assert_eq!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT),
        vec!["u1"]
    );
    assert_eq!(lab.serial(), 3);
    // Updates still work meanwhile.
    assert_eq!(
        send(
            &admin,
            vec![Record::from_rdata(
                name("new.example.org."),
                60,
                RData::A(A::new(192, 0, 2, 77))
            )]
        ),
        ResponseCode::NoError
    );

    // 4. The way out: export the served zone (file + journal), make it the
    //    file; the reload finds the file holds every update and drops the
    //    journal.
    let export = Command::new(common::fedns_bin())
        .args(["zone", "export", "--data-dir"])
        .arg(lab.dir.path().join("data"))
        .arg(&lab.zone_file)
        .output()
        .unwrap();
    assert!(
        !export.status.success(),
        "the conflicting file must not export: {}",
        String::from_utf8_lossy(&export.stdout)
    );
    fs::write(&lab.zone_file, ZONE.replace("192.0.2.1", "192.0.2.111")).unwrap();
    let exported = lab.dir.path().join("exported.zone");
    let export = Command::new(common::fedns_bin())
        .args(["zone", "export", "--data-dir"])
        .arg(lab.dir.path().join("data"))
        .arg(&lab.zone_file)
        .arg("-o")
        .arg(&exported)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let text = fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("new.example.org.") && text.contains("\"u1\""),
        "{text}"
    );
    fs::copy(&exported, &lab.zone_file).unwrap();
    hup(lab.server.as_ref().unwrap());
    wait_until(WAIT, || Ok(lab.log().contains("journal removed"))).unwrap();
    assert!(!journal_file(lab.dir.path()).exists());
    assert_eq!(
        lab.lookup("new.example.org.", RecordType::A),
        vec!["192.0.2.77"]
    );
}

fn journal_file(dir: &Path) -> PathBuf {
    dir.join("data").join("journal").join("example.org.jnl")
}

#[test]
fn concurrent_clients_are_serialised_and_none_is_lost() {
    let lab = Lab::new("update-concurrent");
    let port = lab.port;
    let clients: Vec<_> = (0..2)
        .map(|c| {
            thread::spawn(move || {
                let acme = key("acme-key", ACME_SECRET);
                let mut stream = connect(port);
                for i in 0..100u32 {
                    let bytes = update_message(
                        i as u16,
                        vec![],
                        vec![txt_add(
                            &format!("_acme-challenge.c{c}-{i}.example.org."),
                            "x",
                        )],
                        Some(&acme),
                        unix_now(),
                    );
                    let r = exchange(&mut stream, &bytes).unwrap();
                    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(lab.serial(), 201);
    for c in 0..2 {
        for i in [0, 57, 99] {
            assert_eq!(
                lab.lookup(
                    &format!("_acme-challenge.c{c}-{i}.example.org."),
                    RecordType::TXT
                ),
                vec!["x"]
            );
        }
    }
}

#[test]
fn malformed_replayed_and_misdirected_updates_change_nothing() {
    let lab = Lab::new("update-bad");
    let acme = key("acme-key", ACME_SECRET);
    let good = update_message(
        1,
        vec![],
        vec![txt_add("_acme-challenge.example.org.", "g")],
        Some(&acme),
        unix_now(),
    );
    let rcode = |bytes: &[u8]| -> Option<ResponseCode> {
        exchange(&mut connect(lab.port), bytes)
            .ok()
            .map(|m| m.metadata.response_code)
    };
    // Truncated anywhere: FORMERR or no answer, never a change.
    for cut in [5, 12, 20, good.len() / 2, good.len() - 3] {
        let r = rcode(&good[..cut]);
        assert!(
            matches!(r, None | Some(ResponseCode::FormErr)),
            "cut at {cut}: {r:?}"
        );
    }
    // A zone section of type A; two zones.
    let mut m = Message::from_vec(&update_message(2, vec![], vec![], None, 0)).unwrap();
    m.queries[0].set_query_type(RecordType::A);
    assert_eq!(rcode(&m.to_vec().unwrap()), Some(ResponseCode::FormErr));
    let mut m = Message::from_vec(&update_message(3, vec![], vec![], None, 0)).unwrap();
    let q = m.queries[0].clone();
    m.queries.push(q);
    assert_eq!(rcode(&m.to_vec().unwrap()), Some(ResponseCode::FormErr));
    // A prerequisite of class CH, one with a TTL.
    let mut p = txt_add("www.example.org.", "x");
    p.dns_class = DNSClass::CH;
    p.ttl = 0;
    let bytes = update_message(4, vec![p.clone()], vec![], Some(&acme), unix_now());
    assert_eq!(rcode(&bytes), Some(ResponseCode::FormErr));
    p.dns_class = DNSClass::IN;
    p.ttl = 60;
    let bytes = update_message(5, vec![p], vec![], Some(&acme), unix_now());
    assert_eq!(rcode(&bytes), Some(ResponseCode::FormErr));
    // Over the record limit.
    let many: Vec<Record> = (0..1001)
        .map(|i| txt_add(&format!("_acme-challenge.m{i}.example.org."), "m"))
        .collect();
    let bytes = update_message(6, vec![], many, Some(&acme), unix_now());
    assert_eq!(rcode(&bytes), Some(ResponseCode::FormErr));
    // Signed an hour ago: a replay. NOTAUTH (BADTIME).
    let old = update_message(
        7,
        vec![],
        vec![txt_add("_acme-challenge.example.org.", "replayed")],
        Some(&acme),
        unix_now() - 3600,
    );
    assert_eq!(rcode(&old), Some(ResponseCode::NotAuth));
    // Unsigned.
    let unsigned = update_message(
        8,
        vec![],
        vec![txt_add("_acme-challenge.example.org.", "u")],
        None,
        0,
    );
    assert_eq!(rcode(&unsigned), Some(ResponseCode::Refused));
    assert_eq!(lab.serial(), 1, "{}", lab.log());
    assert!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT)
            .is_empty()
    );
    // The good one still works, over UDP too.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.send_to(&good, loopback(lab.port)).unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    let r = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(lab.serial(), 2);
    // A response is never answered.
    let mut response = good.clone();
    response[2] |= 0x80;
    assert_eq!(rcode(&response), None);
}

#[test]
fn a_secondary_forwards_updates_to_its_primary_or_refuses_them() {
    let lab = Lab::new("update-forward");
    let dir = TempDir::new("update-forward-secondary");
    let port = free_port();
    let refusing_port = free_port();
    // Two secondaries of the lab's primary: one forwards, one does not.
    let mut servers = Vec::new();
    for (p, forward) in [(port, true), (refusing_port, false)] {
        let config = dir.path().join(format!("secondary-{p}.toml"));
        fs::write(
            &config,
            format!(
                "listen = [\"127.0.0.1:{p}\"]\ndata_dir = \"data-{p}\"\n\
                 [[zone]]\nname = \"example.org\"\nprimaries = [\"127.0.0.1:{}\"]\nforward_updates = {forward}\n",
                lab.port
            ),
        )
        .unwrap();
        let mut c = Command::new(common::fedns_bin());
        c.arg("serve").arg("--config").arg(&config);
        servers.push(spawn_on_port(&format!("secondary-{p}"), dir.path(), p, c).unwrap());
        wait_until(WAIT, || serial_at(p, "example.org.").map(|s| s == 1)).unwrap();
    }
    let acme = key("acme-key", ACME_SECRET);
    let bytes = update_message(
        9,
        vec![],
        vec![txt_add("_acme-challenge.example.org.", "via-secondary")],
        Some(&acme),
        unix_now(),
    );
    let r = exchange(&mut connect(refusing_port), &bytes).unwrap();
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    assert_eq!(lab.serial(), 1);
    let r = exchange(&mut connect(port), &bytes).unwrap();
    assert_eq!(
        r.metadata.response_code,
        ResponseCode::NoError,
        "{}",
        servers[0].log_tail(20)
    );
    assert_eq!(r.metadata.id, 9);
    assert_eq!(lab.serial(), 2);
    assert_eq!(
        lab.lookup("_acme-challenge.example.org.", RecordType::TXT),
        vec!["via-secondary"]
    );
}

#[test]
fn a_knot_secondary_gets_every_update_by_ixfr() {
    let Some(knotd) = common::peer("knotd") else {
        return;
    };
    let knot_port = free_port();
    let lab = Lab::notifying("update-knot", Some(knot_port));
    let conf = common::knot_conf(
        lab.dir.path(),
        knot_port,
        "",
        "",
        &format!(
            "remote:\n  - id: fedns\n    address: 127.0.0.1@{}\n\n\
             acl:\n  - id: notify\n    address: 127.0.0.1\n    action: notify\n\n\
             zone:\n  - domain: example.org\n    master: fedns\n    acl: notify\n",
            lab.port
        ),
    );
    let mut kc = Command::new(knotd);
    kc.arg("-c").arg(&conf);
    let knot = spawn_on_port("knot", lab.dir.path(), knot_port, kc).unwrap();
    wait_until(WAIT, || {
        serial_at(knot_port, "example.org.").map(|s| s == 1)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", knot.log_tail(30)));
    let acme = key("acme-key", ACME_SECRET);
    let mut stream = connect(lab.port);
    for i in 0..5u32 {
        let r = exchange(
            &mut stream,
            &update_message(
                i as u16,
                vec![],
                vec![txt_add("_acme-challenge.example.org.", &format!("v{i}"))],
                Some(&acme),
                unix_now(),
            ),
        )
        .unwrap();
        assert_eq!(r.metadata.response_code, ResponseCode::NoError);
        let want = 2 + i;
        wait_until(WAIT, || {
            serial_at(knot_port, "example.org.").map(|s| s == want)
        })
        .unwrap_or_else(|e| {
            panic!(
                "Knot did not follow update {i}: {e}\n{}\n{}",
                knot.log_tail(30),
                lab.log()
            )
        });
    }
    let answer = query_udp(
        loopback(knot_port),
        &make_query(
            &name("_acme-challenge.example.org."),
            RecordType::TXT,
            Some(1232),
        ),
        Duration::from_secs(2),
    )
    .unwrap();
    assert_eq!(answer.answers.len(), 5, "Knot serves every update");
    let log = lab.log();
    assert!(
        log.contains("IXFR of example.org. serial 5 -> 6 sent"),
        "the updates travelled as IXFR:\n{log}"
    );
}

#[test]
fn under_strict_an_update_that_breaks_the_delegation_is_refused() {
    let dir = TempDir::new("update-strict");
    let port = free_port();
    fs::write(
        dir.path().join("example.org.zone"),
        format!("{ZONE}_matrix-fed._tcp IN SRV 10 0 8448 www\n"),
    )
    .unwrap();
    let config = dir.path().join("fedns.toml");
    fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\n\
             [[tsig_key]]\nname = \"admin-key\"\nsecret = \"{ADMIN_SECRET}\"\n\
             [[zone]]\nname = \"example.org\"\nfile = \"example.org.zone\"\n\
             [[zone.update]]\nkey = \"admin-key\"\nnames = [\"*\"]\n"
        ),
    )
    .unwrap();
    let server = common::serve_fedns(
        "fedns-strict",
        dir.path(),
        port,
        &["--strict".as_ref(), "--config".as_ref(), config.as_os_str()],
        "example.org.",
    );
    let admin = key("admin-key", ADMIN_SECRET);
    // Taking away the SRV target's address is a delegation error.
    let mut delete = Record::from_rdata(name("www.example.org."), 0, RData::Update0(RecordType::A));
    delete.dns_class = DNSClass::ANY;
    let r = exchange(
        &mut connect(port),
        &update_message(1, vec![], vec![delete], Some(&admin), unix_now()),
    )
    .unwrap();
    assert_eq!(
        r.metadata.response_code,
        ResponseCode::Refused,
        "{}",
        server.log_tail(30)
    );
    assert!(
        server.log_tail(30).contains("delegation errors"),
        "{}",
        server.log_tail(30)
    );
    assert_eq!(serial_at(port, "example.org.").unwrap(), 1);
    // An unrelated change goes through, and logs no finding it did not bring.
    let r = exchange(
        &mut connect(port),
        &update_message(
            2,
            vec![],
            vec![txt_add("note.example.org.", "n")],
            Some(&admin),
            unix_now(),
        ),
    )
    .unwrap();
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    let log = server.log_tail(100);
    assert!(
        !log.contains("<update signed by admin-key.>: warning"),
        "{log}"
    );
}
