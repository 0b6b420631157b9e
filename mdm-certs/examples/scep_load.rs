//! Rerun: `cargo run --release -p mdm-certs --features http --example scep_load -- ours 400 16`
//! (our route), then against micromdm's server:
//! `scepserver ca -init -depot D -keySize 2048 && scepserver -depot D -http-addr 127.0.0.1:PORT -challenge SECRET &`
//! and `cargo run --release -p mdm-certs --features http --example scep_load -- http://127.0.0.1:PORT/scep 400 16 SECRET`.
//!
//! A SCEP load client, written once for both servers: it fetches the CA
//! certificate (GetCACert), builds `N` PKCSReq messages with our own
//! client code (RSA 2048 device keys, a CN of its own each, AES-128,
//! SHA-256), POSTs them over loopback HTTP with `C` in flight, then checks
//! every CertRep (signature, transactionID, nonces, the decrypted
//! certificate chains to the CA) and prints issuances per second. With
//! `ours`, it serves our route in-process on 127.0.0.1 (port 0) with an
//! RSA 2048 CA and the challenge `SECRET`. The timed phase is the HTTP
//! exchange only; building and checking are done before and after.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mdm_certs::{
    CertError, CertificateAuthority, ClientIdentity, ContentCipher, Csr, KeyAlgorithm, PrivateKey,
    ScepChallengeStore, ScepConfig, ScepDigest, ScepGrant, ScepReply, ScepRequest, ScepRoute,
    ScepServer, ScepSigner, SubjectName, Validity, ca_certificates, csr_with_challenge,
    scep_router,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;

const SECRET: &str = "SECRET";

/// micromdm's `-challenge`: one shared password, compared in constant time.
struct Shared(ClientIdentity);

impl ScepChallengeStore for Shared {
    fn redeem(&self, challenge: &str, _: &Csr, _: OffsetDateTime) -> Result<ScepGrant, CertError> {
        use subtle::ConstantTimeEq as _;
        if bool::from(challenge.as_bytes().ct_eq(SECRET.as_bytes())) {
            Ok(ScepGrant::Issue(self.0.clone()))
        } else {
            Err(CertError::ScepChallengeUnknown)
        }
    }
}

fn serve_ours() -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let now = OffsetDateTime::now_utc();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Load CA").unwrap(),
        Validity::days(now - time::Duration::days(1), 3650).unwrap(),
        KeyAlgorithm::Rsa2048,
        &mut rng,
    )
    .unwrap();
    let seed = AtomicU64::new(1000);
    let route = ScepRoute {
        server: Arc::new(ScepServer::new(ca, ScepConfig::default()).unwrap()),
        store: Arc::new(Shared(ClientIdentity::new("load", None).unwrap())),
        now: Arc::new(OffsetDateTime::now_utc),
        rng: Arc::new(move || {
            Box::new(ChaCha20Rng::seed_from_u64(
                seed.fetch_add(1, Ordering::Relaxed),
            ))
        }),
        audit: Arc::new(|_| {}),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/scep", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, scep_router(route))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    (url, stop, thread)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = args.first().map_or("ours", String::as_str).to_owned();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let challenge = args.get(3).cloned().unwrap_or_else(|| SECRET.to_owned());
    let (url, guard) = if target == "ours" {
        let (url, stop, thread) = serve_ours();
        (url, Some((stop, thread)))
    } else {
        (target.clone(), None)
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = |query: String| {
        let client = client.clone();
        let uri: hyper::Uri = format!("{url}?{query}").parse().unwrap();
        async move {
            let resp = client.get(uri).await.unwrap();
            let ct = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (ct, resp.into_body().collect().await.unwrap().to_bytes())
        }
    };
    let (ct, body) = rt.block_on(get("operation=GetCACert".into()));
    let certs = ca_certificates(&ct, &body).unwrap();
    let ca = certs.iter().find(|c| c.info().is_ca).unwrap().clone();
    let recipient = certs
        .iter()
        .find(|c| !c.info().is_ca)
        .unwrap_or(&ca)
        .clone();

    // Build the requests (a few device keys; a CN of its own per request).
    let now = OffsetDateTime::now_utc();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let devices: Vec<(PrivateKey, ScepSigner)> = (0..4)
        .map(|i| {
            let key = PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng).unwrap();
            let signer = ScepSigner::self_signed(
                key.try_clone().unwrap(),
                &format!("load-{i}"),
                now,
                &mut rng,
            )
            .unwrap();
            (key, signer)
        })
        .collect();
    let requests: Vec<(usize, ScepRequest)> = (0..n)
        .map(|i| {
            let (key, signer) = &devices[i % devices.len()];
            let subject =
                SubjectName::common_name(format!("load-device-{i}-{}", now.unix_timestamp()))
                    .unwrap();
            let csr = csr_with_challenge(&subject, key, &challenge).unwrap();
            let req = ScepRequest::pkcs_req(
                &csr,
                signer,
                &recipient,
                ContentCipher::Aes128Cbc,
                ScepDigest::Sha256,
                now,
                &mut rng,
            )
            .unwrap();
            (i % devices.len(), req)
        })
        .collect();

    // The timed phase: POST every request, `concurrency` in flight.
    let bodies: Vec<Bytes> = requests
        .iter()
        .map(|(_, r)| Bytes::copy_from_slice(r.der()))
        .collect();
    let uri: hyper::Uri = format!("{url}?operation=PKIOperation").parse().unwrap();
    let start = Instant::now();
    let answers: Vec<Bytes> = rt.block_on(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = Vec::with_capacity(n);
        for body in bodies {
            let client = client.clone();
            let uri = uri.clone();
            let permit = Arc::clone(&sem).acquire_owned().await.unwrap();
            tasks.push(tokio::spawn(async move {
                let req = hyper::Request::post(uri)
                    .header("content-type", "application/x-pki-message")
                    .body(Full::new(body))
                    .unwrap();
                let resp = client.request(req).await.unwrap();
                let bytes = resp.into_body().collect().await.unwrap().to_bytes();
                drop(permit);
                bytes
            }));
        }
        let mut out = Vec::with_capacity(n);
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let elapsed = start.elapsed();

    // Check every answer.
    let mut issued = 0usize;
    let mut failed = 0usize;
    for ((device, request), answer) in requests.iter().zip(&answers) {
        let signer = &devices[*device].1;
        match ScepReply::parse(answer, request, &recipient, signer, &mut rng) {
            Ok(ScepReply::Issued(cert)) if cert.is_signed_by(&ca) => issued += 1,
            Ok(other) => {
                failed += 1;
                if failed <= 3 {
                    eprintln!("not issued: {other:?}");
                }
            }
            Err(e) => {
                failed += 1;
                if failed <= 3 {
                    eprintln!("bad answer: {e}");
                }
            }
        }
    }
    let rate = issued as f64 / elapsed.as_secs_f64();
    println!(
        "{target}: {issued}/{n} issued, {failed} failed, {concurrency} in flight, {:.2} s: {rate:.1} issuances/s",
        elapsed.as_secs_f64()
    );
    if let Some((stop, thread)) = guard {
        let _ = stop.send(());
        let _ = thread.join();
    }
    if failed > 0 {
        std::process::exit(1);
    }
}
