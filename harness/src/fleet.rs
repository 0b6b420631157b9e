//! The fleet: who the users are and how each device will behave, drawn from
//! the seed before the run starts.

use mdm_model::{InstallSource, Platform};
use serde::Serialize;

use crate::draw::{self, Purpose};
use crate::{Faults, SimTime};

/// The shape of a fleet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FleetSpec {
    /// How many devices.
    pub devices: u32,
    /// Share of Android devices (the rest split between iPhone and iPad).
    pub android_share: f64,
    /// Share of iPhones.
    pub iphone_share: f64,
    /// Devices per user, on average (a user with two devices needs two invitations).
    pub devices_per_user: f64,
    /// Share of users without an e-mail address (they cannot be invited, R-US-1).
    pub users_without_email: f64,
    /// Share of Android devices installed from a plain APK (the rest from the
    /// standalone package, apart from EMM installs).
    pub plain_apk_share: f64,
    /// Mean time from a message to the user opening its link, in hours.
    pub mean_reaction_hours: f64,
    /// Days over which the administrator sends the invitations.
    pub invitation_days: u32,
}

impl FleetSpec {
    /// The default mix: 60 % Android, 30 % iPhone, 10 % iPad.
    #[must_use]
    pub fn new(devices: u32) -> Self {
        Self {
            devices,
            android_share: 0.6,
            iphone_share: 0.3,
            devices_per_user: 1.25,
            users_without_email: 0.02,
            plain_apk_share: 0.25,
            mean_reaction_hours: 10.0,
            invitation_days: 3,
        }
    }

    /// How many users the fleet has.
    #[must_use]
    pub fn users(&self) -> u32 {
        // A ratio of small positive numbers: the result fits.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let users = (f64::from(self.devices) / self.devices_per_user.max(1.0)).ceil() as u32;
        users.max(1)
    }
}

/// How one simulated device will behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevicePlan {
    /// Android, iPhone or iPad.
    pub platform: Platform,
    /// The index of its user.
    pub user: u32,
    /// How it gets its agent or profile.
    pub install: InstallSource,
    /// When the invitation message is sent.
    pub invited_at: SimTime,
    /// Seconds from the message to the user opening the link.
    pub reaction_secs: u32,
    /// Seconds a sync comes late, at most.
    pub jitter_secs: u32,
    /// A long spell off the network, if any.
    pub offline: Option<(SimTime, SimTime)>,
    /// The user also opens the link on a second device (reuse).
    pub reuses_invitation: bool,
}

impl DevicePlan {
    /// Draws the plan of device `index` of a fleet.
    #[must_use]
    pub fn draw(
        seed: u64,
        index: u32,
        spec: &FleetSpec,
        faults: &Faults,
        validity_secs: u32,
    ) -> Self {
        let mut rng = draw::stream(seed, index, Purpose::Plan);
        let p = draw::unit(&mut rng);
        let platform = if p < spec.android_share {
            Platform::Android
        } else if p < spec.android_share + spec.iphone_share {
            Platform::IOs
        } else {
            Platform::IPadOs
        };
        let install = if platform.is_apple() {
            InstallSource::EnrollmentProfile
        } else if draw::chance(&mut rng, faults.emm_install_share) {
            if draw::chance(&mut rng, 0.5) {
                InstallSource::KnoxMobileEnrollment
            } else {
                InstallSource::ThirdPartyEmm
            }
        } else if draw::chance(&mut rng, spec.plain_apk_share) {
            InstallSource::PlainApk
        } else {
            InstallSource::StandalonePackage
        };
        let invited_at = SimTime(draw::between(
            &mut rng,
            0,
            spec.invitation_days.max(1) * 86_400,
        ));
        let week = 7 * 86_400;
        let mut reaction_secs =
            draw::exponential_secs(&mut rng, spec.mean_reaction_hours * 3600.0, week);
        if draw::chance(&mut rng, faults.late_user_chance) {
            reaction_secs = validity_secs.saturating_add(draw::between(&mut rng, 3600, 86_400));
        }
        let offline = draw::chance(&mut rng, faults.long_offline_share).then(|| {
            let start = SimTime(draw::between(&mut rng, 2 * 86_400, 4 * 86_400));
            (start, start.after(faults.long_offline_days * 86_400))
        });
        Self {
            platform,
            user: draw::between(&mut rng, 0, spec.users()),
            install,
            invited_at,
            reaction_secs,
            jitter_secs: draw::between(&mut rng, 0, 20 * 60),
            offline,
            reuses_invitation: draw::chance(&mut rng, faults.reuse_invitation_chance),
        }
    }

    /// Whether the device is in its long offline spell at `t`.
    #[must_use]
    pub fn offline_at(&self, t: SimTime) -> bool {
        self.offline.is_some_and(|(from, to)| from <= t && t < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_follow_the_mix_and_are_reproducible() {
        let spec = FleetSpec::new(10_000);
        let faults = Faults::CALM;
        let plans: Vec<_> = (0..10_000)
            .map(|i| DevicePlan::draw(5, i, &spec, &faults, 14 * 86_400))
            .collect();
        assert_eq!(
            plans[17],
            DevicePlan::draw(5, 17, &spec, &faults, 14 * 86_400)
        );
        let android = plans
            .iter()
            .filter(|p| p.platform == Platform::Android)
            .count();
        let ipad = plans
            .iter()
            .filter(|p| p.platform == Platform::IPadOs)
            .count();
        assert!((5_700..6_300).contains(&android), "{android}");
        assert!((800..1_200).contains(&ipad), "{ipad}");
        assert!(plans.iter().all(|p| p.user < spec.users()));
        assert!(plans.iter().all(|p| p.install.is_manageable()));
        assert!(
            plans
                .iter()
                .all(|p| p.platform.is_apple() == (p.install == InstallSource::EnrollmentProfile))
        );
    }
}
