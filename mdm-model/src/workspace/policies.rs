//! Policies and licenses (R-PO-1, R-PO-2, R-LI-1).

use time::OffsetDateTime;

use super::{Kind, Workspace};
use crate::user::check_name;
use crate::{
    ActivationCode, AuditEvent, DeviceId, DeviceState, GroupId, License, LicenseId, ModelError,
    Policy, PolicyId, PolicySettings,
};

impl Workspace {
    /// Creates a policy targeted at a managed group. The first policy of a
    /// group becomes its active one (R-PO-2). *Unassigned devices* takes no
    /// policy (R-GR-1).
    ///
    /// # Errors
    /// [`ModelError::GroupRule`] for *Unassigned devices*, [`ModelError::UnknownGroup`],
    /// [`ModelError::UnknownLicense`], [`ModelError::InvalidPolicySetting`], [`ModelError::InvalidName`].
    pub fn add_policy(
        &mut self,
        name: &str,
        group: GroupId,
        settings: PolicySettings,
        now: OffsetDateTime,
    ) -> Result<PolicyId, ModelError> {
        check_name("policy name", name)?;
        self.group(group)?;
        if !self.is_managed_group(group) {
            return Err(ModelError::GroupRule {
                group,
                reason: "unassigned devices get no policy",
            });
        }
        self.check_policy_settings(&settings)?;
        let id = PolicyId::from_index(Self::next_id(self.data.policies.len(), "policies")?);
        self.mark(Kind::Group, group.index());
        self.data.policies.push(Policy {
            id,
            name: name.into(),
            group,
            settings,
            version: 1,
        });
        let g = self
            .data
            .groups
            .get_mut(group.index())
            .ok_or(ModelError::UnknownGroup(group))?;
        g.policies.push(id);
        let first = g.active_policy.is_none();
        if first {
            g.active_policy = Some(id);
        }
        self.log(now, AuditEvent::PolicyCreated { policy: id, group });
        if first {
            self.log(now, AuditEvent::PolicyActivated { policy: id });
        }
        Ok(id)
    }

    /// Changes a policy's settings; its version goes up, so devices receive it
    /// again on their next sync.
    ///
    /// # Errors
    /// [`ModelError::UnknownPolicy`], [`ModelError::UnknownLicense`], [`ModelError::InvalidPolicySetting`].
    pub fn update_policy(
        &mut self,
        policy: PolicyId,
        settings: PolicySettings,
        now: OffsetDateTime,
    ) -> Result<u32, ModelError> {
        self.policy(policy)?;
        self.check_policy_settings(&settings)?;
        self.mark(Kind::Policy, policy.index());
        let p = self
            .data
            .policies
            .get_mut(policy.index())
            .ok_or(ModelError::UnknownPolicy(policy))?;
        p.settings = settings;
        p.version = p.version.saturating_add(1);
        let version = p.version;
        self.log(now, AuditEvent::PolicyUpdated { policy, version });
        Ok(version)
    }

    /// Makes a policy the active one of its group (R-PO-2).
    ///
    /// # Errors
    /// [`ModelError::UnknownPolicy`].
    pub fn activate_policy(
        &mut self,
        policy: PolicyId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        let group = self.policy(policy)?.group;
        self.mark(Kind::Group, group.index());
        let g = self
            .data
            .groups
            .get_mut(group.index())
            .ok_or(ModelError::UnknownGroup(group))?;
        g.active_policy = Some(policy);
        self.log(now, AuditEvent::PolicyActivated { policy });
        Ok(())
    }

    /// Activates a license by its code, with a number of seats and an expiry;
    /// with `deploy_automatically` it reaches managed devices on their next
    /// sync, otherwise [`deploy_license`](Self::deploy_license) is needed (R-LI-1).
    ///
    /// # Errors
    /// [`ModelError::DuplicateActivationCode`], [`ModelError::InvalidPolicySetting`]
    /// for zero seats or an expiry not after `now`.
    pub fn activate_license(
        &mut self,
        code: ActivationCode,
        seats: u32,
        expires_at: OffsetDateTime,
        deploy_automatically: bool,
        now: OffsetDateTime,
    ) -> Result<LicenseId, ModelError> {
        if seats == 0 {
            return Err(ModelError::InvalidPolicySetting {
                setting: "seats",
                reason: "a license needs at least one seat",
            });
        }
        if expires_at <= now {
            return Err(ModelError::InvalidPolicySetting {
                setting: "expires_at",
                reason: "the license is already expired",
            });
        }
        if let Some(existing) = self.data.licenses.iter().find(|l| l.code == code) {
            return Err(ModelError::DuplicateActivationCode(existing.id));
        }
        let id = LicenseId::from_index(Self::next_id(self.data.licenses.len(), "licenses")?);
        self.data.licenses.push(License {
            id,
            code,
            seats,
            expires_at,
            deploy_automatically,
            in_use: 0,
        });
        self.log(now, AuditEvent::LicenseActivated { license: id });
        Ok(id)
    }

    /// Gives a managed device a seat of a license (the explicit deployment
    /// step of R-LI-1). Never more devices than seats.
    ///
    /// # Errors
    /// [`ModelError::IllegalTransition`] unless the device is managed,
    /// [`ModelError::LicenseExpired`], [`ModelError::NoFreeSeat`].
    pub fn deploy_license(
        &mut self,
        license: LicenseId,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.expect_state(device, "receive a license", &[DeviceState::Managed])?;
        let l = self.license(license)?;
        if self.device(device)?.license == Some(license) {
            return Ok(());
        }
        if l.is_expired(now) {
            return Err(ModelError::LicenseExpired(license));
        }
        if l.in_use >= l.seats {
            return Err(ModelError::NoFreeSeat {
                license,
                seats: l.seats,
            });
        }
        self.release_license(device, now)?;
        if let Some(l) = self.data.licenses.get_mut(license.index()) {
            l.in_use += 1;
        }
        self.device_mut(device)?.license = Some(license);
        self.log(now, AuditEvent::LicenseDeployed { license, device });
        Ok(())
    }

    /// Takes back the device's license seat, if it holds one.
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`].
    pub fn release_license(
        &mut self,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        if let Some(license) = self.device_mut(device)?.license.take() {
            if let Some(l) = self.data.licenses.get_mut(license.index()) {
                l.in_use = l.in_use.saturating_sub(1);
            }
            self.log(now, AuditEvent::LicenseReleased { license, device });
        }
        Ok(())
    }

    pub(crate) fn check_policy_settings(
        &self,
        settings: &PolicySettings,
    ) -> Result<(), ModelError> {
        settings.check()?;
        if let Some(license) = settings.license {
            self.license(license)?;
        }
        Ok(())
    }
}
