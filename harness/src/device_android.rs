//! Simulated Android devices: they open the invitation link, install the
//! agent from the standalone package (reading the settings it embeds) or
//! from a plain APK (typing the address), redeem a client certificate by
//! one-time password, and sync through `mdm-android`'s real JSON protocol.

use mdm_android::{
    AgentAuthorization, AgentCommandKind, AgentCommandResult, AgentCommandStatus, AgentInfo,
    AgentLicenseState, DeviceStatus, InstallReport, LastScan, ScanOutcome, SyncRequest,
    SyncResponse,
};
use mdm_certs::{ClientCertificateDelivery, DeliveryPayload, OtpPolicy};
use mdm_model::Sha256Digest;
use mdm_model::{DeviceId, InstallSource, InvitationToken, Platform, UserId, Workspace};
use mdm_packages::{
    AndroidDelivery, CaCertificate, ClientHints, ConnectionSettings, InstructionSettings, Language,
    LinkAnswer, LinkBase, LinkRequest, LinkRoutes, PendingInstruction, ProductDescription,
    ProductFile, StandalonePackage, issue_instructions, open_link as answer_link,
};
use time::{Duration, OffsetDateTime, Time};

use crate::device_work::DeviceView;
use crate::draw::{self, CoinPurpose, Purpose};
use crate::error::{android, model, packages};
use crate::pki::AdminPki;
use crate::scenario::FleetCommand;
use crate::tally::{Inv, Tally};
use crate::world::{Event, Stage, World};
use crate::{HarnessError, SimTime};

/// Where the store listing of the agent is.
pub(crate) const STORE_URL: &str =
    "https://play.google.com/store/apps/details?id=com.example.mdm.agent";
const AGENT_VERSION: &str = "11.2.0.45";

/// The product, its agent APK bytes, the connection settings a standalone
/// package embeds, and the base of invitation links.
pub(crate) fn distribution(
    pki: &AdminPki,
) -> Result<(ProductDescription, Vec<u8>, ConnectionSettings, LinkBase), HarnessError> {
    // A stand-in APK: the harness does not ship an agent, only bytes with a
    // ZIP signature so that the package carries something APK-shaped.
    let mut apk = b"PK\x03\x04 fleet-simulation agent stand-in ".to_vec();
    apk.extend(
        (0u32..2048).map(|i| u8::try_from(i.wrapping_mul(2_654_435_761) >> 24).unwrap_or(0)),
    );
    let file = ProductFile {
        path: mdm_packages::ProductPath::new("agent.apk").map_err(|message| {
            HarnessError::Packages {
                step: "product file",
                message,
            }
        })?,
        sha256: mdm_model::Sha256Digest::of(&apk),
        size: Some(apk.len() as u64),
    };
    let product = ProductDescription::new("Fleet Agent", "11.2.0", Platform::Android, vec![file])
        .map_err(packages("product"))?;
    let connection = ConnectionSettings {
        server: mdm_model::ServerAddress::parse(crate::world::SERVER_HOST)
            .map_err(model("server address"))?
            .with_default_port(mdm_model::ServerAddress::HTTPS_PORT),
        server_ca: CaCertificate::from_der(pki.ca.certificate().der())
            .map_err(packages("server CA"))?,
        workspace_id: "fleet".into(),
        user: None,
        enrollment_token: None,
    };
    let base = LinkBase::parse(&format!("https://{}", crate::world::SERVER_HOST))
        .map_err(packages("link base"))?;
    Ok((product, apk, connection, base))
}

/// The administrator issues each user an invitation for an instruction
/// message (link + QR); the device's user reads the link from it. Returns
/// the tokens, in the order of `users`, and the messages still to write
/// ([`PendingInstruction::compose`], which the caller runs on other cores).
pub(crate) fn send_instructions_to(
    w: &mut World,
    users: &[UserId],
    now: SimTime,
) -> Result<(Vec<InvitationToken>, Vec<PendingInstruction>), HarnessError> {
    // The administrator writes to each user in their language: one batch per language.
    let language_of = |user: &UserId| match user.get() % 3 {
        0 => Language::English,
        1 => Language::Japanese,
        _ => Language::Russian,
    };
    let at = w.now(now);
    let mut tokens: Vec<Option<InvitationToken>> = vec![None; users.len()];
    let mut messages = Vec::with_capacity(users.len());
    for language in [Language::English, Language::Japanese, Language::Russian] {
        let (positions, selected): (Vec<usize>, Vec<UserId>) = users
            .iter()
            .enumerate()
            .filter(|(_, u)| language_of(u) == language)
            .map(|(k, u)| (k, *u))
            .unzip();
        if selected.is_empty() {
            continue;
        }
        let settings = InstructionSettings {
            link_base: &w.link_base,
            service_name: "Fleet MDM",
            agent_name: "Fleet Agent",
            android: AndroidDelivery::StandalonePackage,
            language,
        };
        let issued = issue_instructions(&mut w.ws, &selected, &settings, at, &mut w.admin_rng)
            .map_err(packages("send instructions"))?;
        if issued.pending.len() != selected.len() {
            return Err(HarnessError::Packages {
                step: "send instructions",
                message: format!(
                    "{} messages for {} users",
                    issued.pending.len(),
                    selected.len()
                ),
            });
        }
        for (k, pending) in positions.into_iter().zip(issued.pending) {
            // What the device opens is the link as the message carries it.
            let link =
                mdm_packages::InvitationLink::parse_for(&pending.link().to_string(), &w.link_base)
                    .map_err(packages("read link"))?;
            if let Some(slot) = tokens.get_mut(k) {
                *slot = Some(link.token().clone());
            }
            messages.push(pending);
        }
    }
    let tokens = tokens
        .into_iter()
        .map(|t| {
            t.ok_or_else(|| HarnessError::Packages {
                step: "send instructions",
                message: "a user got no message".into(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((tokens, messages))
}

/// Real User-Agent strings: an Android tablet and an Android phone.
pub(crate) fn user_agent(i: u32) -> &'static str {
    if i.is_multiple_of(4) {
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Safari/537.36"
    } else {
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
    }
}

/// What the agent reports about how it was installed.
fn install_report(source: InstallSource) -> InstallReport {
    match source {
        InstallSource::KnoxMobileEnrollment => InstallReport {
            installer_package: Some("com.sec.enterprise.knox.cloudmdm.smdms".into()),
            managing_package: None,
            embedded_settings: false,
        },
        InstallSource::ThirdPartyEmm => InstallReport {
            installer_package: Some("com.google.android.apps.work.clouddpc".into()),
            managing_package: Some("com.google.android.apps.work.clouddpc".into()),
            embedded_settings: false,
        },
        InstallSource::StandalonePackage => InstallReport {
            installer_package: Some("com.google.android.packageinstaller".into()),
            managing_package: None,
            embedded_settings: true,
        },
        _ => InstallReport {
            installer_package: Some("com.android.vending".into()),
            managing_package: None,
            embedded_settings: false,
        },
    }
}

/// What routing gave an Android device: its new record and, for a
/// standalone install, the package it downloaded.
pub(crate) struct Routed {
    i: u32,
    now: SimTime,
    device: DeviceId,
    package: Option<Box<StandalonePackage>>,
    /// The device's plan and how many links it has opened (its key stream).
    plan: crate::fleet::DevicePlan,
    attempts: u8,
}

/// What the device and the CA did with it, off the workspace: the package
/// opened, the server address found, the client certificate fetched by OTP.
pub(crate) struct Prepared {
    i: u32,
    now: SimTime,
    device: DeviceId,
    client_cert: Option<Sha256Digest>,
}

/// The link routes of the workspace: the standalone package, or the store
/// listing for users who install a plain APK; the signed enrollment profile.
pub(crate) fn routes<'a>(
    dist: &'a crate::world::Distribution,
    files: &'a [(&'a str, &'a [u8])],
    store: bool,
) -> LinkRoutes<'a> {
    let android = if store {
        mdm_packages::AndroidRoute::StoreListing { url: STORE_URL }
    } else {
        mdm_packages::AndroidRoute::StandalonePackage {
            product: &dist.product,
            files,
            connection: &dist.connection,
        }
    };
    LinkRoutes {
        android,
        apple: mdm_packages::AppleRoute {
            params: &dist.apple_params,
            signer: Some(&dist.profile_signer),
        },
    }
}

/// What the device got: the package or the store, or a refusal (also when
/// the same link was consumed by another opening in the meantime).
pub(crate) fn answered(
    w: &mut World,
    i: u32,
    now: SimTime,
    answer: LinkAnswer,
) -> Result<Option<Routed>, HarnessError> {
    let Some((plan, attempts)) = w.device(i).map(|d| (d.plan, d.attempts)) else {
        return Ok(None);
    };
    match answer {
        LinkAnswer::AndroidPackage { device, package } => Ok(Some(Routed {
            i,
            now,
            device,
            package: Some(package),
            plan,
            attempts,
        })),
        LinkAnswer::AndroidStore { device, .. } => Ok(Some(Routed {
            i,
            now,
            device,
            package: None,
            plan,
            attempts,
        })),
        other => {
            w.link_not_enrolled(i, now, &other);
            Ok(None)
        }
    }
}

/// The agent finds the server — embedded in the package, or typed by the
/// user — and a standalone install fetches its client certificate by
/// one-time password (R-CL-1); a plain APK gets none automatically (R-AN-1 b).
/// Sees the world only through a `DeviceView`, so it runs on the other
/// cores while the minute's contacts are handled.
pub(crate) fn prepare(w: &DeviceView, r: Routed) -> Result<Prepared, HarnessError> {
    let Routed {
        i,
        now,
        device,
        package,
        plan,
        attempts,
    } = r;
    let at = w.now(now);
    let (source, embedded) = match package {
        Some(package) => {
            let opened =
                StandalonePackage::open(package.into_bytes()).map_err(packages("open package"))?;
            let embedded = opened.connection().server.clone();
            (InstallSource::StandalonePackage, Some(embedded))
        }
        None => (InstallSource::PlainApk, None),
    };
    let typed = embedded.is_none().then_some(crate::world::SERVER_HOST);
    mdm_android::first_connection_address(source, embedded.as_ref(), typed)
        .map_err(android("first connection address"))?;
    let mut client_cert = None;
    if plan.install == InstallSource::StandalonePackage {
        let mut rng = w.stream(i, attempts, Purpose::Device);
        let (_key, csr) = mdm_certs::Csr::for_device(&format!("android-{i}"), &mut rng)
            .map_err(crate::pki::cert("device CSR"))?;
        let certificate = w.pki.issue_device_certificate(
            csr.der(),
            &format!("user{}", plan.user),
            &format!("android-{i}"),
            at,
            &mut rng,
        )?;
        let (mut delivery, otp) = ClientCertificateDelivery::new(
            DeliveryPayload::Certificate(Box::new(certificate)),
            OtpPolicy::default(),
            at,
            &mut rng,
        );
        let fetched = match delivery
            .redeem(otp.expose(), at + Duration::minutes(2))
            .map_err(crate::pki::cert("redeem OTP"))?
        {
            DeliveryPayload::Certificate(c) => c.der().to_vec(),
            DeliveryPayload::Pkcs12(_) => Vec::new(),
        };
        client_cert = Some(Sha256Digest::of(&fetched));
    }
    Ok(Prepared {
        i,
        now,
        device,
        client_cert,
    })
}

/// Records what happened in the model and schedules the first sync, which
/// completes the enrollment (in `mdm-android`'s endpoint).
pub(crate) fn apply(w: &mut World, p: Prepared) -> Result<(), HarnessError> {
    let Prepared {
        i,
        now,
        device,
        client_cert,
    } = p;
    let at = w.now(now);
    let Some(plan) = w.device(i).map(|d| d.plan) else {
        return Ok(());
    };
    w.check_consumed(i, device);
    let group = w.ws.device(device).map_err(model("device"))?.group();
    w.tally.check(
        Inv::ThroughGroup,
        (group != Some(Workspace::UNASSIGNED))
            .then(|| format!("{device} did not land in Unassigned devices")),
    );
    let source_name = match plan.install {
        InstallSource::PlainApk => "plain APK",
        InstallSource::KnoxMobileEnrollment => "KNOX Mobile Enrollment",
        InstallSource::ThirdPartyEmm => "third-party EMM",
        _ => "standalone package",
    };
    Tally::count(&mut w.tally.installs, source_name);
    if let Some(digest) = client_cert {
        w.ws.record_client_certificate_issued(device, at)
            .map_err(model("client certificate issued"))?;
        w.ws.record_client_certificate_applied(device, digest, at + Duration::minutes(2))
            .map_err(model("client certificate applied"))?;
        w.tally.client_certificates_applied += 1;
    }
    if let Some(d) = w.device_mut(i) {
        d.model = Some(device);
        d.client_cert = client_cert;
        d.agent_credential = None;
        d.stage = Stage::Installing;
    }
    w.queue.push(now.after(300), i, Event::Contact);
    Ok(())
}

/// A second device opens a link that already enrolled one: refused (R-IN-1).
pub(crate) fn reuse_link(w: &mut World, i: u32, now: SimTime) -> Result<(), HarnessError> {
    let Some(token) = w
        .device(i)
        .and_then(|d| d.token.as_ref())
        .map(InvitationToken::expose)
    else {
        return Ok(());
    };
    let consumed_before =
        w.ws.invitation_for(&InvitationToken::parse(&token).map_err(model("token"))?)
            .map(mdm_model::Invitation::state);
    let at = w.now(now);
    let mut rng = draw::stream(w.opts.seed ^ 0x5eed, i, Purpose::Keys);
    let routes = LinkRoutes {
        android: mdm_packages::AndroidRoute::StoreListing { url: STORE_URL },
        apple: mdm_packages::AppleRoute {
            params: &w.dist.apple_params,
            signer: Some(&w.dist.profile_signer),
        },
    };
    let request = LinkRequest {
        token: &token,
        user_agent: user_agent(i + 1),
        hints: ClientHints::default(),
    };
    let answer =
        answer_link(&mut w.ws, &request, &routes, at, &mut rng).map_err(packages("reuse link"))?;
    let was_consumed = matches!(
        consumed_before,
        Some(mdm_model::InvitationState::Consumed { .. })
    );
    match answer {
        LinkAnswer::Refused(reason) => {
            Tally::count(&mut w.tally.refusals, &format!("second device: {reason}"));
            w.tally.check(Inv::InvitationOnce, None);
        }
        LinkAnswer::AndroidStore { device, .. }
        | LinkAnswer::AndroidPackage { device, .. }
        | LinkAnswer::AppleProfile { device, .. } => {
            // The second device got there first: the first one will be refused.
            w.tally.check(
                Inv::InvitationOnce,
                was_consumed
                    .then(|| format!("{device} enrolled on an invitation already consumed")),
            );
            w.ws.retire_device(device, at)
                .map_err(model("retire second device"))?;
            Tally::count(
                &mut w.tally.refusals,
                "second device enrolled first and was retired",
            );
        }
        _ => {}
    }
    Ok(())
}

/// Midnight-to-08:00 rule of R-PO-1: the latest daily definitions update at or before `at`.
fn last_update(at: OffsetDateTime) -> OffsetDateTime {
    let eight = at.replace_time(Time::from_hms(8, 0, 0).unwrap_or(Time::MIDNIGHT));
    if eight <= at {
        eight
    } else {
        eight - Duration::DAY
    }
}

/// A sync as the agent sends it: built from the device's state, with the
/// network's decisions about it already drawn.
pub(crate) enum Outgoing {
    /// The device cannot reach the server any more.
    CannotConnect(u32, SimTime),
    /// The request, and whether the network loses or duplicates it.
    Request {
        i: u32,
        now: SimTime,
        authorization: AgentAuthorization,
        request: Box<SyncRequest>,
        lost: bool,
        duplicated: bool,
    },
}

/// A sync on its way: what the device sent, as the server parsed it.
pub(crate) enum SyncStep {
    /// The device cannot reach the server any more.
    CannotConnect(u32, SimTime),
    /// The request was lost on the way.
    Lost(u32, SimTime),
    /// The request arrived (twice when duplicated).
    Arrived {
        i: u32,
        now: SimTime,
        authorization: AgentAuthorization,
        request: Box<SyncRequest>,
        duplicated: bool,
    },
}

/// The agent gathers what it reports: its configuration version, client
/// certificate, status and command results. Reads the world only.
pub(crate) fn sync_request(
    w: &World,
    i: u32,
    now: SimTime,
) -> Result<Option<Outgoing>, HarnessError> {
    let Some(d) = w.device(i) else {
        return Ok(None);
    };
    let Some(id) = d.model else { return Ok(None) };
    let at = w.now(now);
    let last_sync = w.ws.device(id).map_err(model("device"))?.last_sync();
    if !w.pki.rotation.device_can_connect(last_sync, at) {
        return Ok(Some(Outgoing::CannotConnect(i, now)));
    }
    let authorization = match (&d.agent_credential, &d.token) {
        (Some(credential), _) => AgentAuthorization::Bearer(credential.clone()),
        (None, Some(token)) => AgentAuthorization::Invitation(token.clone()),
        (None, None) => {
            return Err(HarnessError::Internal(
                "an agent with neither credential nor invitation",
            ));
        }
    };
    let updated = last_update(at);
    let request = SyncRequest {
        device_id: id,
        client_certificate_sha256: d.client_cert,
        applied_configuration_version: d.config_version,
        agent: AgentInfo {
            version: AGENT_VERSION.into(),
            install: install_report(d.plan.install),
        },
        os_version: None,
        status: DeviceStatus {
            real_time_protection: true,
            definitions_date: Some(updated),
            last_scan: Some(LastScan {
                at: updated + Duration::minutes(10),
                result: ScanOutcome::Clean,
            }),
            license: AgentLicenseState::Active,
            device_admin_granted: true,
            accessibility_granted: true,
        },
        command_results: d.command_results.clone(),
    };
    let faults = w.opts.scenario.faults;
    Ok(Some(Outgoing::Request {
        i,
        now,
        authorization,
        request: Box::new(request),
        lost: w.coin(i, now, CoinPurpose::SyncRequestLost, faults.drop_chance),
        duplicated: w.coin(
            i,
            now,
            CoinPurpose::SyncRequestDuplicated,
            faults.duplicate_chance,
        ),
    }))
}

/// The request on the wire: the agent writes its JSON and, unless the
/// network loses it, the server parses it. Touches nothing shared, so it
/// runs on the other cores while the Apple devices check in.
pub(crate) fn sync_transmit(outgoing: Outgoing) -> Result<SyncStep, HarnessError> {
    let (i, now, authorization, request, lost, duplicated) = match outgoing {
        Outgoing::CannotConnect(i, now) => return Ok(SyncStep::CannotConnect(i, now)),
        Outgoing::Request {
            i,
            now,
            authorization,
            request,
            lost,
            duplicated,
        } => (i, now, authorization, request, lost, duplicated),
    };
    let header = authorization.header_value();
    let body = request.to_json().map_err(android("sync request"))?;
    if lost {
        return Ok(SyncStep::Lost(i, now));
    }
    let authorization =
        AgentAuthorization::parse(&header).map_err(android("parse sync authorization"))?;
    let request = SyncRequest::parse(&body).map_err(android("parse sync request"))?;
    Ok(SyncStep::Arrived {
        i,
        now,
        authorization,
        request: Box::new(request),
        duplicated,
    })
}

/// The server handles the request against the workspace (twice when it
/// was duplicated: the second must change nothing) and writes its JSON
/// answer. Refusals end here.
pub(crate) fn sync_serve(
    w: &mut World,
    step: SyncStep,
) -> Result<Option<(u32, SimTime, SyncResponse)>, HarnessError> {
    let (i, now, authorization, request, duplicated) = match step {
        SyncStep::CannotConnect(i, now) => {
            w.mark_lost(i, now, "missed the server-certificate rotation")?;
            return Ok(None);
        }
        SyncStep::Lost(i, now) => {
            Tally::count(&mut w.tally.message_faults, "sync request lost");
            w.queue.push(now.after(900), i, Event::Contact);
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
    let at = w.now(now);
    let result = w
        .android
        .handle_sync(&mut w.ws, &authorization, &request, at, &mut w.server_rng);
    if duplicated {
        Tally::count(&mut w.tally.message_faults, "sync request duplicated");
        // The copy gets its own answer, which the device never reads.
        let _ = w
            .android
            .handle_sync(&mut w.ws, &authorization, &request, at, &mut w.server_rng);
    }
    let response = match result {
        Ok(response) => response,
        Err(mdm_android::AndroidError::UnmanageableInstall { installer, .. }) => {
            Tally::count(
                &mut w.tally.refusals,
                &format!("agent installed through {installer}: reinstall"),
            );
            w.mark_lost(i, now, "agent installed through KNOX or another EMM")?;
            return Ok(None);
        }
        Err(mdm_android::AndroidError::DeviceLeftManagement { .. }) => {
            w.mark_lost(i, now, "wiped: must enroll again")?;
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

/// The server writes its JSON answer and the device parses it (all cores).
pub(crate) fn sync_parse(
    answer: (u32, SimTime, SyncResponse),
) -> Result<(u32, SimTime, SyncResponse), HarnessError> {
    let (i, now, response) = answer;
    let json = response.to_json().map_err(android("sync response"))?;
    let response = SyncResponse::parse(&json).map_err(android("parse sync response"))?;
    Ok((i, now, response))
}

/// The device applies the answer: the configuration, its commands, when to sync next.
pub(crate) fn sync_apply(
    w: &mut World,
    answer: (u32, SimTime, SyncResponse),
) -> Result<(), HarnessError> {
    let (i, now, response) = answer;
    w.tally.syncs += 1;
    w.tally.syncs_this_hour += 1;
    if w.device(i).is_some_and(|d| d.stage == Stage::Installing) {
        w.enrolled(i, now, Platform::Android);
    }
    account_completed(w);
    let results: Vec<AgentCommandResult> = response
        .commands
        .iter()
        .map(|c| AgentCommandResult {
            id: c.id,
            status: AgentCommandStatus::Done,
            detail: None,
            location: None,
        })
        .collect();
    let wiped = response.device_state.is_terminal();
    if let Some(d) = w.device_mut(i) {
        if let Some(credential) = response.agent_credential {
            d.agent_credential = Some(credential);
        }
        if response.configuration_version.is_some() {
            d.config_version = response.configuration_version;
        }
        d.command_results = results;
    }
    if wiped {
        return w.mark_lost(i, now, "wiped: must enroll again");
    }
    let jitter = w.device(i).map_or(0, |d| d.plan.jitter_secs);
    let next = response
        .next_sync_at
        .map_or(now.after(6 * 3600), |t| SimTime::of(t, w.start));
    w.queue.push(next.after(jitter), i, Event::Contact);
    Ok(())
}

/// The administrator wipes one device: a `WIPE` it receives on its next
/// sync; the endpoint wipes it in the model once the agent confirms (R-WP-1).
pub(crate) fn queue_wipe(w: &mut World, i: u32, now: SimTime) -> Result<(), HarnessError> {
    let Some(id) = w.device(i).and_then(|d| d.model) else {
        return Ok(());
    };
    let at = w.now(now);
    let command = w
        .android
        .commands
        .enqueue(&w.ws, id, AgentCommandKind::Wipe, at)
        .map_err(android("enqueue"))?;
    w.android_commands.insert(command, i);
    w.tally.pending_commands += 1;
    Ok(())
}

/// The administrator queues a command for every enrolled Android device.
pub(crate) fn queue_for_all(
    w: &mut World,
    command: FleetCommand,
    now: SimTime,
) -> Result<(), HarnessError> {
    let kind = match command {
        FleetCommand::DeviceLock => AgentCommandKind::Lock,
        FleetCommand::ScanNow | FleetCommand::SecurityInfo => AgentCommandKind::ScanNow,
        FleetCommand::DeviceInformation => AgentCommandKind::Locate,
    };
    let at = w.now(now);
    for i in 0..u32::try_from(w.devices.len()).unwrap_or(0) {
        let Some(d) = w.device(i) else { continue };
        let (Platform::Android, Stage::Enrolled, Some(id)) = (d.plan.platform, d.stage, d.model)
        else {
            continue;
        };
        if !w.ws.device(id).is_ok_and(|r| r.state().is_connected()) {
            continue;
        }
        let command = w
            .android
            .commands
            .enqueue(&w.ws, id, kind, at)
            .map_err(android("enqueue"))?;
        w.android_commands.insert(command, i);
        w.tally.pending_commands += 1;
    }
    Ok(())
}

fn account_completed(w: &mut World) {
    for done in w.android.commands.take_completed() {
        w.android_commands.remove(&done.command.id);
        w.tally.check(Inv::CommandsEnd, None);
        w.tally.pending_commands = w.tally.pending_commands.saturating_sub(1);
        let status = match done.result.status {
            AgentCommandStatus::Done => "done",
            AgentCommandStatus::Failed => "failed",
            AgentCommandStatus::Unknown => "unknown status",
        };
        Tally::count(
            &mut w.tally.commands,
            &format!("android {:?} {status}", done.command.kind),
        );
    }
}

/// At the end: Android commands not yet reported are pending, each with its reason.
pub(crate) fn account_commands(w: &mut World) {
    account_completed(w);
    let mut pending: Vec<(u64, u32)> = w.android_commands.drain().collect();
    pending.sort_unstable();
    for (_, i) in pending {
        let reason = match w.device(i).map(|d| (d.stage, d.plan.offline_at(w.horizon))) {
            Some((Stage::Lost, _)) => "device lost",
            Some((_, true)) => "device offline",
            Some(_) => "awaiting the device's next sync",
            None => "",
        };
        w.tally.check(
            Inv::CommandsEnd,
            reason
                .is_empty()
                .then(|| format!("device {i}: pending without a reason")),
        );
        Tally::count(
            &mut w.tally.commands,
            &format!("android command pending: {reason}"),
        );
    }
}
