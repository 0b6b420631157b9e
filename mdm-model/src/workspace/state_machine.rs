//! Property test: random sequences of operations never break the invariants.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::*;

#[derive(Clone, Debug)]
enum Op {
    AddUser {
        with_email: bool,
    },
    Invite {
        user: usize,
    },
    Enroll {
        invitation: usize,
        platform: usize,
        source: usize,
    },
    Complete {
        device: usize,
    },
    Move {
        device: usize,
        group: usize,
    },
    Sync {
        device: usize,
    },
    Lose {
        device: usize,
    },
    Restore {
        device: usize,
    },
    Wipe {
        device: usize,
    },
    Retire {
        device: usize,
    },
    Deploy {
        device: usize,
        license: usize,
    },
    AddGroup {
        parent: usize,
    },
    AddPolicy {
        group: usize,
        license: bool,
    },
    SetApns {
        valid: bool,
    },
    Advance {
        hours: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..64;
    prop_oneof![
        any::<bool>().prop_map(|with_email| Op::AddUser { with_email }),
        i().prop_map(|user| Op::Invite { user }),
        (i(), 0usize..3, 0usize..5).prop_map(|(invitation, platform, source)| Op::Enroll {
            invitation,
            platform,
            source
        }),
        i().prop_map(|device| Op::Complete { device }),
        (i(), i()).prop_map(|(device, group)| Op::Move { device, group }),
        i().prop_map(|device| Op::Sync { device }),
        i().prop_map(|device| Op::Lose { device }),
        i().prop_map(|device| Op::Restore { device }),
        i().prop_map(|device| Op::Wipe { device }),
        i().prop_map(|device| Op::Retire { device }),
        (i(), i()).prop_map(|(device, license)| Op::Deploy { device, license }),
        i().prop_map(|parent| Op::AddGroup { parent }),
        (i(), any::<bool>()).prop_map(|(group, license)| Op::AddPolicy { group, license }),
        any::<bool>().prop_map(|valid| Op::SetApns { valid }),
        (1u8..48).prop_map(|hours| Op::Advance { hours }),
    ]
}

struct Model {
    ws: Workspace,
    rng: ChaCha20Rng,
    now: OffsetDateTime,
    tokens: Vec<InvitationToken>,
}

fn pick<T: Copy>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()])
}

impl Model {
    fn new() -> Self {
        let now = datetime!(2026-11-28 00:00 UTC);
        let mut ws = Workspace::new("prop", "Prop Inc", None, now).unwrap();
        ws.activate_license(
            ActivationCode::parse("AAAAA-AAAAA-AAAAA-AAAAA").unwrap(),
            3,
            now + Duration::days(20),
            true,
            now,
        )
        .unwrap();
        ws.activate_license(
            ActivationCode::parse("BBBBB-AAAAA-AAAAA-AAAAA").unwrap(),
            2,
            now + Duration::days(400),
            false,
            now,
        )
        .unwrap();
        Self {
            ws,
            rng: ChaCha20Rng::seed_from_u64(3),
            now,
            tokens: Vec::new(),
        }
    }

    fn device(&self, i: usize) -> Option<DeviceId> {
        pick(
            &self.ws.devices().iter().map(Device::id).collect::<Vec<_>>(),
            i,
        )
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now;
        let groups: Vec<GroupId> = self.ws.groups().iter().map(Group::id).collect();
        // Results are ignored on purpose: refusals are part of the game; the
        // invariants must hold whatever succeeded.
        match *op {
            Op::AddUser { with_email } => {
                let n = self.ws.users().len();
                let email =
                    with_email.then(|| EmailAddress::parse(&format!("u{n}@x.example")).unwrap());
                let _ = self.ws.add_user(&format!("u{n}"), email, now);
            }
            Op::Invite { user } => {
                let users: Vec<_> = self.ws.users().iter().map(User::id).collect();
                if let Some(u) = pick(&users, user)
                    && let Ok(inv) = self.ws.issue_invitation(u, now, &mut self.rng)
                {
                    self.tokens.push(inv.token);
                }
            }
            Op::Enroll {
                invitation,
                platform,
                source,
            } => {
                if let Some(token) = (!self.tokens.is_empty())
                    .then(|| self.tokens[invitation % self.tokens.len()].clone())
                {
                    let sources = [
                        InstallSource::StandalonePackage,
                        InstallSource::PlainApk,
                        InstallSource::KnoxMobileEnrollment,
                        InstallSource::ThirdPartyEmm,
                        InstallSource::EnrollmentProfile,
                    ];
                    let request = EnrollmentRequest {
                        platform: Platform::ALL[platform],
                        os_version: OsVersion::new(14, 0, 0),
                        model: "m".into(),
                        identification_number: None,
                        install_source: sources[source],
                    };
                    let decision = self.ws.decide_enrollment(&token, &request, now);
                    let result = self.ws.enroll(&token, request.clone(), now);
                    assert_eq!(decision.is_ok(), result.is_ok());
                    if request.platform.is_apple() && result.is_ok() {
                        assert!(
                            self.ws
                                .apns_certificate()
                                .is_some_and(|a| a.is_valid_at(now))
                        );
                    }
                }
            }
            Op::Complete { device } => {
                if let Some(d) = self.device(device) {
                    let _ = self.ws.complete_enrollment(d, now);
                }
            }
            Op::Move { device, group } => {
                if let (Some(d), Some(g)) = (self.device(device), pick(&groups, group)) {
                    let _ = self.ws.move_device(d, g, now);
                }
            }
            Op::Sync { device } => {
                if let Some(d) = self.device(device)
                    && let Ok(outcome) = self.ws.record_sync(d, &SyncReport::default(), now)
                    && self.ws.device(d).unwrap().state() != DeviceState::Managed
                {
                    assert!(outcome.policy.is_none() && outcome.license.is_none());
                }
            }
            Op::Lose { device } => {
                if let Some(d) = self.device(device) {
                    let _ = self.ws.mark_connection_lost(d, now);
                }
            }
            Op::Restore { device } => {
                if let Some(d) = self.device(device) {
                    let _ = self.ws.restore_connection(d, now);
                }
            }
            Op::Wipe { device } => {
                if let Some(d) = self.device(device) {
                    let _ = self.ws.wipe_device(d, now);
                }
            }
            Op::Retire { device } => {
                if let Some(d) = self.device(device) {
                    let _ = self.ws.retire_device(d, now);
                }
            }
            Op::Deploy { device, license } => {
                let licenses: Vec<_> = self.ws.licenses().iter().map(License::id).collect();
                if let (Some(d), Some(l)) = (self.device(device), pick(&licenses, license)) {
                    let _ = self.ws.deploy_license(l, d, now);
                }
            }
            Op::AddGroup { parent } => {
                if let Some(p) = pick(&groups, parent) {
                    let _ = self.ws.create_group("g", p, now);
                }
            }
            Op::AddPolicy { group, license } => {
                if let Some(g) = pick(&groups, group) {
                    let settings = PolicySettings {
                        license: license.then(|| self.ws.licenses()[0].id()),
                        ..PolicySettings::default()
                    };
                    let _ = self.ws.add_policy("p", g, settings, now);
                }
            }
            Op::SetApns { valid } => {
                let (from, to) = if valid {
                    (now - Duration::days(1), now + Duration::days(2))
                } else {
                    (now - Duration::days(10), now - Duration::days(1))
                };
                let record = ApnsCertificateRecord::new(
                    crate::PushTopic::parse("com.apple.mgmt.External.x").unwrap(),
                    "CA",
                    from,
                    to,
                    crate::Sha256Digest::from_bytes([1; 32]),
                )
                .unwrap();
                self.ws.set_apns_certificate(record, now);
            }
            Op::Advance { hours } => self.now += Duration::hours(i64::from(hours)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Invariants of R-IN-1, R-GR-1, R-LI-1, R-DV-2 and the audit log hold after
    /// every operation of any sequence.
    #[test]
    fn random_operations_never_break_the_invariants(ops in proptest::collection::vec(op(), 1..120)) {
        let mut m = Model::new();
        for op in &ops {
            let states_before: Vec<DeviceState> = m.ws.devices().iter().map(Device::state).collect();
            let audit_before = m.ws.audit_log().len();
            m.apply(op);
            let violations = m.ws.check_invariants();
            prop_assert!(violations.is_empty(), "after {op:?}: {violations:?}");
            // Every state transition is in the audit log, with the new state.
            let new_records = &m.ws.audit_log()[audit_before..];
            for dev in m.ws.devices() {
                let before = states_before.get(dev.id().index()).copied();
                if before.is_some_and(|b| b != dev.state()) {
                    let logged = new_records.iter().any(|r| matches!(r.event,
                        AuditEvent::DeviceStateChanged { device, to, .. } if device == dev.id() && to == dev.state()));
                    prop_assert!(logged, "transition of {} not logged after {op:?}", dev.id());
                }
            }
            for r in new_records {
                prop_assert_eq!(r.at, m.now);
            }
        }
        // A saved and reloaded workspace is the same workspace.
        let reloaded = Workspace::from_json(&m.ws.to_json().unwrap()).unwrap();
        prop_assert!(reloaded == m.ws);
    }
}
