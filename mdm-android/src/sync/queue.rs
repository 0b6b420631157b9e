//! Remote commands per device, delivered on every sync until the agent
//! reports a result (at-least-once), kept in an [`AndroidStore`].

use std::collections::HashMap;

use mdm_model::{DeviceId, Platform, Workspace};
use time::OffsetDateTime;

use super::wire::{AgentCommand, AgentCommandKind, AgentCommandResult};
use crate::AndroidError;
use crate::store::{AndroidSnapshot, AndroidStore, MemoryAndroidStore};

/// A command's result once the agent reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletedAgentCommand {
    /// The device.
    pub device: DeviceId,
    /// The command.
    pub command: AgentCommand,
    /// What the agent reported.
    pub result: AgentCommandResult,
    /// When the result arrived.
    pub reported_at: OffsetDateTime,
}

/// Remote commands per device, delivered on sync until the agent reports a
/// result (at-least-once). The model has no command queue, so it lives
/// here: the pending commands in memory (every sync reads them), each
/// change told to the store ([`MemoryAndroidStore`] by default).
#[derive(Debug)]
pub struct AgentCommandQueue {
    next_id: u64,
    pending: HashMap<DeviceId, Vec<AgentCommand>>,
    completed: Vec<CompletedAgentCommand>,
    pub(crate) store: Box<dyn AndroidStore>,
}

impl Default for AgentCommandQueue {
    fn default() -> Self {
        Self {
            next_id: 0,
            pending: HashMap::new(),
            completed: Vec::new(),
            store: Box::new(MemoryAndroidStore::new()),
        }
    }
}

impl AgentCommandQueue {
    /// The queues held in `snapshot`, kept in `store` from now on.
    pub(crate) fn restored(snapshot: &AndroidSnapshot, store: Box<dyn AndroidStore>) -> Self {
        let mut pending: HashMap<DeviceId, Vec<AgentCommand>> = HashMap::new();
        for (device, command) in &snapshot.pending {
            pending.entry(*device).or_default().push(*command);
        }
        Self {
            next_id: snapshot.last_command_id,
            pending,
            completed: Vec::new(),
            store,
        }
    }

    /// Queues `kind` for `device`. Refused for unknown, non-Android and
    /// departed (wiped, retired) devices.
    ///
    /// # Errors
    /// [`AndroidError::CommandRefused`], or [`AndroidError::Store`].
    pub fn enqueue(
        &mut self,
        workspace: &Workspace,
        device: DeviceId,
        kind: AgentCommandKind,
        now: OffsetDateTime,
    ) -> Result<u64, AndroidError> {
        let refuse = |reason: String| AndroidError::CommandRefused {
            command: kind.name(),
            device_id: device.to_string(),
            reason,
        };
        if kind == AgentCommandKind::Unknown {
            return Err(refuse("not a command".into()));
        }
        let record = workspace
            .device(device)
            .map_err(|e| refuse(e.to_string()))?;
        if record.platform() != Platform::Android {
            return Err(refuse("not an Android device".into()));
        }
        if record.state().is_terminal() {
            return Err(refuse(format!("the device is {}", record.state())));
        }
        let command = AgentCommand {
            id: self.next_id + 1,
            kind,
            issued_at: now,
        };
        self.store.command_queued(device, &command)?;
        self.next_id = command.id;
        self.pending.entry(device).or_default().push(command);
        Ok(command.id)
    }

    /// Commands waiting for `device`.
    pub fn pending(&self, device: DeviceId) -> &[AgentCommand] {
        self.pending.get(&device).map_or(&[], Vec::as_slice)
    }

    /// The finished commands of `device` the store still keeps (the
    /// [`mdm_model::storage::Retention`] rule), oldest first.
    ///
    /// # Errors
    /// [`AndroidError::Store`].
    pub fn finished(&self, device: DeviceId) -> Result<Vec<CompletedAgentCommand>, AndroidError> {
        self.store.finished_commands(device)
    }

    /// Results reported since the last call, oldest first; the caller
    /// drains them (the store keeps its own history).
    pub fn take_completed(&mut self) -> Vec<CompletedAgentCommand> {
        std::mem::take(&mut self.completed)
    }

    /// Applies a result: removes the command and keeps the result. Results
    /// for unknown ids (already acknowledged, pruned, or never sent) are
    /// ignored.
    pub(super) fn acknowledge(
        &mut self,
        device: DeviceId,
        result: &AgentCommandResult,
        now: OffsetDateTime,
    ) -> Result<Option<AgentCommand>, AndroidError> {
        let Some(queue) = self.pending.get_mut(&device) else {
            return Ok(None);
        };
        let Some(position) = queue.iter().position(|c| c.id == result.id) else {
            return Ok(None);
        };
        let done = CompletedAgentCommand {
            device,
            command: queue[position],
            result: result.clone(),
            reported_at: now,
        };
        self.store.command_finished(&done)?;
        queue.remove(position);
        if queue.is_empty() {
            self.pending.remove(&device);
        }
        let command = done.command;
        self.completed.push(done);
        Ok(Some(command))
    }

    /// Drops the pending commands of a device that left management.
    pub(super) fn forget(&mut self, device: DeviceId) -> Result<(), AndroidError> {
        if self.pending.remove(&device).is_some() {
            self.store.pending_dropped(device)?;
        }
        Ok(())
    }
}
