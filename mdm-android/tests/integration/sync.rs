//! The sync through the model: configuration and license sent only when
//! changed, the wire examples (snapshots), typed errors, client
//! certificates, KNOX and other-EMM refusals, the lifecycle (lost
//! connection, WIPE), forged syncs, a first connection completing the
//! enrollment, and parsers that never panic.

use mdm_android::{
    AgentAuthorization, AgentCommandKind, AgentCommandResult, AgentCommandStatus,
    AgentLicenseState, AndroidEndpoint, AndroidError, CertificateStatus, InstallReport,
    ScanOutcome, SyncRequest, SyncResponse,
};
use mdm_model::{
    AgentCredential, DeviceState, InvitationToken, OsVersion, Platform, ScanResult, Sha256Digest,
    Workspace,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::{Duration, OffsetDateTime};

use super::fixtures::{NOW, android_settings, managed_workspace, sync_request as request};

/// The device's agent: it proves itself with the invitation token of
/// `managed_workspace` (the first draw of its seed-7 generator), then
/// with the credential the first answer gives it.
struct Agent {
    authorization: AgentAuthorization,
    rng: ChaCha20Rng,
}

impl Agent {
    fn of(ws: &Workspace) -> Self {
        let token = InvitationToken::generate(&mut ChaCha20Rng::seed_from_u64(7));
        assert!(
            ws.invitation_for(&token).is_some(),
            "not the enrolling invitation"
        );
        Self {
            authorization: AgentAuthorization::Invitation(token),
            rng: ChaCha20Rng::seed_from_u64(99),
        }
    }

    fn sync(
        &mut self,
        endpoint: &mut AndroidEndpoint,
        ws: &mut Workspace,
        request: &SyncRequest,
        now: OffsetDateTime,
    ) -> Result<SyncResponse, AndroidError> {
        let answer = endpoint.handle_sync(ws, &self.authorization, request, now, &mut self.rng);
        if let Ok(SyncResponse {
            agent_credential: Some(credential),
            ..
        }) = &answer
        {
            self.authorization = AgentAuthorization::Bearer(credential.clone());
        }
        answer
    }
}

#[test]
fn first_sync_sends_configuration_and_license_then_only_when_changed() {
    let (mut ws, device) = managed_workspace();
    let mut agent = Agent::of(&ws);
    let mut endpoint = AndroidEndpoint::default();
    let policy = ws.effective_policy(device).unwrap().id();
    endpoint
        .set_android_settings(policy, android_settings())
        .unwrap();
    let first = agent
        .sync(&mut endpoint, &mut ws, &request(device), NOW)
        .unwrap();
    assert_eq!(first.device_state, DeviceState::Managed);
    let config = first.configuration.clone().unwrap();
    assert_eq!(config.sync_interval_seconds, 6 * 3600);
    assert_eq!(
        first.license.as_ref().unwrap().activation_code,
        "AB12C-DE34F-GH56J-KL78M"
    );
    assert_eq!(first.next_sync_at, Some(NOW + Duration::hours(6)));
    assert_eq!(first.client_certificate, CertificateStatus::NotIssued);
    // The model recorded the sync and the reported status.
    let record = ws.device(device).unwrap();
    assert_eq!(record.last_sync(), Some(NOW));
    assert!(record.protection().real_time_protection);
    assert_eq!(
        record.protection().last_scan_result,
        Some(ScanResult::Clean)
    );

    // The agent applied it: the next sync carries no configuration.
    let mut again = request(device);
    again.applied_configuration_version = first.configuration_version;
    let later = NOW + Duration::hours(6);
    let second = agent.sync(&mut endpoint, &mut ws, &again, later).unwrap();
    assert!(second.configuration.is_none());
    assert_eq!(second.configuration_version, first.configuration_version);
    assert!(second.license.is_some(), "the license is in every answer");

    // A policy change changes the version and the configuration comes again.
    let settings = mdm_model::PolicySettings {
        sync_interval: Duration::hours(1),
        ..*ws.policy(policy).unwrap().settings()
    };
    ws.update_policy(policy, settings, later).unwrap();
    let third = agent.sync(&mut endpoint, &mut ws, &again, later).unwrap();
    assert_eq!(third.configuration.unwrap().sync_interval_seconds, 3600);
    assert_eq!(third.next_sync_at, Some(later + Duration::hours(1)));
    // A lost answer heals: the agent still reports the old version and gets it again.
    let fourth = agent.sync(&mut endpoint, &mut ws, &again, later).unwrap();
    assert!(fourth.configuration.is_some());
}

#[test]
fn wire_examples() {
    let (mut ws, device) = managed_workspace();
    let mut agent = Agent::of(&ws);
    let mut endpoint = AndroidEndpoint::default();
    endpoint
        .commands
        .enqueue(&ws, device, AgentCommandKind::ScanNow, NOW)
        .unwrap();
    let req = request(device);
    let body = req.to_json().unwrap();
    insta::assert_snapshot!("sync_request", serde_json::to_string_pretty(&req).unwrap());
    let answer = endpoint
        .handle_sync_json(
            &mut ws,
            &agent.authorization.header_value(),
            &body,
            NOW,
            &mut agent.rng,
        )
        .unwrap();
    let response = SyncResponse::parse(&answer).unwrap();
    assert_eq!(response.commands.len(), 1);
    let mut pretty = serde_json::to_value(&response).unwrap();
    // The configuration has its own snapshot; the credential is a secret.
    pretty["configuration"] = serde_json::Value::String("…".into());
    assert_eq!(
        pretty["agentCredential"].as_str().map(str::len),
        Some(mdm_model::TOKEN_TEXT_LEN)
    );
    pretty["agentCredential"] = serde_json::Value::String("<credential>".into());
    insta::assert_snapshot!(
        "sync_response",
        serde_json::to_string_pretty(&pretty).unwrap()
    );
    assert_eq!(SyncRequest::parse(&body).unwrap(), req);
}

#[test]
fn unknown_device_and_malformed_requests_are_typed_errors() {
    let (mut ws, device) = managed_workspace();
    let mut agent = Agent::of(&ws);
    let mut body = serde_json::to_value(request(device)).unwrap();
    body["deviceId"] = serde_json::json!(999);
    let error = AndroidEndpoint::default()
        .handle_sync_json(
            &mut ws,
            &agent.authorization.header_value(),
            &serde_json::to_vec(&body).unwrap(),
            NOW,
            &mut agent.rng,
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            AndroidError::AgentNotAuthenticated {
                reason: mdm_model::AgentRefusal::UnknownDevice,
                ..
            }
        ),
        "{error}"
    );
    for bad in [
        &b""[..],
        b"{}",
        b"[]",
        b"{\"deviceId\": -1, \"agent\": {\"version\": \"1\"}}",
        b"{\"deviceId\": 0, \"agent\": {\"version\": \"\"}}",
        b"{\"deviceId\": 0, \"agent\": {\"version\": \"1\"}, \"clientCertificateSha256\": \"zz\"}",
        b"{\"deviceId\": 0, \"agent\": {\"version\": \"1\"}, \"status\": {\"definitionsDate\": \"yesterday\"}}",
    ] {
        let error = SyncRequest::parse(bad).unwrap_err();
        assert!(matches!(error, AndroidError::MalformedSyncRequest { .. }), "{error}");
    }
    // Unknown fields and enum values from a newer agent are accepted.
    let newer = br#"{"deviceId": 0, "agent": {"version": "2.0"}, "batteryLevel": 80,
        "status": {"lastScan": {"at": "2026-11-28T08:00:00Z", "result": "QUARANTINED_LATER"}, "license": "GRACE"}}"#;
    let parsed = SyncRequest::parse(newer).unwrap();
    assert_eq!(
        parsed.status.last_scan.unwrap().result,
        ScanOutcome::Unknown
    );
    assert_eq!(parsed.status.license, AgentLicenseState::Unknown);
}

#[test]
fn client_certificates_are_checked() {
    let (mut ws, device) = managed_workspace();
    let mut agent = Agent::of(&ws);
    let mut endpoint = AndroidEndpoint::default();
    // A plain-APK device without a redeemed certificate presents none.
    let mut presenting = request(device);
    presenting.client_certificate_sha256 = Some(Sha256Digest::of(b"cert"));
    let error = agent
        .sync(&mut endpoint, &mut ws, &presenting, NOW)
        .unwrap_err();
    assert!(
        matches!(error, AndroidError::CertificateMismatch { .. }),
        "{error}"
    );
    ws.record_client_certificate_issued(device, NOW).unwrap();
    let answer = agent
        .sync(&mut endpoint, &mut ws, &request(device), NOW)
        .unwrap();
    assert_eq!(
        answer.client_certificate,
        CertificateStatus::AwaitingRedemption
    );
    ws.record_client_certificate_applied(device, Sha256Digest::of(b"cert"), NOW)
        .unwrap();
    let answer = agent
        .sync(&mut endpoint, &mut ws, &presenting, NOW)
        .unwrap();
    assert_eq!(answer.client_certificate, CertificateStatus::Applied);
    let mut other = request(device);
    other.client_certificate_sha256 = Some(Sha256Digest::of(b"another"));
    assert!(agent.sync(&mut endpoint, &mut ws, &other, NOW).is_err());
    assert!(
        agent
            .sync(&mut endpoint, &mut ws, &request(device), NOW)
            .is_err()
    );
}

#[test]
fn knox_and_other_emm_installs_are_refused_with_the_remedy() {
    let (mut ws, device) = managed_workspace();
    let mut agent = Agent::of(&ws);
    for (installer, owner) in [
        (Some("com.sec.enterprise.knox.cloudmdm.smdms"), None),
        (
            Some("com.android.vending"),
            Some("com.airwatch.androidagent"),
        ),
    ] {
        let mut req = request(device);
        req.agent.install = InstallReport {
            installer_package: installer.map(str::to_owned),
            managing_package: owner.map(str::to_owned),
            embedded_settings: false,
        };
        let error = agent
            .sync(&mut AndroidEndpoint::default(), &mut ws, &req, NOW)
            .unwrap_err();
        assert!(
            matches!(error, AndroidError::UnmanageableInstall { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("reinstall"), "{error}");
    }
    // Nothing was recorded.
    assert_eq!(ws.device(device).unwrap().sync_count(), 0);
}

#[test]
fn lifecycle_goes_through_the_model() {
    let (mut ws, device) = managed_workspace();
    let mut agent = Agent::of(&ws);
    let mut endpoint = AndroidEndpoint::default();
    ws.mark_connection_lost(device, NOW).unwrap();
    let answer = agent
        .sync(&mut endpoint, &mut ws, &request(device), NOW)
        .unwrap();
    assert_eq!(answer.device_state, DeviceState::Managed);

    // Wipe: delivered on every sync until the agent confirms it.
    let wipe = endpoint
        .commands
        .enqueue(&ws, device, AgentCommandKind::Wipe, NOW)
        .unwrap();
    let lock = endpoint
        .commands
        .enqueue(&ws, device, AgentCommandKind::Lock, NOW)
        .unwrap();
    for _ in 0..2 {
        let answer = agent
            .sync(&mut endpoint, &mut ws, &request(device), NOW)
            .unwrap();
        assert_eq!(
            answer.commands.iter().map(|c| c.id).collect::<Vec<_>>(),
            [wipe, lock]
        );
    }
    let mut confirm = request(device);
    confirm.command_results = vec![
        AgentCommandResult {
            id: lock,
            status: AgentCommandStatus::Done,
            detail: None,
            location: None,
        },
        AgentCommandResult {
            id: wipe,
            status: AgentCommandStatus::Done,
            detail: None,
            location: None,
        },
    ];
    let answer = agent.sync(&mut endpoint, &mut ws, &confirm, NOW).unwrap();
    assert_eq!(answer.device_state, DeviceState::Wiped);
    assert!(answer.next_sync_at.is_none());
    assert_eq!(ws.device(device).unwrap().state(), DeviceState::Wiped);
    assert_eq!(endpoint.commands.take_completed().len(), 2);
    let error = agent
        .sync(&mut endpoint, &mut ws, &request(device), NOW)
        .unwrap_err();
    assert!(
        matches!(error, AndroidError::DeviceLeftManagement { .. }),
        "{error}"
    );
    assert!(
        endpoint
            .commands
            .enqueue(&ws, device, AgentCommandKind::Lock, NOW)
            .is_err()
    );
    assert!(ws.check_invariants().is_empty());
}

#[test]
fn a_forged_sync_cannot_act_for_another_device() {
    let (mut ws, device) = managed_workspace();
    let mut agent = Agent::of(&ws);
    let mut endpoint = AndroidEndpoint::default();
    let wipe = endpoint
        .commands
        .enqueue(&ws, device, AgentCommandKind::Wipe, NOW)
        .unwrap();
    // The genuine agent syncs with its invitation, then with its credential.
    for _ in 0..2 {
        agent
            .sync(&mut endpoint, &mut ws, &request(device), NOW)
            .unwrap();
    }
    assert!(matches!(agent.authorization, AgentAuthorization::Bearer(_)));
    let mut forged = request(device);
    forged.command_results = vec![AgentCommandResult {
        id: wipe,
        status: AgentCommandStatus::Done,
        detail: None,
        location: None,
    }];
    let mut rng = ChaCha20Rng::seed_from_u64(1234);
    let guessed = AgentAuthorization::Bearer(AgentCredential::generate(&mut rng));
    let replayed_invitation = AgentAuthorization::Invitation(InvitationToken::generate(
        &mut ChaCha20Rng::seed_from_u64(7),
    ));
    for forger in [guessed, replayed_invitation] {
        let error = endpoint
            .handle_sync(&mut ws, &forger, &forged, NOW, &mut rng)
            .unwrap_err();
        assert!(
            matches!(error, AndroidError::AgentNotAuthenticated { .. }),
            "{error}"
        );
        assert!(!format!("{error} {error:?}").contains("AB12C"));
    }
    assert_eq!(ws.device(device).unwrap().state(), DeviceState::Managed);
    assert_eq!(
        endpoint.commands.pending(device).len(),
        1,
        "the WIPE is still pending"
    );
    let refusals = ws
        .audit_log()
        .iter()
        .filter(|r| {
            matches!(
                r.event,
                mdm_model::AuditEvent::AgentAuthenticationFailed { .. }
            )
        })
        .count();
    assert_eq!(refusals, 2);
    // A body without a proof does not even parse as a sync.
    assert!(matches!(
        endpoint.handle_sync_json(&mut ws, "", &forged.to_json().unwrap(), NOW, &mut rng),
        Err(AndroidError::MalformedAuthorization { .. })
    ));
}

#[test]
fn first_connection_completes_enrollment_in_the_model() {
    use mdm_model::{EmailAddress, EnrollmentRequest, InstallSource};
    use rand_core::SeedableRng;
    let (mut ws, _) = managed_workspace();
    let mut agent = Agent::of(&ws);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    let bob = ws
        .add_user(
            "bob",
            Some(EmailAddress::parse("bob@acme.example").unwrap()),
            NOW,
        )
        .unwrap();
    let invitation = ws.issue_invitation(bob, NOW, &mut rng).unwrap();
    let device = ws
        .enroll(
            &invitation.token,
            EnrollmentRequest {
                platform: Platform::Android,
                os_version: OsVersion::new(13, 0, 0),
                model: "Galaxy".into(),
                identification_number: None,
                install_source: InstallSource::PlainApk,
            },
            NOW,
        )
        .unwrap();
    let mut req = request(device);
    req.agent.install = InstallReport::default();
    // Alice's agent cannot complete Bob's enrollment; Bob's can.
    assert!(
        agent
            .sync(&mut AndroidEndpoint::default(), &mut ws, &req, NOW)
            .is_err()
    );
    assert_eq!(ws.device(device).unwrap().state(), DeviceState::Enrolling);
    agent.authorization = AgentAuthorization::Invitation(invitation.token.clone());
    let answer = agent
        .sync(&mut AndroidEndpoint::default(), &mut ws, &req, NOW)
        .unwrap();
    assert_eq!(answer.device_state, DeviceState::Connected);
    // Unassigned: the configuration has no policy and no license (R-GR-1).
    let config = answer.configuration.unwrap();
    assert!(config.policy.is_none() && answer.license.is_none());
    assert_eq!(answer.client_certificate, CertificateStatus::NotIssued);
}

proptest! {
    #[test]
    fn parser_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = SyncRequest::parse(&body);
    }

    #[test]
    fn parser_never_panics_on_json_like_input(text in "[{}\\[\\]\":,0-9a-zA-Z .-]{0,200}") {
        let _ = SyncRequest::parse(text.as_bytes());
    }

    #[test]
    fn handle_never_panics_on_mutated_requests(
        device in 0u32..4,
        version in "\\PC{0,70}",
        installer in proptest::option::of("[a-z.]{0,30}"),
        lat in -200.0f64..200.0,
        id in 0u64..5,
    ) {
        let (mut ws, _) = managed_workspace();
    let mut agent = Agent::of(&ws);
        let body = serde_json::json!({
            "deviceId": device,
            "agent": {"version": version, "install": {"installerPackage": installer}},
            "commandResults": [{"id": id, "status": "DONE", "location": {"latitude": lat, "longitude": 0.0, "accuracyMeters": 1.0, "at": "2026-11-28T09:00:00Z"}}],
        });
        let mut endpoint = AndroidEndpoint::default();
        let header = agent.authorization.header_value();
        let _ = endpoint.handle_sync_json(&mut ws, &header, &serde_json::to_vec(&body).unwrap(), NOW, &mut agent.rng);
    }
}
