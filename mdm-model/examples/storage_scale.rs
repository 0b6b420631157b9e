//! Scale of the SQLite store (issue #18), measured once: builds a workspace
//! of N devices (default 1,000,000; `cargo run --release -p mdm-model
//! --features sqlite --example storage_scale -- 1000000 /tmp/x.sqlite`),
//! imports it, syncs it in batches of 10,000 with one commit each (writes/s,
//! p50/p99 commit latency), then opens the file afresh and loads it (time to
//! ready, peak memory from /proc/self/status).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use mdm_model::{
    EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform, PolicySettings,
    SqliteStore, SyncReport, Workspace, WorkspaceSettings, WorkspaceStore,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::Duration;
use time::macros::datetime;

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "VmHWM: unknown".into())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let devices: usize = args.next().map_or(1_000_000, |a| a.parse().unwrap());
    let path = std::path::PathBuf::from(
        args.next()
            .unwrap_or_else(|| format!("/tmp/mdm-storage-scale-{}.sqlite", std::process::id())),
    );
    let load_only = path.exists();
    if !load_only {
        let t0 = datetime!(2026-11-28 09:00 UTC);
        let started = Instant::now();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut ws = Workspace::new("scale", "Scale Inc", None, t0).unwrap();
        ws.add_policy("Default", Workspace::MANAGED, PolicySettings::default(), t0)
            .unwrap();
        ws.set_settings(
            WorkspaceSettings {
                auto_move_to: Some(Workspace::MANAGED),
                ..WorkspaceSettings::default()
            },
            t0,
        )
        .unwrap();
        for u in 0..devices.div_ceil(4) {
            let email = EmailAddress::parse(&format!("u{u}@scale.example")).unwrap();
            let user = ws.add_user(&format!("u{u}"), Some(email), t0).unwrap();
            for _ in 0..4 {
                let inv = ws.issue_invitation(user, t0, &mut rng).unwrap();
                let request = EnrollmentRequest {
                    platform: Platform::Android,
                    os_version: OsVersion::parse("14").unwrap(),
                    model: "Pixel 8".into(),
                    identification_number: None,
                    install_source: InstallSource::StandalonePackage,
                };
                let d = ws.enroll(&inv.token, request, t0).unwrap();
                ws.complete_enrollment(d, t0).unwrap();
            }
        }
        println!(
            "built {} devices in {:?}",
            ws.devices().len(),
            started.elapsed()
        );
        let mut store = SqliteStore::open(&path).unwrap();
        let started = Instant::now();
        store.import(&mut ws).unwrap();
        println!("imported in {:?}", started.elapsed());
        let ids: Vec<_> = ws.devices().iter().map(mdm_model::Device::id).collect();
        let mut latencies = Vec::new();
        let started = Instant::now();
        let mut now = t0;
        for batch in ids.chunks(10_000) {
            now += Duration::seconds(1);
            for &d in batch {
                ws.record_sync(d, &SyncReport::default(), now).unwrap();
            }
            let commit = Instant::now();
            ws.commit_to(&mut store).unwrap();
            latencies.push(commit.elapsed());
        }
        let total = started.elapsed();
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
        println!(
            "synced {} devices in {} commits: {:.0} devices/s (model + store), commit p50 {:?}, p99 {:?}",
            ids.len(),
            latencies.len(),
            ids.len() as f64 / total.as_secs_f64(),
            at(0.5),
            at(0.99)
        );
        drop(ws);
        drop(store);
    }
    let before = peak_memory();
    let started = Instant::now();
    let mut store = SqliteStore::open(&path).unwrap();
    let ws = store.load().unwrap().unwrap();
    println!(
        "opened and loaded {} devices in {:?} ({before} before; {} after)",
        ws.devices().len(),
        started.elapsed(),
        peak_memory()
    );
}
