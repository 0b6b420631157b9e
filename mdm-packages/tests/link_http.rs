//! Invitation links over real HTTP on 127.0.0.1 (feature `http`), opened by
//! curl with real User-Agent strings: Android to the store with the link as
//! referrer, iPhone to the enrollment profile, a desktop to a page that
//! explains; used, expired and malformed links refused with a reason and an
//! audit fact. In CI a missing curl is a failure.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mdm_apple::{EnrollmentIdentity, EnrollmentParams, HttpsUrl, ScepIdentity};
use mdm_model::{
    ApnsCertificateRecord, AuditEvent, InvitationState, InvitationToken, PushTopic, Refusal,
    Workspace,
};
use mdm_packages::http::{AndroidDownload, AppleDownload, LinkRoute, LinkServer, link_router};
use mdm_packages::{InvitationLink, LinkBase};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);
const STORE: &str = "https://play.google.com/store/apps/details?id=com.example.agent";
const PIXEL: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

struct Server {
    port: u16,
    state: Arc<Mutex<LinkServer>>,
    clock: Arc<Mutex<OffsetDateTime>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn base() -> LinkBase {
    LinkBase::parse("https://mdm.acme.example").unwrap()
}

/// A workspace with an APNs certificate and `n` pending invitations.
fn start(n: usize) -> (Server, Vec<InvitationLink>) {
    start_with(n, AndroidDownload::StoreListing { url: STORE.into() }, None)
}

/// The same, Android served `android`, profiles signed by `signer`.
fn start_with(
    n: usize,
    android: AndroidDownload,
    signer: Option<Arc<mdm_apple::ProfileSigner>>,
) -> (Server, Vec<InvitationLink>) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut ws = Workspace::new("acme", "Acme Corp", Some("JP"), NOW).unwrap();
    let record = ApnsCertificateRecord::new(
        PushTopic::parse("com.apple.mgmt.External.8a4f2c1e-0000-4000-8000-000000000001").unwrap(),
        "Apple Application Integration 2 Certification Authority",
        datetime!(2026-01-01 00:00 UTC),
        datetime!(2027-11-01 00:00 UTC),
        mdm_model::Sha256Digest::from_bytes([7; 32]),
    )
    .unwrap();
    ws.set_apns_certificate(record, NOW);
    let email = mdm_model::EmailAddress::parse("taro@acme.example").unwrap();
    let user = ws.add_user("taro", Some(email), NOW).unwrap();
    let links = (0..n)
        .map(|_| base().link(ws.issue_invitation(user, NOW, &mut rng).unwrap().token))
        .collect();
    let state = Arc::new(Mutex::new(LinkServer {
        workspace: ws,
        packages: BTreeMap::new(),
    }));
    let clock = Arc::new(Mutex::new(NOW));
    let now = Arc::clone(&clock);
    let seed = AtomicU64::new(1);
    let route = LinkRoute {
        state: Arc::clone(&state),
        link_base: base(),
        android,
        apple: AppleDownload {
            params: EnrollmentParams {
                server_url: HttpsUrl::new("ServerURL", "https://mdm.acme.example/mdm").unwrap(),
                check_in_url: None,
                topic: PushTopic::parse("com.apple.mgmt.placeholder").unwrap(),
                identity: EnrollmentIdentity::Scep(ScepIdentity::new(
                    "https://mdm.acme.example/scep",
                )),
                server_root_ca_der: None,
                identifier_prefix: "example.acme.mdm".into(),
                organization: "Acme Corp".into(),
            },
            // A one-time challenge per accepted enrollment, as a server mints it.
            prepare: Some(Arc::new(|params, _now| {
                if let EnrollmentIdentity::Scep(scep) = &mut params.identity {
                    scep.challenge = Some("one-time-challenge-1".into());
                }
                Ok(())
            })),
            signer,
        },
        now: Arc::new(move || *now.lock().unwrap()),
        rng: Arc::new(move || {
            Box::new(ChaCha20Rng::seed_from_u64(
                seed.fetch_add(1, Ordering::Relaxed),
            ))
        }),
    };
    let app = link_router(route);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    let server = Server {
        port,
        state,
        clock,
        stop: Some(stop),
        thread: Some(thread),
    };
    (server, links)
}

/// What curl saw: status, headers (lower-case) and body.
struct Seen {
    status: u16,
    head: String,
    raw_head: String,
    body: Vec<u8>,
}

impl Server {
    /// Opens `path` with curl, as `user_agent`, not following redirects.
    fn curl(&self, path: &str, user_agent: &str, language: &str) -> Seen {
        let dir = std::env::temp_dir().join(format!(
            "mdm-packages-link-http-{}-{}",
            std::process::id(),
            self.port
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let head = dir.join("head");
        let body = dir.join("body");
        let out = Command::new("curl")
            .args(["-sS", "-A", user_agent, "-H"])
            .arg(format!("Accept-Language: {language}"))
            .arg("-D")
            .arg(&head)
            .arg("-o")
            .arg(&body)
            .arg(format!("http://127.0.0.1:{}{path}", self.port))
            .output()
            .expect("curl must be installed (CI installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw_head = std::fs::read_to_string(&head).unwrap();
        let head = raw_head.to_ascii_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap();
        let body = std::fs::read(&body).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        Seen {
            status,
            head,
            raw_head,
            body,
        }
    }

    fn refusals(&self) -> Vec<(bool, Refusal)> {
        let state = self.state.lock().unwrap();
        state
            .workspace
            .audit_log()
            .iter()
            .filter_map(|r| match &r.event {
                AuditEvent::EnrollmentRefused { invitation, reason } => {
                    Some((invitation.is_some(), *reason))
                }
                _ => None,
            })
            .collect()
    }

    fn state_of(&self, link: &InvitationLink) -> InvitationState {
        let state = self.state.lock().unwrap();
        state
            .workspace
            .invitation_for(link.token())
            .unwrap()
            .state()
    }
}

fn path(link: &InvitationLink) -> String {
    format!("/enroll/{}", link.token().expose())
}

fn text(seen: &Seen) -> String {
    String::from_utf8_lossy(&seen.body).to_string()
}

#[test]
fn links_are_routed_by_the_opening_device() {
    let (server, links) = start(3);

    // A desktop gets a page that explains; nothing is consumed.
    let desktop = server.curl(&path(&links[0]), WINDOWS, "en-US,en;q=0.9");
    assert_eq!(desktop.status, 415, "{}", text(&desktop));
    assert!(desktop.head.contains("content-type: text/html"));
    assert!(text(&desktop).contains("Open the link on an Android, iOS or iPadOS device"));
    assert_eq!(server.state_of(&links[0]), InvitationState::Pending);

    // Android: to the store, the link as the install referrer.
    let android = server.curl(&path(&links[0]), PIXEL, "ja");
    assert_eq!(android.status, 302, "{}", text(&android));
    let location = android
        .raw_head
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or(l.strip_prefix("Location: "))
        })
        .unwrap()
        .trim()
        .to_owned();
    let location = url::Url::parse(&location).unwrap();
    assert_eq!(
        location
            .query_pairs()
            .find(|(k, _)| k == "id")
            .map(|(_, v)| v.into_owned()),
        Some("com.example.agent".to_owned())
    );
    assert!(
        location
            .as_str()
            .starts_with("https://play.google.com/store/apps/details?")
    );
    let referrer: String = location
        .query_pairs()
        .find(|(k, _)| k == "referrer")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(
        InvitationLink::parse_for(&referrer, &base()).unwrap(),
        links[0]
    );
    assert!(matches!(
        server.state_of(&links[0]),
        InvitationState::Consumed { .. }
    ));
    assert!(text(&android).contains("ストア"), "{}", text(&android));

    // The same link again: used, 410, in the user's language.
    let again = server.curl(&path(&links[0]), PIXEL, "ru-RU");
    assert_eq!(again.status, 410);
    assert!(
        text(&again).contains("уже использовано"),
        "{}",
        text(&again)
    );

    // iPhone: the enrollment profile, with the challenge minted for it.
    let iphone = server.curl(&path(&links[1]), IPHONE, "en");
    assert_eq!(iphone.status, 200, "{}", text(&iphone));
    assert!(
        iphone
            .head
            .contains("content-type: application/x-apple-aspen-config"),
        "{}",
        iphone.head
    );
    assert!(iphone.head.contains("content-disposition: attachment"));
    let profile = text(&iphone);
    assert!(profile.starts_with("<?xml"), "{profile}");
    assert!(profile.contains("one-time-challenge-1"));
    assert!(profile.contains("com.apple.mgmt.External.8a4f2c1e-0000-4000-8000-000000000001"));

    // Expired: a month later the last link is refused.
    *server.clock.lock().unwrap() = NOW + time::Duration::days(60);
    let late = server.curl(&path(&links[2]), IPHONE, "en");
    assert_eq!(late.status, 410, "{}", text(&late));
    assert!(text(&late).contains("expired"), "{}", text(&late));

    // A token of the wrong form and an unknown one: 404, audited too.
    let malformed = server.curl("/enroll/not-a-token", PIXEL, "en");
    assert_eq!(malformed.status, 404);
    assert!(text(&malformed).contains("not valid"));
    let unknown = InvitationToken::generate(&mut ChaCha20Rng::seed_from_u64(999));
    let unknown = server.curl(&format!("/enroll/{}", unknown.expose()), PIXEL, "en");
    assert_eq!(unknown.status, 404);

    assert_eq!(
        server.refusals(),
        [
            (true, Refusal::InvitationAlreadyUsed),
            (true, Refusal::InvitationExpired),
            (false, Refusal::UnknownInvitation),
            (false, Refusal::UnknownInvitation),
        ]
    );

    // No such package: a page, 404.
    let package = server.curl("/packages/nothing.zip", PIXEL, "en");
    assert_eq!(package.status, 404);
    assert!(text(&package).contains("no such installation package"));
}

#[test]
fn signed_profiles_and_standalone_packages_are_downloads() {
    use mdm_certs::{CertificateAuthority, KeyAlgorithm, SubjectName, Validity};
    use mdm_packages::{
        CaCertificate, ConnectionSettings, ProductDescription, ProductFile, ProductPath,
        StandalonePackage,
    };

    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Acme MDM CA").unwrap(),
        Validity::days(NOW, 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let address = mdm_model::ServerAddress::parse("mdm.acme.example").unwrap();
    let server_cert = ca
        .issue_server_certificate(
            address.host(),
            Validity::days(NOW, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
    let signer = mdm_apple::ProfileSigner::new(
        &[server_cert.certificate.der(), ca.certificate().der()],
        server_cert.key.pkcs8_der_secret(),
    )
    .unwrap();
    let apk = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    let product = ProductDescription::new(
        "Acme Agent for Android",
        "1.2.3",
        mdm_model::Platform::Android,
        vec![ProductFile {
            path: ProductPath::new("agent.apk").unwrap(),
            sha256: mdm_model::Sha256Digest::of(&apk),
            size: None,
        }],
    )
    .unwrap();
    let connection = ConnectionSettings {
        server: mdm_model::ServerAddress::parse("mdm.acme.example:13292").unwrap(),
        server_ca: CaCertificate::from_pem(ca.certificate().pem().as_bytes()).unwrap(),
        workspace_id: "acme".to_owned(),
        user: None,
        enrollment_token: None,
    };
    let shelf = StandalonePackage::build(&product, &[("agent.apk", &apk)], &connection).unwrap();
    let android = AndroidDownload::StandalonePackage {
        product: Arc::new(product),
        files: Arc::new(vec![("agent.apk".to_owned(), apk)]),
        connection: Arc::new(connection),
    };
    let (server, links) = start_with(2, android, Some(Arc::new(signer)));
    server
        .state
        .lock()
        .unwrap()
        .packages
        .insert(shelf.file_name(), Arc::new(shelf.clone()));

    // Android: the package, bound to the invited user.
    let package = server.curl(&path(&links[0]), PIXEL, "en");
    assert_eq!(package.status, 200, "{}", text(&package));
    assert!(package.head.contains("content-type: application/zip"));
    assert!(
        package
            .head
            .contains("filename=\"acme-agent-for-android-1.2.3.zip\""),
        "{}",
        package.head
    );
    let opened = StandalonePackage::open(package.body).unwrap();
    assert_eq!(opened.connection().user.as_deref(), Some("taro"));

    // iPhone: a signed profile that openssl verifies up to our CA.
    let profile = server.curl(&path(&links[1]), IPHONE, "en");
    assert_eq!(profile.status, 200, "{}", text(&profile));
    assert!(
        profile
            .head
            .contains("content-type: application/x-apple-aspen-config")
    );
    let dir = std::env::temp_dir().join(format!("mdm-packages-signed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.certificate().pem()).unwrap();
    std::fs::write(dir.join("profile.der"), &profile.body).unwrap();
    let verify = Command::new("openssl")
        .args([
            "cms", "-verify", "-inform", "DER", "-purpose", "any", "-CAfile",
        ])
        .arg(dir.join("ca.pem"))
        .arg("-in")
        .arg(dir.join("profile.der"))
        .output()
        .expect("openssl must be installed (CI installs it)");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let content = String::from_utf8_lossy(&verify.stdout);
    assert!(content.contains("one-time-challenge-1"), "{content}");

    // The package on the shelf, by name.
    let shelved = server.curl(&format!("/packages/{}", shelf.file_name()), WINDOWS, "en");
    assert_eq!(shelved.status, 200);
    assert_eq!(shelved.body, shelf.bytes());
}
