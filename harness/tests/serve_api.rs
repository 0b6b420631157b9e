//! `serve` in process on 127.0.0.1, driven with `curl` (issue #19): the
//! OpenAPI description (`harness/openapi/serve.json`) against the routes
//! actually served, bad input at every kind of route answered with a 4xx,
//! its reason and an audit fact, and a restart that keeps the workspace
//! and the tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use harness::serve::{ServeOptions, StoreSpec, TenantName, admin};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;

fn options(state: &Path) -> ServeOptions {
    let seed = Arc::new(std::sync::atomic::AtomicU64::new(1));
    ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        host: None,
        public_port: None,
        store: StoreSpec::Sqlite(state.join("db")),
        tenants: vec![TenantName::parse("acme").unwrap()],
        state_dir: state.to_path_buf(),
        apns_issuers: Vec::new(),
        apns_url: "https://api.push.apple.com".into(),
        apns_ca: None,
        grace: std::time::Duration::from_secs(5),
        clock: time::OffsetDateTime::now_utc,
        rng: Arc::new(move || {
            ChaCha20Rng::seed_from_u64(seed.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        }),
    }
}

/// method, path, headers, body, status wanted, words the reason holds.
type Case<'a> = (&'a str, String, Vec<&'a str>, Vec<u8>, u16, &'a str);

struct Client {
    origin: String,
    ca: PathBuf,
}

impl Client {
    /// `curl`; returns (status, body).
    fn call(&self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> (u16, String) {
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--cacert"])
            .arg(&self.ca)
            .args(["-X", method]);
        for h in headers {
            command.args(["-H", h]);
        }
        if !body.is_empty() {
            command.args(["--data-binary", "@-"]);
        }
        let mut child = command
            .args(["-w", "\n%{http_code}", &format!("{}{path}", self.origin)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("curl runs");
        child.stdin.take().unwrap().write_all(body).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.trim().parse().unwrap(), body.to_owned())
    }
}

#[test]
fn the_api_matches_its_openapi_description_and_bad_input_is_refused_with_reasons() {
    let dir = std::env::temp_dir().join(format!("serve-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let running = runtime
        .block_on(harness::serve::start(options(&dir)))
        .unwrap();
    let token = running
        .new_tokens
        .iter()
        .find(|(who, _)| who == "acme")
        .map(|(_, t)| t.clone())
        .unwrap();
    let operator = running
        .new_tokens
        .iter()
        .find(|(who, _)| who == "operator")
        .map(|(_, t)| t.clone())
        .unwrap();
    let client = Client {
        origin: running.origin.clone(),
        ca: running.tls_ca_file.clone(),
    };
    let auth = format!("Authorization: Bearer {token}");
    let json_type = "Content-Type: application/json";

    // The description and the served table are the same operations…
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/serve.json"))
            .unwrap(),
    )
    .unwrap();
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let served: BTreeSet<(String, String)> = admin::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, served);
    // …and each is answered on the wire: by its route (not the fallback's
    // 404, not 405) with a token, 401
    // without, 405 for a method the description does not list.
    for (method, path) in &documented {
        let concrete = format!(
            "/t/acme{}",
            path.replace("{devices}", "UDID-1")
                .replace("{device}", "UDID-1")
        );
        let (status, body) = client.call(method, &concrete, &[&auth, json_type], b"{}");
        // A 404 from the route itself (an unknown device) names what it
        // did not find; only the fallback answers "no route".
        let routed = status != 405 && !(status == 404 && body.contains("no route"));
        assert!(routed, "{method} {path}: {status} {body}");
        let (status, _) = client.call(method, &concrete, &[json_type], b"{}");
        assert_eq!(status, 401, "{method} {path} without a token");
        for other in ["GET", "POST", "PUT", "DELETE"] {
            if !documented.contains(&(other.to_owned(), path.clone())) {
                let (status, _) = client.call(other, &concrete, &[&auth], b"");
                assert_eq!(status, 405, "{other} {path} is not documented");
            }
        }
    }
    // The operator token works for the tenant too.
    let op_auth = format!("Authorization: Bearer {operator}");
    assert_eq!(
        client
            .call("GET", "/t/acme/api/v1/devices", &[&op_auth], b"")
            .0,
        200
    );

    // Bad input: each a 4xx with its reason.
    let cases: Vec<Case<'_>> = vec![
        (
            "GET",
            "/t/nope/api/v1/devices".into(),
            vec![&auth],
            vec![],
            404,
            "unknown tenant",
        ),
        (
            "PUT",
            "/t/acme/mdm".into(),
            vec![],
            vec![b'x'; 5 * 1024 * 1024],
            413,
            "",
        ),
        (
            "PUT",
            "/t/acme/checkin".into(),
            vec![],
            vec![b'x'; 5 * 1024 * 1024],
            413,
            "limit",
        ),
        (
            "PUT",
            "/t/acme/checkin".into(),
            vec![],
            b"<plist><dict>".to_vec(),
            400,
            "",
        ),
        (
            "POST",
            "/t/acme/scep?operation=PKIOperation".into(),
            vec![],
            b"not DER".to_vec(),
            400,
            "",
        ),
        (
            "GET",
            "/t/acme/scep?operation=GetNextCACert".into(),
            vec![],
            vec![],
            400,
            "not served",
        ),
        (
            "POST",
            "/t/acme/api/v1/users".into(),
            vec![&auth, "Content-Type: text/plain"],
            b"{}".to_vec(),
            415,
            "application/json",
        ),
        (
            "POST",
            "/t/acme/api/v1/users".into(),
            vec![&auth, json_type],
            b"{\"account\":".to_vec(),
            400,
            "invalid JSON",
        ),
        (
            "POST",
            "/t/acme/api/v1/users".into(),
            vec![&auth, json_type],
            b"{\"account\":\"a\",\"x\":1}".to_vec(),
            400,
            "unknown field",
        ),
        (
            "PUT",
            "/t/acme/api/v1/enqueue/UDID-1".into(),
            vec![&auth],
            b"<plist>".to_vec(),
            400,
            "not a command plist",
        ),
        (
            "POST",
            "/t/acme/api/v1/commands".into(),
            vec![&auth, json_type],
            br#"{"devices":["U"],"command":{"request_type":"Nope"}}"#.to_vec(),
            422,
            "no JSON form",
        ),
        (
            "PUT",
            "/t/acme/api/v1/apns-certificate".into(),
            vec![&auth, json_type],
            br#"{"file_name":"a.pem","data_base64":"!!"}"#.to_vec(),
            400,
            "data_base64",
        ),
        (
            "GET",
            "/t/acme/enroll/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            vec!["User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"],
            vec![],
            404,
            "",
        ),
        (
            "POST",
            "/t/acme/api/v1/invitations".into(),
            vec![&auth, json_type],
            br#"{"accounts":["ghost"]}"#.to_vec(),
            404,
            "no user",
        ),
    ];
    // The Android agent's routes are mounted (mdm-android's sync_router).
    let mut cases = cases;
    cases.push((
        "POST",
        "/t/acme/android/sync".into(),
        vec!["Content-Type: text/plain"],
        b"{}".to_vec(),
        415,
        "",
    ));
    cases.push((
        "POST",
        "/t/acme/android/register".into(),
        vec!["Authorization: Invitation AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
        vec![],
        404,
        "",
    ));
    for (method, path, headers, body, want, reason) in &cases {
        let (status, text) = client.call(method, path, headers, body);
        assert_eq!(status, *want, "{method} {path}: {text}");
        assert!(
            text.contains(reason),
            "{method} {path}: {text:?} lacks {reason:?}"
        );
        assert!(!text.is_empty(), "{method} {path}: no reason given");
    }
    let (status, audit) = client.call("GET", "/t/acme/api/v1/audit", &[&auth], b"");
    assert_eq!(status, 200);
    let audit: Value = serde_json::from_str(&audit).unwrap();
    let facts: BTreeSet<u64> = audit["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_u64().unwrap())
        .collect();
    for status in [400, 401, 404, 413, 415, 422] {
        assert!(facts.contains(&status), "a fact for {status}: {facts:?}");
    }
    let workspace_log = audit["workspace"].to_string();
    assert!(
        workspace_log.contains("apple_request_refused"),
        "{workspace_log}"
    );
    assert_eq!(client.call("GET", "/healthz", &[], b"").0, 200);

    // A user, then a restart over the same state folder and store.
    let (status, _) = client.call(
        "POST",
        "/t/acme/api/v1/users",
        &[&auth, json_type],
        br#"{"account":"alice","email":"alice@acme.example"}"#,
    );
    assert_eq!(status, 201);
    assert_eq!(runtime.block_on(running.shutdown()), 0);
    let again = runtime
        .block_on(harness::serve::start(options(&dir)))
        .unwrap();
    assert!(again.new_tokens.is_empty(), "tokens are made once");
    let client = Client {
        origin: again.origin.clone(),
        ca: again.tls_ca_file.clone(),
    };
    let (status, text) = client.call(
        "POST",
        "/t/acme/api/v1/invitations",
        &[&auth, json_type],
        br#"{"accounts":["alice"],"language":"ru"}"#,
    );
    assert_eq!(status, 201, "alice survived the restart: {text}");
    let sent: Value = serde_json::from_str(&text).unwrap();
    assert!(
        sent["messages"][0]["link"]
            .as_str()
            .unwrap()
            .contains("/t/acme/enroll/")
    );
    assert_eq!(runtime.block_on(again.shutdown()), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
