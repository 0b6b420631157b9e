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
//! * A queue belongs to one device: a report that names another device
//!   (another `UDID` or `EnrollmentID`) is refused and changes nothing.

use std::collections::{HashSet, VecDeque};

use crate::command::{CommandRequest, RequestType};
use crate::error::{AppleError, Result};
use crate::ids::CommandUuid;
use crate::message::{AppleDeviceId, CommandReport, CommandStatus};

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
    /// A non-`Idle` report without `CommandUUID` (only a hand-built report
    /// can be one; [`crate::decode`] refuses it): ignored.
    Unmatched,
}

/// One device's command queue.
#[derive(Debug, Clone)]
pub struct CommandQueue {
    device: AppleDeviceId,
    pending: VecDeque<PendingCommand>,
    skipped: HashSet<CommandUuid>,
    finished: Vec<FinishedCommand>,
    finished_uuids: HashSet<CommandUuid>,
}

impl CommandQueue {
    /// An empty queue for `device`: only that device's reports are recorded.
    pub fn new(device: AppleDeviceId) -> Self {
        Self {
            device,
            pending: VecDeque::new(),
            skipped: HashSet::new(),
            finished: Vec::new(),
            finished_uuids: HashSet::new(),
        }
    }

    /// A queue rebuilt from what a durable [`crate::AppleStore`] saved of
    /// it: the pending commands in queue order, those deferred in the
    /// current connection, and the UUIDs of the finished commands it still
    /// remembers (a repeated report for one is a duplicate; their reports
    /// are not held).
    pub fn from_parts(
        device: AppleDeviceId,
        pending: impl IntoIterator<Item = PendingCommand>,
        deferred: impl IntoIterator<Item = CommandUuid>,
        finished: impl IntoIterator<Item = CommandUuid>,
    ) -> Self {
        let pending: VecDeque<PendingCommand> = pending.into_iter().collect();
        let skipped = deferred
            .into_iter()
            .filter(|u| pending.iter().any(|p| &p.request.uuid == u))
            .collect();
        Self {
            device,
            pending,
            skipped,
            finished: Vec::new(),
            finished_uuids: finished.into_iter().collect(),
        }
    }

    /// Forgets a finished command (the retention rule dropped it): its
    /// report, if still held, and its UUID, so a late report for it is
    /// then `Unknown` rather than `Duplicate` (ignored either way).
    pub fn forget_finished(&mut self, uuid: &CommandUuid) {
        self.finished_uuids.remove(uuid);
        self.finished.retain(|f| &f.uuid != uuid);
    }

    /// The device this queue belongs to.
    pub fn device(&self) -> &AppleDeviceId {
        &self.device
    }

    /// Appends a command.
    ///
    /// # Errors
    /// [`AppleError::DuplicateCommand`] when its UUID is pending or finished.
    pub fn enqueue(&mut self, request: CommandRequest) -> Result<()> {
        let uuid = &request.uuid;
        if self.finished_uuids.contains(uuid)
            || self.pending.iter().any(|p| &p.request.uuid == uuid)
        {
            return Err(AppleError::DuplicateCommand {
                uuid: uuid.to_string(),
            });
        }
        self.pending.push_back(PendingCommand {
            request,
            not_now_count: 0,
        });
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
        self.pending
            .iter()
            .map(|p| &p.request)
            .find(|r| !self.skipped.contains(&r.uuid))
    }

    /// Records a device report and says what it changed.
    ///
    /// # Errors
    /// [`AppleError::ReportFromOtherDevice`] when the report names another
    /// device than the queue's; the queue is left as it was.
    pub fn record(&mut self, report: &CommandReport) -> Result<ReportOutcome> {
        if report.device != self.device {
            return Err(AppleError::ReportFromOtherDevice {
                expected: self.device.to_string(),
                received: report.device.to_string(),
            });
        }
        let uuid = match (&report.status, &report.command_uuid) {
            (CommandStatus::Idle, _) => {
                self.begin_connection();
                return Ok(ReportOutcome::Idle);
            }
            (_, None) => return Ok(ReportOutcome::Unmatched),
            (_, Some(uuid)) => uuid,
        };
        if self.finished_uuids.contains(uuid) {
            return Ok(ReportOutcome::Duplicate(uuid.clone()));
        }
        let Some(index) = self.pending.iter().position(|p| &p.request.uuid == uuid) else {
            return Ok(ReportOutcome::Unknown(uuid.clone()));
        };
        Ok(if report.status.is_final() {
            let Some(done) = self.pending.remove(index) else {
                return Ok(ReportOutcome::Unknown(uuid.clone()));
            };
            self.skipped.remove(uuid);
            self.finished_uuids.insert(uuid.clone());
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
        })
    }

    /// Records a report and returns the command to answer with — the usual
    /// server step for one PUT to `ServerURL`.
    ///
    /// # Errors
    /// As [`CommandQueue::record`].
    pub fn respond(
        &mut self,
        report: &CommandReport,
    ) -> Result<(ReportOutcome, Option<&CommandRequest>)> {
        let outcome = self.record(report)?;
        Ok((outcome, self.next_command()))
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

    /// The final report of a finished command (until taken).
    pub fn result_of(&self, uuid: &CommandUuid) -> Option<&FinishedCommand> {
        self.finished.iter().find(|f| &f.uuid == uuid)
    }

    /// Hands over the finished commands (for storage or webhooks) and
    /// frees their reports. Their UUIDs are remembered, so a late repeated
    /// report is still recognised as a duplicate and the UUID cannot be
    /// enqueued again.
    pub fn take_finished(&mut self) -> Vec<FinishedCommand> {
        std::mem::take(&mut self.finished)
    }

    /// Whether a command is deferred for the rest of this connection.
    pub fn is_deferred(&self, uuid: &CommandUuid) -> bool {
        self.skipped.contains(uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, DeviceLock, SecurityInfo};
    use crate::message::AppleDeviceId;
    use proptest::prelude::*;

    fn dev() -> AppleDeviceId {
        AppleDeviceId::Udid("D".into())
    }

    fn uuid(n: usize) -> CommandUuid {
        CommandUuid::new(format!("cmd-{n}")).unwrap()
    }

    fn req(n: usize) -> CommandRequest {
        CommandRequest::new(
            uuid(n),
            if n.is_multiple_of(2) {
                Command::SecurityInfo(SecurityInfo)
            } else {
                Command::DeviceLock(DeviceLock::default())
            },
        )
    }

    fn report(n: usize, status: CommandStatus) -> CommandReport {
        CommandReport::result(dev(), uuid(n), status, crate::PlistDictionary::new())
    }

    #[test]
    fn head_stays_until_final_report() {
        let mut q = CommandQueue::new(dev());
        q.enqueue(req(1)).unwrap();
        q.enqueue(req(2)).unwrap();
        assert!(q.enqueue(req(1)).is_err());
        assert_eq!(
            q.respond(&CommandReport::idle(dev()))
                .unwrap()
                .1
                .map(|r| r.uuid.clone()),
            Some(uuid(1))
        );
        // Idle again without a result: the same head is handed out again.
        assert_eq!(
            q.respond(&CommandReport::idle(dev()))
                .unwrap()
                .1
                .map(|r| r.uuid.clone()),
            Some(uuid(1))
        );
        // A final report for another command does not move the head past 1.
        assert_eq!(
            q.record(&report(2, CommandStatus::Acknowledged)),
            Ok(ReportOutcome::Finished(
                uuid(2),
                CommandStatus::Acknowledged
            ))
        );
        assert_eq!(q.next_command().map(|r| r.uuid.clone()), Some(uuid(1)));
        let (o, next) = q.respond(&report(1, CommandStatus::Error)).unwrap();
        assert_eq!(o, ReportOutcome::Finished(uuid(1), CommandStatus::Error));
        assert!(next.is_none());
        assert_eq!(q.finished().len(), 2);
        assert_eq!(
            q.result_of(&uuid(1)).map(|f| f.request_type.clone()),
            Some(RequestType::DeviceLock)
        );
        // Enqueueing a finished UUID again is refused, even after the records are taken.
        assert!(q.enqueue(req(1)).is_err());
        assert_eq!(q.take_finished().len(), 2);
        assert!(q.finished().is_empty());
        assert!(q.enqueue(req(1)).is_err());
        assert_eq!(
            q.record(&report(1, CommandStatus::Acknowledged)),
            Ok(ReportOutcome::Duplicate(uuid(1)))
        );
    }

    #[test]
    fn not_now_skips_for_the_connection_only() {
        let mut q = CommandQueue::new(dev());
        q.enqueue(req(1)).unwrap();
        q.enqueue(req(2)).unwrap();
        q.begin_connection();
        let (o, next) = q.respond(&report(1, CommandStatus::NotNow)).unwrap();
        assert_eq!(o, ReportOutcome::Deferred(uuid(1)));
        assert_eq!(next.map(|r| r.uuid.clone()), Some(uuid(2)));
        let (_, next) = q.respond(&report(2, CommandStatus::NotNow)).unwrap();
        assert!(next.is_none(), "everything deferred: the connection ends");
        // Next connection: both are retried, in order.
        let (o, next) = q.respond(&CommandReport::idle(dev())).unwrap();
        assert_eq!(o, ReportOutcome::Idle);
        assert_eq!(next.map(|r| r.uuid.clone()), Some(uuid(1)));
        assert_eq!(q.pending().next().map(|p| p.not_now_count), Some(1));
    }

    #[test]
    fn duplicates_and_unknown_reports_are_harmless() {
        let mut q = CommandQueue::new(dev());
        q.enqueue(req(1)).unwrap();
        q.record(&report(1, CommandStatus::Acknowledged)).unwrap();
        assert_eq!(
            q.record(&report(1, CommandStatus::Acknowledged)),
            Ok(ReportOutcome::Duplicate(uuid(1)))
        );
        assert_eq!(
            q.record(&report(1, CommandStatus::NotNow)),
            Ok(ReportOutcome::Duplicate(uuid(1)))
        );
        assert_eq!(
            q.record(&report(9, CommandStatus::Acknowledged)),
            Ok(ReportOutcome::Unknown(uuid(9)))
        );
        let mut no_uuid = report(2, CommandStatus::NotNow);
        no_uuid.command_uuid = None;
        assert_eq!(q.record(&no_uuid), Ok(ReportOutcome::Unmatched));
        assert_eq!(q.finished().len(), 1);
        assert_eq!(q.pending_len(), 0);
        q.enqueue(req(3)).unwrap();
        assert_eq!(q.cancel(&uuid(3)).map(|r| r.uuid), Some(uuid(3)));
        assert!(q.next_command().is_none());
    }

    #[test]
    fn a_report_from_another_device_is_refused_and_changes_nothing() {
        let mut q = CommandQueue::new(dev());
        q.enqueue(req(1)).unwrap();
        let other = AppleDeviceId::Udid("OTHER".into());
        for status in [CommandStatus::Acknowledged, CommandStatus::NotNow] {
            let forged = CommandReport::result(
                other.clone(),
                uuid(1),
                status,
                crate::PlistDictionary::new(),
            );
            assert_eq!(
                q.record(&forged),
                Err(AppleError::ReportFromOtherDevice {
                    expected: "D".into(),
                    received: "OTHER".into(),
                })
            );
            assert!(q.respond(&forged).is_err());
        }
        // The same id as a user enrollment's EnrollmentID is another device too.
        let enrollment = CommandReport::idle(AppleDeviceId::EnrollmentId("D".into()));
        assert!(matches!(
            q.record(&enrollment),
            Err(AppleError::ReportFromOtherDevice { .. })
        ));
        assert_eq!(q.pending_len(), 1);
        assert!(q.finished().is_empty());
        assert!(!q.is_deferred(&uuid(1)));
        assert_eq!(q.device(), &dev());
        assert_eq!(
            q.record(&report(1, CommandStatus::Acknowledged)),
            Ok(ReportOutcome::Finished(
                uuid(1),
                CommandStatus::Acknowledged
            ))
        );
    }

    #[derive(Debug, Clone)]
    enum Step {
        Enqueue,
        Idle,
        /// Report on the command handed out last, or on an arbitrary index.
        Answer(u8),
        ReportOn(usize, u8),
        Replay(usize),
    }

    fn status(n: u8) -> CommandStatus {
        match n % 5 {
            0 => CommandStatus::Acknowledged,
            1 => CommandStatus::Error,
            2 => CommandStatus::CommandFormatError,
            3 => CommandStatus::NotNow,
            _ => CommandStatus::Other("Weird".into()),
        }
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            2 => Just(Step::Enqueue),
            1 => Just(Step::Idle),
            4 => any::<u8>().prop_map(Step::Answer),
            1 => (0usize..40, any::<u8>()).prop_map(|(i, s)| Step::ReportOn(i, s)),
            1 => (0usize..200).prop_map(Step::Replay),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn queue_follows_the_protocol(steps in proptest::collection::vec(step(), 0..120)) {
            let mut q = CommandQueue::new(dev());
            let mut enqueued = 0usize;
            let mut history: Vec<CommandReport> = Vec::new();
            let mut deferred_this_connection: HashSet<CommandUuid> = HashSet::new();
            let mut handed_out_this_connection = 0usize;
            let mut last_handed: Option<CommandUuid> = None;
            for s in steps {
                let rep = match s {
                    Step::Enqueue => {
                        q.enqueue(req(enqueued)).unwrap();
                        enqueued += 1;
                        None
                    }
                    Step::Idle => Some(CommandReport::idle(dev())),
                    Step::Answer(st) => last_handed.clone().map(|u| CommandReport::result(dev(), u, status(st), crate::PlistDictionary::new())),
                    Step::ReportOn(i, st) => Some(report(i, status(st))),
                    Step::Replay(i) => history.get(i % history.len().max(1)).cloned(),
                };
                let Some(rep) = rep else { continue };
                let before_pending: Vec<CommandUuid> = q.pending().map(|p| p.request.uuid.clone()).collect();
                let before_finished = q.finished().len();
                let outcome = q.record(&rep).unwrap();
                match &outcome {
                    ReportOutcome::Idle => {
                        deferred_this_connection.clear();
                        handed_out_this_connection = 0;
                    }
                    ReportOutcome::Deferred(u) => { deferred_this_connection.insert(u.clone()); }
                    ReportOutcome::Finished(u, st) => {
                        prop_assert!(st.is_final());
                        prop_assert!(before_pending.contains(u));
                        deferred_this_connection.remove(u);
                    }
                    // Duplicates and unknown reports change nothing.
                    ReportOutcome::Duplicate(_) | ReportOutcome::Unknown(_) | ReportOutcome::Unmatched => {
                        let after: Vec<CommandUuid> = q.pending().map(|p| p.request.uuid.clone()).collect();
                        prop_assert_eq!(after, before_pending.clone());
                        prop_assert_eq!(q.finished().len(), before_finished);
                    }
                }
                history.push(rep);
                let next = q.next_command().map(|r| r.uuid.clone());
                // Head rule: the next command is the first pending one not deferred now.
                let expected = q.pending().map(|p| p.request.uuid.clone()).find(|u| !deferred_this_connection.contains(u));
                prop_assert_eq!(&next, &expected);
                // No NotNow loop: a deferred command is not handed out again in this connection.
                if let Some(n) = &next {
                    prop_assert!(!q.is_deferred(n));
                    handed_out_this_connection += 1;
                }
                // Each report either finishes or defers what it names, so within one
                // connection the server hands out at most (pending + reports) commands;
                // bounded by the number of steps, never unbounded.
                prop_assert!(handed_out_this_connection <= history.len());
                last_handed = next;
                // Every enqueued command is exactly once pending or finished.
                let mut all: Vec<CommandUuid> = q.pending().map(|p| p.request.uuid.clone()).collect();
                all.extend(q.finished().iter().map(|f| f.uuid.clone()));
                all.sort();
                let mut expected_all: Vec<CommandUuid> = (0..enqueued).map(uuid).collect();
                expected_all.sort();
                prop_assert_eq!(all, expected_all);
            }
        }

        #[test]
        fn a_device_that_always_says_not_now_ends_the_connection(n in 0usize..30) {
            let mut q = CommandQueue::new(dev());
            for i in 0..n { q.enqueue(req(i)).unwrap(); }
            let (_, mut next) = q.respond(&CommandReport::idle(dev())).unwrap();
            let mut handed = 0;
            while let Some(cmd) = next.map(|c| c.uuid.clone()) {
                handed += 1;
                prop_assert!(handed <= n, "looped");
                next = q.respond(&CommandReport::result(dev(), cmd, CommandStatus::NotNow, crate::PlistDictionary::new())).unwrap().1;
            }
            prop_assert_eq!(handed, n);
            prop_assert_eq!(q.pending_len(), n);
        }
    }
}
