//! The engine of a run: the event queue on virtual time, the fleet of
//! simulated devices, the MDM server, and the tally. It carries each
//! message from a device to the server and the answer back — device →
//! bytes → server → bytes → device — batches a minute's events, and runs
//! the work that touches nothing shared on the other cores meanwhile.
//!
//! - [`batch`] — a minute's batch: invitations, link openings, contacts;
//! - [`enrolment`] — an opened link's answer, the device's own work, and
//!   what the server records of the enrollment;
//! - [`android`] and [`apple`] — the conversations of each platform;
//! - [`timeline`] — the administrator's actions, the hourly and daily events.

mod android;
mod apple;
mod batch;
mod enrolment;
mod timeline;

use std::collections::HashMap;
use std::sync::Arc;

use mdm_model::Platform;
use time::OffsetDateTime;

use crate::devices::{DeviceView, SimDevice, Stage};
use crate::draw::{self, Salt};
use crate::fleet::{DevicePlan, FleetSpec};
use crate::mdm_server::{MdmServer, SERVER_HOST};
use crate::queue::{ADMIN, EventQueue};
use crate::report::{CertificateEvent, Percentiles, Report};
use crate::tally::Tally;
use crate::{AdminAction, HarnessError, Options, SimTime};

/// What happens to a device, or to the administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// The administrator sends this device's user an instruction message.
    Invite,
    /// The user opens the invitation link on the device.
    OpenLink,
    /// The user opens the same link on a second device (reuse).
    ReuseLink,
    /// The device's scheduled contact: an Android sync, or an Apple push and check-in.
    Contact,
    /// An Apple device is pushed because commands wait for it.
    CommandPush,
    /// The user reinstalls after losing the connection or a refused install.
    Reinstall,
    /// An action of the scenario's timeline.
    Admin(AdminAction),
    /// The reserve server certificate takes over.
    RotationActivates,
    /// The administrator's moving rule runs; the time series is sampled.
    Hour,
    /// The model's invariants are checked in full.
    Daily,
}

/// The state of a run.
pub(crate) struct World {
    pub(crate) opts: Options,
    pub(crate) start: OffsetDateTime,
    pub(crate) horizon: SimTime,
    /// What an integrator would hold: the workspace and its endpoints.
    pub(crate) server: MdmServer,
    /// The simulated devices, by index.
    pub(crate) devices: Vec<SimDevice>,
    /// Android commands queued on the server, by command id: the device
    /// each is for (to account for them at the end).
    pub(crate) android_commands: HashMap<u64, u32>,
    pub(crate) queue: EventQueue<Event>,
    pub(crate) tally: Tally,
    /// What the durable store held at the end, checked (`None`: in memory).
    pub(crate) store_check: Option<crate::mdm_server::store::StoreCheck>,
}

impl World {
    pub(crate) fn new(opts: Options) -> Result<Self, HarnessError> {
        let start = opts.start;
        let horizon = SimTime::days(opts.days);
        let (server, apns) = MdmServer::set_up(&opts)?;
        let spec = FleetSpec::new(opts.devices);
        let validity = server.invitation_validity_secs();
        let devices: Vec<SimDevice> = (0..opts.devices)
            .map(|i| {
                SimDevice::new(DevicePlan::draw(
                    opts.seed,
                    i,
                    &spec,
                    &opts.scenario.faults,
                    validity,
                ))
            })
            .collect();
        let mut tally = Tally::default();
        tally.certificate_events.push(CertificateEvent {
            at: SimTime::ZERO,
            what: format!(
                "workspace CA and server certificate for {SERVER_HOST} issued; APNs certificate {} uploaded (topic {}, valid until {})",
                apns.file_name,
                apns.topic,
                apns.not_after.date()
            ),
        });
        let mut queue = EventQueue::new(horizon, 60);
        for (i, d) in devices.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            queue.push(d.plan.invited_at, i, Event::Invite);
        }
        for (day, action) in &opts.scenario.timeline {
            queue.push(
                SimTime::days(*day).after(9 * 3600),
                ADMIN,
                Event::Admin(*action),
            );
        }
        for h in 0..=opts.days * 24 {
            queue.push(SimTime::hours(h), ADMIN, Event::Hour);
        }
        for d in 1..=opts.days {
            queue.push(SimTime::days(d), ADMIN, Event::Daily);
        }
        tally.certificate_events.push(CertificateEvent {
            at: SimTime::ZERO,
            what: format!(
                "APNs certificate issued by {} ({} to {})",
                apns.issuer_name,
                apns.not_before.date(),
                apns.not_after.date()
            ),
        });
        Ok(Self {
            opts,
            start,
            horizon,
            server,
            devices,
            android_commands: HashMap::new(),
            queue,
            tally,
            store_check: None,
        })
    }

    pub(crate) fn now(&self, t: SimTime) -> OffsetDateTime {
        t.at(self.start)
    }

    pub(crate) fn device(&self, i: u32) -> Option<&SimDevice> {
        self.devices.get(i as usize)
    }

    pub(crate) fn device_mut(&mut self, i: u32) -> Option<&mut SimDevice> {
        self.devices.get_mut(i as usize)
    }

    /// The indexes of the fleet's devices.
    pub(crate) fn indexes(&self) -> std::ops::Range<u32> {
        0..u32::try_from(self.devices.len()).unwrap_or(0)
    }

    /// What a device sees while it works on its own.
    pub(crate) fn device_view(&self) -> DeviceView {
        DeviceView::new(
            Arc::clone(&self.server.pki),
            Arc::clone(&self.server.scep),
            SERVER_HOST,
            self.start,
            self.opts.seed,
            self.opts.scenario.faults,
        )
    }

    /// A coin flip for device `i` at `t` for a purpose: reproducible whatever
    /// the order events are handled in.
    pub(crate) fn coin(&self, i: u32, t: SimTime, salt: impl Into<Salt>, p: f64) -> bool {
        draw::coin(self.opts.seed, i, t.0, salt, p)
    }

    /// Device `i` loses its connection (the server records it) and its user
    /// reinstalls later.
    pub(crate) fn mark_lost(
        &mut self,
        i: u32,
        now: SimTime,
        reason: &str,
    ) -> Result<(), HarnessError> {
        let Some(d) = self.device(i) else {
            return Ok(());
        };
        let was_enrolled = d.stage == Stage::Enrolled;
        let reaction = d.plan.reaction_secs.clamp(3600, 3 * 86_400);
        if let Some(id) = d.model {
            let at = self.now(now);
            crate::mdm_server::admin::connection_lost(&mut self.server, id, at)?;
        }
        if let Some(d) = self.device_mut(i) {
            d.stage = Stage::Lost;
        }
        if was_enrolled {
            self.tally.connected = self.tally.connected.saturating_sub(1);
        }
        self.tally.lost_total += 1;
        Tally::count(&mut self.tally.lost, reason);
        self.queue.push(now.after(reaction), i, Event::Reinstall);
        Ok(())
    }

    pub(crate) fn enrolled(&mut self, i: u32, now: SimTime, platform: Platform) {
        let Some(d) = self.device_mut(i) else { return };
        d.stage = Stage::Enrolled;
        d.enrollments = d.enrollments.saturating_add(1);
        let again = d.enrollments > 1;
        let waited = now.0.saturating_sub(d.invited_at.0);
        if again {
            self.tally.reenrolled += 1;
        } else {
            *self.tally.enrolled.of(platform) += 1;
            self.tally.enroll_secs.push(waited);
        }
        self.tally.connected += 1;
    }

    pub(crate) fn into_report(mut self) -> Report {
        let t = &mut self.tally;
        let mut fleet = crate::report::PerPlatform::default();
        for d in &self.devices {
            *fleet.of(d.plan.platform) += 1;
        }
        let users = &self.server.users;
        Report {
            scenario: self.opts.scenario.name.to_owned(),
            seed: self.opts.seed,
            days: self.opts.days,
            fleet,
            users: users.len() as u64,
            users_without_email: users.iter().filter(|(_, e)| !e).count() as u64,
            invitations_sent: t.invitations_sent,
            enrolled: t.enrolled,
            time_to_enroll_hours: Percentiles::of_seconds(&mut t.enroll_secs),
            refusals: std::mem::take(&mut t.refusals),
            installs: std::mem::take(&mut t.installs),
            client_certificates_applied: t.client_certificates_applied,
            syncs: t.syncs,
            message_faults: std::mem::take(&mut t.message_faults),
            commands: std::mem::take(&mut t.commands),
            lost: std::mem::take(&mut t.lost),
            reenrolled: t.reenrolled,
            certificate_events: std::mem::take(&mut t.certificate_events),
            rotation: t.rotation,
            invariants: t.invariants(),
            events: t.events,
            timeseries: std::mem::take(&mut t.timeseries),
        }
    }
}
