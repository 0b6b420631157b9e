//! Where the Android endpoint keeps what a restarted server must still
//! know (issue #18): each device's command queue and the results of its
//! last commands, what each agent last reported about itself (its version,
//! the configuration it applied — the rest of a sync is the workspace's),
//! and the Android settings of each policy.
//!
//! One small object-safe trait, [`AndroidStore`], in the shape of
//! nanomdm's `CommandEnqueuer`: the endpoint keeps the pending commands in
//! memory (the fast path every sync reads) and tells the store each change
//! as it makes it. [`MemoryAndroidStore`] is the default;
//! `SqlAndroidStore` (features `sqlite` / `postgres`) keeps the same
//! state in the workspace's own database, written in the workspace's
//! commit transaction by [`mdm_model::Workspace::commit_with`] — the
//! store is a [`StoreCompanion`]:
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # fn run(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! use mdm_android::{AGENT_PACKAGE, AndroidEndpoint, SqlAndroidStore};
//! use mdm_model::{SqliteStore, WorkspaceStore};
//!
//! let mut workspaces = SqliteStore::open(path)?; // creates or checks the file
//! let mut ws = workspaces.load()?.expect("a tenant");
//! let store = SqlAndroidStore::open_sqlite(path, Default::default())?;
//! let mut endpoint = AndroidEndpoint::with_store(AGENT_PACKAGE, store)?; // queues reloaded
//! // … endpoint.handle_sync(&mut ws, …) and endpoint.commands.enqueue(&ws, …) …
//! ws.commit_with(&mut workspaces, &mut [endpoint.companion()])?; // ONE transaction
//! # Ok(()) }
//! ```
//!
//! A crash before `commit_with` returns leaves neither the workspace's
//! changes nor the queues', after it both: answer devices after the commit.
//! After [`mdm_model::ModelError::StoreConflict`] (another writer committed
//! first), reload the workspace and open the endpoint again.
//!
//! # Retention
//! Queues keep the [`Retention`] rule of every command queue in the
//! toolkit: a device keeps all its pending commands and its last
//! `finished_per_device` (default 20) finished commands with their results;
//! older ones are deleted in the step (the commit) that finishes a newer
//! one, so a queue never grows without bound. A late result for a deleted
//! command is ignored, like one for a command never sent. The pending
//! commands of a device that left management (wiped, retired) are dropped.

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

pub use memory::MemoryAndroidStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::{ANDROID_COMPONENT, SqlAndroidStore};

use mdm_model::storage::{Retention, StoreCompanion};
use mdm_model::{DeviceId, PolicyId};

use crate::AndroidError;
use crate::configuration::{AndroidDeviceSettings, ContentVersion};
use crate::sync::{AgentCommand, CompletedAgentCommand};

/// What an agent last reported about itself: the per-device sync state
/// the workspace does not keep (it keeps the sync's time, OS version and
/// protection status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSyncState {
    /// The agent's `versionName`.
    pub agent_version: String,
    /// The configuration version it has applied (`None` before the first).
    pub applied_configuration_version: Option<ContentVersion>,
}

/// Everything an endpoint needs when it opens over a store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AndroidSnapshot {
    /// The highest command id ever issued (ids are never reused, even after
    /// their commands were pruned).
    pub last_command_id: u64,
    /// Pending commands, per device in queue (id) order.
    pub pending: Vec<(DeviceId, AgentCommand)>,
    /// The Android settings of each policy, with the revision they were set at.
    pub settings: Vec<(PolicyId, u64, AndroidDeviceSettings)>,
}

/// The Android endpoint's durable state, one concern: command queues and
/// results, agents' reports, policies' Android settings. Each change is
/// told as the endpoint makes it; a durable store keeps it pending until
/// the next commit ([`StoreCompanion`]). Every method may fail with
/// [`AndroidError::Store`] in a durable implementation.
pub trait AndroidStore: StoreCompanion + Send + Sync + std::fmt::Debug {
    /// Where the store is, for messages.
    fn location(&self) -> String;

    /// Its retention rule.
    fn retention(&self) -> Retention;

    /// What the store holds (read once, when an endpoint opens over it).
    ///
    /// # Errors
    /// [`AndroidError::Store`]: a database failure, or rows that do not make
    /// valid commands ([`mdm_model::ModelError::StoreCorrupt`]).
    fn load(&mut self) -> Result<AndroidSnapshot, AndroidError>;

    /// `command` was queued for `device`.
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    fn command_queued(
        &mut self,
        device: DeviceId,
        command: &AgentCommand,
    ) -> Result<(), AndroidError>;

    /// A pending command finished with the agent's result; the store
    /// applies the retention rule to the device's history.
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    fn command_finished(&mut self, done: &CompletedAgentCommand) -> Result<(), AndroidError>;

    /// The device left management: its pending commands are dropped (its
    /// finished ones stay, by the retention rule).
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    fn pending_dropped(&mut self, device: DeviceId) -> Result<(), AndroidError>;

    /// What the agent reported in a sync the workspace recorded.
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    fn agent_synced(
        &mut self,
        device: DeviceId,
        state: &AgentSyncState,
    ) -> Result<(), AndroidError>;

    /// What the agent of `device` last reported, if it ever synced.
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    fn agent_state(&self, device: DeviceId) -> Result<Option<AgentSyncState>, AndroidError>;

    /// A policy's Android settings were set (at `revision`).
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    fn settings_set(
        &mut self,
        policy: PolicyId,
        revision: u64,
        settings: &AndroidDeviceSettings,
    ) -> Result<(), AndroidError>;

    /// The finished commands of `device` still kept, oldest first: at most
    /// [`Retention::finished_per_device`], each with its result.
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    fn finished_commands(
        &self,
        device: DeviceId,
    ) -> Result<Vec<CompletedAgentCommand>, AndroidError>;
}
