//! The Apple conversations the engine carries: a push through (simulated)
//! APNs, the device's connection — `Idle`, then one command report per
//! command the service hands out — and the administrator's commands. The
//! device writes each report from the command bytes it read; the service
//! answers bytes; the network's faults (lost pushes, duplicated reports)
//! are drawn here.

use mdm_apple::{
    ApnsReason, AppleError, Endpoint, Handled, PushOutcome, PushRequest, ServiceEvent,
};
use time::OffsetDateTime;

use super::{Event, World};
use crate::devices::{self, Stage, apple::device_id};
use crate::draw::{self, CoinPurpose, CommandCoin, Purpose};
use crate::error::apple;
use crate::mdm_server;
use crate::mdm_server::apple::PushSent;
use crate::scenario::FleetCommand;
use crate::tally::{Inv, Tally};
use crate::{HarnessError, SimTime};

impl World {
    /// One request of device `i` to the service at `now`, with its identity
    /// certificate as the TLS peer certificate (the transport vouches for it).
    pub(super) fn send_apple(
        &mut self,
        i: u32,
        endpoint: Endpoint,
        body: &[u8],
        now: SimTime,
    ) -> Result<Handled, AppleError> {
        let at = self.now(now);
        let identity = self
            .devices
            .get(i as usize)
            .and_then(|d| d.apple_identity.as_deref());
        mdm_server::apple::handle(&mut self.server, endpoint, body, identity, at)
    }

    /// Sends `body` (a check-in, or else a command report) and gives the
    /// service's answer; a refusal (already audited by the service) is counted
    /// and the device loses its connection (`None`). A failure that is no
    /// refusal is the harness's error.
    pub(super) fn accepted(
        &mut self,
        i: u32,
        now: SimTime,
        what: &str,
        body: &[u8],
    ) -> Result<Option<Handled>, HarnessError> {
        let endpoint = if what == "check-in" {
            Endpoint::CheckIn
        } else {
            Endpoint::Command
        };
        let error = match self.send_apple(i, endpoint, body, now) {
            Ok(handled) => return Ok(Some(handled)),
            Err(e) => e,
        };
        let reason = match (&error, mdm_apple::refusal_of(&error)) {
            (AppleError::Model { .. }, _) | (_, None) => return Err(apple("serve")(error)),
            (_, Some(reason)) => reason,
        };
        Tally::count(
            &mut self.tally.refusals,
            &format!("{what} refused: {reason}"),
        );
        self.mark_lost(i, now, &format!("{what} refused"))?;
        Ok(None)
    }

    /// The scheduled contact: the server pushes, the device connects (`Idle`,
    /// a sync in the model) and answers what is queued.
    /// `request` is the push the server built for it.
    pub(super) fn check_in(
        &mut self,
        i: u32,
        now: SimTime,
        request: Option<PushRequest>,
    ) -> Result<(), HarnessError> {
        if !self.push(i, now, request)? {
            return Ok(());
        }
        let due = self.connect(i, now)?;
        if self.device(i).is_none_or(|d| d.stage != Stage::Enrolled) {
            // Erased, refused or lost while it answered its commands.
            return Ok(());
        }
        let Some(due) = due else {
            return Ok(());
        };
        let jitter = self.device(i).map_or(0, |d| d.plan.jitter_secs);
        self.queue.push(
            SimTime::of(due, self.start).after(jitter),
            i,
            Event::Contact,
        );
        Ok(())
    }

    /// A push for queued commands.
    pub(super) fn serve_commands(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
        let request = mdm_server::apple::push_for(&self.server.apple, &device_id(i))?;
        if self.push(i, now, request)? {
            self.connect(i, now)?;
        }
        Ok(())
    }

    /// Sends the push through (in-process) APNs the way the provider client
    /// does ([`mdm_server::apple::send_push`]): the push certificate is
    /// checked before connecting (an expired one refuses every push; the
    /// device tries again a day later), then the stand-in decides. Delivered
    /// wakes the device (unless the network loses the notification); 410
    /// makes it unreachable in the model and it is never pushed again; 429
    /// and 5xx are retried with the client's backoff and, once spent, the
    /// push is tried again later; a topic the certificate no longer covers
    /// strands the device; other 400/403 reasons are counted.
    fn push(
        &mut self,
        i: u32,
        now: SimTime,
        request: Option<PushRequest>,
    ) -> Result<bool, HarnessError> {
        let at = self.now(now);
        let Some(request) = request else {
            return Ok(false);
        };
        let model = self.device(i).and_then(|d| d.model);
        if model.is_some_and(|d| !mdm_server::apple::may_push(&self.server, d)) {
            return Ok(false);
        }
        let mut rng = draw::stream(self.opts.seed ^ u64::from(now.0), i, Purpose::Events);
        let sent = mdm_server::apple::send_push(&mut self.server, &request, model, at, &mut rng)?;
        let (outcome, retries) = match sent {
            PushSent::Refused(AppleError::PushCertificateNotValid { .. }) => {
                Tally::count(
                    &mut self.tally.message_faults,
                    "push refused: APNs certificate expired",
                );
                self.queue.push(now.after(86_400), i, Event::Contact);
                return Ok(false);
            }
            PushSent::Refused(e) => {
                Tally::count(
                    &mut self.tally.message_faults,
                    &format!("push refused before connecting: {e}"),
                );
                self.queue.push(now.after(86_400), i, Event::Contact);
                return Ok(false);
            }
            PushSent::Answered {
                outcome, retries, ..
            } => (outcome, retries),
        };
        if retries > 0 {
            Tally::count(&mut self.tally.message_faults, "push retried (429/5xx)");
        }
        match outcome {
            PushOutcome::Delivered => {}
            PushOutcome::Unregistered { .. } => {
                Tally::count(
                    &mut self.tally.message_faults,
                    "push unregistered (410): device unreachable",
                );
                return Ok(false);
            }
            PushOutcome::Rejected {
                reason: ApnsReason::TopicDisallowed | ApnsReason::DeviceTokenNotForTopic,
                ..
            } => {
                self.mark_lost(i, now, "stranded: APNs topic changed")?;
                return Ok(false);
            }
            PushOutcome::Rejected { status, reason } => {
                Tally::count(
                    &mut self.tally.message_faults,
                    &format!("push rejected: {status} {reason}"),
                );
                return Ok(false);
            }
            PushOutcome::GaveUp { .. } => {
                Tally::count(
                    &mut self.tally.message_faults,
                    "push gave up after retries (429/5xx)",
                );
                self.queue.push(now.after(900), i, Event::CommandPush);
                return Ok(false);
            }
        }
        if self.coin(
            i,
            now,
            CoinPurpose::PushLost,
            self.opts.scenario.faults.drop_chance,
        ) {
            Tally::count(&mut self.tally.message_faults, "push lost");
            self.queue.push(now.after(900), i, Event::CommandPush);
            return Ok(false);
        }
        Ok(true)
    }

    /// The device connects: `Idle`, then one report per command the answers
    /// hand out, until an answer is empty. Counts what the service recorded and
    /// returns when the next sync is due, as the sync at `Idle` said.
    fn connect(&mut self, i: u32, now: SimTime) -> Result<Option<OffsetDateTime>, HarnessError> {
        let idle = devices::apple::idle(i)?;
        let Some(mut answer) = self.accepted(i, now, "command report", &idle)? else {
            return Ok(None);
        };
        let mut due = None;
        let mut deferred = false;
        let mut nth = 0;
        loop {
            let mut wiped = false;
            for event in &answer.events {
                match event {
                    ServiceEvent::Synced(outcome) => {
                        self.tally.syncs += 1;
                        self.tally.syncs_this_hour += 1;
                        due = Some(outcome.next_sync_due);
                    }
                    ServiceEvent::CommandFinished {
                        status,
                        request_type,
                        ..
                    } => {
                        self.tally.check(Inv::CommandsEnd, None);
                        self.tally.pending_commands = self.tally.pending_commands.saturating_sub(1);
                        let name = format!(
                            "apple {} {}",
                            request_type
                                .as_ref()
                                .map_or("(unknown)", mdm_apple::RequestType::as_str),
                            status.as_str()
                        );
                        Tally::count(&mut self.tally.commands, &name);
                    }
                    ServiceEvent::CommandDeferred(_) => deferred = true,
                    ServiceEvent::Wiped => wiped = true,
                    ServiceEvent::CommandSent(_) => {}
                    other => self.tally.check(
                        Inv::CommandsEnd,
                        Some(format!("device {i}: unexpected {other:?}")),
                    ),
                }
            }
            if wiped {
                // The device erases itself: it leaves management and must enroll
                // again (R-WP-1). What it had queued stays pending.
                self.mark_lost(i, now, "wiped: must enroll again")?;
                break;
            }
            if answer.body.is_empty() {
                break;
            }
            // The device reads the command it was handed and answers it.
            nth += 1;
            let faults = self.opts.scenario.faults;
            let report =
                devices::apple::answer_command(self.opts.seed, &faults, i, now, nth, &answer.body)?;
            let Some(next) = self.accepted(i, now, "command report", &report)? else {
                break;
            };
            if self.coin(
                i,
                now,
                CommandCoin::ReportDuplicated.nth(nth),
                faults.duplicate_chance,
            ) {
                self.duplicate(i, now, &report, &next);
            }
            answer = next;
        }
        let pending = mdm_server::apple::pending_commands(&self.server, &device_id(i))?;
        if deferred && pending > 0 {
            self.queue.push(now.after(3600), i, Event::CommandPush);
        }
        Ok(due)
    }

    /// The network delivers `report` a second time: the service must change
    /// nothing — it ignores the repeat (or, after an acknowledged
    /// `EraseDevice`, refuses the wiped device).
    fn duplicate(&mut self, i: u32, now: SimTime, report: &[u8], first: &Handled) {
        let again = self.send_apple(i, Endpoint::Command, report, now);
        let harmless = match &again {
            Ok(h) => h.events.iter().all(|e| {
                matches!(
                    e,
                    ServiceEvent::ReportIgnored(_)
                        | ServiceEvent::CommandDeferred(_)
                        | ServiceEvent::CommandSent(_)
                )
            }),
            Err(AppleError::NotEnrolled { .. }) => first.events.contains(&ServiceEvent::Wiped),
            Err(_) => false,
        };
        if !harmless {
            self.tally.check(
                Inv::CommandsEnd,
                Some(format!(
                    "device {i}: a duplicated report changed the queue: {again:?}"
                )),
            );
        }
        Tally::count(&mut self.tally.message_faults, "command report duplicated");
    }

    /// The administrator erases one device (`EraseDevice`) and pushes.
    pub(super) fn queue_apple_erase(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
        let mut rng = draw::stream(self.opts.seed ^ u64::from(now.0), i, Purpose::Admin);
        let erase = mdm_apple::Command::EraseDevice(mdm_apple::EraseDevice::default());
        mdm_server::apple::enqueue(&mut self.server, &device_id(i), erase, &mut rng)?;
        self.tally.pending_commands += 1;
        self.queue.push(now.after(60), i, Event::CommandPush);
        Ok(())
    }

    /// The administrator queues a command for every enrolled Apple device and pushes.
    pub(super) fn queue_apple_for_all(
        &mut self,
        command: FleetCommand,
        now: SimTime,
    ) -> Result<(), HarnessError> {
        let mut rng = draw::stream(
            self.opts.seed ^ u64::from(now.0),
            crate::queue::ADMIN,
            Purpose::Admin,
        );
        let targets: Vec<u32> = self
            .indexes()
            .filter(|&i| {
                self.device(i)
                    .is_some_and(|d| d.plan.platform.is_apple() && d.stage == Stage::Enrolled)
            })
            .collect();
        for i in targets {
            let command = mdm_server::apple::command_for(command);
            mdm_server::apple::enqueue(&mut self.server, &device_id(i), command, &mut rng)?;
            self.tally.pending_commands += 1;
            let jitter = self.device(i).map_or(0, |d| d.plan.jitter_secs);
            self.queue
                .push(now.after(jitter / 4), i, Event::CommandPush);
        }
        Ok(())
    }

    /// At the end: commands still queued in the service are pending, each with
    /// its reason.
    pub(super) fn account_apple_commands(&mut self) {
        for i in self.indexes() {
            let reason = match self.device(i) {
                Some(d) if d.plan.platform.is_apple() => {
                    match (d.stage, d.plan.offline_at(self.horizon)) {
                        (Stage::Lost, _) => "device lost or stranded",
                        (_, true) => "device offline",
                        _ => "deferred by the device (NotNow) or awaiting its next push",
                    }
                }
                _ => continue,
            };
            for request_type in
                mdm_server::apple::pending_request_types(&self.server, &device_id(i))
            {
                let name = format!("apple {request_type} pending: {reason}");
                self.tally.check(Inv::CommandsEnd, None);
                Tally::count(&mut self.tally.commands, &name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use mdm_apple::ApnsEnvironment;

    use super::*;
    use crate::Options;
    use crate::apns_standin::{ApnsBook, Fault, FaultPlan};

    /// A small baseline run, then an enrolled Apple device and its token.
    fn world_with_enrolled_apple() -> (World, u32, Vec<u8>) {
        let options = Options::new("baseline", 40, 2, 7).expect("options");
        let mut world = World::new(options).expect("world");
        world.run(&mut |_, _| {}).expect("run");
        let i = world
            .indexes()
            .find(|&i| {
                world.device(i).is_some_and(|d| {
                    d.plan.platform.is_apple() && d.stage == Stage::Enrolled && d.model.is_some()
                })
            })
            .expect("an enrolled Apple device");
        let (token, _) = devices::apple::push_identity(world.opts.seed, i).expect("token");
        (world, i, token.as_bytes().to_vec())
    }

    fn at_end(world: &World) -> SimTime {
        world.horizon
    }

    #[test]
    fn an_unregistered_token_makes_the_device_unreachable_and_it_is_not_pushed_again() {
        let (mut world, i, token) = world_with_enrolled_apple();
        let now = at_end(&world);
        let model = world.device(i).and_then(|d| d.model).expect("model id");
        assert!(mdm_server::apple::may_push(&world.server, model));
        world.server.apns.unregister(&token, world.now(now));
        let served = world.server.apns.served();
        world.serve_commands(i, now).expect("push");
        assert_eq!(
            world.server.apns.served(),
            served + 1,
            "one push, answered 410"
        );
        assert!(!mdm_server::apple::may_push(&world.server, model));
        assert!(
            world
                .tally
                .message_faults
                .contains_key("push unregistered (410): device unreachable")
        );
        world.serve_commands(i, now.after(3600)).expect("no push");
        assert_eq!(world.server.apns.served(), served + 1, "never pushed again");
    }

    #[test]
    fn a_429_burst_is_retried_and_then_delivered() {
        let (mut world, i, token) = world_with_enrolled_apple();
        let now = at_end(&world);
        // A plan under which this token's first two pushes meet a 429 burst
        // and the third is delivered (found from the plan itself).
        let plan = (0..10_000u64)
            .map(|seed| FaultPlan {
                seed,
                too_many_requests_ppm: 400_000,
                burst: 2,
                ..FaultPlan::none()
            })
            .find(|p| {
                p.draw(&token, 1) == Fault::TooManyRequests
                    && p.draw(&token, 2) == Fault::TooManyRequests
                    && p.draw(&token, 3) == Fault::None
            })
            .expect("a plan with a burst of two");
        let mut book = ApnsBook::counting(ApnsEnvironment::Production, plan);
        let topic = world.server.pki.topic.clone();
        book.register(&token, &topic);
        world.server.apns = book;
        let request = mdm_server::apple::push_for(&world.server.apple, &device_id(i))
            .expect("push request")
            .expect("the device has a push target");
        let model = world.device(i).and_then(|d| d.model);
        let mut rng = draw::stream(1, i, Purpose::Events);
        let at = world.now(now);
        let sent = mdm_server::apple::send_push(&mut world.server, &request, model, at, &mut rng)
            .expect("send");
        let PushSent::Answered {
            outcome,
            retries,
            waited,
        } = sent
        else {
            panic!("refused before connecting: {sent:?}");
        };
        assert_eq!(outcome, PushOutcome::Delivered);
        assert_eq!(retries, 2);
        // Two waits of the client's backoff: [50, 100] ms then [100, 200] ms.
        assert!(
            waited >= core::time::Duration::from_millis(150),
            "{waited:?}"
        );
        assert!(
            waited <= core::time::Duration::from_millis(300),
            "{waited:?}"
        );
        assert_eq!(world.server.apns.served(), 3);
        assert_eq!(world.server.apns.delivered().count(), 1);
    }
}
