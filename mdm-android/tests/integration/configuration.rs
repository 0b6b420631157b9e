//! The agent's configuration through the endpoint: the R-PO-1 defaults and
//! AMAPI-named Android settings in the JSON (snapshot), a content version
//! that changes exactly when the content does, checked Android settings,
//! managed configurations against the agent's schema, time and duration forms.

use std::collections::BTreeMap;

use mdm_android::{
    ActionOnThreat, AgentConfiguration, AndroidEndpoint, ContentVersion, DefinitionsSchedule,
    PasswordRequirements, agent_restrictions,
};
use mdm_model::{PolicySettings, UpdateSchedule, Workspace};
use serde_json::json;
use time::macros::time;

use super::fixtures::{NOW, android_settings, endpoint_with, managed_workspace};

#[test]
fn renders_the_r_po_1_defaults_and_android_settings() {
    let (mut ws, device) = managed_workspace();
    // The license reaches the device on its first managed sync.
    ws.record_sync(device, &mdm_model::SyncReport::default(), NOW)
        .unwrap();
    let mut endpoint = endpoint_with(&ws, device, Some(android_settings()));
    let rendered = endpoint.configuration_for(&ws, device).unwrap();
    let doc = &rendered.document;
    assert_eq!(doc.sync_interval_seconds, 6 * 3600);
    let protection = doc.protection.as_ref().unwrap();
    assert_eq!(
        protection.definitions_schedule,
        DefinitionsSchedule::Daily { time: time!(8:00) }
    );
    assert_eq!(protection.action_on_threat, ActionOnThreat::Quarantine);
    assert!(
        protection.detect_adware && protection.detect_auto_dialers && protection.detect_riskware
    );
    assert!(protection.scan_after_update);
    assert_eq!(
        doc.license.as_ref().unwrap().activation_code,
        "AB12C-DE34F-GH56J-KL78M"
    );
    let json = doc.to_json_pretty().unwrap();
    insta::assert_snapshot!("agent_configuration", json);
    // The version is the SHA-256 of the canonical JSON, and the document round-trips.
    assert_eq!(
        rendered.version,
        ContentVersion::of_json(&doc.canonical_json().unwrap())
    );
    let back = AgentConfiguration::parse(&doc.canonical_json().unwrap()).unwrap();
    assert_eq!(&back, doc.as_ref());
    // AMAPI names and enum values in the JSON.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["passwordRequirements"]["passwordQuality"], "NUMERIC");
    assert_eq!(
        value["passwordRequirements"]["passwordExpirationTimeout"],
        "7776000s"
    );
    assert_eq!(value["cameraAccess"], "CAMERA_ACCESS_USER_CHOICE");
    assert_eq!(value["applications"][0]["installType"], "FORCE_INSTALLED");
    assert_eq!(
        value["statusReportingSettings"]["applicationReportsEnabled"],
        true
    );
}

#[test]
fn version_changes_exactly_when_content_changes() {
    let (mut ws, device) = managed_workspace();
    let mut plain = endpoint_with(&ws, device, None);
    let mut android = endpoint_with(&ws, device, Some(android_settings()));
    let first = plain.configuration_for(&ws, device).unwrap();
    assert_eq!(first, plain.configuration_for(&ws, device).unwrap());
    // Unassigned devices get no policy.
    ws.move_device(device, Workspace::UNASSIGNED, NOW).unwrap();
    let unassigned = android.configuration_for(&ws, device).unwrap();
    assert!(unassigned.document.policy.is_none() && unassigned.document.protection.is_none());
    assert!(unassigned.document.applications.is_empty() && unassigned.document.license.is_none());
    assert_ne!(unassigned.version, first.version);
    ws.move_device(device, Workspace::MANAGED, NOW).unwrap();
    assert_eq!(
        plain.configuration_for(&ws, device).unwrap().version,
        first.version
    );
    // A weekly schedule changes the policy version and the content version.
    let policy = ws.effective_policy(device).unwrap().id();
    let weekly = PolicySettings {
        update_schedule: UpdateSchedule::Weekly {
            day: time::Weekday::Monday,
            at: time!(8:30),
        },
        ..*ws.policy(policy).unwrap().settings()
    };
    ws.update_policy(policy, weekly, NOW).unwrap();
    let changed = plain.configuration_for(&ws, device).unwrap();
    assert_ne!(changed.version, first.version);
    let value = serde_json::to_value(changed.document.as_ref()).unwrap();
    assert_eq!(
        value["protection"]["definitionsSchedule"],
        json!({"type": "WEEKLY", "day": "MONDAY", "time": "08:30"})
    );
    // Android settings count too.
    let with_android = android.configuration_for(&ws, device).unwrap();
    assert_ne!(with_android.version, changed.version);
}

#[test]
fn android_settings_are_checked() {
    let mut settings = android_settings();
    settings.applications.push(settings.applications[0].clone());
    assert!(settings.check().unwrap_err().to_string().contains("twice"));
    let mut settings = android_settings();
    settings.applications[1].package_name = "scanner".into();
    assert!(
        settings
            .check()
            .unwrap_err()
            .to_string()
            .contains("applications[1]")
    );
    let (ws, device) = managed_workspace();
    let policy = ws.effective_policy(device).unwrap().id();
    assert!(
        AndroidEndpoint::default()
            .set_android_settings(policy, settings)
            .is_err()
    );
}

#[test]
fn managed_configuration_validates_against_the_agent_schema() {
    let (schema, resources) = agent_restrictions();
    let mut schemas = BTreeMap::new();
    schemas.insert("io.mdmtoolkit.agent".to_owned(), (schema, resources));
    let mut settings = android_settings();
    settings.validate_managed_configurations(&schemas).unwrap();
    settings.applications[0]
        .managed_configuration
        .as_mut()
        .unwrap()
        .insert("sync_interval_minutes".into(), json!("often"));
    let error = settings
        .validate_managed_configurations(&schemas)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("io.mdmtoolkit.agent:sync_interval_minutes"),
        "{error}"
    );
}

#[test]
fn time_and_duration_forms() {
    let daily: DefinitionsSchedule =
        serde_json::from_value(json!({"type": "DAILY", "time": "23:59:30"})).unwrap();
    assert_eq!(
        daily,
        DefinitionsSchedule::Daily {
            time: time!(23:59:30)
        }
    );
    assert_eq!(serde_json::to_value(daily).unwrap()["time"], "23:59:30");
    for bad in ["24:00", "8:00", "08-00", "08:00:00:00", ""] {
        assert!(
            serde_json::from_value::<DefinitionsSchedule>(json!({"type": "DAILY", "time": bad}))
                .is_err(),
            "{bad}"
        );
    }
    let bad: Result<PasswordRequirements, _> = serde_json::from_value(
        json!({"passwordQuality": "NUMERIC", "passwordExpirationTimeout": "10m"}),
    );
    assert!(bad.is_err());
}
