//! Our simulated devices against someone else's server (issue #19): a
//! P-256 CA made by `openssl`, micromdm's `nanomdm` started on 127.0.0.1
//! with it (`-ca`, file store, `-debug`), then the built `mdm-harness load
//! --target-kind nanomdm` with 20 devices. The load report must say every
//! device enrolled and acknowledged the command it queued through
//! `/v1/enqueue`, and nanomdm's own log must say the same, device by
//! device: it accepted each `Authenticate` and `TokenUpdate` (their
//! `Mdm-Signature` chains to its CA), handed out the command and recorded
//! the `Acknowledged` result. A run with the wrong API key must fail.
//!
//! nanomdm comes from `../shared/tools/` (or `NANOMDM=`); without it (or
//! openssl) the test is skipped, except under `CI=true`, where that is a
//! failure. The server is stopped by PID.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use harness::load::device::udid;
use serde_json::Value;

const DEVICES: u32 = 20;
const API_KEY: &str = "load-test-key";

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn nanomdm() -> Option<PathBuf> {
    let path = std::env::var_os("NANOMDM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/nanomdm")
        });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !ci(),
        "nanomdm is missing at {} (CI=true: a missing tool is a failure)",
        path.display()
    );
    eprintln!("skipped: nanomdm not found at {}", path.display());
    None
}

fn openssl_present() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok || !ci(), "openssl is required in CI");
    if !ok {
        eprintln!("skipped: openssl is not installed");
    }
    ok
}

/// Stops nanomdm by its PID, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn version(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.contains("200 OK").then_some(out)
}

fn make_ca(dir: &Path) {
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(dir.join("ca.pem"))
        .args(["-subj", "/CN=load test device CA", "-days", "2"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make the CA");
}

fn load(dir: &Path, port: u16, run_id: u32, api_key: &str, report: &str) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_mdm-harness"))
        .arg("load")
        .args(["--target-kind", "nanomdm", "--target"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args(["--devices", &DEVICES.to_string(), "--concurrency", "4"])
        .arg("--ca-cert")
        .arg(dir.join("ca.pem"))
        .arg("--ca-key")
        .arg(dir.join("ca.key"))
        .args([
            "--api-key",
            api_key,
            "--run-id",
            &run_id.to_string(),
            "--timeout",
            "20",
        ])
        .arg("--report")
        .arg(dir.join(report))
        .arg("--html")
        .arg(dir.join(format!("{report}.html")))
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    let json = std::fs::read_to_string(dir.join(report)).unwrap();
    (out.status.success(), serde_json::from_str(&json).unwrap())
}

/// The ids nanomdm logged on lines holding every one of `needles`.
fn logged_ids(log: &str, needles: &[&str]) -> std::collections::BTreeSet<String> {
    log.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .filter_map(|l| {
            l.split(' ')
                .find_map(|w| w.strip_prefix("id="))
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn our_devices_enroll_into_nanomdm_and_acknowledge_its_command() {
    let Some(nanomdm) = nanomdm() else { return };
    if !openssl_present() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("load-nanomdm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    make_ca(&dir);
    let port = free_port();
    let log = std::fs::File::create(dir.join("nanomdm.log")).unwrap();
    let server = Server(
        Command::new(nanomdm)
            .arg("-ca")
            .arg(dir.join("ca.pem"))
            .args(["-api", API_KEY, "-storage", "filekv", "-storage-dsn"])
            .arg(dir.join("db"))
            .args(["-listen", &format!("127.0.0.1:{port}"), "-debug"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        version(port).is_some()
    });
    assert!(up, "nanomdm did not answer /version on 127.0.0.1:{port}");

    // Our fleet: every device enrolled and acknowledged the queued command.
    let run_id = 0x10AD_0001;
    let (ok, report) = load(&dir, port, run_id, API_KEY, "load.json");
    assert!(ok, "load did not complete: {report:#}");
    assert_eq!(report["devices"], DEVICES);
    assert_eq!(report["enrolled"], DEVICES);
    assert_eq!(report["completed"], DEVICES);
    assert_eq!(report["commands_acknowledged"], DEVICES);
    assert_eq!(report["incomplete"], 0);
    assert_eq!(report["errors"], serde_json::json!({}));
    let steps: Vec<&str> = report["latency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "authenticate",
            "token_update",
            "idle",
            "acknowledge",
            "enqueue"
        ]
    );
    let command = report["command_uuid"].as_str().unwrap().to_owned();
    let html = std::fs::read_to_string(dir.join("load.json.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Devices that never completed: 0"));

    // nanomdm's side, device by device.
    let log = std::fs::read_to_string(dir.join("nanomdm.log")).unwrap();
    let ours: std::collections::BTreeSet<String> = (0..DEVICES).map(|i| udid(run_id, i)).collect();
    let retrieved = format!("command_uuid={command}");
    let acknowledged = format!("status=Acknowledged command_uuid={command}");
    assert_eq!(
        logged_ids(&log, &["msg=Authenticate"]),
        ours,
        "Authenticate"
    );
    assert_eq!(logged_ids(&log, &["msg=TokenUpdate"]), ours, "TokenUpdate");
    assert_eq!(
        logged_ids(&log, &["msg=command retrieved", &retrieved]),
        ours,
        "command handed out"
    );
    assert_eq!(logged_ids(&log, &[&acknowledged]), ours, "Acknowledged");
    assert!(
        !log.contains("level=error"),
        "nanomdm logged errors:\n{log}"
    );

    // The wrong API key: nanomdm refuses the enqueue, and the run says so.
    let (ok, report) = load(&dir, port, run_id + 1, "not-the-key", "refused.json");
    assert!(!ok);
    assert_eq!(report["enrolled"], DEVICES);
    assert_eq!(report["completed"], 0);
    assert_eq!(report["incomplete"], DEVICES);
    assert_eq!(report["errors"]["enqueue: http 401"], 1);
    assert_eq!(report["incomplete_devices"][0]["step"], "enqueue");

    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
