#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! SCEP PKCSReq issuances against the bare RSA-2048 private-key operation
//! they are made of, in the same run.
//!
//! A PKCSReq costs one RSA decryption (the content key) and one RSA
//! signature (the CertRep) by the CA or RA, plus the certificate's
//! signature by the CA (RSA for an RSA CA, P-256 behind an RA). So the
//! limit is `rsa_2048_private_op` / 3 issuances per second for an RSA CA,
//! and a little under / 2 for a P-256 CA with an RSA RA; compare
//! `scep_pkcsreq_*` against that.
//!
//! `cargo bench -p mdm-certs --bench scep -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mdm_certs::{
    CertError, CertificateAuthority, ClientIdentity, ContentCipher, Csr, KeyAlgorithm, PrivateKey,
    ScepChallengeStore, ScepConfig, ScepDigest, ScepGrant, ScepOutcome, ScepRequest, ScepServer,
    ScepSigner, SubjectName, Validity, csr_with_challenge,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;
use time::macros::datetime;

/// Grants every password: the bench measures the protocol, not the store.
struct Grant(ClientIdentity);

impl ScepChallengeStore for Grant {
    fn redeem(&self, _: &str, _: &Csr, _: OffsetDateTime) -> Result<ScepGrant, CertError> {
        Ok(ScepGrant::Issue(self.0.clone()))
    }
}

fn bench(c: &mut Criterion) {
    let now = datetime!(2026-06-01 12:00 UTC);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let validity = Validity::days(now, 3650).unwrap();
    let name = |n: &str| SubjectName::common_name(n).unwrap();
    let rsa_ca = CertificateAuthority::create(
        &name("Bench RSA CA"),
        validity,
        KeyAlgorithm::Rsa2048,
        &mut rng,
    )
    .unwrap();
    let p256_ca = CertificateAuthority::create(
        &name("Bench P-256 CA"),
        validity,
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let ra = ScepServer::issue_ra(
        &p256_ca,
        "Bench RA",
        Validity::days(now, 365).unwrap(),
        &mut rng,
    )
    .unwrap();
    let servers = [
        (
            "scep_pkcsreq_rsa2048_ca",
            ScepServer::new(rsa_ca, ScepConfig::default()).unwrap(),
        ),
        (
            "scep_pkcsreq_p256_ca_rsa2048_ra",
            ScepServer::with_ra(p256_ca, &ra, ScepConfig::default()).unwrap(),
        ),
    ];
    let store = Grant(ClientIdentity::new("user@example.com", Some("device-1")).unwrap());

    let device_key = PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng).unwrap();
    let csr = csr_with_challenge(&name("device-1"), &device_key, "ANY").unwrap();
    let device = ScepSigner::self_signed(device_key, "device-1", now, &mut rng).unwrap();

    c.bench_function("rsa_2048_private_op", |b| {
        let digest = ScepDigest::Sha256.hash(b"bench");
        b.iter(|| {
            black_box(
                device
                    .sign_digest(ScepDigest::Sha256, &digest, &mut rng)
                    .unwrap(),
            )
        });
    });
    for (label, server) in &servers {
        let request = ScepRequest::pkcs_req(
            &csr,
            &device,
            server.responder_certificate(),
            ContentCipher::Aes128Cbc,
            ScepDigest::Sha256,
            now,
            &mut rng,
        )
        .unwrap();
        c.bench_function(label, |b| {
            b.iter(|| {
                let (response, outcome) = server
                    .pki_operation(black_box(request.der()), &store, now, &mut rng)
                    .unwrap();
                assert!(matches!(outcome, ScepOutcome::Issued { .. }));
                black_box(response)
            });
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
