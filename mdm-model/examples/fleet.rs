//! A model-level fleet demo: a workspace enrolls and syncs N devices over a
//! few simulated days, then prints what happened, the invariants, the time it
//! took and the memory each device costs.
//!
//! `cargo run --release -p mdm-model --example fleet [DEVICES]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use mdm_model::{
    ActivationCode, EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform,
    PolicySettings, SyncReport, Workspace, WorkspaceSettings,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::Duration;
use time::macros::datetime;

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    let devices: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let start = datetime!(2026-11-28 09:00 UTC);
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let rss_before = resident_bytes();
    let wall = Instant::now();

    let mut ws = Workspace::new("demo", "Demo Corp", Some("JP"), start).unwrap();
    let license = ws
        .activate_license(
            ActivationCode::parse("DEMO1-DEMO2-DEMO3-DEMO4").unwrap(),
            u32::try_from(devices * 9 / 10).unwrap(),
            start + Duration::days(365),
            true,
            start,
        )
        .unwrap();
    let settings = PolicySettings {
        license: Some(license),
        ..PolicySettings::default()
    };
    ws.add_policy("Default policy", Workspace::MANAGED, settings, start)
        .unwrap();
    ws.set_settings(
        WorkspaceSettings {
            auto_move_to: Some(Workspace::MANAGED),
            ..WorkspaceSettings::default()
        },
        start,
    )
    .unwrap();

    let mut enrolled = 0usize;
    for i in 0..devices {
        let now = start + Duration::seconds(i64::try_from(i % 86_400).unwrap());
        let email =
            (i % 50 != 0).then(|| EmailAddress::parse(&format!("user{i}@demo.example")).unwrap());
        let user = ws.add_user(&format!("user{i}"), email, now).unwrap();
        let Ok(invitation) = ws.issue_invitation(user, now, &mut rng) else {
            continue;
        };
        let request = EnrollmentRequest {
            platform: Platform::Android,
            os_version: OsVersion::new(14, 0, 0),
            model: "Pixel 8".into(),
            identification_number: None,
            install_source: InstallSource::StandalonePackage,
        };
        let device = ws.enroll(&invitation.token, request, now).unwrap();
        ws.complete_enrollment(device, now).unwrap();
        enrolled += 1;
    }
    let enroll_secs = wall.elapsed().as_secs_f64();

    // Three days of syncs on the policy interval.
    let mut syncs = 0u64;
    let mut now = start + Duration::days(1);
    let end = start + Duration::days(4);
    while now < end {
        let due: Vec<_> = ws.devices_due(now).collect();
        for d in due {
            ws.record_sync(d, &SyncReport::default(), now).unwrap();
            syncs += 1;
        }
        now += Duration::hours(1);
    }
    let total_secs = wall.elapsed().as_secs_f64();
    let rss = resident_bytes().saturating_sub(rss_before);
    let licensed = ws.license(license).unwrap().seats_in_use();
    let violations = ws.check_invariants();

    println!(
        "workspace {:?}: {} users, {enrolled} devices enrolled ({} users had no e-mail)",
        ws.name(),
        ws.users().len(),
        devices - enrolled
    );
    println!(
        "syncs over 3 days: {syncs}; licensed devices: {licensed} of {} seats",
        ws.license(license).unwrap().seats()
    );
    println!("audit log: {} records", ws.audit_log().len());
    println!(
        "enrollment: {enroll_secs:.2} s ({:.0} devices/s); total {total_secs:.2} s",
        enrolled as f64 / enroll_secs
    );
    println!(
        "memory: {:.1} MiB resident for the workspace, {} bytes per device (all indexes and the audit log included)",
        rss as f64 / 1048576.0,
        rss / enrolled.max(1) as u64
    );
    if violations.is_empty() {
        println!("invariants: all hold");
    } else {
        println!(
            "invariants: {} violated: {:?}",
            violations.len(),
            violations.first()
        );
        std::process::exit(1);
    }
}
