//! The in-memory store: what a commit wrote, held in the process. For
//! tests, and for an integrator who wants the store's semantics (revisions,
//! conflicts, load checks) without a database. Clones are handles to the
//! same store, as two connections are to one database.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{Revision, WorkspaceStore};
use crate::workspace::WorkspaceData;
use crate::{ChangeSet, ModelError, Workspace};

/// A store in memory; clone it for a second handle on the same data.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    shared: Arc<Mutex<Shared>>,
    seen: Revision,
}

#[derive(Debug, Default)]
struct Shared {
    revision: u64,
    data: Option<WorkspaceData>,
}

const LOCATION: &str = "memory";

impl MemoryStore {
    /// A new, empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Shared>, ModelError> {
        self.shared.lock().map_err(|_| ModelError::StoreBackend {
            backend: "memory",
            location: LOCATION.into(),
            operation: "lock",
            message: "a writer panicked while holding the store".into(),
        })
    }
}

/// Whether the (ascending) ids of a change either name stored entities or
/// append the next ones, and name entities the workspace has.
fn fits(stored: usize, current: usize, ids: impl Iterator<Item = usize>) -> Result<(), ModelError> {
    let mut len = stored;
    for index in ids {
        if index >= current || index > len {
            return Err(ModelError::StoreCorrupt {
                location: LOCATION.into(),
                reason: format!("a change names entity {index}, which is neither stored nor next"),
            });
        }
        len = len.max(index + 1);
    }
    Ok(())
}

fn put<T: Clone>(stored: &mut Vec<T>, current: &[T], ids: impl Iterator<Item = usize>) {
    for index in ids {
        if let Some(value) = current.get(index) {
            match stored.get_mut(index) {
                Some(slot) => slot.clone_from(value),
                None => stored.push(value.clone()),
            }
        }
    }
}

impl WorkspaceStore for MemoryStore {
    fn location(&self) -> String {
        LOCATION.into()
    }

    fn load(&mut self) -> Result<Option<Workspace>, ModelError> {
        let shared = self.lock()?;
        let revision = shared.revision;
        let data = shared.data.clone();
        drop(shared);
        self.seen = Some(revision);
        data.map(|data| super::rebuild(data, LOCATION)).transpose()
    }

    fn import(&mut self, workspace: &mut Workspace) -> Result<(), ModelError> {
        let mut shared = self.lock()?;
        if shared.data.is_some() {
            return Err(ModelError::StoreNotEmpty(LOCATION.into()));
        }
        shared.revision += 1;
        shared.data = Some(workspace.data.clone());
        let revision = shared.revision;
        drop(shared);
        self.seen = Some(revision);
        workspace.track_changes();
        Ok(())
    }

    fn commit(&mut self, workspace: &Workspace, changes: &ChangeSet) -> Result<(), ModelError> {
        let mut shared = self.lock()?;
        super::check_revision(self.seen, shared.revision, LOCATION)?;
        let Some(stored) = shared.data.as_ref() else {
            return Err(ModelError::StoreCorrupt {
                location: LOCATION.into(),
                reason: "a commit to a store that holds no workspace (import first)".into(),
            });
        };
        let d = &workspace.data;
        let audit = changes.audit();
        fits(
            stored.users.len(),
            d.users.len(),
            changes.users().iter().map(|i| i.index()),
        )?;
        fits(
            stored.groups.len(),
            d.groups.len(),
            changes.groups().iter().map(|i| i.index()),
        )?;
        fits(
            stored.devices.len(),
            d.devices.len(),
            changes.devices().iter().map(|i| i.index()),
        )?;
        fits(
            stored.invitations.len(),
            d.invitations.len(),
            changes.invitations().iter().map(|i| i.index()),
        )?;
        fits(
            stored.policies.len(),
            d.policies.len(),
            changes.policies().iter().map(|i| i.index()),
        )?;
        fits(
            stored.licenses.len(),
            d.licenses.len(),
            changes.licenses().iter().map(|i| i.index()),
        )?;
        if audit.start != stored.audit.len() || audit.end > d.audit.len() {
            return Err(ModelError::StoreCorrupt {
                location: LOCATION.into(),
                reason: format!(
                    "the store holds {} audit records, the change appends {audit:?}",
                    stored.audit.len(),
                ),
            });
        }
        // Everything checked: now applied in place, all of it.
        let Some(next) = shared.data.as_mut() else {
            return Ok(());
        };
        put(
            &mut next.users,
            &d.users,
            changes.users().iter().map(|i| i.index()),
        );
        put(
            &mut next.groups,
            &d.groups,
            changes.groups().iter().map(|i| i.index()),
        );
        put(
            &mut next.devices,
            &d.devices,
            changes.devices().iter().map(|i| i.index()),
        );
        put(
            &mut next.invitations,
            &d.invitations,
            changes.invitations().iter().map(|i| i.index()),
        );
        put(
            &mut next.policies,
            &d.policies,
            changes.policies().iter().map(|i| i.index()),
        );
        put(
            &mut next.licenses,
            &d.licenses,
            changes.licenses().iter().map(|i| i.index()),
        );
        for number in changes.registrations() {
            match d.registrations.get(number) {
                Some(user) => next.registrations.insert(number.clone(), *user),
                None => next.registrations.remove(number),
            };
        }
        if changes.header_changed() {
            next.settings = d.settings.clone();
        }
        if changes.apns_changed() {
            next.apns_certificate.clone_from(&d.apns_certificate);
        }
        next.audit
            .extend_from_slice(d.audit.get(audit).unwrap_or_default());
        shared.revision += 1;
        let revision = shared.revision;
        drop(shared);
        self.seen = Some(revision);
        Ok(())
    }
}
