#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The figures the harness depends on: building and serialising an
//! enrollment profile, signing it (RSA 2048 and ECDSA P-256), parsing a
//! TokenUpdate, building one, and a command-queue round.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mdm_apple::*;
use mdm_model::PushTopic;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const TOPIC: &str = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";

fn params() -> EnrollmentParams {
    let mut scep = ScepIdentity::new("https://mdm.example.com/scep");
    scep.challenge = Some("challenge".into());
    scep.subject = vec![
        ("O".into(), "Example".into()),
        ("CN".into(), "%SerialNumber%".into()),
    ];
    EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm/connect").unwrap(),
        check_in_url: None,
        topic: PushTopic::parse(TOPIC).unwrap(),
        identity: EnrollmentIdentity::Scep(scep),
        server_root_ca_der: Some(include_bytes!("../tests/data/fixture-root.der").to_vec()),
        identifier_prefix: "com.example.mdm".into(),
        organization: "Example".into(),
    }
}

fn profiles(c: &mut Criterion) {
    let params = params();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("profile");
    g.throughput(Throughput::Elements(1));
    g.bench_function("enrollment_build_and_serialise", |b| {
        b.iter(|| {
            enrollment_profile(black_box(&params), &mut rng)
                .unwrap()
                .to_xml()
                .unwrap()
        });
    });
    let profile = enrollment_profile(&params, &mut rng).unwrap();
    let now = time::macros::datetime!(2026-11-28 12:00 UTC);
    for (name, cert, key) in [
        (
            "sign_rsa2048",
            &include_bytes!("../tests/data/bench-rsa-cert.der")[..],
            &include_bytes!("../tests/data/bench-rsa-key.pk8")[..],
        ),
        (
            "sign_p256",
            &include_bytes!("../tests/data/bench-ec-cert.der")[..],
            &include_bytes!("../tests/data/bench-ec-key.pk8")[..],
        ),
    ] {
        let signer = ProfileSigner::new(&[cert.to_vec()], key).unwrap();
        // The bench certificates are self-signed: each is its own anchor.
        let anchors = [mdm_certs::Certificate::from_der(cert).unwrap()];
        let valid_now = anchors[0].info().not_before + time::Duration::days(1);
        g.bench_function(name, |b| {
            b.iter(|| profile.sign(black_box(&signer), now).unwrap());
        });
        let signed = profile.sign(&signer, now).unwrap();
        g.bench_function(
            format!("verify_{}", name.trim_start_matches("sign_")),
            |b| {
                b.iter(|| verify_signed_profile(black_box(&signed), &anchors, valid_now).unwrap());
            },
        );
    }
    g.finish();
}

fn messages(c: &mut Criterion) {
    let topic = PushTopic::parse(TOPIC).unwrap();
    let device = AppleDeviceId::Udid("00008030-001A2D8E0C38802E".into());
    let mut tu = TokenUpdate::new(
        topic,
        device.clone(),
        PushToken::new(vec![0xab; 32]).unwrap(),
        PushMagic::new("CEFDF0BD-E342-4A27-8742-E930EA116B0A").unwrap(),
    );
    tu.unlock_token = Some(UnlockToken::new(vec![7; 1288]));
    let xml = tu.to_xml().unwrap();
    let mut g = c.benchmark_group("checkin");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_token_update", |b| {
        b.iter(|| match decode(black_box(&xml)).unwrap() {
            DeviceMessage::TokenUpdate(t) => t,
            _ => unreachable!(),
        });
    });
    g.bench_function("build_token_update", |b| {
        b.iter(|| black_box(&tu).to_xml().unwrap());
    });
    g.bench_function("queue_round", |b| {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        b.iter(|| {
            let mut q = CommandQueue::new(device.clone());
            let uuid = CommandUuid::random(&mut rng);
            q.enqueue(CommandRequest::new(
                uuid.clone(),
                Command::SecurityInfo(SecurityInfo),
            ))
            .unwrap();
            let body = q
                .respond(&CommandReport::idle(device.clone()))
                .unwrap()
                .1
                .unwrap()
                .to_xml()
                .unwrap();
            let ack = CommandReport::result(
                device.clone(),
                uuid,
                CommandStatus::Acknowledged,
                Default::default(),
            );
            let (_, next) = q.respond(&ack).unwrap();
            black_box((body, next.is_none()))
        });
    });
    g.finish();
}

criterion_group!(benches, profiles, messages);
criterion_main!(benches);
