//! Enroll and sync a million devices in one workspace (issue: model scale).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mdm_model::{
    EmailAddress, EnrollmentRequest, InstallSource, InvitationToken, OsVersion, Platform,
    PolicySettings, SyncReport, Workspace, WorkspaceSettings,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;

const DEVICES: usize = 1_000_000;

fn prepared() -> (Workspace, Vec<InvitationToken>) {
    let now = datetime!(2026-11-28 09:00 UTC);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut ws = Workspace::new("bench", "Bench Inc", None, now).unwrap();
    ws.add_policy(
        "Default",
        Workspace::MANAGED,
        PolicySettings::default(),
        now,
    )
    .unwrap();
    let settings = WorkspaceSettings {
        auto_move_to: Some(Workspace::MANAGED),
        ..WorkspaceSettings::default()
    };
    ws.set_settings(settings, now).unwrap();
    let users = 1 + DEVICES / 2;
    let ids: Vec<_> = (0..users)
        .map(|i| {
            let email = EmailAddress::parse(&format!("user{i}@bench.example")).unwrap();
            ws.add_user(&format!("user{i}"), Some(email), now).unwrap()
        })
        .collect();
    let tokens = (0..DEVICES)
        .map(|i| {
            ws.issue_invitation(ids[i / 2], now, &mut rng)
                .unwrap()
                .token
        })
        .collect();
    (ws, tokens)
}

fn enroll_and_sync(c: &mut Criterion) {
    let now = datetime!(2026-11-28 10:00 UTC);
    let request = EnrollmentRequest {
        platform: Platform::Android,
        os_version: OsVersion::new(14, 0, 0),
        model: "Pixel 8".into(),
        identification_number: None,
        install_source: InstallSource::StandalonePackage,
    };
    let mut group = c.benchmark_group("workspace");
    group.sample_size(10);
    group.throughput(Throughput::Elements(DEVICES as u64));
    group.bench_function("enroll_and_sync_1m_devices", |b| {
        b.iter_batched(
            prepared,
            |(mut ws, tokens)| {
                for token in &tokens {
                    let d = ws.enroll(token, request.clone(), now).unwrap();
                    ws.complete_enrollment(d, now).unwrap();
                    ws.record_sync(d, &SyncReport::default(), now).unwrap();
                }
                ws
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, enroll_and_sync);
criterion_main!(benches);
