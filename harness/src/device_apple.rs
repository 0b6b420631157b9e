//! Simulated iPhones and iPads: they open the invitation link with a real
//! User-Agent, verify the signed enrollment profile, get an identity
//! certificate from a CSR, send real `Authenticate` and `TokenUpdate`
//! plists, answer pushes and commands — all through `mdm-packages`,
//! `mdm-apple`, `mdm-certs` and `mdm-model`.

use mdm_apple::{
    AppleEnrollment, CommandReport, CommandRequest, CommandStatus, CommandUuid, DeviceMessage,
    EnrollmentEvent, EnrollmentIdentity, EnrollmentParams, HttpsUrl, ProfileSigner, PushMagic,
    PushOptions, PushRequest, PushTarget, PushToken, ReportOutcome, ScepIdentity, TokenUpdate,
    decode, push_request, verify_signed_profile,
};
use mdm_model::PushTopic;
use mdm_model::{DeviceId, Platform, SyncReport};
use mdm_packages::LinkAnswer;
use rand_core::Rng;

use crate::device_work::DeviceView;
use crate::draw::{self, CoinPurpose, CommandCoin, Purpose};
use crate::error::{apple, model};
use crate::pki::AdminPki;
use crate::scenario::FleetCommand;
use crate::tally::{Inv, Tally};
use crate::world::{Event, Stage, World};
use crate::{HarnessError, SimTime};

/// The workspace's enrollment-profile parameters (SCEP identity, the
/// server's root CA) and the profile signer (the server's certificate).
pub(crate) fn enrollment_setup(
    pki: &AdminPki,
) -> Result<(EnrollmentParams, ProfileSigner), HarnessError> {
    let host = crate::world::SERVER_HOST;
    let params = EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", format!("https://{host}/mdm/server"))
            .map_err(apple("server URL"))?,
        check_in_url: Some(
            HttpsUrl::new("CheckInURL", format!("https://{host}/mdm/checkin"))
                .map_err(apple("check-in URL"))?,
        ),
        topic: pki.topic.clone(),
        identity: EnrollmentIdentity::Scep(ScepIdentity {
            name: Some("fleet-ca".into()),
            subject: vec![
                ("O".into(), crate::world::COMPANY.into()),
                ("CN".into(), "%SerialNumber%".into()),
            ],
            challenge: Some("simulated-challenge".into()),
            ..ScepIdentity::new(format!("https://{host}/scep"))
        }),
        server_root_ca_der: Some(pki.ca.certificate().der().to_vec()),
        identifier_prefix: "example.fleet.mdm".into(),
        organization: crate::world::COMPANY.into(),
    };
    let current = pki.rotation.current();
    let chain = vec![
        current.certificate.der().to_vec(),
        pki.ca.certificate().der().to_vec(),
    ];
    let signer = ProfileSigner::new(&chain, current.key.pkcs8_der_secret())
        .map_err(apple("profile signer"))?;
    Ok((params, signer))
}

/// Real User-Agent strings: iPhone, an iPad before iPadOS 13, and an
/// iPadOS 13+ iPad that presents itself as a Mac.
pub(crate) fn user_agent(platform: Platform, variant: u32) -> &'static str {
    match (platform, variant % 2) {
        (Platform::IPadOs, 0) => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
        }
        (Platform::IPadOs, _) => {
            "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1"
        }
        _ => {
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
        }
    }
}

fn udid(i: u32) -> String {
    format!("00008110-{:016X}", 0x001C_0000_0000_0000_u64 | u64::from(i))
}

fn push_identity(seed: u64, i: u32) -> Result<(PushToken, PushMagic), HarnessError> {
    let mut rng = draw::stream(seed, i, Purpose::Keys);
    let mut token = vec![0u8; 32];
    rng.fill_bytes(&mut token);
    let magic = format!(
        "{:08X}-{:04X}-4{:03X}-A{:03X}-{:012X}",
        rng.next_u32(),
        rng.next_u32() & 0xffff,
        rng.next_u32() & 0xfff,
        rng.next_u32() & 0xfff,
        rng.next_u64() & 0xffff_ffff_ffff
    );
    Ok((
        PushToken::new(token).map_err(apple("push token"))?,
        PushMagic::new(magic).map_err(apple("push magic"))?,
    ))
}

/// What routing gave an Apple device: its new record and the signed profile.
pub(crate) struct Routed {
    i: u32,
    now: SimTime,
    device: DeviceId,
    platform: Platform,
    profile: Vec<u8>,
    /// The device's user and how many links it has opened (its key stream).
    user: u32,
    attempts: u8,
}

/// What the device did with the profile, off the workspace: the topic it
/// carries, and the outcome of its `Authenticate` / `TokenUpdate` check-in
/// as the server's `AppleEnrollment` parsed it.
pub(crate) struct Prepared {
    i: u32,
    now: SimTime,
    device: DeviceId,
    platform: Platform,
    topic: String,
    /// `Some(true)`: a malformed check-in was sent first and refused;
    /// `Some(false)`: it was (wrongly) accepted.
    malformed_refused: Option<bool>,
    /// Where the server pushes from now on, as the `TokenUpdate` said.
    checked_in: Result<PushTarget, String>,
}

/// What the device got: the signed profile, or a refusal (also when the same
/// link was consumed by another opening in the meantime).
pub(crate) fn answered(
    w: &mut World,
    i: u32,
    now: SimTime,
    answer: LinkAnswer,
) -> Result<Option<Routed>, HarnessError> {
    let Some((platform, user, attempts)) = w
        .device(i)
        .map(|d| (d.plan.platform, d.plan.user, d.attempts))
    else {
        return Ok(None);
    };
    match answer {
        LinkAnswer::AppleProfile {
            device,
            profile,
            platform: routed,
            ..
        } => {
            if routed != platform {
                Tally::count(&mut w.tally.refusals, "platform misdetected");
            }
            Ok(Some(Routed {
                i,
                now,
                device,
                platform,
                profile,
                user,
                attempts,
            }))
        }
        other => {
            w.link_not_enrolled(i, now, &other);
            Ok(None)
        }
    }
}

/// The device verifies the signed profile and reads its topic; SCEP,
/// simulated: it makes a key and CSR and the workspace CA signs it; then it
/// checks in with `Authenticate` and `TokenUpdate`, which the server parses.
/// Sees the world only through a `DeviceView`, so it runs on the other
/// cores while the minute's contacts are handled.
pub(crate) fn prepare(w: &DeviceView, r: Routed) -> Result<Prepared, HarnessError> {
    let Routed {
        i,
        now,
        device,
        platform,
        profile,
        user,
        attempts,
    } = r;
    let at = w.now(now);
    let verified =
        verify_signed_profile(&profile, std::slice::from_ref(w.pki.ca.certificate()), at)
            .map_err(apple("verify profile"))?;
    let topic =
        profile_topic(&verified.plist().map_err(apple("profile plist"))?).ok_or_else(|| {
            HarnessError::Apple {
                step: "profile topic",
                message: "no com.apple.mdm payload".into(),
            }
        })?;
    let mut rng = w.stream(i, attempts, Purpose::Device);
    let (_key, csr) =
        mdm_certs::Csr::for_device(&udid(i), &mut rng).map_err(crate::pki::cert("device CSR"))?;
    let identity = w.pki.issue_device_certificate(
        csr.der(),
        &format!("user{user}"),
        &udid(i),
        at,
        &mut rng,
    )?;
    if !identity.is_signed_by(w.pki.ca.certificate()) {
        return Err(HarnessError::Apple {
            step: "identity",
            message: "identity not signed by the workspace CA".into(),
        });
    }
    let device_id = mdm_apple::AppleDeviceId::Udid(udid(i));
    let mut enrollment = AppleEnrollment::new(w.pki.topic.clone());
    let authenticate = mdm_apple::Authenticate::new(topic.clone(), device_id.clone())
        .to_xml()
        .map_err(apple("Authenticate"))?;
    let malformed_refused = w
        .coin(
            i,
            now,
            CoinPurpose::MalformedCheckIn,
            w.faults.malformed_checkin_chance,
        )
        .then(|| {
            decode(
                authenticate
                    .get(..authenticate.len() / 2)
                    .unwrap_or_default(),
            )
            .is_err()
        });
    let DeviceMessage::Authenticate(auth) =
        decode(&authenticate).map_err(apple("decode Authenticate"))?
    else {
        return Err(HarnessError::Apple {
            step: "decode Authenticate",
            message: "wrong message type".into(),
        });
    };
    let (push_token, magic) = push_identity(w.seed(), i)?;
    let update = TokenUpdate::new(topic.clone(), device_id, push_token, magic)
        .to_xml()
        .map_err(apple("TokenUpdate"))?;
    let DeviceMessage::TokenUpdate(update) =
        decode(&update).map_err(apple("decode TokenUpdate"))?
    else {
        return Err(HarnessError::Apple {
            step: "decode TokenUpdate",
            message: "wrong message type".into(),
        });
    };
    let checked_in = enrollment
        .authenticate(&auth)
        .and_then(|_| enrollment.token_update(&update))
        .map_err(|e| e.to_string())
        .and_then(|event| match (event, enrollment.push_target()) {
            (EnrollmentEvent::Enrolled, Some(target)) => Ok(target.clone()),
            (event, _) => Err(format!("TokenUpdate left the enrollment at {event:?}")),
        });
    Ok(Prepared {
        i,
        now,
        device,
        platform,
        topic: topic.as_str().to_owned(),
        malformed_refused,
        checked_in,
    })
}

/// Records the enrollment in the model and checks its invariants.
pub(crate) fn apply(w: &mut World, p: Prepared) -> Result<(), HarnessError> {
    let Prepared {
        i,
        now,
        device,
        platform,
        topic,
        malformed_refused,
        checked_in,
    } = p;
    let at = w.now(now);
    w.check_consumed(i, device);
    // The device lands in Unassigned devices (R-GR-1).
    let group = w.ws.device(device).map_err(model("device"))?.group();
    w.tally.check(
        Inv::ThroughGroup,
        (group != Some(mdm_model::Workspace::UNASSIGNED))
            .then(|| format!("{device} did not land in Unassigned devices")),
    );
    let apns_ok =
        w.ws.apns_certificate()
            .is_some_and(|a| a.is_valid_at(at) && a.topic().as_str() == topic);
    w.tally.check(
        Inv::AppleNeedsApns,
        (!apns_ok).then(|| {
            format!("{device} got a profile without a valid APNs certificate for its topic")
        }),
    );
    match malformed_refused {
        Some(true) => Tally::count(&mut w.tally.message_faults, "malformed check-in refused"),
        Some(false) => w.tally.check(
            Inv::NoPanic,
            Some(format!("device {i}: a truncated check-in was accepted")),
        ),
        None => {}
    }
    let target = match checked_in {
        Ok(target) => target,
        Err(e) => {
            Tally::count(&mut w.tally.refusals, &format!("check-in refused: {e}"));
            return w.mark_lost(i, now, "check-in refused");
        }
    };
    w.apple_push.insert(i, target);
    let generation = w.topics.iter().position(|t| *t == topic).unwrap_or(0);
    w.ws.complete_enrollment(device, at)
        .map_err(model("complete enrollment"))?;
    if let Some(d) = w.device_mut(i) {
        d.model = Some(device);
        d.topic_generation = u8::try_from(generation).unwrap_or(u8::MAX);
    }
    w.enrolled(i, now, platform);
    let jitter = w.device(i).map_or(0, |d| d.plan.jitter_secs);
    w.queue.push(now.after(600 + jitter), i, Event::Contact);
    Ok(())
}

/// The `Topic` of the profile's `com.apple.mdm` payload.
fn profile_topic(plist: &mdm_apple::PlistValue) -> Option<PushTopic> {
    let payloads = plist.as_dictionary()?.get("PayloadContent")?.as_array()?;
    payloads.iter().find_map(|p| {
        let p = p.as_dictionary()?;
        (p.get("PayloadType")?.as_string()? == "com.apple.mdm")
            .then(|| p.get("Topic")?.as_string())
            .flatten()
            .and_then(|t| PushTopic::parse(t).ok())
    })
}

/// The scheduled contact: the server pushes, the device checks in (Idle),
/// answers what is queued, and the model records the contact.
/// `request` is the push [`push_for`] built.
pub(crate) fn check_in(
    w: &mut World,
    i: u32,
    now: SimTime,
    request: Option<PushRequest>,
) -> Result<(), HarnessError> {
    if !push(w, i, now, request)? {
        return Ok(());
    }
    serve(w, i, now)?;
    if w.device(i).is_none_or(|d| d.stage != Stage::Enrolled) {
        // Erased (or lost) while it answered its commands.
        return Ok(());
    }
    let Some(id) = w.device(i).and_then(|d| d.model) else {
        return Ok(());
    };
    let at = w.now(now);
    let outcome =
        w.ws.record_sync(id, &SyncReport::default(), at)
            .map_err(model("record check-in"))?;
    w.tally.syncs += 1;
    w.tally.syncs_this_hour += 1;
    let jitter = w.device(i).map_or(0, |d| d.plan.jitter_secs);
    w.queue.push(
        SimTime::of(outcome.next_sync_due, w.start).after(jitter),
        i,
        Event::Contact,
    );
    Ok(())
}

/// A push for queued commands.
pub(crate) fn serve_commands(w: &mut World, i: u32, now: SimTime) -> Result<(), HarnessError> {
    let request = workspace_topic(w).and_then(|topic| push_for(w, i, topic));
    if push(w, i, now, request)? {
        serve(w, i, now)?;
    }
    Ok(())
}

/// The push the server sends device `i`: the workspace's `topic`, and the
/// token and magic the device's `TokenUpdate` gave. `None` without a
/// `TokenUpdate`.
pub(crate) fn push_for(w: &World, i: u32, topic: &PushTopic) -> Option<PushRequest> {
    let target = w.apple_push.get(&i)?;
    Some(push_request(
        topic,
        &target.token,
        &target.push_magic,
        &PushOptions::default(),
    ))
}

/// The workspace's APNs topic, if it has an APNs certificate.
pub(crate) fn workspace_topic(w: &World) -> Option<&PushTopic> {
    w.ws.apns_certificate()
        .map(mdm_model::ApnsCertificateRecord::topic)
}

/// Sends the push through (simulated) APNs: it reaches the device only when
/// the workspace's APNs certificate is valid and its topic is the one the
/// device enrolled under. A device whose topic changed is stranded.
fn push(
    w: &mut World,
    i: u32,
    now: SimTime,
    request: Option<PushRequest>,
) -> Result<bool, HarnessError> {
    let at = w.now(now);
    let (Some(record), Some(request)) = (w.ws.apns_certificate(), request) else {
        return Ok(false);
    };
    let valid = record.is_valid_at(at);
    if !valid {
        Tally::count(
            &mut w.tally.message_faults,
            "push refused: APNs certificate expired",
        );
        w.queue.push(now.after(86_400), i, Event::Contact);
        return Ok(false);
    }
    let device_topic = w
        .device(i)
        .and_then(|d| w.topics.get(usize::from(d.topic_generation)));
    let header_topic = request
        .headers
        .iter()
        .find(|(k, _)| *k == "apns-topic")
        .map(|(_, v)| v.as_str());
    if device_topic.map(String::as_str) != header_topic {
        w.mark_lost(i, now, "stranded: APNs topic changed")?;
        return Ok(false);
    }
    if w.coin(
        i,
        now,
        CoinPurpose::PushLost,
        w.opts.scenario.faults.drop_chance,
    ) {
        Tally::count(&mut w.tally.message_faults, "push lost");
        w.queue.push(now.after(900), i, Event::CommandPush);
        return Ok(false);
    }
    Ok(true)
}

/// The device connects: `Idle`, then one report per command until the queue
/// has nothing it will take now.
fn serve(w: &mut World, i: u32, now: SimTime) -> Result<(), HarnessError> {
    let Some(mut queue) = w.apple_queues.remove(&i) else {
        return Ok(());
    };
    let device_id = mdm_apple::AppleDeviceId::Udid(udid(i));
    queue.begin_connection();
    let idle = report_bytes(&CommandReport::idle(device_id.clone()))?;
    let mut next: Option<CommandRequest> = queue
        .respond(&decode_report(&idle)?)
        .map_err(apple("record report"))?
        .1
        .cloned();
    let mut deferred = false;
    let mut nth = 0;
    while let Some(command) = next.take() {
        nth += 1;
        let faults = w.opts.scenario.faults;
        let status = if w.coin(i, now, CommandCoin::NotNow.nth(nth), faults.not_now_chance) {
            CommandStatus::NotNow
        } else if w.coin(
            i,
            now,
            CommandCoin::Error.nth(nth),
            faults.command_error_chance,
        ) {
            CommandStatus::Error
        } else {
            CommandStatus::Acknowledged
        };
        let report = report_bytes(&CommandReport::result(
            device_id.clone(),
            command.uuid.clone(),
            status,
            mdm_apple::PlistDictionary::new(),
        ))?;
        let parsed = decode_report(&report)?;
        let (outcome, following) = queue.respond(&parsed).map_err(apple("record report"))?;
        let following = following.cloned();
        if w.coin(
            i,
            now,
            CommandCoin::ReportDuplicated.nth(nth),
            faults.duplicate_chance,
        ) {
            let again = queue.record(&parsed).map_err(apple("record report"))?;
            if !matches!(
                again,
                ReportOutcome::Duplicate(_) | ReportOutcome::Deferred(_)
            ) {
                w.tally.check(
                    Inv::CommandsEnd,
                    Some(format!(
                        "device {i}: a duplicated report changed the queue: {again:?}"
                    )),
                );
            }
            Tally::count(&mut w.tally.message_faults, "command report duplicated");
        }
        match outcome {
            ReportOutcome::Finished(_, status) => {
                w.tally.check(Inv::CommandsEnd, None);
                w.tally.pending_commands = w.tally.pending_commands.saturating_sub(1);
                let name = format!(
                    "apple {} {}",
                    command.command.request_type().as_str(),
                    status.as_str()
                );
                Tally::count(&mut w.tally.commands, &name);
                let erased = status == CommandStatus::Acknowledged
                    && matches!(command.command, mdm_apple::Command::EraseDevice(_));
                if erased {
                    // The device erases itself: it leaves management and must
                    // enroll again (R-WP-1). What it had queued stays pending.
                    if let Some(id) = w.device(i).and_then(|d| d.model) {
                        w.ws.wipe_device(id, w.now(now)).map_err(model("wipe"))?;
                    }
                    w.mark_lost(i, now, "wiped: must enroll again")?;
                    break;
                }
            }
            ReportOutcome::Deferred(_) => deferred = true,
            other => w.tally.check(
                Inv::CommandsEnd,
                Some(format!("device {i}: unexpected {other:?}")),
            ),
        }
        next = following;
    }
    if queue.pending_len() > 0 {
        if deferred {
            w.queue.push(now.after(3600), i, Event::CommandPush);
        }
        w.apple_queues.insert(i, queue);
    }
    Ok(())
}

fn report_bytes(report: &CommandReport) -> Result<Vec<u8>, HarnessError> {
    report.to_xml().map_err(apple("command report"))
}

fn decode_report(bytes: &[u8]) -> Result<CommandReport, HarnessError> {
    match decode(bytes).map_err(apple("decode report"))? {
        DeviceMessage::Report(r) => Ok(r.message),
        _ => Err(HarnessError::Apple {
            step: "decode report",
            message: "not a command report".into(),
        }),
    }
}

/// The administrator erases one device (`EraseDevice`) and pushes.
pub(crate) fn queue_erase(w: &mut World, i: u32, now: SimTime) -> Result<(), HarnessError> {
    let mut rng = draw::stream(w.opts.seed ^ u64::from(now.0), i, Purpose::Admin);
    let request = CommandRequest::new(
        CommandUuid::random(&mut rng),
        mdm_apple::Command::EraseDevice(mdm_apple::EraseDevice::default()),
    );
    w.apple_queues
        .entry(i)
        .or_insert_with(|| mdm_apple::CommandQueue::new(mdm_apple::AppleDeviceId::Udid(udid(i))))
        .enqueue(request)
        .map_err(apple("enqueue"))?;
    w.tally.pending_commands += 1;
    w.queue.push(now.after(60), i, Event::CommandPush);
    Ok(())
}

/// The administrator queues a command for every enrolled Apple device and pushes.
pub(crate) fn queue_for_all(
    w: &mut World,
    command: FleetCommand,
    now: SimTime,
) -> Result<(), HarnessError> {
    let mut rng = draw::stream(
        w.opts.seed ^ u64::from(now.0),
        crate::queue::ADMIN,
        Purpose::Admin,
    );
    let targets: Vec<u32> = (0..u32::try_from(w.devices.len()).unwrap_or(0))
        .filter(|&i| {
            w.device(i)
                .is_some_and(|d| d.plan.platform.is_apple() && d.stage == Stage::Enrolled)
        })
        .collect();
    for i in targets {
        let request = CommandRequest::new(CommandUuid::random(&mut rng), apple_command(command));
        w.apple_queues
            .entry(i)
            .or_insert_with(|| {
                mdm_apple::CommandQueue::new(mdm_apple::AppleDeviceId::Udid(udid(i)))
            })
            .enqueue(request)
            .map_err(apple("enqueue"))?;
        w.tally.pending_commands += 1;
        let jitter = w.device(i).map_or(0, |d| d.plan.jitter_secs);
        w.queue.push(now.after(jitter / 4), i, Event::CommandPush);
    }
    Ok(())
}

fn apple_command(command: FleetCommand) -> mdm_apple::Command {
    match command {
        FleetCommand::DeviceInformation | FleetCommand::ScanNow => {
            mdm_apple::Command::DeviceInformation(mdm_apple::DeviceInformation::common())
        }
        FleetCommand::SecurityInfo => mdm_apple::Command::SecurityInfo(mdm_apple::SecurityInfo),
        FleetCommand::DeviceLock => mdm_apple::Command::DeviceLock(mdm_apple::DeviceLock {
            message: Some("This device was locked by your administrator.".into()),
            phone_number: None,
            pin: None,
        }),
    }
}

/// At the end: commands still queued are pending, each with its reason.
pub(crate) fn account_commands(w: &mut World) {
    let mut queues: Vec<_> = w.apple_queues.drain().collect();
    queues.sort_by_key(|(i, _)| *i);
    for (i, queue) in queues {
        let reason = match w.device(i).map(|d| (d.stage, d.plan.offline_at(w.horizon))) {
            Some((Stage::Lost, _)) => "device lost or stranded",
            Some((_, true)) => "device offline",
            Some(_) => "deferred by the device (NotNow) or awaiting its next push",
            None => "",
        };
        for pending in queue.pending() {
            let name = format!(
                "apple {} pending: {reason}",
                pending.request.command.request_type().as_str()
            );
            w.tally.check(
                Inv::CommandsEnd,
                reason
                    .is_empty()
                    .then(|| format!("device {i}: pending without a reason")),
            );
            Tally::count(&mut w.tally.commands, &name);
        }
    }
}
