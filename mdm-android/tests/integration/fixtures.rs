//! Shared fixtures: the shared vectors, and a workspace with one managed
//! Android device (its agent's settings, an endpoint holding them).

use mdm_android::{
    AGENT_PACKAGE, AgentAuthorization, AgentInfo, AgentLicenseState, AndroidDeviceSettings,
    AndroidEndpoint, ApplicationPolicy, CameraAccess, DeviceStatus, InstallReport, InstallType,
    LastScan, PasswordQuality, PasswordRequirements, PasswordScope, ScanOutcome,
    StatusReportingSettings, SyncRequest,
};
use mdm_model::{
    ActivationCode, DeviceId, EmailAddress, EnrollmentRequest, InstallSource, InvitationToken,
    OsVersion, Platform, PolicySettings, Workspace,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/android/");

/// A file of `shared/vectors/android/`, or `None` when the vectors are not
/// checked out (which fails in CI).
pub fn vector(name: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("{VECTORS}{name}")).ok();
    if text.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "shared vectors missing in CI"
        );
    }
    text
}

pub const NOW: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);

/// A workspace with one managed Android device under the default policy
/// and an automatically deployed license.
pub fn managed_workspace() -> (Workspace, DeviceId) {
    let (ws, devices) = managed_fleet(1);
    (ws, devices[0].0)
}

/// A workspace with `n` managed Android devices under the default policy
/// and an automatically deployed license (at least 10 seats), and the
/// invitation tokens they enrolled with (drawn in order from a seed-7
/// generator: the first is `managed_workspace`'s).
pub fn managed_fleet(n: usize) -> (Workspace, Vec<(DeviceId, InvitationToken)>) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut ws = Workspace::new("acme", "ACME Corp", Some("JP"), NOW).unwrap();
    let license = ws
        .activate_license(
            ActivationCode::parse("AB12C-DE34F-GH56J-KL78M").unwrap(),
            u32::try_from(n.max(10)).unwrap(),
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
    let alice = ws
        .add_user(
            "alice",
            Some(EmailAddress::parse("alice@acme.example").unwrap()),
            NOW,
        )
        .unwrap();
    let devices = (0..n)
        .map(|_| {
            let invitation = ws.issue_invitation(alice, NOW, &mut rng).unwrap();
            let device = ws
                .enroll(
                    &invitation.token,
                    EnrollmentRequest {
                        platform: Platform::Android,
                        os_version: OsVersion::parse("14").unwrap(),
                        model: "Pixel 8".into(),
                        identification_number: None,
                        install_source: InstallSource::StandalonePackage,
                    },
                    NOW,
                )
                .unwrap();
            ws.complete_enrollment(device, NOW).unwrap();
            ws.move_device(device, Workspace::MANAGED, NOW).unwrap();
            (device, invitation.token)
        })
        .collect();
    (ws, devices)
}

/// [`managed_fleet`], each device with its agent's first proof (the
/// invitation token).
pub fn managed_agents(n: usize) -> (Workspace, Vec<(DeviceId, AgentAuthorization)>) {
    let (ws, devices) = managed_fleet(n);
    let agents = devices
        .into_iter()
        .map(|(d, token)| (d, AgentAuthorization::Invitation(token)))
        .collect();
    (ws, agents)
}

/// A healthy agent's sync request: version 1.4.0 installed from the
/// standalone package by the package installer, protection running.
pub fn sync_request(device: DeviceId) -> SyncRequest {
    SyncRequest {
        device_id: device,
        client_certificate_sha256: None,
        applied_configuration_version: None,
        agent: AgentInfo {
            version: "1.4.0".into(),
            install: InstallReport {
                installer_package: Some("com.google.android.packageinstaller".into()),
                managing_package: Some(AGENT_PACKAGE.into()),
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
            license: AgentLicenseState::NotActivated,
            device_admin_granted: true,
            accessibility_granted: true,
        },
        command_results: Vec::new(),
    }
}

pub fn android_settings() -> AndroidDeviceSettings {
    let mut config = serde_json::Map::new();
    config.insert("sync_interval_minutes".into(), json!(360));
    AndroidDeviceSettings {
        password_requirements: Some(PasswordRequirements {
            password_quality: PasswordQuality::Numeric,
            password_minimum_length: Some(6),
            maximum_failed_passwords_for_wipe: Some(10),
            password_expiration_timeout: Some(time::Duration::days(90)),
            password_history_length: None,
            password_scope: Some(PasswordScope::ScopeDevice),
        }),
        camera_access: Some(CameraAccess::CameraAccessUserChoice),
        status_reporting_settings: Some(StatusReportingSettings {
            application_reports_enabled: true,
            software_info_enabled: true,
            ..StatusReportingSettings::default()
        }),
        applications: vec![
            ApplicationPolicy {
                package_name: "io.mdmtoolkit.agent".into(),
                install_type: InstallType::ForceInstalled,
                managed_configuration: Some(config),
                minimum_version_code: Some(10400),
                disabled: false,
            },
            ApplicationPolicy {
                package_name: "com.example.scanner".into(),
                install_type: InstallType::Available,
                managed_configuration: None,
                minimum_version_code: None,
                disabled: false,
            },
        ],
    }
}

/// An endpoint holding `android` as the Android settings of the policy
/// `device` is under.
pub fn endpoint_with(
    ws: &Workspace,
    device: DeviceId,
    android: Option<AndroidDeviceSettings>,
) -> AndroidEndpoint {
    let mut endpoint = AndroidEndpoint::default();
    if let Some(settings) = android {
        let policy = ws.effective_policy(device).unwrap().id();
        endpoint.set_android_settings(policy, settings).unwrap();
    }
    endpoint
}
