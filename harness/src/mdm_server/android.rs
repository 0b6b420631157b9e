//! The Android side of the server: `mdm-android`'s sync endpoint over the
//! workspace, its command queue, and what an install records in the model.

use mdm_android::{
    AgentAuthorization, AgentCommandKind, AndroidError, CompletedAgentCommand, SyncRequest,
    SyncResponse,
};
use mdm_model::{DeviceId, Sha256Digest};
use time::{Duration, OffsetDateTime};

use super::MdmServer;
use crate::HarnessError;
use crate::error::{android, model};

/// The endpoint handles a sync that arrived (twice when the network
/// duplicated it: the copy gets its own answer, which the device never
/// reads, and must change nothing). Returns the answer to the first.
pub(crate) fn serve_sync(
    w: &mut MdmServer,
    authorization: &AgentAuthorization,
    request: &SyncRequest,
    at: OffsetDateTime,
    duplicated: bool,
) -> Result<SyncResponse, AndroidError> {
    let result = w
        .android
        .handle_sync(&mut w.ws, authorization, request, at, &mut w.server_rng);
    if duplicated {
        let _ = w
            .android
            .handle_sync(&mut w.ws, authorization, request, at, &mut w.server_rng);
    }
    result
}

/// The administrator queues a command for device `id`; returns its id.
pub(crate) fn enqueue(
    w: &mut MdmServer,
    id: DeviceId,
    kind: AgentCommandKind,
    at: OffsetDateTime,
) -> Result<u64, HarnessError> {
    w.android
        .commands
        .enqueue(&w.ws, id, kind, at)
        .map_err(android("enqueue"))
}

/// Commands the agents reported done since the last call.
pub(crate) fn take_completed(w: &mut MdmServer) -> Vec<CompletedAgentCommand> {
    w.android.commands.take_completed()
}

/// A standalone install's client certificate, issued and applied (the
/// agent fetched it two minutes later by OTP), recorded in the model (R-CL-1).
pub(crate) fn record_client_certificate(
    w: &mut MdmServer,
    device: DeviceId,
    digest: Sha256Digest,
    at: OffsetDateTime,
) -> Result<(), HarnessError> {
    w.ws.record_client_certificate_issued(device, at)
        .map_err(model("client certificate issued"))?;
    w.ws.record_client_certificate_applied(device, digest, at + Duration::minutes(2))
        .map_err(model("client certificate applied"))?;
    Ok(())
}
