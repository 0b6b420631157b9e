//! Every kind of artifact checked with real tools: `openssl` and Python's
//! `plistlib`. When a tool is missing the test is skipped locally and fails
//! when `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use mdm_model::ServerHost;

use mdm_certs::{
    ApnsIntake, ApnsKeyRequest, BackupPassword, CertificateAuthority, ClientIdentity, Csr,
    DEFAULT_REQUEST_MAX_AGE, KeyAlgorithm, Pkcs12, Validity,
};

use crate::fixture::{
    NOW, form, portal_and_vendor, push_anchors, rng, workspace_ca, workspace_key,
};

/// Whether `tool` runs; panics in CI when it does not.
pub(crate) fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--version").output().is_ok()
        || Command::new(tool).arg("version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{tool}` is required in CI but is not installed"
        );
        eprintln!("skipping: `{tool}` not installed");
    }
    ok
}

pub(crate) struct Dir(PathBuf);

impl Dir {
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mdm-certs-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    pub(crate) fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a command; returns (success, stdout + stderr).
pub(crate) fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub(crate) fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn openssl_verifies_server_and_client_certificates() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("verify");
    let ca = workspace_ca();
    let ca_pem = dir.write("ca.pem", ca.certificate().pem());
    let v = Validity::days(NOW, 365).unwrap();
    let mut r = rng(10);

    let dns = ServerHost::parse("mdm.example.com").unwrap();
    let ip = ServerHost::parse("192.0.2.10").unwrap();
    let server = ca
        .issue_server_certificate(&dns, v, KeyAlgorithm::EcdsaP256, &mut r)
        .unwrap();
    let server_ip = ca
        .issue_server_certificate(&ip, v, KeyAlgorithm::EcdsaP256, &mut r)
        .unwrap();
    let (_, csr) = Csr::for_device("device-7", &mut r).unwrap();
    let client = ca
        .issue_client_certificate(
            &csr,
            &ClientIdentity::new("alice", Some("device-7")).unwrap(),
            v,
            &mut r,
        )
        .unwrap();

    // OpenSSL checks validity against the real clock: pin it to our `now`.
    let at = NOW.unix_timestamp().to_string();
    for (name, cert, purpose) in [
        ("server.pem", &server.certificate, "sslserver"),
        ("server-ip.pem", &server_ip.certificate, "sslserver"),
        ("client.pem", &client, "sslclient"),
    ] {
        let p = dir.write(name, cert.pem());
        let (ok, out) = run(
            "openssl",
            &[
                "verify",
                "-attime",
                &at,
                "-purpose",
                purpose,
                "-CAfile",
                s(&ca_pem),
                s(&p),
            ],
        );
        assert!(ok && out.contains(": OK"), "{name}: {out}");
    }
    // Hostname / IP checks as a TLS client would do them.
    let p = dir.path("server.pem");
    let (ok, out) = run(
        "openssl",
        &[
            "verify",
            "-attime",
            &at,
            "-verify_hostname",
            "mdm.example.com",
            "-CAfile",
            s(&ca_pem),
            s(&p),
        ],
    );
    assert!(ok, "{out}");
    let (ok, _) = run(
        "openssl",
        &[
            "verify",
            "-attime",
            &at,
            "-verify_hostname",
            "other.example.com",
            "-CAfile",
            s(&ca_pem),
            s(&p),
        ],
    );
    assert!(!ok, "a certificate for another host must not verify");
    let p = dir.path("server-ip.pem");
    let (ok, out) = run(
        "openssl",
        &[
            "verify",
            "-attime",
            &at,
            "-verify_ip",
            "192.0.2.10",
            "-CAfile",
            s(&ca_pem),
            s(&p),
        ],
    );
    assert!(ok, "{out}");

    // SANs as OpenSSL prints them.
    let (_, text) = run(
        "openssl",
        &["x509", "-noout", "-text", "-in", s(&dir.path("server.pem"))],
    );
    assert!(text.contains("DNS:mdm.example.com"), "{text}");
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    let (_, text) = run(
        "openssl",
        &[
            "x509",
            "-noout",
            "-text",
            "-in",
            s(&dir.path("server-ip.pem")),
        ],
    );
    assert!(text.contains("IP Address:192.0.2.10"), "{text}");
    let (_, text) = run(
        "openssl",
        &["x509", "-noout", "-text", "-in", s(&dir.path("client.pem"))],
    );
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");

    // A certificate from another CA does not verify.
    let other = CertificateAuthority::create(
        &mdm_certs::SubjectName::common_name("Other CA").unwrap(),
        Validity::days(NOW, 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng(11),
    )
    .unwrap();
    let other_pem = dir.write("other.pem", other.certificate().pem());
    let (ok, _) = run(
        "openssl",
        &[
            "verify",
            "-attime",
            &at,
            "-CAfile",
            s(&other_pem),
            s(&dir.path("client.pem")),
        ],
    );
    assert!(!ok);
}

#[test]
fn openssl_reads_rsa_ca_and_encrypted_key() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("rsa-ca");
    // An RSA CA around the fixture key (RSA generation is done once).
    let ca = CertificateAuthority::create_with_key(
        &mdm_certs::SubjectName::common_name("RSA Workspace CA").unwrap(),
        Validity::days(NOW, 3650).unwrap(),
        workspace_key(),
        &mut rng(12),
    )
    .unwrap();
    let saved = ca.to_pem(Some("ca key password"), &mut rng(13)).unwrap();
    let key = dir.write("ca.key", saved.key_pem.as_bytes());
    let cert = dir.write("ca.pem", &saved.certificate_pem);
    let (ok, out) = run(
        "openssl",
        &[
            "pkey",
            "-in",
            s(&key),
            "-passin",
            "pass:ca key password",
            "-noout",
        ],
    );
    assert!(ok, "{out}");
    let (ok, _) = run(
        "openssl",
        &["pkey", "-in", s(&key), "-passin", "pass:wrong", "-noout"],
    );
    assert!(!ok);
    let (ok, out) = run(
        "openssl",
        &[
            "verify",
            "-attime",
            &NOW.unix_timestamp().to_string(),
            "-CAfile",
            s(&cert),
            s(&cert),
        ],
    );
    assert!(ok, "{out}");
    let (_, text) = run("openssl", &["x509", "-noout", "-text", "-in", s(&cert)]);
    assert!(
        text.contains("sha256WithRSAEncryption") && text.contains("CA:TRUE"),
        "{text}"
    );
    // And an OpenSSL-written key loads back.
    let (ok, out) = run(
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-in",
            s(&key),
            "-passin",
            "pass:ca key password",
            "-v2",
            "aes-128-cbc",
            "-passout",
            "pass:other pw",
            "-out",
            s(&dir.path("re.key")),
        ],
    );
    assert!(ok, "{out}");
    let re = std::fs::read_to_string(dir.path("re.key")).unwrap();
    let back =
        CertificateAuthority::from_pem(&saved.certificate_pem, &re, Some("other pw")).unwrap();
    assert_eq!(back.certificate(), ca.certificate());
}

#[test]
fn openssl_verifies_csrs() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("csr");
    let (_, device) = Csr::for_device("device-9", &mut rng(20)).unwrap();
    let apns = ApnsKeyRequest::with_key(&form().subject().unwrap(), workspace_key()).unwrap();
    for (name, pem) in [("device.csr", device.pem()), ("apns.csr", apns.csr().pem())] {
        let p = dir.write(name, pem);
        let (ok, out) = run("openssl", &["req", "-verify", "-noout", "-in", s(&p)]);
        assert!(ok && out.contains("verify OK"), "{name}: {out}");
    }
    let (_, text) = run(
        "openssl",
        &["req", "-noout", "-text", "-in", s(&dir.path("apns.csr"))],
    );
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
    assert!(
        text.contains("CN = Jane Admin") && text.contains("C = JP") && text.contains("ST = Osaka"),
        "{text}"
    );
    // The DER form is the same request.
    let der = dir.write("apns.der", apns.csr().der());
    let (ok, out) = run(
        "openssl",
        &["req", "-verify", "-noout", "-inform", "DER", "-in", s(&der)],
    );
    assert!(ok, "{out}");
    // An OpenSSL-made CSR is accepted by our reader.
    let key = dir.path("o.key");
    let csr = dir.path("o.csr");
    let (ok, out) = run(
        "openssl",
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            s(&key),
            "-subj",
            "/CN=openssl-device",
            "-out",
            s(&csr),
        ],
    );
    assert!(ok, "{out}");
    let parsed = Csr::from_pem(&std::fs::read_to_string(&csr).unwrap()).unwrap();
    assert_eq!(parsed.subject(), "CN=openssl-device");
    // Keys other than P-256 and RSA are refused, not mis-certified.
    let (ok, out) = run(
        "openssl",
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            s(&key),
            "-subj",
            "/CN=p384",
            "-out",
            s(&csr),
        ],
    );
    assert!(ok, "{out}");
    assert!(matches!(
        Csr::from_pem(&std::fs::read_to_string(&csr).unwrap()),
        Err(mdm_certs::CertError::InvalidCsr { .. })
    ));
}

#[test]
fn push_certificate_and_request_with_real_tools() {
    if !have("openssl") || !have("python3") {
        return;
    }
    let dir = Dir::new("push");
    let (portal, vendor) = portal_and_vendor();
    let apns = ApnsKeyRequest::with_key(&form().subject().unwrap(), workspace_key()).unwrap();
    let signed = vendor.sign_request(apns.csr(), NOW).unwrap();
    let upload = signed.for_upload(NOW, DEFAULT_REQUEST_MAX_AGE).unwrap();
    let req = dir.write("PushCertificateRequest.plist", upload);

    // plistlib reads the base64-decoded plist: exactly three string keys.
    // The signature verifies with OpenSSL over the CSR DER.
    let script = format!(
        r#"
import base64, plistlib, sys
d = plistlib.loads(base64.b64decode(open({req:?}).read()))
assert sorted(d) == ["PushCertCertificateChain", "PushCertRequestCSR", "PushCertSignature"], d.keys()
assert all(isinstance(v, str) for v in d.values())
chain = d["PushCertCertificateChain"]
assert chain.count("-----BEGIN CERTIFICATE-----") == 2
assert all(len(l) <= 64 for l in chain.splitlines())
open({csr:?}, "wb").write(base64.b64decode(d["PushCertRequestCSR"]))
open({sig:?}, "wb").write(base64.b64decode(d["PushCertSignature"]))
open({chain_path:?}, "w").write(chain)
print("plist ok")
"#,
        req = s(&req),
        csr = s(&dir.path("csr.der")),
        sig = s(&dir.path("sig.bin")),
        chain_path = s(&dir.path("chain.pem")),
    );
    let (ok, out) = run("python3", &["-c", &script]);
    assert!(ok && out.contains("plist ok"), "{out}");
    let (ok, out) = run(
        "openssl",
        &[
            "x509",
            "-in",
            s(&dir.path("chain.pem")),
            "-pubkey",
            "-noout",
            "-out",
            s(&dir.path("vendor.pub")),
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = run(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            s(&dir.path("vendor.pub")),
            "-signature",
            s(&dir.path("sig.bin")),
            s(&dir.path("csr.der")),
        ],
    );
    assert!(ok && out.contains("Verified OK"), "{out}");
    let (ok, out) = run(
        "openssl",
        &[
            "req",
            "-verify",
            "-noout",
            "-inform",
            "DER",
            "-in",
            s(&dir.path("csr.der")),
        ],
    );
    assert!(ok, "{out}");

    // The push certificate: UID in the subject, verifies against the test "Apple" CA.
    let push = portal
        .create_push_certificate(upload, NOW, &mut rng(21))
        .unwrap();
    let push_pem = dir.write("push.pem", push.pem());
    let apple = dir.write("apple.pem", portal.authority().certificate().pem());
    let (_, text) = run(
        "openssl",
        &[
            "x509",
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
            "-in",
            s(&push_pem),
        ],
    );
    assert!(text.contains("UID=com.apple.mgmt.External."), "{text}");
    assert!(text.contains("CN=APSP:"), "{text}");
    let (ok, out) = run(
        "openssl",
        &[
            "verify",
            "-attime",
            &NOW.unix_timestamp().to_string(),
            "-CAfile",
            s(&apple),
            s(&push_pem),
        ],
    );
    assert!(ok, "{out}");

    // Backup: opens with `openssl pkcs12` and the password; not without it.
    let accepted = ApnsIntake::new(&workspace_key(), &push_anchors())
        .accept("push.pem", push.pem().as_bytes(), None, NOW)
        .unwrap();
    let pw = BackupPassword::new("backup pass phrase", "backup pass phrase").unwrap();
    let p12 = dir.write(
        "backup.p12",
        Pkcs12::backup(&accepted.identity, &pw).unwrap(),
    );
    let (ok, out) = run(
        "openssl",
        &[
            "pkcs12",
            "-in",
            s(&p12),
            "-passin",
            "pass:backup pass phrase",
            "-nodes",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("BEGIN CERTIFICATE") && out.contains("BEGIN PRIVATE KEY"),
        "{out}"
    );
    assert!(out.contains("com.apple.mgmt.External."), "{out}");
    let (ok, _) = run(
        "openssl",
        &["pkcs12", "-in", s(&p12), "-passin", "pass:wrong", "-nodes"],
    );
    assert!(!ok);

    // OpenSSL-made PKCS#12 files (modern, and legacy 3DES/SHA-1 like Keychain
    // exports) are read by our intake.
    let key = dir.write(
        "push.key",
        accepted
            .identity
            .key
            .to_pkcs8_pem(None, &mut rng(22))
            .unwrap()
            .as_bytes(),
    );
    for (name, extra) in [
        ("modern.p12", &[][..]),
        (
            "legacy.p12",
            &[
                "-certpbe",
                "PBE-SHA1-3DES",
                "-keypbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ][..],
        ),
    ] {
        let out_path = dir.path(name);
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            s(&push_pem),
            "-inkey",
            s(&key),
            "-passout",
            "pass:upload pw",
            "-out",
            s(&out_path),
        ];
        args.extend_from_slice(extra);
        let (ok, out) = run("openssl", &args);
        assert!(ok, "{name}: {out}");
        let bytes = std::fs::read(&out_path).unwrap();
        let got = ApnsIntake::new(&workspace_key(), &push_anchors())
            .accept(name, &bytes, Some("upload pw"), NOW)
            .unwrap();
        assert_eq!(got.details.topic, accepted.details.topic, "{name}");
        assert!(matches!(
            ApnsIntake::new(&workspace_key(), &push_anchors()).accept(
                name,
                &bytes,
                Some("nope"),
                NOW
            ),
            Err(mdm_certs::CertError::Pkcs12PasswordWrong { .. })
        ));
    }
}

#[test]
fn client_pkcs12_opens_with_openssl() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("client-p12");
    let ca = workspace_ca();
    let issued = ca
        .issue_client_certificate_with_key(
            &ClientIdentity::new("bob", None).unwrap(),
            Validity::days(NOW, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng(30),
        )
        .unwrap();
    let p12 = dir.write(
        "bob.p12",
        Pkcs12::write(&issued, &[ca.certificate().clone()], "bob", "device pw 123").unwrap(),
    );
    let (ok, out) = run(
        "openssl",
        &[
            "pkcs12",
            "-in",
            s(&p12),
            "-passin",
            "pass:device pw 123",
            "-nodes",
        ],
    );
    assert!(ok, "{out}");
    assert_eq!(out.matches("BEGIN CERTIFICATE").count(), 2, "{out}");
    assert!(out.contains("friendlyName: bob"), "{out}");
}
