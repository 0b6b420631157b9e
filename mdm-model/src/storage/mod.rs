//! Durable state: the workspace kept in a database, so nothing a server
//! acknowledged is lost (issue #18).
//!
//! The in-memory [`Workspace`] stays the fast path: every rule runs on it.
//! While a store is attached it records what each operation changed (a
//! [`ChangeSet`]: the ids of changed entities, the registrations touched, the
//! audit records appended), and [`Workspace::commit_to`] hands that to the
//! store, which writes it in **one transaction**. An operation is
//! acknowledged once its commit returned, so a crash loses only what was
//! never acknowledged, and never leaves half of a commit behind. Batch many
//! operations per commit for throughput (the harness commits every tick).
//!
//! ```
//! use mdm_model::{MemoryStore, Workspace, WorkspaceStore};
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-11-28 09:00 UTC);
//! let mut store = MemoryStore::new();
//! let mut ws = Workspace::new("acme", "ACME Corp", None, now)?;
//! store.import(&mut ws)?; // an empty store takes the whole workspace
//! let alice = ws.add_user("alice", None, now)?;
//! ws.commit_to(&mut store)?; // durable from here on
//! let reloaded = store.load()?.expect("the store holds a workspace");
//! assert_eq!(reloaded, ws);
//! assert_eq!(reloaded.user(alice)?.account(), "alice");
//! # Ok::<(), mdm_model::ModelError>(())
//! ```
//!
//! # The store traits
//! [`WorkspaceStore`] is the workspace's concern: its entities are one
//! consistency boundary (the model's invariants span devices, groups,
//! licenses and invitations), so they commit together. The state other
//! crates own — Apple enrollments and command queues in `mdm-apple`, Android
//! sync state in `mdm-android` — lives behind those crates' own traits.
//! Three implementations pass one conformance suite (`tests/storage`):
//! [`MemoryStore`], [`SqliteStore`] (feature `sqlite`: a file, WAL,
//! nothing to install) and [`PostgresStore`] (feature `postgres`).
//!
//! # Writers
//! Each handle remembers the store's *revision* it last loaded or committed;
//! a commit first checks the store still holds that revision and raises it.
//! A second writer that committed in between makes the commit fail with
//! [`ModelError::StoreConflict`] and write nothing: the handle reloads and
//! applies its operation again. No update is lost, and a writer never
//! overwrites rows from a workspace it has not seen.
//!
//! # Loading
//! Loading rebuilds the [`Workspace`] from the rows and runs every check
//! [`Workspace::from_json`] runs (ids, references, stored values the
//! operations would refuse, the invariants), so a damaged or hand-edited
//! database is refused with [`ModelError::StoreCorrupt`] rather than loaded.
//! Derived state is not stored but rebuilt: group members and license seats
//! in use, each user's device list (devices by owner, in id order) and each
//! group's policy list (policies by group, in id order).
//!
//! # Schema (SQLite and PostgreSQL)
//! One workspace per database (SQLite file) or schema (PostgreSQL: one
//! schema per tenant). Version 2 of the schema; migrations run on open, and a
//! database from a newer build is refused ([`ModelError::StoreSchemaTooNew`])
//! without being changed. Ids are the model's numbers (`DeviceId` 7 is row
//! 7). Times are `TEXT` in UTC with nine fractional digits,
//! `2026-11-28T09:00:00.000000000Z`, so they sort and compare as text
//! (PostgreSQL columns use `COLLATE "C"`). Integers are `INTEGER`
//! (SQLite) / `BIGINT` (PostgreSQL); booleans are 0/1. Nested settings are
//! JSON text in their documented serde form.
//!
//! | table | columns |
//! |---|---|
//! | `mdm_store` | `application` (`mdm-toolkit workspace`), `schema_version`, `revision` — one row |
//! | `workspace` | `id` (1), `name`, `company`, `country`, `created_at`, `invitation_validity_seconds`, `require_registration`, `auto_move_to` |
//! | `apns_certificate` | `id` (1), `topic`, `issuer`, `not_before`, `not_after`, `fingerprint` (hex) |
//! | `users` | `id`, `account`, `email` |
//! | `groups` | `id`, `name`, `parent`, `active_policy` |
//! | `policies` | `id`, `name`, `group_id`, `version`, `settings` (JSON) |
//! | `licenses` | `id`, `code`, `seats`, `expires_at`, `deploy_automatically` |
//! | `invitations` | `id`, `user_id`, `token_hash` (hex SHA-256 of the token; the token is never stored), `issued_at`, `expires_at`, `state` (`pending`, `consumed`, `revoked`), `device_id` |
//! | `devices` | `id`, `platform`, `os_version`, `model`, `owner`, `invitation`, `identification_number`, `install_source`, `state`, `group_id`, `enrolled_at`, `last_sync`, `next_sync_due`, `syncs`, `applied_policy`, `applied_policy_version`, `license`, `client_certificate` (`none`, `issued`, `applied`), `client_certificate_sha256`, `protection` (JSON), `agent_credential` (JSON of hashes) |
//! | `registrations` | `identification_number`, `user_id` |
//! | `audit_log` | `seq` (position in the log), `at`, `event` (its kind, e.g. `device_enrolled`), `record` (JSON) |
//!
//! Indexes: `devices (last_sync)`, `devices (owner)`, `audit_log (event)`.
//! An administrator asks, for example:
//!
//! ```sql
//! -- managed devices that have not synced for a week
//! SELECT id, model, os_version, last_sync FROM devices
//!  WHERE state = 'managed' AND last_sync < '2026-11-21';
//! -- devices per state
//! SELECT state, count(*) FROM devices GROUP BY state;
//! -- the last 20 audit records
//! SELECT at, event, record FROM audit_log ORDER BY seq DESC LIMIT 20;
//! ```
//!
//! The JSON document of [`Workspace::to_json`] / [`Workspace::from_json`]
//! stays the export and import format: `from_json` then
//! [`WorkspaceStore::import`] moves a saved workspace into any store, and
//! `load` then `to_json` takes it out again.

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod retention;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod row;
pub mod session;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use retention::Retention;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use row::SqlRow;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use session::SqlDatabase;
pub use session::{SqlDialect, SqlSession, SqlValue, StoreCompanion};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

use crate::workspace::WorkspaceData;
use crate::{ChangeSet, ModelError, Workspace};

/// The newest schema version this build writes (and the only one it
/// migrates to); see the module documentation for the tables.
pub const SCHEMA_VERSION: u32 = 2;

/// Where a workspace is kept durably: one per tenant.
///
/// Implementations write a [`ChangeSet`] in one transaction and refuse a
/// commit from a handle that has not seen the store's latest revision.
pub trait WorkspaceStore {
    /// Where the store is, for messages: a file path, a PostgreSQL schema.
    fn location(&self) -> String;

    /// Loads the stored workspace, with change tracking on, or `None` when
    /// the store is empty. This handle then expects the revision it read.
    ///
    /// # Errors
    /// [`ModelError::StoreCorrupt`] when the rows do not make a valid
    /// workspace (the checks of [`Workspace::from_json`]);
    /// [`ModelError::StoreBackend`] when the database fails.
    fn load(&mut self) -> Result<Option<Workspace>, ModelError>;

    /// Writes a whole workspace into an empty store (a new tenant, or an
    /// import of its JSON export) and starts tracking its changes.
    ///
    /// # Errors
    /// [`ModelError::StoreNotEmpty`] when the store already holds a workspace
    /// (nothing is overwritten); [`ModelError::StoreBackend`].
    fn import(&mut self, workspace: &mut Workspace) -> Result<(), ModelError>;

    /// Writes what changed, reading the current values from `workspace`, in
    /// one transaction: all of it or none.
    ///
    /// # Errors
    /// [`ModelError::StoreConflict`] when another writer committed since
    /// this handle loaded (nothing is written); [`ModelError::StoreBackend`].
    fn commit(&mut self, workspace: &Workspace, changes: &ChangeSet) -> Result<(), ModelError>;

    /// Writes what changed and the pending changes of `companions` (state
    /// other crates keep in the same database, see [`session`]) in one
    /// transaction. A store without SQL tables (in memory) refuses
    /// companions that have pending changes.
    ///
    /// # Errors
    /// As [`Self::commit`], and what a companion's write returns.
    fn commit_with(
        &mut self,
        workspace: &Workspace,
        changes: &ChangeSet,
        companions: &mut [&mut dyn StoreCompanion],
    ) -> Result<(), ModelError> {
        session::no_companions(self.location(), companions)?;
        self.commit(workspace, changes)
    }
}

impl Workspace {
    /// Commits what changed since the last commit to `store`, in one
    /// transaction. When it fails the changes are kept, so the next commit
    /// writes them; after [`ModelError::StoreConflict`] reload instead.
    ///
    /// # Errors
    /// Those of [`WorkspaceStore::commit`].
    pub fn commit_to<S: WorkspaceStore + ?Sized>(
        &mut self,
        store: &mut S,
    ) -> Result<(), ModelError> {
        let changes = self.take_changes();
        if changes.is_empty() {
            return Ok(());
        }
        store
            .commit(self, &changes)
            .inspect_err(|_| self.restore_changes(changes))
    }
}

/// The revision a handle last saw (`None`: it has not looked yet).
pub(crate) type Revision = Option<u64>;

/// Refuses a commit from a handle that did not see the latest revision.
pub(crate) fn check_revision(seen: Revision, found: u64, location: &str) -> Result<(), ModelError> {
    match seen {
        Some(expected) if expected == found => Ok(()),
        seen => Err(ModelError::StoreConflict {
            location: location.into(),
            expected: seen.unwrap_or(0),
            found,
        }),
    }
}

/// A workspace from stored data, with the checks of a JSON load, tracked.
pub(crate) fn rebuild(data: WorkspaceData, location: &str) -> Result<Workspace, ModelError> {
    let mut workspace = Workspace::checked(data).map_err(|reason| ModelError::StoreCorrupt {
        location: location.into(),
        reason,
    })?;
    workspace.track_changes();
    Ok(workspace)
}
