//! The pictures (issue: teach with pictures): `fedns explain --format html`,
//! `fedns check --format html` and the dashboard of `fedns serve`, loaded
//! in headless Chromium (its DOM checked for the steps and the result, no
//! console message, a screenshot kept in `target/tmp/pages/`), names with
//! HTML in them escaped, and the dashboard's limits over real sockets.
//!
//! With `FEDNS_PICTURES=DIR` the screenshots the README shows are copied
//! into DIR (`FEDNS_PICTURES=docs/pictures cargo test --test pages`).

mod common;

#[path = "../examples/lab_ca.rs"]
#[allow(dead_code)]
mod lab_ca;

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};

use common::{
    BrowserView, ServerProcess, TempDir, browse, chromium, fedns_bin, free_port, http_exchange,
    http_get, hup, loopback, make_query, peer, query_tcp, query_udp, serve_fedns, wait_until,
};

const TIMEOUT: Duration = Duration::from_secs(3);
const SECRET: &str = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Lg==";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the screenshots stay after the run: `target/tmp/pages/`.
fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pages");
    fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// Copies the screenshot to `$FEDNS_PICTURES/NAME.png` when asked to.
fn keep_picture(view: &BrowserView, name: &str) {
    if let Some(dir) = std::env::var_os("FEDNS_PICTURES") {
        let dir = repo().join(dir);
        fs::create_dir_all(&dir).expect("create the pictures directory");
        fs::copy(&view.screenshot, dir.join(format!("{name}.png"))).expect("copy a picture");
    }
}

/// Runs fedns with `args`; its stdout (the page), written to `dir/NAME.html`.
fn page_file(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = Command::new(fedns_bin())
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run fedns");
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "fedns {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join(format!("{name}.html"));
    fs::write(&path, html.as_bytes()).expect("write the page");
    path
}

fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The lab's zones and certificates side by side in `dir` (the zones name
/// `../certs/NAME.pem`), the certificates minted by the lab's own CA code.
fn lab_copy(dir: &Path) -> PathBuf {
    let zones = dir.join("zones");
    fs::create_dir_all(&zones).expect("mkdir zones");
    for entry in fs::read_dir(repo().join("examples/lab-federation/zones")).expect("lab zones") {
        let path = entry.expect("entry").path();
        fs::copy(&path, zones.join(path.file_name().expect("a file name"))).expect("copy");
    }
    lab_ca::mint_lab(&dir.join("certs")).expect("mint the lab");
    zones
}

/// The `data-mark` of step `step` in a DOM.
fn mark_of(dom: &str, step: &str) -> Option<String> {
    let at = dom.find(&format!("data-step=\"{step}\""))?;
    let rest = dom.get(at..)?;
    let mark = rest.split("data-mark=\"").nth(1)?;
    mark.split('"').next().map(str::to_owned)
}

#[test]
fn explain_and_check_pages_show_the_path_the_result_and_the_pitfall_in_a_browser() {
    let Some(browser) = chromium() else { return };
    let dir = TempDir::new("pages-files");

    // The shipped zone: SRV at step 4, certificate for the server name.
    let explain = page_file(
        dir.path(),
        "explain",
        &[
            "explain",
            "example.org",
            "--zones",
            "zones",
            "--format",
            "html",
        ],
    );
    let view = browse(
        &browser,
        &url(&explain),
        &screenshots(),
        "explain",
        (1000, 1120),
    );
    assert!(view.console.is_empty(), "{:?}", view.console);
    assert_eq!(mark_of(&view.dom, "4").as_deref(), Some("decided"));
    for (step, mark) in [
        ("1", "passed"),
        ("2", "passed"),
        ("3", "passed"),
        ("5", "off"),
    ] {
        assert_eq!(
            mark_of(&view.dom, step).as_deref(),
            Some(mark),
            "step {step}"
        );
    }
    for step in ["3.1", "3.2", "3.3", "3.4", "3.5", "6"] {
        assert_eq!(
            mark_of(&view.dom, step).as_deref(),
            Some("off"),
            "step {step}"
        );
    }
    assert!(view.dom.contains("synapse.example.org:443"));
    assert!(view.dom.contains("id=\"result\""));
    assert!(
        view.dom
            .contains("_matrix-fed._tcp.example.org. 3600 IN SRV 10 0 443 synapse.example.org.")
    );
    keep_picture(&view, "explain");

    // The lab: four sound homeservers and epsilon, the classic pitfall.
    let lab = TempDir::new("pages-lab");
    let zones = lab_copy(lab.path());
    let ca = lab.path().join("certs/ca.pem");
    let (zones_arg, ca_arg) = (zones.display().to_string(), ca.display().to_string());
    let check = page_file(
        dir.path(),
        "check",
        &["check", &zones_arg, "--ca", &ca_arg, "--format", "html"],
    );
    let view = browse(
        &browser,
        &url(&check),
        &screenshots(),
        "check",
        (1000, 1700),
    );
    assert!(view.console.is_empty(), "{:?}", view.console);
    // The map: epsilon red, the others green.
    assert!(
        view.dom
            .contains("class=\"map-line failed\" data-server=\"epsilon.lab.test\"")
    );
    for good in ["alpha", "beta", "gamma", "delta"] {
        assert!(
            view.dom.contains(&format!(
                "class=\"map-line good\" data-server=\"{good}.lab.test\""
            )),
            "{good}"
        );
    }
    // The pitfall's findings, with the zone line and the two layouts that work.
    assert!(view.dom.contains("data-rule=\"CRT002\""));
    assert!(view.dom.contains("epsilon.lab.test.toml:33:1"));
    assert!(view.dom.contains("data-layouts-for=\"epsilon.lab.test\""));
    assert!(view.dom.contains("matrix.epsilon.lab.test:8448"));
    keep_picture(&view, "check");

    // The lab's picture: the top of the same page, the map.
    let map = browse(
        &browser,
        &url(&check),
        &screenshots(),
        "lab-map",
        (1000, 560),
    );
    assert!(map.console.is_empty(), "{:?}", map.console);
    keep_picture(&map, "lab-map");

    // The lab served, with its dashboard, as the lab's README says.
    let (dns_port, web_port) = (free_port(), free_port());
    let (listen, web) = (
        format!("127.0.0.1:{dns_port}"),
        format!("127.0.0.1:{web_port}"),
    );
    let _server = serve_fedns(
        "fedns-lab",
        lab.path(),
        dns_port,
        &[
            "--zones".as_ref(),
            zones.as_os_str(),
            "--listen".as_ref(),
            listen.as_ref(),
            "--web-listen".as_ref(),
            web.as_ref(),
        ],
        "epsilon.lab.test.",
    );
    assert!(http_get(web_port, "/").starts_with("HTTP/1.1 200"));
    let view = browse(
        &browser,
        &format!("http://{web}/"),
        dir.path(),
        "dashboard",
        (1000, 1000),
    );
    assert!(view.console.is_empty(), "{:?}", view.console);
    assert!(
        view.dom
            .contains("class=\"map-line failed\" data-server=\"epsilon.lab.test\"")
    );
    assert!(
        view.dom
            .contains("class=\"map-line good\" data-server=\"delta.lab.test\"")
    );
    assert!(view.dom.contains("lacks epsilon.lab.test"));
    keep_picture(&view, "dashboard");
}

#[test]
fn html_in_a_well_known_body_or_a_zone_is_escaped() {
    let Some(browser) = chromium() else { return };
    let dir = TempDir::new("pages-escape");
    let body = r#"{"m.server": "<script>alert(1)</script>"}"#;
    let explain = page_file(
        dir.path(),
        "explain-escape",
        &[
            "explain",
            "example.org",
            "--zones",
            "zones",
            "--well-known",
            body,
            "--format",
            "html",
        ],
    );
    let zones = dir.path().join("zones");
    fs::create_dir_all(&zones).expect("mkdir");
    fs::write(
        zones.join("evil.test.toml"),
        "origin = \"evil.test.\"\nttl = 300\n[soa]\nmname = \"ns.evil.test.\"\nrname = \"hostmaster@evil.test\"\nserial = 1\n\
         [[record]]\nname = \"@\"\nNS = [\"ns.evil.test.\"]\nTXT = [\"<script>alert(2)</script>\"]\n\
         [[record]]\nname = \"ns\"\nA = [\"127.0.0.1\"]\n\
         [[matrix]]\nserver_name = \"@\"\nwell_known = \"<img src=x onerror=alert(3)>\"\n",
    )
    .expect("write the zone");
    let zones_arg = zones.display().to_string();
    let check = page_file(
        dir.path(),
        "check-escape",
        &["check", &zones_arg, "--format", "html"],
    );
    for (page, name, text) in [
        (
            &explain,
            "explain-escape",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        (&check, "check-escape", "&lt;img src=x onerror=alert(3)&gt;"),
    ] {
        let view = browse(&browser, &url(page), &screenshots(), name, (800, 600));
        assert!(view.console.is_empty(), "{name}: {:?}", view.console);
        assert!(!view.dom.contains("<script"), "{name}: a script element");
        assert!(!view.dom.contains("<img"), "{name}: an img element");
        assert!(view.dom.contains(text), "{name}: {text} not shown as text");
    }
}

// -------------------------------------------------------------- dashboard --

const ZONE: &str = "$ORIGIN example.org.\n$TTL 300\n\
@ IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 300\n\
@ IN NS ns.example.org.\n\
ns IN A 127.0.0.1\n\
_matrix-fed._tcp IN SRV 10 0 8448 hs.example.org.\n\
hs IN A 127.0.0.20\n";

struct Dashboard {
    _dir: TempDir,
    server: ServerProcess,
    dns_port: u16,
    web_port: u16,
    zone_file: PathBuf,
}

fn dashboard(prefix: &str) -> Dashboard {
    let dir = TempDir::new(prefix);
    let (dns_port, web_port) = (free_port(), free_port());
    let zone_file = dir.path().join("example.org.zone");
    fs::write(&zone_file, ZONE).expect("write the zone");
    let config = dir.path().join("fedns.toml");
    fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{dns_port}\"]\nweb_listen = \"127.0.0.1:{web_port}\"\ndata_dir = \"data\"\n\
             [[tsig_key]]\nname = \"admin-key\"\nsecret = \"{SECRET}\"\n\
             [[zone]]\nname = \"example.org\"\nfile = \"example.org.zone\"\n\
             [[zone.update]]\nkey = \"admin-key\"\nnames = [\"*\"]\n"
        ),
    )
    .expect("write the config");
    let server = serve_fedns(
        "fedns",
        dir.path(),
        dns_port,
        &["--config".as_ref(), config.as_os_str()],
        "example.org.",
    );
    Dashboard {
        _dir: dir,
        server,
        dns_port,
        web_port,
        zone_file,
    }
}

fn body_of(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[test]
fn the_dashboard_shows_the_zones_the_names_and_their_pages() {
    let d = dashboard("pages-dashboard");
    let index = http_get(d.web_port, "/");
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("Content-Security-Policy: default-src 'none'"));
    assert!(index.contains("data-server=\"example.org\""), "{index}");
    assert!(index.contains("hs.example.org:8448"));
    assert!(index.contains("example.org.zone"));

    let explain = http_get(d.web_port, "/explain?name=example.org");
    assert!(explain.starts_with("HTTP/1.1 200"), "{explain}");
    assert_eq!(mark_of(explain.as_str(), "4").as_deref(), Some("decided"));
    assert!(explain.contains("_matrix-fed._tcp.example.org. 300 IN SRV 10 0 8448 hs.example.org."));

    // A name not delegated anywhere is explained too (step 6, no address).
    let other = http_get(d.web_port, "/explain?name=nowhere.example.org");
    assert!(other.starts_with("HTTP/1.1 200"), "{other}");
    assert_eq!(mark_of(other.as_str(), "6").as_deref(), Some("decided"));

    // Bad input: escaped, a clear error, the right status.
    let bad = http_get(d.web_port, "/explain?name=%3Cscript%3E");
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert!(!body_of(&bad).contains("<script>"));
    assert!(body_of(&bad).contains("&lt;script&gt;"));
    assert!(http_get(d.web_port, "/nope").starts_with("HTTP/1.1 404"));
    let check = http_get(d.web_port, "/check");
    assert!(check.starts_with("HTTP/1.1 200") && check.contains("id=\"summary\""));

    let post =
        http_exchange(d.web_port, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", TIMEOUT).expect("POST");
    assert!(
        post.starts_with("HTTP/1.1 405") && post.contains("Allow: GET, HEAD"),
        "{post}"
    );
    let head =
        http_exchange(d.web_port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", TIMEOUT).expect("HEAD");
    assert!(
        head.starts_with("HTTP/1.1 200") && body_of(&head).is_empty(),
        "{head}"
    );
    let mut huge = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    huge.extend_from_slice(b"\r\n\r\n");
    let refused = http_exchange(d.web_port, &huge, TIMEOUT).unwrap_or_default();
    assert!(refused.starts_with("HTTP/1.1 431"), "{refused}");
    let garbage =
        http_exchange(d.web_port, b"\x16\x03\x01 hello\r\n\r\n", TIMEOUT).expect("garbage");
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");

    if let Some(browser) = chromium() {
        for (path, name) in [
            ("/", "dashboard"),
            ("/explain?name=example.org", "dashboard-explain"),
        ] {
            let url = format!("http://127.0.0.1:{}{path}", d.web_port);
            let view = browse(&browser, &url, &screenshots(), name, (1000, 900));
            assert!(view.console.is_empty(), "{name}: {:?}", view.console);
            assert!(view.dom.contains("example.org"), "{name}");
        }
    }
    assert!(
        d.server
            .log_tail(50)
            .contains(&format!("dashboard on http://127.0.0.1:{}/", d.web_port))
    );
}

#[test]
fn the_dashboard_follows_reloads_and_updates_and_never_holds_up_dns() {
    let mut d = dashboard("pages-dashboard-live");
    assert!(http_get(d.web_port, "/").contains("hs.example.org:8448"));

    // Clients that connect and send nothing, or half a request: DNS is
    // answered meanwhile, and each of them gets 408 when its time is up.
    let idle: Vec<TcpStream> = (0..80)
        .filter_map(|_| TcpStream::connect(loopback(d.web_port)).ok())
        .collect();
    let mut half = TcpStream::connect(loopback(d.web_port)).expect("connect");
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("half a request");
    let soa = make_query(
        &Name::from_ascii("example.org.").expect("name"),
        RecordType::SOA,
        None,
    );
    for _ in 0..20 {
        query_udp(loopback(d.dns_port), &soa, TIMEOUT)
            .expect("UDP answered while the dashboard is busy");
        query_tcp(loopback(d.dns_port), &soa, TIMEOUT)
            .expect("TCP answered while the dashboard is busy");
    }
    half.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut half, &mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    drop(idle);

    // A reload: the page follows the file.
    let edited = ZONE
        .replace("1 3600 600", "2 3600 600")
        .replace("8448 hs.example.org.", "8443 hs.example.org.");
    fs::write(&d.zone_file, edited).expect("edit the zone");
    hup(&d.server);
    wait_until(Duration::from_secs(20), || {
        Ok(http_get(d.web_port, "/").contains("hs.example.org:8443"))
    })
    .unwrap_or_else(|e| panic!("the reload did not show: {e}\n{}", d.server.log_tail(30)));

    // An update: a new server name appears.
    let Some(nsupdate) = peer("nsupdate") else {
        return;
    };
    let mut child = Command::new(nsupdate)
        .arg("-y")
        .arg(format!("hmac-sha256:admin-key:{SECRET}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nsupdate");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            format!(
                "server 127.0.0.1 {}\nzone example.org.\nupdate add _matrix-fed._tcp.chat.example.org. 300 SRV 10 0 443 hs.example.org.\nsend\nquit\n",
                d.dns_port
            )
            .as_bytes(),
        )
        .expect("write the update");
    let out = child.wait_with_output().expect("nsupdate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = http_get(d.web_port, "/");
    assert!(
        index.contains("data-server=\"chat.example.org\""),
        "{index}"
    );
    assert!(d.server.is_running());
}

#[test]
fn bad_input_to_the_pages_is_named_and_nothing_is_lost() {
    // A certificate file that is not there: the page is still written, and
    // the warning names the file.
    let out = Command::new(fedns_bin())
        .args([
            "explain",
            "example.org",
            "--zones",
            "zones",
            "--format",
            "html",
        ])
        .args(["--cert", "/nonexistent/fedns/chain.pem"])
        .current_dir(repo())
        .output()
        .expect("run fedns");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!DOCTYPE html>"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/fedns/chain.pem"), "{err}");

    // The dashboard's address taken: the server says which and does not start.
    let taken = std::net::TcpListener::bind(loopback(free_port())).expect("bind");
    let web = taken.local_addr().expect("address");
    let dir = TempDir::new("pages-bad-web");
    let mut c = Command::new(fedns_bin());
    c.args(["serve", "--zones"])
        .arg(repo().join("zones"))
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--web-listen", &web.to_string()])
        .current_dir(dir.path());
    let out = common::output_within(c, Duration::from_secs(30));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot serve the dashboard on {web}")),
        "{err}"
    );

    // A flag value that is not an address: refused by the command line.
    let out = Command::new(fedns_bin())
        .args(["serve", "--web-listen", "localhost"])
        .output()
        .expect("run fedns");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--web-listen"));
}
