//! Someone else's device simulator against our server (issue #19):
//! `mdm-harness serve` is started on 127.0.0.1, an APNs certificate and
//! users are set up through its administrator API (with `curl`), each of N
//! invitation links is opened with an iPhone's User-Agent, and jessepeterson's
//! `mdmb` installs each signed profile on one of its devices — SCEP with the
//! profile's one-time password, `Authenticate` and `TokenUpdate` signed
//! (`Mdm-Signature`). A `DeviceInformation` queued through our API as a raw
//! plist (as nanomdm's `/v1/enqueue` takes it) is fetched and acknowledged on
//! `mdmb devices-connect`. The server is stopped by PID (SIGTERM) and must
//! exit cleanly.
//!
//! mdmb comes from `../shared/tools/` (or `MDMB=`); without it the test is
//! skipped, except under `CI=true`, where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use harness::apns_standin::{
    APNS_MAX_CONCURRENT_STREAMS, ApnsBook, ApnsStandIn, FaultPlan, SimulatedApple, StandInConfig,
};
use mdm_apple::ApnsEnvironment;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;

const DEVICES: usize = 3;
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

fn tool(env: &str, name: &str) -> Option<PathBuf> {
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

/// Kills the server by PID if the test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Api {
    origin: String,
    tenant: String,
    token: String,
    ca: PathBuf,
}

impl Api {
    /// `curl` with our CA and token; returns (status, body).
    fn call(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
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

    fn json(&self, method: &str, path: &str, body: &Value) -> Value {
        let (status, text) = self.call(
            method,
            path,
            "application/json",
            body.to_string().as_bytes(),
        );
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap()
    }
}

fn mdmb(mdmb: &Path, dir: &Path, ca: &Path, args: &[&str]) -> String {
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

#[test]
fn mdmb_devices_enroll_into_serve_and_acknowledge_a_queued_command() {
    let Some(mdmb_bin) = tool("MDMB", "mdmb") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("serve-mdmb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // The simulated Apple side: a push certificate for our tenant and the CA
    // that issued it (the push CA our server is told to trust).
    let now = time::OffsetDateTime::now_utc();
    let mut rng = ChaCha20Rng::seed_from_u64(19);
    let apple = SimulatedApple::new(ApnsEnvironment::Production, now, &mut rng).unwrap();
    let issuer = dir.join("push-issuer.pem");
    std::fs::write(&issuer, apple.portal.authority().certificate().pem()).unwrap();
    let push_file = format!(
        "{}{}",
        apple.push.certificate.pem(),
        apple
            .push
            .key
            .to_pkcs8_pem(None, &mut rng)
            .unwrap()
            .as_str()
    );

    // The APNs stand-in, which our server pushes to (--apns).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let standin = runtime
        .block_on(ApnsStandIn::start(StandInConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            client_ca: apple.portal.authority().certificate().clone(),
            tls: apple.tls.try_clone().unwrap(),
            now,
            max_concurrent_streams: APNS_MAX_CONCURRENT_STREAMS,
            book: ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none()),
        }))
        .unwrap();
    let apns_ca = dir.join("apns-ca.pem");
    std::fs::write(&apns_ca, apple.tls.server_ca.pem()).unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_mdm-harness"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tenant",
            "acme",
            "--state-dir",
        ])
        .arg(dir.join("state"))
        .arg("--apns-issuer")
        .arg(&issuer)
        .arg("--apns")
        .arg(format!("https://{}", standin.local_addr()))
        .arg("--apns-ca")
        .arg(&apns_ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("serve.log")).unwrap(),
        ))
        .spawn()
        .expect("mdm-harness serve starts");
    let mut server = Server(child);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let (mut origin, mut ca, mut token) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["listening", o] => origin = Some((*o).to_owned()),
            ["ca", f] => ca = Some(PathBuf::from(f)),
            ["token", "acme", t] => token = Some((*t).to_owned()),
            _ => {}
        }
        if token.is_some() {
            break;
        }
    }
    let api = Api {
        origin: origin.expect("serve printed where it listens"),
        tenant: "acme".into(),
        token: token.expect("serve printed the tenant token"),
        ca: ca.expect("serve printed its CA"),
    };
    assert!(api.origin.starts_with("https://127.0.0.1:"));

    // A wrong token and bad input are refused with a reason.
    let wrong = Api {
        token: "mdmtn_wrong".into(),
        ..Api {
            origin: api.origin.clone(),
            tenant: api.tenant.clone(),
            token: String::new(),
            ca: api.ca.clone(),
        }
    };
    assert_eq!(wrong.call("GET", "devices", "application/json", b"").0, 401);
    let (status, reason) = api.call("POST", "users", "application/json", b"{not json");
    assert_eq!(status, 400, "{reason}");
    assert!(reason.contains("invalid JSON"), "{reason}");

    // The APNs certificate, the users, their invitations.
    let uploaded = api.json(
        "PUT",
        "apns-certificate",
        &serde_json::json!({
            "file_name": "push.pem",
            "data_base64": base64_encode(push_file.as_bytes()),
        }),
    );
    assert_eq!(uploaded["details"]["topic"], apple.topic.as_str());
    let accounts: Vec<String> = (0..DEVICES).map(|i| format!("user{i}")).collect();
    for account in &accounts {
        api.json(
            "POST",
            "users",
            &serde_json::json!({ "account": account, "email": format!("{account}@acme.example") }),
        );
    }
    let sent = api.json(
        "POST",
        "invitations",
        &serde_json::json!({ "accounts": accounts, "language": "ja" }),
    );
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), DEVICES);

    // mdmb's devices, one profile each (one-time passwords).
    std::fs::create_dir_all(dir.join("mdmb")).unwrap();
    let mdmb_dir = dir.join("mdmb");
    mdmb(
        &mdmb_bin,
        &mdmb_dir,
        &api.ca,
        &["devices-create", "-n", &DEVICES.to_string()],
    );
    let listed = mdmb(&mdmb_bin, &mdmb_dir, &api.ca, &["devices-list"]);
    let udids: Vec<&str> = listed.lines().filter(|l| l.len() == 36).collect();
    assert_eq!(udids.len(), DEVICES, "{listed}");
    for (i, (message, udid)) in messages.iter().zip(&udids).enumerate() {
        let link = message["link"].as_str().unwrap();
        assert!(message["text"].as_str().unwrap().contains(link));
        let profile = dir.join(format!("enroll-{i}.mobileconfig"));
        let out = Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(&api.ca)
            .args(["-A", IPHONE, "-o"])
            .arg(&profile)
            .args(["-w", "%{http_code} %{content_type}", link])
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(got, "200 application/x-apple-aspen-config", "{link}");
        let bytes = std::fs::read(&profile).unwrap();
        assert_eq!(
            bytes.first(),
            Some(&0x30),
            "the profile is CMS-signed (DER)"
        );
        // openssl checks the signature against our CA and gives the
        // content: mdmb reads only unsigned profiles.
        let content = dir.join(format!("enroll-{i}.xml"));
        let verified = Command::new("openssl")
            .args(["cms", "-verify", "-inform", "DER", "-purpose", "any", "-in"])
            .arg(&profile)
            .arg("-CAfile")
            .arg(&api.ca)
            .arg("-out")
            .arg(&content)
            .output()
            .expect("openssl runs");
        assert!(
            verified.status.success(),
            "openssl cms -verify: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
        let xml = std::fs::read_to_string(&content).unwrap();
        assert!(xml.contains("<key>SignMessage</key>") && xml.contains("<true/>"));
        assert!(xml.contains(&format!("{}/t/acme/checkin", api.origin)));
        assert!(xml.contains(&format!("{}/t/acme/scep", api.origin)));
        let installed = mdmb(
            &mdmb_bin,
            &mdmb_dir,
            &api.ca,
            &[
                "-uuids",
                udid,
                "devices-profiles-install",
                "-f",
                content.to_str().unwrap(),
            ],
        );
        assert!(
            !installed.to_lowercase().contains("error"),
            "mdmb install {udid}: {installed}"
        );
        // The same link again: the invitation is used (R-IN-1).
        let again = Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(&api.ca)
            .args(["-A", IPHONE, "-o", "/dev/null", "-w", "%{http_code}", link])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&again.stdout), "410", "a used link");
    }

    // Every device authenticated and connected (TokenUpdate accepted).
    let devices = api.json("GET", "devices", &Value::Null);
    let list = devices["devices"].as_array().unwrap();
    assert_eq!(list.len(), DEVICES, "{devices}");
    for udid in &udids {
        let device = list
            .iter()
            .find(|d| d["udid"] == *udid)
            .unwrap_or_else(|| panic!("{udid} authenticated: {devices}"));
        assert_eq!(device["state"], "connected", "{device}");
    }

    // A raw command plist through our enqueue, fetched and acknowledged.
    let uuid = "0C2A5B8E-9F33-4C55-A0F1-3B1E2A7D6C19";
    let plist = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>Command</key><dict><key>RequestType</key><string>DeviceInformation</string>
<key>Queries</key><array><string>DeviceName</string><string>SerialNumber</string><string>UDID</string></array></dict>
<key>CommandUUID</key><string>{uuid}</string>
</dict></plist>"#
    );
    let (status, text) = api.call(
        "PUT",
        &format!("enqueue/{}?nopush=1", udids.join(",")),
        "application/xml",
        plist.as_bytes(),
    );
    assert_eq!(status, 200, "{text}");
    let queued: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(queued["command_uuid"], uuid);
    let pending = api.json("GET", "devices", &Value::Null);
    assert!(
        pending["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["pending_commands"] == 1),
        "{pending}"
    );
    let connected = mdmb(
        &mdmb_bin,
        &mdmb_dir,
        &api.ca,
        &["-uuids", "all", "devices-connect", "-w", "2"],
    );
    assert!(
        connected.contains(&format!("Total MDM connects {DEVICES} (100%)"))
            || connected.contains(&format!("Total MDM connects  {DEVICES} (100%)"))
            || connected
                .lines()
                .any(|l| l.starts_with("Total MDM connects")
                    && l.contains(&format!(" {DEVICES} (100%)"))),
        "{connected}"
    );
    assert!(
        connected
            .lines()
            .any(|l| l.starts_with("Errors") && l.contains(" 0 (0%)")),
        "{connected}"
    );
    let after = api.json("GET", "devices", &Value::Null);
    for device in after["devices"].as_array().unwrap() {
        assert_eq!(device["pending_commands"], 0, "acknowledged: {device}");
        assert!(device["syncs"].as_u64().unwrap() >= 1, "{device}");
    }
    // A typed command, pushed through the APNs client to the stand-in
    // (mdmb cannot receive pushes: devices-connect stands in for the wake),
    // then fetched and acknowledged.
    let served_before = standin.book().lock().unwrap().served();
    let pushed = api.json(
        "POST",
        "commands",
        &serde_json::json!({
            "devices": udids,
            "command": { "request_type": "ProfileList" },
        }),
    );
    assert_eq!(pushed["push"]["sent"], DEVICES, "{pushed}");
    // mdmb makes its push tokens up; APNs (and its stand-in) never issued
    // them, so each push is answered BadDeviceToken — but each reached it.
    assert!(
        pushed["push"]["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.as_str().unwrap().contains("BadDeviceToken")),
        "{pushed}"
    );
    assert_eq!(
        standin.book().lock().unwrap().served() - served_before,
        DEVICES as u64
    );
    mdmb(
        &mdmb_bin,
        &mdmb_dir,
        &api.ca,
        &["-uuids", "all", "devices-connect", "-w", "2"],
    );
    let after = api.json("GET", "devices", &Value::Null);
    for device in after["devices"].as_array().unwrap() {
        assert_eq!(device["pending_commands"], 0, "acknowledged: {device}");
    }

    let audit = api.json("GET", "audit", &Value::Null);
    assert!(
        audit["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["status"] == 401)
    );

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
    runtime.block_on(standin.stop());
    let _ = std::fs::remove_dir_all(&dir);
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
