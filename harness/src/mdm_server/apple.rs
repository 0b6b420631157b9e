//! The Apple side of the server: `mdm-apple`'s [`mdm_apple::AppleService`]
//! over the workspace. Every check-in and command report goes through its
//! `handle`, with the device's identity certificate as the TLS peer
//! certificate would present it. The service binds the identity at
//! `Authenticate`, connects the device at `TokenUpdate`, records a sync at
//! each `Idle` and a wipe at an acknowledged `EraseDevice`, and keeps the
//! push targets and command queues.

use mdm_apple::AppleStore as _;
use mdm_apple::{
    AppleDeviceId, AppleError, CommandRequest, CommandUuid, DeviceRequest, Endpoint, Handled,
    PresentedIdentity, ProviderIdentity, PushOptions, PushOutcome, PushRequest, RetryPolicy,
};
use mdm_model::{DeviceId, PushTopic};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng as _;
use time::OffsetDateTime;

use super::MdmServer;
use crate::HarnessError;
use crate::apns_standin::PushAttempt;
use crate::error::apple;
use crate::scenario::FleetCommand;

/// One request of a device to the service at `at`: its bytes, and the
/// identity certificate (DER) its TLS connection presented, if any.
pub(crate) fn handle(
    w: &mut MdmServer,
    endpoint: Endpoint,
    body: &[u8],
    identity: Option<&[u8]>,
    at: OffsetDateTime,
) -> Result<Handled, AppleError> {
    let identity = match identity {
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

/// The SCEP endpoint issued `identity` for the enrollment of `device`: the
/// service expects it at `Authenticate`.
pub(crate) fn expect_identity(
    w: &mut MdmServer,
    identity: &[u8],
    device: DeviceId,
) -> Result<(), HarnessError> {
    w.apple
        .expect_identity(identity, device)
        .map_err(apple("expect identity"))
}

/// Whether the workspace's APNs certificate is valid at `at` for `topic`
/// (what an Apple enrollment needs, R-AP-3).
pub(crate) fn apns_covers(w: &MdmServer, topic: &PushTopic, at: OffsetDateTime) -> bool {
    w.ws.apns_certificate()
        .is_some_and(|a| a.is_valid_at(at) && a.topic() == topic)
}

/// The push the server sends a device, as the service builds it from the
/// topic, token and magic of its enrollment. `None` while it has none.
pub(crate) fn push_for(
    service: &super::SimApple,
    id: &AppleDeviceId,
) -> Result<Option<PushRequest>, HarnessError> {
    service
        .push_request(id, &PushOptions::default())
        .map_err(apple("push request"))
}

/// What became of one push the server sent through (in-process) APNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PushSent {
    /// The provider client refused to connect: the push certificate's topic
    /// is not the workspace's, or it is outside its validity.
    Refused(AppleError),
    /// APNs answered; `retries` 429/5xx answers were retried first, waiting
    /// `waited` (simulated) in all.
    Answered {
        outcome: PushOutcome,
        retries: u32,
        waited: core::time::Duration,
    },
}

/// Sends `request` the way the provider client does, in-process: the
/// pre-connection check of the push certificate
/// ([`ProviderIdentity::check_certificate`], the pure part of
/// [`ProviderIdentity::check`]), then the APNs stand-in's decision
/// ([`ApnsBook::decide`]) for each try; 429 and 5xx are retried with the
/// client's capped backoff ([`RetryPolicy::delay`]) in simulated time, the
/// jitter words drawn from `rng`. A 410 is recorded in the model
/// (`record_push_unregistered`) when the device is known.
pub(crate) fn send_push(
    w: &mut MdmServer,
    request: &PushRequest,
    device: Option<DeviceId>,
    at: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<PushSent, HarnessError> {
    let Some(record) = w.ws.apns_certificate() else {
        return Ok(PushSent::Refused(AppleError::PushCertificateTopic {
            expected: String::new(),
            found: None,
        }));
    };
    let (topic, fingerprint) = (record.topic().clone(), record.fingerprint());
    let info = w.pki.apns.info();
    if let Err(e) = ProviderIdentity::check_certificate(info, &topic, at) {
        return Ok(PushSent::Refused(e));
    }
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let attempt = PushAttempt {
        method: request.method,
        path: &request.path,
        authority: request.authority,
        headers: &headers,
        body: &request.body,
        certificate_topic: info.uid.as_deref(),
        certificate_fingerprint: Some(fingerprint),
    };
    let policy = RetryPolicy::default();
    let mut waited = core::time::Duration::ZERO;
    let mut tries = 0;
    let answer = loop {
        tries += 1;
        let now = at + waited;
        let answer = w.apns.decide(&attempt, now).answer;
        if !answer.is_retryable() || tries >= policy.max_attempts {
            break answer;
        }
        waited += policy.delay(tries, rng.next_u64());
    };
    let outcome = answer.outcome();
    if let (PushOutcome::Unregistered { since }, Some(device)) = (&outcome, device) {
        w.ws.record_push_unregistered(device, *since, at + waited)
            .map_err(crate::error::model("push unregistered"))?;
    }
    Ok(PushSent::Answered {
        outcome,
        retries: tries - 1,
        waited,
    })
}

/// A device's TokenUpdate reached the service: APNs knows its `token` for
/// `topic` from now on (pushes on another topic are refused).
pub(crate) fn register_token(w: &mut MdmServer, token: &[u8], topic: &PushTopic) {
    w.apns.register(token, topic);
}

/// Whether the service may still push to `device` (not unregistered, not
/// gone).
pub(crate) fn may_push(w: &MdmServer, device: DeviceId) -> bool {
    w.ws.may_push(device).unwrap_or(false)
}

/// The administrator queues `command` for a device, its UUID drawn from `rng`.
pub(crate) fn enqueue(
    w: &mut MdmServer,
    id: &AppleDeviceId,
    command: mdm_apple::Command,
    rng: &mut ChaCha20Rng,
) -> Result<(), HarnessError> {
    let request = CommandRequest::new(CommandUuid::random(rng), command);
    w.apple.enqueue(id, request).map_err(apple("enqueue"))
}

/// Commands still queued for a device.
pub(crate) fn pending_commands(w: &MdmServer, id: &AppleDeviceId) -> Result<usize, HarnessError> {
    w.apple
        .store()
        .pending_commands(id)
        .map_err(apple("pending commands"))
}

/// The request types of the commands still queued for a device.
pub(crate) fn pending_request_types(w: &MdmServer, id: &AppleDeviceId) -> Vec<String> {
    w.apple.store().queue(id).map_or_else(Vec::new, |queue| {
        queue
            .pending()
            .map(|p| p.request.command.request_type().as_str().to_owned())
            .collect()
    })
}

/// The MDM command the administrator sends for a fleet-wide action.
pub(crate) fn command_for(command: FleetCommand) -> mdm_apple::Command {
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
