//! A whole workspace's life through `mdm-model` alone: invitations, enrollment,
//! groups, policy, license, sync, wipe, save and load.

use mdm_model::{
    ActivationCode, DeviceState, EmailAddress, EnrollmentRequest, InstallSource, ModelError,
    OsVersion, Platform, PolicySettings, Refusal, SyncReport, Workspace,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::Duration;
use time::macros::datetime;

#[test]
fn a_fleet_enrolls_syncs_and_survives_a_save() {
    let t0 = datetime!(2026-11-28 09:00 UTC);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut ws = Workspace::new("e2e", "E2E Ltd", Some("RU"), t0).unwrap();
    let license = ws
        .activate_license(
            ActivationCode::parse("E2E00-E2E00-E2E00-E2E00").unwrap(),
            3,
            t0 + Duration::days(90),
            true,
            t0,
        )
        .unwrap();
    ws.add_policy(
        "Default",
        Workspace::MANAGED,
        PolicySettings {
            license: Some(license),
            ..PolicySettings::default()
        },
        t0,
    )
    .unwrap();
    let users: Vec<_> = (0..5)
        .map(|i| {
            let email =
                (i != 4).then(|| EmailAddress::parse(&format!("u{i}@e2e.example")).unwrap());
            ws.add_user(&format!("u{i}"), email, t0).unwrap()
        })
        .collect();
    let outcomes = ws.send_instructions(&users, t0, &mut rng).unwrap();
    let mut devices = Vec::new();
    for outcome in outcomes {
        if let mdm_model::InstructionOutcome::Sent { invitation, .. } = outcome {
            let request = EnrollmentRequest {
                platform: Platform::Android,
                os_version: OsVersion::new(13, 0, 0),
                model: "Galaxy S23".into(),
                identification_number: None,
                install_source: InstallSource::StandalonePackage,
            };
            let d = ws.enroll(&invitation.token, request.clone(), t0).unwrap();
            assert_eq!(
                ws.enroll(&invitation.token, request, t0),
                Err(ModelError::EnrollmentRefused(
                    Refusal::InvitationAlreadyUsed
                ))
            );
            ws.complete_enrollment(d, t0).unwrap();
            ws.move_device(d, Workspace::MANAGED, t0).unwrap();
            devices.push(d);
        }
    }
    assert_eq!(devices.len(), 4);
    let licensed = devices
        .iter()
        .filter(|&&d| {
            ws.record_sync(d, &SyncReport::default(), t0 + Duration::minutes(1))
                .unwrap()
                .license
                .is_some()
        })
        .count();
    assert_eq!(licensed, 3);
    ws.wipe_device(devices[0], t0 + Duration::hours(1)).unwrap();
    assert_eq!(ws.device(devices[0]).unwrap().state(), DeviceState::Wiped);
    let reloaded = Workspace::from_json(&ws.to_json().unwrap()).unwrap();
    assert_eq!(reloaded, ws);
    assert!(reloaded.check_invariants().is_empty());
    assert_eq!(
        reloaded
            .overdue_devices(t0 + Duration::hours(8), Duration::hours(1))
            .count(),
        3
    );
}
