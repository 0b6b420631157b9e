//! The distribution flow end to end, through the real `mdm-model` and
//! `mdm-apple`: send instructions, open links from real User-Agents, and
//! check what the model recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::io::Write;
use std::process::{Command, Stdio};

use mdm_apple::{EnrollmentIdentity, EnrollmentParams, HttpsUrl, ScepIdentity};
use mdm_model::PushTopic;
use mdm_model::{
    ApnsCertificateRecord, DeviceState, EmailAddress, InstallSource, InvitationState, Platform,
    Refusal, UserId, Workspace,
};
use mdm_model::{ServerAddress, Sha256Digest};
use mdm_packages::{
    AndroidDelivery, AndroidRoute, AppleRoute, CaCertificate, ClientHints, ConnectionSettings,
    InstructionSettings, InvitationLink, Language, LinkAnswer, LinkBase, LinkRequest, LinkRoutes,
    LinkStep, PackagesError, ProductDescription, ProductFile, ProductPath, StandalonePackage,
    UnsupportedOs, begin_link, finish_link, issue_instructions, open_link, send_instructions,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);
const CA_PEM: &str = include_str!("fixtures/server-ca-1.pem");
const STORE: &str = "https://play.google.com/store/apps/details?id=com.example.agent";

const PIXEL: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";
const IPAD_DESKTOP: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

struct Fixture {
    workspace: Workspace,
    users: Vec<UserId>,
    rng: ChaCha20Rng,
}

fn fixture() -> Fixture {
    let mut workspace = Workspace::new("acme", "Acme Corp", Some("JP"), NOW).unwrap();
    let mut users = Vec::new();
    for (account, email) in [
        ("taro", Some("taro@acme.example")),
        ("hanako", None),
        ("ivan", Some("ivan@acme.example")),
    ] {
        let email = email.map(|e| EmailAddress::parse(e).unwrap());
        users.push(workspace.add_user(account, email, NOW).unwrap());
    }
    Fixture {
        workspace,
        users,
        rng: ChaCha20Rng::seed_from_u64(7),
    }
}

fn base() -> LinkBase {
    LinkBase::parse("https://mdm.acme.example").unwrap()
}

fn settings(base: &LinkBase, language: Language) -> InstructionSettings<'_> {
    InstructionSettings {
        link_base: base,
        service_name: "Acme MDM",
        agent_name: "Acme Agent for Android",
        android: AndroidDelivery::Store,
        language,
    }
}

fn upload_apns(workspace: &mut Workspace, not_after: OffsetDateTime) {
    let record = ApnsCertificateRecord::new(
        mdm_model::PushTopic::parse("com.apple.mgmt.External.8a4f2c1e-0000-4000-8000-000000000001")
            .unwrap(),
        "Apple Application Integration 2 Certification Authority",
        datetime!(2026-01-01 00:00 UTC),
        not_after,
        mdm_model::Sha256Digest::from_bytes([7; 32]),
    )
    .unwrap();
    workspace.set_apns_certificate(record, NOW);
}

fn apple_params() -> EnrollmentParams {
    EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", "https://mdm.acme.example/mdm").unwrap(),
        check_in_url: None,
        topic: PushTopic::parse("com.apple.mgmt.placeholder").unwrap(),
        identity: EnrollmentIdentity::Scep(ScepIdentity::new("https://mdm.acme.example/scep")),
        server_root_ca_der: Some(
            CaCertificate::from_pem(CA_PEM.as_bytes())
                .unwrap()
                .der()
                .to_vec(),
        ),
        identifier_prefix: "example.acme.mdm".to_owned(),
        organization: "Acme Corp".to_owned(),
    }
}

fn store_routes(params: &EnrollmentParams) -> LinkRoutes<'_> {
    LinkRoutes {
        android: AndroidRoute::StoreListing { url: STORE },
        apple: AppleRoute {
            params,
            signer: None,
        },
    }
}

fn open(
    f: &mut Fixture,
    link: &InvitationLink,
    ua: &str,
    hints: ClientHints,
    routes: &LinkRoutes<'_>,
    now: OffsetDateTime,
) -> LinkAnswer {
    // The last path segment, as a web server hands it over.
    let text = link.to_string();
    let token = text.rsplit('/').next().unwrap();
    let request = LinkRequest {
        token,
        user_agent: ua,
        hints,
    };
    open_link(&mut f.workspace, &request, routes, now, &mut f.rng).unwrap()
}

#[test]
fn issuing_then_composing_is_sending() {
    let base = base();
    let settings = settings(&base, Language::English);
    let mut sent = fixture();
    let batch = send_instructions(
        &mut sent.workspace,
        &sent.users,
        &settings,
        NOW,
        &mut sent.rng,
    )
    .unwrap();
    let mut issued = fixture();
    let pending = issue_instructions(
        &mut issued.workspace,
        &issued.users,
        &settings,
        NOW,
        &mut issued.rng,
    )
    .unwrap();
    assert_eq!(pending.without_email, batch.without_email);
    assert_eq!(pending.pending.len(), batch.messages.len());
    // The invitation exists (and is pending) before its message is written.
    for p in &pending.pending {
        let invitation = issued.workspace.invitation_for(p.link().token()).unwrap();
        assert_eq!(invitation.id(), p.invitation());
        assert_eq!(invitation.user(), p.user());
        assert_eq!(invitation.state(), InvitationState::Pending);
    }
    for (p, m) in pending.pending.into_iter().zip(&batch.messages) {
        let composed = p.compose().unwrap();
        assert_eq!(composed.link, m.link);
        assert_eq!((composed.user, composed.invitation), (m.user, m.invitation));
        assert_eq!(composed.email, m.email);
        assert_eq!(composed.message.subject, m.message.subject);
        assert_eq!(composed.message.text, m.message.text);
        assert_eq!(composed.message.html, m.message.html);
        assert_eq!(composed.message.qr, m.message.qr);
    }
}

#[test]
fn r_in_1_one_invitation_per_user_and_users_without_email_reported() {
    let mut f = fixture();
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::Japanese),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    assert_eq!(batch.messages.len(), 2);
    assert_eq!(batch.without_email, vec![(f.users[1], "hanako".to_owned())]);
    for m in &batch.messages {
        let invitation = f.workspace.invitation_for(m.link.token()).unwrap();
        assert_eq!(invitation.id(), m.invitation);
        assert_eq!(invitation.user(), m.user);
        assert_eq!(invitation.state(), InvitationState::Pending);
        assert!(m.message.text.contains(&m.link.to_string()));
        assert!(m.message.subject.contains("Acme MDM"));
    }
    assert_eq!(batch.messages[0].email.as_str(), "taro@acme.example");
    assert_ne!(batch.messages[0].link, batch.messages[1].link);

    // A second message for the same user is a second invitation (one device each).
    let again = send_instructions(
        &mut f.workspace,
        &f.users[..1],
        &settings(&base, Language::Russian),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    assert_ne!(again.messages[0].invitation, batch.messages[0].invitation);
    assert_eq!(f.workspace.invitations().len(), 3);
}

#[test]
fn unknown_users_issue_nothing() {
    let mut f = fixture();
    let mut other = Workspace::new("other", "Other", None, NOW).unwrap();
    let _ = other.add_user("a", None, NOW).unwrap();
    let _ = other.add_user("b", None, NOW).unwrap();
    let _ = other.add_user("c", None, NOW).unwrap();
    let stranger = other.add_user("d", None, NOW).unwrap();
    let base = base();
    let users = [f.users[0], stranger];
    let err = send_instructions(
        &mut f.workspace,
        &users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap_err();
    assert!(matches!(err, PackagesError::Model { .. }), "{err}");
    assert!(f.workspace.invitations().is_empty());
}

#[test]
fn r_in_3_android_goes_to_the_store_and_the_invitation_is_used_once() {
    let mut f = fixture();
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    let link = batch.messages[0].link.clone();
    let params = apple_params();
    let routes = store_routes(&params);

    let answer = open(&mut f, &link, PIXEL, ClientHints::default(), &routes, NOW);
    let LinkAnswer::AndroidStore { device, url } = answer else {
        panic!("expected the store, got {answer:?}");
    };
    assert_eq!(url, STORE);
    let record = f.workspace.device(device).unwrap();
    assert_eq!(record.platform(), Platform::Android);
    assert_eq!(record.state(), DeviceState::Enrolling);
    assert_eq!(record.install_source(), InstallSource::PlainApk);
    assert_eq!(record.owner(), f.users[0]);
    assert_eq!(record.model(), "Pixel 8");

    // The same link on a second device is refused by the model (R-IN-1).
    let second = open(&mut f, &link, IPHONE, ClientHints::default(), &routes, NOW);
    assert!(
        matches!(second, LinkAnswer::Refused(Refusal::InvitationAlreadyUsed)),
        "{second:?}"
    );
    assert_eq!(second.http_status(), 410);
    assert_eq!(f.workspace.devices().len(), 1);
}

#[test]
fn r_in_3_ios_needs_a_valid_apns_certificate() {
    let mut f = fixture();
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    let link = batch.messages[1].link.clone();
    let params = apple_params();
    let routes = store_routes(&params);

    let refused = open(&mut f, &link, IPHONE, ClientHints::default(), &routes, NOW);
    assert!(
        matches!(refused, LinkAnswer::Refused(Refusal::NoApnsCertificate)),
        "{refused:?}"
    );
    assert_eq!(refused.http_status(), 403);
    assert!(refused.explanation(Language::English).contains("APNs"));
    assert!(
        refused
            .explanation(Language::Japanese)
            .contains("APNs 証明書がないと、iOS デバイスを管理できません")
    );
    assert!(
        refused
            .explanation(Language::Russian)
            .contains("Без APNs-сертификата управление устройствами")
    );
    // The refusal did not consume the invitation.
    assert_eq!(
        f.workspace.invitation_for(link.token()).unwrap().state(),
        InvitationState::Pending
    );

    upload_apns(&mut f.workspace, datetime!(2026-11-01 00:00 UTC));
    let expired = open(&mut f, &link, IPHONE, ClientHints::default(), &routes, NOW);
    assert!(
        matches!(
            expired,
            LinkAnswer::Refused(Refusal::ApnsCertificateExpired)
        ),
        "{expired:?}"
    );

    upload_apns(&mut f.workspace, datetime!(2027-11-01 00:00 UTC));
    let answer = open(&mut f, &link, IPHONE, ClientHints::default(), &routes, NOW);
    let LinkAnswer::AppleProfile {
        device,
        platform,
        profile,
        signed,
    } = answer
    else {
        panic!("expected a profile, got {answer:?}");
    };
    assert_eq!((platform, signed), (Platform::IOs, false));
    let record = f.workspace.device(device).unwrap();
    assert_eq!(record.os_version().to_string(), "17.4.1");
    assert_eq!(record.install_source(), InstallSource::EnrollmentProfile);
    // Python's plistlib reads the profile, and its MDM payload carries the
    // topic of the workspace's APNs certificate.
    if let Some(topic) = python(
        "import plistlib,sys; p=plistlib.loads(sys.stdin.buffer.read()); \
         print([x['Topic'] for x in p['PayloadContent'] if x['PayloadType']=='com.apple.mdm'][0])",
        &profile,
    ) {
        assert_eq!(
            topic.trim(),
            "com.apple.mgmt.External.8a4f2c1e-0000-4000-8000-000000000001"
        );
    }
}

#[test]
fn r_in_3_ipados_desktop_class_asks_for_touch_points_first() {
    let mut f = fixture();
    upload_apns(&mut f.workspace, datetime!(2027-11-01 00:00 UTC));
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    let link = batch.messages[0].link.clone();
    let params = apple_params();
    let routes = store_routes(&params);

    let probe = open(
        &mut f,
        &link,
        IPAD_DESKTOP,
        ClientHints::default(),
        &routes,
        NOW,
    );
    let LinkAnswer::NeedsTouchHint { page } = &probe else {
        panic!("expected the probe page, got {probe:?}");
    };
    assert!(page.contains("maxTouchPoints"));
    assert_eq!(
        f.workspace.invitation_for(link.token()).unwrap().state(),
        InvitationState::Pending
    );

    let mac = open(
        &mut f,
        &link,
        IPAD_DESKTOP,
        ClientHints::from_query("touch=0"),
        &routes,
        NOW,
    );
    assert!(
        matches!(mac, LinkAnswer::Unsupported(UnsupportedOs::MacOs)),
        "{mac:?}"
    );
    assert_eq!(
        f.workspace.invitation_for(link.token()).unwrap().state(),
        InvitationState::Pending
    );

    let ipad = open(
        &mut f,
        &link,
        IPAD_DESKTOP,
        ClientHints::from_query("touch=5"),
        &routes,
        NOW,
    );
    let LinkAnswer::AppleProfile {
        device, platform, ..
    } = ipad
    else {
        panic!("expected a profile, got {ipad:?}");
    };
    assert_eq!(platform, Platform::IPadOs);
    assert_eq!(
        f.workspace.device(device).unwrap().platform(),
        Platform::IPadOs
    );
}

#[test]
fn unsupported_unknown_and_expired_links() {
    let mut f = fixture();
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    let link = batch.messages[0].link.clone();
    let params = apple_params();
    let routes = store_routes(&params);

    let windows = open(&mut f, &link, WINDOWS, ClientHints::default(), &routes, NOW);
    assert!(
        matches!(windows, LinkAnswer::Unsupported(UnsupportedOs::Windows)),
        "{windows:?}"
    );
    assert_eq!(windows.http_status(), 415);
    assert!(
        windows
            .explanation(Language::English)
            .contains("Unsupported device: Windows")
    );
    assert!(
        windows
            .explanation(Language::Russian)
            .contains("Устройство не поддерживается")
    );

    let request = LinkRequest {
        token: "not-a-token",
        user_agent: PIXEL,
        hints: ClientHints::default(),
    };
    let malformed = open_link(&mut f.workspace, &request, &routes, NOW, &mut f.rng).unwrap();
    assert!(matches!(
        malformed,
        LinkAnswer::Refused(Refusal::UnknownInvitation)
    ));
    let unknown_token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let request = LinkRequest {
        token: unknown_token,
        user_agent: PIXEL,
        hints: ClientHints::default(),
    };
    let unknown = open_link(&mut f.workspace, &request, &routes, NOW, &mut f.rng).unwrap();
    assert!(matches!(
        unknown,
        LinkAnswer::Refused(Refusal::UnknownInvitation)
    ));
    assert_eq!(unknown.http_status(), 404);

    let later = NOW + time::Duration::days(365);
    let expired = open(&mut f, &link, PIXEL, ClientHints::default(), &routes, later);
    assert!(
        matches!(expired, LinkAnswer::Refused(Refusal::InvitationExpired)),
        "{expired:?}"
    );
    assert!(f.workspace.devices().is_empty());
}

#[test]
fn r_an_2_android_can_get_a_standalone_package_bound_to_the_user() {
    let mut f = fixture();
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    let link = batch.messages[1].link.clone();
    let apk = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    let product = ProductDescription::new(
        "Acme Agent for Android",
        "1.2.3",
        Platform::Android,
        vec![ProductFile {
            path: ProductPath::new("agent.apk").unwrap(),
            sha256: Sha256Digest::of(&apk),
            size: None,
        }],
    )
    .unwrap();
    let connection = ConnectionSettings {
        server: ServerAddress::parse("mdm.acme.example:13292").unwrap(),
        server_ca: CaCertificate::from_pem(CA_PEM.as_bytes()).unwrap(),
        workspace_id: "acme".to_owned(),
        user: None,
        enrollment_token: None,
    };
    let files: [(&str, &[u8]); 1] = [("agent.apk", &apk)];
    let params = apple_params();
    let routes = LinkRoutes {
        android: AndroidRoute::StandalonePackage {
            product: &product,
            files: &files,
            connection: &connection,
        },
        apple: AppleRoute {
            params: &params,
            signer: None,
        },
    };
    let answer = open(&mut f, &link, PIXEL, ClientHints::default(), &routes, NOW);
    let LinkAnswer::AndroidPackage { device, package } = answer else {
        panic!("expected a package, got {answer:?}");
    };
    let reopened = StandalonePackage::open(package.bytes().to_vec()).unwrap();
    assert_eq!(reopened.connection().user.as_deref(), Some("ivan"));
    assert_eq!(
        f.workspace.device(device).unwrap().install_source(),
        InstallSource::StandalonePackage
    );
}

/// Runs a Python snippet on `stdin`; `None` (skip) when python3 is missing
/// outside CI, a failure inside CI.
fn python(script: &str, stdin: &[u8]) -> Option<String> {
    let child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 is required in CI"
            );
            return None;
        }
        Err(e) => panic!("python3: {e}"),
    };
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn r_an_1_the_workspace_ca_from_mdm_certs_travels_in_the_package_and_a_move_makes_it_stale() {
    use mdm_certs::{CertificateAuthority, KeyAlgorithm, SubjectName, Validity};
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Acme MDM CA").unwrap(),
        Validity::days(NOW, 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let server_ca = CaCertificate::from_certificate(ca.certificate().clone()).unwrap();
    let address = ServerAddress::parse("mdm.acme.example:13292").unwrap();
    let server_cert = ca
        .issue_server_certificate(
            address.host(),
            Validity::days(NOW, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
    // A leaf is not accepted where the CA belongs.
    assert!(CaCertificate::from_certificate(server_cert.certificate.clone()).is_err());

    let apk = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    let product = ProductDescription::from_toml(&format!(
        "format = 1\n[product]\nname = \"Acme Agent\"\nversion = \"2.0\"\nplatform = \"android\"\n\
         [[files]]\npath = \"agent.apk\"\nsha256 = \"{}\"\n",
        Sha256Digest::of(&apk)
    ))
    .unwrap();
    let connection = ConnectionSettings {
        server: address.clone(),
        server_ca: server_ca.clone(),
        workspace_id: "acme".to_owned(),
        user: None,
        enrollment_token: None,
    };
    let package = StandalonePackage::build(&product, &[("agent.apk", &apk)], &connection).unwrap();
    let opened = StandalonePackage::open(package.bytes().to_vec()).unwrap();
    // The CA in the package verifies the server certificate of the package's address.
    let embedded = opened.connection().server_ca.certificate();
    assert!(server_cert.certificate.is_signed_by(embedded));
    assert!(
        server_cert
            .certificate
            .names_host(opened.connection().server.host())
    );
    assert!(!opened.freshness(&address, &server_ca).is_stale());
    // The agent (mdm-android) connects to the address the package embeds.
    let embedded = opened.connection().server.clone();
    let first = mdm_android::first_connection_address(
        InstallSource::StandalonePackage,
        Some(&embedded),
        None,
    )
    .unwrap();
    assert_eq!(first.to_string(), "mdm.acme.example:13292");
    // The APK digest in the product description is the provisioning checksum.
    assert_eq!(
        opened
            .product()
            .file("agent.apk")
            .unwrap()
            .sha256
            .to_base64url()
            .len(),
        43
    );

    // The server moves (seed 003 §2 steps 7-11): new address, new server certificate.
    let moved = ServerAddress::parse("mdm2.acme.example:13292").unwrap();
    let new_cert = ca
        .issue_server_certificate(
            moved.host(),
            Validity::days(NOW, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
    assert!(
        !new_cert
            .certificate
            .names_host(opened.connection().server.host())
    );
    assert!(opened.freshness(&moved, &server_ca).is_stale());
}

#[test]
fn r_io_1_signed_profile_verifies_with_openssl_against_the_workspace_ca() {
    use mdm_apple::ProfileSigner;
    use mdm_certs::{CertificateAuthority, KeyAlgorithm, SubjectName, Validity};
    let mut f = fixture();
    upload_apns(&mut f.workspace, datetime!(2027-11-01 00:00 UTC));
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    let link = batch.messages[0].link.clone();

    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Acme MDM CA").unwrap(),
        Validity::days(NOW, 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let address = ServerAddress::parse("mdm.acme.example")
        .unwrap()
        .with_default_port(std::num::NonZeroU16::new(443).unwrap());
    let server = ca
        .issue_server_certificate(
            address.host(),
            Validity::days(NOW, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
    let signer = ProfileSigner::new(
        &[server.certificate.der(), ca.certificate().der()],
        server.key.pkcs8_der_secret(),
    )
    .unwrap();
    let params = apple_params();
    let routes = LinkRoutes {
        android: AndroidRoute::StoreListing { url: STORE },
        apple: AppleRoute {
            params: &params,
            signer: Some(&signer),
        },
    };
    let answer = open(&mut f, &link, IPHONE, ClientHints::default(), &routes, NOW);
    let LinkAnswer::AppleProfile {
        profile, signed, ..
    } = answer
    else {
        panic!("expected a profile, got {answer:?}");
    };
    assert!(signed);
    let verified =
        mdm_apple::verify_signed_profile(&profile, &[ca.certificate().clone()], NOW).unwrap();
    assert!(verified.content().starts_with(b"<?xml"));

    // openssl checks the CMS signature and the chain up to the workspace CA.
    let dir = std::env::temp_dir().join(format!("mdm-packages-flow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.certificate().pem()).unwrap();
    let spawned = Command::new("openssl")
        .args([
            "cms", "-verify", "-inform", "DER", "-purpose", "any", "-CAfile",
        ])
        .arg(&ca_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "openssl is required in CI"
            );
            return;
        }
        Err(e) => panic!("openssl: {e}"),
    };
    child.stdin.take().unwrap().write_all(&profile).unwrap();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "openssl cms -verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, verified.content());
}

#[test]
fn r_in_1_a_link_opened_twice_at_once_enrolls_one_device() {
    // A server that builds artifacts concurrently: both openings are begun
    // before either finishes; the model lets only the first consume.
    let mut f = fixture();
    let base = base();
    let batch = send_instructions(
        &mut f.workspace,
        &f.users,
        &settings(&base, Language::English),
        NOW,
        &mut f.rng,
    )
    .unwrap();
    let text = batch.messages[0].link.to_string();
    let token = text.rsplit('/').next().unwrap();
    let params = apple_params();
    let routes = store_routes(&params);
    let request = LinkRequest {
        token,
        user_agent: PIXEL,
        hints: ClientHints::default(),
    };
    let begin = |ws: &mut Workspace| match begin_link(ws, &request, &routes, NOW).unwrap() {
        LinkStep::Pending(pending) => pending,
        LinkStep::Answered(answer) => panic!("expected a pending link, got {answer:?}"),
    };
    let first = begin(&mut f.workspace);
    let second = begin(&mut f.workspace);
    let first = first.build(&routes, NOW, &mut f.rng).unwrap();
    let second = second.build(&routes, NOW, &mut f.rng).unwrap();
    assert!(matches!(
        finish_link(&mut f.workspace, first, NOW).unwrap(),
        LinkAnswer::AndroidStore { .. }
    ));
    assert!(matches!(
        finish_link(&mut f.workspace, second, NOW).unwrap(),
        LinkAnswer::Refused(Refusal::InvitationAlreadyUsed)
    ));
    assert_eq!(f.workspace.devices().len(), 1);
}
