//! A minute's batch: the administrator's events stay in place; between
//! them the invitations go out together, the link openings are routed in
//! order, and the devices' own work and the messages' writing and parsing
//! run on the other cores while this thread serves the contacts in order.

use mdm_model::Platform;

use super::enrolment::{Enrolled, Enrolling};
use super::{Event, World};
use crate::devices::{self, DeviceView, Stage, android_sync, apple::device_id, enrollment_stream};
use crate::draw::{CoinPurpose, Purpose};
use crate::mdm_server::{self, invitations};
use crate::queue::ADMIN;
use crate::tally::Inv;
use crate::{HarnessError, SimTime};

impl World {
    /// Runs to the horizon, calling `progress` after each batch.
    ///
    /// A batch is one bucket of the queue (a minute). Between the
    /// administrator's events (which stay in place), the batch's invitations
    /// go out together; its link openings are routed in order; the opening
    /// devices' own work (keys, certificates, check-in messages) runs on the
    /// other cores while this thread handles the minute's contacts, and is
    /// then recorded in order; then every other event runs in order. The
    /// order is a pure function of the batch, so a seed gives the same run on
    /// any number of cores.
    pub(crate) fn run(
        &mut self,
        progress: &mut dyn FnMut(SimTime, SimTime),
    ) -> Result<(), HarnessError> {
        // With a durable store, what the run changed is committed once per
        // simulated hour (one transaction for the hour's batches).
        let mut committed_hour = 0;
        while let Some(batch) = self.queue.pop_batch() {
            for segment in batch.split_inclusive(|s| s.device == ADMIN) {
                let invites: Vec<u32> = segment
                    .iter()
                    .filter(|s| s.event == Event::Invite)
                    .map(|s| s.device)
                    .collect();
                let composing = match segment.iter().find(|s| s.event == Event::Invite) {
                    Some(first) => {
                        self.tally.events += invites.len() as u64;
                        self.invite(&invites, first.at)?
                    }
                    None => Vec::new(),
                };
                let opens: Vec<(u32, SimTime)> = segment
                    .iter()
                    .filter(|s| s.event == Event::OpenLink)
                    .map(|s| (s.device, s.at))
                    .collect();
                let enrolling = if opens.is_empty() {
                    Vec::new()
                } else {
                    self.open_links(&opens)?
                };
                let contacts: Vec<(u32, SimTime)> = segment
                    .iter()
                    .filter(|s| s.event == Event::Contact)
                    .map(|s| (s.device, s.at))
                    .collect();
                // The work that touches nothing shared runs on the other cores
                // while this thread handles the minute's contacts: the
                // invitation messages (QR codes) and the enrolling devices' own
                // work (keys, CSRs, certificates, check-in messages). Then it
                // is recorded in order.
                let view = self.device_view();
                let work = composing
                    .into_iter()
                    .map(OwnWork::Compose)
                    .chain(enrolling.into_iter().map(OwnWork::Prepare))
                    .collect();
                let (done, contacted) = crate::overlap::alongside(
                    work,
                    1,
                    |work| work.run(&view),
                    || {
                        if contacts.is_empty() {
                            Ok(())
                        } else {
                            self.contacts(&contacts)
                        }
                    },
                );
                drop(view);
                contacted?;
                for done in done {
                    match done {
                        // The message is written: the administrator sends it.
                        OwnDone::Composed(message) => {
                            message.map_err(crate::error::packages("compose instructions"))?;
                        }
                        OwnDone::Prepared(enrolled) => self.record_enrolment(enrolled?)?,
                    }
                }
                for s in segment {
                    let now = s.at;
                    match s.event {
                        Event::Invite | Event::OpenLink | Event::Contact => continue,
                        Event::ReuseLink => self.reuse_link(s.device, now)?,
                        Event::CommandPush => self.command_push(s.device, now)?,
                        Event::Reinstall => self.reinstall(s.device, now)?,
                        Event::Admin(action) => self.admin(action, now)?,
                        Event::RotationActivates => self.rotation_activates(now)?,
                        Event::Hour => self.hour(now)?,
                        Event::Daily => self.daily(now),
                    }
                    self.tally.events += 1;
                }
            }
            let hour = self.queue.now().0 / 3600;
            if hour != committed_hour {
                self.server.commit()?;
                committed_hour = hour;
            }
            progress(self.queue.now(), self.horizon);
        }
        self.finish();
        self.store_check = self.server.finish_store()?;
        Ok(())
    }

    /// End of the run: every command must have ended or be pending for a reason.
    fn finish(&mut self) {
        self.account_apple_commands();
        self.account_android_commands();
        self.tally.check(Inv::NoPanic, None);
    }

    /// A minute's link openings, in three steps: the model decides in order;
    /// the packages and signed profiles are built on all cores; the model
    /// consumes the invitations in order. What is left is each device's own
    /// work, which the caller runs alongside the minute's contacts.
    fn open_links(&mut self, group: &[(u32, SimTime)]) -> Result<Vec<Enrolling>, HarnessError> {
        use rayon::prelude::*;
        let mut pending = Vec::new();
        for &(i, now) in group {
            self.tally.events += 1;
            let Some(d) = self.device(i) else { continue };
            if d.stage != Stage::Invited {
                continue;
            }
            // A device off the network cannot open the link; its user tries when it is back.
            if let Some((_, back)) = d.plan.offline.filter(|_| d.plan.offline_at(now)) {
                let back = back.after(d.plan.jitter_secs);
                self.queue.push(back, i, Event::OpenLink);
                continue;
            }
            let platform = d.plan.platform;
            let store = d.plan.install == mdm_model::InstallSource::PlainApk;
            let token = d
                .token
                .as_ref()
                .map(mdm_model::InvitationToken::expose)
                .unwrap_or_default();
            if let Some(d) = self.device_mut(i) {
                d.attempts = d.attempts.wrapping_add(1);
            }
            let user_agent = if platform == Platform::Android {
                devices::android::user_agent(i)
            } else {
                devices::apple::user_agent(platform, i)
            };
            let at = self.now(now);
            match invitations::begin_opening(&mut self.server, &token, user_agent, store, at)? {
                Ok(p) => pending.push((i, now, store, p)),
                Err(answer) => {
                    self.link_answered(i, now, answer, None);
                }
            }
        }
        // Only what the artifacts are built from is shared with the other cores.
        let dist = &self.server.dist;
        let (seed, start, devices) = (self.opts.seed, self.start, &self.devices);
        let built: Vec<_> = pending
            .into_par_iter()
            .map(|(i, now, store, p)| {
                let attempts = devices.get(i as usize).map_or(0, |d| d.attempts);
                let mut rng = enrollment_stream(seed, i, attempts, Purpose::Keys);
                invitations::build_artifact(dist, p, store, now.at(start), &mut rng)
                    .map(|b| (i, now, b))
            })
            .collect();
        let mut enrolling = Vec::new();
        for b in built {
            let (i, now, built) = b?;
            let at = self.now(now);
            let (built, challenge) = built;
            let (answer, otp) =
                invitations::finish_opening(&mut self.server, built, challenge, at)?;
            enrolling.extend(self.link_answered(i, now, answer, otp));
        }
        Ok(enrolling)
    }

    /// The administrator sends instructions to the users of these devices,
    /// in one batch: one message, one invitation per device (R-IN-1).
    /// Returns the messages still to write, for the caller to compose.
    pub(super) fn invite(
        &mut self,
        devices: &[u32],
        now: SimTime,
    ) -> Result<Vec<mdm_packages::PendingInstruction>, HarnessError> {
        let mut invited = Vec::new();
        let mut users = Vec::new();
        for &i in devices {
            let Some(d) = self.device(i) else { continue };
            let Some(&(user, has_email)) = self.server.users.get(d.plan.user as usize) else {
                continue;
            };
            if has_email {
                invited.push(i);
                users.push(user);
            } else {
                self.tally.users_without_email += 1;
                if let Some(d) = self.device_mut(i) {
                    d.stage = Stage::Done;
                }
            }
        }
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let (tokens, messages) = invitations::send_instructions_to(&mut self.server, &users, now)?;
        for (i, token) in invited.into_iter().zip(tokens) {
            self.tally.invitations_sent += 1;
            let reaction = self.device(i).map_or(0, |d| d.plan.reaction_secs);
            let reuses = self.device(i).is_some_and(|d| d.plan.reuses_invitation);
            if let Some(d) = self.device_mut(i) {
                d.token = Some(token);
                d.stage = Stage::Invited;
                d.invited_at = now;
            }
            self.queue.push(now.after(reaction), i, Event::OpenLink);
            if reuses {
                self.queue
                    .push(now.after(reaction + 1800), i, Event::ReuseLink);
            }
        }
        Ok(messages)
    }

    /// A minute's scheduled contacts: devices offline now try again later.
    /// Apple devices' pushes are built on all cores, and the devices check in
    /// in order while the Android requests are written and parsed on the
    /// other cores; the server serves those in order while its answers are
    /// written and parsed on the other cores; the devices apply them in order.
    fn contacts(&mut self, list: &[(u32, SimTime)]) -> Result<(), HarnessError> {
        use rayon::prelude::*;
        let mut syncs = Vec::new();
        let mut checkins = Vec::new();
        for &(i, now) in list {
            self.tally.events += 1;
            let Some(d) = self.device(i) else { continue };
            if !matches!(d.stage, Stage::Enrolled | Stage::Installing) {
                continue;
            }
            if let Some((_, back)) = d.plan.offline.filter(|_| d.plan.offline_at(now)) {
                let jitter = d.plan.jitter_secs;
                self.queue.push(back.after(jitter), i, Event::Contact);
                continue;
            }
            if self.coin(
                i,
                now,
                CoinPurpose::Offline,
                self.opts.scenario.faults.offline_chance,
            ) {
                self.queue.push(now.after(3600), i, Event::Contact);
                continue;
            }
            if d.plan.platform == Platform::Android {
                syncs.push((i, now));
            } else {
                checkins.push((i, now));
            }
        }
        // The Android requests and the Apple devices' pushes are written on
        // all cores (reading the devices and the Apple service, changing nothing); the requests travel
        // (JSON written and parsed) on the other cores while this thread
        // delivers the pushes and has the Apple devices check in, in order.
        let view = self.device_view();
        let (devices, apple) = (&self.devices, &self.server.apple);
        let (outgoing, pushes) = rayon::join(
            || {
                syncs
                    .into_par_iter()
                    .filter_map(|(i, now)| {
                        let d = devices.get(i as usize)?;
                        android_sync::sync_request(&view, d, i, now).transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()
            },
            || {
                checkins
                    .into_par_iter()
                    .map(|(i, now)| {
                        let push = mdm_server::apple::push_for(apple, &device_id(i))?;
                        Ok((i, now, push))
                    })
                    .collect::<Result<Vec<_>, HarnessError>>()
            },
        );
        drop(view);
        let (arrived, checked_in) = crate::overlap::alongside(
            outgoing?,
            crate::overlap::LIGHT,
            android_sync::sync_transmit,
            || {
                pushes?
                    .into_iter()
                    .try_for_each(|(i, now, push)| self.check_in(i, now, push))
            },
        );
        checked_in?;
        // The server answers in order; the answers travel back to the
        // devices on the other cores meanwhile; the devices apply them in order.
        let (answers, ()) = crate::overlap::pipelined(
            self,
            arrived,
            crate::overlap::LIGHT,
            |w, step| w.sync_serve(step?),
            android_sync::sync_parse,
            |_| Ok(()),
        )?;
        for answer in answers {
            self.sync_apply(answer?)?;
        }
        Ok(())
    }
}

/// Work of a minute that touches nothing shared, run on the other cores
/// beside the minute's contacts.
enum OwnWork {
    /// The administrator's message to an invited user (its QR code).
    Compose(mdm_packages::PendingInstruction),
    /// An enrolling device's keys, CSR, certificate and messages.
    Prepare(Enrolling),
}

/// What [`OwnWork`] gave, recorded in order afterwards.
enum OwnDone {
    Composed(Result<mdm_packages::OutgoingInstruction, mdm_packages::PackagesError>),
    Prepared(Result<Enrolled, HarnessError>),
}

impl OwnWork {
    fn run(self, view: &DeviceView) -> OwnDone {
        match self {
            Self::Compose(message) => OwnDone::Composed(message.compose()),
            Self::Prepare(enrolling) => OwnDone::Prepared(enrolling.prepare(view)),
        }
    }
}
