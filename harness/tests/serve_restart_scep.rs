//! A restart of `mdm-harness serve` between a device downloading its
//! enrollment profile and its SCEP `PKCSReq` loses nothing (issue #19):
//! the profile's one-time password is in the tenant's store.
//!
//! An iPhone (the harness's wire device: Safari's User-Agent on the
//! invitation link, the signed profile checked up to the tenant's CA) opens
//! its link; serve is stopped with SIGTERM (by PID) and started again on
//! the same state folder and store; the device runs SCEP (`GetCACert`,
//! `PKCSReq` with the profile's challenge) and gets its certificate, and
//! its `Authenticate` and `TokenUpdate`, signed with it, are accepted.
//! After another restart the same challenge is refused with a CertRep
//! FAILURE (the password was used), while the enrolled device still checks
//! in.
//!
//! Over PostgreSQL, two processes share the passwords too: one handed out
//! by process A is redeemed through B, and refused when replayed through A.
//!
//! On SQLite always; on PostgreSQL when `MDM_TEST_POSTGRES` names a
//! database (a connection URL or libpq's `key=value` words, as
//! `.ci/postgres-start` prints), skipped with a message otherwise, except
//! under `CI=true`, where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use harness::load::client::Endpoint;
use harness::load::device::WireDevice;
use harness::load::enroll::{
    IPHONE_USER_AGENT, ProfileFacts, open_link, read_enrollment, rsa_pool, scep_identity,
};
use harness::load::report::{Recorder, Step};
use mdm_apple::ProfileSigner;
use mdm_certs::{Certificate, PrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::{Value, json};
use serve_support::{Api, Schema, Server, args, postgres, push_certificate, serve_args, test_dir};

const UDID: &str = "5C3A1E2B-4D6F-4A8B-9C0D-1E2F3A4B5C6D";

/// A single-threaded runtime for the wire device.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A connection to `server`, trusting its listener's CA.
fn endpoint(server: &Server) -> Arc<Endpoint> {
    let ca = std::fs::read_to_string(&server.ca).unwrap();
    Arc::new(Endpoint::https("127.0.0.1", server.port, &ca, Duration::from_secs(30)).unwrap())
}

/// The APNs certificate uploaded, a user invited: the invitation link's path.
fn invitation(api: &Api, push_pem: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(push_pem.as_bytes());
    api.json(
        "PUT",
        "apns-certificate",
        &json!({ "file_name": "push.pem", "data_base64": encoded }),
    );
    api.json(
        "POST",
        "users",
        &json!({ "account": "alice", "email": "alice@example.com" }),
    );
    let sent = api.json("POST", "invitations", &json!({ "accounts": ["alice"] }));
    let link = sent["messages"][0]["link"].as_str().unwrap().to_owned();
    let at = link.find("/t/").expect("a tenant path in the link");
    link[at..].to_owned()
}

/// SCEP with the profile's challenge for `key`, against `server`.
fn scep(
    server: &Server,
    facts: &ProfileFacts,
    key: &PrivateKey,
    seed: u64,
) -> Result<Certificate, harness::load::device::Failure> {
    let endpoint = endpoint(server);
    let recorder = Recorder::new();
    runtime().block_on(async {
        let mut conn = endpoint.connection();
        let now = time::OffsetDateTime::now_utc();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        scep_identity(&mut conn, &recorder, facts, key, now, &mut rng).await
    })
}

/// The whole story for `tenant`, its state in `dir`, serve given `extra`
/// arguments (the store).
fn a_profile_downloaded_before_a_restart_enrolls_after_it(
    tenant: &str,
    dir: &Path,
    extra: &[OsString],
) {
    let (push_pem, issuer) = push_certificate(dir);
    let mut serve_args = serve_args(tenant, &dir.join("state"), &issuer, None);
    serve_args.extend_from_slice(extra);
    let keys = rsa_pool(2, 19).unwrap();

    // The profile is downloaded (and so acknowledged) by the first process.
    let first = Server::start(&serve_args, &dir.join("first.log"));
    let token = first
        .tokens
        .get(tenant)
        .expect("the tenant's token")
        .clone();
    let link = invitation(&first.api(tenant, &token), &push_pem);
    let endpoint_one = endpoint(&first);
    let profile = runtime().block_on(async {
        let mut conn = endpoint_one.connection();
        open_link(&mut conn, &Recorder::new(), &link, IPHONE_USER_AGENT).await
    });
    let profile = profile.unwrap_or_else(|f| panic!("the link: {f:?}"));
    let trust = Certificate::all_from_pem(&std::fs::read_to_string(&first.ca).unwrap()).unwrap();
    let facts = read_enrollment(&profile, &trust, time::OffsetDateTime::now_utc()).unwrap();
    assert_eq!(
        facts.scep.challenge.as_deref().unwrap_or_default().len(),
        26,
        "{facts:?}"
    );
    first.stop();

    // After a restart the password still works: a certificate, then
    // Authenticate and TokenUpdate signed with it.
    let second = Server::start(&serve_args, &dir.join("second.log"));
    assert!(
        second.tokens.is_empty(),
        "the tenant is read back, not made"
    );
    let certificate = scep(&second, &facts, &keys[0], 1)
        .unwrap_or_else(|f| panic!("SCEP after the restart: {f:?}"));
    let tenant_ca = Certificate::from_pem(
        &std::fs::read_to_string(dir.join("state").join(tenant).join("ca.pem")).unwrap(),
    )
    .unwrap();
    assert!(certificate.is_signed_by(&tenant_ca));
    let signer = ProfileSigner::new(&[certificate.der()], keys[0].pkcs8_der_secret()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut device = WireDevice::with_signer(UDID.into(), signer, &mut rng);
    let endpoint_two = endpoint(&second);
    let recorder = Recorder::new();
    runtime().block_on(async {
        let mut conn = endpoint_two.connection();
        device
            .enroll(&mut conn, &facts.paths, &recorder)
            .await
            .unwrap_or_else(|f| panic!("Authenticate/TokenUpdate: {f:?}"));
    });
    let api = second.api(tenant, &token);
    let listed = api.json("GET", "devices", &Value::Null);
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{listed}");
    assert_eq!(devices[0]["udid"], UDID, "{listed}");
    assert_eq!(devices[0]["state"], "connected", "{listed}");
    second.stop();

    // After another restart the same challenge is refused (used), and the
    // device enrolled with it still checks in.
    let third = Server::start(&serve_args, &dir.join("third.log"));
    let refused = match scep(&third, &facts, &keys[1], 3) {
        Ok(c) => panic!("a used challenge was accepted: {}", c.info().subject),
        Err(f) => f,
    };
    assert_eq!(
        (refused.step, refused.kind.as_str()),
        (Step::Scep, "refused"),
        "a CertRep FAILURE: {refused:?}"
    );
    let api = third.api(tenant, &token);
    let audit = api.json("GET", "audit", &Value::Null);
    let reasons: Vec<&str> = audit["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["route"] == "scep")
        .filter_map(|f| f["reason"].as_str())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("CertRep FAILURE") && r.contains("already used")),
        "refused as used, not as unknown: {reasons:?}"
    );
    // The workspace's own audit log has it too, with the model's reason.
    let refusals: Vec<&Value> = audit["workspace"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["event"] == "client_certificate_refused")
        .collect();
    assert!(
        refusals.iter().any(|e| e["reason"] == "password_used"),
        "the workspace audits the refusal: {refusals:?}"
    );
    let endpoint_three = endpoint(&third);
    runtime().block_on(async {
        let mut conn = endpoint_three.connection();
        device
            .connect(&mut conn, &facts.paths, &recorder)
            .await
            .unwrap_or_else(|f| panic!("Idle after the restarts: {f:?}"));
    });
    third.stop();
}

#[test]
fn a_one_time_password_survives_a_restart_on_sqlite_and_stays_one_time() {
    let dir = test_dir("restart-scep");
    a_profile_downloaded_before_a_restart_enrolls_after_it("acme", &dir, &[]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `--store` argument for `connection`.
fn postgres_store(connection: &str) -> String {
    if connection.starts_with("postgres://") || connection.starts_with("postgresql://") {
        connection.to_owned()
    } else {
        format!("postgres:{connection}")
    }
}

/// Two processes over one PostgreSQL store: the profile downloaded through
/// A is redeemed through B (B catches up with A's commit first), and the
/// same challenge replayed through A is refused as used.
#[test]
fn a_password_handed_out_by_one_process_is_redeemed_once_through_another() {
    let Some(connection) = postgres() else {
        return;
    };
    let store = postgres_store(&connection);
    let tenant = format!("otpab{}", std::process::id());
    let _schema = Schema {
        connection,
        name: format!("mdm_{tenant}"),
    };
    let dir = test_dir("scep-two-processes");
    let (push_pem, issuer) = push_certificate(&dir);
    let mut serve_args = serve_args(&tenant, &dir.join("state"), &issuer, None);
    serve_args.extend(args(["--store", &store]));
    let keys = rsa_pool(2, 23).unwrap();
    let a = Server::start(&serve_args, &dir.join("a.log"));
    let token = a.tokens.get(&tenant).expect("A made the token").clone();
    let b = Server::start(&serve_args, &dir.join("b.log"));

    let link = invitation(&a.api(&tenant, &token), &push_pem);
    let endpoint_a = endpoint(&a);
    let profile = runtime()
        .block_on(async {
            let mut conn = endpoint_a.connection();
            open_link(&mut conn, &Recorder::new(), &link, IPHONE_USER_AGENT).await
        })
        .unwrap_or_else(|f| panic!("the link through A: {f:?}"));
    let trust = Certificate::all_from_pem(&std::fs::read_to_string(&a.ca).unwrap()).unwrap();
    let facts = read_enrollment(&profile, &trust, time::OffsetDateTime::now_utc()).unwrap();

    let certificate = scep(&b, &facts, &keys[0], 5)
        .unwrap_or_else(|f| panic!("SCEP through B with A's password: {f:?}"));
    let signer = ProfileSigner::new(&[certificate.der()], keys[0].pkcs8_der_secret()).unwrap();
    let mut device =
        WireDevice::with_signer(UDID.into(), signer, &mut ChaCha20Rng::seed_from_u64(6));
    let endpoint_b = endpoint(&b);
    runtime().block_on(async {
        let mut conn = endpoint_b.connection();
        device
            .enroll(&mut conn, &facts.paths, &Recorder::new())
            .await
            .unwrap_or_else(|f| panic!("Authenticate/TokenUpdate through B: {f:?}"));
    });
    match scep(&a, &facts, &keys[1], 7) {
        Ok(c) => panic!("A accepted the password B redeemed: {}", c.info().subject),
        Err(f) => assert_eq!((f.step, f.kind.as_str()), (Step::Scep, "refused"), "{f:?}"),
    }
    let listed = a.api(&tenant, &token).json("GET", "devices", &Value::Null);
    assert_eq!(listed["devices"][0]["udid"], UDID, "{listed}");
    b.stop();
    a.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_one_time_password_survives_a_restart_on_postgres_and_stays_one_time() {
    let Some(connection) = postgres() else {
        return;
    };
    let store = postgres_store(&connection);
    let tenant = format!("otp{}", std::process::id());
    let _schema = Schema {
        connection,
        name: format!("mdm_{tenant}"),
    };
    let dir = test_dir("restart-scep-pg");
    a_profile_downloaded_before_a_restart_enrolls_after_it(
        &tenant,
        &dir,
        &args(["--store", &store]),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
