//! The command endpoint: a device reports (`Idle` or a command's status)
//! and gets the next command back.

use mdm_model::{SyncReport, Workspace};
use time::OffsetDateTime;

use super::answer::{Handled, ServiceEvent};
use super::apple_service::{AppleService, model};
use super::store::{AppleStore, EnrollmentRecord};
use crate::command::RequestType;
use crate::error::Result;
use crate::message::{AppleDeviceId, CommandReport, CommandStatus, Received};
use crate::queue::ReportOutcome;

impl<S: AppleStore> AppleService<S> {
    /// Records the report, then answers the next command (or nothing).
    /// `Idle` opens a connection: a sync in the model. An acknowledged
    /// `EraseDevice` wipes the device in the model and ends the enrollment.
    pub(super) fn report(
        &mut self,
        ws: &mut Workspace,
        id: &AppleDeviceId,
        mut record: EnrollmentRecord,
        report: &Received<CommandReport>,
        now: OffsetDateTime,
    ) -> Result<Handled> {
        self.require_active(ws, &record, id, "command report")?;
        let device = record.device;
        let mut handled = Handled::ok(device, Vec::new());
        let step = self.store.record_report(id, report)?;
        match step.outcome {
            ReportOutcome::Idle => {
                let outcome = ws
                    .record_sync(device, &SyncReport::default(), now)
                    .map_err(model("record the connection as a sync"))?;
                handled.events.push(ServiceEvent::Synced(outcome));
            }
            ReportOutcome::Finished(uuid, status) => {
                let erased = status == CommandStatus::Acknowledged
                    && step.finished == Some(RequestType::EraseDevice);
                handled.events.push(ServiceEvent::CommandFinished {
                    uuid,
                    status,
                    request_type: step.finished,
                });
                if erased {
                    ws.wipe_device(device, now).map_err(model("EraseDevice"))?;
                    record.enrollment.end();
                    self.store.save_enrollment(id, record)?;
                    handled.events.push(ServiceEvent::Wiped);
                    return Ok(handled);
                }
            }
            ReportOutcome::Deferred(uuid) => {
                handled.events.push(ServiceEvent::CommandDeferred(uuid));
            }
            ReportOutcome::Duplicate(uuid) | ReportOutcome::Unknown(uuid) => {
                handled.events.push(ServiceEvent::ReportIgnored(Some(uuid)));
            }
            ReportOutcome::Unmatched => handled.events.push(ServiceEvent::ReportIgnored(None)),
        }
        if let Some(next) = step.next {
            handled.body = next.to_xml()?;
            handled.events.push(ServiceEvent::CommandSent(next.uuid));
        }
        Ok(handled)
    }
}
