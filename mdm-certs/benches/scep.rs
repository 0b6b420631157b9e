#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! SCEP PKCSReq issuances against the bare RSA-2048 private-key operation
//! they are made of, in the same run, on one core.
//!
//! A PKCSReq costs one RSA decryption (the content key) and one RSA
//! signature (the CertRep) by the CA or RA, plus the certificate's
//! signature by the CA (RSA for an RSA CA, P-256 behind an RA). So the
//! limit is `rsa_2048_private_op` / 3 issuances per second for an RSA CA,
//! and 1 / (2 RSA operations + 1 P-256 signature, each timed bare) for a
//! P-256 CA with an RSA RA. After criterion's
//! own report the bench measures again in interleaved rounds (in each: a
//! batch of bare private-key operations, then a batch of issuances of each
//! server), so that a machine whose speed drifts (a shared VM) moves both
//! sides of a ratio together, and prints, for each server, the median over
//! the rounds of its issuance rate, its limit from the private-key rate of
//! the same round, and their ratio.
//!
//! The RSA engine is the `rsa` crate by default, OpenSSL with the
//! `openssl` feature (or `openssl-p256`); each bench's name ends with it:
//!
//! `cargo bench -p mdm-certs --bench scep -- --warm-up-time 1 --measurement-time 3`
//! `cargo bench -p mdm-certs --features openssl --bench scep -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use mdm_certs::{
    CertError, CertificateAuthority, ClientIdentity, ContentCipher, Csr, KeyAlgorithm, PrivateKey,
    ScepChallengeStore, ScepConfig, ScepDigest, ScepGrant, ScepOutcome, ScepRequest, ScepServer,
    ScepSigner, SubjectName, Validity, csr_with_challenge,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;
use time::macros::datetime;

const ENGINE: &str = if cfg!(feature = "openssl") {
    "openssl"
} else {
    "rsa-crate"
};

/// Grants every password: the bench measures the protocol, not the store.
struct Grant(ClientIdentity);

impl ScepChallengeStore for Grant {
    fn redeem(&self, _: &str, _: &Csr, _: OffsetDateTime) -> Result<ScepGrant, CertError> {
        Ok(ScepGrant::Issue(self.0.clone()))
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
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
    let p256_key = p256_ca.key().try_clone().unwrap();
    // (label, server, RSA private-key operations and P-256 signatures per
    // issuance)
    let servers = [
        (
            "scep_pkcsreq_rsa2048_ca",
            ScepServer::new(rsa_ca, ScepConfig::default()).unwrap(),
            (3.0, 0.0),
        ),
        (
            "scep_pkcsreq_p256_ca_rsa2048_ra",
            ScepServer::with_ra(p256_ca, &ra, ScepConfig::default()).unwrap(),
            (2.0, 1.0),
        ),
    ];
    let store = Grant(ClientIdentity::new("user@example.com", Some("device-1")).unwrap());

    let device_key = PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng).unwrap();
    let csr = csr_with_challenge(&name("device-1"), &device_key, "ANY").unwrap();
    let device = ScepSigner::self_signed(device_key, "device-1", now, &mut rng).unwrap();

    c.bench_function(&format!("rsa_2048_private_op/{ENGINE}"), |b| {
        let digest = ScepDigest::Sha256.hash(b"bench");
        b.iter(|| black_box(device.sign_digest(ScepDigest::Sha256, &digest).unwrap()));
    });
    // What a certificate's signature signs: a TBSCertificate of this size.
    let tbs = vec![0x5a_u8; 600];
    c.bench_function(&format!("p256_sign_op/{ENGINE}"), |b| {
        b.iter(|| black_box(p256_key.sign(black_box(&tbs)).unwrap()));
    });
    let mut issued = Vec::new();
    for (label, server, ops) in &servers {
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
        c.bench_function(&format!("{label}/{ENGINE}"), |b| {
            b.iter(|| {
                let (response, outcome) = server
                    .pki_operation(black_box(request.der()), &store, now, &mut rng)
                    .unwrap();
                assert!(matches!(outcome, ScepOutcome::Issued { .. }));
                black_box(response);
            });
        });
        issued.push((*label, server, *ops, request.der().to_vec()));
    }
    c.final_summary();
    interleaved(&device, &p256_key, &issued, &store, now, &mut rng);
}

/// Batches per round and rounds of the interleaved measurement.
const BATCH: u32 = 150;
const ROUNDS: usize = 9;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A server measured: its label, the server, its RSA private-key
/// operations and P-256 signatures per issuance, and the request it answers.
type Measured<'a> = (&'a str, &'a ScepServer, (f64, f64), Vec<u8>);

fn interleaved(
    device: &ScepSigner,
    p256_key: &PrivateKey,
    servers: &[Measured<'_>],
    store: &Grant,
    now: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) {
    let digest = ScepDigest::Sha256.hash(b"bench");
    let tbs = vec![0x5a_u8; 600];
    let rate = |op: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..BATCH {
            op();
        }
        f64::from(BATCH) / start.elapsed().as_secs_f64()
    };
    let (mut op_rates, mut p256_rates) = (Vec::new(), Vec::new());
    let mut rates = vec![Vec::new(); servers.len()];
    let mut ratios = vec![Vec::new(); servers.len()];
    for _ in 0..ROUNDS {
        let op_rate = rate(&mut || {
            black_box(device.sign_digest(ScepDigest::Sha256, &digest).unwrap());
        });
        let p256_rate = rate(&mut || {
            black_box(p256_key.sign(&tbs).unwrap());
        });
        op_rates.push(op_rate);
        p256_rates.push(p256_rate);
        for (i, (_, server, (rsa_ops, p256_ops), request)) in servers.iter().enumerate() {
            let issued = rate(&mut || {
                let (response, outcome) = server
                    .pki_operation(black_box(request), store, now, rng)
                    .unwrap();
                assert!(matches!(outcome, ScepOutcome::Issued { .. }));
                black_box(response);
            });
            let limit = 1.0 / (rsa_ops / op_rate + p256_ops / p256_rate);
            rates[i].push(issued);
            ratios[i].push(issued / limit);
        }
    }
    let (op_rate, p256_rate) = (median(op_rates), median(p256_rates));
    println!(
        "\nengine {ENGINE}, {ROUNDS} interleaved rounds of {BATCH}: RSA-2048 private-key op {op_rate:.1}/s, P-256 signature {p256_rate:.1}/s per core (medians)"
    );
    for (i, (label, _, (rsa_ops, p256_ops), _)) in servers.iter().enumerate() {
        let rate = median(rates[i].clone());
        let limit = 1.0 / (rsa_ops / op_rate + p256_ops / p256_rate);
        println!(
            "{label}: {rate:.1} issuances/s per core; limit {limit:.1}/s ({rsa_ops} RSA ops + {p256_ops} P-256 signatures); ratio {:.2} (median of the rounds' ratios)",
            median(ratios[i].clone())
        );
    }
}
