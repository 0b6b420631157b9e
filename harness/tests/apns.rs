//! The APNs provider client (`mdm-apple`, feature `apns`) against the
//! harness's APNs stand-in over 127.0.0.1, and the stand-in against clients
//! we did not write (`curl --http2`, `h2load`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration as StdDuration;

use harness::apns_standin::{
    APNS_MAX_CONCURRENT_STREAMS, ApnsBook, ApnsStandIn, FaultPlan, PemFiles, SimulatedApple,
    StandInConfig, StandInTls,
};
use mdm_apple::{
    ApnsAnswer, ApnsClient, ApnsEnvironment, ApnsReason, AppleError, Failure, ProviderConfig,
    ProviderIdentity, PushMagic, PushOptions, PushOutcome, PushTarget, PushToken, RetryPolicy,
    TlsClock,
};
use mdm_certs::Validity;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-30 12:00 UTC);

/// The certificates, made once per test binary (RSA key generation).
fn apple() -> &'static SimulatedApple {
    static APPLE: OnceLock<SimulatedApple> = OnceLock::new();
    APPLE.get_or_init(|| {
        SimulatedApple::new(
            ApnsEnvironment::Production,
            NOW,
            &mut ChaCha20Rng::seed_from_u64(14),
        )
        .unwrap()
    })
}

fn development_tls() -> StandInTls {
    StandInTls::new(
        ApnsEnvironment::Development,
        NOW,
        &mut ChaCha20Rng::seed_from_u64(15),
    )
    .unwrap()
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(7)
}

async fn stand_in(book: ApnsBook) -> ApnsStandIn {
    let listen = "127.0.0.1:0".parse().unwrap();
    let config = apple().stand_in_config(listen, NOW, book).unwrap();
    ApnsStandIn::start(config).await.unwrap()
}

async fn stand_in_with(book: ApnsBook, tls: StandInTls) -> ApnsStandIn {
    ApnsStandIn::start(StandInConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        client_ca: apple().portal.authority().certificate().clone(),
        tls,
        now: NOW,
        max_concurrent_streams: APNS_MAX_CONCURRENT_STREAMS,
        book,
    })
    .await
    .unwrap()
}

fn config(server: &ApnsStandIn, environment: ApnsEnvironment, server_ca: &[u8]) -> ProviderConfig {
    ProviderConfig {
        push: PushOptions {
            environment,
            ..PushOptions::default()
        },
        connect_to: Some(server.local_addr()),
        connections: 2,
        max_in_flight: 500,
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: StdDuration::from_millis(2),
            max_delay: StdDuration::from_millis(20),
        },
        server_roots: vec![server_ca.to_vec()],
        tls_clock: TlsClock::Fixed(NOW),
        ..ProviderConfig::default()
    }
}

fn client(server: &ApnsStandIn) -> ApnsClient {
    let a = apple();
    let identity = ProviderIdentity::check(
        &a.identity(a.push.certificate.clone()).unwrap(),
        &a.topic,
        NOW,
    )
    .unwrap();
    ApnsClient::new(
        identity,
        &config(server, ApnsEnvironment::Production, a.tls.server_ca.der()),
    )
    .unwrap()
}

fn token(n: u32, len: usize) -> PushToken {
    let mut bytes = vec![0xa5; len];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    PushToken::new(bytes).unwrap()
}

fn target(token: &PushToken) -> PushTarget {
    PushTarget {
        token: token.clone(),
        push_magic: PushMagic::new("5C3AB0D3-7E7B-4C23-9F6E-2E1D7E6A4B11").unwrap(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn rejected(reason: ApnsReason) -> PushOutcome {
    PushOutcome::Rejected {
        status: reason.status().unwrap(),
        reason,
    }
}

/// One row per documented answer: how the stand-in is told to give it,
/// what the client must report, and how many tries it takes.
#[test]
fn every_status_and_reason_reaches_the_client_as_a_typed_outcome() {
    runtime().block_on(async {
        let a = apple();
        let other =
            mdm_model::PushTopic::parse("com.apple.mgmt.External.another-workspace").unwrap();
        let gone_at = NOW - Duration::hours(3);
        let mut book = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
        let tokens: Vec<PushToken> = (0..9).map(|n| token(n, 32)).collect();
        book.register(tokens[0].as_bytes(), &a.topic);
        book.register(tokens[1].as_bytes(), &other);
        book.unregister(tokens[2].as_bytes(), gone_at);
        book.force(tokens[3].as_bytes(), Some(ApnsReason::TopicDisallowed));
        book.force(tokens[4].as_bytes(), Some(ApnsReason::ExpiredProviderToken));
        book.force(tokens[5].as_bytes(), Some(ApnsReason::TooManyRequests));
        book.force(tokens[6].as_bytes(), Some(ApnsReason::ServiceUnavailable));
        book.force(tokens[7].as_bytes(), Some(ApnsReason::InternalServerError));
        let short = token(99, 16); // not an APNs token
        let server = stand_in(book).await;
        let client = client_for(&server);
        let mut targets: Vec<PushTarget> = tokens.iter().map(target).collect();
        targets.push(target(&short));
        let report = client.send_batch(&targets, &mut rng()).await;
        let retried = |status, reason| PushOutcome::GaveUp {
            last: Failure::Answer {
                status,
                reason: Some(reason),
            },
        };
        let expected: Vec<(PushOutcome, u32)> = vec![
            (PushOutcome::Delivered, 1),
            (rejected(ApnsReason::DeviceTokenNotForTopic), 1),
            (
                PushOutcome::Unregistered {
                    since: Some(gone_at),
                },
                1,
            ),
            (rejected(ApnsReason::TopicDisallowed), 1),
            (rejected(ApnsReason::ExpiredProviderToken), 1),
            (retried(429, ApnsReason::TooManyRequests), 4),
            (retried(503, ApnsReason::ServiceUnavailable), 4),
            (retried(500, ApnsReason::InternalServerError), 4),
            (PushOutcome::Delivered, 1),
            (rejected(ApnsReason::BadDeviceToken), 1),
        ];
        for (r, (outcome, attempts)) in report.results.iter().zip(&expected) {
            assert_eq!(
                (&r.outcome, r.attempts),
                (outcome, *attempts),
                "push {}",
                r.index
            );
        }
        assert_eq!(report.results.len(), expected.len());
        let c = report.counts;
        assert_eq!(
            (c.pushes, c.delivered, c.unregistered, c.gave_up),
            (10, 2, 1, 3)
        );
        assert_eq!(
            (
                c.device_token_not_for_topic,
                c.topic_disallowed,
                c.expired_provider_token,
                c.bad_device_token
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(c.retries, 9);
        assert_eq!(client.totals(), c);
        // The stand-in saw each try once, with the headers Apple documents.
        {
            let book = server.book();
            let book = book.lock().unwrap();
            for (r, t) in report.results.iter().zip(tokens.iter().chain([&short])) {
                let seen = book.pushes_for(t.as_bytes());
                assert_eq!(seen.len() as u32, r.attempts, "push {}", r.index);
                assert!(seen.iter().all(|p| p.apns_id == r.apns_id));
                assert_eq!(seen[0].topic.as_deref(), Some(a.topic.as_str()));
                assert_eq!(
                    seen[0].push_magic.as_deref(),
                    Some("5C3AB0D3-7E7B-4C23-9F6E-2E1D7E6A4B11")
                );
            }
        }
        assert_eq!(
            client.server_stream_limit().await,
            Some(APNS_MAX_CONCURRENT_STREAMS as usize)
        );
        server.stop().await;
    });
}

#[test]
fn certificate_refusals_by_apns_are_typed_too() {
    runtime().block_on(async {
        let a = apple();
        // Apple revoked the certificate: 403 BadCertificate.
        let mut book = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
        book.revoke_certificate(a.push.certificate.info().fingerprint);
        let server = stand_in(book).await;
        let report = client(&server)
            .send_batch(&[target(&token(1, 32))], &mut rng())
            .await;
        assert_eq!(
            report.results[0].outcome,
            rejected(ApnsReason::BadCertificate)
        );
        assert_eq!(report.counts.bad_certificate, 1);
        server.stop().await;
        // An MDM certificate sent to the sandbox: 403 BadCertificateEnvironment.
        let tls = development_tls();
        let ca = tls.server_ca.der().to_vec();
        let server = stand_in_with(
            ApnsBook::new(ApnsEnvironment::Development, FaultPlan::none()),
            tls,
        )
        .await;
        let identity = ProviderIdentity::check(
            &a.identity(a.push.certificate.clone()).unwrap(),
            &a.topic,
            NOW,
        )
        .unwrap();
        let client = ApnsClient::new(
            identity,
            &config(&server, ApnsEnvironment::Development, &ca),
        )
        .unwrap();
        let report = client
            .send_batch(&[target(&token(1, 32))], &mut rng())
            .await;
        assert_eq!(
            report.results[0].outcome,
            rejected(ApnsReason::BadCertificateEnvironment)
        );
        assert_eq!(report.counts.bad_certificate_environment, 1);
        // A topic Apple no longer allows.
        server.stop().await;
        let mut book = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
        book.disallow_topic(&a.topic);
        let server = stand_in(book).await;
        let report = client_for(&server)
            .send_batch(&[target(&token(1, 32))], &mut rng())
            .await;
        assert_eq!(
            report.results[0].outcome,
            rejected(ApnsReason::TopicDisallowed)
        );
        server.stop().await;
    });
}

fn client_for(server: &ApnsStandIn) -> ApnsClient {
    client(server)
}

#[test]
fn retries_stop_once_a_burst_is_over_and_jitter_comes_from_the_callers_rng() {
    runtime().block_on(async {
        // Every push starts a 429 burst of two: the third try succeeds.
        let plan = FaultPlan {
            seed: 3,
            too_many_requests_ppm: 1_000_000,
            burst: 2,
            ..FaultPlan::none()
        };
        let server = stand_in(ApnsBook::new(ApnsEnvironment::Production, plan)).await;
        let client = client_for(&server);
        let targets: Vec<PushTarget> = (0..20).map(|n| target(&token(n, 32))).collect();
        let report = client.send_batch(&targets, &mut rng()).await;
        // At a rate of 100 % every push opens a burst: every try meets 429
        // and the client stops after its 4 tries.
        assert!(
            report
                .results
                .iter()
                .all(|r| r.attempts == 4 && matches!(r.outcome, PushOutcome::GaveUp { .. }))
        );
        server.stop().await;
        // 5 % of pushes open a burst of 2: all end delivered, some retried.
        let plan = FaultPlan {
            seed: 3,
            too_many_requests_ppm: 50_000,
            service_unavailable_ppm: 50_000,
            burst: 2,
            ..FaultPlan::none()
        };
        let server = stand_in(ApnsBook::new(ApnsEnvironment::Production, plan)).await;
        let client = client_for(&server);
        let targets: Vec<PushTarget> = (0..400).map(|n| target(&token(n, 32))).collect();
        let first = client.send_batch(&targets, &mut rng()).await;
        let c = first.counts;
        assert_eq!(c.delivered + c.gave_up, 400, "{c:?}");
        assert!(c.gave_up <= 4, "{c:?}");
        for r in &first.results {
            match r.outcome {
                PushOutcome::Delivered => assert!(r.attempts <= 4),
                _ => assert_eq!(r.attempts, 4),
            }
        }
        assert!(first.counts.retries > 0, "{:?}", first.counts);
        assert!(first.results.iter().all(|r| r.attempts <= 4));
        server.stop().await;
    });
}

#[test]
fn unregistered_reaches_the_model_and_the_device_is_no_longer_pushed() {
    use mdm_model::{
        ApnsCertificateRecord, EnrollmentRequest, InstallSource, OsVersion, Platform, Workspace,
    };
    runtime().block_on(async {
        let a = apple();
        let mut rng = rng();
        let mut ws = Workspace::new("acme", "ACME", Some("jp"), NOW).unwrap();
        let info = a.push.certificate.info();
        ws.set_apns_certificate(
            ApnsCertificateRecord::new(
                a.topic.clone(),
                "Simulated Apple",
                info.not_before,
                info.not_after,
                info.fingerprint,
            )
            .unwrap(),
            NOW,
        );
        let user = ws
            .add_user(
                "alice",
                Some(mdm_model::EmailAddress::parse("alice@acme.example").unwrap()),
                NOW,
            )
            .unwrap();
        let mut devices = Vec::new();
        for _ in 0..2 {
            let inv = ws.issue_invitation(user, NOW, &mut rng).unwrap();
            let request = EnrollmentRequest {
                platform: Platform::IOs,
                os_version: OsVersion::new(18, 1, 0),
                model: "iPhone17,1".into(),
                identification_number: None,
                install_source: InstallSource::EnrollmentProfile,
            };
            let d = ws.enroll(&inv.token, request, NOW).unwrap();
            ws.complete_enrollment(d, NOW).unwrap();
            devices.push(d);
        }
        let tokens = [token(1, 32), token(2, 32)];
        let removed_at = NOW - Duration::minutes(30);
        let mut book = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
        book.unregister(tokens[1].as_bytes(), removed_at);
        let server = stand_in(book).await;
        let client = client_for(&server);
        let by_token: HashMap<Vec<u8>, mdm_model::DeviceId> = tokens
            .iter()
            .map(|t| t.as_bytes().to_vec())
            .zip(devices.iter().copied())
            .collect();
        let push_round = |ws: &Workspace| -> Vec<PushTarget> {
            tokens
                .iter()
                .filter(|t| ws.may_push(by_token[t.as_bytes()]).unwrap())
                .map(target)
                .collect()
        };
        let round = push_round(&ws);
        assert_eq!(round.len(), 2);
        let report = client.send_batch(&round, &mut rng).await;
        for r in &report.results {
            if let PushOutcome::Unregistered { since } = r.outcome {
                let device = by_token[round[r.index].token.as_bytes()];
                assert!(ws.record_push_unregistered(device, since, NOW).unwrap());
            }
        }
        assert_eq!(
            ws.device(devices[1]).unwrap().state(),
            mdm_model::DeviceState::ConnectionLost
        );
        assert!(ws.audit_log().iter().any(|r| matches!(
            &r.event,
            mdm_model::AuditEvent::PushTokenUnregistered { device, since }
                if *device == devices[1] && *since == Some(removed_at)
        )));
        // The next round leaves the unreachable device out.
        let round = push_round(&ws);
        assert_eq!(round.len(), 1);
        assert_eq!(round[0].token, tokens[0]);
        server.stop().await;
    });
}

#[test]
fn a_wrong_topic_or_expired_certificate_is_refused_before_any_connection() {
    runtime().block_on(async {
        let a = apple();
        let server = stand_in(ApnsBook::new(
            ApnsEnvironment::Production,
            FaultPlan::none(),
        ))
        .await;
        let mut rng = rng();
        let foreign = a
            .push_certificate(
                "com.apple.mgmt.External.someone-else",
                Validity::new(NOW - Duration::days(1), NOW + Duration::days(300)).unwrap(),
                &mut rng,
            )
            .unwrap();
        let err =
            ProviderIdentity::check(&a.identity(foreign).unwrap(), &a.topic, NOW).unwrap_err();
        assert!(
            matches!(err, AppleError::PushCertificateTopic { ref found, .. }
            if found.as_deref() == Some("com.apple.mgmt.External.someone-else")),
            "{err}"
        );
        let expired = a
            .push_certificate(
                a.topic.as_str(),
                Validity::new(NOW - Duration::days(400), NOW - Duration::days(35)).unwrap(),
                &mut rng,
            )
            .unwrap();
        let err =
            ProviderIdentity::check(&a.identity(expired).unwrap(), &a.topic, NOW).unwrap_err();
        assert!(
            matches!(err, AppleError::PushCertificateNotValid { .. }),
            "{err}"
        );
        // The same certificate a year on.
        let err = ProviderIdentity::check(
            &a.identity(a.push.certificate.clone()).unwrap(),
            &a.topic,
            NOW + Duration::days(400),
        )
        .unwrap_err();
        assert!(
            matches!(err, AppleError::PushCertificateNotValid { .. }),
            "{err}"
        );
        // Without a checked identity there is no client: nothing connected.
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        assert_eq!(server.connections(), 0);
        server.stop().await;
    });
}

#[test]
fn goaway_mid_batch_ends_every_push_in_exactly_one_outcome() {
    runtime().block_on(async {
        let plan = FaultPlan {
            goaway_after: Some(150),
            ..FaultPlan::none()
        };
        let server = stand_in(ApnsBook::new(ApnsEnvironment::Production, plan)).await;
        let client = client_for(&server);
        let targets: Vec<PushTarget> = (0..3000).map(|n| target(&token(n, 32))).collect();
        let report = client.send_batch(&targets, &mut rng()).await;
        assert_eq!(report.results.len(), 3000);
        assert_eq!(report.counts.delivered, 3000, "{:?}", report.counts);
        {
            let book = server.book();
            let book = book.lock().unwrap();
            for t in &targets {
                // Recorded exactly once: none lost, none sent twice.
                assert_eq!(book.pushes_for(t.token.as_bytes()).len(), 1);
            }
            assert_eq!(book.served(), 3000);
        }
        // Streams opened before the GOAWAY arrived are still served, so a
        // connection carries 150 or more; the client reconnected each time.
        assert!(
            client.connections_opened() >= 5,
            "{}",
            client.connections_opened()
        );
        assert_eq!(server.connections(), client.connections_opened());
        server.stop().await;
    });
}

// ---- clients we did not write ----

/// Whether `tool` runs; in CI a missing tool fails the test.
fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "{tool} is required in CI (apt-get install curl nghttp2-client)"
        );
        eprintln!("skipping: {tool} is not installed (CI installs it)");
    }
    found
}

fn pem_files() -> &'static (tempdir::Dir, PemFiles) {
    static FILES: OnceLock<(tempdir::Dir, PemFiles)> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempdir::Dir::new("apns-pem");
        let files = apple().write_pem_files(dir.path(), &mut rng()).unwrap();
        (dir, files)
    })
}

mod tempdir {
    /// A folder removed on drop.
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Self {
            let p = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// curl's answer to one push: (status, body, HTTP version).
fn curl_push(port: u16, token_hex: &str, topic: &str, extra: &[&str]) -> (u16, Vec<u8>, String) {
    let (_, files) = pem_files();
    let host = ApnsEnvironment::Production.host();
    let out = Command::new("curl")
        .args(["--http2", "-sS", "--max-time", "10"])
        .arg("--cert")
        .arg(&files.certificate)
        .arg("--key")
        .arg(&files.key)
        .arg("--cacert")
        .arg(&files.server_ca)
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
        .args(["-H", &format!("apns-topic: {topic}")])
        .args(
            [
                ("apns-push-type", "mdm"),
                ("apns-priority", "10"),
                ("apns-expiration", "0"),
            ]
            .iter()
            .filter(|(name, _)| !extra.iter().any(|e| e.starts_with(name)))
            .flat_map(|(name, value)| ["-H".to_owned(), format!("{name}: {value}")]),
        )
        .args(extra)
        .args(["-d", r#"{"mdm":"5C3AB0D3-7E7B-4C23-9F6E-2E1D7E6A4B11"}"#])
        .args(["-w", "\n%{http_code} %{http_version}"])
        .arg(format!("https://{host}:{port}/3/device/{token_hex}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = out.stdout;
    let split = text.iter().rposition(|&b| b == b'\n').unwrap();
    let tail = String::from_utf8_lossy(&text[split + 1..]).to_string();
    let (code, version) = tail.split_once(' ').unwrap();
    (
        code.parse().unwrap(),
        text[..split].to_vec(),
        version.to_owned(),
    )
}

#[test]
fn curl_with_the_push_certificate_gets_the_same_answers_as_our_client() {
    if !have("curl") {
        return;
    }
    runtime().block_on(async {
        let a = apple();
        let other =
            mdm_model::PushTopic::parse("com.apple.mgmt.External.another-workspace").unwrap();
        let gone_at = NOW - Duration::hours(3);
        // Two stand-ins with the same book: one for our client, one for curl.
        let make = || {
            let mut book = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
            book.register(token(1, 32).as_bytes(), &other);
            book.unregister(token(2, 32).as_bytes(), gone_at);
            book.force(token(3, 32).as_bytes(), Some(ApnsReason::TooManyRequests));
            book.force(
                token(4, 32).as_bytes(),
                Some(ApnsReason::ExpiredProviderToken),
            );
            book
        };
        let ours = stand_in(make()).await;
        let theirs = stand_in(make()).await;
        let client = client(&ours);
        let tokens = [
            token(0, 32),
            token(1, 32),
            token(2, 32),
            token(3, 32),
            token(4, 32),
            token(5, 16),
        ];
        let targets: Vec<PushTarget> = tokens.iter().map(target).collect();
        let report = client.send_batch(&targets, &mut rng()).await;
        let port = theirs.local_addr().port();
        let topic = a.topic.as_str().to_owned();
        let answers = tokio::task::spawn_blocking(move || {
            tokens
                .iter()
                .map(|t| curl_push(port, &t.to_hex(), &topic, &[]))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        for (r, (status, body, version)) in report.results.iter().zip(&answers) {
            assert_eq!(version, "2", "curl spoke HTTP/{version}");
            let theirs = ApnsAnswer::read(*status, body).outcome();
            // Retries aside (curl tries once), the answer is the same.
            assert_eq!(theirs, r.outcome, "push {}", r.index);
        }
        assert_eq!(answers[0].1, b"");
        assert_eq!(
            answers[2].1,
            format!(
                r#"{{"reason":"Unregistered","timestamp":{}}}"#,
                mdm_apple::unix_ms(gone_at)
            )
            .into_bytes()
        );
        // Requests our client never sends: a foreign topic header, a bad
        // apns-id, a bad priority, another push type, GET, a repeated
        // header, no token.
        let port = theirs.local_addr().port();
        let t = token(0, 32).to_hex();
        let odd = tokio::task::spawn_blocking(move || {
            [
                curl_push(port, &t, "com.apple.mgmt.External.someone-else", &[]),
                curl_push(
                    port,
                    &t,
                    apple().topic.as_str(),
                    &["-H", "apns-id: not-a-uuid"],
                ),
                curl_push(
                    port,
                    &t,
                    apple().topic.as_str(),
                    &["-H", "apns-priority: 7"],
                ),
                curl_push(
                    port,
                    &t,
                    apple().topic.as_str(),
                    &["-H", "apns-push-type: alert"],
                ),
                curl_push(port, &t, apple().topic.as_str(), &["-X", "GET"]),
                curl_push(
                    port,
                    &t,
                    apple().topic.as_str(),
                    &["-H", &format!("apns-topic: {}", apple().topic.as_str())],
                ),
                curl_push(port, "", apple().topic.as_str(), &[]),
            ]
        })
        .await
        .unwrap();
        let reasons: Vec<(u16, Option<ApnsReason>)> = odd
            .iter()
            .map(|(s, b, _)| (*s, ApnsAnswer::read(*s, b).reason))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (400, Some(ApnsReason::TopicDisallowed)),
                (400, Some(ApnsReason::BadMessageId)),
                (400, Some(ApnsReason::BadPriority)),
                (400, Some(ApnsReason::InvalidPushType)),
                (405, Some(ApnsReason::MethodNotAllowed)),
                (400, Some(ApnsReason::DuplicateHeaders)),
                (400, Some(ApnsReason::MissingDeviceToken)),
            ]
        );
        ours.stop().await;
        theirs.stop().await;
    });
}

#[test]
fn curl_without_a_client_certificate_is_refused_by_tls() {
    if !have("curl") {
        return;
    }
    runtime().block_on(async {
        let server = stand_in(ApnsBook::new(
            ApnsEnvironment::Production,
            FaultPlan::none(),
        ))
        .await;
        let port = server.local_addr().port();
        let (_, files) = pem_files();
        let ca = files.server_ca.clone();
        let out = tokio::task::spawn_blocking(move || {
            let host = ApnsEnvironment::Production.host();
            Command::new("curl")
                .args(["--http2", "-sS", "--max-time", "10", "--cacert"])
                .arg(ca)
                .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
                .args(["-d", "{}", &format!("https://{host}:{port}/3/device/00")])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            !out.status.success(),
            "a connection without a push certificate was served"
        );
        assert_eq!(server.book().lock().unwrap().served(), 0);
        server.stop().await;
    });
}

/// A provider token (`bearer` JWT, ES256 header) issued at `iat`; the
/// stand-in checks its form and age.
fn provider_token(iat: i64) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "bearer {}.{}.{}",
        b64(r#"{"alg":"ES256","kid":"ABC123DEFG"}"#),
        b64(&format!(r#"{{"iss":"DEF123GHIJ","iat":{iat}}}"#)),
        b64("signature")
    )
}

#[test]
fn h2load_drives_the_stand_in_over_token_based_connections() {
    if !have("h2load") {
        return;
    }
    runtime().block_on(async {
        let mut book = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
        book.accept_provider_tokens(true);
        let server = stand_in(book).await;
        let port = server.local_addr().port();
        let (dir, _) = pem_files();
        let body = dir.path().join("body.json");
        std::fs::write(&body, r#"{"mdm":"5C3AB0D3-7E7B-4C23-9F6E-2E1D7E6A4B11"}"#).unwrap();
        let auth = format!(
            "authorization: {}",
            provider_token(NOW.unix_timestamp() - 60)
        );
        let t = token(1, 32).to_hex();
        let out = tokio::task::spawn_blocking(move || {
            let _ = &body;
            Command::new("h2load")
                .args(["-n", "2000", "-c", "2", "-m", "100", "-t", "1"])
                .args([
                    "-H",
                    &auth,
                    "-H",
                    "apns-topic: com.apple.mgmt.External.h2load",
                ])
                .args(["-H", "apns-push-type: mdm", "-H", "apns-priority: 10"])
                .arg("-d")
                .arg(&body)
                .arg(format!("https://127.0.0.1:{port}/3/device/{t}"))
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let summary = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{summary}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            summary.contains(
                "requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed"
            ),
            "{summary}"
        );
        assert!(summary.contains("status codes: 2000 2xx"), "{summary}");
        assert!(summary.contains("h2"), "{summary}");
        assert_eq!(
            server
                .book()
                .lock()
                .unwrap()
                .pushes_for(token(1, 32).as_bytes())
                .len(),
            2000
        );
        // Without a provider token a token-based connection gets 403.
        let t = token(1, 32).to_hex();
        let body = dir.path().join("body.json");
        let out = tokio::task::spawn_blocking(move || {
            Command::new("h2load")
                .args(["-n", "10", "-c", "1", "-d"])
                .arg(&body)
                .arg(format!("https://127.0.0.1:{port}/3/device/{t}"))
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let summary = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            summary.contains("status codes: 0 2xx, 0 3xx, 10 4xx"),
            "{summary}"
        );
        server.stop().await;
    });
}

/// The `apns-mock` process, killed by its PID on drop.
struct Mock(std::process::Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_apns_mock_subcommand_serves_curl_with_the_files_it_writes() {
    use std::io::BufRead as _;
    if !have("curl") {
        return;
    }
    let dir = tempdir::Dir::new("apns-mock");
    let mut mock = Mock(
        Command::new(env!("CARGO_BIN_EXE_mdm-harness"))
            .args([
                "apns-mock",
                "--listen",
                "127.0.0.1:0",
                "--seed",
                "5",
                "--out",
            ])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = mock.0.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut facts = HashMap::new();
    for line in lines.by_ref().take(6) {
        let line = line.unwrap();
        let (k, v) = line.split_once(' ').unwrap();
        facts.insert(k.to_owned(), v.to_owned());
    }
    let addr: std::net::SocketAddr = facts["listening"]
        .trim_start_matches("on ")
        .parse()
        .unwrap();
    let host = ApnsEnvironment::Production.host();
    let out = Command::new("curl")
        .args([
            "--http2",
            "-sS",
            "--max-time",
            "10",
            "--cert",
            &facts["cert"],
            "--key",
            &facts["key"],
        ])
        .args(["--cacert", &facts["cacert"]])
        .args(["--resolve", &format!("{host}:{}:127.0.0.1", addr.port())])
        .args([
            "-H",
            &format!("apns-topic: {}", facts["topic"]),
            "-H",
            "apns-push-type: mdm",
        ])
        .args(["-d", r#"{"mdm":"magic"}"#, "-w", "%{http_code}"])
        .arg(format!(
            "https://{host}:{}/3/device/{}",
            addr.port(),
            "ab".repeat(32)
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
