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

use std::collections::HashMap;
use std::sync::Arc;

use mdm_model::{
    AgentCredential, ClientCertificateState, DeviceId, DeviceState, LicenseId, LicenseProblem,
    ModelError, OsVersion, Platform, PolicyId, ProtectionStatus, ScanResult, SyncReport, Workspace,
};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use crate::configuration::{AgentConfiguration, LicenseGrant, RenderedConfiguration};
use crate::{
    AgentAuthorization, AndroidDeviceSettings, AndroidError, ContentVersion, InstallReport,
    Sha256Digest,
};

/// Our agent's package name, as in its manifest and QR payload.
pub const AGENT_PACKAGE: &str = "io.mdmtoolkit.agent";

/// The longest agent version string accepted.
const MAX_AGENT_VERSION_LEN: usize = 64;

/// The agent's own identity, sent on every sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// The agent's `versionName` (e.g. `1.4.0`).
    pub version: String,
    /// How it was installed.
    #[serde(default)]
    pub install: InstallReport,
}

/// What the last scan found, as the agent reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanOutcome {
    /// Nothing found.
    Clean,
    /// Threats found and handled by the policy's action.
    ThreatsHandled,
    /// Threats found that remain.
    ThreatsRemaining,
    /// A value this server does not know (a newer agent).
    #[serde(other)]
    Unknown,
}

/// The last scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastScan {
    /// When it finished.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What it found.
    pub result: ScanOutcome,
}

/// The license as the agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentLicenseState {
    /// No license activated.
    #[default]
    NotActivated,
    /// Activated and valid.
    Active,
    /// Activated and expired.
    Expired,
    /// A value this server does not know.
    #[serde(other)]
    Unknown,
}

/// The R-DV-1 status the agent reports (seed 003 §6.2 step 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStatus {
    /// Real-time protection is running.
    #[serde(default)]
    pub real_time_protection: bool,
    /// When the definitions were last updated.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub definitions_date: Option<OffsetDateTime>,
    /// The last scan.
    #[serde(default)]
    pub last_scan: Option<LastScan>,
    /// The license as the agent sees it.
    #[serde(default)]
    pub license: AgentLicenseState,
    /// The agent holds device-administrator rights.
    #[serde(default)]
    pub device_admin_granted: bool,
    /// The agent's accessibility service is enabled.
    #[serde(default)]
    pub accessibility_granted: bool,
}

impl DeviceStatus {
    fn protection(&self) -> ProtectionStatus {
        ProtectionStatus {
            real_time_protection: self.real_time_protection,
            definitions_updated: self.definitions_date,
            last_scan: self.last_scan.map(|s| s.at),
            last_scan_result: self.last_scan.and_then(|s| match s.result {
                ScanOutcome::Clean => Some(ScanResult::Clean),
                ScanOutcome::ThreatsHandled => Some(ScanResult::ThreatsHandled),
                ScanOutcome::ThreatsRemaining => Some(ScanResult::ThreatsRemaining),
                ScanOutcome::Unknown => None,
            }),
            license_activated: self.license == AgentLicenseState::Active,
            device_admin_granted: self.device_admin_granted,
            accessibility_granted: self.accessibility_granted,
        }
    }
}

/// A remote command's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentCommandKind {
    /// Lock the screen.
    Lock,
    /// Wipe the agent's data / factory reset (R-WP-1).
    Wipe,
    /// Report the device's location.
    Locate,
    /// Run a full scan now.
    ScanNow,
    /// Update the anti-malware definitions now.
    UpdateDefinitions,
    /// A kind this agent does not know (a newer server).
    #[serde(other)]
    Unknown,
}

impl AgentCommandKind {
    fn name(self) -> &'static str {
        match self {
            Self::Lock => "LOCK",
            Self::Wipe => "WIPE",
            Self::Locate => "LOCATE",
            Self::ScanNow => "SCAN_NOW",
            Self::UpdateDefinitions => "UPDATE_DEFINITIONS",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// A command waiting for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentCommand {
    /// Unique per [`AgentCommandQueue`]; the agent echoes it in its result.
    pub id: u64,
    /// What to do.
    pub kind: AgentCommandKind,
    /// When the administrator issued it.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
}

/// How a command ended on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentCommandStatus {
    /// Done (for `WIPE`: about to erase, sent in the agent's last sync).
    Done,
    /// Tried and failed.
    Failed,
    /// A status this server does not know.
    #[serde(other)]
    Unknown,
}

/// A location fix (answer to `LOCATE`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Degrees, −90…90.
    pub latitude: f64,
    /// Degrees, −180…180.
    pub longitude: f64,
    /// Radius of 68 % confidence, metres.
    pub accuracy_meters: f64,
    /// When the fix was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The agent's report on a command it received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentCommandResult {
    /// The command's id.
    pub id: u64,
    /// How it ended.
    pub status: AgentCommandStatus,
    /// A reason for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The fix, for `LOCATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// What the agent sends on each sync (R-SY-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequest {
    /// The device's id, as the server told it at enrollment.
    pub device_id: DeviceId,
    /// SHA-256 of the client certificate the agent authenticates with;
    /// `None` until one is redeemed (plain-APK installs, R-CL-1).
    #[serde(default)]
    pub client_certificate_sha256: Option<Sha256Digest>,
    /// The configuration version the agent has applied.
    #[serde(default)]
    pub applied_configuration_version: Option<ContentVersion>,
    /// The agent's version and install source.
    pub agent: AgentInfo,
    /// The OS version now running.
    #[serde(default)]
    pub os_version: Option<OsVersion>,
    /// The R-DV-1 status.
    #[serde(default)]
    pub status: DeviceStatus,
    /// Results of commands received earlier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command_results: Vec<AgentCommandResult>,
}

impl SyncRequest {
    /// Decodes and checks a request body. Every failure is
    /// [`AndroidError::MalformedSyncRequest`] with serde's line and column.
    pub fn parse(body: &[u8]) -> Result<Self, AndroidError> {
        // UTF-8 is checked once for the whole body (then serde_json need not
        // check every string it reads).
        let text = std::str::from_utf8(body).map_err(|e| AndroidError::MalformedSyncRequest {
            reason: format!("the body is not UTF-8: {e}"),
        })?;
        let request: Self =
            serde_json::from_str(text).map_err(|e| AndroidError::MalformedSyncRequest {
                reason: e.to_string(),
            })?;
        request.check()?;
        Ok(request)
    }

    /// The checks beyond JSON shape: a printable agent version of at most
    /// 64 characters, at most 64 command results, locations on Earth.
    pub fn check(&self) -> Result<(), AndroidError> {
        let malformed = |reason: String| AndroidError::MalformedSyncRequest { reason };
        let version = &self.agent.version;
        if version.is_empty()
            || version.len() > MAX_AGENT_VERSION_LEN
            || !version.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(malformed(format!(
                "agent.version {version:?} is not a printable version of 1-64 characters"
            )));
        }
        if self.command_results.len() > 64 {
            return Err(malformed(format!(
                "{} command results; at most 64",
                self.command_results.len()
            )));
        }
        for result in &self.command_results {
            if let Some(l) = result.location
                && !((-90.0..=90.0).contains(&l.latitude)
                    && (-180.0..=180.0).contains(&l.longitude)
                    && l.accuracy_meters.is_finite()
                    && l.accuracy_meters >= 0.0)
            {
                return Err(malformed(format!(
                    "command {} reports an impossible location",
                    result.id
                )));
            }
        }
        Ok(())
    }

    /// The JSON body (the agent's side).
    pub fn to_json(&self) -> Result<Vec<u8>, AndroidError> {
        let mut body = Vec::with_capacity(640);
        serde_json::to_writer(&mut body, self).map_err(|e| AndroidError::MalformedSyncRequest {
            reason: e.to_string(),
        })?;
        Ok(body)
    }
}

/// The state of the device's client certificate, as the agent needs to know it (R-CL-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertificateStatus {
    /// None was issued (a plain-APK install gets none automatically).
    NotIssued,
    /// One was issued; redeem it with the one-time password.
    AwaitingRedemption,
    /// The agent holds it.
    Applied,
    /// A value this agent does not know.
    #[serde(other)]
    Unknown,
}

/// What the server answers (R-SY-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// The device.
    pub device_id: DeviceId,
    /// Its state after this sync (`connected`, `managed`, or `wiped` once a wipe is confirmed).
    pub device_state: DeviceState,
    /// The version of the configuration the device should have.
    pub configuration_version: Option<ContentVersion>,
    /// The configuration, only when the agent's applied version differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Arc<AgentConfiguration>>,
    /// The license the device holds.
    #[serde(default)]
    pub license: Option<LicenseGrant>,
    /// Why the policy's license did not reach the device, if it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_problem: Option<LicenseProblem>,
    /// The client certificate's state.
    pub client_certificate: CertificateStatus,
    /// The agent's credential, once: in the answer to a sync authorised by
    /// the invitation token. The agent keeps it and presents it as
    /// `Authorization: Bearer <credential>` from then on.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::agent_auth::credential_text"
    )]
    pub agent_credential: Option<AgentCredential>,
    /// Commands to run (re-sent until their result arrives).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<AgentCommand>,
    /// When to sync next; `None` once the device left management.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub next_sync_at: Option<OffsetDateTime>,
}

impl SyncResponse {
    /// The JSON body.
    pub fn to_json(&self) -> Result<Vec<u8>, AndroidError> {
        let mut body = Vec::with_capacity(512);
        serde_json::to_writer(&mut body, self).map_err(|e| AndroidError::Render {
            reason: e.to_string(),
        })?;
        Ok(body)
    }

    /// Decodes a response (the agent's side).
    pub fn parse(body: &[u8]) -> Result<Self, AndroidError> {
        let text = std::str::from_utf8(body).map_err(|e| AndroidError::Render {
            reason: format!("sync response is not UTF-8: {e}"),
        })?;
        serde_json::from_str(text).map_err(|e| AndroidError::Render {
            reason: format!("sync response JSON: {e}"),
        })
    }
}

/// A command's result once the agent reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletedAgentCommand {
    /// The device.
    pub device: DeviceId,
    /// The command.
    pub command: AgentCommand,
    /// What the agent reported.
    pub result: AgentCommandResult,
    /// When the result arrived.
    pub reported_at: OffsetDateTime,
}

/// Remote commands per device, delivered on sync until the agent reports a
/// result (at-least-once). The model has no command queue, so it lives here.
#[derive(Debug, Clone, Default)]
pub struct AgentCommandQueue {
    next_id: u64,
    pending: HashMap<DeviceId, Vec<AgentCommand>>,
    completed: Vec<CompletedAgentCommand>,
}

impl AgentCommandQueue {
    /// Queues `kind` for `device`. Refused for unknown, non-Android and
    /// departed (wiped, retired) devices.
    pub fn enqueue(
        &mut self,
        workspace: &Workspace,
        device: DeviceId,
        kind: AgentCommandKind,
        now: OffsetDateTime,
    ) -> Result<u64, AndroidError> {
        let refuse = |reason: String| AndroidError::CommandRefused {
            command: kind.name(),
            device_id: device.to_string(),
            reason,
        };
        if kind == AgentCommandKind::Unknown {
            return Err(refuse("not a command".into()));
        }
        let record = workspace
            .device(device)
            .map_err(|e| refuse(e.to_string()))?;
        if record.platform() != Platform::Android {
            return Err(refuse("not an Android device".into()));
        }
        if record.state().is_terminal() {
            return Err(refuse(format!("the device is {}", record.state())));
        }
        self.next_id += 1;
        let id = self.next_id;
        self.pending.entry(device).or_default().push(AgentCommand {
            id,
            kind,
            issued_at: now,
        });
        Ok(id)
    }

    /// Commands waiting for `device`.
    pub fn pending(&self, device: DeviceId) -> &[AgentCommand] {
        self.pending.get(&device).map_or(&[], Vec::as_slice)
    }

    /// Results reported so far, oldest first; the caller drains them.
    pub fn take_completed(&mut self) -> Vec<CompletedAgentCommand> {
        std::mem::take(&mut self.completed)
    }

    /// Applies a result: removes the command and keeps the result. Results
    /// for unknown ids (already acknowledged, or never sent) are ignored.
    fn acknowledge(
        &mut self,
        device: DeviceId,
        result: &AgentCommandResult,
        now: OffsetDateTime,
    ) -> Option<AgentCommand> {
        let queue = self.pending.get_mut(&device)?;
        let position = queue.iter().position(|c| c.id == result.id)?;
        let command = queue.remove(position);
        if queue.is_empty() {
            self.pending.remove(&device);
        }
        self.completed.push(CompletedAgentCommand {
            device,
            command,
            result: result.clone(),
            reported_at: now,
        });
        Some(command)
    }

    fn forget(&mut self, device: DeviceId) {
        self.pending.remove(&device);
    }
}

/// What a rendered configuration depends on; equal keys render equal documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ConfigurationKey {
    policy: Option<(PolicyId, u32)>,
    license: Option<LicenseId>,
    android_revision: u64,
}

/// The server's Android endpoint: the Android settings of each policy,
/// the command queue, and a cache of rendered configurations.
#[derive(Debug, Clone)]
pub struct AndroidEndpoint {
    agent_package: String,
    android: HashMap<PolicyId, (u64, Arc<AndroidDeviceSettings>)>,
    revision: u64,
    cache: HashMap<ConfigurationKey, RenderedConfiguration>,
    /// Remote commands waiting for devices.
    pub commands: AgentCommandQueue,
}

impl Default for AndroidEndpoint {
    fn default() -> Self {
        Self::new(AGENT_PACKAGE)
    }
}

impl AndroidEndpoint {
    /// Rendered configurations kept before the cache is cleared.
    const CACHE_LIMIT: usize = 4096;

    /// An endpoint for the agent with package name `agent_package`.
    pub fn new(agent_package: &str) -> Self {
        Self {
            agent_package: agent_package.to_owned(),
            android: HashMap::new(),
            revision: 0,
            cache: HashMap::new(),
            commands: AgentCommandQueue::default(),
        }
    }

    /// Sets the Android settings (password, camera, status reporting, apps)
    /// of a policy. Devices receive them on their next sync.
    pub fn set_android_settings(
        &mut self,
        policy: PolicyId,
        settings: AndroidDeviceSettings,
    ) -> Result<(), AndroidError> {
        settings.check()?;
        self.revision += 1;
        self.android
            .insert(policy, (self.revision, Arc::new(settings)));
        Ok(())
    }

    /// The Android settings of a policy, if set.
    pub fn android_settings(&self, policy: PolicyId) -> Option<&AndroidDeviceSettings> {
        self.android.get(&policy).map(|(_, s)| s.as_ref())
    }

    /// Handles one sync (R-SY-1):
    ///
    /// 0. the request must pass [`SyncRequest::check`], and `authorization`
    ///    must prove it comes from the device's agent
    ///    ([`Workspace::authenticate_agent`]: the enrolling invitation's token
    ///    on the first sync, answered with the agent's credential, then that
    ///    credential; otherwise [`AndroidError::AgentNotAuthenticated`],
    ///    audited by the model);
    /// 1. the device must exist ([`AndroidError::UnknownDevice`]) and be
    ///    Android ([`AndroidError::NotAndroid`]);
    /// 2. the client certificate presented must be the one the model records
    ///    for it (compared in constant time), and none may be presented before
    ///    one was redeemed ([`AndroidError::CertificateMismatch`]);
    /// 3. an agent installed through KNOX or another EMM is refused with the
    ///    model's remedy ([`AndroidError::UnmanageableInstall`], R-IN-4);
    /// 4. a first connection completes the enrollment and a lost connection
    ///    is restored, through the model; a wiped or retired device gets
    ///    [`AndroidError::DeviceLeftManagement`];
    /// 5. command results are applied; a confirmed `WIPE` wipes the device in
    ///    the model (R-WP-1) and the answer says so;
    /// 6. the sync is recorded with [`Workspace::record_sync`], and the answer
    ///    carries the configuration only if its version differs from the one
    ///    the agent applied, the license, pending commands and the next sync time.
    pub fn handle_sync<R: CryptoRng + ?Sized>(
        &mut self,
        workspace: &mut Workspace,
        authorization: &AgentAuthorization,
        request: &SyncRequest,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<SyncResponse, AndroidError> {
        request.check()?;
        let id = request.device_id;
        let name = || id.to_string();
        let agent_credential = workspace
            .authenticate_agent(id, authorization.proof(), now, rng)
            .map_err(|e| match e {
                ModelError::AgentNotAuthenticated { reason, .. } => {
                    AndroidError::AgentNotAuthenticated {
                        device_id: name(),
                        reason,
                    }
                }
                source => AndroidError::Model {
                    operation: "authenticate the agent",
                    device_id: name(),
                    source,
                },
            })?;
        let device = workspace
            .device(id)
            .map_err(|_| AndroidError::UnknownDevice { device_id: name() })?;
        if device.platform() != Platform::Android {
            return Err(AndroidError::NotAndroid { device_id: name() });
        }
        let certificate_ok = match (
            device.client_certificate(),
            request.client_certificate_sha256,
        ) {
            (ClientCertificateState::Applied(expected), Some(presented)) => {
                bool::from(expected.ct_eq(presented.as_bytes()))
            }
            (ClientCertificateState::Applied(_), None) => false,
            (ClientCertificateState::None | ClientCertificateState::Issued, presented) => {
                presented.is_none()
            }
        };
        if !certificate_ok {
            return Err(AndroidError::CertificateMismatch { device_id: name() });
        }
        request
            .agent
            .install
            .manageable_source(&self.agent_package, &name())?;
        let model = |operation: &'static str| {
            move |source| AndroidError::Model {
                operation,
                device_id: id.to_string(),
                source,
            }
        };
        match device.state() {
            DeviceState::Enrolling => workspace
                .complete_enrollment(id, now)
                .map_err(model("complete the enrollment"))?,
            DeviceState::ConnectionLost => workspace
                .restore_connection(id, now)
                .map_err(model("restore the connection"))?,
            DeviceState::Connected | DeviceState::Managed => {}
            state @ (DeviceState::Wiped | DeviceState::Retired) => {
                self.commands.forget(id);
                return Err(AndroidError::DeviceLeftManagement {
                    device_id: name(),
                    state,
                });
            }
        }

        let mut wiped = false;
        for result in &request.command_results {
            if let Some(command) = self.commands.acknowledge(id, result, now) {
                wiped |= command.kind == AgentCommandKind::Wipe
                    && result.status == AgentCommandStatus::Done;
            }
        }
        if wiped {
            workspace
                .wipe_device(id, now)
                .map_err(model("wipe the device"))?;
            self.commands.forget(id);
            return Ok(SyncResponse {
                device_id: id,
                device_state: DeviceState::Wiped,
                configuration_version: None,
                configuration: None,
                license: None,
                license_problem: None,
                client_certificate: CertificateStatus::NotIssued,
                agent_credential: None,
                commands: Vec::new(),
                next_sync_at: None,
            });
        }

        let report = SyncReport {
            os_version: request.os_version,
            protection: request.status.protection(),
        };
        let outcome = workspace
            .record_sync(id, &report, now)
            .map_err(model("record the sync"))?;
        let rendered = self.configuration_for(workspace, id)?;
        let configuration = (request.applied_configuration_version != Some(rendered.version))
            .then(|| Arc::clone(&rendered.document));
        let device = workspace
            .device(id)
            .map_err(|_| AndroidError::UnknownDevice { device_id: name() })?;
        let license = outcome
            .license
            .and_then(|l| workspace.license(l).ok())
            .map(LicenseGrant::from);
        Ok(SyncResponse {
            device_id: id,
            device_state: device.state(),
            configuration_version: Some(rendered.version),
            configuration,
            license,
            license_problem: outcome.license_problem,
            client_certificate: match device.client_certificate() {
                ClientCertificateState::None => CertificateStatus::NotIssued,
                ClientCertificateState::Issued => CertificateStatus::AwaitingRedemption,
                ClientCertificateState::Applied(_) => CertificateStatus::Applied,
            },
            agent_credential,
            commands: self.commands.pending(id).to_vec(),
            next_sync_at: Some(outcome.next_sync_due),
        })
    }

    /// Parses a JSON body and its `Authorization` header value, handles
    /// it, and writes the JSON answer.
    pub fn handle_sync_json<R: CryptoRng + ?Sized>(
        &mut self,
        workspace: &mut Workspace,
        authorization: &str,
        body: &[u8],
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Vec<u8>, AndroidError> {
        let authorization = AgentAuthorization::parse(authorization)?;
        let request = SyncRequest::parse(body)?;
        self.handle_sync(workspace, &authorization, &request, now, rng)?
            .to_json()
    }

    /// The configuration `device` should have now: its effective policy (none
    /// while it is in *Unassigned devices*), the license it holds and the
    /// Android settings of that policy, rendered once and cached by policy
    /// version, license and Android-settings revision. The one way to render
    /// a device's configuration (a sync answers with it).
    pub fn configuration_for(
        &mut self,
        workspace: &Workspace,
        device: DeviceId,
    ) -> Result<RenderedConfiguration, AndroidError> {
        let record = workspace
            .device(device)
            .map_err(|_| AndroidError::UnknownDevice {
                device_id: device.to_string(),
            })?;
        let policy = workspace.effective_policy(device);
        let android = policy.and_then(|p| self.android.get(&p.id()));
        let key = ConfigurationKey {
            policy: policy.map(|p| (p.id(), p.version())),
            license: record.license(),
            android_revision: android.map_or(0, |(revision, _)| *revision),
        };
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit.clone());
        }
        let license = record.license().and_then(|l| workspace.license(l).ok());
        let rendered =
            AgentConfiguration::from_policy(policy, license, android.map(|(_, s)| s.as_ref()))?
                .rendered()?;
        if self.cache.len() >= Self::CACHE_LIMIT {
            self.cache.clear();
        }
        self.cache.insert(key, rendered.clone());
        Ok(rendered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::tests::{NOW, android_settings, managed_workspace};
    use mdm_model::InvitationToken;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use time::Duration;

    /// The device's agent: it proves itself with the invitation token of
    /// `managed_workspace` (the first draw of its seed-7 generator), then
    /// with the credential the first answer gives it.
    struct Agent {
        authorization: AgentAuthorization,
        rng: ChaCha20Rng,
    }

    impl Agent {
        fn of(ws: &Workspace) -> Self {
            let token = InvitationToken::generate(&mut ChaCha20Rng::seed_from_u64(7));
            assert!(
                ws.invitation_for(&token).is_some(),
                "not the enrolling invitation"
            );
            Self {
                authorization: AgentAuthorization::Invitation(token),
                rng: ChaCha20Rng::seed_from_u64(99),
            }
        }

        fn sync(
            &mut self,
            endpoint: &mut AndroidEndpoint,
            ws: &mut Workspace,
            request: &SyncRequest,
            now: OffsetDateTime,
        ) -> Result<SyncResponse, AndroidError> {
            let answer = endpoint.handle_sync(ws, &self.authorization, request, now, &mut self.rng);
            if let Ok(SyncResponse {
                agent_credential: Some(credential),
                ..
            }) = &answer
            {
                self.authorization = AgentAuthorization::Bearer(credential.clone());
            }
            answer
        }
    }

    fn request(device: DeviceId) -> SyncRequest {
        SyncRequest {
            device_id: device,
            client_certificate_sha256: None,
            applied_configuration_version: None,
            agent: AgentInfo {
                version: "1.4.0".into(),
                install: InstallReport {
                    installer_package: Some("com.google.android.packageinstaller".into()),
                    managing_package: Some(AGENT_PACKAGE.into()),
                    embedded_settings: true,
                },
            },
            os_version: Some(OsVersion::new(14, 0, 0)),
            status: DeviceStatus {
                real_time_protection: true,
                definitions_date: Some(NOW - Duration::hours(2)),
                last_scan: Some(LastScan {
                    at: NOW - Duration::hours(1),
                    result: ScanOutcome::Clean,
                }),
                license: AgentLicenseState::NotActivated,
                device_admin_granted: true,
                accessibility_granted: true,
            },
            command_results: Vec::new(),
        }
    }

    #[test]
    fn first_sync_sends_configuration_and_license_then_only_when_changed() {
        let (mut ws, device) = managed_workspace();
        let mut agent = Agent::of(&ws);
        let mut endpoint = AndroidEndpoint::default();
        let policy = ws.effective_policy(device).unwrap().id();
        endpoint
            .set_android_settings(policy, android_settings())
            .unwrap();
        let first = agent
            .sync(&mut endpoint, &mut ws, &request(device), NOW)
            .unwrap();
        assert_eq!(first.device_state, DeviceState::Managed);
        let config = first.configuration.clone().unwrap();
        assert_eq!(config.sync_interval_seconds, 6 * 3600);
        assert_eq!(
            first.license.as_ref().unwrap().activation_code,
            "AB12C-DE34F-GH56J-KL78M"
        );
        assert_eq!(first.next_sync_at, Some(NOW + Duration::hours(6)));
        assert_eq!(first.client_certificate, CertificateStatus::NotIssued);
        // The model recorded the sync and the reported status.
        let record = ws.device(device).unwrap();
        assert_eq!(record.last_sync(), Some(NOW));
        assert!(record.protection().real_time_protection);
        assert_eq!(
            record.protection().last_scan_result,
            Some(ScanResult::Clean)
        );

        // The agent applied it: the next sync carries no configuration.
        let mut again = request(device);
        again.applied_configuration_version = first.configuration_version;
        let later = NOW + Duration::hours(6);
        let second = agent.sync(&mut endpoint, &mut ws, &again, later).unwrap();
        assert!(second.configuration.is_none());
        assert_eq!(second.configuration_version, first.configuration_version);
        assert!(second.license.is_some(), "the license is in every answer");

        // A policy change changes the version and the configuration comes again.
        let settings = mdm_model::PolicySettings {
            sync_interval: Duration::hours(1),
            ..*ws.policy(policy).unwrap().settings()
        };
        ws.update_policy(policy, settings, later).unwrap();
        let third = agent.sync(&mut endpoint, &mut ws, &again, later).unwrap();
        assert_eq!(third.configuration.unwrap().sync_interval_seconds, 3600);
        assert_eq!(third.next_sync_at, Some(later + Duration::hours(1)));
        // A lost answer heals: the agent still reports the old version and gets it again.
        let fourth = agent.sync(&mut endpoint, &mut ws, &again, later).unwrap();
        assert!(fourth.configuration.is_some());
    }

    #[test]
    fn wire_examples() {
        let (mut ws, device) = managed_workspace();
        let mut agent = Agent::of(&ws);
        let mut endpoint = AndroidEndpoint::default();
        endpoint
            .commands
            .enqueue(&ws, device, AgentCommandKind::ScanNow, NOW)
            .unwrap();
        let req = request(device);
        let body = req.to_json().unwrap();
        insta::assert_snapshot!("sync_request", serde_json::to_string_pretty(&req).unwrap());
        let answer = endpoint
            .handle_sync_json(
                &mut ws,
                &agent.authorization.header_value(),
                &body,
                NOW,
                &mut agent.rng,
            )
            .unwrap();
        let response = SyncResponse::parse(&answer).unwrap();
        assert_eq!(response.commands.len(), 1);
        let mut pretty = serde_json::to_value(&response).unwrap();
        // The configuration has its own snapshot; the credential is a secret.
        pretty["configuration"] = serde_json::Value::String("…".into());
        assert_eq!(
            pretty["agentCredential"].as_str().map(str::len),
            Some(mdm_model::TOKEN_TEXT_LEN)
        );
        pretty["agentCredential"] = serde_json::Value::String("<credential>".into());
        insta::assert_snapshot!(
            "sync_response",
            serde_json::to_string_pretty(&pretty).unwrap()
        );
        assert_eq!(SyncRequest::parse(&body).unwrap(), req);
    }

    #[test]
    fn unknown_device_and_malformed_requests_are_typed_errors() {
        let (mut ws, device) = managed_workspace();
        let mut agent = Agent::of(&ws);
        let mut body = serde_json::to_value(request(device)).unwrap();
        body["deviceId"] = serde_json::json!(999);
        let error = AndroidEndpoint::default()
            .handle_sync_json(
                &mut ws,
                &agent.authorization.header_value(),
                &serde_json::to_vec(&body).unwrap(),
                NOW,
                &mut agent.rng,
            )
            .unwrap_err();
        assert!(
            matches!(
                error,
                AndroidError::AgentNotAuthenticated {
                    reason: mdm_model::AgentRefusal::UnknownDevice,
                    ..
                }
            ),
            "{error}"
        );
        for bad in [
            &b""[..],
            b"{}",
            b"[]",
            b"{\"deviceId\": -1, \"agent\": {\"version\": \"1\"}}",
            b"{\"deviceId\": 0, \"agent\": {\"version\": \"\"}}",
            b"{\"deviceId\": 0, \"agent\": {\"version\": \"1\"}, \"clientCertificateSha256\": \"zz\"}",
            b"{\"deviceId\": 0, \"agent\": {\"version\": \"1\"}, \"status\": {\"definitionsDate\": \"yesterday\"}}",
        ] {
            let error = SyncRequest::parse(bad).unwrap_err();
            assert!(matches!(error, AndroidError::MalformedSyncRequest { .. }), "{error}");
        }
        // Unknown fields and enum values from a newer agent are accepted.
        let newer = br#"{"deviceId": 0, "agent": {"version": "2.0"}, "batteryLevel": 80,
            "status": {"lastScan": {"at": "2026-11-28T08:00:00Z", "result": "QUARANTINED_LATER"}, "license": "GRACE"}}"#;
        let parsed = SyncRequest::parse(newer).unwrap();
        assert_eq!(
            parsed.status.last_scan.unwrap().result,
            ScanOutcome::Unknown
        );
        assert_eq!(parsed.status.license, AgentLicenseState::Unknown);
    }

    #[test]
    fn client_certificates_are_checked() {
        let (mut ws, device) = managed_workspace();
        let mut agent = Agent::of(&ws);
        let mut endpoint = AndroidEndpoint::default();
        // A plain-APK device without a redeemed certificate presents none.
        let mut presenting = request(device);
        presenting.client_certificate_sha256 = Some(Sha256Digest::of(b"cert"));
        let error = agent
            .sync(&mut endpoint, &mut ws, &presenting, NOW)
            .unwrap_err();
        assert!(
            matches!(error, AndroidError::CertificateMismatch { .. }),
            "{error}"
        );
        ws.record_client_certificate_issued(device, NOW).unwrap();
        let answer = agent
            .sync(&mut endpoint, &mut ws, &request(device), NOW)
            .unwrap();
        assert_eq!(
            answer.client_certificate,
            CertificateStatus::AwaitingRedemption
        );
        ws.record_client_certificate_applied(device, *Sha256Digest::of(b"cert").as_bytes(), NOW)
            .unwrap();
        let answer = agent
            .sync(&mut endpoint, &mut ws, &presenting, NOW)
            .unwrap();
        assert_eq!(answer.client_certificate, CertificateStatus::Applied);
        let mut other = request(device);
        other.client_certificate_sha256 = Some(Sha256Digest::of(b"another"));
        assert!(agent.sync(&mut endpoint, &mut ws, &other, NOW).is_err());
        assert!(
            agent
                .sync(&mut endpoint, &mut ws, &request(device), NOW)
                .is_err()
        );
    }

    #[test]
    fn knox_and_other_emm_installs_are_refused_with_the_remedy() {
        let (mut ws, device) = managed_workspace();
        let mut agent = Agent::of(&ws);
        for (installer, owner) in [
            (Some("com.sec.enterprise.knox.cloudmdm.smdms"), None),
            (
                Some("com.android.vending"),
                Some("com.airwatch.androidagent"),
            ),
        ] {
            let mut req = request(device);
            req.agent.install = InstallReport {
                installer_package: installer.map(str::to_owned),
                managing_package: owner.map(str::to_owned),
                embedded_settings: false,
            };
            let error = agent
                .sync(&mut AndroidEndpoint::default(), &mut ws, &req, NOW)
                .unwrap_err();
            assert!(
                matches!(error, AndroidError::UnmanageableInstall { .. }),
                "{error}"
            );
            assert!(error.to_string().contains("reinstall"), "{error}");
        }
        // Nothing was recorded.
        assert_eq!(ws.device(device).unwrap().sync_count(), 0);
    }

    #[test]
    fn lifecycle_goes_through_the_model() {
        let (mut ws, device) = managed_workspace();
        let mut agent = Agent::of(&ws);
        let mut endpoint = AndroidEndpoint::default();
        ws.mark_connection_lost(device, NOW).unwrap();
        let answer = agent
            .sync(&mut endpoint, &mut ws, &request(device), NOW)
            .unwrap();
        assert_eq!(answer.device_state, DeviceState::Managed);

        // Wipe: delivered on every sync until the agent confirms it.
        let wipe = endpoint
            .commands
            .enqueue(&ws, device, AgentCommandKind::Wipe, NOW)
            .unwrap();
        let lock = endpoint
            .commands
            .enqueue(&ws, device, AgentCommandKind::Lock, NOW)
            .unwrap();
        for _ in 0..2 {
            let answer = agent
                .sync(&mut endpoint, &mut ws, &request(device), NOW)
                .unwrap();
            assert_eq!(
                answer.commands.iter().map(|c| c.id).collect::<Vec<_>>(),
                [wipe, lock]
            );
        }
        let mut confirm = request(device);
        confirm.command_results = vec![
            AgentCommandResult {
                id: lock,
                status: AgentCommandStatus::Done,
                detail: None,
                location: None,
            },
            AgentCommandResult {
                id: wipe,
                status: AgentCommandStatus::Done,
                detail: None,
                location: None,
            },
        ];
        let answer = agent.sync(&mut endpoint, &mut ws, &confirm, NOW).unwrap();
        assert_eq!(answer.device_state, DeviceState::Wiped);
        assert!(answer.next_sync_at.is_none());
        assert_eq!(ws.device(device).unwrap().state(), DeviceState::Wiped);
        assert_eq!(endpoint.commands.take_completed().len(), 2);
        let error = agent
            .sync(&mut endpoint, &mut ws, &request(device), NOW)
            .unwrap_err();
        assert!(
            matches!(error, AndroidError::DeviceLeftManagement { .. }),
            "{error}"
        );
        assert!(
            endpoint
                .commands
                .enqueue(&ws, device, AgentCommandKind::Lock, NOW)
                .is_err()
        );
        assert!(ws.check_invariants().is_empty());
    }

    #[test]
    fn a_forged_sync_cannot_act_for_another_device() {
        let (mut ws, device) = managed_workspace();
        let mut agent = Agent::of(&ws);
        let mut endpoint = AndroidEndpoint::default();
        let wipe = endpoint
            .commands
            .enqueue(&ws, device, AgentCommandKind::Wipe, NOW)
            .unwrap();
        // The genuine agent syncs with its invitation, then with its credential.
        for _ in 0..2 {
            agent
                .sync(&mut endpoint, &mut ws, &request(device), NOW)
                .unwrap();
        }
        assert!(matches!(agent.authorization, AgentAuthorization::Bearer(_)));
        let mut forged = request(device);
        forged.command_results = vec![AgentCommandResult {
            id: wipe,
            status: AgentCommandStatus::Done,
            detail: None,
            location: None,
        }];
        let mut rng = ChaCha20Rng::seed_from_u64(1234);
        let guessed = AgentAuthorization::Bearer(AgentCredential::generate(&mut rng));
        let replayed_invitation = AgentAuthorization::Invitation(InvitationToken::generate(
            &mut ChaCha20Rng::seed_from_u64(7),
        ));
        for forger in [guessed, replayed_invitation] {
            let error = endpoint
                .handle_sync(&mut ws, &forger, &forged, NOW, &mut rng)
                .unwrap_err();
            assert!(
                matches!(error, AndroidError::AgentNotAuthenticated { .. }),
                "{error}"
            );
            assert!(!format!("{error} {error:?}").contains("AB12C"));
        }
        assert_eq!(ws.device(device).unwrap().state(), DeviceState::Managed);
        assert_eq!(
            endpoint.commands.pending(device).len(),
            1,
            "the WIPE is still pending"
        );
        let refusals = ws
            .audit_log()
            .iter()
            .filter(|r| {
                matches!(
                    r.event,
                    mdm_model::AuditEvent::AgentAuthenticationFailed { .. }
                )
            })
            .count();
        assert_eq!(refusals, 2);
        // A body without a proof does not even parse as a sync.
        assert!(matches!(
            endpoint.handle_sync_json(&mut ws, "", &forged.to_json().unwrap(), NOW, &mut rng),
            Err(AndroidError::MalformedAuthorization { .. })
        ));
    }

    #[test]
    fn first_connection_completes_enrollment_in_the_model() {
        use mdm_model::{EmailAddress, EnrollmentRequest, InstallSource};
        use rand_core::SeedableRng;
        let (mut ws, _) = managed_workspace();
        let mut agent = Agent::of(&ws);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let bob = ws
            .add_user(
                "bob",
                Some(EmailAddress::parse("bob@acme.example").unwrap()),
                NOW,
            )
            .unwrap();
        let invitation = ws.issue_invitation(bob, NOW, &mut rng).unwrap();
        let device = ws
            .enroll(
                &invitation.token,
                EnrollmentRequest {
                    platform: Platform::Android,
                    os_version: OsVersion::new(13, 0, 0),
                    model: "Galaxy".into(),
                    identification_number: None,
                    install_source: InstallSource::PlainApk,
                },
                NOW,
            )
            .unwrap();
        let mut req = request(device);
        req.agent.install = InstallReport::default();
        // Alice's agent cannot complete Bob's enrollment; Bob's can.
        assert!(
            agent
                .sync(&mut AndroidEndpoint::default(), &mut ws, &req, NOW)
                .is_err()
        );
        assert_eq!(ws.device(device).unwrap().state(), DeviceState::Enrolling);
        agent.authorization = AgentAuthorization::Invitation(invitation.token.clone());
        let answer = agent
            .sync(&mut AndroidEndpoint::default(), &mut ws, &req, NOW)
            .unwrap();
        assert_eq!(answer.device_state, DeviceState::Connected);
        // Unassigned: the configuration has no policy and no license (R-GR-1).
        let config = answer.configuration.unwrap();
        assert!(config.policy.is_none() && answer.license.is_none());
        assert_eq!(answer.client_certificate, CertificateStatus::NotIssued);
    }

    proptest! {
        #[test]
        fn parser_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = SyncRequest::parse(&body);
        }

        #[test]
        fn parser_never_panics_on_json_like_input(text in "[{}\\[\\]\":,0-9a-zA-Z .-]{0,200}") {
            let _ = SyncRequest::parse(text.as_bytes());
        }

        #[test]
        fn handle_never_panics_on_mutated_requests(
            device in 0u32..4,
            version in "\\PC{0,70}",
            installer in proptest::option::of("[a-z.]{0,30}"),
            lat in -200.0f64..200.0,
            id in 0u64..5,
        ) {
            let (mut ws, _) = managed_workspace();
        let mut agent = Agent::of(&ws);
            let body = serde_json::json!({
                "deviceId": device,
                "agent": {"version": version, "install": {"installerPackage": installer}},
                "commandResults": [{"id": id, "status": "DONE", "location": {"latitude": lat, "longitude": 0.0, "accuracyMeters": 1.0, "at": "2026-11-28T09:00:00Z"}}],
            });
            let mut endpoint = AndroidEndpoint::default();
            let header = agent.authorization.header_value();
            let _ = endpoint.handle_sync_json(&mut ws, &header, &serde_json::to_vec(&body).unwrap(), NOW, &mut agent.rng);
        }
    }
}
