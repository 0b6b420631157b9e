#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Issuing and parsing P-256 client certificates.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mdm_certs::{
    Certificate, CertificateAuthority, ClientIdentity, Csr, KeyAlgorithm, SubjectName, Validity,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;

fn bench(c: &mut Criterion) {
    let now = datetime!(2026-06-01 12:00 UTC);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Bench CA").unwrap(),
        Validity::days(now, 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let (_, csr) = Csr::for_device("device-1", &mut rng).unwrap();
    let identity = ClientIdentity::new("user@example.com", Some("device-1")).unwrap();
    let validity = Validity::days(now, 365).unwrap();

    c.bench_function("issue_p256_client_certificate_from_csr", |b| {
        b.iter(|| {
            black_box(
                ca.issue_client_certificate(&csr, &identity, validity, &mut rng)
                    .unwrap(),
            )
        });
    });

    let csr_der = csr.der().to_vec();
    c.bench_function("parse_csr_and_issue", |b| {
        b.iter(|| {
            let csr = Csr::from_der(black_box(&csr_der)).unwrap();
            black_box(
                ca.issue_client_certificate(&csr, &identity, validity, &mut rng)
                    .unwrap(),
            )
        });
    });

    c.bench_function("device_key_and_csr", |b| {
        b.iter(|| black_box(Csr::for_device("device-1", &mut rng).unwrap()));
    });

    c.bench_function("p256_generate", |b| {
        b.iter(|| {
            black_box(mdm_certs::PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng).unwrap())
        });
    });
    let key = mdm_certs::PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng).unwrap();
    c.bench_function("p256_sign", |b| {
        b.iter(|| black_box(key.sign(black_box(&csr_der)).unwrap()));
    });
    c.bench_function("csr_from_der", |b| {
        b.iter(|| black_box(Csr::from_der(black_box(&csr_der)).unwrap()));
    });
    let cert = ca
        .issue_client_certificate(&csr, &identity, validity, &mut rng)
        .unwrap();
    let der = cert.der().to_vec();
    c.bench_function("parse_client_certificate", |b| {
        b.iter(|| black_box(Certificate::from_der(black_box(&der)).unwrap()));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
