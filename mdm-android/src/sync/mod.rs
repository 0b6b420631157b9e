//! The sync protocol between the agent and the server (R-SY-1, R-DV-1, R-WP-1).
//!
//! The agent POSTs a [`SyncRequest`] (JSON) on its interval or on demand; the
//! server answers with a [`SyncResponse`]. The server side,
//! [`AndroidEndpoint::handle_sync`], checks the request against the model and
//! records the sync **through the model's own operations**
//! ([`Workspace::complete_enrollment`] on a first connection,
//! [`Workspace::restore_connection`] after a lost connection,
//! [`Workspace::record_sync`], [`Workspace::wipe_device`] when a wipe is
//! confirmed); it never re-implements a model rule.
//!
//! Wire rules: field names camelCase; times RFC 3339; digests and
//! configuration versions lower-case hex; unknown fields are ignored (newer
//! agents may send more); unknown enum values become `UNKNOWN`.
//!
//! ```json
//! // Request (agent → server)
//! { "deviceId": 0,
//!   "clientCertificateSha256": null,                 // hex, once a certificate is redeemed
//!   "appliedConfigurationVersion": "1859…7c2e",      // null before the first configuration
//!   "agent": { "version": "1.4.0",
//!              "install": { "installerPackage": "com.google.android.packageinstaller",
//!                           "managingPackage": "io.mdmtoolkit.agent",
//!                           "embeddedSettings": true } },
//!   "osVersion": "14.0.0",
//!   "status": { "realTimeProtection": true, "definitionsDate": "2026-11-28T07:00:00Z",
//!               "lastScan": { "at": "2026-11-28T08:00:00Z", "result": "CLEAN" },
//!               "license": "ACTIVE", "deviceAdminGranted": true, "accessibilityGranted": true },
//!   "commandResults": [ { "id": 1, "status": "DONE" } ] }
//!
//! // Response (server → agent)
//! { "deviceId": 0, "deviceState": "managed",
//!   "configurationVersion": "1859…7c2e",
//!   "configuration": { … },                          // only when the version changed
//!   "license": { "activationCode": "…", "expiresAt": "2027-11-28T00:00:00Z" },
//!   "clientCertificate": "NOT_ISSUED",               // | "AWAITING_REDEMPTION" | "APPLIED"
//!   "commands": [ { "id": 2, "kind": "SCAN_NOW", "issuedAt": "2026-11-28T09:00:00Z" } ],
//!   "nextSyncAt": "2026-11-28T15:00:00Z" }
//! ```

//!
//! Three rooms: the wire types ([`wire`]), the command queue the server
//! keeps per device ([`queue`]), and the endpoint that answers a sync
//! ([`endpoint`]).

mod endpoint;
mod queue;
mod wire;

pub use endpoint::AndroidEndpoint;
pub use queue::{AgentCommandQueue, CompletedAgentCommand};
pub use wire::{
    AGENT_PACKAGE, AgentCommand, AgentCommandKind, AgentCommandResult, AgentCommandStatus,
    AgentInfo, AgentLicenseState, CertificateStatus, DeviceStatus, LastScan, Location, ScanOutcome,
    SyncRequest, SyncResponse,
};
