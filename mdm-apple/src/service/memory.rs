//! The in-memory [`AppleStore`]: hash maps, for tests, the harness and
//! single-process servers.

use std::collections::HashMap;

use mdm_model::{DeviceId, Sha256Digest};

use super::store::{AppleStore, EnrollmentRecord, QueueStep};
use crate::command::CommandRequest;
use crate::error::Result;
use crate::message::{AppleDeviceId, CommandReport};
use crate::queue::{CommandQueue, ReportOutcome};

/// Enrollments, expected identities and command queues in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    enrollments: HashMap<AppleDeviceId, EnrollmentRecord>,
    expected: HashMap<Sha256Digest, DeviceId>,
    queues: HashMap<AppleDeviceId, CommandQueue>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
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
            // No command was ever queued: an Idle gets an empty answer, a
            // result names a command this server never sent.
            let outcome = match &report.command_uuid {
                _ if report.device != *device => ReportOutcome::Unmatched,
                Some(uuid) if report.status != crate::CommandStatus::Idle => {
                    ReportOutcome::Unknown(uuid.clone())
                }
                _ => ReportOutcome::Idle,
            };
            return Ok(QueueStep {
                outcome,
                finished: None,
                next: None,
            });
        };
        let (outcome, next) = queue.respond(report)?;
        let next = next.cloned();
        let finished = match &outcome {
            ReportOutcome::Finished(uuid, _) => queue
                .finished()
                .iter()
                .rev()
                .find(|f| &f.uuid == uuid)
                .map(|f| f.request_type.clone()),
            _ => None,
        };
        Ok(QueueStep {
            outcome,
            finished,
            next,
        })
    }

    fn pending_commands(&self, device: &AppleDeviceId) -> Result<usize> {
        Ok(self.queues.get(device).map_or(0, CommandQueue::pending_len))
    }
}
