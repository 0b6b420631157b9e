//! SCEP in-process: our device-side builder against our server, every
//! answer read back with the device's key; the refusals and their
//! failInfo; the parser under arbitrary bytes.

use std::sync::OnceLock;

use mdm_certs::{
    CertError, CertificateAuthority, ClientIdentity, ContentCipher, FailInfo, KeyAlgorithm,
    OtpPolicy, PkiMessage, PrivateKey, ScepChallenges, ScepConfig, ScepDigest, ScepOutcome,
    ScepReply, ScepRequest, ScepServer, ScepSigner, SubjectName, TransactionId, Validity,
    ca_certificates, csr_with_challenge,
};
use proptest::prelude::*;
use time::Duration;

use crate::fixture::{NOW, rng};

pub(crate) fn rsa(seed: u64) -> PrivateKey {
    static KEYS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..3)
            .map(|i| {
                PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng(7000 + i))
                    .unwrap()
                    .pkcs8_der_secret()
                    .to_vec()
            })
            .collect()
    });
    PrivateKey::from_pkcs8_der(&keys[usize::try_from(seed).unwrap() % keys.len()]).unwrap()
}

pub(crate) fn rsa_ca() -> CertificateAuthority {
    CertificateAuthority::create_with_key(
        &SubjectName::common_name("SCEP Flow CA").unwrap(),
        Validity::days(NOW - Duration::days(1), 3650).unwrap(),
        rsa(0),
        &mut rng(1),
    )
    .unwrap()
}

struct Device {
    signer: ScepSigner,
    csr: Vec<u8>,
}

fn device(challenge: &str, seed: u64) -> Device {
    let key = rsa(1);
    let csr = csr_with_challenge(
        &SubjectName::common_name("whatever-the-device-says").unwrap(),
        &key,
        challenge,
    )
    .unwrap();
    let signer = ScepSigner::self_signed(key, "device", NOW, &mut rng(seed)).unwrap();
    Device { signer, csr }
}

fn send(
    server: &ScepServer,
    store: &ScepChallenges,
    device: &Device,
    cipher: ContentCipher,
    digest: ScepDigest,
    seed: u64,
) -> (ScepReply, ScepOutcome, ScepRequest) {
    let responder = server.responder_certificate().clone();
    let req = ScepRequest::pkcs_req(
        &device.csr,
        &device.signer,
        &responder,
        cipher,
        digest,
        NOW,
        &mut rng(seed),
    )
    .unwrap();
    let (resp, outcome) = server
        .pki_operation(req.der(), store, NOW, &mut rng(seed + 1))
        .unwrap();
    assert_eq!(resp.content_type, "application/x-pki-message");
    let reply = ScepReply::parse(&resp.body, &req, &responder, &device.signer).unwrap();
    (reply, outcome, req)
}

#[test]
fn pkcs_req_issues_once_with_the_policy_subject() {
    let ca = rsa_ca();
    let server = ScepServer::new(ca, ScepConfig::default()).unwrap();
    let store = ScepChallenges::new();
    let id = ClientIdentity::new("bob@example.com", Some("ipad-3")).unwrap();
    let otp = store.issue(id, OtpPolicy::default(), NOW, &mut rng(2));
    let dev = device(otp.expose(), 3);
    for (i, (cipher, digest)) in [
        (ContentCipher::Aes256Cbc, ScepDigest::Sha256),
        (ContentCipher::DesEde3Cbc, ScepDigest::Sha1),
        (ContentCipher::Aes128Cbc, ScepDigest::Sha512),
    ]
    .into_iter()
    .enumerate()
    {
        let (reply, outcome, _) = send(&server, &store, &dev, cipher, digest, 10 + 10 * i as u64);
        if i == 0 {
            let ScepReply::Issued(cert) = reply else {
                panic!("{reply:?}")
            };
            assert!(cert.is_signed_by(server.authority().certificate()));
            assert_eq!(cert.info().subject, "CN=bob@example.com, OU=ipad-3");
            assert_eq!(
                cert.info().public_key_raw,
                dev.signer.certificate().info().public_key_raw
            );
            assert!(matches!(outcome, ScepOutcome::Issued { .. }));
        } else {
            // Used once: the same password is refused, in every cipher.
            assert!(
                matches!(reply, ScepReply::Failed(FailInfo::BadRequest)),
                "{reply:?}"
            );
            assert!(matches!(
                outcome,
                ScepOutcome::Refused {
                    error: CertError::OtpAlreadyUsed { .. },
                    ..
                }
            ));
        }
    }
}

#[test]
fn refusals_carry_their_fail_info() {
    let server = ScepServer::new(rsa_ca(), ScepConfig::default()).unwrap();
    let store = ScepChallenges::new();
    let id = ClientIdentity::new("carol", None).unwrap();
    let policy = OtpPolicy::new(26, Duration::hours(1), 3).unwrap();
    let otp = store.issue(id, policy, NOW - Duration::hours(2), &mut rng(4));

    // Expired password: badTime.
    let (reply, _, _) = send(
        &server,
        &store,
        &device(otp.expose(), 5),
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        40,
    );
    assert!(
        matches!(reply, ScepReply::Failed(FailInfo::BadTime)),
        "{reply:?}"
    );
    // Unknown password: badRequest.
    let (reply, outcome, _) = send(
        &server,
        &store,
        &device("NOPE", 6),
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        50,
    );
    assert!(matches!(reply, ScepReply::Failed(FailInfo::BadRequest)));
    assert!(matches!(
        outcome,
        ScepOutcome::Refused {
            error: CertError::ScepChallengeUnknown,
            ..
        }
    ));

    // A flipped byte in the signed content: badMessageCheck.
    let dev = device("X", 7);
    let responder = server.responder_certificate().clone();
    let req = ScepRequest::pkcs_req(
        &dev.csr,
        &dev.signer,
        &responder,
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        NOW,
        &mut rng(60),
    )
    .unwrap();
    let mut der = req.der().to_vec();
    // A byte of the signature (the last field of the message).
    let at = der.len() - 5;
    der[at] ^= 0x01;
    match server.pki_operation(&der, &store, NOW, &mut rng(61)) {
        Ok((resp, outcome)) => {
            let m = PkiMessage::parse(&resp.body).unwrap();
            assert_eq!(
                m.fail_info(),
                Some(FailInfo::BadMessageCheck),
                "{outcome:?}"
            );
        }
        Err(e) => assert!(matches!(e, CertError::ScepMalformed { .. }), "{e}"),
    }

    // Signed a week ago: badTime.
    let req = ScepRequest::pkcs_req(
        &dev.csr,
        &dev.signer,
        &responder,
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        NOW - Duration::days(7),
        &mut rng(62),
    )
    .unwrap();
    let (resp, _) = server
        .pki_operation(req.der(), &store, NOW, &mut rng(63))
        .unwrap();
    assert_eq!(
        PkiMessage::parse(&resp.body).unwrap().fail_info(),
        Some(FailInfo::BadTime)
    );

    // Not PKCS#7 at all: a typed error (HTTP 400), not a CertRep.
    assert!(matches!(
        server.pki_operation(b"hello", &store, NOW, &mut rng(64)),
        Err(CertError::ScepMalformed { .. })
    ));
}

#[test]
fn an_ra_answers_for_a_p256_ca_and_renewal_keeps_the_identity() {
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("P-256 CA").unwrap(),
        Validity::days(NOW - Duration::days(1), 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng(8),
    )
    .unwrap();
    // A P-256 CA cannot answer SCEP itself.
    assert!(matches!(
        ScepServer::new(
            CertificateAuthority::from_parts(
                ca.certificate().clone(),
                ca.key().try_clone().unwrap()
            )
            .unwrap(),
            ScepConfig::default()
        ),
        Err(CertError::ScepSetup { .. })
    ));
    let mut ra = ScepServer::issue_ra(
        &ca,
        "SCEP RA",
        Validity::days(NOW, 365).unwrap(),
        &mut rng(9),
    )
    .unwrap();
    ra = mdm_certs::CertifiedKey {
        certificate: ra.certificate,
        key: rsa(2),
    };
    // The RA key must match its certificate.
    assert!(
        ScepServer::with_ra(
            CertificateAuthority::from_parts(
                ca.certificate().clone(),
                ca.key().try_clone().unwrap()
            )
            .unwrap(),
            &ra,
            ScepConfig::default()
        )
        .is_err()
    );
    let ra = ScepServer::issue_ra(
        &ca,
        "SCEP RA",
        Validity::days(NOW, 365).unwrap(),
        &mut rng(9),
    )
    .unwrap();
    let server = ScepServer::with_ra(ca, &ra, ScepConfig::default()).unwrap();
    let cacert = server.ca_cert().unwrap();
    let certs = ca_certificates(cacert.content_type, &cacert.body).unwrap();
    assert_eq!(certs.len(), 2);

    let store = ScepChallenges::new();
    let otp = store.issue(
        ClientIdentity::new("dan", Some("phone")).unwrap(),
        OtpPolicy::default(),
        NOW,
        &mut rng(10),
    );
    let dev = device(otp.expose(), 11);
    let (reply, _, _) = send(
        &server,
        &store,
        &dev,
        ContentCipher::Aes256Cbc,
        ScepDigest::Sha256,
        70,
    );
    let ScepReply::Issued(cert) = reply else {
        panic!("{reply:?}")
    };

    // Renewal, signed with the certificate just issued.
    let current = ScepSigner::new(&mdm_certs::CertifiedKey {
        certificate: *cert,
        key: rsa(1),
    })
    .unwrap();
    let responder = server.responder_certificate().clone();
    let req = ScepRequest::renewal_req(
        &dev.csr,
        &current,
        &responder,
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        NOW,
        &mut rng(80),
    )
    .unwrap();
    let (resp, outcome) = server
        .pki_operation(req.der(), &store, NOW, &mut rng(81))
        .unwrap();
    let reply = ScepReply::parse(&resp.body, &req, &responder, &current).unwrap();
    let ScepReply::Issued(renewed) = reply else {
        panic!("{reply:?} {outcome:?}")
    };
    assert_eq!(renewed.info().subject, "CN=dan, OU=phone");

    // A renewal signed by a self-signed certificate: badCertId.
    let req = ScepRequest::renewal_req(
        &dev.csr,
        &dev.signer,
        &responder,
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        NOW,
        &mut rng(83),
    )
    .unwrap();
    let (resp, _) = server
        .pki_operation(req.der(), &store, NOW, &mut rng(84))
        .unwrap();
    assert_eq!(
        PkiMessage::parse(&resp.body).unwrap().fail_info(),
        Some(FailInfo::BadCertId)
    );
}

#[test]
fn a_held_request_is_pending_until_approved() {
    let server = ScepServer::new(rsa_ca(), ScepConfig::default()).unwrap();
    let store = ScepChallenges::new();
    let id = ClientIdentity::new("erin", None).unwrap();
    let otp = store.issue_held(id.clone(), OtpPolicy::default(), NOW, &mut rng(12));
    let dev = device(otp.expose(), 13);
    let (reply, _, req) = send(
        &server,
        &store,
        &dev,
        ContentCipher::Aes128Cbc,
        ScepDigest::Sha256,
        90,
    );
    assert!(matches!(reply, ScepReply::Pending));
    assert_eq!(server.pending(), vec![req.transaction_id().clone()]);

    let responder = server.responder_certificate().clone();
    let poll = |seed: u64, tid: TransactionId| {
        let subject_der = x509_name_der();
        let p = ScepRequest::cert_poll(
            tid,
            &subject_der,
            server.authority().certificate(),
            &dev.signer,
            &responder,
            ContentCipher::Aes128Cbc,
            ScepDigest::Sha256,
            NOW,
            &mut rng(seed),
        )
        .unwrap();
        let (resp, _) = server
            .pki_operation(p.der(), &store, NOW, &mut rng(seed + 1))
            .unwrap();
        ScepReply::parse(&resp.body, &p, &responder, &dev.signer).unwrap()
    };
    assert!(matches!(
        poll(100, req.transaction_id().clone()),
        ScepReply::Pending
    ));
    assert!(matches!(
        poll(110, TransactionId::new("unknown").unwrap()),
        ScepReply::Failed(FailInfo::BadCertId)
    ));
    server.approve(req.transaction_id(), id).unwrap();
    let ScepReply::Issued(cert) = poll(120, req.transaction_id().clone()) else {
        panic!()
    };
    assert_eq!(cert.info().subject, "CN=erin");
    assert!(server.pending().is_empty());
}

/// `CN=whatever-the-device-says` as a DER Name (what the CSR asked).
fn x509_name_der() -> Vec<u8> {
    use x509_parser::prelude::FromDer as _;
    let dev = device("x", 1);
    let (_, csr) =
        x509_parser::certification_request::X509CertificationRequest::from_der(&dev.csr).unwrap();
    csr.certification_request_info.subject.as_raw().to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn pki_message_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = PkiMessage::parse(&bytes);
    }

    #[test]
    fn mutated_requests_never_panic_the_server(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        static REQ: OnceLock<(Vec<u8>, ScepServer)> = OnceLock::new();
        let (der, server) = REQ.get_or_init(|| {
            let server = ScepServer::new(rsa_ca(), ScepConfig::default()).unwrap();
            let dev = device("ABC", 20);
            let responder = server.responder_certificate().clone();
            let req = ScepRequest::pkcs_req(&dev.csr, &dev.signer, &responder, ContentCipher::Aes128Cbc, ScepDigest::Sha256, NOW, &mut rng(21)).unwrap();
            (req.der().to_vec(), server)
        });
        let mut der = der.clone();
        for (i, b) in flips {
            let at = i.index(der.len());
            der[at] ^= b | 1;
        }
        let store = ScepChallenges::new();
        let _ = server.pki_operation(&der, &store, NOW, &mut rng(22));
        let _ = PkiMessage::parse(&der);
    }
}
