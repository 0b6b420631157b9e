//! Our simulated fleet against our own server, the whole flow on the wire
//! (issue #19): `mdm-harness load --prepare-apns` makes the APNs stand-in's
//! certificates, `mdm-harness serve` is started on 127.0.0.1 (its own port,
//! a temporary state folder, the SQLite store) pushing to where the load
//! process will run the stand-in, then `mdm-harness load --target-kind
//! ours` runs 10 Apple devices (Safari's User-Agent on the link, the signed
//! profile verified, SCEP, Authenticate, TokenUpdate, woken by the push
//! serve sends for the queued command, Idle, Acknowledged) and 5 Android
//! agents (link, register, syncs). The report must say every device
//! completed with no error, and serve's own device list and audit log
//! must agree. A run with a wrong administrator token must fail, saying so.
//! The server is stopped by PID.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const APPLE: u32 = 10;
const ANDROID: u32 = 5;

/// Kills the server by PID whatever happens.
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

fn harness() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mdm-harness"))
}

fn load(
    dir: &Path,
    target: &str,
    ca: &Path,
    token: &str,
    apns: &str,
    run_id: u32,
    report: &str,
) -> Output {
    let out = harness()
        .args(["load", "--target-kind", "ours", "--target", target])
        .arg("--target-ca")
        .arg(ca)
        .args(["--admin-token", token])
        .args(["--devices", &APPLE.to_string()])
        .args(["--android", &ANDROID.to_string()])
        .args(["--concurrency", "4", "--rsa-keys", "2", "--timeout", "30"])
        // A second of steady Idles, the signature of each device's first
        // sent again: serve verifies (and accepts) each.
        .args(["--duration", "1", "--reuse-idle-signatures"])
        .arg("--apns-dir")
        .arg(dir.join("apns"))
        .args(["--apns-listen", apns, "--run-id", &run_id.to_string()])
        .arg("--report")
        .arg(dir.join(report))
        .arg("--html")
        .arg(dir.join(format!("{report}.html")))
        .output()
        .unwrap();
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `GET /t/acme/api/v1/<path>` with `curl`, our CA and the token.
fn api(origin: &str, ca: &Path, token: &str, path: &str) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", "--cacert"])
        .arg(ca)
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("{origin}/t/acme/api/v1/{path}"))
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn our_fleet_runs_the_whole_flow_against_our_serve() {
    let dir = std::env::temp_dir().join(format!("load-ours-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let apns = format!("127.0.0.1:{}", free_port());

    // The stand-in's certificates, before serve reads them.
    let prepared = harness()
        .args([
            "load",
            "--target",
            "https://127.0.0.1:1/t/acme",
            "--target-kind",
            "ours",
        ])
        .arg("--apns-dir")
        .arg(dir.join("apns"))
        .args(["--apns-listen", &apns, "--prepare-apns"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&prepared.stdout).to_string();
    assert!(prepared.status.success(), "{text}");
    assert!(text.contains(&format!("--apns https://{apns}")), "{text}");

    let child = harness()
        .args(["serve", "--listen", "127.0.0.1:0", "--tenant", "acme"])
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--apns-issuer")
        .arg(dir.join("apns/apns-issuer.pem"))
        .arg("--apns-ca")
        .arg(dir.join("apns/apns-ca.pem"))
        .args(["--apns", &format!("https://{apns}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("serve.log")).unwrap(),
        ))
        .spawn()
        .expect("mdm-harness serve starts");
    let mut server = Server(child);
    let (mut origin, mut ca, mut token) = (None, None, None);
    for line in BufReader::new(server.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        match line.split(' ').collect::<Vec<_>>().as_slice() {
            ["listening", o] => origin = Some((*o).to_owned()),
            ["ca", f] => ca = Some(PathBuf::from(f)),
            ["token", "acme", t] => token = Some((*t).to_owned()),
            _ => {}
        }
        if token.is_some() {
            break;
        }
    }
    let origin = origin.expect("serve printed where it listens");
    let ca = ca.expect("serve printed its CA");
    let token = token.expect("serve printed the tenant token");
    let target = format!("{origin}/t/acme");

    // The whole flow: every device completed, nothing failed.
    let run_id = 0x0005_0019;
    let out = load(&dir, &target, &ca, &token, &apns, run_id, "ours.json");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ours.json")).unwrap()).unwrap();
    assert!(out.status.success(), "load did not complete: {report:#}");
    let total = u64::from(APPLE + ANDROID);
    assert_eq!(report["devices"], total);
    assert_eq!(report["android_devices"], ANDROID);
    assert_eq!(report["enrolled"], total);
    assert_eq!(report["completed"], total);
    assert_eq!(report["commands_acknowledged"], APPLE);
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
            "link",
            "profile",
            "scep_cacert",
            "scep",
            "authenticate",
            "token_update",
            "push_wait",
            "idle",
            "acknowledge",
            "command",
            "enqueue",
            "admin",
            "android_register",
            "android_sync"
        ]
    );
    for l in report["latency"].as_array().unwrap() {
        assert_eq!(l["failed"], 0, "{l}");
        assert!(l["p50_ms"].as_f64().unwrap() <= l["p99_ms"].as_f64().unwrap());
        assert!(l["p99_ms"].as_f64().unwrap() <= l["max_ms"].as_f64().unwrap());
    }
    let html = std::fs::read_to_string(dir.join("ours.json.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Devices that never completed: 0"));

    // serve's side: every Apple device connected with nothing pending and
    // its DeviceInformation answered; every Android agent synced.
    let devices = api(&origin, &ca, &token, "devices");
    let list = devices["devices"].as_array().unwrap();
    let apple: Vec<&Value> = list.iter().filter(|d| d["udid"].is_string()).collect();
    assert_eq!(apple.len(), APPLE as usize, "{devices:#}");
    for d in &apple {
        assert_eq!(d["state"], "connected", "{d}");
        assert_eq!(d["pending_commands"], 0, "{d}");
        assert!(d["syncs"].as_u64().unwrap() >= 1, "{d}");
    }
    let android: Vec<&Value> = list.iter().filter(|d| d["platform"] == "android").collect();
    assert_eq!(android.len(), ANDROID as usize, "{devices:#}");
    for d in &android {
        assert!(d["syncs"].as_u64().unwrap() >= 2, "{d}");
    }
    let audit = api(&origin, &ca, &token, "audit");
    let refused: Vec<&Value> = audit["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"].as_u64().is_some_and(|s| s >= 400))
        .collect();
    assert!(refused.is_empty(), "serve refused requests: {refused:#?}");

    // A wrong administrator token: the run fails at once, and says why.
    let out = load(
        &dir,
        &target,
        &ca,
        "mdmtn_wrong",
        &apns,
        run_id + 1,
        "wrong.json",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("admin-token"), "{stderr}");
    assert!(!dir.join("wrong.json").exists());

    // Stopped by PID with SIGTERM: a clean exit.
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.0.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
    let _ = std::io::stderr().flush();
    let _ = std::fs::remove_dir_all(&dir);
}
