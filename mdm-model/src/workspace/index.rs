//! The lookups a workspace keeps beside its data, rebuilt on load.

use std::collections::HashMap;

use super::Workspace;
use crate::{InvitationId, InvitationState, TokenHash, UserId};

/// Indexes over [`WorkspaceData`](super::WorkspaceData): never stored, always derivable.
#[derive(Clone, Debug, Default)]
pub(crate) struct Indexes {
    /// Account name → user.
    pub(crate) accounts: HashMap<Box<str>, UserId>,
    /// Invitation token hash → invitation.
    pub(crate) tokens: HashMap<TokenHash, InvitationId>,
}

impl Workspace {
    /// Checks that every stored id matches its position and every reference
    /// points at something, then rebuilds the indexes and derived counters.
    pub(crate) fn rebuild_indexes(&mut self) -> Result<(), String> {
        let d = &mut self.data;
        let mut index = Indexes::default();
        if d.groups.len() < 2 {
            return Err("the built-in groups are missing".into());
        }
        for (i, u) in d.users.iter().enumerate() {
            if u.id.index() != i {
                return Err(format!("user at position {i} has id {}", u.id));
            }
            if index.accounts.insert(u.account.clone(), u.id).is_some() {
                return Err(format!("account {:?} appears twice", u.account));
            }
        }
        for (i, g) in d.groups.iter_mut().enumerate() {
            if g.id.index() != i {
                return Err(format!("group at position {i} has id {}", g.id));
            }
            g.members.clear();
        }
        let group_count = d.groups.len();
        for g in &d.groups {
            if g.parent.is_some_and(|p| p.index() >= group_count) {
                return Err(format!("group {} has an unknown parent", g.id));
            }
            if g.policies
                .iter()
                .chain(&g.active_policy)
                .any(|p| p.index() >= d.policies.len())
            {
                return Err(format!("group {} names an unknown policy", g.id));
            }
        }
        for (i, inv) in d.invitations.iter().enumerate() {
            if inv.id.index() != i {
                return Err(format!("invitation at position {i} has id {}", inv.id));
            }
            if inv.user.index() >= d.users.len() {
                return Err(format!("invitation {} names an unknown user", inv.id));
            }
            if let InvitationState::Consumed { device } = inv.state
                && device.index() >= d.devices.len()
            {
                return Err(format!("invitation {} names an unknown device", inv.id));
            }
            index.tokens.insert(inv.token_hash, inv.id);
        }
        for (i, p) in d.policies.iter().enumerate() {
            if p.id.index() != i || p.group.index() >= group_count {
                return Err(format!("policy at position {i} is inconsistent"));
            }
        }
        for (i, l) in d.licenses.iter_mut().enumerate() {
            if l.id.index() != i {
                return Err(format!("license at position {i} has id {}", l.id));
            }
            l.in_use = 0;
        }
        for (i, dev) in d.devices.iter().enumerate() {
            if dev.id.index() != i {
                return Err(format!("device at position {i} has id {}", dev.id));
            }
            if dev.owner.index() >= d.users.len() || dev.invitation.index() >= d.invitations.len() {
                return Err(format!(
                    "device {} names an unknown user or invitation",
                    dev.id
                ));
            }
            if let Some(group) = dev.group {
                let g = d
                    .groups
                    .get_mut(group.index())
                    .ok_or_else(|| format!("device {} is in an unknown group", dev.id))?;
                g.members.insert(dev.id);
            }
            if let Some(license) = dev.license {
                let l = d
                    .licenses
                    .get_mut(license.index())
                    .ok_or_else(|| format!("device {} holds an unknown license", dev.id))?;
                l.in_use += 1;
            }
        }
        self.index = index;
        Ok(())
    }
}
