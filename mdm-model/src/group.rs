//! Groups: a tree rooted in the built-in groups (R-GR-1).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{DeviceId, GroupId, PolicyId};

/// A group of devices. Groups nest; a device is in exactly one group.
///
/// Two groups are built in: [*Unassigned devices*](crate::Workspace::UNASSIGNED),
/// where every newly connected device lands and which never carries a policy or a
/// license, and [*Managed devices*](crate::Workspace::MANAGED), the root of
/// every group whose policy applies (seed 003 §6.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub(crate) id: GroupId,
    pub(crate) name: Box<str>,
    pub(crate) parent: Option<GroupId>,
    /// The active policy of this group, if any (R-PO-2).
    pub(crate) active_policy: Option<PolicyId>,
    /// All policies targeted at this group, active or not (R-PO-2).
    pub(crate) policies: Vec<PolicyId>,
    /// The devices in this group (rebuilt on load; not stored).
    #[serde(skip)]
    pub(crate) members: BTreeSet<DeviceId>,
}

impl Group {
    /// The group's id.
    #[must_use]
    pub fn id(&self) -> GroupId {
        self.id
    }

    /// The group's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The enclosing group; `None` for the two built-in roots.
    #[must_use]
    pub fn parent(&self) -> Option<GroupId> {
        self.parent
    }

    /// The policy active in this group itself (not inherited), if any.
    #[must_use]
    pub fn active_policy(&self) -> Option<PolicyId> {
        self.active_policy
    }

    /// Every policy targeted at this group.
    #[must_use]
    pub fn policies(&self) -> &[PolicyId] {
        &self.policies
    }

    /// The devices currently in this group (not in its subgroups).
    pub fn members(&self) -> impl ExactSizeIterator<Item = DeviceId> + '_ {
        self.members.iter().copied()
    }

    /// How many devices are in this group (not in its subgroups).
    #[must_use]
    pub fn member_count(&self) -> usize {
        self.members.len()
    }
}
