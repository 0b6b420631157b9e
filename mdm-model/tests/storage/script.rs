//! A deterministic stream of operations over the whole public API, from a
//! seed: what the conformance and crash tests apply and replay.

use mdm_model::{
    ActivationCode, ApnsCertificateRecord, DeviceId, DeviceState, EmailAddress, EnrollmentRequest,
    IdentificationNumber, InstallSource, InvitationId, InvitationToken, OsVersion, Platform,
    PolicySettings, ProtectionStatus, PushTopic, Sha256Digest, SyncReport, UserId, Workspace,
    WorkspaceSettings,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

pub const T0: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);

/// The workspace every script starts from.
pub fn start() -> Workspace {
    Workspace::new("acme", "ACME Corp", Some("JP"), T0).unwrap()
}

/// The state a script keeps beside the workspace: its generator, its clock,
/// the tokens of the invitations it issued.
pub struct Script {
    rng: ChaCha20Rng,
    pub now: OffsetDateTime,
    tokens: Vec<(InvitationId, InvitationToken)>,
    pub step: u64,
}

impl Script {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            now: T0,
            tokens: Vec::new(),
            step: 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.rng.next_u64() % n as u64) as usize
        }
    }

    fn device(&mut self, ws: &Workspace) -> Option<DeviceId> {
        let n = ws.devices().len();
        (n > 0).then(|| ws.devices()[self.below(n)].id())
    }

    /// Applies one operation (a refusal by the model is an outcome too: the
    /// audit may record it and the script carries on).
    pub fn apply(&mut self, ws: &mut Workspace) {
        self.step += 1;
        let tick = Duration::seconds(1 + self.below(600) as i64);
        self.now += tick;
        let now = self.now;
        let users = ws.users().len();
        let user = (users > 0).then(|| ws.users()[self.below(users)].id());
        let groups = ws.groups().len();
        let group = ws.groups()[self.below(groups)].id();
        let choice = if users == 0 { 0 } else { self.below(24) };
        let _ = match choice {
            0 | 1 => {
                let n = ws.users().len();
                let email = EmailAddress::parse(&format!("user{n}@acme.example")).ok();
                ws.add_user(&format!("user{n}"), email, now).map(drop)
            }
            2 => ws.set_user_email(user.unwrap(), None, now),
            3..=5 => {
                let issued = ws.issue_invitation(user.unwrap(), now, &mut self.rng);
                if let Ok(i) = issued {
                    self.tokens.push((i.id, i.token));
                }
                Ok(())
            }
            6 if !self.tokens.is_empty() => {
                let k = self.below(self.tokens.len());
                let id = self.tokens[k].0;
                ws.revoke_invitation(id, now)
            }
            6..=8 if !self.tokens.is_empty() => {
                let k = self.below(self.tokens.len());
                let (_, token) = self.tokens.swap_remove(k);
                let ios = ws.apns_certificate().is_some() && self.below(3) == 0;
                let number = (self.below(2) == 0).then(|| {
                    IdentificationNumber::parse(&format!("SN-{}", self.below(40))).unwrap()
                });
                let request = EnrollmentRequest {
                    platform: if ios {
                        Platform::IOs
                    } else {
                        Platform::Android
                    },
                    os_version: OsVersion::parse(if ios { "17.1" } else { "14" }).unwrap(),
                    model: if ios {
                        "iPhone 15".into()
                    } else {
                        "Pixel 8".into()
                    },
                    identification_number: number,
                    install_source: if ios {
                        InstallSource::EnrollmentProfile
                    } else {
                        InstallSource::StandalonePackage
                    },
                };
                ws.enroll(&token, request, now).map(drop)
            }
            9 => {
                let number =
                    IdentificationNumber::parse(&format!("SN-{}", self.below(40))).unwrap();
                ws.register_device(number, user.unwrap(), now)
            }
            10 => match self.device(ws) {
                Some(d) => ws.complete_enrollment(d, now),
                None => Ok(()),
            },
            11 => match self.device(ws) {
                Some(d) => ws.move_device(d, group, now),
                None => Ok(()),
            },
            12..=14 => match self.device(ws) {
                Some(d) => {
                    let report = SyncReport {
                        os_version: (self.below(4) == 0).then(|| OsVersion::parse("15.1").unwrap()),
                        protection: ProtectionStatus {
                            real_time_protection: self.below(2) == 0,
                            last_scan: Some(now),
                            ..ProtectionStatus::default()
                        },
                    };
                    ws.record_sync(d, &report, now).map(drop)
                }
                None => Ok(()),
            },
            15 => match self.device(ws) {
                Some(d) if ws.device(d).unwrap().state() == DeviceState::ConnectionLost => {
                    ws.restore_connection(d, now)
                }
                Some(d) => ws.mark_connection_lost(d, now),
                None => Ok(()),
            },
            16 => match self.device(ws) {
                Some(d) if self.below(2) == 0 => ws.wipe_device(d, now),
                Some(d) => ws.retire_device(d, now),
                None => Ok(()),
            },
            17 => match self.device(ws) {
                Some(d) if self.below(2) == 0 => ws.record_client_certificate_issued(d, now),
                Some(d) => {
                    let sha = Sha256Digest::of(&self.step.to_be_bytes());
                    ws.record_client_certificate_applied(d, sha, now)
                }
                None => Ok(()),
            },
            18 => {
                let mut settings = PolicySettings {
                    sync_interval: Duration::hours(1 + self.below(12) as i64),
                    ..PolicySettings::default()
                };
                if !ws.licenses().is_empty() && self.below(2) == 0 {
                    settings.license = Some(ws.licenses()[0].id());
                }
                match ws.policies().len() {
                    0 => ws
                        .add_policy("Default", Workspace::MANAGED, settings, now)
                        .map(drop),
                    n => match self.below(3) {
                        0 => ws
                            .add_policy(&format!("P{n}"), group, settings, now)
                            .map(drop),
                        1 => {
                            let p = ws.policies()[self.below(n)].id();
                            ws.update_policy(p, settings, now).map(drop)
                        }
                        _ => {
                            let p = ws.policies()[self.below(n)].id();
                            ws.activate_policy(p, now)
                        }
                    },
                }
            }
            19 => {
                let n = ws.licenses().len();
                if n == 0 || self.below(4) == 0 {
                    let code = format!("AAAAA-BBBBB-CCCCC-{:05}", self.below(100_000));
                    ws.activate_license(
                        ActivationCode::parse(&code).unwrap(),
                        1 + self.below(20) as u32,
                        now + Duration::days(365),
                        self.below(2) == 0,
                        now,
                    )
                    .map(drop)
                } else {
                    match self.device(ws) {
                        Some(d) if self.below(2) == 0 => {
                            let l = ws.licenses()[self.below(n)].id();
                            ws.deploy_license(l, d, now)
                        }
                        Some(d) => ws.release_license(d, now),
                        None => Ok(()),
                    }
                }
            }
            20 => {
                let n = ws.groups().len();
                ws.create_group(&format!("G{n}"), group, now).map(drop)
            }
            21 => {
                let settings = WorkspaceSettings {
                    invitation_validity: Duration::days(1 + self.below(30) as i64),
                    require_registration: self.below(4) == 0,
                    auto_move_to: (self.below(2) == 0).then_some(Workspace::MANAGED),
                };
                ws.set_settings(settings, now)
            }
            22 => {
                let record = ApnsCertificateRecord::new(
                    PushTopic::parse("com.apple.mgmt.External.0b5d7c2e").unwrap(),
                    "Apple Application Integration 2 Certification Authority",
                    now - Duration::days(1),
                    now + Duration::days(365),
                    Sha256Digest::of(&self.step.to_le_bytes()),
                )
                .unwrap();
                ws.set_apns_certificate(record, now);
                Ok(())
            }
            _ => match self.device(ws) {
                Some(d) => {
                    let proof = self.tokens.first().map(|(_, t)| t.clone());
                    match proof {
                        Some(t) => ws
                            .authenticate_agent(
                                d,
                                mdm_model::AgentProof::Invitation(&t),
                                now,
                                &mut self.rng,
                            )
                            .map(drop),
                        None => Ok(()),
                    }
                }
                None => Ok(()),
            },
        };
    }
}

/// A workspace with `devices` enrolled and connected devices, most managed.
pub fn fleet(devices: usize) -> Workspace {
    let mut ws = start();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    ws.add_policy("Default", Workspace::MANAGED, PolicySettings::default(), T0)
        .unwrap();
    ws.set_settings(
        WorkspaceSettings {
            auto_move_to: Some(Workspace::MANAGED),
            ..WorkspaceSettings::default()
        },
        T0,
    )
    .unwrap();
    let users: Vec<UserId> = (0..devices.div_ceil(4).max(1))
        .map(|i| {
            let email = EmailAddress::parse(&format!("user{i}@acme.example")).unwrap();
            ws.add_user(&format!("user{i}"), Some(email), T0).unwrap()
        })
        .collect();
    for i in 0..devices {
        let invitation = ws.issue_invitation(users[i / 4], T0, &mut rng).unwrap();
        let request = EnrollmentRequest {
            platform: Platform::Android,
            os_version: OsVersion::parse("14").unwrap(),
            model: "Pixel 8".into(),
            identification_number: None,
            install_source: InstallSource::StandalonePackage,
        };
        let d = ws.enroll(&invitation.token, request, T0).unwrap();
        ws.complete_enrollment(d, T0).unwrap();
        ws.record_sync(d, &SyncReport::default(), T0).unwrap();
    }
    ws
}
