//! A loaded workspace runs the checks the API runs: a stored file can hold
//! no value the operations would have refused (a sync interval of
//! `i64::MAX` seconds, an empty account name, a policy on *Unassigned
//! devices*), so nothing loaded can make a later operation fail or overflow.

use super::Workspace;
use crate::user::check_name;
use crate::{ModelError, WorkspaceSettings};

impl Workspace {
    /// Checks every stored value as the operation that made it would have;
    /// runs after the indexes are rebuilt (so ids are known to be consistent).
    pub(crate) fn check_stored_values(&self) -> Result<(), String> {
        let d = &self.data;
        let refused = |what: String, e: ModelError| format!("{what}: {e}");
        check_name("workspace name", &d.name).map_err(|e| refused("the workspace".into(), e))?;
        self.check_settings_values(&d.settings)
            .map_err(|e| refused("the settings".into(), e))?;
        if let Some(apns) = &d.apns_certificate {
            // The topic was checked as it was read (PushTopic); the dates here.
            crate::ApnsCertificateRecord::new(
                apns.topic().clone(),
                apns.issuer(),
                apns.not_before(),
                apns.not_after(),
                apns.fingerprint(),
            )
            .map_err(|e| refused("the APNs certificate record".into(), e))?;
        }
        for u in &d.users {
            check_name("account name", &u.account).map_err(|e| refused(u.id.to_string(), e))?;
        }
        for g in &d.groups {
            check_name("group name", &g.name).map_err(|e| refused(g.id.to_string(), e))?;
            // Parents come first, as `create_group` makes them: the tree is acyclic.
            if g.parent.is_some_and(|p| p.index() >= g.id.index()) {
                return Err(format!("{} has a parent that does not precede it", g.id));
            }
        }
        for p in &d.policies {
            self.check_policy_settings(&p.settings)
                .map_err(|e| refused(p.id.to_string(), e))?;
            if !self.is_managed_group(p.group) {
                return Err(format!(
                    "{} targets {}, which is not a managed group",
                    p.id, p.group
                ));
            }
        }
        for l in &d.licenses {
            if l.seats == 0 {
                return Err(format!("{} has no seats", l.id));
            }
        }
        for i in &d.invitations {
            if i.expires_at <= i.issued_at {
                return Err(format!("{} expires before it was issued", i.id));
            }
        }
        let broken = self.check_invariants();
        if let Some(first) = broken.first() {
            return Err(format!(
                "{} invariant(s) do not hold, first: {}: {}",
                broken.len(),
                first.invariant,
                first.detail
            ));
        }
        Ok(())
    }

    /// The rules of [`Workspace::set_settings`].
    pub(crate) fn check_settings_values(
        &self,
        settings: &WorkspaceSettings,
    ) -> Result<(), ModelError> {
        if let Some(group) = settings.auto_move_to {
            self.group(group)?;
            if !self.is_managed_group(group) {
                return Err(ModelError::GroupRule {
                    group,
                    reason: "devices can only be moved automatically into a managed group",
                });
            }
        }
        settings.check()
    }
}
