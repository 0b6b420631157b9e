//! What each operation changed since the last commit, so a store writes only
//! that (issue #18: a sync of one device writes one row, not the fleet).
//!
//! Entities are never removed and ids are positions, so new entities are
//! simply those past the length last committed; existing ones are marked
//! where an operation takes them mutably (`device_mut` and its siblings).
//! The audit log only grows: its new records are those past the committed
//! length. Derived state (group members, license seats in use, indexes) is
//! rebuilt on load and never tracked.

use super::Workspace;
use crate::{DeviceId, GroupId, IdentificationNumber, InvitationId, LicenseId, PolicyId, UserId};

/// How many entities of each kind (and audit records) the store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lengths {
    pub(crate) users: usize,
    pub(crate) groups: usize,
    pub(crate) devices: usize,
    pub(crate) invitations: usize,
    pub(crate) policies: usize,
    pub(crate) licenses: usize,
    pub(crate) audit: usize,
}

impl Lengths {
    fn min(self, other: Self) -> Self {
        Self {
            users: self.users.min(other.users),
            groups: self.groups.min(other.groups),
            devices: self.devices.min(other.devices),
            invitations: self.invitations.min(other.invitations),
            policies: self.policies.min(other.policies),
            licenses: self.licenses.min(other.licenses),
            audit: self.audit.min(other.audit),
        }
    }
}

/// The kinds of entity an operation can change in place.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    User,
    Group,
    Device,
    Invitation,
    Policy,
}

/// The changes recorded since the last [`Workspace::take_changes`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Tracker {
    enabled: bool,
    committed: Lengths,
    users: Vec<u32>,
    groups: Vec<u32>,
    devices: Vec<u32>,
    invitations: Vec<u32>,
    policies: Vec<u32>,
    registrations: Vec<IdentificationNumber>,
    header: bool,
    apns: bool,
}

/// What changed in a workspace between two commits: the ids of the users,
/// groups, devices, invitations, policies and licenses to write (new or
/// changed, ascending), the registrations whose entry changed (written if
/// present, deleted if not), whether the workspace's own fields or its APNs
/// record changed, and the audit records appended.
///
/// A store's [`commit`](crate::WorkspaceStore::commit) writes exactly this, in
/// one transaction, reading the current values from the workspace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    base: Lengths,
    users: Vec<UserId>,
    groups: Vec<GroupId>,
    devices: Vec<DeviceId>,
    invitations: Vec<InvitationId>,
    policies: Vec<PolicyId>,
    licenses: Vec<LicenseId>,
    registrations: Vec<IdentificationNumber>,
    header: bool,
    apns: bool,
    audit: std::ops::Range<usize>,
}

impl ChangeSet {
    /// Users added or changed.
    #[must_use]
    pub fn users(&self) -> &[UserId] {
        &self.users
    }
    /// Groups added or changed (members are derived, not tracked).
    #[must_use]
    pub fn groups(&self) -> &[GroupId] {
        &self.groups
    }
    /// Devices enrolled or changed.
    #[must_use]
    pub fn devices(&self) -> &[DeviceId] {
        &self.devices
    }
    /// Invitations issued or changed.
    #[must_use]
    pub fn invitations(&self) -> &[InvitationId] {
        &self.invitations
    }
    /// Policies added or changed.
    #[must_use]
    pub fn policies(&self) -> &[PolicyId] {
        &self.policies
    }
    /// Licenses activated (seats in use are derived, not tracked).
    #[must_use]
    pub fn licenses(&self) -> &[LicenseId] {
        &self.licenses
    }
    /// Identification numbers registered or unregistered.
    #[must_use]
    pub fn registrations(&self) -> &[IdentificationNumber] {
        &self.registrations
    }
    /// Whether the workspace's name, company, country or settings changed.
    #[must_use]
    pub fn header_changed(&self) -> bool {
        self.header
    }
    /// Whether the APNs certificate record changed.
    #[must_use]
    pub fn apns_changed(&self) -> bool {
        self.apns
    }
    /// Positions in [`Workspace::audit_log`] of the records appended.
    #[must_use]
    pub fn audit(&self) -> std::ops::Range<usize> {
        self.audit.clone()
    }
    /// Whether nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.groups.is_empty()
            && self.devices.is_empty()
            && self.invitations.is_empty()
            && self.policies.is_empty()
            && self.licenses.is_empty()
            && self.registrations.is_empty()
            && !self.header
            && !self.apns
            && self.audit.is_empty()
    }
}

/// Marked ids below `committed`, plus every id from `committed` to `len`.
fn ids<T>(mut marked: Vec<u32>, committed: usize, len: usize, make: fn(usize) -> T) -> Vec<T> {
    marked.retain(|&i| (i as usize) < committed);
    marked.sort_unstable();
    marked.dedup();
    marked
        .into_iter()
        .map(|i| i as usize)
        .chain(committed..len)
        .map(make)
        .collect()
}

impl Workspace {
    /// Every entity, registration and audit record: what an import writes.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn everything(&self) -> ChangeSet {
        let d = &self.data;
        let all = Lengths::default();
        let now = self.lengths();
        ChangeSet {
            base: all,
            users: ids(Vec::new(), 0, now.users, UserId::from_index),
            groups: ids(Vec::new(), 0, now.groups, GroupId::from_index),
            devices: ids(Vec::new(), 0, now.devices, DeviceId::from_index),
            invitations: ids(Vec::new(), 0, now.invitations, InvitationId::from_index),
            policies: ids(Vec::new(), 0, now.policies, PolicyId::from_index),
            licenses: ids(Vec::new(), 0, now.licenses, LicenseId::from_index),
            registrations: d.registrations.keys().cloned().collect(),
            header: true,
            apns: true,
            audit: 0..now.audit,
        }
    }

    /// From now on, record what each operation changes, for a store's
    /// [`commit`](crate::WorkspaceStore::commit); everything the workspace
    /// holds now counts as committed. Stores call this on the workspace they
    /// load or import; an untracked workspace costs nothing extra.
    pub fn track_changes(&mut self) {
        self.changes = Tracker {
            enabled: true,
            committed: self.lengths(),
            ..Tracker::default()
        };
    }

    /// Whether [`track_changes`](Self::track_changes) is on.
    #[must_use]
    pub fn is_tracking_changes(&self) -> bool {
        self.changes.enabled
    }

    /// What changed since the last call (or since tracking started), and
    /// counts it as committed. Empty when tracking is off.
    pub fn take_changes(&mut self) -> ChangeSet {
        if !self.changes.enabled {
            return ChangeSet::default();
        }
        let now = self.lengths();
        let t = std::mem::replace(
            &mut self.changes,
            Tracker {
                enabled: true,
                committed: now,
                ..Tracker::default()
            },
        );
        let c = t.committed;
        let mut registrations = t.registrations;
        registrations.sort_unstable();
        registrations.dedup();
        ChangeSet {
            base: c,
            users: ids(t.users, c.users, now.users, UserId::from_index),
            groups: ids(t.groups, c.groups, now.groups, GroupId::from_index),
            devices: ids(t.devices, c.devices, now.devices, DeviceId::from_index),
            invitations: ids(
                t.invitations,
                c.invitations,
                now.invitations,
                InvitationId::from_index,
            ),
            policies: ids(t.policies, c.policies, now.policies, PolicyId::from_index),
            licenses: ids(Vec::new(), c.licenses, now.licenses, LicenseId::from_index),
            registrations,
            header: t.header,
            apns: t.apns,
            audit: c.audit..now.audit,
        }
    }

    /// Puts back changes a store failed to commit, so the next commit
    /// writes them again.
    pub fn restore_changes(&mut self, changes: ChangeSet) {
        if !self.changes.enabled {
            return;
        }
        let t = &mut self.changes;
        t.committed = t.committed.min(changes.base);
        t.users.extend(changes.users.iter().map(|i| i.get()));
        t.groups.extend(changes.groups.iter().map(|i| i.get()));
        t.devices.extend(changes.devices.iter().map(|i| i.get()));
        t.invitations
            .extend(changes.invitations.iter().map(|i| i.get()));
        t.policies.extend(changes.policies.iter().map(|i| i.get()));
        t.registrations.extend(changes.registrations);
        t.header |= changes.header;
        t.apns |= changes.apns;
    }

    /// Records that an existing entity changed in place.
    pub(crate) fn mark(&mut self, kind: Kind, index: usize) {
        if !self.changes.enabled {
            return;
        }
        let Ok(i) = u32::try_from(index) else { return };
        let t = &mut self.changes;
        match kind {
            Kind::User => t.users.push(i),
            Kind::Group => t.groups.push(i),
            Kind::Device => t.devices.push(i),
            Kind::Invitation => t.invitations.push(i),
            Kind::Policy => t.policies.push(i),
        }
    }

    /// Records that a registration was added or removed.
    pub(crate) fn mark_registration(&mut self, number: &IdentificationNumber) {
        if self.changes.enabled {
            self.changes.registrations.push(number.clone());
        }
    }

    /// Records that the workspace's own fields (settings) changed.
    pub(crate) fn mark_header(&mut self) {
        self.changes.header |= self.changes.enabled;
    }

    /// Records that the APNs record changed.
    pub(crate) fn mark_apns(&mut self) {
        self.changes.apns |= self.changes.enabled;
    }

    fn lengths(&self) -> Lengths {
        let d = &self.data;
        Lengths {
            users: d.users.len(),
            groups: d.groups.len(),
            devices: d.devices.len(),
            invitations: d.invitations.len(),
            policies: d.policies.len(),
            licenses: d.licenses.len(),
            audit: d.audit.len(),
        }
    }
}
