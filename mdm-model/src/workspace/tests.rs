//! Unit tests of the workspace rules, each named after its requirement.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::*;

const T0: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

fn email(text: &str) -> Option<EmailAddress> {
    Some(EmailAddress::parse(text).unwrap())
}

fn android() -> EnrollmentRequest {
    EnrollmentRequest {
        platform: Platform::Android,
        os_version: OsVersion::new(14, 0, 0),
        model: "Pixel 8".into(),
        identification_number: None,
        install_source: InstallSource::StandalonePackage,
    }
}

fn iphone() -> EnrollmentRequest {
    EnrollmentRequest {
        platform: Platform::IOs,
        os_version: OsVersion::new(17, 4, 1),
        model: "iPhone15,2".into(),
        identification_number: None,
        install_source: InstallSource::EnrollmentProfile,
    }
}

fn apns(not_before: OffsetDateTime, not_after: OffsetDateTime) -> ApnsCertificateRecord {
    ApnsCertificateRecord::new(
        crate::PushTopic::parse("com.apple.mgmt.External.0b5d7c2e").unwrap(),
        "Apple Application Integration 2 Certification Authority",
        not_before,
        not_after,
        crate::Sha256Digest::from_bytes([7; 32]),
    )
    .unwrap()
}

struct Fixture {
    ws: Workspace,
    rng: ChaCha20Rng,
    alice: UserId,
}

fn fixture() -> Fixture {
    let mut ws = Workspace::new("acme", "ACME Corp", Some("jp"), T0).unwrap();
    let alice = ws
        .add_user("alice", email("alice@acme.example"), T0)
        .unwrap();
    Fixture {
        ws,
        rng: rng(),
        alice,
    }
}

impl Fixture {
    fn connected(&mut self, request: EnrollmentRequest) -> DeviceId {
        let inv = self
            .ws
            .issue_invitation(self.alice, T0, &mut self.rng)
            .unwrap();
        let d = self.ws.enroll(&inv.token, request, T0).unwrap();
        self.ws.complete_enrollment(d, T0).unwrap();
        d
    }
}

fn refused(result: Result<DeviceId, ModelError>) -> Refusal {
    match result {
        Err(ModelError::EnrollmentRefused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn r_ws_1_new_workspace_has_builtin_groups_and_prefills() {
    let f = fixture();
    assert_eq!(
        f.ws.group(Workspace::UNASSIGNED).unwrap().name(),
        "Unassigned devices"
    );
    assert_eq!(
        f.ws.group(Workspace::MANAGED).unwrap().name(),
        "Managed devices"
    );
    assert_eq!(f.ws.country(), Some("JP"));
    assert_eq!(f.ws.company(), "ACME Corp");
    assert!(Workspace::new("x", "y", Some("JPN"), T0).is_err());
    assert!(Workspace::new("", "y", None, T0).is_err());
}

#[test]
fn r_us_1_instructions_only_for_users_with_email() {
    let mut f = fixture();
    let bob = f.ws.add_user("bob", None, T0).unwrap();
    assert_eq!(
        f.ws.issue_invitation(bob, T0, &mut f.rng).unwrap_err(),
        ModelError::UserHasNoEmail(bob)
    );
    let outcomes =
        f.ws.send_instructions(&[f.alice, bob], T0, &mut f.rng)
            .unwrap();
    assert!(matches!(outcomes[0], InstructionOutcome::Sent { user, .. } if user == f.alice));
    assert!(matches!(outcomes[1], InstructionOutcome::NoEmail { user } if user == bob));
    assert_eq!(f.ws.invitations().len(), 1);
    assert_eq!(
        f.ws.add_user("alice", None, T0).unwrap_err(),
        ModelError::DuplicateAccount("alice".into())
    );
}

#[test]
fn r_us_2_user_summary_counts_devices_and_states() {
    let mut f = fixture();
    let a = f.connected(android());
    let b = f.connected(android());
    f.ws.wipe_device(b, T0).unwrap();
    let summary = f.ws.user_summary(f.alice).unwrap();
    assert_eq!(summary.connected_devices, 1);
    assert_eq!(
        summary.devices,
        vec![
            (a, Platform::Android, DeviceState::Connected),
            (b, Platform::Android, DeviceState::Wiped)
        ]
    );
}

#[test]
fn r_in_1_one_invitation_enrolls_exactly_one_device() {
    let mut f = fixture();
    let inv = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    f.ws.enroll(&inv.token, android(), T0).unwrap();
    assert_eq!(
        refused(f.ws.enroll(&inv.token, android(), T0)),
        Refusal::InvitationAlreadyUsed
    );
    assert_eq!(f.ws.devices().len(), 1);
    let second = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    assert!(f.ws.enroll(&second.token, android(), T0).is_ok());
}

#[test]
fn r_in_1_expired_revoked_and_unknown_invitations_are_refused() {
    let mut f = fixture();
    let inv = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    let later = T0 + f.ws.settings().invitation_validity;
    assert_eq!(
        refused(f.ws.enroll(&inv.token, android(), later)),
        Refusal::InvitationExpired
    );
    let inv2 = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    f.ws.revoke_invitation(inv2.id, T0).unwrap();
    assert_eq!(
        refused(f.ws.enroll(&inv2.token, android(), T0)),
        Refusal::InvitationRevoked
    );
    assert!(f.ws.revoke_invitation(inv2.id, T0).is_err());
    let stranger = InvitationToken::generate(&mut f.rng);
    assert_eq!(
        refused(f.ws.enroll(&stranger, android(), T0)),
        Refusal::UnknownInvitation
    );
    // Refusals are in the audit log.
    let refusals =
        f.ws.audit_log()
            .iter()
            .filter(|r| matches!(r.event, AuditEvent::EnrollmentRefused { .. }))
            .count();
    assert_eq!(refusals, 3);
}

#[test]
fn r_in_3_ios_needs_a_valid_apns_certificate() {
    let mut f = fixture();
    let inv = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    assert_eq!(
        f.ws.decide_enrollment(&inv.token, &iphone(), T0),
        Err(Refusal::NoApnsCertificate)
    );
    assert_eq!(
        f.ws.decide_enrollment(&inv.token, &android(), T0),
        Ok(EnrollmentRoute::Android)
    );
    f.ws.set_apns_certificate(apns(T0 - Duration::days(400), T0 - Duration::days(35)), T0);
    assert_eq!(
        f.ws.decide_enrollment(&inv.token, &iphone(), T0),
        Err(Refusal::ApnsCertificateExpired)
    );
    f.ws.set_apns_certificate(apns(T0 + Duration::days(1), T0 + Duration::days(365)), T0);
    assert_eq!(
        f.ws.decide_enrollment(&inv.token, &iphone(), T0),
        Err(Refusal::ApnsCertificateNotYetValid)
    );
    f.ws.set_apns_certificate(apns(T0 - Duration::days(1), T0 + Duration::days(364)), T0);
    let ipad = EnrollmentRequest {
        platform: Platform::IPadOs,
        ..iphone()
    };
    assert_eq!(
        f.ws.decide_enrollment(&inv.token, &ipad, T0),
        Ok(EnrollmentRoute::Apple(Platform::IPadOs))
    );
    // Deciding consumed nothing.
    assert!(f.ws.enroll(&inv.token, ipad, T0).is_ok());
}

#[test]
fn r_in_4_agents_from_knox_or_another_emm_are_refused_with_a_remedy() {
    let mut f = fixture();
    let inv = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    for (source, reason) in [
        (
            InstallSource::KnoxMobileEnrollment,
            Refusal::InstalledThroughKnox,
        ),
        (
            InstallSource::ThirdPartyEmm,
            Refusal::InstalledThroughThirdPartyEmm,
        ),
        (
            InstallSource::EnrollmentProfile,
            Refusal::InstallSourceMismatch,
        ),
    ] {
        let request = EnrollmentRequest {
            install_source: source,
            ..android()
        };
        assert_eq!(refused(f.ws.enroll(&inv.token, request, T0)), reason);
    }
    assert!(Refusal::InstalledThroughKnox.remedy().contains("reinstall"));
    // The invitation is still usable after refusals.
    let plain = EnrollmentRequest {
        install_source: InstallSource::PlainApk,
        ..android()
    };
    assert!(f.ws.enroll(&inv.token, plain, T0).is_ok());
}

#[test]
fn r_in_5_registered_devices_are_bound_to_their_user() {
    let mut f = fixture();
    let bob = f.ws.add_user("bob", email("bob@acme.example"), T0).unwrap();
    let number = IdentificationNumber::parse("SN-0001").unwrap();
    f.ws.register_device(number.clone(), f.alice, T0).unwrap();
    assert!(f.ws.register_device(number.clone(), bob, T0).is_err());
    let request = EnrollmentRequest {
        identification_number: Some(number.clone()),
        ..android()
    };
    let bobs = f.ws.issue_invitation(bob, T0, &mut f.rng).unwrap();
    assert_eq!(
        refused(f.ws.enroll(&bobs.token, request.clone(), T0)),
        Refusal::RegisteredToAnotherUser
    );
    let alices = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    assert!(f.ws.enroll(&alices.token, request, T0).is_ok());

    // With registration required, unregistered or anonymous devices are refused.
    let settings = WorkspaceSettings {
        require_registration: true,
        ..f.ws.settings().clone()
    };
    f.ws.set_settings(settings, T0).unwrap();
    let inv = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    assert_eq!(
        refused(f.ws.enroll(&inv.token, android(), T0)),
        Refusal::IdentificationNumberMissing
    );
    let other = EnrollmentRequest {
        identification_number: Some(IdentificationNumber::parse("SN-9").unwrap()),
        ..android()
    };
    assert_eq!(
        refused(f.ws.enroll(&inv.token, other, T0)),
        Refusal::DeviceNotRegistered
    );
}

#[test]
fn r_gr_1_devices_land_unassigned_and_get_no_policy_until_moved() {
    let mut f = fixture();
    let license =
        f.ws.activate_license(
            ActivationCode::parse("AAAAA-BBBBB-CCCCC-DDDDD").unwrap(),
            10,
            T0 + Duration::days(365),
            true,
            T0,
        )
        .unwrap();
    let settings = PolicySettings {
        license: Some(license),
        ..PolicySettings::default()
    };
    let policy =
        f.ws.add_policy("Default", Workspace::MANAGED, settings, T0)
            .unwrap();
    let d = f.connected(android());
    assert_eq!(f.ws.device(d).unwrap().group(), Some(Workspace::UNASSIGNED));
    assert_eq!(f.ws.device(d).unwrap().state(), DeviceState::Connected);
    let outcome = f.ws.record_sync(d, &SyncReport::default(), T0).unwrap();
    assert_eq!((outcome.policy, outcome.license), (None, None));
    assert_eq!(
        f.ws.add_policy("Nope", Workspace::UNASSIGNED, PolicySettings::default(), T0)
            .unwrap_err(),
        ModelError::GroupRule {
            group: Workspace::UNASSIGNED,
            reason: "unassigned devices get no policy"
        }
    );
    assert!(f.ws.create_group("Sub", Workspace::UNASSIGNED, T0).is_err());

    f.ws.move_device(d, Workspace::MANAGED, T0).unwrap();
    assert_eq!(f.ws.device(d).unwrap().state(), DeviceState::Managed);
    let outcome = f.ws.record_sync(d, &SyncReport::default(), T0).unwrap();
    assert_eq!(
        outcome.policy.map(|p| (p.policy, p.version)),
        Some((policy, 1))
    );
    assert_eq!(outcome.license, Some(license));
    // An unchanged policy is not delivered again.
    assert_eq!(
        f.ws.record_sync(d, &SyncReport::default(), T0)
            .unwrap()
            .policy,
        None
    );
    // Back to Unassigned: no policy, seat released.
    f.ws.move_device(d, Workspace::UNASSIGNED, T0).unwrap();
    assert_eq!(f.ws.device(d).unwrap().state(), DeviceState::Connected);
    assert_eq!(f.ws.license(license).unwrap().seats_in_use(), 0);
    assert!(f.ws.effective_policy(d).is_none());
    assert!(f.ws.check_invariants().is_empty());
}

#[test]
fn r_gr_1_policy_is_inherited_from_the_nearest_group_that_has_one() {
    let mut f = fixture();
    let sales = f.ws.create_group("Sales", Workspace::MANAGED, T0).unwrap();
    let tokyo = f.ws.create_group("Tokyo", sales, T0).unwrap();
    let top =
        f.ws.add_policy("Top", Workspace::MANAGED, PolicySettings::default(), T0)
            .unwrap();
    assert_eq!(
        f.ws.effective_policy_of_group(tokyo).map(Policy::id),
        Some(top)
    );
    let fast = PolicySettings {
        sync_interval: Duration::hours(1),
        ..PolicySettings::default()
    };
    let sales_policy = f.ws.add_policy("Sales", sales, fast, T0).unwrap();
    assert_eq!(
        f.ws.effective_policy_of_group(tokyo).map(Policy::id),
        Some(sales_policy)
    );
    let d = f.connected(android());
    f.ws.move_device(d, tokyo, T0).unwrap();
    let outcome = f.ws.record_sync(d, &SyncReport::default(), T0).unwrap();
    assert_eq!(outcome.next_sync_due, T0 + Duration::hours(1));
    assert_eq!(f.ws.group(tokyo).unwrap().member_count(), 1);
    assert_eq!(f.ws.group(Workspace::UNASSIGNED).unwrap().member_count(), 0);
}

#[test]
fn r_po_2_a_group_holds_several_policies_one_active() {
    let mut f = fixture();
    let a =
        f.ws.add_policy("A", Workspace::MANAGED, PolicySettings::default(), T0)
            .unwrap();
    let b =
        f.ws.add_policy("B", Workspace::MANAGED, PolicySettings::default(), T0)
            .unwrap();
    assert_eq!(f.ws.group(Workspace::MANAGED).unwrap().policies(), &[a, b]);
    assert_eq!(
        f.ws.group(Workspace::MANAGED).unwrap().active_policy(),
        Some(a)
    );
    let d = f.connected(android());
    f.ws.move_device(d, Workspace::MANAGED, T0).unwrap();
    assert_eq!(
        f.ws.record_sync(d, &SyncReport::default(), T0)
            .unwrap()
            .policy
            .unwrap()
            .policy,
        a
    );
    f.ws.activate_policy(b, T0).unwrap();
    assert_eq!(
        f.ws.record_sync(d, &SyncReport::default(), T0)
            .unwrap()
            .policy
            .unwrap()
            .policy,
        b
    );
    // Updating bumps the version, which is delivered again.
    let v =
        f.ws.update_policy(b, PolicySettings::default(), T0)
            .unwrap();
    assert_eq!(v, 2);
    assert_eq!(
        f.ws.record_sync(d, &SyncReport::default(), T0)
            .unwrap()
            .policy
            .unwrap()
            .version,
        2
    );
    assert!(
        f.ws.update_policy(
            b,
            PolicySettings {
                license: Some(LicenseId::from_index(9)),
                ..PolicySettings::default()
            },
            T0
        )
        .is_err()
    );
}

#[test]
fn r_li_1_seats_are_never_exceeded_and_deployment_can_be_manual() {
    let mut f = fixture();
    let auto =
        f.ws.activate_license(
            ActivationCode::parse("AAAAA-BBBBB-CCCCC-DDDDD").unwrap(),
            2,
            T0 + Duration::days(30),
            true,
            T0,
        )
        .unwrap();
    assert!(
        f.ws.activate_license(
            ActivationCode::parse("aaaaa-bbbbb-ccccc-ddddd").unwrap(),
            2,
            T0 + Duration::days(30),
            true,
            T0
        )
        .is_err()
    );
    let settings = PolicySettings {
        license: Some(auto),
        ..PolicySettings::default()
    };
    f.ws.add_policy("P", Workspace::MANAGED, settings, T0)
        .unwrap();
    let devices: Vec<_> = (0..3).map(|_| f.connected(android())).collect();
    let mut problems = Vec::new();
    for &d in &devices {
        f.ws.move_device(d, Workspace::MANAGED, T0).unwrap();
        problems.push(
            f.ws.record_sync(d, &SyncReport::default(), T0)
                .unwrap()
                .license_problem,
        );
    }
    assert_eq!(problems, vec![None, None, Some(LicenseProblem::NoFreeSeat)]);
    assert_eq!(f.ws.license(auto).unwrap().seats_in_use(), 2);
    assert_eq!(
        f.ws.deploy_license(auto, devices[2], T0).unwrap_err(),
        ModelError::NoFreeSeat {
            license: auto,
            seats: 2
        }
    );

    let manual =
        f.ws.activate_license(
            ActivationCode::parse("EEEEE-BBBBB-CCCCC-DDDDD").unwrap(),
            5,
            T0 + Duration::days(30),
            false,
            T0,
        )
        .unwrap();
    let policy =
        f.ws.group(Workspace::MANAGED)
            .unwrap()
            .active_policy()
            .unwrap();
    f.ws.update_policy(
        policy,
        PolicySettings {
            license: Some(manual),
            ..PolicySettings::default()
        },
        T0,
    )
    .unwrap();
    let outcome =
        f.ws.record_sync(devices[2], &SyncReport::default(), T0)
            .unwrap();
    assert_eq!(
        outcome.license_problem,
        Some(LicenseProblem::AwaitingDeployment)
    );
    f.ws.deploy_license(manual, devices[2], T0).unwrap();
    assert_eq!(
        f.ws.record_sync(devices[2], &SyncReport::default(), T0)
            .unwrap()
            .license,
        Some(manual)
    );
    // An unassigned device cannot receive a license.
    let loose = f.connected(android());
    assert!(matches!(
        f.ws.deploy_license(manual, loose, T0),
        Err(ModelError::IllegalTransition { .. })
    ));
    // Expired licenses are not deployed.
    let later = T0 + Duration::days(31);
    f.ws.release_license(devices[2], later).unwrap();
    assert_eq!(
        f.ws.deploy_license(manual, devices[2], later),
        Err(ModelError::LicenseExpired(manual))
    );
    assert!(f.ws.check_invariants().is_empty());
}

#[test]
fn due_and_overdue_devices_come_most_overdue_first_ties_by_id() {
    let mut f = fixture();
    let a = f.connected(android());
    let b = f.connected(android());
    let c = f.connected(android());
    // a synced last (due latest); b and c are due at the same instant.
    f.ws.record_sync(a, &SyncReport::default(), T0 + Duration::hours(1))
        .unwrap();
    let due = f.ws.devices_due(T0 + Duration::days(1)).collect::<Vec<_>>();
    assert_eq!(due, vec![b, c, a]);
    assert_eq!(
        f.ws.overdue_devices(T0 + Duration::hours(1), Duration::minutes(30))
            .collect::<Vec<_>>(),
        vec![b, c]
    );
    f.ws.mark_connection_lost(b, T0).unwrap();
    assert_eq!(
        f.ws.devices_due(T0 + Duration::days(1)).collect::<Vec<_>>(),
        vec![c, a]
    );
}

#[test]
fn r_sy_1_sync_records_status_and_schedules_the_next_one() {
    let mut f = fixture();
    let d = f.connected(android());
    assert_eq!(f.ws.devices_due(T0).collect::<Vec<_>>(), vec![d]);
    let report = SyncReport {
        os_version: Some(OsVersion::new(15, 0, 0)),
        protection: ProtectionStatus {
            real_time_protection: true,
            definitions_updated: Some(T0 - Duration::hours(1)),
            license_activated: true,
            ..ProtectionStatus::default()
        },
    };
    let outcome = f.ws.record_sync(d, &report, T0).unwrap();
    assert_eq!(outcome.next_sync_due, T0 + Duration::hours(6));
    let dev = f.ws.device(d).unwrap();
    assert_eq!(
        (dev.last_sync(), dev.sync_count(), dev.os_version()),
        (Some(T0), 1, OsVersion::new(15, 0, 0))
    );
    assert!(
        dev.protection()
            .definitions_up_to_date(T0, Duration::days(1))
    );
    assert!(dev.protection().license_activated);
    assert_eq!(f.ws.devices_due(T0 + Duration::hours(5)).count(), 0);
    assert_eq!(
        f.ws.overdue_devices(T0 + Duration::hours(8), Duration::hours(1))
            .collect::<Vec<_>>(),
        vec![d]
    );
    assert_eq!(
        f.ws.overdue_devices(T0 + Duration::hours(6), Duration::hours(1))
            .count(),
        0
    );
}

#[test]
fn r_dv_2_illegal_transitions_are_typed_errors() {
    let mut f = fixture();
    let inv = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    let d = f.ws.enroll(&inv.token, android(), T0).unwrap();
    assert_eq!(f.ws.device(d).unwrap().state(), DeviceState::Enrolling);
    let illegal = |r: Result<_, ModelError>| matches!(r, Err(ModelError::IllegalTransition { .. }));
    assert!(illegal(
        f.ws.record_sync(d, &SyncReport::default(), T0).map(|_| ())
    ));
    assert!(illegal(f.ws.move_device(d, Workspace::MANAGED, T0)));
    assert!(illegal(f.ws.restore_connection(d, T0)));
    f.ws.complete_enrollment(d, T0).unwrap();
    assert!(illegal(f.ws.complete_enrollment(d, T0)));
    f.ws.mark_connection_lost(d, T0).unwrap();
    assert!(illegal(
        f.ws.record_sync(d, &SyncReport::default(), T0).map(|_| ())
    ));
    assert_eq!(f.ws.devices_due(T0 + Duration::days(9)).count(), 0);
    f.ws.restore_connection(d, T0).unwrap();
    assert_eq!(f.ws.device(d).unwrap().state(), DeviceState::Connected);
    f.ws.retire_device(d, T0).unwrap();
    assert!(illegal(f.ws.wipe_device(d, T0)));
    assert!(illegal(f.ws.retire_device(d, T0)));
    assert_eq!(
        f.ws.device(DeviceId::from_index(99)).unwrap_err(),
        ModelError::UnknownDevice(DeviceId::from_index(99))
    );
    let transitions: Vec<_> =
        f.ws.audit_log()
            .iter()
            .filter_map(|r| match r.event {
                AuditEvent::DeviceStateChanged { to, .. } => Some(to),
                _ => None,
            })
            .collect();
    assert_eq!(
        transitions,
        vec![
            DeviceState::Connected,
            DeviceState::ConnectionLost,
            DeviceState::Connected,
            DeviceState::Retired
        ]
    );
}

#[test]
fn r_gr_1_automatic_moving_rule_puts_connected_devices_in_a_managed_group() {
    let mut f = fixture();
    let settings = WorkspaceSettings {
        auto_move_to: Some(Workspace::MANAGED),
        ..WorkspaceSettings::default()
    };
    f.ws.set_settings(settings, T0).unwrap();
    let d = f.connected(android());
    assert_eq!(f.ws.device(d).unwrap().state(), DeviceState::Managed);
    let bad = WorkspaceSettings {
        auto_move_to: Some(Workspace::UNASSIGNED),
        ..WorkspaceSettings::default()
    };
    assert!(f.ws.set_settings(bad, T0).is_err());
}

#[test]
fn r_wp_1_wipe_leaves_management_and_requires_registration_again() {
    let mut f = fixture();
    let license =
        f.ws.activate_license(
            ActivationCode::parse("AAAAA-BBBBB-CCCCC-DDDDD").unwrap(),
            1,
            T0 + Duration::days(30),
            true,
            T0,
        )
        .unwrap();
    f.ws.add_policy(
        "P",
        Workspace::MANAGED,
        PolicySettings {
            license: Some(license),
            ..PolicySettings::default()
        },
        T0,
    )
    .unwrap();
    let number = IdentificationNumber::parse("IMEI-1").unwrap();
    f.ws.register_device(number.clone(), f.alice, T0).unwrap();
    let d = f.connected(EnrollmentRequest {
        identification_number: Some(number.clone()),
        ..android()
    });
    f.ws.move_device(d, Workspace::MANAGED, T0).unwrap();
    f.ws.record_sync(d, &SyncReport::default(), T0).unwrap();
    assert_eq!(f.ws.license(license).unwrap().seats_in_use(), 1);
    f.ws.wipe_device(d, T0).unwrap();
    let dev = f.ws.device(d).unwrap();
    assert_eq!(
        (dev.state(), dev.group(), dev.license()),
        (DeviceState::Wiped, None, None)
    );
    assert_eq!(f.ws.license(license).unwrap().seats_in_use(), 0);
    assert_eq!(f.ws.registered_user(&number), None);
    assert_eq!(f.ws.group(Workspace::MANAGED).unwrap().member_count(), 0);
    assert!(f.ws.check_invariants().is_empty());
}

#[test]
fn r_cl_1_client_certificate_state_is_recorded() {
    let mut f = fixture();
    let d = f.connected(EnrollmentRequest {
        install_source: InstallSource::PlainApk,
        ..android()
    });
    assert_eq!(
        f.ws.device(d).unwrap().client_certificate(),
        ClientCertificateState::None
    );
    f.ws.record_client_certificate_issued(d, T0).unwrap();
    f.ws.record_client_certificate_applied(d, Sha256Digest::from_bytes([9; 32]), T0)
        .unwrap();
    assert_eq!(
        f.ws.device(d).unwrap().client_certificate(),
        ClientCertificateState::Applied(Sha256Digest::from_bytes([9; 32]))
    );
}

fn populated() -> Workspace {
    let mut f = fixture();
    f.ws.add_user("bob", None, T0).unwrap();
    f.ws.set_apns_certificate(apns(T0 - Duration::days(1), T0 + Duration::days(364)), T0);
    let license =
        f.ws.activate_license(
            ActivationCode::parse("AAAAA-BBBBB-CCCCC-DDDDD").unwrap(),
            5,
            T0 + Duration::days(365),
            true,
            T0,
        )
        .unwrap();
    let sales = f.ws.create_group("Sales", Workspace::MANAGED, T0).unwrap();
    f.ws.add_policy(
        "Sales",
        sales,
        PolicySettings {
            license: Some(license),
            ..PolicySettings::default()
        },
        T0,
    )
    .unwrap();
    f.ws.register_device(IdentificationNumber::parse("SN-1").unwrap(), f.alice, T0)
        .unwrap();
    let a = f.connected(android());
    f.connected(iphone());
    f.ws.move_device(a, sales, T0).unwrap();
    f.ws.record_sync(a, &SyncReport::default(), T0 + Duration::minutes(5))
        .unwrap();
    f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    f.ws
}

#[test]
fn saved_workspace_round_trips_and_keeps_its_indexes() {
    let ws = populated();
    let dir = std::env::temp_dir().join(format!("mdm-model-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ws.json");
    ws.save(&path).unwrap();
    let loaded = Workspace::load(&path).unwrap();
    assert_eq!(loaded, ws);
    assert!(loaded.check_invariants().is_empty());
    assert_eq!(
        loaded.user_by_account("alice").map(User::id),
        ws.user_by_account("alice").map(User::id)
    );
    assert_eq!(loaded.devices_due(T0 + Duration::days(1)).count(), 2);
    assert_eq!(
        loaded
            .license(LicenseId::from_index(0))
            .unwrap()
            .seats_in_use(),
        1
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "ws.json")
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "a saved workspace is private to its owner"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_saves_never_share_a_temporary_file() {
    let ws = populated();
    let dir = std::env::temp_dir().join(format!("mdm-model-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ws.json");
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..5 {
                    ws.save(&path).unwrap();
                }
            });
        }
    });
    assert_eq!(Workspace::load(&path).unwrap(), ws);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Replaces the first `"key": value` (a number) in `json`.
fn with_number(json: &str, key: &str, value: &str) -> String {
    let at = json.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
    let end = at + json[at..].find([',', '\n', '}']).unwrap();
    format!("{}{value}{}", &json[..at], &json[end..])
}

#[test]
fn loading_runs_the_checks_the_api_runs() {
    let json = populated().to_json().unwrap();
    for (key, value) in [
        ("invitation_validity", "9223372036854775807"),
        ("invitation_validity", "0"),
        ("sync_interval", "9223372036854775807"),
        ("sync_interval", "-5"),
        ("seats", "0"),
    ] {
        let bad = with_number(&json, key, value);
        assert_ne!(bad, json);
        assert!(
            matches!(Workspace::from_json(&bad), Err(ModelError::CorruptedFile(ref m)) if !m.is_empty()),
            "{key} = {value} was loaded"
        );
    }
    let empty_account = json.replacen("\"account\": \"alice\"", "\"account\": \"\"", 1);
    assert_ne!(empty_account, json);
    assert!(matches!(
        Workspace::from_json(&empty_account),
        Err(ModelError::CorruptedFile(_))
    ));
    let foreign_topic = json.replacen(
        "\"topic\": \"com.apple.mgmt.",
        "\"topic\": \" com.apple.mgmt.",
        1,
    );
    assert_ne!(foreign_topic, json);
    assert!(matches!(
        Workspace::from_json(&foreign_topic),
        Err(ModelError::CorruptedFile(_))
    ));
    let at = json.find("\"not_after\": \"").unwrap() + 14;
    let backwards = format!("{}2000{}", &json[..at], &json[at + 4..]);
    assert!(matches!(
        Workspace::from_json(&backwards),
        Err(ModelError::CorruptedFile(ref m)) if m.contains("APNs")
    ));
    let mut ws = Workspace::from_json(&json).unwrap();
    // What did load can be used: no operation on it overflows.
    let alice = ws.user_by_account("alice").unwrap().id();
    ws.issue_invitation(alice, T0, &mut rng()).unwrap();
}

#[test]
fn absurd_dates_are_errors_not_panics() {
    let mut f = fixture();
    let device = f.connected(android());
    let end = time::PrimitiveDateTime::MAX.assume_utc();
    assert!(matches!(
        f.ws.record_sync(device, &SyncReport::default(), end),
        Err(ModelError::TimeOutOfRange {
            what: "next sync",
            ..
        })
    ));
    assert!(matches!(
        f.ws.issue_invitation(f.alice, end, &mut f.rng),
        Err(ModelError::TimeOutOfRange { .. })
    ));
    let settings = WorkspaceSettings {
        invitation_validity: Duration::seconds(i64::MAX),
        ..WorkspaceSettings::default()
    };
    assert!(f.ws.set_settings(settings, T0).is_err());
    assert!(
        UpdateSchedule::Weekly {
            day: time::Weekday::Monday,
            at: time::Time::MIDNIGHT
        }
        .next_after(end)
        .is_none()
    );
}

#[test]
fn saved_workspace_json_is_stable() {
    insta::assert_snapshot!("saved_workspace", populated().to_json().unwrap());
}

#[test]
fn loading_refuses_unknown_versions_and_corruption() {
    let json = populated().to_json().unwrap();
    let v2 = json.replacen("\"version\": 1", "\"version\": 2", 1);
    assert_eq!(
        Workspace::from_json(&v2).unwrap_err(),
        ModelError::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    );
    assert!(matches!(
        Workspace::from_json(&json[..json.len() / 2]),
        Err(ModelError::CorruptedFile(_))
    ));
    assert!(matches!(
        Workspace::from_json("{}"),
        Err(ModelError::CorruptedFile(_))
    ));
    let bad_ref = json.replacen("\"owner\": 0", "\"owner\": 77", 1);
    assert!(matches!(
        Workspace::from_json(&bad_ref),
        Err(ModelError::CorruptedFile(_))
    ));
    assert!(matches!(
        Workspace::load(std::path::Path::new("/nonexistent/ws.json")),
        Err(ModelError::Storage {
            operation: "read",
            ..
        })
    ));
}

#[test]
fn secrets_are_not_in_debug_output() {
    let mut f = fixture();
    let code = "SECRT-CODEA-BCDEF-GHIJK";
    let license =
        f.ws.activate_license(
            ActivationCode::parse(code).unwrap(),
            1,
            T0 + Duration::days(30),
            false,
            T0,
        )
        .unwrap();
    let issued = f.ws.issue_invitation(f.alice, T0, &mut f.rng).unwrap();
    let token = issued.token.expose();
    let duplicate =
        f.ws.activate_license(
            ActivationCode::parse(code).unwrap(),
            1,
            T0 + Duration::days(30),
            false,
            T0,
        )
        .unwrap_err();
    let shown = [
        format!(
            "{:?} {:#?}",
            ActivationCode::parse(code).unwrap(),
            f.ws.license(license).unwrap()
        ),
        format!("{:?} {:#?}", issued, issued.token),
        format!("{duplicate:?} {duplicate}"),
        format!("{:?}", ActivationCode::parse("SECRT-CODEA").unwrap_err()),
        format!("{:?}", f.ws),
    ];
    for text in shown {
        assert!(!text.contains(code), "activation code shown in {text}");
        assert!(!text.contains(&token), "invitation token shown in {text}");
    }
}

#[test]
fn r_ap_3_unregistered_push_token_makes_an_apple_device_unreachable_until_it_checks_in() {
    let mut f = fixture();
    f.ws.set_apns_certificate(apns(T0 - Duration::days(1), T0 + Duration::days(364)), T0);
    let phone = f.connected(iphone());
    let pixel = f.connected(android());
    assert_eq!(f.ws.may_push(phone), Ok(true));
    assert_eq!(f.ws.may_push(pixel), Ok(false));
    let since = T0 + Duration::minutes(5);
    let now = T0 + Duration::minutes(6);
    assert_eq!(
        f.ws.record_push_unregistered(phone, Some(since), now),
        Ok(true)
    );
    assert_eq!(
        f.ws.device(phone).unwrap().state(),
        DeviceState::ConnectionLost
    );
    assert_eq!(f.ws.may_push(phone), Ok(false));
    assert!(f.ws.audit_log().iter().any(|r| r.at == now
        && r.event
            == AuditEvent::PushTokenUnregistered {
                device: phone,
                since: Some(since)
            }));
    // A second 410 for the same token changes nothing.
    assert_eq!(
        f.ws.record_push_unregistered(phone, Some(since), now),
        Ok(false)
    );
    // The next TokenUpdate restores it.
    assert_eq!(f.ws.apple_device_connected(phone, now), Ok(true));
    assert_eq!(f.ws.may_push(phone), Ok(true));
    // Android devices have no APNs token.
    assert!(matches!(
        f.ws.record_push_unregistered(pixel, None, now),
        Err(ModelError::IllegalTransition { .. })
    ));
    let json = serde_json::to_string(&AuditEvent::PushTokenUnregistered {
        device: phone,
        since: None,
    })
    .unwrap();
    assert!(
        json.contains("\"event\":\"push_token_unregistered\""),
        "{json}"
    );
}
