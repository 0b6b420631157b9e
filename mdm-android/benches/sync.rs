#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Handling one sync request on a workspace of many managed devices: the
//! path the fleet harness runs up to a million times per simulated interval.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mdm_android::{AgentAuthorization, AndroidEndpoint, SyncRequest};
use rand_core::SeedableRng;

// The integration tests' fixtures: one fleet for tests and benches.
#[allow(dead_code)]
#[path = "../tests/integration/fixtures.rs"]
mod fixtures;
use fixtures::{NOW, managed_agents, sync_request as request};

const DEVICES: usize = 10_000;

fn bench(c: &mut Criterion) {
    let (mut ws, mut devices) = managed_agents(DEVICES);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let mut endpoint = AndroidEndpoint::default();
    // First sync of every device (with its invitation): deploys the license,
    // delivers the configuration and the agent's credential.
    let mut requests: Vec<SyncRequest> = devices.iter().map(|(d, _)| request(*d)).collect();
    for (request, (_, auth)) in requests.iter_mut().zip(&mut devices) {
        let answer = endpoint
            .handle_sync(&mut ws, auth, request, NOW, &mut rng)
            .unwrap();
        request.applied_configuration_version = answer.configuration_version;
        *auth = AgentAuthorization::Bearer(answer.agent_credential.unwrap());
    }
    let bodies: Vec<Vec<u8>> = requests.iter().map(|r| r.to_json().unwrap()).collect();
    let headers: Vec<String> = devices.iter().map(|(_, a)| a.header_value()).collect();

    let mut group = c.benchmark_group("sync");
    let mut i = 0usize;
    group.bench_function("handle_unchanged_config", |b| {
        b.iter(|| {
            i = (i + 1) % DEVICES;
            let answer = endpoint
                .handle_sync(&mut ws, &devices[i].1, &requests[i], NOW, &mut rng)
                .unwrap();
            black_box(answer)
        });
    });
    let stale: Vec<SyncRequest> = devices.iter().map(|(d, _)| request(*d)).collect();
    group.bench_function("handle_config_sent", |b| {
        b.iter(|| {
            i = (i + 1) % DEVICES;
            let answer = endpoint
                .handle_sync(&mut ws, &devices[i].1, &stale[i], NOW, &mut rng)
                .unwrap();
            black_box(answer)
        });
    });
    group.bench_function("parse_request", |b| {
        b.iter(|| {
            i = (i + 1) % DEVICES;
            black_box(SyncRequest::parse(&bodies[i]).unwrap())
        });
    });
    group.bench_function("json_in_json_out", |b| {
        b.iter(|| {
            i = (i + 1) % DEVICES;
            black_box(
                endpoint
                    .handle_sync_json(&mut ws, &headers[i], &bodies[i], NOW, &mut rng)
                    .unwrap(),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
