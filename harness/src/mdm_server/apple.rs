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
    PresentedIdentity, PushOptions, PushRequest,
};
use mdm_model::{DeviceId, PushTopic};
use rand_chacha::ChaCha20Rng;
use time::OffsetDateTime;

use super::MdmServer;
use crate::HarnessError;
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
