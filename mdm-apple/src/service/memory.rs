//! The in-memory [`AppleStore`]: hash maps, for tests, the harness and
//! single-process servers. It keeps command history by the same
//! [`Retention`] rule as the durable stores.

use std::collections::{HashMap, VecDeque};

use mdm_model::{DeviceId, Sha256Digest};

use super::store::{
    AppleStore, EnrollmentRecord, QueueStep, Retention, step_with_queue, step_without_queue,
};
use crate::command::CommandRequest;
use crate::error::Result;
use crate::message::{AppleDeviceId, CommandReport};
use crate::queue::{CommandQueue, FinishedCommand};

/// Enrollments, expected identities and command queues in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    enrollments: HashMap<AppleDeviceId, EnrollmentRecord>,
    expected: HashMap<Sha256Digest, DeviceId>,
    queues: HashMap<AppleDeviceId, CommandQueue>,
    history: HashMap<AppleDeviceId, VecDeque<FinishedCommand>>,
    retention: Retention,
}

impl MemoryStore {
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

    /// The queue of `device`, if it ever had a command.
    pub fn queue(&self, device: &AppleDeviceId) -> Option<&CommandQueue> {
        self.queues.get(device)
    }

    /// Every queue, in no particular order.
    pub fn queues(&self) -> impl Iterator<Item = &CommandQueue> {
        self.queues.values()
    }
}

/// Nothing waits in a memory store (its changes apply at once), so it
/// takes part in [`mdm_model::Workspace::commit_with`] without writing:
/// code written for a durable store runs on it unchanged.
impl mdm_model::storage::StoreCompanion for MemoryStore {
    fn has_pending(&self) -> bool {
        false
    }

    fn write_pending(
        &mut self,
        _: &mut dyn mdm_model::storage::SqlSession,
    ) -> std::result::Result<(), mdm_model::ModelError> {
        Ok(())
    }

    fn committed(&mut self) {}
}

impl AppleStore for MemoryStore {
    fn enrollment(&self, device: &AppleDeviceId) -> Result<Option<EnrollmentRecord>> {
        Ok(self.enrollments.get(device).cloned())
    }

    fn save_enrollment(&mut self, device: &AppleDeviceId, record: EnrollmentRecord) -> Result<()> {
        self.enrollments.insert(device.clone(), record);
        Ok(())
    }

    fn expect_identity(&mut self, identity: Sha256Digest, device: DeviceId) -> Result<()> {
        self.expected.insert(identity, device);
        Ok(())
    }

    fn take_expected_identity(&mut self, identity: &Sha256Digest) -> Result<Option<DeviceId>> {
        Ok(self.expected.remove(identity))
    }

    fn enqueue(&mut self, device: &AppleDeviceId, request: CommandRequest) -> Result<()> {
        self.queues
            .entry(device.clone())
            .or_insert_with(|| CommandQueue::new(device.clone()))
            .enqueue(request)
    }

    fn record_report(
        &mut self,
        device: &AppleDeviceId,
        report: &CommandReport,
    ) -> Result<QueueStep> {
        let Some(queue) = self.queues.get_mut(device) else {
            return Ok(step_without_queue(device, report));
        };
        let (step, done) = step_with_queue(queue, report)?;
        if !done.is_empty() {
            let kept = self.history.entry(device.clone()).or_default();
            kept.extend(done);
            while kept.len() > self.retention.finished_per_device {
                if let Some(old) = kept.pop_front() {
                    queue.forget_finished(&old.uuid);
                }
            }
        }
        Ok(step)
    }

    fn pending_commands(&self, device: &AppleDeviceId) -> Result<usize> {
        Ok(self.queues.get(device).map_or(0, CommandQueue::pending_len))
    }

    fn finished_commands(&self, device: &AppleDeviceId) -> Result<Vec<FinishedCommand>> {
        Ok(self
            .history
            .get(device)
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default())
    }
}
