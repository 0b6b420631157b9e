//! Syncing: what a device reports, what it receives, when it is due (R-SY-1).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::Workspace;
use crate::{
    AuditEvent, DeviceId, DeviceState, LicenseId, ModelError, OsVersion, PolicyId, PolicySettings,
    ProtectionStatus,
};

/// What a device reports when it syncs (R-SY-1, R-DV-1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// The OS version now running, if it changed or is reported.
    pub os_version: Option<OsVersion>,
    /// The protection status.
    pub protection: ProtectionStatus,
}

/// A policy the device must apply because it has not got this version yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDelivery {
    /// The policy.
    pub policy: PolicyId,
    /// Its version.
    pub version: u32,
    /// Its settings.
    pub settings: PolicySettings,
}

/// Why a managed device did not get the license its policy names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseProblem {
    /// All seats are taken.
    NoFreeSeat,
    /// The license has expired.
    Expired,
    /// The license is not deployed automatically and was not deployed to this device.
    AwaitingDeployment,
}

/// What a sync gives the device (R-SY-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncOutcome {
    /// The policy to apply, when the device does not have its current version.
    pub policy: Option<PolicyDelivery>,
    /// The license the device holds after this sync.
    pub license: Option<LicenseId>,
    /// Why the policy's license did not reach the device, if it did not.
    pub license_problem: Option<LicenseProblem>,
    /// When the next sync is due.
    #[serde(with = "time::serde::rfc3339")]
    pub next_sync_due: OffsetDateTime,
}

impl Workspace {
    /// Records a sync of a connected device at `now` with its report, and
    /// answers what it must receive: the policy of its group if its version
    /// changed, and its license — deployed now when the license is deployed
    /// automatically and a seat is free (R-SY-1, R-LI-1). Unassigned devices
    /// receive neither (R-GR-1).
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`], [`ModelError::IllegalTransition`] unless
    /// the device is connected or managed.
    pub fn record_sync(
        &mut self,
        device: DeviceId,
        report: &SyncReport,
        now: OffsetDateTime,
    ) -> Result<SyncOutcome, ModelError> {
        self.expect_state(
            device,
            "sync",
            &[DeviceState::Connected, DeviceState::Managed],
        )?;
        let policy = self.effective_policy(device).map(|p| PolicyDelivery {
            policy: p.id,
            version: p.version,
            settings: p.settings,
        });
        let interval = policy.map_or(Self::DEFAULT_SYNC_INTERVAL, |p| p.settings.sync_interval);
        // Computed before anything changes, so an absurd `now` changes nothing.
        let next_sync_due = now
            .checked_add(interval)
            .ok_or(ModelError::TimeOutOfRange {
                what: "next sync",
                now,
            })?;
        let license_problem = match policy.and_then(|p| p.settings.license) {
            Some(license) => self.auto_deploy(license, device, now)?,
            None => None,
        };
        let d = self.device_mut(device)?;
        d.last_sync = Some(now);
        d.syncs = d.syncs.saturating_add(1);
        d.protection = report.protection;
        if let Some(v) = report.os_version {
            d.os_version = v;
        }
        let license = d.license;
        let delivery = policy.filter(|p| d.applied_policy != Some((p.policy, p.version)));
        if let Some(p) = delivery {
            d.applied_policy = Some((p.policy, p.version));
            self.log(
                now,
                AuditEvent::PolicyApplied {
                    device,
                    policy: p.policy,
                    version: p.version,
                },
            );
        }
        self.schedule_sync(device, Some(next_sync_due))?;
        Ok(SyncOutcome {
            policy: delivery,
            license,
            license_problem,
            next_sync_due,
        })
    }

    /// How often a device without a policy syncs (R-PO-1's default).
    pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::hours(6);

    /// Connected devices whose sync was due more than `grace` before `now`,
    /// most overdue first.
    pub fn overdue_devices(
        &self,
        now: OffsetDateTime,
        grace: Duration,
    ) -> impl Iterator<Item = DeviceId> + use<> {
        let cutoff = (now - grace).unix_timestamp_nanos();
        self.due_when(move |due| due < cutoff)
    }

    /// Connected devices whose sync is due at or before `now`, soonest first.
    pub fn devices_due(&self, now: OffsetDateTime) -> impl Iterator<Item = DeviceId> + use<> {
        let now = now.unix_timestamp_nanos();
        self.due_when(move |due| due <= now)
    }

    /// Connected devices whose due time (Unix nanoseconds) passes `keep`,
    /// soonest first, ties by id.
    ///
    /// A scan, not an index: an index of due times would move an entry on
    /// every sync (millions in a fleet simulation, each a `BTreeSet` removal
    /// and insertion on the path every sync takes), to serve a question an
    /// administrator asks now and then. The scan reads each device once.
    fn due_when<F: Fn(i128) -> bool>(&self, keep: F) -> impl Iterator<Item = DeviceId> + use<F> {
        let mut due: Vec<(i128, DeviceId)> = self
            .data
            .devices
            .iter()
            .filter(|d| d.state.is_connected())
            .filter_map(|d| Some((d.next_sync_due?.unix_timestamp_nanos(), d.id)))
            .filter(|&(at, _)| keep(at))
            .collect();
        due.sort_unstable();
        due.into_iter().map(|(_, device)| device)
    }

    fn auto_deploy(
        &mut self,
        license: LicenseId,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<Option<LicenseProblem>, ModelError> {
        if self.device(device)?.license == Some(license) {
            return Ok(None);
        }
        if !self.license(license)?.deploy_automatically {
            return Ok(Some(LicenseProblem::AwaitingDeployment));
        }
        match self.deploy_license(license, device, now) {
            Ok(()) => Ok(None),
            Err(ModelError::NoFreeSeat { .. }) => Ok(Some(LicenseProblem::NoFreeSeat)),
            Err(ModelError::LicenseExpired(_)) => Ok(Some(LicenseProblem::Expired)),
            Err(other) => Err(other),
        }
    }
}
