//! Our SCEP route against micromdm's `scepserver`, side by side: the same
//! CA (RSA 2048), the same request stream, over loopback HTTP.
//!
//! Rerun (release; `--features openssl-p256` for the OpenSSL engine, as
//! the harness builds it):
//!
//! ```sh
//! cargo run --release -p mdm-certs --features http,openssl-p256 --example scep_load -- \
//!     --scepserver ../shared/tools/scepserver --requests 300 --in-flight 16 --rounds 5
//! ```
//!
//! What it does: `scepserver ca -init -keySize 2048` makes micromdm's CA in
//! a temporary depot; our server loads that very CA (certificate and key),
//! so both answer for the same key. Each server runs in its own process on
//! 127.0.0.1 (ours is this program again, `scep_load serve DEPOT
//! CHALLENGE`), both with the one challenge `-challenge` gives micromdm's.
//! Before anything is timed the load client builds every round's stream of
//! PKCSReq messages with our own client code (RSA 2048 device keys, a CN of
//! its own per request, AES-128-CBC, SHA-256), encrypted to the shared CA
//! certificate; each round POSTs the same bytes to both servers, the order
//! alternating round by round, `--in-flight` at once on keep-alive
//! connections. Only the HTTP exchange is timed. Then every CertRep is
//! checked: signed by the CA, transactionID and recipientNonce the
//! request's, pkiStatus SUCCESS, the content decrypted with the device's
//! key, the certificate the device's key and chained to the CA, valid now.
//! It prints each run, the medians and their ratio, and stops both
//! servers by PID. Any failure ends it with a non-zero status.
#![allow(missing_docs)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mdm_certs::{
    CertError, Certificate, CertificateAuthority, ClientIdentity, ContentCipher, Csr, KeyAlgorithm,
    PrivateKey, ScepChallengeStore, ScepConfig, ScepDigest, ScepGrant, ScepReply, ScepRequest,
    ScepRoute, ScepServer, ScepSigner, SubjectName, ca_certificates, csr_with_challenge,
    scep_router,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;

type HttpClient = Client<HttpConnector, Full<Bytes>>;
type Fallible<T> = Result<T, String>;

/// micromdm's `-challenge`: one shared password, compared in constant time.
struct Shared {
    challenge: String,
    identity: ClientIdentity,
}

impl ScepChallengeStore for Shared {
    fn redeem(&self, challenge: &str, _: &Csr, _: OffsetDateTime) -> Result<ScepGrant, CertError> {
        use subtle::ConstantTimeEq as _;
        if bool::from(challenge.as_bytes().ct_eq(self.challenge.as_bytes())) {
            Ok(ScepGrant::Issue(self.identity.clone()))
        } else {
            Err(CertError::ScepChallengeUnknown)
        }
    }
}

struct Options {
    scepserver: PathBuf,
    requests: usize,
    in_flight: usize,
    rounds: usize,
    devices: usize,
}

impl Options {
    fn parse(args: &[String]) -> Fallible<Self> {
        let mut options = Self {
            scepserver: PathBuf::from("../shared/tools/scepserver"),
            requests: 300,
            in_flight: 16,
            rounds: 5,
            devices: 8,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || {
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{flag} {value}: a positive number"))
            };
            match flag.as_str() {
                "--scepserver" => options.scepserver = PathBuf::from(value),
                "--requests" => options.requests = number()?,
                "--in-flight" => options.in_flight = number()?,
                "--rounds" => options.rounds = number()?,
                "--devices" => options.devices = number()?,
                other => {
                    return Err(format!(
                        "unknown option {other} (--scepserver PATH --requests N --in-flight C --rounds R --devices K)"
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// A server process on 127.0.0.1, killed by its PID when dropped.
struct Served {
    name: &'static str,
    url: String,
    child: Child,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scep_load serve DEPOT CHALLENGE`: our route over the depot's CA, on a
/// port of its own; prints its URL, and stops when its stdin closes.
fn serve(depot: &Path, challenge: &str) -> Fallible<()> {
    let read =
        |name: &str| std::fs::read_to_string(depot.join(name)).map_err(|e| format!("{name}: {e}"));
    let ca = CertificateAuthority::from_pem(&read("ca.pem")?, &read("ca.key")?, Some(""))
        .map_err(|e| format!("micromdm's CA: {e}"))?;
    let server = ScepServer::new(ca, ScepConfig::default()).map_err(|e| e.to_string())?;
    let seed = AtomicU64::new(1000);
    let route = ScepRoute {
        server: Arc::new(server),
        store: Arc::new(Shared {
            challenge: challenge.to_owned(),
            identity: ClientIdentity::new("load", None).map_err(|e| e.to_string())?,
        }),
        now: Arc::new(OffsetDateTime::now_utc),
        rng: Arc::new(move || {
            Box::new(ChaCha20Rng::seed_from_u64(
                seed.fetch_add(1, Ordering::Relaxed),
            ))
        }),
        audit: Arc::new(|_| {}),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("http://{addr}/scep");
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        });
        axum::serve(listener, scep_router(route))
            .with_graceful_shutdown(async {
                let _ = stdin_closed.await;
            })
            .await
            .map_err(|e| e.to_string())
    })
}

fn start_ours(depot: &Path, challenge: &str) -> Fallible<Served> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("serve")
        .arg(depot)
        .arg(challenge)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("our server: {e}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("our server has no stdout")?;
    let read = BufReader::new(stdout).read_line(&mut line);
    let served = Served {
        name: "ours",
        url: line.trim().to_owned(),
        child,
    };
    match read {
        Ok(n) if n > 0 && served.url.starts_with("http://") => Ok(served),
        _ => Err(format!("our server did not start: {line:?}")),
    }
}

fn start_micromdm(
    rt: &tokio::runtime::Runtime,
    client: &HttpClient,
    binary: &Path,
    depot: &Path,
    challenge: &str,
) -> Fallible<Served> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let log = std::fs::File::create(depot.join("scepserver.log")).map_err(|e| e.to_string())?;
    let child = Command::new(binary)
        .arg("-depot")
        .arg(depot)
        .arg("-http-addr")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-challenge")
        .arg(challenge)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let served = Served {
        name: "micromdm",
        url: format!("http://127.0.0.1:{port}/scep"),
        child,
    };
    for _ in 0..200 {
        if rt.block_on(get(client, &served.url, "GetCACaps")).is_ok() {
            return Ok(served);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(format!(
        "{} did not answer GetCACaps in 5 s",
        binary.display()
    ))
}

async fn get(client: &HttpClient, url: &str, operation: &str) -> Fallible<(String, Bytes)> {
    let uri: hyper::Uri = format!("{url}?operation={operation}")
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
    let resp = client.get(uri).await.map_err(|e| e.to_string())?;
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((ct, body))
}

struct Device {
    key: PrivateKey,
    signer: ScepSigner,
}

/// One round's requests: a CN of its own each, the devices in turn.
fn stream(
    round: usize,
    count: usize,
    devices: &[Device],
    recipient: &Certificate,
    challenge: &str,
    now: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Fallible<Vec<(usize, ScepRequest)>> {
    (0..count)
        .map(|i| {
            let which = i % devices.len();
            let device = &devices[which];
            let subject =
                SubjectName::common_name(format!("load-{}-{round}-{i}", now.unix_timestamp()))
                    .map_err(|e| e.to_string())?;
            let csr =
                csr_with_challenge(&subject, &device.key, challenge).map_err(|e| e.to_string())?;
            let request = ScepRequest::pkcs_req(
                &csr,
                &device.signer,
                recipient,
                ContentCipher::Aes128Cbc,
                ScepDigest::Sha256,
                now,
                rng,
            )
            .map_err(|e| e.to_string())?;
            Ok((which, request))
        })
        .collect()
}

/// The timed phase: every request POSTed, `in_flight` at once.
fn send(
    rt: &tokio::runtime::Runtime,
    client: &HttpClient,
    url: &str,
    requests: &[(usize, ScepRequest)],
    in_flight: usize,
) -> Fallible<(Duration, Vec<Bytes>)> {
    let uri: hyper::Uri = format!("{url}?operation=PKIOperation")
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
    let bodies: Vec<Bytes> = requests
        .iter()
        .map(|(_, r)| Bytes::copy_from_slice(r.der()))
        .collect();
    let start = Instant::now();
    let answers = rt.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(in_flight));
        let mut tasks = Vec::with_capacity(bodies.len());
        for body in bodies {
            let client = client.clone();
            let uri = uri.clone();
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .map_err(|e| e.to_string())?;
            tasks.push(tokio::spawn(async move {
                let request = hyper::Request::post(uri)
                    .header("content-type", "application/x-pki-message")
                    .body(Full::new(body))
                    .map_err(|e| e.to_string())?;
                let resp = client.request(request).await.map_err(|e| e.to_string())?;
                let status = resp.status();
                let bytes = resp
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                drop(permit);
                if status.is_success() {
                    Ok(bytes)
                } else {
                    Err(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    ))
                }
            }));
        }
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(task.await.map_err(|e| e.to_string())??);
        }
        Ok::<_, String>(out)
    })?;
    Ok((start.elapsed(), answers))
}

/// Every CertRep checked; the first fault found is the error.
fn check(
    requests: &[(usize, ScepRequest)],
    answers: &[Bytes],
    devices: &[Device],
    ca: &Certificate,
    now: OffsetDateTime,
) -> Fallible<()> {
    for (i, ((which, request), answer)) in requests.iter().zip(answers).enumerate() {
        let device = &devices[*which];
        let reply = ScepReply::parse(answer, request, ca, &device.signer)
            .map_err(|e| format!("answer {i}: {e}"))?;
        let ScepReply::Issued(cert) = reply else {
            return Err(format!("answer {i}: not issued: {reply:?}"));
        };
        if !cert.matches_key(&device.key) {
            return Err(format!(
                "answer {i}: the certificate is not for the device's key"
            ));
        }
        if !cert.is_signed_by(ca) {
            return Err(format!(
                "answer {i}: the certificate does not chain to the CA"
            ));
        }
        if !cert.info().is_valid_at(now) {
            return Err(format!("answer {i}: the certificate is not valid now"));
        }
    }
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn side_by_side(options: &Options) -> Fallible<()> {
    const CHALLENGE: &str = "LOAD-SECRET";
    let depot = std::env::temp_dir().join(format!("scep-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&depot);
    let made = Command::new(&options.scepserver)
        .args(["ca", "-init", "-keySize", "2048", "-depot"])
        .arg(&depot)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", options.scepserver.display()))?;
    if !made.success() {
        return Err(format!("`scepserver ca -init` failed: {made}"));
    }
    let outcome = (|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let servers = [
            start_ours(&depot, CHALLENGE)?,
            start_micromdm(&rt, &client, &options.scepserver, &depot, CHALLENGE)?,
        ];
        // Both answer GetCACert with the same CA.
        let mut ca = None;
        for served in &servers {
            let (ct, body) = rt.block_on(get(&client, &served.url, "GetCACert"))?;
            let certs = ca_certificates(&ct, &body).map_err(|e| format!("{}: {e}", served.name))?;
            let theirs = certs
                .into_iter()
                .find(|c| c.info().is_ca)
                .ok_or_else(|| format!("{}: GetCACert has no CA", served.name))?;
            match &ca {
                None => ca = Some(theirs),
                Some(first) if first.der() == theirs.der() => {}
                Some(_) => return Err("the two servers answer different CAs".into()),
            }
        }
        let ca = ca.ok_or("no CA")?;

        let now = OffsetDateTime::now_utc();
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let devices: Vec<Device> = (0..options.devices)
            .map(|i| {
                let key = PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng)
                    .map_err(|e| e.to_string())?;
                let signer = ScepSigner::self_signed(
                    key.try_clone().map_err(|e| e.to_string())?,
                    &format!("load-{i}"),
                    now,
                    &mut rng,
                )
                .map_err(|e| e.to_string())?;
                Ok(Device { key, signer })
            })
            .collect::<Fallible<_>>()?;
        let streams: Vec<_> = (0..options.rounds)
            .map(|round| {
                stream(
                    round,
                    options.requests,
                    &devices,
                    &ca,
                    CHALLENGE,
                    now,
                    &mut rng,
                )
            })
            .collect::<Fallible<_>>()?;
        println!(
            "{} rounds of {} PKCSReq (RSA-2048 CA and devices, AES-128, SHA-256), {} in flight",
            options.rounds, options.requests, options.in_flight
        );

        let mut rates = [Vec::new(), Vec::new()];
        for (round, requests) in streams.iter().enumerate() {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for which in order {
                let served = &servers[which];
                let (elapsed, answers) =
                    send(&rt, &client, &served.url, requests, options.in_flight)
                        .map_err(|e| format!("{} round {round}: {e}", served.name))?;
                check(requests, &answers, &devices, &ca, OffsetDateTime::now_utc())
                    .map_err(|e| format!("{} round {round}: {e}", served.name))?;
                #[allow(clippy::cast_precision_loss)]
                let rate = requests.len() as f64 / elapsed.as_secs_f64();
                println!(
                    "round {round} {:>8}: {} issued and checked in {:.2} s: {rate:.1}/s",
                    served.name,
                    requests.len(),
                    elapsed.as_secs_f64()
                );
                rates[which].push(rate);
            }
        }
        let ours = median(&rates[0]);
        let theirs = median(&rates[1]);
        println!(
            "median: ours {ours:.1}/s, micromdm {theirs:.1}/s: ours/micromdm = {:.2}",
            ours / theirs
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&depot);
    outcome
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => match (args.get(1), args.get(2)) {
            (Some(depot), Some(challenge)) => serve(Path::new(depot), challenge),
            _ => Err("serve DEPOT CHALLENGE".into()),
        },
        _ => Options::parse(&args).and_then(|options| side_by_side(&options)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scep_load: {e}");
            ExitCode::FAILURE
        }
    }
}
