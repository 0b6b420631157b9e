//! Sustained device-sync writes, batched in transactions, on each store
//! (issue #18: goal ≥ 100,000 devices/s on SQLite, ≥ 30,000/s on PostgreSQL).
//! One iteration syncs `BATCH` devices of a 100,000-device workspace and
//! commits them in one transaction; the throughput is devices per second and
//! the time per iteration is the commit latency of a batch (criterion's
//! report gives its spread; after it the bench prints the p50, p99 and max
//! of the commit alone). PostgreSQL runs when `MDM_TEST_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mdm_model::{
    EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform, PolicySettings,
    ProtectionStatus, SyncReport, Workspace, WorkspaceSettings, WorkspaceStore,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const DEVICES: usize = 100_000;
const BATCH: usize = 10_000;
const T0: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);

fn fleet() -> Workspace {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut ws = Workspace::new("bench", "Bench Inc", None, T0).unwrap();
    ws.add_policy("Default", Workspace::MANAGED, PolicySettings::default(), T0)
        .unwrap();
    let settings = WorkspaceSettings {
        auto_move_to: Some(Workspace::MANAGED),
        ..WorkspaceSettings::default()
    };
    ws.set_settings(settings, T0).unwrap();
    for u in 0..DEVICES / 4 {
        let email = EmailAddress::parse(&format!("u{u}@bench.example")).unwrap();
        let user = ws.add_user(&format!("u{u}"), Some(email), T0).unwrap();
        for _ in 0..4 {
            let inv = ws.issue_invitation(user, T0, &mut rng).unwrap();
            let request = EnrollmentRequest {
                platform: Platform::Android,
                os_version: OsVersion::parse("14").unwrap(),
                model: "Pixel 8".into(),
                identification_number: None,
                install_source: InstallSource::StandalonePackage,
            };
            let d = ws.enroll(&inv.token, request, T0).unwrap();
            ws.complete_enrollment(d, T0).unwrap();
        }
    }
    ws
}

fn bench_store(c: &mut Criterion, name: &str, mut store: Box<dyn WorkspaceStore>) {
    let mut ws = fleet();
    store.import(&mut ws).unwrap();
    let ids: Vec<_> = ws.devices().iter().map(mdm_model::Device::id).collect();
    let mut now = T0;
    let mut next = 0;
    // Every batch's commit (criterion's warm-up included), for p50/p99.
    let mut commits: Vec<std::time::Duration> = Vec::new();
    let mut group = c.benchmark_group("storage");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function(format!("{name}/sync_{BATCH}_devices_one_commit"), |b| {
        b.iter(|| {
            now += Duration::seconds(1);
            let report = SyncReport {
                os_version: None,
                protection: ProtectionStatus {
                    last_scan: Some(now),
                    ..ProtectionStatus::default()
                },
            };
            for _ in 0..BATCH {
                ws.record_sync(ids[next], &report, now).unwrap();
                next = (next + 1) % ids.len();
            }
            let started = std::time::Instant::now();
            ws.commit_to(&mut *store).unwrap();
            commits.push(started.elapsed());
        });
    });
    group.finish();
    if commits.is_empty() {
        return; // filtered out
    }
    commits.sort();
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((commits.len() as f64 - 1.0) * q).round() as usize;
        commits.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "storage/{name}: commit of {BATCH} synced devices over {} commits: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        commits.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

fn storage(c: &mut Criterion) {
    bench_store(c, "memory", Box::new(mdm_model::MemoryStore::new()));
    let dir = std::env::temp_dir().join(format!("mdm-bench-storage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (label, synchronous) in [
        ("sqlite_full", mdm_model::Synchronous::Full),
        ("sqlite_normal", mdm_model::Synchronous::Normal),
    ] {
        let path = dir.join(format!("{label}.sqlite"));
        let options = mdm_model::SqliteOptions {
            synchronous,
            ..mdm_model::SqliteOptions::default()
        };
        let store = mdm_model::SqliteStore::open_with(&path, options).unwrap();
        bench_store(c, label, Box::new(store));
    }
    let _ = std::fs::remove_dir_all(&dir);
    match std::env::var("MDM_TEST_POSTGRES") {
        Ok(conn) => {
            let schema = format!("bench_{}", std::process::id());
            let store = mdm_model::PostgresStore::open(&conn, &schema).unwrap();
            bench_store(c, "postgres", Box::new(store));
            let mut admin = postgres::Client::connect(&conn, postgres::NoTls).unwrap();
            admin
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .unwrap();
        }
        Err(_) => eprintln!("SKIP postgres: MDM_TEST_POSTGRES is not set"),
    }
}

criterion_group!(benches, storage);
criterion_main!(benches);
