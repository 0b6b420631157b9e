//! The APNs certificate flow end to end, with the portal stand-in, and
//! every intake refusal.

use mdm_certs::{
    ApnsIntake, ApnsKeyRequest, BackupPassword, CertError, CertifiedKey, Csr,
    DEFAULT_REQUEST_MAX_AGE, ExpiryStatus, KeyAlgorithm, NameAttribute, Pkcs12, SubjectName,
    Validity,
};
use mdm_model::PushTopic;
use time::Duration;

use crate::fixture::{
    NOW, form, other_workspace_key, portal_and_vendor, push_anchors, rng, workspace_key,
};

fn request_for(key: mdm_certs::PrivateKey) -> ApnsKeyRequest {
    ApnsKeyRequest::with_key(&form().subject().unwrap(), key).unwrap()
}

#[test]
fn create_sign_upload_backup_renew() {
    let (portal, vendor) = portal_and_vendor();
    let request = request_for(workspace_key());
    let signed = vendor.sign_request(request.csr(), NOW).unwrap();
    assert_eq!(signed.signed_at(), NOW);
    let upload = signed
        .for_upload(NOW + Duration::minutes(20), DEFAULT_REQUEST_MAX_AGE)
        .unwrap();
    let push_cert = portal
        .create_push_certificate(upload, NOW, &mut rng(1))
        .unwrap();

    let kept = request.into_key();
    let anchors = push_anchors();
    let accepted = ApnsIntake::new(&kept, &anchors)
        .accept(
            "MDM_ Example Corp_Certificate.pem",
            push_cert.pem().as_bytes(),
            None,
            NOW,
        )
        .unwrap();
    let d = &accepted.details;
    assert_eq!(d.file_name, "MDM_ Example Corp_Certificate.pem");
    assert_eq!(
        d.issuer_name,
        "Apple Application Integration 2 Certification Authority (SIMULATED)"
    );
    assert_eq!(d.not_before, NOW);
    assert_eq!(d.not_after, NOW + Duration::days(365));
    assert!(d.topic.as_str().starts_with("com.apple.mgmt.External."));
    assert_eq!(d.fingerprint, push_cert.info().fingerprint);
    assert_eq!(
        push_cert
            .info()
            .subject_common_name
            .as_deref()
            .map(|c| c.starts_with("APSP:")),
        Some(true)
    );
    assert!(push_cert.is_signed_by(portal.authority().certificate()));
    let subject = &push_cert.info().subject;
    assert!(
        subject.contains(d.topic.as_str()) && subject.contains("C=US"),
        "{subject}"
    );

    // DER upload gives the same details.
    let der = ApnsIntake::new(&kept, &anchors)
        .accept("push.cer", push_cert.der(), None, NOW)
        .unwrap();
    assert_eq!(der.details.topic, d.topic);

    // Backup: password twice; our reader opens it; so does a fresh intake
    // without a kept key (restoring the backup elsewhere).
    let pw = BackupPassword::new("correct horse battery", "correct horse battery").unwrap();
    let backup = Pkcs12::backup(&accepted.identity, &pw).unwrap();
    let back = Pkcs12::read(&backup, pw.expose(), "backup.p12").unwrap();
    assert_eq!(back.certificate, push_cert);
    assert!(back.key.is_some());
    let restored = ApnsIntake::without_kept_key(&anchors)
        .accept("backup.p12", &backup, Some("correct horse battery"), NOW)
        .unwrap();
    assert_eq!(restored.details.topic, d.topic);
    assert!(matches!(
        ApnsIntake::without_kept_key(&anchors).accept("backup.p12", &backup, None, NOW),
        Err(CertError::Pkcs12PasswordRequired { .. })
    ));
    assert!(matches!(
        ApnsIntake::without_kept_key(&anchors).accept("backup.p12", &backup, Some("nope"), NOW),
        Err(CertError::Pkcs12PasswordWrong { .. })
    ));
    // Certificate alone, no kept key, no key in file.
    assert!(matches!(
        ApnsIntake::without_kept_key(&anchors).accept(
            "push.pem",
            push_cert.pem().as_bytes(),
            None,
            NOW
        ),
        Err(CertError::MissingPrivateKey { .. })
    ));

    // Renewal, eleven months later: the portal's Renew keeps the topic.
    let later = NOW + Duration::days(335);
    assert_eq!(
        push_cert.info().expiry_status(later),
        ExpiryStatus::ExpiresWithin30Days
    );
    let renew_req = request_for(kept_clone(&kept));
    let signed = vendor.sign_request(renew_req.csr(), later).unwrap();
    let upload = signed.for_upload(later, DEFAULT_REQUEST_MAX_AGE).unwrap();
    let renewed = portal
        .renew_push_certificate(upload, &d.topic, later, &mut rng(2))
        .unwrap();
    let ok = ApnsIntake::new(&kept, &anchors)
        .renewing(&d.topic)
        .accept("renewed.pem", renewed.pem().as_bytes(), None, later)
        .unwrap();
    assert_eq!(ok.details.topic, d.topic);
    // "Create a Certificate" instead of Renew: a new topic, refused (R-AP-4).
    let fresh = portal
        .create_push_certificate(upload, later, &mut rng(3))
        .unwrap();
    assert!(matches!(
        ApnsIntake::new(&kept, &anchors).renewing(&d.topic).accept(
            "new.pem",
            fresh.pem().as_bytes(),
            None,
            later
        ),
        Err(CertError::TopicChanged { .. })
    ));
}

fn kept_clone(key: &mdm_certs::PrivateKey) -> mdm_certs::PrivateKey {
    mdm_certs::PrivateKey::from_pkcs8_der(key.pkcs8_der_secret()).unwrap()
}

#[test]
fn signed_request_expires() {
    let (_, vendor) = portal_and_vendor();
    let request = request_for(workspace_key());
    let signed = vendor.sign_request(request.csr(), NOW).unwrap();
    let too_late = NOW + DEFAULT_REQUEST_MAX_AGE + Duration::seconds(1);
    assert!(matches!(
        signed.for_upload(too_late, DEFAULT_REQUEST_MAX_AGE),
        Err(CertError::RequestExpired { .. })
    ));
    assert!(signed.for_upload(too_late, Duration::days(1)).is_ok());
}

#[test]
fn portal_refuses_forged_vendor_signature() {
    let (portal, vendor) = portal_and_vendor();
    let request = request_for(workspace_key());
    let signed = vendor.sign_request(request.csr(), NOW).unwrap();
    let xml = String::from_utf8(signed.plist_xml().to_vec()).unwrap();
    // Swap in another workspace's CSR, keeping the vendor signature.
    let other = request_for(other_workspace_key());
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let forged = xml.replace(
        &b64.encode(request.csr().der()),
        &b64.encode(other.csr().der()),
    );
    assert_ne!(forged, xml);
    assert!(matches!(
        portal.create_push_certificate(&b64.encode(forged), NOW, &mut rng(1)),
        Err(CertError::BadSignature { .. })
    ));
}

#[test]
fn intake_refusals_are_distinct() {
    let (portal, vendor) = portal_and_vendor();
    let kept = workspace_key();
    let anchors = push_anchors();
    let intake = ApnsIntake::new(&kept, &anchors);
    let csr = request_for(workspace_key()).csr().clone();
    let valid = Validity::days(NOW, 365).unwrap();

    // Another workspace's certificate.
    let other_req = request_for(other_workspace_key());
    let upload = vendor.sign_request(other_req.csr(), NOW).unwrap();
    let foreign = portal
        .create_push_certificate(
            upload.for_upload(NOW, DEFAULT_REQUEST_MAX_AGE).unwrap(),
            NOW,
            &mut rng(4),
        )
        .unwrap();
    assert!(matches!(
        intake.accept("foreign.pem", foreign.pem().as_bytes(), None, NOW),
        Err(CertError::PublicKeyMismatch { .. })
    ));

    // No UID.
    let no_uid = portal
        .issue_custom(
            &csr,
            &SubjectName::common_name("APSP:x").unwrap(),
            valid,
            &mut rng(5),
        )
        .unwrap();
    assert!(matches!(
        intake.accept("no-uid.pem", no_uid.pem().as_bytes(), None, NOW),
        Err(CertError::MissingPushTopic { .. })
    ));

    // Wrong prefix.
    let subject = SubjectName::default()
        .with(NameAttribute::UserId, "com.example.push.topic")
        .unwrap()
        .with(NameAttribute::CommonName, "APSP:x")
        .unwrap();
    let wrong = portal
        .issue_custom(&csr, &subject, valid, &mut rng(6))
        .unwrap();
    match intake.accept("wrong.pem", wrong.pem().as_bytes(), None, NOW) {
        Err(CertError::InvalidPushTopic { topic, .. }) => {
            assert_eq!(topic, "com.example.push.topic");
        }
        other => panic!("{other:?}"),
    }

    // Expired.
    let subject = SubjectName::default()
        .with(
            NameAttribute::UserId,
            "com.apple.mgmt.External.00000000-0000-4000-8000-000000000000",
        )
        .unwrap();
    let old = Validity::new(NOW - Duration::days(400), NOW - Duration::days(35)).unwrap();
    let expired = portal
        .issue_custom(&csr, &subject, old, &mut rng(7))
        .unwrap();
    assert!(matches!(
        intake.accept("old.pem", expired.pem().as_bytes(), None, NOW),
        Err(CertError::CertificateExpired { .. })
    ));

    // Garbage, empty, a PEM with no certificate.
    for (name, bytes) in [
        ("garbage.bin", &b"\x00\x01 not a certificate"[..]),
        ("empty.pem", &b""[..]),
        (
            "key.pem",
            &b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"[..],
        ),
    ] {
        match intake.accept(name, bytes, None, NOW) {
            Err(CertError::NotACertificate { source_name, .. }) => assert_eq!(source_name, name),
            other => panic!("{name}: {other:?}"),
        }
    }

    // PKCS#12 of a foreign identity with a password: opens, then refused by key.
    let foreign_id = CertifiedKey {
        certificate: foreign.clone(),
        key: other_workspace_key(),
    };
    let p12 = Pkcs12::write(&foreign_id, &[], "foreign", "pass phrase 1").unwrap();
    assert!(matches!(
        intake.accept("foreign.p12", &p12, Some("pass phrase 1"), NOW),
        Err(CertError::PublicKeyMismatch { .. })
    ));
    assert!(matches!(
        intake.accept("foreign.p12", &p12, None, NOW),
        Err(CertError::Pkcs12PasswordRequired { .. })
    ));
}

#[test]
fn push_topic_rules() {
    assert!(PushTopic::parse("com.apple.mgmt.External.abc").is_ok());
    assert!(PushTopic::parse("com.apple.mgmt.").is_err());
    assert!(PushTopic::parse("com.apple.mgmtX.abc").is_err());
    assert!(PushTopic::parse("").is_err());
}

#[test]
fn apns_key_request_makes_rsa_2048() {
    // The one place the test suite generates an RSA key outside the fixture:
    // `create` must make the key itself.
    let req = ApnsKeyRequest::create(&form(), &mut rng(9)).unwrap();
    assert_eq!(req.key().algorithm(), KeyAlgorithm::Rsa2048);
    assert_eq!(
        Csr::from_der(req.csr().der()).unwrap().public_key_raw(),
        req.key().public_key_raw()
    );
}

#[test]
fn intake_trusts_only_the_push_ca_and_external_topics() {
    let (portal, _) = portal_and_vendor();
    let kept = workspace_key();
    let anchors = push_anchors();
    let intake = ApnsIntake::new(&kept, &anchors);
    let csr = request_for(workspace_key()).csr().clone();
    let valid = Validity::days(NOW, 365).unwrap();
    let external = |uid: &str| {
        SubjectName::default()
            .with(NameAttribute::UserId, uid)
            .unwrap()
            .with(NameAttribute::CommonName, "APSP:x")
            .unwrap()
    };

    // A push-shaped certificate for our key, from another CA.
    let elsewhere =
        mdm_certs::PushPortalStandIn::new(KeyAlgorithm::EcdsaP256, NOW, &mut rng(50)).unwrap();
    let forged = elsewhere
        .issue_custom(
            &csr,
            &external("com.apple.mgmt.External.00000000-0000-4000-8000-000000000000"),
            valid,
            &mut rng(51),
        )
        .unwrap();
    match intake.accept("forged.pem", forged.pem().as_bytes(), None, NOW) {
        Err(CertError::UntrustedPushIssuer { issuer, .. }) => {
            assert!(issuer.contains("SIMULATED"), "{issuer}");
        }
        other => panic!("{other:?}"),
    }
    // No anchors: nothing is trusted.
    assert!(matches!(
        ApnsIntake::new(&kept, &[]).accept("forged.pem", forged.pem().as_bytes(), None, NOW),
        Err(CertError::UntrustedPushIssuer { .. })
    ));

    // From the right CA, but not the `External.` form.
    let internal = portal
        .issue_custom(
            &csr,
            &external("com.apple.mgmt.Internal.x"),
            valid,
            &mut rng(52),
        )
        .unwrap();
    match intake.accept("internal.pem", internal.pem().as_bytes(), None, NOW) {
        Err(CertError::PushTopicNotExternal { topic }) => {
            assert_eq!(topic, "com.apple.mgmt.Internal.x");
        }
        other => panic!("{other:?}"),
    }
    let bare = portal
        .issue_custom(
            &csr,
            &external("com.apple.mgmt.External."),
            valid,
            &mut rng(53),
        )
        .unwrap();
    assert!(matches!(
        intake.accept("bare.pem", bare.pem().as_bytes(), None, NOW),
        Err(CertError::PushTopicNotExternal { .. })
    ));

    // A self-signed CA with a push-shaped subject, in a PKCS#12 with its key.
    let ca = mdm_certs::CertificateAuthority::create_with_key(
        &external("com.apple.mgmt.External.00000000-0000-4000-8000-000000000000"),
        valid,
        workspace_key(),
        &mut rng(54),
    )
    .unwrap();
    let identity = CertifiedKey {
        certificate: ca.certificate().clone(),
        key: workspace_key(),
    };
    let p12 = Pkcs12::write_with_iterations(&identity, &[], "ca", "pass phrase 1", 2048).unwrap();
    assert!(matches!(
        ApnsIntake::without_kept_key(&anchors).accept("ca.p12", &p12, Some("pass phrase 1"), NOW),
        Err(CertError::PushCertificateIsCa { .. })
    ));
    // The anchor itself is not a push certificate either.
    assert!(matches!(
        intake.accept("apple.pem", anchors[0].pem().as_bytes(), None, NOW),
        Err(CertError::PushCertificateIsCa { .. })
    ));
}
