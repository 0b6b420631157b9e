//! The workspace: one tenant, the aggregate that owns everything else (R-WS-1).

mod agents;
mod apple;
mod changes;
mod client_certificate;
mod devices;
mod enrollment;
mod groups;
mod index;
mod invariants;
mod policies;
mod stored_values;
mod sync;
mod users;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Duration, OffsetDateTime};

use crate::{
    ApnsCertificateRecord, AuditEvent, AuditRecord, Device, DeviceId, Group, GroupId,
    IdentificationNumber, Invitation, InvitationId, License, LicenseId, ModelError, Policy,
    PolicyId, User, UserId,
};

pub use agents::{AgentProof, AgentRefusal, AgentRequestRefusal};
pub use apple::AppleRefusal;
pub use changes::ChangeSet;
pub use client_certificate::ClientCertificateRefusal;
pub use invariants::{Invariant, InvariantViolation};
pub use sync::{LicenseProblem, PolicyDelivery, SyncOutcome, SyncReport};
pub use users::{InstructionOutcome, UserSummary};

use changes::{Kind, Tracker};
use index::Indexes;

/// Settings of a workspace that change how its rules apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSettings {
    /// How long an invitation stays usable; 14 days by default.
    #[serde(with = "crate::policy::seconds")]
    pub invitation_validity: Duration,
    /// Whether only devices registered by identification number may enroll (R-IN-5).
    pub require_registration: bool,
    /// A group that devices move to automatically once connected (an admin's
    /// moving rule, seed 003 §6.1); `None` leaves them in *Unassigned devices*.
    pub auto_move_to: Option<GroupId>,
}

impl WorkspaceSettings {
    /// Shortest invitation validity accepted.
    pub const MIN_INVITATION_VALIDITY: Duration = Duration::HOUR;
    /// Longest invitation validity accepted (a year).
    pub const MAX_INVITATION_VALIDITY: Duration = Duration::days(365);

    pub(crate) fn check(&self) -> Result<(), ModelError> {
        if self.invitation_validity < Self::MIN_INVITATION_VALIDITY
            || self.invitation_validity > Self::MAX_INVITATION_VALIDITY
        {
            return Err(ModelError::InvalidPolicySetting {
                setting: "invitation_validity",
                reason: "must be between one hour and 365 days",
            });
        }
        Ok(())
    }
}

impl Default for WorkspaceSettings {
    fn default() -> Self {
        Self {
            invitation_validity: Duration::days(14),
            require_registration: false,
            auto_move_to: None,
        }
    }
}

/// Everything a workspace stores; the indexes are rebuilt from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkspaceData {
    pub(crate) name: Box<str>,
    pub(crate) company: Box<str>,
    pub(crate) country: Option<Box<str>>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    pub(crate) settings: WorkspaceSettings,
    pub(crate) apns_certificate: Option<ApnsCertificateRecord>,
    pub(crate) users: Vec<User>,
    pub(crate) groups: Vec<Group>,
    pub(crate) devices: Vec<Device>,
    pub(crate) invitations: Vec<Invitation>,
    pub(crate) policies: Vec<Policy>,
    pub(crate) licenses: Vec<License>,
    pub(crate) registrations: BTreeMap<IdentificationNumber, UserId>,
    pub(crate) audit: Vec<AuditRecord>,
}

/// One tenant (company): its users, groups, devices, invitations, policies,
/// licenses, and the record of its APNs certificate (R-WS-1).
///
/// Every operation that changes state takes `now` and writes the
/// [audit log](Workspace::audit_log). Lookups by device, user, group and
/// invitation token are indexed, so per-device operations stay O(1) or
/// O(log n) with a million devices.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub(crate) data: WorkspaceData,
    pub(crate) index: Indexes,
    /// What changed since the last commit to a store (off unless tracked).
    pub(crate) changes: Tracker,
}

impl Workspace {
    /// The built-in group *Unassigned devices*, where connected devices land (R-GR-1).
    pub const UNASSIGNED: GroupId = GroupId::from_index(0);
    /// The built-in group *Managed devices*, root of all managed groups (R-GR-1).
    pub const MANAGED: GroupId = GroupId::from_index(1);
    /// The most entities of one kind a workspace holds.
    pub const MAX_ENTITIES: usize = u32::MAX as usize;

    /// A new, empty workspace with the two built-in groups.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`] when the name or company is empty, and
    /// [`ModelError::InvalidPolicySetting`] for a country that is not two letters.
    pub fn new(
        name: &str,
        company: &str,
        country: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Self, ModelError> {
        crate::user::check_name("workspace name", name)?;
        crate::user::check_name("company name", company)?;
        let country = match country {
            Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase().into())
            }
            Some(_) => {
                return Err(ModelError::InvalidName {
                    what: "country",
                    reason: "it must be an ISO 3166 two-letter code",
                });
            }
            None => None,
        };
        let builtin = |id: GroupId, name: &str| Group {
            id,
            name: name.into(),
            parent: None,
            active_policy: None,
            policies: Vec::new(),
            members: std::collections::BTreeSet::new(),
        };
        let data = WorkspaceData {
            name: name.into(),
            company: company.into(),
            country,
            created_at: now,
            settings: WorkspaceSettings::default(),
            apns_certificate: None,
            users: Vec::new(),
            groups: vec![
                builtin(Self::UNASSIGNED, "Unassigned devices"),
                builtin(Self::MANAGED, "Managed devices"),
            ],
            devices: Vec::new(),
            invitations: Vec::new(),
            policies: Vec::new(),
            licenses: Vec::new(),
            registrations: BTreeMap::new(),
            audit: Vec::new(),
        };
        Ok(Self {
            data,
            index: Indexes::default(),
            changes: Tracker::default(),
        })
    }

    /// The workspace's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.data.name
    }

    /// The company, prefilled into the APNs certificate request (R-AP-1).
    #[must_use]
    pub fn company(&self) -> &str {
        &self.data.company
    }

    /// The ISO 3166 country code, prefilled into the APNs certificate request (R-AP-1).
    #[must_use]
    pub fn country(&self) -> Option<&str> {
        self.data.country.as_deref()
    }

    /// The workspace's settings.
    #[must_use]
    pub fn settings(&self) -> &WorkspaceSettings {
        &self.data.settings
    }

    /// Changes the workspace's settings.
    ///
    /// # Errors
    /// [`ModelError::UnknownGroup`] or [`ModelError::GroupRule`] when
    /// `auto_move_to` is not a managed group; [`ModelError::InvalidPolicySetting`]
    /// when the invitation validity is not between one hour and
    /// [`WorkspaceSettings::MAX_INVITATION_VALIDITY`].
    pub fn set_settings(
        &mut self,
        settings: WorkspaceSettings,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.check_settings_values(&settings)?;
        self.data.settings = settings;
        self.mark_header();
        self.log(
            now,
            AuditEvent::SettingChanged {
                setting: "settings".into(),
            },
        );
        Ok(())
    }

    /// The record of the workspace's APNs certificate, if one was uploaded.
    #[must_use]
    pub fn apns_certificate(&self) -> Option<&ApnsCertificateRecord> {
        self.data.apns_certificate.as_ref()
    }

    /// Records the workspace's APNs certificate, replacing the previous one
    /// (R-WS-1: at most one). Checking that the file belongs to this workspace
    /// is `mdm-certs`' intake; this only stores the facts.
    pub fn set_apns_certificate(&mut self, record: ApnsCertificateRecord, now: OffsetDateTime) {
        let topic = record.topic().clone();
        self.data.apns_certificate = Some(record);
        self.mark_apns();
        self.log(now, AuditEvent::ApnsCertificateSet { topic });
    }

    /// Every state change so far, oldest first.
    #[must_use]
    pub fn audit_log(&self) -> &[AuditRecord] {
        &self.data.audit
    }

    /// A user by id.
    ///
    /// # Errors
    /// [`ModelError::UnknownUser`].
    pub fn user(&self, id: UserId) -> Result<&User, ModelError> {
        self.data
            .users
            .get(id.index())
            .ok_or(ModelError::UnknownUser(id))
    }

    /// A group by id.
    ///
    /// # Errors
    /// [`ModelError::UnknownGroup`].
    pub fn group(&self, id: GroupId) -> Result<&Group, ModelError> {
        self.data
            .groups
            .get(id.index())
            .ok_or(ModelError::UnknownGroup(id))
    }

    /// A device by id.
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`].
    pub fn device(&self, id: DeviceId) -> Result<&Device, ModelError> {
        self.data
            .devices
            .get(id.index())
            .ok_or(ModelError::UnknownDevice(id))
    }

    /// An invitation by id.
    ///
    /// # Errors
    /// [`ModelError::UnknownInvitation`].
    pub fn invitation(&self, id: InvitationId) -> Result<&Invitation, ModelError> {
        self.data
            .invitations
            .get(id.index())
            .ok_or(ModelError::UnknownInvitation(id))
    }

    /// A policy by id.
    ///
    /// # Errors
    /// [`ModelError::UnknownPolicy`].
    pub fn policy(&self, id: PolicyId) -> Result<&Policy, ModelError> {
        self.data
            .policies
            .get(id.index())
            .ok_or(ModelError::UnknownPolicy(id))
    }

    /// A license by id.
    ///
    /// # Errors
    /// [`ModelError::UnknownLicense`].
    pub fn license(&self, id: LicenseId) -> Result<&License, ModelError> {
        self.data
            .licenses
            .get(id.index())
            .ok_or(ModelError::UnknownLicense(id))
    }

    /// All users, in id order.
    #[must_use]
    pub fn users(&self) -> &[User] {
        &self.data.users
    }
    /// All groups, in id order.
    #[must_use]
    pub fn groups(&self) -> &[Group] {
        &self.data.groups
    }
    /// All devices ever enrolled, in id order (wiped and retired included).
    #[must_use]
    pub fn devices(&self) -> &[Device] {
        &self.data.devices
    }
    /// All invitations, in id order.
    #[must_use]
    pub fn invitations(&self) -> &[Invitation] {
        &self.data.invitations
    }
    /// All policies, in id order.
    #[must_use]
    pub fn policies(&self) -> &[Policy] {
        &self.data.policies
    }
    /// All licenses, in id order.
    #[must_use]
    pub fn licenses(&self) -> &[License] {
        &self.data.licenses
    }

    pub(crate) fn log(&mut self, at: OffsetDateTime, event: AuditEvent) {
        self.data.audit.push(AuditRecord { at, event });
    }

    pub(crate) fn next_id(len: usize, what: &'static str) -> Result<usize, ModelError> {
        if len >= Self::MAX_ENTITIES {
            Err(ModelError::CapacityExceeded {
                what,
                max: Self::MAX_ENTITIES,
            })
        } else {
            Ok(len)
        }
    }

    fn from_data(data: WorkspaceData) -> Result<Self, ModelError> {
        Self::checked(data).map_err(ModelError::CorruptedFile)
    }

    /// A workspace from its stored data, with every index rebuilt and every
    /// stored value checked (a JSON load and a store's load alike).
    pub(crate) fn checked(data: WorkspaceData) -> Result<Self, String> {
        let mut workspace = Self {
            data,
            index: Indexes::default(),
            changes: Tracker::default(),
        };
        workspace.rebuild_indexes()?;
        workspace.check_stored_values()?;
        Ok(workspace)
    }
}

impl PartialEq for Workspace {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl Eq for Workspace {}

impl Serialize for Workspace {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.data.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Workspace {
    /// Reads the stored form and rebuilds (and so checks) every index.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let data = WorkspaceData::deserialize(deserializer)?;
        Self::from_data(data).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod state_machine;
