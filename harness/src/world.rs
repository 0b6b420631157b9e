//! The simulation: one workspace, its administrator, and a fleet of devices
//! driven through the real crates on virtual time.

use std::collections::HashMap;
use std::sync::Arc;

use mdm_android::AndroidEndpoint;
use mdm_apple::{AppleService, EnrollmentParams, ProfileSigner};
use mdm_model::{
    ActivationCode, ApnsCertificateRecord, DeviceId, EmailAddress, Invariant, InvitationToken,
    Platform, PolicySettings, UserId, Workspace, WorkspaceSettings,
};
use mdm_packages::{ConnectionSettings, ProductDescription};
use rand_chacha::ChaCha20Rng;
use time::{Duration, OffsetDateTime};

use crate::device_work::{DeviceView, Enrolling, enrollment_stream};
use crate::draw::{self, CoinPurpose, Purpose, Salt};
use crate::error::model;
use crate::fleet::{DevicePlan, FleetSpec};
use crate::pki::AdminPki;
use crate::queue::{ADMIN, EventQueue};
use crate::report::{CertificateEvent, HourSample, Percentiles, Report, RotationReport};
use crate::tally::{Inv, Tally};
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

/// Where a simulated device stands, beyond what the model records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Not invited yet (or its user has no e-mail address).
    Waiting,
    /// Invited; the link is not opened yet.
    Invited,
    /// Android: the agent is installed; its first sync completes the enrollment.
    Installing,
    /// Enrolled; contacts the server.
    Enrolled,
    /// Lost the connection or was refused; waits for its user to reinstall.
    Lost,
    /// Gave up (invitation expired without a new one, unsupported, …).
    Done,
}

/// One simulated device: its plan and what it holds. Kept small: the fleet
/// is a vector of these, one per device.
pub(crate) struct SimDevice {
    pub(crate) plan: DevicePlan,
    pub(crate) stage: Stage,
    pub(crate) token: Option<InvitationToken>,
    pub(crate) model: Option<DeviceId>,
    pub(crate) invited_at: SimTime,
    /// Android: the configuration version applied; the client certificate's digest.
    pub(crate) config_version: Option<mdm_android::ContentVersion>,
    pub(crate) client_cert: Option<mdm_model::Sha256Digest>,
    /// Android: the credential the server gave the agent (its first sync
    /// proves itself with the invitation token instead).
    pub(crate) agent_credential: Option<mdm_model::AgentCredential>,
    /// Android: results of commands run since the last sync.
    pub(crate) command_results: Vec<mdm_android::AgentCommandResult>,
    /// Apple: the identity certificate (DER) it got at enrollment, which
    /// comes with every request (as the TLS peer certificate).
    pub(crate) apple_identity: Option<Box<[u8]>>,
    /// How many times the device enrolled.
    pub(crate) enrollments: u8,
    /// How many times it opened an invitation link.
    pub(crate) attempts: u8,
}

/// What the workspace hands out: the agent's product and package settings,
/// and the enrollment profile's parameters and signer.
pub(crate) struct Distribution {
    pub(crate) product: ProductDescription,
    pub(crate) agent_apk: Vec<u8>,
    pub(crate) connection: ConnectionSettings,
    pub(crate) apple_params: EnrollmentParams,
    pub(crate) profile_signer: ProfileSigner,
}

/// The state of a run.
pub(crate) struct World {
    pub(crate) opts: Options,
    pub(crate) start: OffsetDateTime,
    pub(crate) horizon: SimTime,
    pub(crate) ws: Workspace,
    /// Shared with the devices' own work (`DeviceView`), which runs on the
    /// other cores while this thread goes on; only the administrator changes it.
    pub(crate) pki: Arc<AdminPki>,
    pub(crate) android: AndroidEndpoint,
    pub(crate) dist: Distribution,
    pub(crate) link_base: mdm_packages::LinkBase,
    pub(crate) users: Vec<(UserId, bool)>,
    pub(crate) devices: Vec<SimDevice>,
    /// The Apple server side: enrollments, identity bindings, push targets
    /// and command queues, trusting identities from the workspace CA.
    pub(crate) apple: AppleService,
    pub(crate) android_commands: HashMap<u64, u32>,
    pub(crate) queue: EventQueue<Event>,
    pub(crate) tally: Tally,
    pub(crate) admin_rng: ChaCha20Rng,
    /// The server's own secrets (agent credentials): a stream of its own, so
    /// they change no other draw of the run.
    pub(crate) server_rng: ChaCha20Rng,
    pub(crate) rotation_lost: Vec<u32>,
    /// The files of the first APNs flow (for `mdm-harness artifacts`).
    pub(crate) apns_flow: crate::pki::ApnsFlowFiles,
}

/// The administrator's hold on the PKI. Devices' own work holds it only
/// within a batch, so between events it is never shared.
fn pki_mut(pki: &mut Arc<AdminPki>) -> Result<&mut AdminPki, HarnessError> {
    Arc::get_mut(pki).ok_or(HarnessError::Internal(
        "the PKI was still shared with devices' work when the administrator changed it",
    ))
}

/// The workspace's connection address in every run.
pub(crate) const SERVER_HOST: &str = "mdm.fleet.example";
pub(crate) const COMPANY: &str = "Fleet Simulation K.K.";
pub(crate) const COUNTRY: &str = "JP";

impl World {
    pub(crate) fn new(opts: Options) -> Result<Self, HarnessError> {
        let start = opts.start;
        let horizon = SimTime::days(opts.days);
        let mut admin_rng = draw::stream(opts.seed, ADMIN, Purpose::Admin);
        let server_rng = draw::stream(opts.seed, ADMIN, Purpose::Server);
        let apns_issued_at = start
            + Duration::days(i64::from(opts.scenario.apns_expires_after_days))
            - mdm_certs::PUSH_CERTIFICATE_VALIDITY;
        let (pki, uploaded) = AdminPki::set_up(
            COMPANY,
            COUNTRY,
            SERVER_HOST,
            start,
            apns_issued_at,
            &mut admin_rng,
        )?;
        let mut ws = Workspace::new("fleet", COMPANY, Some(COUNTRY), start - Duration::days(1))
            .map_err(model("create workspace"))?;
        let settings = WorkspaceSettings {
            invitation_validity: Duration::days(14),
            ..WorkspaceSettings::default()
        };
        ws.set_settings(settings, start)
            .map_err(model("settings"))?;
        record_apns(&mut ws, &uploaded.accepted, start)?;
        let seats = u32::try_from(u64::from(opts.devices) * 95 / 100)
            .unwrap_or(u32::MAX)
            .max(1);
        let code =
            ActivationCode::parse("FLEET-SIM00-LICEN-SE001").map_err(model("activation code"))?;
        let license = ws
            .activate_license(code, seats, start + Duration::days(365), true, start)
            .map_err(model("activate license"))?;
        ws.add_policy(
            "Default policy",
            Workspace::MANAGED,
            PolicySettings {
                license: Some(license),
                ..PolicySettings::default()
            },
            start,
        )
        .map_err(model("add policy"))?;

        let spec = FleetSpec::new(opts.devices);
        let users = (0..spec.users())
            .map(|i| {
                let mut rng = draw::stream(opts.seed, i, Purpose::Events);
                let has_email = !draw::chance(&mut rng, spec.users_without_email);
                let email = has_email
                    .then(|| EmailAddress::parse(&format!("user{i}@fleet.example")))
                    .transpose()
                    .map_err(model("e-mail"))?;
                let id = ws
                    .add_user(&format!("user{i}"), email, start)
                    .map_err(model("add user"))?;
                Ok((id, has_email))
            })
            .collect::<Result<Vec<_>, HarnessError>>()?;
        let validity =
            u32::try_from(ws.settings().invitation_validity.whole_seconds()).unwrap_or(u32::MAX);
        let devices: Vec<SimDevice> = (0..opts.devices)
            .map(|i| SimDevice {
                plan: DevicePlan::draw(opts.seed, i, &spec, &opts.scenario.faults, validity),
                stage: Stage::Waiting,
                token: None,
                model: None,
                invited_at: SimTime::ZERO,
                config_version: None,
                client_cert: None,
                agent_credential: None,
                command_results: Vec::new(),
                apple_identity: None,
                enrollments: 0,
                attempts: 0,
            })
            .collect();
        let (product, agent_apk, connection, link_base) =
            crate::device_android::distribution(&pki)?;
        let (apple_params, profile_signer) = crate::device_apple::enrollment_setup(&pki)?;
        let apple = AppleService::in_memory(vec![pki.ca.certificate().clone()]);
        let mut tally = Tally::default();
        tally.certificate_events.push(CertificateEvent {
            at: SimTime::ZERO,
            what: format!(
                "workspace CA and server certificate for {SERVER_HOST} issued; APNs certificate {} uploaded (topic {}, valid until {})",
                uploaded.accepted.details.file_name,
                uploaded.accepted.details.topic,
                uploaded.accepted.details.not_after.date()
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
                uploaded.accepted.details.issuer_name,
                uploaded.accepted.details.not_before.date(),
                uploaded.accepted.details.not_after.date()
            ),
        });
        Ok(Self {
            opts,
            start,
            horizon,
            ws,
            pki: Arc::new(pki),
            android: AndroidEndpoint::default(),
            dist: Distribution {
                product,
                agent_apk,
                connection,
                apple_params,
                profile_signer,
            },
            link_base,
            users,
            devices,
            apple,
            android_commands: HashMap::new(),
            queue,
            tally,
            admin_rng,
            server_rng,
            rotation_lost: Vec::new(),
            apns_flow: uploaded.flow,
        })
    }

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
                        OwnDone::Prepared(enrolled) => enrolled?.apply(self)?,
                    }
                }
                for s in segment {
                    let now = s.at;
                    match s.event {
                        Event::Invite | Event::OpenLink | Event::Contact => continue,
                        Event::ReuseLink => crate::device_android::reuse_link(self, s.device, now)?,
                        Event::CommandPush => self.command_push(s.device, now)?,
                        Event::Reinstall => self.reinstall(s.device, now)?,
                        Event::Admin(action) => self.admin(action, now)?,
                        Event::RotationActivates => self.rotation_activates(now)?,
                        Event::Hour => self.hour(now)?,
                        Event::Daily => self.daily(),
                    }
                    self.tally.events += 1;
                }
            }
            progress(self.queue.now(), self.horizon);
        }
        self.finish();
        Ok(())
    }

    /// The device opens its invitation link with a real User-Agent:
    /// `mdm-packages` detects it and the model decides. An iPadOS 13+ iPad
    /// that looks like a Mac gets the touch probe, which reloads the link with
    /// the touch points it saw. Either the opening waits for its artifact, or
    /// the answer is known already (a refusal, nothing consumed).
    fn begin_opening(
        &mut self,
        i: u32,
        now: SimTime,
        user_agent: &str,
        store: bool,
    ) -> Result<Result<mdm_packages::PendingLink, mdm_packages::LinkAnswer>, HarnessError> {
        use mdm_packages::{ClientHints, LinkAnswer, LinkRequest, LinkStep};
        let token = self
            .device(i)
            .and_then(|d| d.token.as_ref())
            .map(mdm_model::InvitationToken::expose)
            .unwrap_or_default();
        let at = self.now(now);
        let files = [("agent.apk", self.dist.agent_apk.as_slice())];
        let routes = crate::device_android::routes(&self.dist, &files, store);
        let mut request = LinkRequest {
            token: &token,
            user_agent,
            hints: ClientHints::default(),
        };
        loop {
            let step = mdm_packages::begin_link(&mut self.ws, &request, &routes, at)
                .map_err(crate::error::packages("open link"))?;
            match step {
                LinkStep::Answered(LinkAnswer::NeedsTouchHint { .. })
                    if request.hints == ClientHints::default() =>
                {
                    request.hints = ClientHints::from_query("touch=5");
                }
                LinkStep::Answered(answer) => return Ok(Err(answer)),
                LinkStep::Pending(pending) => return Ok(Ok(pending)),
            }
        }
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
            if let Some(d) = self.device_mut(i) {
                d.attempts = d.attempts.wrapping_add(1);
            }
            let user_agent = if platform == Platform::Android {
                crate::device_android::user_agent(i)
            } else {
                crate::device_apple::user_agent(platform, i)
            };
            match self.begin_opening(i, now, user_agent, store)? {
                Ok(p) => pending.push((i, now, store, p)),
                Err(answer) if platform == Platform::Android => {
                    crate::device_android::answered(self, i, now, answer)?;
                }
                Err(answer) => {
                    crate::device_apple::answered(self, i, now, answer)?;
                }
            }
        }
        let world = &*self;
        let built: Vec<_> = pending
            .into_par_iter()
            .map(|(i, now, store, p)| {
                let files = [("agent.apk", world.dist.agent_apk.as_slice())];
                let routes = crate::device_android::routes(&world.dist, &files, store);
                let mut rng = world.device_stream(i, Purpose::Keys);
                p.build(&routes, world.now(now), &mut rng)
                    .map(|b| (i, now, b))
                    .map_err(|e| HarnessError::Packages {
                        step: "build artifact",
                        message: e.to_string(),
                    })
            })
            .collect();
        let mut enrolling = Vec::new();
        for b in built {
            let (i, now, built) = b?;
            let at = self.now(now);
            let answer = mdm_packages::finish_link(&mut self.ws, built, at).map_err(|e| {
                HarnessError::Packages {
                    step: "finish link",
                    message: e.to_string(),
                }
            })?;
            if self
                .device(i)
                .is_some_and(|d| d.plan.platform == Platform::Android)
            {
                enrolling.extend(
                    crate::device_android::answered(self, i, now, answer)?.map(Enrolling::Android),
                );
            } else {
                enrolling.extend(
                    crate::device_apple::answered(self, i, now, answer)?.map(Enrolling::Apple),
                );
            }
        }
        Ok(enrolling)
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

    /// A generator for device `i` and `purpose` in its current enrollment:
    /// a device that enrolls again draws new keys and serials.
    pub(crate) fn device_stream(&self, i: u32, purpose: Purpose) -> ChaCha20Rng {
        let attempts = self.device(i).map_or(0, |d| d.attempts);
        enrollment_stream(self.opts.seed, i, attempts, purpose)
    }

    /// What a device sees while it works on its own.
    pub(crate) fn device_view(&self) -> DeviceView {
        DeviceView::new(
            Arc::clone(&self.pki),
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

    /// The administrator sends instructions to the users of these devices,
    /// in one batch: one message, one invitation per device (R-IN-1).
    /// Returns the messages still to write, for the caller to compose.
    fn invite(
        &mut self,
        devices: &[u32],
        now: SimTime,
    ) -> Result<Vec<mdm_packages::PendingInstruction>, HarnessError> {
        let mut invited = Vec::new();
        let mut users = Vec::new();
        for &i in devices {
            let Some(d) = self.device(i) else { continue };
            let Some(&(user, has_email)) = self.users.get(d.plan.user as usize) else {
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
        let (tokens, messages) = crate::device_android::send_instructions_to(self, &users, now)?;
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
        // all cores (reading the world, changing nothing); the requests travel
        // (JSON written and parsed) on the other cores while this thread
        // delivers the pushes and has the Apple devices check in, in order.
        let world = &*self;
        let (outgoing, pushes) = rayon::join(
            || {
                syncs
                    .into_par_iter()
                    .filter_map(|(i, now)| {
                        crate::device_android::sync_request(world, i, now).transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()
            },
            || {
                checkins
                    .into_par_iter()
                    .map(|(i, now)| Ok((i, now, crate::device_apple::push_for(world, i)?)))
                    .collect::<Result<Vec<_>, HarnessError>>()
            },
        );
        let (arrived, checked_in) = crate::overlap::alongside(
            outgoing?,
            crate::overlap::LIGHT,
            crate::device_android::sync_transmit,
            || {
                pushes?.into_iter().try_for_each(|(i, now, push)| {
                    crate::device_apple::check_in(self, i, now, push)
                })
            },
        );
        checked_in?;
        // The server answers in order; the answers travel back to the
        // devices on the other cores meanwhile; the devices apply them in order.
        let (answers, ()) = crate::overlap::pipelined(
            self,
            arrived,
            crate::overlap::LIGHT,
            |w, step| crate::device_android::sync_serve(w, step?),
            crate::device_android::sync_parse,
            |_| Ok(()),
        )?;
        for answer in answers {
            crate::device_android::sync_apply(self, answer?)?;
        }
        Ok(())
    }

    fn command_push(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
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
        crate::device_apple::serve_commands(self, i, now)
    }

    /// The user reinstalls: the administrator retires the old record and
    /// sends a new invitation.
    fn reinstall(&mut self, i: u32, now: SimTime) -> Result<(), HarnessError> {
        let Some(d) = self.device(i) else {
            return Ok(());
        };
        if d.stage != Stage::Lost {
            return Ok(());
        }
        if let Some(old) = d.model {
            let state = self.ws.device(old).map_err(model("device"))?.state();
            if !state.is_terminal() {
                self.ws
                    .retire_device(old, self.now(now))
                    .map_err(model("retire"))?;
            }
        }
        if let Some(d) = self.device_mut(i) {
            d.model = None;
            d.config_version = None;
            d.client_cert = None;
            d.agent_credential = None;
            d.command_results.clear();
            if !d.plan.install.is_manageable() {
                d.plan.install = mdm_model::InstallSource::StandalonePackage;
            }
            d.plan.reuses_invitation = false;
            d.stage = Stage::Waiting;
            // A new invitation comes at once; the user acts within the hour.
            d.plan.reaction_secs = d.plan.reaction_secs.min(3600);
        }
        for message in self.invite(&[i], now)? {
            message
                .compose()
                .map_err(crate::error::packages("compose instructions"))?;
        }
        Ok(())
    }

    /// After an enrollment: the device's invitation is consumed by exactly
    /// this device record (R-IN-1).
    pub(crate) fn check_consumed(&mut self, i: u32, device: DeviceId) {
        let state = self
            .device(i)
            .and_then(|d| d.token.as_ref())
            .and_then(|t| self.ws.invitation_for(t))
            .map(mdm_model::Invitation::state);
        let ok = state == Some(mdm_model::InvitationState::Consumed { device });
        self.tally.check(
            Inv::InvitationOnce,
            (!ok).then(|| format!("{device}: its invitation is {state:?}")),
        );
    }

    /// An answer to an opened link that enrolls nothing: a refusal (the user
    /// asks for a new invitation, or — for a missing APNs certificate — waits
    /// for the administrator), or an answer the harness did not expect.
    pub(crate) fn link_not_enrolled(
        &mut self,
        i: u32,
        now: SimTime,
        answer: &mdm_packages::LinkAnswer,
    ) {
        use mdm_model::Refusal as R;
        match answer {
            mdm_packages::LinkAnswer::Refused(reason) => {
                Tally::count(&mut self.tally.refusals, &reason.to_string());
                if matches!(
                    reason,
                    R::NoApnsCertificate
                        | R::ApnsCertificateExpired
                        | R::ApnsCertificateNotYetValid
                ) {
                    // The administrator must fix the workspace; the user tries again a day later.
                    self.queue.push(now.after(86_400), i, Event::OpenLink);
                } else {
                    if let Some(d) = self.device_mut(i) {
                        d.stage = Stage::Lost;
                    }
                    self.queue.push(now.after(3600), i, Event::Reinstall);
                }
            }
            other => {
                Tally::count(
                    &mut self.tally.refusals,
                    &format!("unexpected answer (HTTP {})", other.http_status()),
                );
                if let Some(d) = self.device_mut(i) {
                    d.stage = Stage::Done;
                }
            }
        }
    }

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
            let state = self.ws.device(id).map_err(model("device"))?.state();
            if state.is_connected() {
                let at = self.now(now);
                self.ws
                    .mark_connection_lost(id, at)
                    .map_err(model("lose connection"))?;
            }
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

    fn admin(&mut self, action: AdminAction, now: SimTime) -> Result<(), HarnessError> {
        let at = self.now(now);
        match action {
            AdminAction::IssueReserveServerCertificate { activation_days } => {
                let (issued, activates) = pki_mut(&mut self.pki)?.issue_reserve(
                    at,
                    Duration::days(i64::from(activation_days)),
                    &mut self.admin_rng,
                )?;
                // The prediction an administrator can make at issuance: Android
                // devices that have gone quiet (no sync for two intervals).
                let predicted = self
                    .ws
                    .overdue_devices(at, Workspace::DEFAULT_SYNC_INTERVAL)
                    .filter(|&d| {
                        self.ws
                            .device(d)
                            .is_ok_and(|d| d.platform() == Platform::Android)
                    })
                    .count() as u64;
                let activates_at = SimTime::of(activates, self.start);
                self.tally.rotation = Some(RotationReport {
                    issued_at: SimTime::of(issued, self.start),
                    activates_at,
                    predicted_lost: predicted,
                    ..RotationReport::default()
                });
                self.tally.certificate_events.push(CertificateEvent {
                    at: now,
                    what: format!("reserve server certificate issued, active from {} (valid one year from issuance); {predicted} Android devices predicted lost",
                        activates.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
                });
                self.queue
                    .push(activates_at, ADMIN, Event::RotationActivates);
            }
            AdminAction::RenewApnsCertificate { keep_topic } => {
                match pki_mut(&mut self.pki)?.renew_apns(
                    COMPANY,
                    COUNTRY,
                    keep_topic,
                    at,
                    &mut self.admin_rng,
                )? {
                    Ok(uploaded) => {
                        record_apns(&mut self.ws, &uploaded.accepted, at)?;
                        self.tally.certificate_events.push(CertificateEvent {
                            at: now,
                            what: format!(
                                "APNs certificate renewed, topic kept ({}), valid until {}",
                                uploaded.accepted.details.topic,
                                uploaded.accepted.details.not_after.date()
                            ),
                        });
                    }
                    Err((refusal, file, key)) => {
                        self.tally.certificate_events.push(CertificateEvent {
                            at: now,
                            what: format!("APNs renewal refused by intake: {refusal}; the administrator uploads it as a new certificate"),
                        });
                        let accepted = pki_mut(&mut self.pki)?.upload_new_apns(&file, key, at)?;
                        record_apns(&mut self.ws, &accepted, at)?;
                        self.tally.certificate_events.push(CertificateEvent {
                            at: now,
                            what: format!("new APNs certificate with topic {}: Apple devices enrolled under the old topic are stranded", accepted.details.topic),
                        });
                    }
                }
            }
            AdminAction::UploadForeignApnsCertificate => {
                let refusal = pki_mut(&mut self.pki)?.try_foreign_apns(at, &mut self.admin_rng)?;
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
                crate::device_apple::queue_for_all(self, command, now)?;
            }
            AdminAction::WipeDevices { percent } => {
                let share = f64::from(percent.min(100)) / 100.0;
                for i in 0..u32::try_from(self.devices.len()).unwrap_or(0) {
                    let Some(d) = self.device(i) else { continue };
                    if d.stage != Stage::Enrolled || !self.coin(i, now, CoinPurpose::Wipe, share) {
                        continue;
                    }
                    if d.plan.platform == Platform::Android {
                        crate::device_android::queue_wipe(self, i, now)?;
                    } else {
                        crate::device_apple::queue_erase(self, i, now)?;
                    }
                }
            }
            AdminAction::QueueAndroidCommand { command } => {
                crate::device_android::queue_for_all(self, command, now)?;
            }
        }
        Ok(())
    }

    /// The reserve certificate takes over (R-SV-1): every Android device that
    /// has not synced since the reserve was issued cannot connect any more.
    fn rotation_activates(&mut self, now: SimTime) -> Result<(), HarnessError> {
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
            let Ok(record) = self.ws.device(id) else {
                continue;
            };
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if !self.pki.rotation.device_can_connect(record.last_sync(), at) {
                lost.push(i);
            }
            // Computed independently of mdm-certs: no sync since issuance.
            if record.last_sync().is_none_or(|s| s < issued) {
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
        pki_mut(&mut self.pki)?.rotation.complete(at);
        self.rotation_lost = lost;
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
    fn hour(&mut self, now: SimTime) -> Result<(), HarnessError> {
        let at = self.now(now);
        let waiting: Vec<DeviceId> = self
            .ws
            .group(Workspace::UNASSIGNED)
            .map_err(model("group"))?
            .members()
            .filter(|&d| {
                self.ws
                    .device(d)
                    .is_ok_and(|d| d.state() == mdm_model::DeviceState::Connected)
            })
            .collect();
        for d in waiting {
            self.ws
                .move_device(d, Workspace::MANAGED, at)
                .map_err(model("moving rule"))?;
        }
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

    fn daily(&mut self) {
        let violations = self.ws.check_invariants();
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
        for l in self.ws.licenses() {
            let over = (l.seats_in_use() > l.seats())
                .then(|| format!("{}: {} of {} seats", l.id(), l.seats_in_use(), l.seats()));
            self.tally.check(Inv::Seats, over);
        }
    }

    /// End of the run: every command must have ended or be pending for a reason.
    fn finish(&mut self) {
        crate::device_apple::account_commands(self);
        crate::device_android::account_commands(self);
        self.tally.check(Inv::NoPanic, None);
    }

    pub(crate) fn into_report(mut self) -> Report {
        let t = &mut self.tally;
        let mut fleet = crate::report::PerPlatform::default();
        for d in &self.devices {
            *fleet.of(d.plan.platform) += 1;
        }
        Report {
            scenario: self.opts.scenario.name.to_owned(),
            seed: self.opts.seed,
            days: self.opts.days,
            fleet,
            users: self.users.len() as u64,
            users_without_email: self.users.iter().filter(|(_, e)| !e).count() as u64,
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

/// Records an accepted APNs certificate in the model (R-WS-1).
pub(crate) fn record_apns(
    ws: &mut Workspace,
    accepted: &mdm_certs::AcceptedApnsCertificate,
    at: OffsetDateTime,
) -> Result<(), HarnessError> {
    let d = &accepted.details;
    let record = ApnsCertificateRecord::new(
        d.topic.clone(),
        &d.issuer_name,
        d.not_before,
        d.not_after,
        d.fingerprint,
    )
    .map_err(model("APNs record"))?;
    ws.set_apns_certificate(record, at);
    Ok(())
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
    Prepared(Result<crate::device_work::Enrolled, HarnessError>),
}

impl OwnWork {
    fn run(self, view: &crate::device_work::DeviceView) -> OwnDone {
        match self {
            Self::Compose(message) => OwnDone::Composed(message.compose()),
            Self::Prepare(enrolling) => OwnDone::Prepared(enrolling.prepare(view)),
        }
    }
}
