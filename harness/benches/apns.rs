//! Pushes per second from the APNs provider client (`mdm-apple`, feature
//! `apns`) to the harness's stand-in over loopback TLS + HTTP/2, on one
//! connection and on several; and the memory one in-flight push costs
//! (resident-set growth while a batch waits for streams, divided by the
//! pushes in flight).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harness::apns_standin::{
    APNS_MAX_CONCURRENT_STREAMS, ApnsBook, ApnsStandIn, FaultPlan, SimulatedApple, StandInConfig,
};
use mdm_apple::{
    ApnsClient, ApnsEnvironment, ProviderConfig, ProviderIdentity, PushMagic, PushTarget,
    PushToken, TlsClock,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;

const BATCH: usize = 20_000;

fn targets(n: usize) -> Vec<PushTarget> {
    (0..n)
        .map(|i| {
            let mut token = vec![0x5a; 32];
            token[..8].copy_from_slice(&(i as u64).to_be_bytes());
            PushTarget {
                token: PushToken::new(token).unwrap(),
                push_magic: PushMagic::new("5C3AB0D3-7E7B-4C23-9F6E-2E1D7E6A4B11").unwrap(),
            }
        })
        .collect()
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn bench(c: &mut Criterion) {
    let now = datetime!(2026-11-30 12:00 UTC);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let apple = SimulatedApple::new(
        ApnsEnvironment::Production,
        now,
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap();
    let server = rt.block_on(async {
        ApnsStandIn::start(StandInConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            client_ca: apple.portal.authority().certificate().clone(),
            tls: apple.tls.try_clone().unwrap(),
            now,
            max_concurrent_streams: APNS_MAX_CONCURRENT_STREAMS,
            book: ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none()),
        })
        .await
        .unwrap()
    });
    let make_client = |connections: usize, max_in_flight: usize| {
        let identity = ProviderIdentity::check(
            &apple.identity(apple.push.certificate.clone()).unwrap(),
            &apple.topic,
            now,
        )
        .unwrap();
        ApnsClient::new(
            identity,
            &ProviderConfig {
                connect_to: Some(server.local_addr()),
                connections,
                max_in_flight,
                server_roots: vec![apple.tls.server_ca.der().to_vec()],
                tls_clock: TlsClock::Fixed(now),
                ..ProviderConfig::default()
            },
        )
        .unwrap()
    };
    let batch = targets(BATCH);
    let book = server.book();
    let mut group = c.benchmark_group("apns_push");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    for connections in [1usize, 4] {
        let client = make_client(connections, 1000 * connections);
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        group.bench_function(format!("{connections}_connections"), |b| {
            b.iter(|| {
                let report = rt.block_on(client.send_batch(&batch, &mut rng));
                assert_eq!(report.counts.delivered, BATCH as u64);
                // The stand-in's records would grow without bound over a bench.
                if let Ok(mut b) = book.lock() {
                    *b = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
                }
            });
        });
    }
    group.finish();

    // Memory per in-flight push: 50,000 pushes admitted at once on one
    // connection of 1,000 streams; the peak RSS growth over the number
    // admitted.
    let n = 50_000;
    let client = make_client(1, n);
    let many = targets(n);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    rt.block_on(client.send_batch(&many[..1000], &mut rng)); // connect, warm up
    if let Ok(mut b) = book.lock() {
        *b = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
    }
    let base = rss_bytes();
    let peak = Arc::new(AtomicU64::new(base));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };
    let report = rt.block_on(client.send_batch(&many, &mut rng));
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    assert_eq!(report.counts.delivered, n as u64);
    let grown = peak.load(Ordering::Relaxed).saturating_sub(base);
    eprintln!(
        "memory per in-flight push: {} bytes (peak RSS +{} KiB for {n} pushes in flight, client and stand-in in one process)",
        grown / n as u64,
        grown / 1024
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
