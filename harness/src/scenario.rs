//! Scenarios: small, readable descriptions of a fleet's month — its faults
//! and the administrator's timeline. The engine has no special path per
//! scenario; it only reads these.

use serde::Serialize;

/// What goes wrong, and how often. Probabilities are per opportunity (per
/// device, per message, per invitation), drawn from the run's seed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Faults {
    /// Share of devices that are off the network for one long spell.
    pub long_offline_share: f64,
    /// Length of that spell, in days.
    pub long_offline_days: u32,
    /// Chance that a device is offline at a given sync (short spells).
    pub offline_chance: f64,
    /// Chance that a message (sync, check-in, command report) is lost on the way.
    pub drop_chance: f64,
    /// Chance that a message is delivered twice.
    pub duplicate_chance: f64,
    /// Chance that a user also opens their link on a second device (reuse).
    pub reuse_invitation_chance: f64,
    /// Chance that a user acts only after the invitation expired.
    pub late_user_chance: f64,
    /// Share of Android agents installed through KNOX or another EMM.
    pub emm_install_share: f64,
    /// Chance that an Apple check-in arrives malformed.
    pub malformed_checkin_chance: f64,
    /// Chance that an Apple device answers a command with `NotNow`.
    pub not_now_chance: f64,
    /// Chance that an Apple device answers a command with `Error`.
    pub command_error_chance: f64,
}

impl Faults {
    /// A well-behaved fleet: devices are mostly online, nothing is lost.
    pub const CALM: Faults = Faults {
        long_offline_share: 0.0,
        long_offline_days: 0,
        offline_chance: 0.02,
        drop_chance: 0.0,
        duplicate_chance: 0.0,
        reuse_invitation_chance: 0.0,
        late_user_chance: 0.0,
        emm_install_share: 0.0,
        malformed_checkin_chance: 0.0,
        not_now_chance: 0.05,
        command_error_chance: 0.01,
    };
}

/// Something the administrator does on a day of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum AdminAction {
    /// Issue a reserve server certificate that activates `activation_days` later (R-SV-1).
    IssueReserveServerCertificate {
        /// Days from issuance to activation.
        activation_days: u32,
    },
    /// Renew the APNs certificate through the CSR / vendor / portal flow (R-AP-4).
    RenewApnsCertificate {
        /// Whether the portal keeps the topic (a proper renewal) or the
        /// administrator ends up with a new one (e.g. another Apple ID).
        keep_topic: bool,
    },
    /// Try to upload a push certificate made for another workspace (R-AP-2).
    UploadForeignApnsCertificate,
    /// Queue a command for every enrolled Apple device.
    QueueAppleCommand {
        /// Which command.
        command: FleetCommand,
    },
    /// Queue a command for every connected Android device.
    QueueAndroidCommand {
        /// Which command.
        command: FleetCommand,
    },
    /// Remotely wipe a share of the enrolled devices (`EraseDevice` for Apple,
    /// `WIPE` for Android): each leaves management and must enroll again (R-WP-1).
    WipeDevices {
        /// Percent of enrolled devices, chosen by the seed.
        percent: u8,
    },
}

/// Commands the administrator sends to a whole platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetCommand {
    /// Ask for device information.
    DeviceInformation,
    /// Ask for the security state.
    SecurityInfo,
    /// Lock the device.
    DeviceLock,
    /// Scan now (Android).
    ScanNow,
}

/// A scenario: a name, one line of what it shows, faults, and a timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    /// The name given to `--scenario`.
    pub name: &'static str,
    /// One line of what it shows.
    pub summary: &'static str,
    /// Days simulated when `--days` is not given.
    pub default_days: u32,
    /// What goes wrong.
    pub faults: Faults,
    /// The administrator's actions, by day of the run.
    pub timeline: Vec<(u32, AdminAction)>,
    /// Days from the run's start until the first APNs certificate expires.
    pub apns_expires_after_days: u32,
}

/// Every scenario the harness knows, in the order `mdm-harness scenarios` lists them.
#[must_use]
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "baseline",
            summary: "a calm month: invitations, enrollment on every path, syncs, definitions updates, a few commands",
            default_days: 30,
            faults: Faults::CALM,
            timeline: vec![
                (
                    2,
                    AdminAction::QueueAppleCommand {
                        command: FleetCommand::DeviceInformation,
                    },
                ),
                (
                    9,
                    AdminAction::QueueAndroidCommand {
                        command: FleetCommand::ScanNow,
                    },
                ),
                (
                    16,
                    AdminAction::QueueAppleCommand {
                        command: FleetCommand::SecurityInfo,
                    },
                ),
            ],
            apns_expires_after_days: 300,
        },
        Scenario {
            name: "cert-rotation",
            summary: "a reserve server certificate issued on day 5 activates on day 35; Android devices that did not sync in between are lost",
            default_days: 45,
            faults: Faults {
                long_offline_share: 0.04,
                long_offline_days: 40,
                ..Faults::CALM
            },
            timeline: vec![(
                5,
                AdminAction::IssueReserveServerCertificate {
                    activation_days: 30,
                },
            )],
            apns_expires_after_days: 300,
        },
        Scenario {
            name: "apns-renewal",
            summary: "the push certificate is renewed on day 10, before it expires on day 20, keeping its topic: no device is lost",
            default_days: 30,
            faults: Faults::CALM,
            timeline: vec![
                (10, AdminAction::RenewApnsCertificate { keep_topic: true }),
                (
                    22,
                    AdminAction::QueueAppleCommand {
                        command: FleetCommand::DeviceInformation,
                    },
                ),
            ],
            apns_expires_after_days: 20,
        },
        Scenario {
            name: "apns-new-topic",
            summary: "the push certificate is replaced on day 10 by one with a different topic: every enrolled Apple device is stranded",
            default_days: 30,
            faults: Faults::CALM,
            timeline: vec![
                (10, AdminAction::RenewApnsCertificate { keep_topic: false }),
                (
                    12,
                    AdminAction::QueueAppleCommand {
                        command: FleetCommand::DeviceInformation,
                    },
                ),
            ],
            apns_expires_after_days: 20,
        },
        Scenario {
            name: "chaos",
            summary: "offline spells, lost and duplicated messages, reused and expired invitations, a foreign APNs certificate, malformed check-ins, EMM installs, remote wipes",
            default_days: 30,
            faults: Faults {
                long_offline_share: 0.03,
                long_offline_days: 10,
                offline_chance: 0.15,
                drop_chance: 0.05,
                duplicate_chance: 0.05,
                reuse_invitation_chance: 0.05,
                late_user_chance: 0.04,
                emm_install_share: 0.04,
                malformed_checkin_chance: 0.03,
                not_now_chance: 0.2,
                command_error_chance: 0.05,
            },
            timeline: vec![
                (3, AdminAction::UploadForeignApnsCertificate),
                (
                    4,
                    AdminAction::QueueAppleCommand {
                        command: FleetCommand::DeviceLock,
                    },
                ),
                (
                    6,
                    AdminAction::QueueAndroidCommand {
                        command: FleetCommand::DeviceLock,
                    },
                ),
                (8, AdminAction::WipeDevices { percent: 3 }),
                (
                    12,
                    AdminAction::QueueAppleCommand {
                        command: FleetCommand::DeviceInformation,
                    },
                ),
            ],
            apns_expires_after_days: 300,
        },
    ]
}

/// The scenario with this name.
#[must_use]
pub fn find(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_findable() {
        let all = all();
        for s in &all {
            assert_eq!(find(s.name).as_ref(), Some(s));
            assert!(s.timeline.iter().all(|(day, _)| *day < s.default_days));
        }
        let mut names: Vec<_> = all.iter().map(|s| s.name).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(find("nope").is_none());
    }
}
