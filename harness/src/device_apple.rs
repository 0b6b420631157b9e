//! Simulated iPhones and iPads: they open the invitation link with a real
//! User-Agent, verify the signed enrollment profile, get an identity
//! certificate from a CSR, send real `Authenticate` and `TokenUpdate`
//! plists, answer pushes and commands — all through `mdm-packages`,
//! `mdm-apple`, `mdm-certs` and `mdm-model`.
//!
//! The server side is `mdm-apple`'s [`mdm_apple::AppleService`] (held in
//! [`World::apple`]): every check-in and command report goes through its
//! `handle`, with the device's identity certificate as the TLS peer
//! certificate would present it. The service binds the identity at
//! `Authenticate`, connects the device at `TokenUpdate`, records a sync at
//! each `Idle` and a wipe at an acknowledged `EraseDevice`, and keeps the
//! push targets and command queues. What is left here is the device's side
//! and the simulated network (APNs, faults); the harness only reads what the
//! service answered.

use mdm_apple::AppleStore as _;
use mdm_apple::{
    AppleDeviceId, AppleError, CommandReport, CommandRequest, CommandStatus, CommandUuid,
    DeviceRequest, Endpoint, EnrollmentIdentity, EnrollmentParams, Handled, HttpsUrl,
    PresentedIdentity, ProfileSigner, PushMagic, PushOptions, PushRequest, PushToken, ScepIdentity,
    ServiceEvent, TokenUpdate, verify_signed_profile,
};
use mdm_model::PushTopic;
use mdm_model::{DeviceId, Platform};
use mdm_packages::LinkAnswer;
use rand_core::Rng;
use time::OffsetDateTime;

use crate::device_work::DeviceView;
use crate::draw::{self, CoinPurpose, CommandCoin, Purpose};
use crate::error::apple;
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

/// Device `i`'s id in its check-ins and reports: its UDID.
fn device_id(i: u32) -> AppleDeviceId {
    AppleDeviceId::Udid(udid(i))
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
/// carries, the identity certificate it got, and the check-in messages it
/// sends with it.
pub(crate) struct Prepared {
    i: u32,
    now: SimTime,
    device: DeviceId,
    platform: Platform,
    topic: PushTopic,
    /// The identity certificate (DER) the workspace CA issued from its CSR.
    identity: Vec<u8>,
    /// A truncated `Authenticate`, sent first when that fault strikes.
    malformed: Option<Vec<u8>>,
    /// `Authenticate`, then `TokenUpdate`.
    checkins: [Vec<u8>; 2],
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
/// writes its `Authenticate` and `TokenUpdate`, which [`apply`] sends.
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
    let authenticate = mdm_apple::Authenticate::new(topic.clone(), device_id(i))
        .to_xml()
        .map_err(apple("Authenticate"))?;
    let malformed = w
        .coin(
            i,
            now,
            CoinPurpose::MalformedCheckIn,
            w.faults.malformed_checkin_chance,
        )
        .then(|| {
            authenticate
                .get(..authenticate.len() / 2)
                .unwrap_or_default()
                .to_vec()
        });
    let (push_token, magic) = push_identity(w.seed(), i)?;
    let update = TokenUpdate::new(topic.clone(), device_id(i), push_token, magic)
        .to_xml()
        .map_err(apple("TokenUpdate"))?;
    Ok(Prepared {
        i,
        now,
        device,
        platform,
        topic,
        identity: identity.der().to_vec(),
        malformed,
        checkins: [authenticate, update],
    })
}

/// The identity is declared to the service (the SCEP endpoint issued it for
/// this enrollment); the device checks in; the service connects it in the
/// model. Checks the invariants.
pub(crate) fn apply(w: &mut World, p: Prepared) -> Result<(), HarnessError> {
    let Prepared {
        i,
        now,
        device,
        platform,
        topic,
        identity,
        malformed,
        checkins,
    } = p;
    let at = w.now(now);
    w.check_consumed(i, device);
    let apns_ok =
        w.ws.apns_certificate()
            .is_some_and(|a| a.is_valid_at(at) && *a.topic() == topic);
    w.tally.check(
        Inv::AppleNeedsApns,
        (!apns_ok).then(|| {
            format!("{device} got a profile without a valid APNs certificate for its topic")
        }),
    );
    w.apple
        .expect_identity(&identity, device)
        .map_err(apple("expect identity"))?;
    if let Some(d) = w.device_mut(i) {
        d.apple_identity = Some(identity.into_boxed_slice());
    }
    if let Some(body) = malformed {
        match send(w, i, Endpoint::CheckIn, &body, now) {
            Err(_) => Tally::count(&mut w.tally.message_faults, "malformed check-in refused"),
            Ok(_) => w.tally.check(
                Inv::NoPanic,
                Some(format!("device {i}: a truncated check-in was accepted")),
            ),
        }
    }
    let mut connected = false;
    for body in &checkins {
        let Some(handled) = accepted(w, i, now, "check-in", body)? else {
            return Ok(());
        };
        connected = handled.events.contains(&ServiceEvent::Connected);
    }
    if !connected {
        Tally::count(
            &mut w.tally.refusals,
            "check-in refused: TokenUpdate did not connect the device",
        );
        return w.mark_lost(i, now, "check-in refused");
    }
    // The device lands in Unassigned devices (R-GR-1).
    let group =
        w.ws.device(device)
            .map_err(crate::error::model("device"))?
            .group();
    w.tally.check(
        Inv::ThroughGroup,
        (group != Some(mdm_model::Workspace::UNASSIGNED))
            .then(|| format!("{device} did not land in Unassigned devices")),
    );
    if let Some(d) = w.device_mut(i) {
        d.model = Some(device);
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

/// One request of device `i` to the service at `now`, with its identity
/// certificate as the TLS peer certificate (the transport vouches for it).
fn send(
    w: &mut World,
    i: u32,
    endpoint: Endpoint,
    body: &[u8],
    now: SimTime,
) -> Result<Handled, AppleError> {
    let at = w.now(now);
    let identity = match w
        .devices
        .get(i as usize)
        .and_then(|d| d.apple_identity.as_deref())
    {
        Some(der) => PresentedIdentity::Certificate(der),
        None => PresentedIdentity::None,
    };
    let request = DeviceRequest {
        endpoint,
        body,
        identity,
    };
    w.apple.handle(&mut w.ws, &request, at)
}

/// Sends `body` (a check-in, or else a command report) and gives the
/// service's answer; a refusal (already audited by the service) is counted
/// and the device loses its connection (`None`). A failure that is no
/// refusal is the harness's error.
fn accepted(
    w: &mut World,
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
    let error = match send(w, i, endpoint, body, now) {
        Ok(handled) => return Ok(Some(handled)),
        Err(e) => e,
    };
    let reason = match (&error, mdm_apple::refusal_of(&error)) {
        (AppleError::Model { .. }, _) | (_, None) => return Err(apple("serve")(error)),
        (_, Some(reason)) => reason,
    };
    Tally::count(&mut w.tally.refusals, &format!("{what} refused: {reason}"));
    w.mark_lost(i, now, &format!("{what} refused"))?;
    Ok(None)
}

/// The scheduled contact: the server pushes, the device connects (`Idle`,
/// a sync in the model) and answers what is queued.
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
    let due = serve(w, i, now)?;
    if w.device(i).is_none_or(|d| d.stage != Stage::Enrolled) {
        // Erased, refused or lost while it answered its commands.
        return Ok(());
    }
    let Some(due) = due else {
        return Ok(());
    };
    let jitter = w.device(i).map_or(0, |d| d.plan.jitter_secs);
    w.queue
        .push(SimTime::of(due, w.start).after(jitter), i, Event::Contact);
    Ok(())
}

/// A push for queued commands.
pub(crate) fn serve_commands(w: &mut World, i: u32, now: SimTime) -> Result<(), HarnessError> {
    let request = push_for(w, i)?;
    if push(w, i, now, request)? {
        serve(w, i, now)?;
    }
    Ok(())
}

/// The push the server sends device `i`, as the service builds it from the
/// topic, token and magic of its enrollment. `None` while it has none.
pub(crate) fn push_for(w: &World, i: u32) -> Result<Option<PushRequest>, HarnessError> {
    w.apple
        .push_request(&device_id(i), &PushOptions::default())
        .map_err(apple("push request"))
}

/// Sends the push through (simulated) APNs: it reaches the device only when
/// the workspace's APNs certificate is valid and covers the push's topic
/// (the one the device enrolled under). A device whose topic changed is
/// stranded.
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
    let covered = request
        .headers
        .iter()
        .any(|(k, v)| *k == "apns-topic" && v.as_str() == record.topic().as_str());
    if !valid {
        Tally::count(
            &mut w.tally.message_faults,
            "push refused: APNs certificate expired",
        );
        w.queue.push(now.after(86_400), i, Event::Contact);
        return Ok(false);
    }
    if !covered {
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

/// The device connects: `Idle`, then one report per command the answers
/// hand out, until an answer is empty. Counts what the service recorded and
/// returns when the next sync is due, as the sync at `Idle` said.
fn serve(w: &mut World, i: u32, now: SimTime) -> Result<Option<OffsetDateTime>, HarnessError> {
    let id = device_id(i);
    let idle = report_bytes(&CommandReport::idle(id.clone()))?;
    let Some(mut answer) = accepted(w, i, now, "command report", &idle)? else {
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
                    w.tally.syncs += 1;
                    w.tally.syncs_this_hour += 1;
                    due = Some(outcome.next_sync_due);
                }
                ServiceEvent::CommandFinished {
                    status,
                    request_type,
                    ..
                } => {
                    w.tally.check(Inv::CommandsEnd, None);
                    w.tally.pending_commands = w.tally.pending_commands.saturating_sub(1);
                    let name = format!(
                        "apple {} {}",
                        request_type
                            .as_ref()
                            .map_or("(unknown)", mdm_apple::RequestType::as_str),
                        status.as_str()
                    );
                    Tally::count(&mut w.tally.commands, &name);
                }
                ServiceEvent::CommandDeferred(_) => deferred = true,
                ServiceEvent::Wiped => wiped = true,
                ServiceEvent::CommandSent(_) => {}
                other => w.tally.check(
                    Inv::CommandsEnd,
                    Some(format!("device {i}: unexpected {other:?}")),
                ),
            }
        }
        if wiped {
            // The device erases itself: it leaves management and must enroll
            // again (R-WP-1). What it had queued stays pending.
            w.mark_lost(i, now, "wiped: must enroll again")?;
            break;
        }
        if answer.body.is_empty() {
            break;
        }
        // The device reads the command it was handed and answers it.
        let command = mdm_apple::parse_command(&answer.body).map_err(apple("read command"))?;
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
            id.clone(),
            command.uuid,
            status,
            mdm_apple::PlistDictionary::new(),
        ))?;
        let Some(next) = accepted(w, i, now, "command report", &report)? else {
            break;
        };
        if w.coin(
            i,
            now,
            CommandCoin::ReportDuplicated.nth(nth),
            faults.duplicate_chance,
        ) {
            duplicate(w, i, now, &report, &next);
        }
        answer = next;
    }
    let pending = w
        .apple
        .store()
        .pending_commands(&id)
        .map_err(apple("pending commands"))?;
    if deferred && pending > 0 {
        w.queue.push(now.after(3600), i, Event::CommandPush);
    }
    Ok(due)
}

/// The network delivers `report` a second time: the service must change
/// nothing — it ignores the repeat (or, after an acknowledged
/// `EraseDevice`, refuses the wiped device).
fn duplicate(w: &mut World, i: u32, now: SimTime, report: &[u8], first: &Handled) {
    let again = send(w, i, Endpoint::Command, report, now);
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
        w.tally.check(
            Inv::CommandsEnd,
            Some(format!(
                "device {i}: a duplicated report changed the queue: {again:?}"
            )),
        );
    }
    Tally::count(&mut w.tally.message_faults, "command report duplicated");
}

fn report_bytes(report: &CommandReport) -> Result<Vec<u8>, HarnessError> {
    report.to_xml().map_err(apple("command report"))
}

/// The administrator erases one device (`EraseDevice`) and pushes.
pub(crate) fn queue_erase(w: &mut World, i: u32, now: SimTime) -> Result<(), HarnessError> {
    let mut rng = draw::stream(w.opts.seed ^ u64::from(now.0), i, Purpose::Admin);
    let request = CommandRequest::new(
        CommandUuid::random(&mut rng),
        mdm_apple::Command::EraseDevice(mdm_apple::EraseDevice::default()),
    );
    w.apple
        .enqueue(&device_id(i), request)
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
        w.apple
            .enqueue(&device_id(i), request)
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

/// At the end: commands still queued in the service are pending, each with
/// its reason.
pub(crate) fn account_commands(w: &mut World) {
    for i in 0..u32::try_from(w.devices.len()).unwrap_or(0) {
        let reason = match w.device(i) {
            Some(d) if d.plan.platform.is_apple() => {
                match (d.stage, d.plan.offline_at(w.horizon)) {
                    (Stage::Lost, _) => "device lost or stranded",
                    (_, true) => "device offline",
                    _ => "deferred by the device (NotNow) or awaiting its next push",
                }
            }
            _ => continue,
        };
        let Some(queue) = w.apple.store().queue(&device_id(i)) else {
            continue;
        };
        for pending in queue.pending() {
            let name = format!(
                "apple {} pending: {reason}",
                pending.request.command.request_type().as_str()
            );
            w.tally.check(Inv::CommandsEnd, None);
            Tally::count(&mut w.tally.commands, &name);
        }
    }
}
