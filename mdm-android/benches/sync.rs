#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Handling one sync request on a workspace of many managed devices: the
//! path the fleet harness runs up to a million times per simulated interval.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mdm_android::{
    AgentAuthorization, AgentInfo, AndroidEndpoint, DeviceStatus, InstallReport, LastScan,
    ScanOutcome, SyncRequest,
};
use mdm_model::{
    ActivationCode, DeviceId, EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform,
    PolicySettings, Workspace,
};
use rand_core::SeedableRng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const DEVICES: usize = 10_000;
const NOW: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);

fn fleet() -> (Workspace, Vec<(DeviceId, AgentAuthorization)>) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let mut ws = Workspace::new("bench", "Bench Corp", Some("JP"), NOW).unwrap();
    let license = ws
        .activate_license(
            ActivationCode::parse("AB12C-DE34F-GH56J-KL78M").unwrap(),
            u32::try_from(DEVICES).unwrap(),
            datetime!(2027-11-28 00:00 UTC),
            true,
            NOW,
        )
        .unwrap();
    let settings = PolicySettings {
        license: Some(license),
        ..PolicySettings::default()
    };
    ws.add_policy("Default", Workspace::MANAGED, settings, NOW)
        .unwrap();
    let user = ws
        .add_user(
            "alice",
            Some(EmailAddress::parse("alice@bench.example").unwrap()),
            NOW,
        )
        .unwrap();
    let devices = (0..DEVICES)
        .map(|_| {
            let invitation = ws.issue_invitation(user, NOW, &mut rng).unwrap();
            let device = ws
                .enroll(
                    &invitation.token,
                    EnrollmentRequest {
                        platform: Platform::Android,
                        os_version: OsVersion::new(14, 0, 0),
                        model: "Pixel 8".into(),
                        identification_number: None,
                        install_source: InstallSource::StandalonePackage,
                    },
                    NOW,
                )
                .unwrap();
            ws.complete_enrollment(device, NOW).unwrap();
            ws.move_device(device, Workspace::MANAGED, NOW).unwrap();
            (device, AgentAuthorization::Invitation(invitation.token))
        })
        .collect();
    (ws, devices)
}

fn request(device: DeviceId) -> SyncRequest {
    SyncRequest {
        device_id: device,
        client_certificate_sha256: None,
        applied_configuration_version: None,
        agent: AgentInfo {
            version: "1.4.0".into(),
            install: InstallReport {
                installer_package: Some("com.google.android.packageinstaller".into()),
                managing_package: Some("io.mdmtoolkit.agent".into()),
                embedded_settings: true,
            },
        },
        os_version: Some(OsVersion::new(14, 0, 0)),
        status: DeviceStatus {
            real_time_protection: true,
            definitions_date: Some(NOW - Duration::hours(2)),
            last_scan: Some(LastScan {
                at: NOW - Duration::hours(1),
                result: ScanOutcome::Clean,
            }),
            device_admin_granted: true,
            accessibility_granted: true,
            ..DeviceStatus::default()
        },
        command_results: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let (mut ws, mut devices) = fleet();
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
