//! The administrator's timeline and the clock's own events: the scenario's
//! actions, the server-certificate rotation taking over, the hourly moving
//! rule and sample, the daily check of the model's invariants; and a
//! device's user reinstalling.

use mdm_model::{Invariant, Platform};
use time::Duration;

use super::{Event, World};
use crate::devices::Stage;
use crate::draw::CoinPurpose;
use crate::mdm_server::admin::{self, ApnsRenewal};
use crate::queue::ADMIN;
use crate::report::{CertificateEvent, HourSample, RotationReport};
use crate::tally::Inv;
use crate::{AdminAction, HarnessError, SimTime};

impl World {
    pub(super) fn admin(&mut self, action: AdminAction, now: SimTime) -> Result<(), HarnessError> {
        let at = self.now(now);
        match action {
            AdminAction::IssueReserveServerCertificate { activation_days } => {
                let reserve = admin::issue_reserve(
                    &mut self.server,
                    at,
                    Duration::days(i64::from(activation_days)),
                )?;
                let predicted = reserve.predicted_lost;
                let activates_at = SimTime::of(reserve.activates, self.start);
                self.tally.rotation = Some(RotationReport {
                    issued_at: SimTime::of(reserve.issued, self.start),
                    activates_at,
                    predicted_lost: predicted,
                    ..RotationReport::default()
                });
                self.tally.certificate_events.push(CertificateEvent {
                    at: now,
                    what: format!("reserve server certificate issued, active from {} (valid one year from issuance); {predicted} Android devices predicted lost",
                        reserve.activates.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
                });
                self.queue
                    .push(activates_at, ADMIN, Event::RotationActivates);
            }
            AdminAction::RenewApnsCertificate { keep_topic } => {
                match admin::renew_apns(&mut self.server, keep_topic, at)? {
                    ApnsRenewal::Renewed(details) => {
                        self.tally.certificate_events.push(CertificateEvent {
                            at: now,
                            what: format!(
                                "APNs certificate renewed, topic kept ({}), valid until {}",
                                details.topic,
                                details.not_after.date()
                            ),
                        });
                    }
                    ApnsRenewal::Replaced { refusal, details } => {
                        self.tally.certificate_events.push(CertificateEvent {
                            at: now,
                            what: format!("APNs renewal refused by intake: {refusal}; the administrator uploads it as a new certificate"),
                        });
                        self.tally.certificate_events.push(CertificateEvent {
                            at: now,
                            what: format!("new APNs certificate with topic {}: Apple devices enrolled under the old topic are stranded", details.topic),
                        });
                    }
                }
            }
            AdminAction::UploadForeignApnsCertificate => {
                let refusal = admin::try_foreign_apns(&mut self.server, at)?;
                let what = match &refusal {
                    Some(e) => format!(
                        "a push certificate made for another workspace was uploaded and refused: {e}"
                    ),
                    None => "a push certificate made for another workspace was ACCEPTED".to_owned(),
                };
                self.tally
                    .check(Inv::AppleNeedsApns, refusal.is_none().then(|| what.clone()));
                self.tally
                    .certificate_events
                    .push(CertificateEvent { at: now, what });
            }
            AdminAction::QueueAppleCommand { command } => {
                self.queue_apple_for_all(command, now)?;
            }
            AdminAction::WipeDevices { percent } => {
                let share = f64::from(percent.min(100)) / 100.0;
                for i in self.indexes() {
                    let Some(d) = self.device(i) else { continue };
                    if d.stage != Stage::Enrolled || !self.coin(i, now, CoinPurpose::Wipe, share) {
                        continue;
                    }
                    if d.plan.platform == Platform::Android {
                        self.queue_android_wipe(i, now)?;
                    } else {
                        self.queue_apple_erase(i, now)?;
                    }
                }
            }
            AdminAction::QueueAndroidCommand { command } => {
                self.queue_android_for_all(command, now)?;
            }
        }
        Ok(())
    }

    /// The reserve certificate takes over (R-SV-1): every Android device that
    /// has not synced since the reserve was issued cannot connect any more.
    pub(super) fn rotation_activates(&mut self, now: SimTime) -> Result<(), HarnessError> {
        let at = self.now(now);
        let Some(mut report) = self.tally.rotation else {
            return Ok(());
        };
        let issued = report.issued_at.at(self.start);
        let mut lost = Vec::new();
        let mut expected = Vec::new();
        for (i, d) in self.devices.iter().enumerate() {
            let (Some(id), Stage::Enrolled, Platform::Android) =
                (d.model, d.stage, d.plan.platform)
            else {
                continue;
            };
            let Some((can_connect, synced_since)) =
                admin::rotation_outcome(&self.server, id, at, issued)
            else {
                continue;
            };
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if !can_connect {
                lost.push(i);
            }
            // Computed independently of mdm-certs: no sync since issuance.
            if !synced_since {
                expected.push(i);
            }
        }
        for &i in &lost {
            self.mark_lost(i, now, "missed the server-certificate rotation")?;
        }
        report.activated = true;
        report.observed_lost = lost.len() as u64;
        report.not_synced_since_issuance = expected.len() as u64;
        let violation = (lost != expected).then(|| {
            format!(
                "{} devices lost, {} had not synced since issuance",
                lost.len(),
                expected.len()
            )
        });
        self.tally.check(Inv::RotationExact, violation);
        self.tally.rotation = Some(report);
        admin::complete_rotation(&mut self.server, at)?;
        self.tally.certificate_events.push(CertificateEvent {
            at: now,
            what: format!(
                "reserve server certificate active; {} Android devices lost the connection",
                report.observed_lost
            ),
        });
        Ok(())
    }

    /// Hourly: the administrator's moving rule (Unassigned → Managed devices)
    /// and a sample for the time series.
    pub(super) fn hour(&mut self, now: SimTime) -> Result<(), HarnessError> {
        let at = self.now(now);
        admin::moving_rule(&mut self.server, at)?;
        let t = &mut self.tally;
        t.timeseries.push(HourSample {
            hour: now.hour(),
            enrolled: t.enrolled,
            connected: t.connected,
            lost: t.lost_total,
            pending_commands: t.pending_commands,
            syncs: std::mem::take(&mut t.syncs_this_hour),
        });
        Ok(())
    }

    /// Daily: the model's invariants, checked in full on the server's workspace.
    pub(super) fn daily(&mut self, now: SimTime) {
        let ws = &self.server.ws;
        let violations = ws.check_invariants();
        let first = violations
            .first()
            .map(|v| format!("{}: {}", v.invariant, v.detail));
        self.tally.check(Inv::Model, first);
        for v in &violations {
            let inv = match v.invariant {
                Invariant::InvitationEnrollsOnce => Some(Inv::InvitationOnce),
                Invariant::SeatsNotExceeded => Some(Inv::Seats),
                Invariant::ManagedInManagedGroup | Invariant::DeviceInOneGroup => {
                    Some(Inv::ThroughGroup)
                }
                _ => None,
            };
            if let Some(inv) = inv {
                self.tally.check(inv, Some(v.detail.clone()));
            }
        }
        for l in ws.licenses() {
            let over = (l.seats_in_use() > l.seats())
                .then(|| format!("{}: {} of {} seats", l.id(), l.seats_in_use(), l.seats()));
            self.tally.check(Inv::Seats, over);
        }
        // The SCEP endpoint forgets one-time passwords used or expired,
        // and the server the labels of enrollments that never came back.
        let at = self.server.now(now);
        self.server.scep.purge(at);
        self.server.pending_identities.purge(at);
    }

    pub(super) fn command_push(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
        let Some(d) = self.device(i) else {
            return Ok(());
        };
        if d.stage != Stage::Enrolled || d.plan.platform == Platform::Android {
            return Ok(());
        }
        if let Some((_, back)) = d.plan.offline.filter(|_| d.plan.offline_at(now)) {
            self.queue.push(back.after(60), i, Event::CommandPush);
            return Ok(());
        }
        self.serve_commands(i, now)
    }

    /// The user reinstalls: the administrator retires the old record and
    /// sends a new invitation.
    pub(super) fn reinstall(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
        let Some(d) = self.device(i) else {
            return Ok(());
        };
        if d.stage != Stage::Lost {
            return Ok(());
        }
        if let Some(old) = d.model {
            let at = self.now(now);
            admin::retire_old_record(&mut self.server, old, at)?;
        }
        if let Some(d) = self.device_mut(i) {
            d.reset_for_reinstall();
        }
        for message in self.invite(&[i], now)? {
            message
                .compose()
                .map_err(crate::error::packages("compose instructions"))?;
        }
        Ok(())
    }
}
