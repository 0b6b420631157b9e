//! Shared test fixtures: certificates and keys made once per test binary
//! with the `openssl` command line, and paths to the shared vectors.

use mdm_model::PushTopic;
use std::path::{Path, PathBuf};
use std::process::Command as Proc;
use std::sync::OnceLock;

/// Whether an external tool is present. Missing: skip locally, fail in CI.
pub fn tool(name: &str) -> bool {
    let found = Proc::new(name).arg("version").output().is_ok()
        || Proc::new(name).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is required in CI but is not installed"
        );
        eprintln!("SKIP: {name} not installed");
    }
    found
}

/// The folder shared between crates (`../shared` beside the workspace).
pub fn shared() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        here.join("../../shared"),
        here.join("../shared"),
        PathBuf::from("/work/shared"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("apple-schema").is_dir())
        .unwrap_or_else(|| here.join("../../shared"))
}

/// A scratch directory unique to this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("mdm-apple-tests-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn run(cmd: &mut Proc) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A signer: chain (leaf first, DER), PKCS#8 DER key, and file paths.
pub struct Signer {
    pub chain: Vec<Vec<u8>>,
    pub key_pkcs8: Vec<u8>,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

pub struct Pki {
    pub ca_der: Vec<u8>,
    pub ca_pem: PathBuf,
    pub ca_key: PathBuf,
    pub rsa: Signer,
    pub ec: Signer,
    /// A mock APNs push certificate with `UID=com.apple.mgmt.External.…`.
    pub push_cert_der: Vec<u8>,
    /// A PKCS#12 identity (password `secret`).
    pub identity_p12: Vec<u8>,
}

fn signer(dir: &Path, ca_pem: &Path, ca_key: &Path, name: &str, keygen: &[&str]) -> Signer {
    signer_with(
        dir,
        ca_pem,
        ca_key,
        name,
        keygen,
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection,codeSigning\n",
    )
}

/// A signer issued by `ca_pem`/`ca_key` for 30 days with the extensions
/// `ext` (an `openssl x509 -extfile`); its chain holds the leaf and the issuer.
pub fn signer_with(
    dir: &Path,
    ca_pem: &Path,
    ca_key: &Path,
    name: &str,
    keygen: &[&str],
    ext: &str,
) -> Signer {
    let key_pem = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let cert_pem = dir.join(format!("{name}.pem"));
    run(Proc::new("openssl")
        .args(["genpkey", "-out"])
        .arg(&key_pem)
        .args(keygen));
    run(Proc::new("openssl")
        .args(["req", "-new", "-key"])
        .arg(&key_pem)
        .args([
            "-subj",
            &format!("/O=mdm-apple tests/CN={name} profile signer"),
            "-out",
        ])
        .arg(&csr));
    let ext_path = dir.join(format!("{name}.ext"));
    std::fs::write(&ext_path, ext).unwrap();
    run(Proc::new("openssl")
        .args(["x509", "-req", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(ca_pem)
        .arg("-CAkey")
        .arg(ca_key)
        .args(["-set_serial", "4242", "-days", "30", "-extfile"])
        .arg(&ext_path)
        .arg("-out")
        .arg(&cert_pem));
    let leaf = run(Proc::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&cert_pem));
    let ca = run(Proc::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(ca_pem));
    let key_pkcs8 = run(Proc::new("openssl")
        .args(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in"])
        .arg(&key_pem));
    Signer {
        chain: vec![leaf, ca],
        key_pkcs8,
        cert_pem,
        key_pem,
    }
}

/// `content` signed by `signer` with `openssl cms -sign -stream`
/// (attached, SHA-256, the issuer included): indefinite-length BER, as
/// OpenSSL's streaming mode writes it. `stem` names the scratch files.
pub fn openssl_sign_stream(pki: &Pki, signer: &Signer, content: &[u8], stem: &Path) -> Vec<u8> {
    let input = stem.with_extension("plist");
    let out = stem.with_extension("der");
    std::fs::write(&input, content).unwrap();
    run(Proc::new("openssl")
        .args([
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-stream",
            "-outform",
            "DER",
            "-md",
            "sha256",
            "-in",
        ])
        .arg(&input)
        .arg("-signer")
        .arg(&signer.cert_pem)
        .arg("-inkey")
        .arg(&signer.key_pem)
        .arg("-certfile")
        .arg(&pki.ca_pem)
        .arg("-out")
        .arg(&out));
    std::fs::read(&out).unwrap()
}

/// The PKI, made once; `None` when openssl is missing (and not in CI).
pub fn pki() -> Option<&'static Pki> {
    static PKI: OnceLock<Option<Pki>> = OnceLock::new();
    PKI.get_or_init(|| {
        if !tool("openssl") {
            return None;
        }
        let dir = scratch("pki");
        let ca_key = dir.join("ca.key");
        let ca_pem = dir.join("ca.pem");
        run(Proc::new("openssl").args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"]).arg(&ca_key));
        run(Proc::new("openssl")
            .args(["req", "-x509", "-new", "-key"])
            .arg(&ca_key)
            .args(["-subj", "/O=mdm-apple tests/CN=Test Root CA", "-days", "30", "-out"])
            .arg(&ca_pem));
        let ca_der = run(Proc::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(&ca_pem));
        let rsa = signer(&dir, &ca_pem, &ca_key, "rsa", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
        let ec = signer(&dir, &ca_pem, &ca_key, "ec", &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
        let push_pem = dir.join("push.pem");
        run(Proc::new("openssl")
            .args(["req", "-x509", "-new", "-key"])
            .arg(&ec.key_pem)
            .args([
                "-subj",
                "/UID=com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9/CN=APSP:e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9/C=US",
                "-days",
                "30",
                "-out",
            ])
            .arg(&push_pem));
        let push_cert_der = run(Proc::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(&push_pem));
        let p12 = dir.join("identity.p12");
        run(Proc::new("openssl")
            .args(["pkcs12", "-export", "-passout", "pass:secret", "-in"])
            .arg(&rsa.cert_pem)
            .arg("-inkey")
            .arg(&rsa.key_pem)
            .arg("-out")
            .arg(&p12));
        let identity_p12 = std::fs::read(&p12).unwrap();
        Some(Pki { ca_der, ca_pem, ca_key, rsa, ec, push_cert_der, identity_p12 })
    })
    .as_ref()
}

impl Pki {
    /// The trust anchors every fixture signer chains to: the test root CA.
    pub fn anchors(&self) -> Vec<mdm_certs::Certificate> {
        vec![mdm_certs::Certificate::from_der(&self.ca_der).unwrap()]
    }

    /// A time at which every fixture certificate is valid: openssl dates
    /// them from the real clock when it makes them (30 days), so
    /// [`now`] (a fixed date) may lie before them.
    pub fn valid_now(&self) -> time::OffsetDateTime {
        let leaf = mdm_certs::Certificate::from_der(&self.ec.chain[0]).unwrap();
        leaf.info().not_before + time::Duration::hours(1)
    }
}

/// The topic of a push certificate: its subject's UID attribute.
pub fn topic_of_push_cert(der: &[u8]) -> String {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(der).unwrap();
    let uid = const_oid::db::rfc4519::UID;
    for atv in cert.tbs_certificate().subject().iter() {
        if atv.oid == uid {
            let s: der::asn1::Utf8StringRef<'_> = atv.value.decode_as().unwrap();
            return s.as_str().to_owned();
        }
    }
    panic!("push certificate without UID")
}

use mdm_apple::*;

pub const TOPIC: &str = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";

pub fn uuid(n: u32) -> PayloadUuid {
    PayloadUuid::new(format!("00000000-0000-4000-8000-{n:012}")).unwrap()
}

pub fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-28 12:00 UTC)
}

/// A fixed DER root certificate committed with the tests (`CN=Fixture Root CA`),
/// so snapshots do not depend on freshly generated keys.
pub fn some_cert_der() -> Vec<u8> {
    include_bytes!("../data/fixture-root.der").to_vec()
}

/// One payload of every kind, with fixed UUIDs.
pub fn every_payload() -> Vec<Payload> {
    let mut scep = ScepIdentity::new("https://mdm.example.com/scep");
    scep.name = Some("mdm-ca".into());
    scep.challenge = Some("challenge-123".into());
    scep.subject = vec![
        ("O".into(), "Example Corp".into()),
        ("CN".into(), "%SerialNumber%".into()),
    ];
    scep.retries = Some(3);
    scep.retry_delay = Some(10);
    scep.ca_fingerprint = Some(vec![0xab; 32]);
    scep.subject_alt_name.dns_name = Some("device.example.com".into());
    let mut pkcs12 =
        Pkcs12Identity::new(vec![0x30, 0x03, 0x02, 0x01, 0x03], Some("secret".into())).unwrap();
    pkcs12.file_name = Some("identity.p12".into());
    let cert = some_cert_der();
    let mut mdm = MdmPayload::new(
        HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm/connect").unwrap(),
        PushTopic::parse(TOPIC).unwrap(),
        uuid(1),
    );
    mdm.check_in_url =
        Some(HttpsUrl::new("CheckInURL", "https://mdm.example.com/mdm/checkin").unwrap());
    mdm.server_capabilities = vec![
        ServerCapability::PerUserConnections,
        ServerCapability::Token,
    ];
    let passcode = PasscodePolicy {
        force_pin: Some(true),
        allow_simple: Some(false),
        require_alphanumeric: Some(true),
        min_length: Some(8),
        min_complex_chars: Some(1),
        max_failed_attempts: Some(10),
        max_inactivity: Some(5),
        max_pin_age_days: Some(90),
        pin_history: Some(5),
        max_grace_period: Some(1),
        change_at_next_auth: None,
    };
    let restrictions = Restrictions {
        allow_camera: Some(false),
        allow_screen_shot: Some(false),
        allow_app_installation: Some(true),
        allow_air_drop: Some(false),
        allow_untrusted_tls_prompt: Some(false),
        allow_ui_configuration_profile_installation: Some(false),
        force_encrypted_backup: Some(true),
        force_wifi_power_on: Some(true),
        ..Default::default()
    };
    let mut clip = WebClip::new(
        HttpsUrl::new("URL", "https://intranet.example.com/").unwrap(),
        "Intranet",
    );
    clip.icon = Some(b"\x89PNG\r\n\x1a\n-not-really-an-image".to_vec());
    clip.is_removable = Some(false);
    clip.full_screen = Some(true);
    let contents = vec![
        ("com.example.scep", PayloadContent::Scep(scep)),
        ("com.example.pkcs12", PayloadContent::Pkcs12(pkcs12)),
        (
            "com.example.root",
            PayloadContent::Certificate(
                CertificatePayload::from_der(cert.clone(), CertificateFormat::Root).unwrap(),
            ),
        ),
        (
            "com.example.pkcs1",
            PayloadContent::Certificate(
                CertificatePayload::from_der(cert.clone(), CertificateFormat::Pkcs1).unwrap(),
            ),
        ),
        (
            "com.example.pem",
            PayloadContent::Certificate(
                CertificatePayload::from_der(cert, CertificateFormat::Pem).unwrap(),
            ),
        ),
        ("com.example.mdm", PayloadContent::Mdm(mdm)),
        ("com.example.passcode", PayloadContent::Passcode(passcode)),
        (
            "com.example.restrictions",
            PayloadContent::Restrictions(restrictions),
        ),
        (
            "com.example.wifi",
            PayloadContent::Wifi(WifiPayload::wpa("Office", "correct horse battery")),
        ),
        ("com.example.webclip", PayloadContent::WebClip(clip)),
    ];
    contents
        .into_iter()
        .enumerate()
        .map(|(i, (id, content))| {
            let mut p = Payload::new(id, uuid(u32::try_from(i).unwrap() + 1), content);
            p.display_name = Some(format!("{id} payload"));
            p
        })
        .collect()
}

/// A profile holding every payload kind, with every top-level key.
pub fn every_payload_profile() -> Profile {
    let mut params = ProfileParams::new("com.example.everything", uuid(100), "Everything");
    params.organization = Some("Example Corp".into());
    params.description = Some("Every payload this crate writes.".into());
    params.removal.removal_disallowed = Some(false);
    params.removal.has_removal_passcode = Some(false);
    params.removal.removal_date = Some(time::macros::datetime!(2027-06-01 00:00 UTC));
    params.removal.duration_until_removal = Some(time::Duration::days(30));
    params.expiration_date = Some(time::macros::datetime!(2027-12-31 00:00 UTC));
    params
        .consent_text
        .insert("default".into(), "Please accept.".into());
    params
        .consent_text
        .insert("de".into(), "Bitte zustimmen.".into());
    params.scope = Some(PayloadScope::System);
    params.payloads = every_payload();
    params.build().unwrap()
}

/// One request of every command, with fixed UUIDs.
pub fn every_command() -> Vec<CommandRequest> {
    let cmds = vec![
        Command::DeviceInformation(DeviceInformation::common()),
        Command::SecurityInfo(SecurityInfo),
        Command::ProfileList(ProfileList {
            managed_only: Some(true),
        }),
        Command::InstallProfile(InstallProfile {
            payload: b"<plist/>".to_vec(),
        }),
        Command::RemoveProfile(RemoveProfile {
            identifier: "com.example.wifi".into(),
        }),
        Command::DeviceLock(DeviceLock {
            message: Some("Return to IT".into()),
            phone_number: Some("+1 555 0100".into()),
            pin: None,
        }),
        Command::EraseDevice(EraseDevice {
            preserve_data_plan: Some(true),
            disallow_proximity_setup: Some(true),
            pin: None,
        }),
        Command::ClearPasscode(ClearPasscode {
            unlock_token: vec![1, 2, 3, 4],
        }),
        Command::RestartDevice(RestartDevice {
            notify_user: Some(true),
        }),
        Command::ShutDownDevice(ShutDownDevice),
        Command::InstalledApplicationList(InstalledApplicationList {
            identifiers: vec!["com.example.app".into()],
            managed_apps_only: Some(true),
            items: vec!["Name".into(), "Version".into()],
        }),
        Command::InstallApplication(InstallApplication::StoreId {
            itunes_store_id: 361_309_726,
            volume_purchase: true,
            management_flags: Some(1),
        }),
        Command::RemoveApplication(RemoveApplication {
            identifier: "com.example.app".into(),
        }),
        Command::CertificateList(CertificateList {
            managed_only: Some(false),
        }),
        Command::Settings(Settings {
            settings: vec![
                Setting::DeviceName("Kiosk 1".into()),
                Setting::DataRoaming(false),
                Setting::Bluetooth(true),
            ],
        }),
    ];
    cmds.into_iter()
        .enumerate()
        .map(|(i, c)| {
            CommandRequest::new(
                CommandUuid::new(format!("00000000-0000-4000-8000-{:012}", 500 + i)).unwrap(),
                c,
            )
        })
        .collect()
}
