//! Policies and their defaults (R-PO-1, R-PO-2).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time, Weekday};

use crate::{GroupId, LicenseId, ModelError, PolicyId};

/// Where anti-malware definitions come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateSource {
    /// The vendor's update servers (the default, R-PO-1).
    #[default]
    VendorServers,
    /// The workspace's administration server.
    AdministrationServer,
}

/// When anti-malware definitions are updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "every")]
pub enum UpdateSchedule {
    /// Never on a schedule (only on demand).
    Off,
    /// Every day at a time of day (device local time as UTC offset of `now`).
    Daily {
        /// Time of day.
        at: Time,
    },
    /// Once a week on a day at a time of day.
    Weekly {
        /// Day of the week.
        day: Weekday,
        /// Time of day.
        at: Time,
    },
}

impl Default for UpdateSchedule {
    /// Daily at 08:00 (R-PO-1).
    fn default() -> Self {
        UpdateSchedule::Daily {
            at: Time::from_hms(8, 0, 0).unwrap_or(Time::MIDNIGHT),
        }
    }
}

impl UpdateSchedule {
    /// The first scheduled update strictly after `now`, in `now`'s offset;
    /// `None` when off, or when that instant is past the calendar's end.
    #[must_use]
    pub fn next_after(self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            UpdateSchedule::Off => None,
            UpdateSchedule::Daily { at } => {
                let today = now.replace_time(at);
                if today > now {
                    Some(today)
                } else {
                    today.checked_add(Duration::DAY)
                }
            }
            UpdateSchedule::Weekly { day, at } => {
                let ahead = i64::from(
                    (day.number_days_from_monday() + 7 - now.weekday().number_days_from_monday())
                        % 7,
                );
                let candidate = now.replace_time(at).checked_add(Duration::days(ahead))?;
                if candidate > now {
                    Some(candidate)
                } else {
                    candidate.checked_add(Duration::WEEK)
                }
            }
        }
    }
}

/// What a scan looks for, beyond viruses (R-PO-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct ScanSettings {
    /// Detect adware.
    pub detect_adware: bool,
    /// Detect auto-dialers.
    pub detect_auto_dialers: bool,
    /// Detect riskware (legitimate software that can be misused).
    pub detect_riskware: bool,
    /// Scan installed apps as well as files.
    pub scan_apps: bool,
}

impl Default for ScanSettings {
    /// Adware, auto-dialers and riskware all detected (R-PO-1).
    fn default() -> Self {
        Self {
            detect_adware: true,
            detect_auto_dialers: true,
            detect_riskware: true,
            scan_apps: true,
        }
    }
}

/// What the agent does with a detected threat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreatAction {
    /// Move the object to quarantine (the default, R-PO-1).
    #[default]
    Quarantine,
    /// Delete the object.
    Delete,
    /// Only report it.
    Report,
}

/// The settings a policy carries to its devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicySettings {
    /// How often devices sync; 6 hours by default (R-PO-1, R-SY-1).
    #[serde(with = "seconds")]
    pub sync_interval: Duration,
    /// Where definitions come from.
    pub update_source: UpdateSource,
    /// When definitions are updated; daily at 08:00 by default.
    pub update_schedule: UpdateSchedule,
    /// What scans detect.
    pub scan: ScanSettings,
    /// What to do with a threat; quarantine by default.
    pub threat_action: ThreatAction,
    /// Run a scan after each definitions update; on by default.
    pub scan_after_update: bool,
    /// The license chosen for the policy's devices (R-PO-1, R-LI-1).
    pub license: Option<LicenseId>,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            sync_interval: Duration::hours(6),
            update_source: UpdateSource::default(),
            update_schedule: UpdateSchedule::default(),
            scan: ScanSettings::default(),
            threat_action: ThreatAction::default(),
            scan_after_update: true,
            license: None,
        }
    }
}

impl PolicySettings {
    /// Shortest sync interval accepted.
    pub const MIN_SYNC_INTERVAL: Duration = Duration::minutes(5);
    /// Longest sync interval accepted.
    pub const MAX_SYNC_INTERVAL: Duration = Duration::days(7);

    pub(crate) fn check(&self) -> Result<(), ModelError> {
        if self.sync_interval < Self::MIN_SYNC_INTERVAL
            || self.sync_interval > Self::MAX_SYNC_INTERVAL
        {
            return Err(ModelError::InvalidPolicySetting {
                setting: "sync_interval",
                reason: "must be between 5 minutes and 7 days",
            });
        }
        Ok(())
    }
}

/// A named set of settings targeted at a group (R-PO-2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub(crate) id: PolicyId,
    pub(crate) name: Box<str>,
    pub(crate) group: GroupId,
    pub(crate) settings: PolicySettings,
    /// Bumped on every change, so devices know whether to re-apply.
    pub(crate) version: u32,
}

impl Policy {
    /// The policy's id.
    #[must_use]
    pub fn id(&self) -> PolicyId {
        self.id
    }
    /// The policy's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The group it targets.
    #[must_use]
    pub fn group(&self) -> GroupId {
        self.group
    }
    /// Its settings.
    #[must_use]
    pub fn settings(&self) -> &PolicySettings {
        &self.settings
    }
    /// Its version, bumped on every change (starts at 1).
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }
}

pub(crate) mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.whole_seconds())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        i64::deserialize(d).map(Duration::seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    #[test]
    fn r_po_1_defaults() {
        let p = PolicySettings::default();
        assert_eq!(p.sync_interval, Duration::hours(6));
        assert_eq!(p.update_source, UpdateSource::VendorServers);
        assert_eq!(p.update_schedule, UpdateSchedule::Daily { at: time!(8:00) });
        assert!(p.scan.detect_adware && p.scan.detect_auto_dialers && p.scan.detect_riskware);
        assert_eq!(p.threat_action, ThreatAction::Quarantine);
        assert!(p.scan_after_update);
    }

    #[test]
    fn r_po_1_daily_update_is_next_8_am() {
        let s = UpdateSchedule::default();
        assert_eq!(
            s.next_after(datetime!(2026-11-28 07:00 UTC)),
            Some(datetime!(2026-11-28 08:00 UTC))
        );
        assert_eq!(
            s.next_after(datetime!(2026-11-28 08:00 UTC)),
            Some(datetime!(2026-11-29 08:00 UTC))
        );
        assert_eq!(
            UpdateSchedule::Off.next_after(datetime!(2026-11-28 08:00 UTC)),
            None
        );
    }

    #[test]
    fn weekly_update_lands_on_its_day() {
        let s = UpdateSchedule::Weekly {
            day: Weekday::Monday,
            at: time!(8:00),
        };
        // 2026-11-28 is a Saturday.
        assert_eq!(
            s.next_after(datetime!(2026-11-28 09:00 UTC)),
            Some(datetime!(2026-11-30 08:00 UTC))
        );
        assert_eq!(
            s.next_after(datetime!(2026-11-30 08:00 UTC)),
            Some(datetime!(2026-12-07 08:00 UTC))
        );
        assert_eq!(
            s.next_after(datetime!(2026-11-30 07:59 UTC)),
            Some(datetime!(2026-11-30 08:00 UTC))
        );
    }

    #[test]
    fn sync_interval_is_bounded() {
        for sync_interval in [Duration::minutes(1), Duration::days(8)] {
            let p = PolicySettings {
                sync_interval,
                ..PolicySettings::default()
            };
            assert!(p.check().is_err());
        }
    }
}
