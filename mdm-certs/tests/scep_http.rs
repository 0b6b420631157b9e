//! SCEP over HTTP against micromdm's own client (Debian's `scepclient`):
//! our route on 127.0.0.1, a real enrolment that `openssl verify` chains
//! to our CA, and the refusals (a reused and a wrong password) the client
//! reports. In CI a missing `scepclient` or `openssl` is a failure.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mdm_certs::{
    CertificateAuthority, ClientIdentity, FailInfo, KeyAlgorithm, OtpPolicy, PrivateKey,
    ScepChallenges, ScepConfig, ScepOutcome, ScepRoute, ScepServer, SubjectName, Validity,
    scep_router,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;

use crate::openssl::{Dir, have, run, s};

/// The RSA 2048 CA key, made once per test binary.
fn ca_key() -> PrivateKey {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    let der = KEY.get_or_init(|| {
        PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut ChaCha20Rng::seed_from_u64(8894))
            .unwrap()
            .pkcs8_der_secret()
            .to_vec()
    });
    PrivateKey::from_pkcs8_der(der).unwrap()
}

/// The test's wall clock (scepclient stamps its messages with real time).
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Our SCEP route on 127.0.0.1 (a port the OS picks), stopped on drop.
struct Served {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    outcomes: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start(server: ScepServer, store: Arc<ScepChallenges>) -> Self {
        let seed = AtomicU64::new(1);
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&outcomes);
        let route = ScepRoute {
            server: Arc::new(server),
            store,
            now: Arc::new(now),
            rng: Arc::new(move || {
                Box::new(ChaCha20Rng::seed_from_u64(
                    seed.fetch_add(1, Ordering::Relaxed),
                ))
            }),
            audit: Arc::new(move |o: &ScepOutcome| {
                let line = match o {
                    ScepOutcome::Issued { .. } => "issued".to_owned(),
                    ScepOutcome::Pending { .. } => "pending".to_owned(),
                    ScepOutcome::Refused {
                        fail_info, error, ..
                    } => format!("refused {fail_info}: {error}"),
                    _ => "other".to_owned(),
                };
                log.lock().unwrap().push(line);
            }),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, scep_router(route))
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            port,
            stop: Some(stop),
            thread: Some(thread),
            outcomes,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/scep", self.port)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs `scepclient` with `args`, killed (by its PID) after 60 s.
fn scepclient(args: &[&str]) -> (bool, String) {
    let mut child = Command::new("scepclient")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn rsa_ca() -> CertificateAuthority {
    CertificateAuthority::create_with_key(
        &SubjectName::common_name("SCEP Test CA").unwrap(),
        Validity::days(now() - time::Duration::days(1), 3650).unwrap(),
        ca_key(),
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap()
}

/// One `scepclient` enrolment in its own folder: it writes (and reuses)
/// `self.pem` and `csr.pem` beside the key.
fn enrol(served: &Served, dir: &Dir, name: &str, challenge: &str) -> (bool, String) {
    std::fs::create_dir_all(dir.path(name)).unwrap();
    let key = dir.path(&format!("{name}/key.pem"));
    let cert = dir.path(&format!("{name}/cert.pem"));
    scepclient(&[
        "-server-url",
        &served.url(),
        "-challenge",
        challenge,
        "-private-key",
        s(&key),
        "-certificate",
        s(&cert),
        "-cn",
        name,
    ])
}

#[test]
fn scepclient_enrols_once_with_its_one_time_password() {
    if !have("scepclient") || !have("openssl") {
        return;
    }
    let ca = rsa_ca();
    let dir = Dir::new("scep-http");
    let ca_pem = dir.write("ca.pem", ca.certificate().pem());
    let store = Arc::new(ScepChallenges::new());
    let identity = ClientIdentity::new("alice@example.com", Some("device-7")).unwrap();
    let otp = store.issue(
        identity,
        OtpPolicy::default(),
        now(),
        &mut ChaCha20Rng::seed_from_u64(2),
    );
    let served = Served::start(
        ScepServer::new(ca, ScepConfig::default()).unwrap(),
        Arc::clone(&store),
    );

    // The real enrolment: a certificate that chains to our CA, with the
    // subject the server chose (not the client's `-cn`).
    let (ok, out) = enrol(&served, &dir, "first", otp.expose());
    assert!(
        ok,
        "scepclient failed: {out} {:?}",
        served.outcomes.lock().unwrap()
    );
    let cert = dir.path("first/cert.pem");
    let (ok, out) = run("openssl", &["verify", "-CAfile", s(&ca_pem), s(&cert)]);
    assert!(ok, "openssl verify: {out}");
    let (_, subject) = run(
        "openssl",
        &[
            "x509",
            "-in",
            s(&cert),
            "-noout",
            "-subject",
            "-ext",
            "extendedKeyUsage",
        ],
    );
    assert!(
        subject.contains("alice@example.com") && subject.contains("device-7"),
        "{subject}"
    );
    assert!(
        subject.contains("TLS Web Client Authentication"),
        "{subject}"
    );

    // The same password again: refused, and scepclient says so.
    let (ok, out) = enrol(&served, &dir, "second", otp.expose());
    assert!(
        !ok && out.contains("failInfo"),
        "a reused password was not refused: {out}"
    );
    assert!(out.contains("badRequest"), "{out}");
    assert!(!dir.path("second/cert.pem").exists());

    // A wrong password: refused too.
    let (ok, out) = enrol(&served, &dir, "third", "WRONGPASSWORD23456789ABCDE");
    assert!(
        !ok && out.contains("failInfo"),
        "a wrong password was not refused: {out}"
    );

    let outcomes = served.outcomes.lock().unwrap().clone();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert_eq!(outcomes[0], "issued");
    assert!(
        outcomes[1].starts_with(&format!("refused {}", FailInfo::BadRequest)),
        "{outcomes:?}"
    );
    assert!(outcomes[1].contains("already used"), "{outcomes:?}");
    assert!(
        outcomes[2].contains("matches no one-time password"),
        "{outcomes:?}"
    );
}
