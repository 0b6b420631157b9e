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

mod serve_support;

use std::process::Command;

use harness::apns_standin::{
    APNS_MAX_CONCURRENT_STREAMS, ApnsBook, ApnsStandIn, FaultPlan, SimulatedApple, StandInConfig,
};
use mdm_apple::ApnsEnvironment;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;
use serve_support::{
    Api, IPHONE, Server, args, download_profile, install_profile, mdmb, serve_args, tool,
    verify_profile,
};

const DEVICES: usize = 3;

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

    let mut serve_args = serve_args("acme", &dir.join("state"), &issuer, None);
    serve_args.extend(args([
        "--apns",
        &format!("https://{}", standin.local_addr()),
    ]));
    serve_args.push("--apns-ca".into());
    serve_args.push(apns_ca.into());
    let server = Server::start(&serve_args, &dir.join("serve.log"));
    let token = server
        .tokens
        .get("acme")
        .expect("serve printed the tenant token");
    let api = server.api("acme", token);
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
        let got = download_profile(&api.ca, link, &profile);
        assert_eq!(got, "200 application/x-apple-aspen-config", "{link}");
        let bytes = std::fs::read(&profile).unwrap();
        assert_eq!(
            bytes.first(),
            Some(&0x30),
            "the profile is CMS-signed (DER)"
        );
        let content = dir.join(format!("enroll-{i}.xml"));
        verify_profile(&api.ca, &profile, &content);
        let xml = std::fs::read_to_string(&content).unwrap();
        assert!(xml.contains("<key>SignMessage</key>") && xml.contains("<true/>"));
        assert!(xml.contains(&format!("{}/t/acme/checkin", api.origin)));
        assert!(xml.contains(&format!("{}/t/acme/scep", api.origin)));
        install_profile(&mdmb_bin, &mdmb_dir, &api.ca, udid, &content);
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
    server.stop();
    runtime.block_on(standin.stop());
    let _ = std::fs::remove_dir_all(&dir);
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
