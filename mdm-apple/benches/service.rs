#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Check-in handling through `AppleService` — decode, verify the
//! `Mdm-Signature` (P-256 and RSA-2048), check the identity binding,
//! record the connection as a sync in the model, answer — beside the bare
//! signature verification, per core (one thread). The ratio full / bare
//! is what the service adds to the cryptography.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mdm_apple::*;
use mdm_certs::{CertificateAuthority, ClientIdentity, KeyAlgorithm, SubjectName, Validity};
use mdm_model::{
    ApnsCertificateRecord, EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform,
    PushTopic, Sha256Digest, Workspace,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::{Duration, macros::datetime};

const TOPIC: &str = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";
const UDID: &str = "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69";

struct Bench {
    ws: Workspace,
    service: AppleService,
    ca: mdm_certs::Certificate,
    idle: Vec<u8>,
    signature: Vec<u8>,
}

fn setup(alg: KeyAlgorithm) -> Bench {
    let now = datetime!(2026-03-01 10:00 UTC);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Device CA").unwrap(),
        Validity::days(now - Duration::days(1), 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let identity = ca
        .issue_client_certificate_with_key(
            &ClientIdentity::new("device", Some(UDID)).unwrap(),
            Validity::days(now - Duration::days(1), 365).unwrap(),
            alg,
            &mut rng,
        )
        .unwrap();
    let signer = ProfileSigner::new(
        &[identity.certificate.der(), ca.certificate().der()],
        identity.key.pkcs8_der_secret(),
    )
    .unwrap();
    let topic = PushTopic::parse(TOPIC).unwrap();
    let mut ws = Workspace::new("acme", "ACME", None, now).unwrap();
    ws.set_apns_certificate(
        ApnsCertificateRecord::new(
            topic.clone(),
            "Apple",
            now - Duration::days(1),
            now + Duration::days(300),
            Sha256Digest::from_bytes([1; 32]),
        )
        .unwrap(),
        now,
    );
    let user = ws
        .add_user(
            "a",
            Some(EmailAddress::parse("a@acme.example").unwrap()),
            now,
        )
        .unwrap();
    let inv = ws.issue_invitation(user, now, &mut rng).unwrap();
    let device = ws
        .enroll(
            &inv.token,
            EnrollmentRequest {
                platform: Platform::IOs,
                os_version: OsVersion::new(17, 4, 0),
                model: "iPhone".into(),
                identification_number: None,
                install_source: InstallSource::EnrollmentProfile,
            },
            now,
        )
        .unwrap();
    let mut service = AppleService::in_memory(vec![ca.certificate().clone()]);
    service
        .expect_identity(identity.certificate.der(), device)
        .unwrap();
    let id = AppleDeviceId::Udid(UDID.into());
    let auth = Authenticate::new(topic.clone(), id.clone())
        .to_xml()
        .unwrap();
    let update = TokenUpdate::new(
        topic,
        id.clone(),
        PushToken::new(vec![7; 32]).unwrap(),
        PushMagic::new("magic").unwrap(),
    )
    .to_xml()
    .unwrap();
    for body in [auth, update] {
        let signature = signer.sign_detached(&body, now).unwrap();
        service
            .handle(
                &mut ws,
                &DeviceRequest {
                    endpoint: Endpoint::CheckIn,
                    body: &body,
                    identity: PresentedIdentity::MdmSignature(&signature),
                },
                now,
            )
            .unwrap();
    }
    let idle = CommandReport::idle(id).to_xml().unwrap();
    let signature = signer.sign_detached(&idle, now).unwrap();
    Bench {
        ws,
        service,
        ca: ca.certificate().clone(),
        idle,
        signature,
    }
}

fn check_in(c: &mut Criterion) {
    let now = datetime!(2026-03-01 10:00 UTC);
    let mut g = c.benchmark_group("apple_service");
    g.throughput(Throughput::Elements(1));
    for (name, alg) in [
        ("p256", KeyAlgorithm::EcdsaP256),
        ("rsa2048", KeyAlgorithm::Rsa2048),
    ] {
        let mut b = setup(alg);
        let anchors = [b.ca.clone()];
        g.bench_function(format!("bare_verify_{name}"), |bench| {
            bench.iter(|| {
                verify_detached_signature(black_box(&b.signature), &b.idle, &anchors, now).unwrap()
            });
        });
        g.bench_function(format!("check_in_{name}"), |bench| {
            bench.iter(|| {
                let request = DeviceRequest {
                    endpoint: Endpoint::Command,
                    body: black_box(&b.idle),
                    identity: PresentedIdentity::MdmSignature(&b.signature),
                };
                b.service.handle(&mut b.ws, &request, now).unwrap()
            });
        });
    }
    g.finish();
}

criterion_group!(benches, check_in);
criterion_main!(benches);
