//! The group tree and what it resolves: effective policy and license (R-GR-1).

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::Workspace;
use crate::user::check_name;
use crate::{AuditEvent, DeviceId, Group, GroupId, License, ModelError, Policy};

impl Workspace {
    /// Creates a group inside a managed group (*Managed devices* or one of its
    /// descendants). *Unassigned devices* has no subgroups.
    ///
    /// # Errors
    /// [`ModelError::UnknownGroup`], [`ModelError::GroupRule`] when the parent is
    /// not a managed group, [`ModelError::InvalidName`].
    pub fn create_group(
        &mut self,
        name: &str,
        parent: GroupId,
        now: OffsetDateTime,
    ) -> Result<GroupId, ModelError> {
        check_name("group name", name)?;
        self.group(parent)?;
        if !self.is_managed_group(parent) {
            return Err(ModelError::GroupRule {
                group: parent,
                reason: "subgroups can only be created under Managed devices",
            });
        }
        let id = GroupId::from_index(Self::next_id(self.data.groups.len(), "groups")?);
        self.data.groups.push(Group {
            id,
            name: name.into(),
            parent: Some(parent),
            active_policy: None,
            policies: Vec::new(),
            members: BTreeSet::new(),
        });
        self.log(now, AuditEvent::GroupCreated { group: id });
        Ok(id)
    }

    /// Whether `group` is *Managed devices* or lies below it, so that its
    /// policy and license apply (R-GR-1).
    #[must_use]
    pub fn is_managed_group(&self, group: GroupId) -> bool {
        self.ancestry(group).any(|g| g.id == Self::MANAGED)
    }

    /// The group and its ancestors, nearest first.
    pub fn ancestry(&self, group: GroupId) -> impl Iterator<Item = &Group> + '_ {
        let mut next = self.data.groups.get(group.index());
        // The tree is acyclic by construction (a group's parent exists before it),
        // so the walk ends; the bound guards a corrupted file all the same.
        let mut steps = self.data.groups.len();
        std::iter::from_fn(move || {
            let current = next?;
            steps = steps.checked_sub(1)?;
            next = current.parent.and_then(|p| self.data.groups.get(p.index()));
            Some(current)
        })
    }

    /// The policy that applies in `group`: the active policy of the nearest
    /// group (itself or an ancestor) that has one; never one for *Unassigned
    /// devices* (R-GR-1, R-PO-2).
    #[must_use]
    pub fn effective_policy_of_group(&self, group: GroupId) -> Option<&Policy> {
        if !self.is_managed_group(group) {
            return None;
        }
        self.ancestry(group)
            .find_map(|g| g.active_policy)
            .and_then(|p| self.data.policies.get(p.index()))
    }

    /// The policy that applies to a device: its group's effective policy, and
    /// none unless the device is managed (R-GR-1).
    #[must_use]
    pub fn effective_policy(&self, device: DeviceId) -> Option<&Policy> {
        let d = self.data.devices.get(device.index())?;
        if d.state.is_terminal() {
            return None;
        }
        self.effective_policy_of_group(d.group?)
    }

    /// The license chosen by the device's effective policy (R-LI-1).
    #[must_use]
    pub fn effective_license(&self, device: DeviceId) -> Option<&License> {
        let license = self.effective_policy(device)?.settings.license?;
        self.data.licenses.get(license.index())
    }
}
