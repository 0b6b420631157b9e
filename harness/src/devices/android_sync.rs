//! An Android agent's sync as the device lives it: it gathers what it
//! reports from what it holds, writes the request's JSON, reads the
//! server's JSON answer and applies it to itself. The bytes between are
//! the real `mdm-android` protocol.

use mdm_android::{
    AgentAuthorization, AgentCommandResult, AgentCommandStatus, AgentInfo, AgentLicenseState,
    DeviceStatus, LastScan, ScanOutcome, SyncRequest, SyncResponse,
};
use time::{Duration, OffsetDateTime, Time};

use super::android::{AGENT_VERSION, install_report};
use super::{DeviceView, SimDevice};
use crate::draw::CoinPurpose;
use crate::error::android;
use crate::{HarnessError, SimTime};

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
/// certificate, status and command results — from what it holds. It cannot
/// connect once the server presents a certificate it does not trust yet:
/// the reserve certificate, when it has not synced since that was issued
/// (the TLS handshake, simulated by `mdm-certs`' rotation rule).
pub(crate) fn sync_request(
    view: &DeviceView,
    d: &SimDevice,
    i: u32,
    now: SimTime,
) -> Result<Option<Outgoing>, HarnessError> {
    let Some(id) = d.model else { return Ok(None) };
    let at = view.now(now);
    let last_sync = d.last_sync.map(|t| view.now(t));
    if !view.pki.rotation.device_can_connect(last_sync, at) {
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
    let faults = view.faults;
    Ok(Some(Outgoing::Request {
        i,
        now,
        authorization,
        request: Box::new(request),
        lost: view.coin(i, now, CoinPurpose::SyncRequestLost, faults.drop_chance),
        duplicated: view.coin(
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

/// The server writes its JSON answer and the device parses it (all cores).
pub(crate) fn sync_parse(
    answer: (u32, SimTime, SyncResponse),
) -> Result<(u32, SimTime, SyncResponse), HarnessError> {
    let (i, now, response) = answer;
    let json = response.to_json().map_err(android("sync response"))?;
    let response = SyncResponse::parse(&json).map_err(android("parse sync response"))?;
    Ok((i, now, response))
}

/// What applying an answer leaves the device to do next.
pub(crate) enum AfterSync {
    /// The server wiped it: it leaves management and must enroll again.
    Wiped,
    /// It syncs again at this time.
    NextSync(SimTime),
}

/// The device applies the answer to itself: the credential, the
/// configuration, its commands (run at once, reported next time), and when
/// to sync next.
pub(crate) fn sync_apply(
    d: &mut SimDevice,
    now: SimTime,
    response: SyncResponse,
    start: OffsetDateTime,
) -> AfterSync {
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
    if let Some(credential) = response.agent_credential {
        d.agent_credential = Some(credential);
    }
    if response.configuration_version.is_some() {
        d.config_version = response.configuration_version;
    }
    d.command_results = results;
    if wiped {
        return AfterSync::Wiped;
    }
    d.last_sync = Some(now);
    let next = response
        .next_sync_at
        .map_or(now.after(6 * 3600), |t| SimTime::of(t, start));
    AfterSync::NextSync(next.after(d.plan.jitter_secs))
}
