//! No `Debug` output of this crate shows key material, a password or a
//! one-time password: every type that holds one is formatted (`{:?}` and
//! `{:#?}`) and the output searched for the secret in each form a derived
//! `Debug` or a careless `impl` would print it (hex, decimal bytes, base64,
//! PEM body, the text itself).

use base64::Engine as _;
use mdm_certs::{
    ApnsIntake, ApnsKeyRequest, BackupPassword, CertificateAuthority, ClientCertificateDelivery,
    ClientIdentity, KeyAlgorithm, OtpPolicy, Pkcs12, PrivateKey, ServerCertificateRotation,
    SubjectName, Validity, VendorSigner,
};
use mdm_model::ServerHost;
use time::Duration;

use crate::fixture::{NOW, form, portal_and_vendor, push_anchors, rng, vendor_key, workspace_key};

/// The forms in which `key`'s secret could show up in text.
fn key_forms(key: &PrivateKey) -> Vec<String> {
    let der = key.pkcs8_der_secret();
    // The last 32 bytes of a PKCS#8 DER are secret for RSA (CRT
    // coefficient); for P-256 the scalar sits at bytes 36..68.
    let secret: &[u8] = if key.algorithm() == KeyAlgorithm::EcdsaP256 {
        &der[36..68]
    } else {
        &der[der.len() - 32..]
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_slice());
    vec![
        hex::encode(&secret[..12]),
        hex::encode_upper(&secret[..12]),
        format!("{:?}", &secret[..6])
            .trim_matches(['[', ']'])
            .to_owned(),
        format!("{:?}", &der[..6])
            .trim_matches(['[', ']'])
            .to_owned(),
        b64[40..80].to_owned(),
    ]
}

fn assert_hidden(what: &str, shown: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(
            !shown.contains(secret.as_str()),
            "{what} shows a secret ({secret}) in its Debug output:\n{shown}"
        );
    }
}

fn check<T: std::fmt::Debug>(what: &str, value: &T, secrets: &[String]) {
    assert_hidden(what, &format!("{value:?}"), secrets);
    assert_hidden(what, &format!("{value:#?}"), secrets);
}

#[test]
fn no_debug_output_shows_a_secret() {
    let mut r = rng(60);
    // Keys, CAs and identities (P-256 and RSA).
    let p256 = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut r).unwrap();
    let p256_secrets = key_forms(&p256);
    check("PrivateKey (P-256)", &p256, &p256_secrets);
    // The search finds a leak: the raw PKCS#8 bytes, as a derived Debug shows them.
    let leak = p256.pkcs8_der_secret().to_vec();
    assert!(std::panic::catch_unwind(|| check("leak", &leak, &p256_secrets)).is_err());
    let rsa = workspace_key();
    let rsa_secrets = key_forms(&rsa);
    check("PrivateKey (RSA)", &rsa, &rsa_secrets);

    let ca = CertificateAuthority::create_with_key(
        &SubjectName::common_name("Secrets CA").unwrap(),
        Validity::days(NOW, 3650).unwrap(),
        p256.try_clone().unwrap(),
        &mut r,
    )
    .unwrap();
    check("CertificateAuthority", &ca, &p256_secrets);
    let mut saved_secrets = p256_secrets.clone();
    let plain = ca.to_pem(None, &mut r).unwrap();
    let pem_body: String = plain.key_pem.lines().nth(1).unwrap().to_owned();
    saved_secrets.push(pem_body);
    check("CaPem (plain key)", &plain, &saved_secrets);
    let encrypted = ca.to_pem(Some("ca key pass phrase"), &mut r).unwrap();
    let mut encrypted_secrets = vec!["ca key pass phrase".to_owned()];
    encrypted_secrets.push(encrypted.key_pem.lines().nth(1).unwrap().to_owned());
    check("CaPem (encrypted key)", &encrypted, &encrypted_secrets);

    let client = ca
        .issue_client_certificate_with_key(
            &ClientIdentity::new("secret-keeper", None).unwrap(),
            Validity::days(NOW, 30).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut r,
        )
        .unwrap();
    let client_secrets = key_forms(&client.key);
    check("CertifiedKey", &client, &client_secrets);

    let address = ServerHost::parse("mdm.example.com").unwrap();
    let server = ca
        .issue_server_certificate(
            &address,
            Validity::days(NOW, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut r,
        )
        .unwrap();
    let server_secrets = key_forms(&server.key);
    let mut rotation = ServerCertificateRotation::new(server);
    let reserve = ca
        .issue_reserve_server_certificate(
            &address,
            NOW,
            Duration::days(30),
            KeyAlgorithm::EcdsaP256,
            &mut r,
        )
        .unwrap();
    let mut rotation_secrets = server_secrets.clone();
    rotation_secrets.extend(key_forms(&reserve.identity().key));
    check("ReserveCertificate", &reserve, &rotation_secrets);
    rotation.schedule(reserve).unwrap();
    check("ServerCertificateRotation", &rotation, &rotation_secrets);
    check(
        "ActiveServerCertificate",
        &rotation.active_at(NOW),
        &rotation_secrets,
    );

    // The APNs flow: request key, vendor key, portal CA, intake, accepted identity.
    let request = ApnsKeyRequest::with_key(&form().subject().unwrap(), workspace_key()).unwrap();
    check("ApnsKeyRequest", &request, &rsa_secrets);
    let vendor_secrets = key_forms(&vendor_key());
    let (portal, vendor): (_, VendorSigner) = portal_and_vendor();
    check("VendorSigner", &vendor, &vendor_secrets);
    let portal_secrets = key_forms(portal.authority().key());
    check("PushPortalStandIn", &portal, &portal_secrets);
    let anchors = push_anchors();
    let kept = workspace_key();
    check(
        "ApnsIntake",
        &ApnsIntake::new(&kept, &anchors),
        &rsa_secrets,
    );
    let upload = vendor.sign_request(request.csr(), NOW).unwrap();
    let push = portal
        .create_push_certificate(
            upload.for_upload(NOW, Duration::hours(1)).unwrap(),
            NOW,
            &mut r,
        )
        .unwrap();
    let accepted = ApnsIntake::new(&kept, &anchors)
        .accept("push.pem", push.pem().as_bytes(), None, NOW)
        .unwrap();
    check("AcceptedApnsCertificate", &accepted, &rsa_secrets);

    // Passwords, PKCS#12 contents, one-time passwords and deliveries.
    let password = BackupPassword::new("backup pass phrase 42", "backup pass phrase 42").unwrap();
    check(
        "BackupPassword",
        &password,
        &["backup pass phrase 42".to_owned(), "pass phrase".to_owned()],
    );
    let backup = Pkcs12::backup(&accepted.identity, &password).unwrap();
    let contents = Pkcs12::read(&backup, password.expose(), "backup.p12").unwrap();
    check("Pkcs12Contents", &contents, &rsa_secrets);
    let wrong = Pkcs12::read(&backup, "a wrong guess 77", "backup.p12").unwrap_err();
    check("CertError", &wrong, &["a wrong guess 77".to_owned()]);

    let policy = OtpPolicy::new(12, Duration::days(1), 3).unwrap();
    let (delivery, otp) = ClientCertificateDelivery::with_pkcs12(
        &client,
        &[ca.certificate().clone()],
        "secret-keeper",
        policy,
        NOW,
        &mut r,
    )
    .unwrap();
    let mut otp_secrets = client_secrets.clone();
    otp_secrets.push(otp.expose().to_owned());
    check("OneTimePassword", &otp, &otp_secrets);
    check("ClientCertificateDelivery", &delivery, &otp_secrets);
    check("DeliveryPayload", delivery.payload(), &otp_secrets);
    let mut spent = delivery;
    let wrong = spent.redeem("WRONGWRONGWR", NOW).unwrap_err();
    check("CertError (OTP)", &wrong, &otp_secrets);
}
