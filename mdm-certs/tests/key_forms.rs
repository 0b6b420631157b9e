//! The private-key forms real users bring beside a certificate, each made by
//! the `openssl` command line: PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE
//! KEY`, both also old-style encrypted (`Proc-Type: 4,ENCRYPTED`), and
//! the forms that are refused, each with its own error.

use mdm_certs::{
    ApnsIntake, ApnsKeyRequest, CertError, Certificate, DEFAULT_REQUEST_MAX_AGE, KeyAlgorithm,
    PrivateKey, Validity, read_certificate_file,
};

use crate::fixture::{
    NOW, form, other_workspace_key, portal_and_vendor, push_anchors, rng, workspace_ca,
    workspace_key,
};
use crate::openssl::{Dir, have, run, s};
use mdm_model::ServerHost;

/// The push certificate Apple's portal stand-in issues for the workspace key.
fn push_certificate() -> Certificate {
    let (portal, vendor) = portal_and_vendor();
    let request = ApnsKeyRequest::with_key(&form().subject().unwrap(), workspace_key()).unwrap();
    let upload = vendor.sign_request(request.csr(), NOW).unwrap();
    let upload = upload.for_upload(NOW, DEFAULT_REQUEST_MAX_AGE).unwrap();
    portal
        .create_push_certificate(upload, NOW, &mut rng(61))
        .unwrap()
}

/// `key` as unencrypted PKCS#8 PEM, rewritten by `openssl <args> -in … -out …`.
fn converted(dir: &Dir, name: &str, key: &PrivateKey, args: &[&str]) -> String {
    let input = dir.write(
        &format!("{name}.in.pem"),
        key.to_pkcs8_pem(None, &mut rng(1)).unwrap(),
    );
    let output = dir.path(&format!("{name}.pem"));
    let mut all = args.to_vec();
    all.extend(["-in", s(&input), "-out", s(&output)]);
    let (ok, out) = run("openssl", &all);
    assert!(ok, "openssl {all:?}: {out}");
    std::fs::read_to_string(output).unwrap()
}

#[test]
fn pkcs1_and_old_style_encrypted_rsa_keys_are_read() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("key-forms-rsa");
    let key = workspace_key();
    let cert = push_certificate();
    let anchors = push_anchors();
    let pass = ["-passout", "pass:key pass"];
    let forms = [
        ("pkcs1", vec!["rsa", "-traditional"], false, ""),
        (
            "aes256",
            [&["rsa", "-traditional", "-aes256"][..], &pass].concat(),
            true,
            "AES-256-CBC",
        ),
        (
            "aes128",
            [&["rsa", "-traditional", "-aes128"][..], &pass].concat(),
            true,
            "AES-128-CBC",
        ),
        (
            "des3",
            [&["rsa", "-traditional", "-des3"][..], &pass].concat(),
            true,
            "DES-EDE3-CBC",
        ),
    ];
    for (name, args, encrypted, cipher) in forms {
        let pem = converted(&dir, name, &key, &args);
        assert!(
            pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
            "{name}: {pem}"
        );
        assert_eq!(pem.contains("Proc-Type: 4,ENCRYPTED"), encrypted, "{name}");
        if encrypted {
            assert!(
                pem.contains(&format!("DEK-Info: {cipher},")),
                "{name}: {pem}"
            );
        }
        let file = format!("{}{pem}", cert.pem());
        let password = encrypted.then_some("key pass");

        let read = PrivateKey::from_pem(&pem, password).unwrap();
        assert_eq!(read.public_key_raw(), key.public_key_raw(), "{name}");
        let (_, file_key) = read_certificate_file("push.pem", file.as_bytes(), password).unwrap();
        assert_eq!(
            file_key.unwrap().public_key_raw(),
            key.public_key_raw(),
            "{name}"
        );
        let accepted = ApnsIntake::without_kept_key(&anchors)
            .accept("push.pem", file.as_bytes(), password, NOW)
            .unwrap();
        assert_eq!(accepted.identity.key.public_key_raw(), key.public_key_raw());

        if encrypted {
            assert!(matches!(
                PrivateKey::from_pem(&pem, None),
                Err(CertError::KeyPasswordRequired)
            ));
            assert!(matches!(
                ApnsIntake::without_kept_key(&anchors).accept(
                    "push.pem",
                    file.as_bytes(),
                    None,
                    NOW
                ),
                Err(CertError::KeyPasswordRequired)
            ));
            assert!(matches!(
                PrivateKey::from_pem(&pem, Some("not it")),
                Err(CertError::KeyPasswordWrong)
            ));
            // With the workspace's kept key the file's key is not needed,
            // so it is not decrypted and no password is asked for.
            let kept = workspace_key();
            ApnsIntake::new(&kept, &anchors)
                .accept("push.pem", file.as_bytes(), None, NOW)
                .unwrap();
        }
    }
}

#[test]
fn sec1_and_old_style_encrypted_ec_keys_are_read() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("key-forms-ec");
    let ca = workspace_ca();
    let host = ServerHost::parse("mdm.example.com").unwrap();
    let validity = Validity::days(NOW, 30).unwrap();
    let server = ca
        .issue_server_certificate(&host, validity, KeyAlgorithm::EcdsaP256, &mut rng(62))
        .unwrap();
    let pass = ["-passout", "pass:ec pass"];
    for (name, args, encrypted) in [
        ("sec1", vec!["ec"], false),
        (
            "sec1-aes256",
            [&["ec", "-aes256"][..], &pass].concat(),
            true,
        ),
    ] {
        let pem = converted(&dir, name, &server.key, &args);
        assert!(
            pem.starts_with("-----BEGIN EC PRIVATE KEY-----"),
            "{name}: {pem}"
        );
        assert_eq!(pem.contains("Proc-Type: 4,ENCRYPTED"), encrypted, "{name}");
        let password = encrypted.then_some("ec pass");
        let read = PrivateKey::from_pem(&pem, password).unwrap();
        assert_eq!(read.algorithm(), KeyAlgorithm::EcdsaP256);
        assert_eq!(read.public_key_raw(), server.key.public_key_raw());
        let file = format!("{}{pem}", server.certificate.pem());
        let (cert, key) = read_certificate_file("server.pem", file.as_bytes(), password).unwrap();
        assert_eq!(cert, server.certificate);
        assert_eq!(key.unwrap().public_key_raw(), server.key.public_key_raw());
        // A CA saved with an older tool's key form loads too.
        let ca_key = converted(&dir, &format!("ca-{name}"), ca.key(), &args);
        let again =
            mdm_certs::CertificateAuthority::from_pem(&ca.certificate().pem(), &ca_key, password)
                .unwrap();
        assert_eq!(again.certificate(), ca.certificate());
    }
}

#[test]
fn refused_key_forms_say_what_is_accepted() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("key-forms-refused");
    let cert = push_certificate();
    let anchors = push_anchors();

    // A cipher the old format allows but this reader does not.
    let pem = converted(
        &dir,
        "aria",
        &workspace_key(),
        &["rsa", "-traditional", "-aria256", "-passout", "pass:pw"],
    );
    let err = PrivateKey::from_pem(&pem, Some("pw")).unwrap_err();
    assert!(
        matches!(&err, CertError::UnsupportedPemCipher { cipher } if cipher == "ARIA-256-CBC"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("openssl pkey -in old.pem -out new.pem"),
        "{err}"
    );

    // An Ed25519 key (PKCS#8, but neither P-256 nor RSA) beside the
    // certificate: refused for what it is, not "holds no private key".
    let ed = dir.path("ed25519.pem");
    let (ok, out) = run(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", s(&ed)],
    );
    assert!(ok, "{out}");
    let ed = std::fs::read_to_string(ed).unwrap();
    let file = format!("{}{ed}", cert.pem());
    let err = ApnsIntake::without_kept_key(&anchors)
        .accept("push.pem", file.as_bytes(), None, NOW)
        .unwrap_err();
    assert!(
        matches!(&err, CertError::InvalidPrivateKey { reason } if reason.contains("P-256 or RSA")),
        "{err}"
    );

    // Another workspace's key beside the certificate.
    let other = converted(
        &dir,
        "other",
        &other_workspace_key(),
        &["rsa", "-traditional"],
    );
    let file = format!("{}{other}", cert.pem());
    assert!(matches!(
        read_certificate_file("push.pem", file.as_bytes(), None),
        Err(CertError::KeyDoesNotMatchCertificate { .. })
    ));

    // Labels of keys not read here.
    for label in ["DSA PRIVATE KEY", "OPENSSH PRIVATE KEY"] {
        let pem = format!("-----BEGIN {label}-----\naGk=\n-----END {label}-----\n");
        let err = PrivateKey::from_pem(&pem, None).unwrap_err();
        assert!(
            matches!(&err, CertError::UnsupportedKeyFormat { label: l } if l == label),
            "{err}"
        );
        assert!(
            err.to_string().contains("RSA PRIVATE KEY (PKCS#1)"),
            "{err}"
        );
    }
}
