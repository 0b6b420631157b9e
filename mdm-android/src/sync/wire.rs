//! The sync's wire types: what the agent sends ([`SyncRequest`]), what the
//! server answers ([`SyncResponse`]), and the commands and results they
//! carry. camelCase JSON; unknown fields ignored, unknown enum values
//! `UNKNOWN`.

use std::sync::Arc;

use mdm_model::{
    AgentCredential, DeviceId, DeviceState, LicenseProblem, OsVersion, ProtectionStatus, ScanResult,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::configuration::{AgentConfiguration, LicenseGrant};
use crate::{AndroidError, ContentVersion, InstallReport, Sha256Digest};

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
    pub(super) fn protection(&self) -> ProtectionStatus {
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
    pub(crate) fn name(self) -> &'static str {
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
