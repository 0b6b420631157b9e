//! The in-memory [`AndroidStore`]: hash maps, for tests, the harness and
//! single-process servers. It keeps history by the same [`Retention`] rule
//! as the durable store, and hands what it holds to an endpoint opened over
//! it again ([`crate::AndroidEndpoint::into_store`]).

use std::collections::{BTreeMap, HashMap, VecDeque};

use mdm_model::storage::{Retention, SqlSession, StoreCompanion};
use mdm_model::{DeviceId, ModelError, PolicyId};

use super::{AgentSyncState, AndroidSnapshot, AndroidStore};
use crate::AndroidError;
use crate::configuration::AndroidDeviceSettings;
use crate::sync::{AgentCommand, CompletedAgentCommand};

/// Command queues, results, agents' reports and settings in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryAndroidStore {
    last_command_id: u64,
    pending: HashMap<DeviceId, Vec<AgentCommand>>,
    history: HashMap<DeviceId, VecDeque<CompletedAgentCommand>>,
    agents: HashMap<DeviceId, AgentSyncState>,
    settings: BTreeMap<PolicyId, (u64, AndroidDeviceSettings)>,
    retention: Retention,
}

impl MemoryAndroidStore {
    /// An empty store keeping [`Retention::DEFAULT`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store keeping `retention`.
    pub fn with_retention(retention: Retention) -> Self {
        Self {
            retention,
            ..Self::default()
        }
    }
}

/// Nothing waits in a memory store (its changes apply at once), so it
/// takes part in [`mdm_model::Workspace::commit_with`] without writing:
/// code written for the durable store runs on it unchanged.
impl StoreCompanion for MemoryAndroidStore {
    fn has_pending(&self) -> bool {
        false
    }

    fn write_pending(&mut self, _: &mut dyn SqlSession) -> Result<(), ModelError> {
        Ok(())
    }

    fn committed(&mut self) {}
}

impl AndroidStore for MemoryAndroidStore {
    fn location(&self) -> String {
        "memory".into()
    }

    fn retention(&self) -> Retention {
        self.retention
    }

    fn load(&mut self) -> Result<AndroidSnapshot, AndroidError> {
        let mut pending: Vec<_> = self
            .pending
            .iter()
            .flat_map(|(d, q)| q.iter().map(|c| (*d, *c)))
            .collect();
        pending.sort_by_key(|(d, c)| (*d, c.id));
        Ok(AndroidSnapshot {
            last_command_id: self.last_command_id,
            pending,
            settings: self
                .settings
                .iter()
                .map(|(p, (r, s))| (*p, *r, s.clone()))
                .collect(),
        })
    }

    fn command_queued(
        &mut self,
        device: DeviceId,
        command: &AgentCommand,
    ) -> Result<(), AndroidError> {
        self.last_command_id = self.last_command_id.max(command.id);
        self.pending.entry(device).or_default().push(*command);
        Ok(())
    }

    fn command_finished(&mut self, done: &CompletedAgentCommand) -> Result<(), AndroidError> {
        if let Some(queue) = self.pending.get_mut(&done.device) {
            queue.retain(|c| c.id != done.command.id);
            if queue.is_empty() {
                self.pending.remove(&done.device);
            }
        }
        let kept = self.history.entry(done.device).or_default();
        kept.push_back(done.clone());
        while kept.len() > self.retention.finished_per_device {
            kept.pop_front();
        }
        Ok(())
    }

    fn pending_dropped(&mut self, device: DeviceId) -> Result<(), AndroidError> {
        self.pending.remove(&device);
        Ok(())
    }

    fn agent_synced(
        &mut self,
        device: DeviceId,
        state: &AgentSyncState,
    ) -> Result<(), AndroidError> {
        if self.agents.get(&device) != Some(state) {
            self.agents.insert(device, state.clone());
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
        self.settings.insert(policy, (revision, settings.clone()));
        Ok(())
    }

    fn finished_commands(
        &self,
        device: DeviceId,
    ) -> Result<Vec<CompletedAgentCommand>, AndroidError> {
        Ok(self
            .history
            .get(&device)
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default())
    }
}
