//! Where a tenant's state is kept: its workspace ([`mdm_model::SqliteStore`]
//! or [`mdm_model::PostgresStore`]) and its Apple state
//! ([`SqlAppleStore`]: enrollments, expected identities, command queues)
//! in the **same** SQLite file or PostgreSQL schema, committed together in
//! one transaction (`Workspace::commit_with`).
//!
//! The Android endpoint's state (agents, command queues and results,
//! policies' Android settings: [`SqlAndroidStore`]) is in the same database
//! too, written in the same transaction, and so are the one-time SCEP
//! passwords and the profile labels they were issued for ([`ScepState`]).
//!
//! A PostgreSQL store may be shared by several `serve` processes. Each
//! commit raises the store's revision; a process whose workspace is older
//! than the store's is *stale*. A shared store therefore gets a revision
//! probe (a connection of its own) that tells, before a request is served,
//! whether another process committed since this one last loaded or
//! committed, so the workspace is reloaded first instead of answering from
//! old state.

use mdm_android::{AGENT_PACKAGE, AndroidEndpoint, SqlAndroidStore};
use mdm_apple::SqlAppleStore;
use mdm_model::storage::{SqlDatabase, SqlSession as _, SqlValue, StoreCompanion as _};
use mdm_model::{ModelError, Workspace, WorkspaceStore};
use time::OffsetDateTime;

use super::config::{StoreSpec, TenantName, serve_error};
use super::otp::{ScepHandles, ScepState};
use super::tenant::io;
use crate::HarnessError;

/// A workspace store that can move to the committer's thread.
pub type BoxedStore = Box<dyn WorkspaceStore + Send>;

/// How many times a load is retried while other processes keep committing.
const LOAD_ATTEMPTS: usize = 5;

/// The store's revision as this process last saw it, read through a
/// connection of its own.
struct RevisionProbe {
    db: SqlDatabase,
    /// `None`: not known (the next check reloads).
    seen: Option<u64>,
}

impl RevisionProbe {
    fn current(&mut self) -> Result<u64, ModelError> {
        let mut found = None;
        self.db
            .query("SELECT revision FROM mdm_store", &[], &mut |row| {
                found = row.first().and_then(SqlValue::as_int);
                Ok(())
            })?;
        Ok(found.and_then(|r| u64::try_from(r).ok()).unwrap_or(0))
    }
}

/// Where the Android endpoint's tables are, to open them again.
#[derive(Debug, Clone)]
enum AndroidAt {
    Sqlite(std::path::PathBuf),
    Postgres { connection: String, schema: String },
}

/// One tenant's store: the workspace's and, beside it, the probe of a
/// shared one.
pub struct TenantStore {
    workspaces: BoxedStore,
    probe: Option<RevisionProbe>,
    android: AndroidAt,
    scep: ScepState,
}

impl std::fmt::Debug for TenantStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantStore")
            .field("location", &self.workspaces.location())
            .field("shared", &self.is_shared())
            .finish_non_exhaustive()
    }
}

/// A tenant's store, its workspace (loaded, or new) and its Apple state.
pub struct OpenedStore {
    /// The store.
    pub store: TenantStore,
    /// The workspace in it.
    pub workspace: Workspace,
    /// The Apple state in the same database.
    pub apple: SqlAppleStore,
    /// The Android endpoint over its state in the same database.
    pub android: AndroidEndpoint,
    /// The one-time SCEP passwords and profile labels, as the store holds
    /// them (kept durable by the store's commits).
    pub scep: ScepHandles,
}

impl TenantStore {
    /// Opens the store of tenant `name` (`spec`): the workspace in it, or a
    /// new one on first start, and the Apple tables beside it.
    ///
    /// # Errors
    /// [`HarnessError::Serve`] when the database cannot be opened, holds
    /// something else or is damaged.
    pub fn open(
        spec: &StoreSpec,
        name: &TenantName,
        now: OffsetDateTime,
    ) -> Result<OpenedStore, HarnessError> {
        let (workspaces, probe, apple, android, scep_db): (BoxedStore, _, _, _, _) = match spec {
            StoreSpec::Sqlite(dir) => {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
                let path = dir.join(format!("{name}.sqlite3"));
                let store =
                    mdm_model::SqliteStore::open(&path).map_err(serve_error("SQLite store"))?;
                let apple = SqlAppleStore::open_sqlite(&path, mdm_model::SqliteOptions::default())
                    .map_err(serve_error("SQLite Apple store"))?;
                let scep = SqlDatabase::sqlite(&path, mdm_model::SqliteOptions::default())
                    .map_err(serve_error("SQLite SCEP password store"))?;
                (Box::new(store), None, apple, AndroidAt::Sqlite(path), scep)
            }
            StoreSpec::Postgres(connection) => {
                let schema = name.schema();
                let store = mdm_model::PostgresStore::open(connection, &schema)
                    .map_err(serve_error("PostgreSQL store"))?;
                let probe = RevisionProbe {
                    db: SqlDatabase::postgres(connection, &schema)
                        .map_err(serve_error("PostgreSQL revision probe"))?,
                    seen: None,
                };
                let apple = SqlAppleStore::open_postgres(connection, &schema)
                    .map_err(serve_error("PostgreSQL Apple store"))?;
                let scep = SqlDatabase::postgres(connection, &schema)
                    .map_err(serve_error("PostgreSQL SCEP password store"))?;
                let android = AndroidAt::Postgres {
                    connection: connection.clone(),
                    schema,
                };
                (Box::new(store), Some(probe), apple, android, scep)
            }
        };
        let scep = ScepState::open(scep_db, now).map_err(serve_error("SCEP password store"))?;
        let mut store = Self {
            workspaces,
            probe,
            android,
            scep,
        };
        let workspace = store.first_workspace(name, now)?;
        let android = store
            .android_endpoint()
            .map_err(serve_error("Android store"))?;
        let scep = store.scep.handles().clone();
        Ok(OpenedStore {
            store,
            workspace,
            apple,
            android,
            scep,
        })
    }

    /// A new Android endpoint over what the store holds (its pending
    /// commands, agents and settings), with a connection of its own: on
    /// start, and after a reload (what the old one had not committed is
    /// dropped with it, as mdm-android prescribes after a conflict).
    ///
    /// # Errors
    /// The database's failure, or Android tables that cannot be read.
    pub fn android_endpoint(&self) -> Result<AndroidEndpoint, ModelError> {
        let store = match &self.android {
            AndroidAt::Sqlite(path) => {
                SqlAndroidStore::open_sqlite(path, mdm_model::SqliteOptions::default())?
            }
            AndroidAt::Postgres { connection, schema } => {
                SqlAndroidStore::open_postgres(connection, schema)?
            }
        };
        AndroidEndpoint::with_store(AGENT_PACKAGE, store).map_err(|e| ModelError::StoreBackend {
            backend: "serve",
            location: self.location(),
            operation: "open the Android endpoint over",
            message: e.to_string(),
        })
    }

    /// Whether other processes may write this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.probe.is_some()
    }

    /// Where it is, for messages.
    pub fn location(&self) -> String {
        self.workspaces.location()
    }

    fn first_workspace(
        &mut self,
        name: &TenantName,
        now: OffsetDateTime,
    ) -> Result<Workspace, HarnessError> {
        let location = self.location();
        if let Some(workspace) = self.load().map_err(serve_error("loading the workspace"))? {
            tracing::info!(tenant = %name, %location, devices = workspace.devices().len(), "workspace loaded");
            return Ok(workspace);
        }
        let mut workspace = Workspace::new(name.as_str(), name.as_str(), None, now)
            .map_err(serve_error("new workspace"))?;
        match self.workspaces.import(&mut workspace) {
            // The probe does not know the revision the import made: the
            // first check reloads once.
            Ok(()) => {}
            // Another process made it in between: take theirs.
            Err(ModelError::StoreNotEmpty(_)) => {
                workspace = self
                    .load()
                    .map_err(serve_error("loading the workspace"))?
                    .ok_or_else(|| HarnessError::Serve {
                        step: "loading the workspace",
                        message: "the store is neither empty nor holding a workspace".into(),
                    })?;
            }
            Err(e) => return Err(serve_error("creating the workspace")(e)),
        }
        tracing::info!(tenant = %name, %location, "new workspace");
        Ok(workspace)
    }

    /// Loads the workspace; with a probe, reads the revision before and
    /// after, so the revision it remembers is the one the load saw.
    fn load(&mut self) -> Result<Option<Workspace>, ModelError> {
        let Some(probe) = self.probe.as_mut() else {
            return self.workspaces.load();
        };
        let mut loaded = None;
        for _ in 0..LOAD_ATTEMPTS {
            let before = probe.current()?;
            loaded = self.workspaces.load()?;
            let after = probe.current()?;
            if before == after {
                probe.seen = Some(after);
                return Ok(loaded);
            }
        }
        // Others kept committing: the next check reloads again.
        probe.seen = None;
        Ok(loaded)
    }

    /// Commits what changed in `workspace`, `apple`, (when given) the
    /// Android endpoint and the SCEP passwords and labels since the last
    /// commit, in one transaction; whether there was anything to write.
    ///
    /// # Errors
    /// [`ModelError::StoreConflict`] when another process committed first
    /// (nothing written: [`Self::reload`]), or the database's failure
    /// (the changes stay pending).
    pub fn commit(
        &mut self,
        workspace: &mut Workspace,
        apple: &mut SqlAppleStore,
        android: Option<&mut AndroidEndpoint>,
    ) -> Result<bool, ModelError> {
        let changes = workspace.take_changes();
        let android = android.map(AndroidEndpoint::companion);
        let writes = !changes.is_empty()
            || apple.has_pending()
            || android.as_ref().is_some_and(|a| a.has_pending())
            || self.scep.has_pending();
        workspace.restore_changes(changes);
        if !writes {
            return Ok(false);
        }
        let scep = &mut self.scep;
        match android {
            Some(android) => {
                workspace.commit_with(self.workspaces.as_mut(), &mut [apple, android, scep])?;
            }
            None => workspace.commit_with(self.workspaces.as_mut(), &mut [apple, scep])?,
        }
        // A commit raises the revision by one, from the one this process saw.
        if let Some(probe) = self.probe.as_mut() {
            probe.seen = probe.seen.map(|seen| seen + 1);
        }
        Ok(true)
    }

    /// Whether another process committed since this one last loaded or
    /// committed (always `false` for a store only this process writes).
    ///
    /// # Errors
    /// The database's failure.
    pub fn is_stale(&mut self) -> Result<bool, ModelError> {
        match self.probe.as_mut() {
            None => Ok(false),
            Some(probe) => {
                let seen = probe.seen;
                Ok(seen != Some(probe.current()?))
            }
        }
    }

    /// Replaces `workspace` with the store's and drops the Apple changes
    /// and the SCEP passwords not committed, reading the store's passwords
    /// again, so all show the store's state again.
    ///
    /// # Errors
    /// The database's failure, or a store that no longer holds a workspace.
    pub fn reload(
        &mut self,
        workspace: &mut Workspace,
        apple: &mut SqlAppleStore,
    ) -> Result<(), ModelError> {
        apple.discard_pending();
        self.scep.reload()?;
        let fresh = self.load()?.ok_or_else(|| ModelError::StoreBackend {
            backend: "serve",
            location: self.location(),
            operation: "reload",
            message: "the store no longer holds a workspace".into(),
        })?;
        *workspace = fresh;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use mdm_apple::{AppleDeviceId, AppleStore as _, Command, CommandRequest, CommandUuid};

    use super::*;

    pub(crate) fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("serve-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    pub(crate) fn profile_list(uuid: &str) -> CommandRequest {
        CommandRequest::new(
            CommandUuid::new(uuid).unwrap(),
            Command::ProfileList(mdm_apple::ProfileList::default()),
        )
    }

    #[test]
    fn a_conflict_reloads_the_workspace_and_drops_the_apple_changes_together() {
        let dir = temp_dir("conflict");
        let spec = StoreSpec::Sqlite(dir.clone());
        let name = TenantName::parse("acme").unwrap();
        let now = time::OffsetDateTime::now_utc();
        let device = AppleDeviceId::Udid("UDID-1".into());
        // Two processes over one file.
        let mut one = TenantStore::open(&spec, &name, now).unwrap();
        let mut two = TenantStore::open(&spec, &name, now).unwrap();

        two.workspace.add_user("bob", None, now).unwrap();
        two.apple.enqueue(&device, profile_list("B-1")).unwrap();
        assert!(
            two.store
                .commit(&mut two.workspace, &mut two.apple, None)
                .unwrap()
        );

        one.workspace.add_user("alice", None, now).unwrap();
        one.apple.enqueue(&device, profile_list("A-1")).unwrap();
        let refused = one.store.commit(&mut one.workspace, &mut one.apple, None);
        assert!(
            matches!(refused, Err(ModelError::StoreConflict { .. })),
            "{refused:?}"
        );
        one.store
            .reload(&mut one.workspace, &mut one.apple)
            .unwrap();
        // Both halves show the store's state: bob and B-1, neither alice nor A-1.
        assert!(one.workspace.user_by_account("bob").is_some());
        assert!(one.workspace.user_by_account("alice").is_none());
        assert!(!one.apple.has_pending());
        assert_eq!(one.apple.pending_commands(&device).unwrap(), 1);
        // And the next commit goes through.
        one.workspace.add_user("carol", None, now).unwrap();
        assert!(
            one.store
                .commit(&mut one.workspace, &mut one.apple, None)
                .unwrap()
        );
        let reopened = TenantStore::open(&spec, &name, now).unwrap();
        assert!(reopened.workspace.user_by_account("carol").is_some());
        assert_eq!(reopened.apple.pending_commands(&device).unwrap(), 1);
        // Nothing to write: no transaction.
        assert!(
            !one.store
                .commit(&mut one.workspace, &mut one.apple, None)
                .unwrap()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod android_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use mdm_android::AgentCommandKind;
    use mdm_model::{
        DeviceId, EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform,
    };
    use rand_core::SeedableRng as _;

    use super::tests::temp_dir;
    use super::*;

    /// An Android device enrolled in `ws` through an invitation.
    fn android_device(ws: &mut Workspace, account: &str, now: OffsetDateTime) -> DeviceId {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let email = EmailAddress::parse(&format!("{account}@acme.example")).unwrap();
        let user = ws.add_user(account, Some(email), now).unwrap();
        let invitation = ws.issue_invitation(user, now, &mut rng).unwrap();
        let request = EnrollmentRequest {
            platform: Platform::Android,
            os_version: OsVersion::parse("14").unwrap(),
            model: "Pixel 8".into(),
            identification_number: None,
            install_source: InstallSource::StandalonePackage,
        };
        ws.enroll(&invitation.token, request, now).unwrap()
    }

    #[test]
    fn android_queues_survive_a_reopen_and_a_conflict_drops_the_uncommitted_ones() {
        let dir = temp_dir("android");
        let spec = StoreSpec::Sqlite(dir.clone());
        let name = TenantName::parse("acme").unwrap();
        let now = OffsetDateTime::now_utc();
        let mut one = TenantStore::open(&spec, &name, now).unwrap();
        let device = android_device(&mut one.workspace, "alice", now);
        let id = one
            .android
            .commands
            .enqueue(&one.workspace, device, AgentCommandKind::Lock, now)
            .unwrap();
        assert!(
            one.store
                .commit(&mut one.workspace, &mut one.apple, Some(&mut one.android))
                .unwrap()
        );

        // Reopened (a restart): the command is still queued for the device.
        let mut two = TenantStore::open(&spec, &name, now).unwrap();
        let pending: Vec<u64> = two
            .android
            .commands
            .pending(device)
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(pending, vec![id]);

        // `two` commits first; `one`'s next Android command loses the race
        // and, once reloaded, is gone while the committed one stays.
        two.workspace.add_user("bob", None, now).unwrap();
        assert!(
            two.store
                .commit(&mut two.workspace, &mut two.apple, Some(&mut two.android))
                .unwrap()
        );
        one.android
            .commands
            .enqueue(&one.workspace, device, AgentCommandKind::Locate, now)
            .unwrap();
        let refused = one
            .store
            .commit(&mut one.workspace, &mut one.apple, Some(&mut one.android));
        assert!(
            matches!(refused, Err(ModelError::StoreConflict { .. })),
            "{refused:?}"
        );
        one.store
            .reload(&mut one.workspace, &mut one.apple)
            .unwrap();
        one.android = one.store.android_endpoint().unwrap();
        let kinds: Vec<AgentCommandKind> = one
            .android
            .commands
            .pending(device)
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(kinds, vec![AgentCommandKind::Lock]);
        assert!(!one.android.companion().has_pending());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
