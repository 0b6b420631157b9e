//! What the `serve_*` tests share: the third-party tools, `mdm-harness
//! serve` as a child process stopped by PID, the administrator API through
//! `curl`, mdmb's devices enrolled through invitation links, and a TCP
//! proxy standing in for the load balancer in front of several `serve`
//! processes (the devices' one connection address).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};

use harness::apns_standin::SimulatedApple;
use mdm_apple::ApnsEnvironment;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::{Value, json};

/// The User-Agent of an iPhone's browser.
pub const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

/// A tool from `../shared/tools/` (or the file `env` names); `None` with a
/// message when it is missing, a failure under `CI=true`.
pub fn tool(env: &str, name: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/tools")
            .join(name)
    });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{name} is missing at {} (CI=true: a missing tool is a failure)",
        path.display()
    );
    eprintln!("skipped: {name} not found at {}", path.display());
    None
}

/// A fresh folder for one test.
pub fn test_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `mdm-harness serve` running as a child; killed by PID if the test
/// fails before stopping it.
pub struct Server {
    child: Child,
    /// `https://127.0.0.1:<port>`: where it listens.
    pub origin: String,
    /// The port it listens on.
    pub port: u16,
    /// The CA file it printed (`<state-dir>/tls-ca.pem`).
    pub ca: PathBuf,
    /// The tokens made on this start, by tenant (or `operator`).
    pub tokens: HashMap<String, String>,
    /// The tenants' base URLs it printed.
    pub tenants: HashMap<String, String>,
}

impl Server {
    /// Starts `mdm-harness serve <args>` with its log in `log` and reads
    /// what it prints up to `ready`.
    pub fn start(args: &[OsString], log: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mdm-harness"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .spawn()
            .expect("mdm-harness serve starts");
        let stdout = child.stdout.take().unwrap();
        let (mut origin, mut ca) = (None, None);
        let (mut tokens, mut tenants) = (HashMap::new(), HashMap::new());
        let mut ready = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["listening", o] => origin = Some((*o).to_owned()),
                ["ca", f] => ca = Some(PathBuf::from(f)),
                ["tenant", name, url] => {
                    tenants.insert((*name).to_owned(), (*url).to_owned());
                }
                ["token", who, t] => {
                    tokens.insert((*who).to_owned(), (*t).to_owned());
                }
                ["ready"] => {
                    ready = true;
                    break;
                }
                _ => {}
            }
        }
        let log_text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(ready, "serve did not get ready: {log_text}");
        let origin: String = origin.expect("serve printed where it listens");
        let port = origin
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the origin");
        Self {
            child,
            origin,
            port,
            ca: ca.expect("serve printed its CA"),
            tokens,
            tenants,
        }
    }

    /// The API of `tenant` on this server, with `token`.
    pub fn api(&self, tenant: &str, token: &str) -> Api {
        Api {
            origin: self.origin.clone(),
            tenant: tenant.to_owned(),
            token: token.to_owned(),
            ca: self.ca.clone(),
        }
    }

    /// SIGTERM by PID; the server must finish and exit cleanly.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exited with {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tenant's administrator API.
pub struct Api {
    pub origin: String,
    pub tenant: String,
    pub token: String,
    pub ca: PathBuf,
}

impl Api {
    /// `curl` with our CA and token; returns (status, body).
    pub fn call(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let url = format!("{}/t/{}/api/v1/{path}", self.origin, self.tenant);
        let mut child = Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(&self.ca)
            .args(["-X", method, "-H"])
            .arg(format!("Authorization: Bearer {}", self.token))
            .args(["-H", &format!("Content-Type: {content_type}")])
            .args(["--data-binary", "@-", "-w", "\n%{http_code}", &url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("curl runs");
        child.stdin.take().unwrap().write_all(body).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.trim().parse().unwrap(), body.to_owned())
    }

    /// A JSON call that must succeed (`Value::Null`: no body, as a GET).
    pub fn json(&self, method: &str, path: &str, body: &Value) -> Value {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let (status, text) = self.call(method, path, "application/json", &bytes);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap()
    }

    /// Queues a raw `DeviceInformation` plist for `udids` without a push.
    pub fn enqueue_device_information(&self, udids: &[String], uuid: &str) {
        let plist = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>Command</key><dict><key>RequestType</key><string>DeviceInformation</string>
<key>Queries</key><array><string>DeviceName</string><string>UDID</string></array></dict>
<key>CommandUUID</key><string>{uuid}</string>
</dict></plist>"#
        );
        let (status, text) = self.call(
            "PUT",
            &format!("enqueue/{}?nopush=1", udids.join(",")),
            "application/xml",
            plist.as_bytes(),
        );
        assert_eq!(status, 200, "{text}");
        let queued: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(queued["command_uuid"], uuid, "{queued}");
        assert!(
            queued["devices"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["queued"] == true),
            "{queued}"
        );
    }

    /// The device's queue: (pending, finished `[(uuid, status)]`).
    pub fn commands(&self, udid: &str) -> (u64, Vec<(String, String)>) {
        let listed = self.json("GET", &format!("devices/{udid}/commands"), &Value::Null);
        let finished = listed["finished"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["command_uuid"].as_str().unwrap().to_owned(),
                    f["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (listed["pending"].as_u64().unwrap(), finished)
    }
}

/// Runs mdmb over its database in `dir`, trusting `ca`; must succeed.
pub fn mdmb(mdmb: &Path, dir: &Path, ca: &Path, args: &[&str]) -> String {
    let out = Command::new(mdmb)
        .current_dir(dir)
        .env("SSL_CERT_FILE", ca)
        .arg("-db")
        .arg(dir.join("mdmb.db"))
        .args(args)
        .output()
        .expect("mdmb runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mdmb {args:?} failed: {text}");
    text
}

/// The simulated Apple side: a push certificate for the tenant (PEM, with
/// its key) and the file of the CA that issued it (`--apns-issuer`).
pub fn push_certificate(dir: &Path) -> (String, PathBuf) {
    let now = time::OffsetDateTime::now_utc();
    let mut rng = ChaCha20Rng::seed_from_u64(19);
    let apple = SimulatedApple::new(ApnsEnvironment::Production, now, &mut rng).unwrap();
    let issuer = dir.join("push-issuer.pem");
    std::fs::write(&issuer, apple.portal.authority().certificate().pem()).unwrap();
    let key = apple.push.key.to_pkcs8_pem(None, &mut rng).unwrap();
    (
        format!("{}{}", apple.push.certificate.pem(), key.as_str()),
        issuer,
    )
}

/// mdmb's devices enrolled through `api`'s invitation links: the APNs
/// certificate uploaded, one user and invitation per device, each signed
/// profile downloaded with an iPhone's User-Agent, checked by openssl and
/// installed by mdmb (SCEP, `Authenticate`, `TokenUpdate`). Returns the
/// devices' UDIDs.
pub fn enroll(api: &Api, push_pem: &str, mdmb_bin: &Path, dir: &Path, n: usize) -> Vec<String> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(push_pem.as_bytes());
    api.json(
        "PUT",
        "apns-certificate",
        &json!({ "file_name": "push.pem", "data_base64": encoded }),
    );
    let accounts: Vec<String> = (0..n).map(|i| format!("user{i}")).collect();
    for account in &accounts {
        api.json(
            "POST",
            "users",
            &json!({ "account": account, "email": format!("{account}@example.com") }),
        );
    }
    let sent = api.json("POST", "invitations", &json!({ "accounts": accounts }));
    let messages = sent["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), n, "{sent}");
    let mdmb_dir = dir.join("mdmb");
    std::fs::create_dir_all(&mdmb_dir).unwrap();
    mdmb(
        mdmb_bin,
        &mdmb_dir,
        &api.ca,
        &["devices-create", "-n", &n.to_string()],
    );
    let listed = mdmb(mdmb_bin, &mdmb_dir, &api.ca, &["devices-list"]);
    let udids: Vec<String> = listed
        .lines()
        .filter(|l| l.len() == 36)
        .map(str::to_owned)
        .collect();
    assert_eq!(udids.len(), n, "{listed}");
    for (i, (message, udid)) in messages.iter().zip(&udids).enumerate() {
        let link = message["link"].as_str().unwrap();
        let profile = dir.join(format!("enroll-{i}.mobileconfig"));
        assert_eq!(
            download_profile(&api.ca, link, &profile),
            "200 application/x-apple-aspen-config",
            "{link}"
        );
        let content = dir.join(format!("enroll-{i}.xml"));
        verify_profile(&api.ca, &profile, &content);
        install_profile(mdmb_bin, &mdmb_dir, &api.ca, udid, &content);
    }
    udids
}

/// Opens an invitation link as an iPhone would, saving the answer to
/// `profile`; gives curl's `<status> <content type>`.
pub fn download_profile(ca: &Path, link: &str, profile: &Path) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(ca)
        .args(["-A", IPHONE, "-o"])
        .arg(profile)
        .args(["-w", "%{http_code} %{content_type}", link])
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// openssl checks the profile's CMS signature up to `ca` and writes its
/// content to `content` (mdmb reads only unsigned profiles).
pub fn verify_profile(ca: &Path, profile: &Path, content: &Path) {
    let verified = Command::new("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-purpose", "any", "-in"])
        .arg(profile)
        .arg("-CAfile")
        .arg(ca)
        .arg("-out")
        .arg(content)
        .output()
        .expect("openssl runs");
    assert!(
        verified.status.success(),
        "openssl cms -verify: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

/// mdmb's device `udid` installs the (unsigned) profile `content`.
pub fn install_profile(mdmb_bin: &Path, mdmb_dir: &Path, ca: &Path, udid: &str, content: &Path) {
    let installed = mdmb(
        mdmb_bin,
        mdmb_dir,
        ca,
        &[
            "-uuids",
            udid,
            "devices-profiles-install",
            "-f",
            content.to_str().expect("a UTF-8 temporary path"),
        ],
    );
    assert!(
        !installed.to_lowercase().contains("error"),
        "mdmb install {udid}: {installed}"
    );
}

/// mdmb's devices connect once (`Idle`, then every queued command fetched
/// and answered); every connect must succeed.
pub fn connect_all(mdmb_bin: &Path, dir: &Path, ca: &Path, n: usize) {
    let out = mdmb(
        mdmb_bin,
        &dir.join("mdmb"),
        ca,
        &["-uuids", "all", "devices-connect", "-w", "2"],
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("Total MDM connects") && l.contains(&format!(" {n} (100%)"))),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("Errors") && l.contains(" 0 (0%)")),
        "{out}"
    );
}

/// A TCP proxy on 127.0.0.1 forwarding each new connection to the port it
/// currently points at: the load balancer in front of `serve` processes.
pub struct Proxy {
    /// The port devices connect to.
    pub port: u16,
    target: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Binds a free port; forwards nowhere until [`Self::point_at`].
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = Arc::new(AtomicU16::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (to, stopped) = (Arc::clone(&target), Arc::clone(&stop));
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::Acquire) {
                    break;
                }
                let Ok(client) = client else { continue };
                let port = to.load(Ordering::Acquire);
                let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                pipe(&client, &server);
                pipe(&server, &client);
            }
        });
        Self {
            port,
            target,
            stop,
            accept: Some(accept),
        }
    }

    /// New connections go to `port` from now on.
    pub fn point_at(&self, port: u16) {
        self.target.store(port, Ordering::Release);
    }
}

/// Copies `from` to `to` on a thread until `from` ends.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// The arguments of a `serve` of `tenant` on any free port of 127.0.0.1,
/// its state in `state`, trusting push certificates from `issuer`, with
/// `public_port` in its profiles when given.
pub fn serve_args(
    tenant: &str,
    state: &Path,
    issuer: &Path,
    public_port: Option<u16>,
) -> Vec<OsString> {
    let mut list = args(["--listen", "127.0.0.1:0", "--tenant", tenant]);
    list.extend([
        "--state-dir".into(),
        state.into(),
        "--apns-issuer".into(),
        issuer.into(),
    ]);
    if let Some(port) = public_port {
        list.extend(args(["--public-port", &port.to_string()]));
    }
    list
}

/// `serve` arguments as `OsString`s.
pub fn args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    items.into_iter().map(Into::into).collect()
}

/// The PostgreSQL connection string, or `None` (with the reason printed)
/// outside CI; in CI a missing database is a failure: the model's own.
/// (Not every test binary that includes this module calls it.)
#[allow(unused_imports)]
pub use mdm_model::storage::test_support::postgres;

/// Drops the tenant's schema when the test ends, passed or not.
pub struct Schema {
    /// The connection string.
    pub connection: String,
    /// The schema.
    pub name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        use mdm_model::storage::SqlSession as _;
        if let Ok(mut db) = mdm_model::storage::SqlDatabase::postgres(&self.connection, &self.name)
        {
            let _ = db.execute_batch(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}
