//! The invariants every workspace keeps, checkable at any time (the
//! property tests and the harness call [`Workspace::check_invariants`]).

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Workspace;
use crate::{AuditEvent, DeviceState, InvitationState};

/// The invariants every workspace keeps (see [`Workspace::check_invariants`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Invariant {
    /// A live device is in exactly one group, a wiped or retired one in none.
    DeviceInOneGroup,
    /// An invitation enrolls at most one device, and each device names the
    /// invitation that names it (R-IN-1).
    InvitationEnrollsOnce,
    /// A managed device is in a managed group, a connected or enrolling one is not.
    ManagedInManagedGroup,
    /// Devices in *Unassigned devices* get no policy or license (R-GR-1).
    UnassignedGetNothing,
    /// Licensed devices never exceed a license's seats (R-LI-1).
    SeatsNotExceeded,
    /// Every enrolled device has its enrollment in the audit log.
    TransitionsAudited,
}

impl Invariant {
    /// The invariant in words.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Invariant::DeviceInOneGroup => "device in exactly one group",
            Invariant::InvitationEnrollsOnce => "invitation enrolls at most one device",
            Invariant::ManagedInManagedGroup => "managed devices are in a managed group",
            Invariant::UnassignedGetNothing => "unassigned devices get no policy or license",
            Invariant::SeatsNotExceeded => "licensed devices never exceed seats",
            Invariant::TransitionsAudited => "every transition is in the audit log",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// One broken invariant, described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvariantViolation {
    /// Which invariant.
    pub invariant: Invariant,
    /// What was found.
    pub detail: String,
}

impl Workspace {
    /// Checks every invariant of the model and returns the violations found
    /// (empty when all hold):
    /// - a live device is in exactly one group, a wiped or retired one in none;
    /// - an invitation enrolls at most one device, and each device names the
    ///   invitation that names it;
    /// - licensed devices never exceed a license's seats;
    /// - devices in *Unassigned devices* have no effective policy and no
    ///   license, and a managed device is in a managed group;
    /// - every enrolled device has its enrollment in the audit log.
    ///
    /// This walks every device: it is O(n), for tests and periodic checks.
    #[must_use]
    pub fn check_invariants(&self) -> Vec<InvariantViolation> {
        let mut out = Vec::new();
        let mut fail = |invariant: Invariant, detail: String| {
            out.push(InvariantViolation { invariant, detail });
        };
        let d = &self.data;
        let mut membership = vec![0u32; d.devices.len()];
        for g in &d.groups {
            for m in &g.members {
                if let Some(slot) = membership.get_mut(m.index()) {
                    *slot += 1;
                }
                if d.devices.get(m.index()).and_then(|dev| dev.group) != Some(g.id) {
                    fail(
                        Invariant::DeviceInOneGroup,
                        format!("{m} listed in {} but not recorded there", g.id),
                    );
                }
            }
        }
        let mut invitations_used = HashSet::new();
        let mut seats = vec![0u32; d.licenses.len()];
        for dev in &d.devices {
            let expected = u32::from(!dev.state.is_terminal());
            let found = membership.get(dev.id.index()).copied().unwrap_or(0);
            if found != expected || dev.group.is_some() != (expected == 1) {
                fail(
                    Invariant::DeviceInOneGroup,
                    format!("{} ({}) is in {found} groups", dev.id, dev.state),
                );
            }
            if !invitations_used.insert(dev.invitation) {
                fail(
                    Invariant::InvitationEnrollsOnce,
                    format!("{} used twice", dev.invitation),
                );
            }
            let consumed_by = d.invitations.get(dev.invitation.index()).map(|i| i.state);
            if consumed_by != Some(InvitationState::Consumed { device: dev.id }) {
                fail(
                    Invariant::InvitationEnrollsOnce,
                    format!(
                        "{} does not record {} as its device",
                        dev.invitation, dev.id
                    ),
                );
            }
            if let Some(slot) = dev.license.and_then(|l| seats.get_mut(l.index())) {
                *slot += 1;
            }
            let managed_group = dev.group.is_some_and(|g| self.is_managed_group(g));
            match dev.state {
                DeviceState::Managed if !managed_group => fail(
                    Invariant::ManagedInManagedGroup,
                    format!("{} is managed outside Managed devices", dev.id),
                ),
                DeviceState::Connected | DeviceState::Enrolling if managed_group => fail(
                    Invariant::ManagedInManagedGroup,
                    format!("{} is {} in a managed group", dev.id, dev.state),
                ),
                _ => {}
            }
            if !managed_group && (self.effective_policy(dev.id).is_some() || dev.license.is_some())
            {
                fail(
                    Invariant::UnassignedGetNothing,
                    format!("{} ({}) has a policy or license", dev.id, dev.state),
                );
            }
        }
        for (l, used) in d.licenses.iter().zip(&seats) {
            if *used > l.seats || *used != l.in_use {
                fail(
                    Invariant::SeatsNotExceeded,
                    format!(
                        "{}: {used} devices, {} seats, {} counted",
                        l.id, l.seats, l.in_use
                    ),
                );
            }
        }
        let enrolled_logged = d
            .audit
            .iter()
            .filter(|r| matches!(r.event, AuditEvent::DeviceEnrolled { .. }))
            .count();
        if enrolled_logged != d.devices.len() {
            fail(
                Invariant::TransitionsAudited,
                format!(
                    "{} devices, {enrolled_logged} enrollments logged",
                    d.devices.len()
                ),
            );
        }
        out
    }
}
