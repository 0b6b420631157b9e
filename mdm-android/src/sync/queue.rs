//! Remote commands per device, delivered on every sync until the agent
//! reports a result (at-least-once).

use std::collections::HashMap;

use mdm_model::{DeviceId, Platform, Workspace};
use time::OffsetDateTime;

use super::wire::{AgentCommand, AgentCommandKind, AgentCommandResult};
use crate::AndroidError;

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
/// result (at-least-once). The model has no command queue, so it lives here.
#[derive(Debug, Clone, Default)]
pub struct AgentCommandQueue {
    next_id: u64,
    pending: HashMap<DeviceId, Vec<AgentCommand>>,
    completed: Vec<CompletedAgentCommand>,
}

impl AgentCommandQueue {
    /// Queues `kind` for `device`. Refused for unknown, non-Android and
    /// departed (wiped, retired) devices.
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
        self.next_id += 1;
        let id = self.next_id;
        self.pending.entry(device).or_default().push(AgentCommand {
            id,
            kind,
            issued_at: now,
        });
        Ok(id)
    }

    /// Commands waiting for `device`.
    pub fn pending(&self, device: DeviceId) -> &[AgentCommand] {
        self.pending.get(&device).map_or(&[], Vec::as_slice)
    }

    /// Results reported so far, oldest first; the caller drains them.
    pub fn take_completed(&mut self) -> Vec<CompletedAgentCommand> {
        std::mem::take(&mut self.completed)
    }

    /// Applies a result: removes the command and keeps the result. Results
    /// for unknown ids (already acknowledged, or never sent) are ignored.
    pub(super) fn acknowledge(
        &mut self,
        device: DeviceId,
        result: &AgentCommandResult,
        now: OffsetDateTime,
    ) -> Option<AgentCommand> {
        let queue = self.pending.get_mut(&device)?;
        let position = queue.iter().position(|c| c.id == result.id)?;
        let command = queue.remove(position);
        if queue.is_empty() {
            self.pending.remove(&device);
        }
        self.completed.push(CompletedAgentCommand {
            device,
            command,
            result: result.clone(),
            reported_at: now,
        });
        Some(command)
    }

    pub(super) fn forget(&mut self, device: DeviceId) {
        self.pending.remove(&device);
    }
}
