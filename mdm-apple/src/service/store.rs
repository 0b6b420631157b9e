//! Where the service keeps its state: each enrollment (its bound
//! identity, push target and tokens), the identities issued for
//! enrollments, and each device's command queue. One small object-safe
//! trait, in the shape of nanomdm's `CheckinStore`, `CommandEnqueuer` and
//! `CertAuthStore`; [`MemoryStore`](super::MemoryStore) is the default,
//! durable stores implement the same trait.

use mdm_model::{DeviceId, Sha256Digest};

use super::identity::CheckedWindow;
use crate::command::{CommandRequest, RequestType};
use crate::enrollment_state::AppleEnrollment;
use crate::error::Result;
use crate::message::{AppleDeviceId, BootstrapToken, CommandReport};
use crate::queue::{CommandQueue, FinishedCommand, ReportOutcome};

/// One enrollment as the service keeps it.
#[derive(Debug, Clone)]
pub struct EnrollmentRecord {
    /// The model's device record this enrollment belongs to.
    pub device: DeviceId,
    /// SHA-256 of the identity certificate bound at `Authenticate`.
    pub identity: Sha256Digest,
    /// When the chain check made at binding holds (`None`: unknown, e.g. a
    /// record saved before windows were kept; every request then gets the
    /// full check).
    pub identity_window: Option<CheckedWindow>,
    /// Its check-in state, push target (token, magic, topic) and unlock token.
    pub enrollment: AppleEnrollment,
    /// The escrowed bootstrap token (`SetBootstrapToken`).
    pub bootstrap_token: Option<BootstrapToken>,
}

/// What recording one command report did to a device's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStep {
    /// What the report changed.
    pub outcome: ReportOutcome,
    /// The request type of the command the report finished, if it did.
    pub finished: Option<RequestType>,
    /// The command to send now (`None`: answer with an empty body).
    pub next: Option<CommandRequest>,
}

/// The service's state, one concern per method group. Every method may
/// fail with [`crate::AppleError::Store`] in a durable implementation.
pub trait AppleStore {
    /// The enrollment of `device`, if it ever authenticated.
    ///
    /// # Errors
    /// A store failure.
    fn enrollment(&self, device: &AppleDeviceId) -> Result<Option<EnrollmentRecord>>;

    /// Saves (inserts or replaces) the enrollment of `device`.
    ///
    /// # Errors
    /// A store failure.
    fn save_enrollment(&mut self, device: &AppleDeviceId, record: EnrollmentRecord) -> Result<()>;

    /// Declares that the identity certificate with this SHA-256 was issued
    /// for the model's `device` (e.g. by the SCEP endpoint of its
    /// enrollment); its `Authenticate` may then bind it.
    ///
    /// # Errors
    /// A store failure.
    fn expect_identity(&mut self, identity: Sha256Digest, device: DeviceId) -> Result<()>;

    /// Takes the expectation [`Self::expect_identity`] left for this
    /// identity: the model device it was issued for.
    ///
    /// # Errors
    /// A store failure.
    fn take_expected_identity(&mut self, identity: &Sha256Digest) -> Result<Option<DeviceId>>;

    /// Appends a command to `device`'s queue.
    ///
    /// # Errors
    /// [`crate::AppleError::DuplicateCommand`], or a store failure.
    fn enqueue(&mut self, device: &AppleDeviceId, request: CommandRequest) -> Result<()>;

    /// Records a report of `device` (see [`crate::CommandQueue::respond`])
    /// and says what to send next.
    ///
    /// # Errors
    /// [`crate::AppleError::ReportFromOtherDevice`], or a store failure.
    fn record_report(
        &mut self,
        device: &AppleDeviceId,
        report: &CommandReport,
    ) -> Result<QueueStep>;

    /// How many commands wait for `device`.
    ///
    /// # Errors
    /// A store failure.
    fn pending_commands(&self, device: &AppleDeviceId) -> Result<usize>;

    /// The finished commands of `device` the store still keeps, oldest
    /// first: at most [`Retention::finished_per_device`] of them, each with
    /// its final report.
    ///
    /// # Errors
    /// A store failure.
    fn finished_commands(&self, device: &AppleDeviceId) -> Result<Vec<FinishedCommand>>;
}

/// A boxed store is a store (`AppleService<Box<dyn AppleStore>>` picks
/// its backend at run time).
impl<S: AppleStore + ?Sized> AppleStore for Box<S> {
    fn enrollment(&self, device: &AppleDeviceId) -> Result<Option<EnrollmentRecord>> {
        (**self).enrollment(device)
    }
    fn save_enrollment(&mut self, device: &AppleDeviceId, record: EnrollmentRecord) -> Result<()> {
        (**self).save_enrollment(device, record)
    }
    fn expect_identity(&mut self, identity: Sha256Digest, device: DeviceId) -> Result<()> {
        (**self).expect_identity(identity, device)
    }
    fn take_expected_identity(&mut self, identity: &Sha256Digest) -> Result<Option<DeviceId>> {
        (**self).take_expected_identity(identity)
    }
    fn enqueue(&mut self, device: &AppleDeviceId, request: CommandRequest) -> Result<()> {
        (**self).enqueue(device, request)
    }
    fn record_report(
        &mut self,
        device: &AppleDeviceId,
        report: &CommandReport,
    ) -> Result<QueueStep> {
        (**self).record_report(device, report)
    }
    fn pending_commands(&self, device: &AppleDeviceId) -> Result<usize> {
        (**self).pending_commands(device)
    }
    fn finished_commands(&self, device: &AppleDeviceId) -> Result<Vec<FinishedCommand>> {
        (**self).finished_commands(device)
    }
}

/// How much command history a store keeps, so a queue never grows without
/// bound (issue #18). The rule, the same on every store and both
/// platforms: a device keeps its pending commands (all of them, until
/// their final report) and its **last `finished_per_device` finished
/// commands** with their results; when another one finishes, the oldest
/// beyond that is deleted in the same step. A late report for a deleted
/// command is answered as one for an unknown command (ignored either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Finished commands (with results) kept per device.
    pub finished_per_device: usize,
}

impl Retention {
    /// The default: the last 20 finished commands of each device.
    pub const DEFAULT: Self = Self {
        finished_per_device: 20,
    };
}

impl Default for Retention {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a report does to a device that never had a queue: an `Idle` is
/// answered with nothing, a result names a command this server never sent.
pub(super) fn step_without_queue(device: &AppleDeviceId, report: &CommandReport) -> QueueStep {
    let outcome = match &report.command_uuid {
        _ if report.device != *device => ReportOutcome::Unmatched,
        Some(uuid) if report.status != crate::CommandStatus::Idle => {
            ReportOutcome::Unknown(uuid.clone())
        }
        _ => ReportOutcome::Idle,
    };
    QueueStep {
        outcome,
        finished: None,
        next: None,
    }
}

/// Records `report` on `queue`: the step, and the commands it finished
/// (taken from the queue, for the store's history).
pub(super) fn step_with_queue(
    queue: &mut CommandQueue,
    report: &CommandReport,
) -> Result<(QueueStep, Vec<FinishedCommand>)> {
    let (outcome, next) = queue.respond(report)?;
    let next = next.cloned();
    let done = queue.take_finished();
    let finished = match &outcome {
        ReportOutcome::Finished(uuid, _) => done
            .iter()
            .find(|f| &f.uuid == uuid)
            .map(|f| f.request_type.clone()),
        _ => None,
    };
    Ok((
        QueueStep {
            outcome,
            finished,
            next,
        },
        done,
    ))
}
