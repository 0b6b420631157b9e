//! The Android conversations the engine carries: a sync from the agent's
//! request to the applied answer, a reused invitation link, and the
//! administrator's commands, accounted for as they end.

use mdm_android::{AgentCommandKind, AgentCommandStatus, AndroidError, SyncResponse};
use mdm_model::Platform;

use super::{Event, World};
use crate::devices::android_sync::{self, AfterSync, SyncStep};
use crate::devices::{self, Stage};
use crate::draw::{self, Purpose};
use crate::mdm_server::{self, invitations};
use crate::scenario::FleetCommand;
use crate::tally::{Inv, Tally};
use crate::{HarnessError, SimTime};

impl World {
    /// The server handles a sync that arrived against the workspace and
    /// writes its answer; refusals and lost requests end here.
    pub(super) fn sync_serve(
        &mut self,
        step: SyncStep,
    ) -> Result<Option<(u32, SimTime, SyncResponse)>, HarnessError> {
        let (i, now, authorization, request, duplicated) = match step {
            SyncStep::CannotConnect(i, now) => {
                self.mark_lost(i, now, "missed the server-certificate rotation")?;
                return Ok(None);
            }
            SyncStep::Lost(i, now) => {
                Tally::count(&mut self.tally.message_faults, "sync request lost");
                self.queue.push(now.after(900), i, Event::Contact);
                return Ok(None);
            }
            SyncStep::Arrived {
                i,
                now,
                authorization,
                request,
                duplicated,
            } => (i, now, authorization, request, duplicated),
        };
        let at = self.now(now);
        let result = mdm_server::android::serve_sync(
            &mut self.server,
            &authorization,
            &request,
            at,
            duplicated,
        );
        if duplicated {
            Tally::count(&mut self.tally.message_faults, "sync request duplicated");
        }
        let response = match result {
            Ok(response) => response,
            Err(AndroidError::UnmanageableInstall { installer, .. }) => {
                Tally::count(
                    &mut self.tally.refusals,
                    &format!("agent installed through {installer}: reinstall"),
                );
                self.mark_lost(i, now, "agent installed through KNOX or another EMM")?;
                return Ok(None);
            }
            Err(AndroidError::DeviceLeftManagement { .. }) => {
                self.mark_lost(i, now, "wiped: must enroll again")?;
                return Ok(None);
            }
            Err(e) => {
                return Err(HarnessError::Android {
                    step: "sync",
                    message: e.to_string(),
                });
            }
        };
        Ok(Some((i, now, response)))
    }

    /// The device applies the answer it read; the engine counts the sync
    /// and the commands that ended, and schedules the next sync.
    pub(super) fn sync_apply(
        &mut self,
        answer: (u32, SimTime, SyncResponse),
    ) -> Result<(), HarnessError> {
        let (i, now, response) = answer;
        self.tally.syncs += 1;
        self.tally.syncs_this_hour += 1;
        if self.device(i).is_some_and(|d| d.stage == Stage::Installing) {
            self.enrolled(i, now, Platform::Android);
        }
        self.account_completed();
        let start = self.start;
        let Some(d) = self.device_mut(i) else {
            return Ok(());
        };
        match android_sync::sync_apply(d, now, response, start) {
            AfterSync::Wiped => self.mark_lost(i, now, "wiped: must enroll again"),
            AfterSync::NextSync(next) => {
                self.queue.push(next, i, Event::Contact);
                Ok(())
            }
        }
    }

    /// A second device opens a link that already enrolled one: refused (R-IN-1).
    pub(super) fn reuse_link(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
        let Some(token) = self
            .device(i)
            .and_then(|d| d.token.as_ref())
            .map(mdm_model::InvitationToken::expose)
        else {
            return Ok(());
        };
        let at = self.now(now);
        let mut rng = draw::stream(self.opts.seed ^ 0x5eed, i, Purpose::Keys);
        let user_agent = devices::android::user_agent(i + 1);
        let (answer, was_consumed) =
            invitations::open_again(&mut self.server, &token, user_agent, at, &mut rng)?;
        match answer {
            mdm_packages::LinkAnswer::Refused(reason) => {
                Tally::count(
                    &mut self.tally.refusals,
                    &format!("second device: {reason}"),
                );
                self.tally.check(Inv::InvitationOnce, None);
            }
            mdm_packages::LinkAnswer::AndroidStore { device, .. }
            | mdm_packages::LinkAnswer::AndroidPackage { device, .. }
            | mdm_packages::LinkAnswer::AppleProfile { device, .. } => {
                // The second device got there first: the first one will be refused.
                self.tally.check(
                    Inv::InvitationOnce,
                    was_consumed
                        .then(|| format!("{device} enrolled on an invitation already consumed")),
                );
                mdm_server::admin::retire(&mut self.server, device, at, "retire second device")?;
                Tally::count(
                    &mut self.tally.refusals,
                    "second device enrolled first and was retired",
                );
            }
            _ => {}
        }
        Ok(())
    }

    /// The administrator wipes one device: a `WIPE` it receives on its next
    /// sync; the endpoint wipes it in the model once the agent confirms (R-WP-1).
    pub(super) fn queue_android_wipe(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
        let Some(id) = self.device(i).and_then(|d| d.model) else {
            return Ok(());
        };
        let at = self.now(now);
        let command =
            mdm_server::android::enqueue(&mut self.server, id, AgentCommandKind::Wipe, at)?;
        self.android_commands.insert(command, i);
        self.tally.pending_commands += 1;
        Ok(())
    }

    /// The administrator queues a command for every enrolled Android device.
    pub(super) fn queue_android_for_all(
        &mut self,
        command: FleetCommand,
        now: SimTime,
    ) -> Result<(), HarnessError> {
        let kind = match command {
            FleetCommand::DeviceLock => AgentCommandKind::Lock,
            FleetCommand::ScanNow | FleetCommand::SecurityInfo => AgentCommandKind::ScanNow,
            FleetCommand::DeviceInformation => AgentCommandKind::Locate,
        };
        let at = self.now(now);
        for i in self.indexes() {
            let Some(d) = self.device(i) else { continue };
            let (Platform::Android, Stage::Enrolled, Some(id)) =
                (d.plan.platform, d.stage, d.model)
            else {
                continue;
            };
            if !self
                .server
                .ws
                .device(id)
                .is_ok_and(|r| r.state().is_connected())
            {
                continue;
            }
            let command = mdm_server::android::enqueue(&mut self.server, id, kind, at)?;
            self.android_commands.insert(command, i);
            self.tally.pending_commands += 1;
        }
        Ok(())
    }

    fn account_completed(&mut self) {
        for done in mdm_server::android::take_completed(&mut self.server) {
            self.android_commands.remove(&done.command.id);
            self.tally.check(Inv::CommandsEnd, None);
            self.tally.pending_commands = self.tally.pending_commands.saturating_sub(1);
            let status = match done.result.status {
                AgentCommandStatus::Done => "done",
                AgentCommandStatus::Failed => "failed",
                AgentCommandStatus::Unknown => "unknown status",
            };
            Tally::count(
                &mut self.tally.commands,
                &format!("android {:?} {status}", done.command.kind),
            );
        }
    }

    /// At the end: Android commands not yet reported are pending, each with its reason.
    pub(super) fn account_android_commands(&mut self) {
        self.account_completed();
        let mut pending: Vec<(u64, u32)> = self.android_commands.drain().collect();
        pending.sort_unstable();
        for (_, i) in pending {
            let reason = match self
                .device(i)
                .map(|d| (d.stage, d.plan.offline_at(self.horizon)))
            {
                Some((Stage::Lost, _)) => "device lost",
                Some((_, true)) => "device offline",
                Some(_) => "awaiting the device's next sync",
                None => "",
            };
            self.tally.check(
                Inv::CommandsEnd,
                reason
                    .is_empty()
                    .then(|| format!("device {i}: pending without a reason")),
            );
            Tally::count(
                &mut self.tally.commands,
                &format!("android command pending: {reason}"),
            );
        }
    }
}
