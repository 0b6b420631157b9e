//! The durable [`AndroidStore`] (features `sqlite` and `postgres`): the
//! Android endpoint's state in the **same database as the workspace** —
//! the same SQLite file, the same PostgreSQL schema — so one transaction
//! carries both (see the [`store` module](super) for the commit).
//!
//! [`SqlAndroidStore`] reads through its own connection ([`SqlDatabase`])
//! when an endpoint opens over it, and **writes nothing on its own**: each
//! change waits in memory until [`mdm_model::Workspace::commit_with`]
//! writes it in the workspace's transaction ([`SqlAndroidStore::flush`]
//! writes it alone, for a store used without a workspace commit).
//!
//! # Tables
//! Versioned as component `mdm-android` in `mdm_components`; migrations run
//! on open and a newer version is refused with
//! [`mdm_model::ModelError::StoreSchemaTooNew`], nothing changed. Times are
//! text as in the workspace's tables (`2026-11-28T09:00:00.000000000Z`,
//! sorting as time); `device_id` and `policy_id` are the workspace's
//! `devices.id` and `policies.id`.
//!
//! | table | columns |
//! |---|---|
//! | `android_commands` | `command_id` (the key; the id the agent echoes), `device_id`, `kind` (`LOCK`, `WIPE`, `LOCATE`, `SCAN_NOW`, `UPDATE_DEFINITIONS`), `issued_at`, `status` (`pending`, or the agent's final `DONE`, `FAILED`, `UNKNOWN`), `detail` (the agent's reason), `location` (JSON `{"latitude", "longitude", "accuracyMeters", "at"}` for `LOCATE`), `reported_at`, `finished_order` (1, 2, … per device) |
//! | `android_agents` | `device_id` (the key), `agent_version`, `applied_configuration_version` (hex SHA-256 of the configuration the agent applied) |
//! | `android_policy_settings` | `policy_id` (the key), `revision`, `settings` (JSON, the documented form of `AndroidDeviceSettings`) |
//! | `android_queue` | `id` (1), `last_command_id` (ids are never reused) |
//!
//! Index: `android_commands (device_id, finished_order)`. An administrator asks,
//! with `sqlite3 FILE` or `psql`:
//!
//! ```sql
//! -- queue depth per device
//! SELECT device_id, count(*) FROM android_commands WHERE status = 'pending' GROUP BY device_id;
//! -- commands waiting for more than a day, with the device's last sync
//! SELECT c.device_id, c.kind, c.issued_at, d.last_sync FROM android_commands c
//!   JOIN devices d ON d.id = c.device_id
//!  WHERE c.status = 'pending' AND c.issued_at < '2026-11-27';
//! -- failed commands and why
//! SELECT device_id, kind, detail, reported_at FROM android_commands WHERE status = 'FAILED';
//! -- agents by version; devices that have not applied a configuration yet
//! SELECT agent_version, count(*) FROM android_agents GROUP BY agent_version;
//! SELECT device_id FROM android_agents WHERE applied_configuration_version IS NULL;
//! ```
//!
//! Finished commands follow the [`Retention`] rule: the last
//! `finished_per_device` per device, older ones deleted in the commit that
//! finishes a newer one.

use std::collections::HashMap;
use std::sync::Mutex;

use mdm_model::storage::session::time_text;
use mdm_model::storage::{Retention, SqlDatabase, SqlRow, SqlSession, SqlValue, StoreCompanion};
use mdm_model::{DeviceId, ModelError, PolicyId};
use serde::de::DeserializeOwned;

use super::{AgentSyncState, AndroidSnapshot, AndroidStore};
use crate::AndroidError;
use crate::configuration::{AndroidDeviceSettings, ContentVersion};
use crate::sync::{
    AgentCommand, AgentCommandKind, AgentCommandResult, AgentCommandStatus, CompletedAgentCommand,
};

/// The component name of these tables in `mdm_components`.
pub const ANDROID_COMPONENT: &str = "mdm-android";

/// The migrations of the Android tables, oldest first; never changed once
/// released.
const MIGRATIONS: [&str; 1] = [
    "CREATE TABLE android_commands (command_id {int} PRIMARY KEY, device_id {int} NOT NULL,
        kind TEXT NOT NULL, issued_at {time} NOT NULL, status TEXT NOT NULL, detail TEXT,
        location TEXT, reported_at {time}, finished_order {int});
     CREATE INDEX android_commands_device ON android_commands (device_id, finished_order);
     CREATE TABLE android_agents (device_id {int} PRIMARY KEY, agent_version TEXT NOT NULL,
        applied_configuration_version TEXT);
     CREATE TABLE android_policy_settings (policy_id {int} PRIMARY KEY, revision {int} NOT NULL,
        settings TEXT NOT NULL);
     CREATE TABLE android_queue (id {int} PRIMARY KEY, last_command_id {int} NOT NULL);",
];

const INSERT_COMMAND: &str = "INSERT INTO android_commands (command_id, device_id, kind, issued_at, status) \
     VALUES ($1, $2, $3, $4, 'pending')";
const FINISH: &str = "UPDATE android_commands SET finished_order = (SELECT COALESCE(MAX(finished_order), 0) + 1 \
     FROM android_commands WHERE device_id = $1), status = $2, detail = $3, location = $4, reported_at = $5 \
     WHERE device_id = $1 AND command_id = $6 AND status = 'pending' RETURNING finished_order";
const PRUNE: &str = "DELETE FROM android_commands WHERE device_id = $1 AND status <> 'pending' \
     AND finished_order <= $2";
const DROP_PENDING: &str =
    "DELETE FROM android_commands WHERE device_id = $1 AND status = 'pending'";
const UPSERT_AGENT: &str = "INSERT INTO android_agents (device_id, agent_version, applied_configuration_version) \
     VALUES ($1, $2, $3) ON CONFLICT (device_id) DO UPDATE SET agent_version = excluded.agent_version, \
     applied_configuration_version = excluded.applied_configuration_version";
const UPSERT_SETTINGS: &str = "INSERT INTO android_policy_settings (policy_id, revision, settings) \
     VALUES ($1, $2, $3) ON CONFLICT (policy_id) DO UPDATE SET revision = excluded.revision, \
     settings = excluded.settings";
const UPSERT_LAST_ID: &str = "INSERT INTO android_queue (id, last_command_id) VALUES (1, $1) \
     ON CONFLICT (id) DO UPDATE SET last_command_id = excluded.last_command_id";
const SELECT_PENDING: &str = "SELECT device_id, command_id, kind, issued_at FROM android_commands \
     WHERE status = 'pending' ORDER BY device_id, command_id";
const SELECT_FINISHED: &str = "SELECT device_id, command_id, kind, issued_at, status, detail, location, reported_at \
     FROM android_commands WHERE device_id = $1 AND status <> 'pending' ORDER BY finished_order";
const SELECT_AGENTS: &str =
    "SELECT device_id, agent_version, applied_configuration_version FROM android_agents";
const SELECT_SETTINGS: &str =
    "SELECT policy_id, revision, settings FROM android_policy_settings ORDER BY policy_id";
const SELECT_LAST_ID: &str = "SELECT last_command_id FROM android_queue WHERE id = 1";

/// One change told by the endpoint, written at the next commit in order.
#[derive(Debug)]
enum Change {
    Queued(DeviceId, AgentCommand),
    Finished(CompletedAgentCommand),
    Dropped(DeviceId),
    Agent(DeviceId, AgentSyncState),
    Settings(PolicyId, u64, String),
}

/// The Android endpoint's state in the workspace's SQLite file or
/// PostgreSQL schema (see the [module documentation](self) for the tables).
pub struct SqlAndroidStore {
    /// Behind a lock (never contended: the endpoint is used by one thread
    /// at a time) so that an endpoint stays `Sync`, as it is in memory.
    db: Mutex<SqlDatabase>,
    location: String,
    retention: Retention,
    journal: Vec<Change>,
    last_command_id: u64,
    stored_last_command_id: u64,
    /// What each agent reported, as stored plus the journal (a sync that
    /// reports nothing new writes nothing).
    agents: HashMap<DeviceId, AgentSyncState>,
}

impl std::fmt::Debug for SqlAndroidStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAndroidStore")
            .field("location", &self.location)
            .field("retention", &self.retention)
            .field("pending_changes", &self.journal.len())
            .finish_non_exhaustive()
    }
}

impl SqlAndroidStore {
    /// Opens the Android tables in the SQLite workspace store at `path`
    /// (open it with [`mdm_model::SqliteStore::open`] first), creating or
    /// migrating them, keeping [`Retention::DEFAULT`].
    ///
    /// # Errors
    /// [`ModelError::NotAWorkspaceStore`] for a file that is not a
    /// workspace store, [`ModelError::StoreSchemaTooNew`] for Android
    /// tables of a newer build, [`ModelError::StoreCorrupt`] for rows that
    /// cannot be read, [`ModelError::StoreBackend`].
    #[cfg(feature = "sqlite")]
    pub fn open_sqlite(
        path: &std::path::Path,
        options: mdm_model::SqliteOptions,
    ) -> Result<Self, ModelError> {
        Self::over(SqlDatabase::sqlite(path, options)?)
    }

    /// Opens the Android tables in the PostgreSQL workspace store in
    /// `schema` (open it with [`mdm_model::PostgresStore::open`] first).
    ///
    /// # Errors
    /// As [`Self::open_sqlite`].
    #[cfg(feature = "postgres")]
    pub fn open_postgres(connection: &str, schema: &str) -> Result<Self, ModelError> {
        Self::over(SqlDatabase::postgres(connection, schema)?)
    }

    /// The newest schema version of the Android tables this build knows.
    pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

    fn over(mut db: SqlDatabase) -> Result<Self, ModelError> {
        db.migrate(ANDROID_COMPONENT, &MIGRATIONS)?;
        let location = db.location();
        let mut agents = HashMap::new();
        let mut rows = Vec::new();
        db.query(SELECT_AGENTS, &[], &mut |row| {
            rows.push(row);
            Ok(())
        })?;
        for row in rows {
            let mut r = SqlRow::new(row, "android_agents", &location);
            let device = r.id("device_id")?;
            let agent_version = r.text("agent_version")?;
            let applied_configuration_version = r
                .opt_text("applied_configuration_version")?
                .map(|v| ContentVersion::parse(&v).map_err(|e| r.refusal(e)))
                .transpose()?;
            agents.insert(
                device,
                AgentSyncState {
                    agent_version,
                    applied_configuration_version,
                },
            );
        }
        let mut last = 0;
        db.query(SELECT_LAST_ID, &[], &mut |row| {
            last = SqlRow::new(row, "android_queue", &location).count("last_command_id")?;
            Ok(())
        })?;
        Ok(Self {
            db: Mutex::new(db),
            location,
            retention: Retention::DEFAULT,
            journal: Vec::new(),
            last_command_id: last,
            stored_last_command_id: last,
            agents,
        })
    }

    /// The same store keeping `retention` instead.
    #[must_use]
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Writes the pending changes in a transaction of their own, for a
    /// store used without a workspace commit (the usual way is
    /// [`mdm_model::Workspace::commit_with`], which writes them with the
    /// workspace's).
    ///
    /// # Errors
    /// A database failure; the changes stay pending.
    pub fn flush(&mut self) -> Result<(), ModelError> {
        if !self.has_pending() {
            return Ok(());
        }
        let Self {
            db,
            journal,
            retention,
            last_command_id,
            stored_last_command_id,
            location,
            ..
        } = self;
        let last = (*last_command_id != *stored_last_command_id).then_some(*last_command_id);
        db.get_mut()
            .map_err(|_| poisoned(location))?
            .transaction(|s| write(journal, last, *retention, location, s))?;
        self.committed();
        Ok(())
    }
}

/// Writes the journal through `s` (a transaction), in the order told.
fn write(
    journal: &[Change],
    last_command_id: Option<u64>,
    retention: Retention,
    location: &str,
    s: &mut dyn SqlSession,
) -> Result<(), ModelError> {
    let keep = i64::try_from(retention.finished_per_device).unwrap_or(i64::MAX);
    for change in journal {
        match change {
            Change::Queued(device, command) => s.execute(
                INSERT_COMMAND,
                &[
                    int(command.id, location)?,
                    device_int(*device),
                    SqlValue::Text(command.kind.name().into()),
                    SqlValue::Text(time_text(command.issued_at)?),
                ],
            )?,
            Change::Finished(done) => {
                let location_json = done
                    .result
                    .location
                    .map(|l| serde_json::to_string(&l))
                    .transpose()
                    .map_err(|e| ModelError::StoreBackend {
                        backend: "android",
                        location: location.into(),
                        operation: "encode a location in",
                        message: e.to_string(),
                    })?;
                let device = device_int(done.device);
                let mut order = None;
                s.query(
                    FINISH,
                    &[
                        device.clone(),
                        SqlValue::Text(status_name(done.result.status).into()),
                        SqlValue::opt_text(done.result.detail.clone()),
                        SqlValue::opt_text(location_json),
                        SqlValue::Text(time_text(done.reported_at)?),
                        int(done.command.id, location)?,
                    ],
                    &mut |row| {
                        order = row.first().and_then(SqlValue::as_int);
                        Ok(())
                    },
                )?;
                // The device's finished commands are numbered 1, 2, …: the
                // ones `keep` or more behind this one go.
                match order {
                    Some(order) if order > keep => {
                        s.execute(PRUNE, &[device, SqlValue::Int(order - keep)])?
                    }
                    _ => 0,
                }
            }
            Change::Dropped(device) => s.execute(DROP_PENDING, &[device_int(*device)])?,
            Change::Agent(device, state) => s.execute(
                UPSERT_AGENT,
                &[
                    device_int(*device),
                    SqlValue::Text(state.agent_version.clone()),
                    SqlValue::opt_text(state.applied_configuration_version.map(|v| v.to_string())),
                ],
            )?,
            Change::Settings(policy, revision, json) => s.execute(
                UPSERT_SETTINGS,
                &[
                    SqlValue::Int(policy.get().into()),
                    int(*revision, location)?,
                    SqlValue::Text(json.clone()),
                ],
            )?,
        };
    }
    if let Some(last) = last_command_id {
        s.execute(UPSERT_LAST_ID, &[int(last, location)?])?;
    }
    Ok(())
}

/// A panic while the connection was in use left it in an unknown state.
fn poisoned(location: &str) -> ModelError {
    ModelError::StoreBackend {
        backend: "android",
        location: location.into(),
        operation: "use the connection of",
        message: "a panic while it was in use poisoned its lock".into(),
    }
}

fn int(v: u64, location: &str) -> Result<SqlValue, ModelError> {
    i64::try_from(v)
        .map(SqlValue::Int)
        .map_err(|_| ModelError::StoreBackend {
            backend: "android",
            location: location.into(),
            operation: "encode a number in",
            message: format!("{v} does not fit a signed 64-bit column"),
        })
}

fn device_int(device: DeviceId) -> SqlValue {
    SqlValue::Int(device.get().into())
}

fn status_name(status: AgentCommandStatus) -> &'static str {
    match status {
        AgentCommandStatus::Done => "DONE",
        AgentCommandStatus::Failed => "FAILED",
        AgentCommandStatus::Unknown => "UNKNOWN",
    }
}

/// A stored wire name (`LOCK`, `DONE`) read back through its serde form.
fn wire_name<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// `device_id, command_id, kind, issued_at` of a command row.
fn read_command(r: &mut SqlRow<'_>) -> Result<(DeviceId, AgentCommand), ModelError> {
    let device = r.id("device_id")?;
    let id = r.count("command_id")?;
    let kind = r.text("kind")?;
    let kind = match wire_name(&kind) {
        Some(AgentCommandKind::Unknown) | None => {
            return Err(r.refusal(format!("{kind:?} is not a command")));
        }
        Some(k) => k,
    };
    let issued_at = r.time("issued_at")?;
    Ok((
        device,
        AgentCommand {
            id,
            kind,
            issued_at,
        },
    ))
}

impl StoreCompanion for SqlAndroidStore {
    fn has_pending(&self) -> bool {
        !self.journal.is_empty() || self.last_command_id != self.stored_last_command_id
    }

    fn write_pending(&mut self, session: &mut dyn SqlSession) -> Result<(), ModelError> {
        let last =
            (self.last_command_id != self.stored_last_command_id).then_some(self.last_command_id);
        write(&self.journal, last, self.retention, &self.location, session)
    }

    fn committed(&mut self) {
        self.journal.clear();
        self.stored_last_command_id = self.last_command_id;
    }
}

impl AndroidStore for SqlAndroidStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn retention(&self) -> Retention {
        self.retention
    }

    fn load(&mut self) -> Result<AndroidSnapshot, AndroidError> {
        let location = self.location.clone();
        let db = self
            .db
            .get_mut()
            .map_err(|_| store_failed("load the Android store")(poisoned(&location)))?;
        let mut pending = Vec::new();
        db.query(SELECT_PENDING, &[], &mut |row| {
            pending.push(read_command(&mut SqlRow::new(
                row,
                "android_commands",
                &location,
            ))?);
            Ok(())
        })
        .map_err(store_failed("load the Android command queues"))?;
        let mut settings = Vec::new();
        db.query(SELECT_SETTINGS, &[], &mut |row| {
            let mut r = SqlRow::new(row, "android_policy_settings", &location);
            let policy: PolicyId = r.id("policy_id")?;
            let revision = r.count("revision")?;
            let json = r.text("settings")?;
            let parsed: AndroidDeviceSettings =
                serde_json::from_str(&json).map_err(|e| r.refusal(e))?;
            parsed.check().map_err(|e| r.refusal(e))?;
            settings.push((policy, revision, parsed));
            Ok(())
        })
        .map_err(store_failed("load the Android settings"))?;
        let highest = pending.iter().map(|(_, c)| c.id).max().unwrap_or(0);
        if highest > self.last_command_id {
            return Err(store_failed("load the Android command queues")(
                ModelError::StoreCorrupt {
                    location,
                    reason: format!(
                        "android_commands holds command {highest}, beyond android_queue.last_command_id {}",
                        self.last_command_id
                    ),
                },
            ));
        }
        Ok(AndroidSnapshot {
            last_command_id: self.last_command_id,
            pending,
            settings,
        })
    }

    fn command_queued(
        &mut self,
        device: DeviceId,
        command: &AgentCommand,
    ) -> Result<(), AndroidError> {
        self.last_command_id = self.last_command_id.max(command.id);
        self.journal.push(Change::Queued(device, *command));
        Ok(())
    }

    fn command_finished(&mut self, done: &CompletedAgentCommand) -> Result<(), AndroidError> {
        self.journal.push(Change::Finished(done.clone()));
        Ok(())
    }

    fn pending_dropped(&mut self, device: DeviceId) -> Result<(), AndroidError> {
        self.journal.push(Change::Dropped(device));
        Ok(())
    }

    fn agent_synced(
        &mut self,
        device: DeviceId,
        state: &AgentSyncState,
    ) -> Result<(), AndroidError> {
        if self.agents.get(&device) != Some(state) {
            self.agents.insert(device, state.clone());
            self.journal.push(Change::Agent(device, state.clone()));
        }
        Ok(())
    }

    fn agent_state(&self, device: DeviceId) -> Result<Option<AgentSyncState>, AndroidError> {
        Ok(self.agents.get(&device).cloned())
    }

    fn settings_set(
        &mut self,
        policy: PolicyId,
        revision: u64,
        settings: &AndroidDeviceSettings,
    ) -> Result<(), AndroidError> {
        let json = serde_json::to_string(settings).map_err(|e| AndroidError::Render {
            reason: format!("the Android settings of policy {policy}: {e}"),
        })?;
        self.journal.push(Change::Settings(policy, revision, json));
        Ok(())
    }

    fn finished_commands(
        &self,
        device: DeviceId,
    ) -> Result<Vec<CompletedAgentCommand>, AndroidError> {
        let mut out = Vec::new();
        self.db
            .lock()
            .map_err(|_| poisoned(&self.location))
            .and_then(|mut db| {
                db.query(SELECT_FINISHED, &[device_int(device)], &mut |row| {
                    let mut r = SqlRow::new(row, "android_commands", &self.location);
                    let (device, command) = read_command(&mut r)?;
                    let status = r.text("status")?;
                    let status = wire_name(&status)
                        .ok_or_else(|| r.refusal(format!("{status:?} is not a final status")))?;
                    let detail = r.opt_text("detail")?;
                    let location = r
                        .opt_text("location")?
                        .map(|l| serde_json::from_str(&l).map_err(|e| r.refusal(e)))
                        .transpose()?;
                    let reported_at = r.time("reported_at")?;
                    out.push(CompletedAgentCommand {
                        device,
                        result: AgentCommandResult {
                            id: command.id,
                            status,
                            detail,
                            location,
                        },
                        command,
                        reported_at,
                    });
                    Ok(())
                })
            })
            .map_err(store_failed("read the finished Android commands"))?;
        out.extend(self.journal.iter().filter_map(|c| match c {
            Change::Finished(done) if done.device == device => Some(done.clone()),
            _ => None,
        }));
        let excess = out.len().saturating_sub(self.retention.finished_per_device);
        out.drain(..excess);
        Ok(out)
    }
}

/// The store's failure as this crate reports it.
fn store_failed(operation: &'static str) -> impl Fn(mdm_model::ModelError) -> AndroidError {
    move |source| AndroidError::Store { operation, source }
}
