//! A per-device command queue that follows the MDM protocol (R-IO-2).
//!
//! * A command stays at the head until a report with its `CommandUUID`
//!   says `Acknowledged`, `Error` or `CommandFormatError`.
//! * `NotNow` (or an unknown status) skips the command for the rest of the
//!   connection — the next `Idle` (or [`CommandQueue::begin_connection`])
//!   makes it eligible again — so a device that keeps saying `NotNow` can
//!   never loop the server.
//! * Reports are idempotent: a repeated final report, or one for a command
//!   never queued, changes nothing and is reported as such.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::command::{CommandRequest, RequestType};
use crate::error::{AppleError, Result};
use crate::ids::CommandUuid;
use crate::message::{CommandReport, CommandStatus};

/// A command waiting for its final report.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCommand {
    /// The command as sent.
    pub request: CommandRequest,
    /// How many `NotNow` (or other non-final) reports it has collected.
    pub not_now_count: u32,
}

/// A command that got its final report.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedCommand {
    /// Its UUID.
    pub uuid: CommandUuid,
    /// Its request type.
    pub request_type: RequestType,
    /// The final report (status `Acknowledged`, `Error` or `CommandFormatError`),
    /// with the response keys and error chain.
    pub report: CommandReport,
}

/// What a report did to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// `Idle`: a new connection began; commands skipped by `NotNow` are eligible again.
    Idle,
    /// The command finished with this status and left the queue.
    Finished(CommandUuid, CommandStatus),
    /// The device deferred the command (`NotNow` or an unknown status); it
    /// is skipped for the rest of this connection.
    Deferred(CommandUuid),
    /// A repeated report for a command that already finished: ignored.
    Duplicate(CommandUuid),
    /// A report for a command this queue never held: ignored.
    Unknown(CommandUuid),
}

/// One device's command queue.
#[derive(Debug, Clone, Default)]
pub struct CommandQueue {
    pending: VecDeque<PendingCommand>,
    skipped: HashSet<CommandUuid>,
    finished: Vec<FinishedCommand>,
    finished_uuids: HashMap<CommandUuid, usize>,
}

impl CommandQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a command.
    ///
    /// # Errors
    /// [`AppleError::DuplicateCommand`] when its UUID is pending or finished.
    pub fn enqueue(&mut self, request: CommandRequest) -> Result<()> {
        let uuid = &request.uuid;
        if self.finished_uuids.contains_key(uuid) || self.pending.iter().any(|p| &p.request.uuid == uuid) {
            return Err(AppleError::DuplicateCommand { uuid: uuid.to_string() });
        }
        self.pending.push_back(PendingCommand { request, not_now_count: 0 });
        Ok(())
    }

    /// Starts a new connection (the device was pushed and checked in):
    /// commands deferred by `NotNow` become eligible again. An `Idle`
    /// report does the same.
    pub fn begin_connection(&mut self) {
        self.skipped.clear();
    }

    /// The command to send now: the first pending command not deferred in
    /// this connection. `None` means answer with an empty body (the
    /// connection ends).
    pub fn next_command(&self) -> Option<&CommandRequest> {
        self.pending.iter().map(|p| &p.request).find(|r| !self.skipped.contains(&r.uuid))
    }

    /// Records a device report and says what it changed.
    pub fn record(&mut self, report: &CommandReport) -> ReportOutcome {
        let uuid = match (&report.status, &report.command_uuid) {
            (CommandStatus::Idle, _) | (_, None) => {
                self.begin_connection();
                return ReportOutcome::Idle;
            }
            (_, Some(uuid)) => uuid,
        };
        if self.finished_uuids.contains_key(uuid) {
            return ReportOutcome::Duplicate(uuid.clone());
        }
        let Some(index) = self.pending.iter().position(|p| &p.request.uuid == uuid) else {
            return ReportOutcome::Unknown(uuid.clone());
        };
        if report.status.is_final() {
            let Some(done) = self.pending.remove(index) else {
                return ReportOutcome::Unknown(uuid.clone());
            };
            self.skipped.remove(uuid);
            self.finished_uuids.insert(uuid.clone(), self.finished.len());
            self.finished.push(FinishedCommand {
                uuid: uuid.clone(),
                request_type: done.request.command.request_type(),
                report: report.clone(),
            });
            ReportOutcome::Finished(uuid.clone(), report.status.clone())
        } else {
            if let Some(p) = self.pending.get_mut(index) {
                p.not_now_count = p.not_now_count.saturating_add(1);
            }
            self.skipped.insert(uuid.clone());
            ReportOutcome::Deferred(uuid.clone())
        }
    }

    /// Records a report and returns the command to answer with — the usual
    /// server step for one PUT to `ServerURL`.
    pub fn respond(&mut self, report: &CommandReport) -> (ReportOutcome, Option<&CommandRequest>) {
        let outcome = self.record(report);
        (outcome, self.next_command())
    }

    /// Removes a pending command (an administrator cancelled it).
    pub fn cancel(&mut self, uuid: &CommandUuid) -> Option<CommandRequest> {
        let index = self.pending.iter().position(|p| &p.request.uuid == uuid)?;
        self.skipped.remove(uuid);
        self.pending.remove(index).map(|p| p.request)
    }

    /// Commands still waiting, in queue order.
    pub fn pending(&self) -> impl Iterator<Item = &PendingCommand> {
        self.pending.iter()
    }

    /// How many commands are waiting.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Commands that finished, in the order their final reports arrived.
    pub fn finished(&self) -> &[FinishedCommand] {
        &self.finished
    }

    /// The final report of a finished command.
    pub fn result_of(&self, uuid: &CommandUuid) -> Option<&FinishedCommand> {
        self.finished_uuids.get(uuid).and_then(|i| self.finished.get(*i))
    }

    /// Whether a command is deferred for the rest of this connection.
    pub fn is_deferred(&self, uuid: &CommandUuid) -> bool {
        self.skipped.contains(uuid)
    }
}
