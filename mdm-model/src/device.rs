//! Devices, their platform, state and protection status (R-DV-1, R-DV-2).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    AgentCredentialHash, DeviceId, GroupId, InstallSource, InvitationId, LicenseId, ModelError,
    PolicyId, Sha256Digest, UserId,
};

/// The operating system family of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Android phones and tablets, managed through the agent app.
    Android,
    /// iPhone, managed through the MDM enrollment profile.
    #[serde(rename = "ios")]
    IOs,
    /// iPad, managed through the MDM enrollment profile.
    #[serde(rename = "ipados")]
    IPadOs,
}

impl Platform {
    /// Every platform, in a fixed order.
    pub const ALL: [Platform; 3] = [Platform::Android, Platform::IOs, Platform::IPadOs];

    /// Whether the platform is enrolled through Apple's MDM protocol and so
    /// needs the workspace's APNs certificate (R-IN-3).
    #[must_use]
    pub fn is_apple(self) -> bool {
        matches!(self, Platform::IOs | Platform::IPadOs)
    }

    /// The platform's name as the consoles show it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Platform::Android => "Android",
            Platform::IOs => "iOS",
            Platform::IPadOs => "iPadOS",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An operating system version such as `17.4.1` or `14`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OsVersion {
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
    /// Patch version.
    pub patch: u16,
}

impl OsVersion {
    /// A version from its three numbers.
    #[must_use]
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `major[.minor[.patch]]`.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`] when the text is not one to three dot-separated numbers.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let invalid = ModelError::InvalidName {
            what: "OS version",
            reason: "expected major[.minor[.patch]] with numbers up to 65535",
        };
        let mut parts = text.split('.');
        let mut next = |required: bool| -> Result<u16, ModelError> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| invalid.clone())
                }
                None if !required => Ok(0),
                _ => Err(invalid.clone()),
            }
        };
        let version = Self::new(next(true)?, next(false)?, next(false)?);
        if parts.next().is_some() {
            return Err(invalid);
        }
        Ok(version)
    }
}

impl fmt::Display for OsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl TryFrom<String> for OsVersion {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OsVersion> for String {
    fn from(value: OsVersion) -> Self {
        value.to_string()
    }
}

/// The number an administrator registers a device by before handing it out
/// (seed 004): a UDID, serial number or IMEI-like string.
///
/// Letters are kept upper-case, so `abc-1` and `ABC-1` are the same device.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdentificationNumber(Box<str>);

impl IdentificationNumber {
    /// Parses an identification number: 1 to 64 ASCII letters, digits or `-`.
    ///
    /// # Errors
    /// [`ModelError::InvalidIdentificationNumber`] otherwise.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(Self(text.to_ascii_uppercase().into()))
        } else {
            Err(ModelError::InvalidIdentificationNumber(text.to_owned()))
        }
    }

    /// The number as text (upper-case).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdentificationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for IdentificationNumber {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<IdentificationNumber> for String {
    fn from(value: IdentificationNumber) -> Self {
        value.0.into()
    }
}

/// Where a device is in its lifecycle (R-DV-2).
///
/// ```text
/// (invited) → Enrolling → Connected (in Unassigned) ⇄ Managed
///                              ↓           ↓
///                       ConnectionLost ⇄ (back to Connected / Managed)
/// any live state → Wiped | Retired   (terminal: the device must enroll again)
/// ```
/// The *invited* step belongs to the [`Invitation`](crate::Invitation); a device
/// record exists from the moment an invitation is consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// The invitation was consumed; the agent or profile is being installed.
    Enrolling,
    /// The device has connected and sits in *Unassigned devices*.
    Connected,
    /// The device is in a managed group; its policy and license apply.
    Managed,
    /// The device cannot reach the server any more (e.g. it missed a
    /// server-certificate rotation).
    ConnectionLost,
    /// The device was remotely wiped or factory reset (R-WP-1).
    Wiped,
    /// The device was removed from management by the administrator.
    Retired,
}

impl DeviceState {
    /// Whether the device has left management for good.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, DeviceState::Wiped | DeviceState::Retired)
    }

    /// Whether the device currently talks to the server.
    #[must_use]
    pub fn is_connected(self) -> bool {
        matches!(self, DeviceState::Connected | DeviceState::Managed)
    }

    /// The state's name in the documented JSON form.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DeviceState::Enrolling => "enrolling",
            DeviceState::Connected => "connected",
            DeviceState::Managed => "managed",
            DeviceState::ConnectionLost => "connection_lost",
            DeviceState::Wiped => "wiped",
            DeviceState::Retired => "retired",
        }
    }
}

impl fmt::Display for DeviceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of the device's last anti-malware scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanResult {
    /// Nothing found.
    Clean,
    /// Threats were found and handled by the policy's action.
    ThreatsHandled,
    /// Threats were found and remain.
    ThreatsRemaining,
}

/// What a device reports about its protection on each sync (R-DV-1, seed 003 §6.2 step 16).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProtectionStatus {
    /// Real-time protection is running.
    pub real_time_protection: bool,
    /// When the anti-malware definitions were last updated.
    #[serde(with = "time::serde::rfc3339::option")]
    pub definitions_updated: Option<OffsetDateTime>,
    /// When the last scan ran.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_scan: Option<OffsetDateTime>,
    /// What the last scan found.
    pub last_scan_result: Option<ScanResult>,
    /// The agent reports its license activated and valid (R-DV-1 "license
    /// activated"; which license the server deployed is [`Device::license`]).
    #[serde(default)]
    pub license_activated: bool,
    /// The agent holds device-administrator rights.
    pub device_admin_granted: bool,
    /// The agent's accessibility service is enabled.
    pub accessibility_granted: bool,
}

impl ProtectionStatus {
    /// Whether the definitions are at most `max_age` old at `now`.
    #[must_use]
    pub fn definitions_up_to_date(&self, now: OffsetDateTime, max_age: time::Duration) -> bool {
        self.definitions_updated
            .is_some_and(|at| at <= now && now - at <= max_age)
    }
}

/// The state of the device's client certificate (R-CL-1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "sha256")]
pub enum ClientCertificateState {
    /// No client certificate was issued (e.g. a plain-APK install).
    #[default]
    None,
    /// A certificate was issued and waits for its one-time password.
    Issued,
    /// The device fetched the certificate; the SHA-256 fingerprint of its DER.
    Applied(Sha256Digest),
}

/// A managed (or once managed) device (R-DV-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub(crate) id: DeviceId,
    pub(crate) platform: Platform,
    pub(crate) os_version: OsVersion,
    pub(crate) model: Box<str>,
    pub(crate) owner: UserId,
    pub(crate) invitation: InvitationId,
    pub(crate) identification_number: Option<IdentificationNumber>,
    pub(crate) install_source: InstallSource,
    pub(crate) state: DeviceState,
    pub(crate) group: Option<GroupId>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) enrolled_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) last_sync: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) next_sync_due: Option<OffsetDateTime>,
    pub(crate) syncs: u32,
    pub(crate) applied_policy: Option<(PolicyId, u32)>,
    pub(crate) license: Option<LicenseId>,
    pub(crate) client_certificate: ClientCertificateState,
    pub(crate) protection: ProtectionStatus,
    /// The Android agent's credential, stored hashed (none before it is issued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) agent_credential: Option<AgentCredentialRecord>,
}

/// The stored hash of a device's agent credential, and whether the agent has
/// presented it yet. Until it has, the invitation token may ask for another
/// (the answer carrying the first may have been lost), and the one issued
/// before stays valid too (the request may have been sent twice, and the
/// agent read the first answer); the first one presented is the one kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AgentCredentialRecord {
    pub(crate) hash: AgentCredentialHash,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) previous: Option<AgentCredentialHash>,
    pub(crate) confirmed: bool,
}

impl Device {
    /// The device's id.
    #[must_use]
    pub fn id(&self) -> DeviceId {
        self.id
    }
    /// Android, iOS or iPadOS.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.platform
    }
    /// The OS version last reported.
    #[must_use]
    pub fn os_version(&self) -> OsVersion {
        self.os_version
    }
    /// The hardware model, as reported.
    #[must_use]
    pub fn model(&self) -> &str {
        &self.model
    }
    /// The user who enrolled the device.
    #[must_use]
    pub fn owner(&self) -> UserId {
        self.owner
    }
    /// The invitation the device enrolled with.
    #[must_use]
    pub fn invitation(&self) -> InvitationId {
        self.invitation
    }
    /// The registered identification number, if the device reported one.
    #[must_use]
    pub fn identification_number(&self) -> Option<&IdentificationNumber> {
        self.identification_number.as_ref()
    }
    /// How the agent or profile was installed.
    #[must_use]
    pub fn install_source(&self) -> InstallSource {
        self.install_source
    }
    /// Where the device is in its lifecycle.
    #[must_use]
    pub fn state(&self) -> DeviceState {
        self.state
    }
    /// The group the device is in; `None` once wiped or retired.
    #[must_use]
    pub fn group(&self) -> Option<GroupId> {
        self.group
    }
    /// When the device enrolled (consumed its invitation).
    #[must_use]
    pub fn enrolled_at(&self) -> OffsetDateTime {
        self.enrolled_at
    }
    /// When the device last synced.
    #[must_use]
    pub fn last_sync(&self) -> Option<OffsetDateTime> {
        self.last_sync
    }
    /// How many times the device has synced.
    #[must_use]
    pub fn sync_count(&self) -> u32 {
        self.syncs
    }
    /// The policy and version the device last received, if any.
    #[must_use]
    pub fn applied_policy(&self) -> Option<(PolicyId, u32)> {
        self.applied_policy
    }
    /// When the device's next sync is due, as it was told at its last sync.
    #[must_use]
    pub fn next_sync_due(&self) -> Option<OffsetDateTime> {
        self.next_sync_due
    }
    /// The license deployed to the device, if any.
    #[must_use]
    pub fn license(&self) -> Option<LicenseId> {
        self.license
    }
    /// The state of the device's client certificate.
    #[must_use]
    pub fn client_certificate(&self) -> ClientCertificateState {
        self.client_certificate
    }
    /// The protection status last reported.
    #[must_use]
    pub fn protection(&self) -> &ProtectionStatus {
        &self.protection
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_dv_1_os_versions_parse() {
        assert_eq!(
            OsVersion::parse("17.4.1").unwrap(),
            OsVersion::new(17, 4, 1)
        );
        assert_eq!(OsVersion::parse("14").unwrap(), OsVersion::new(14, 0, 0));
        for bad in ["", "a", "1..2", "1.2.3.4", "70000", "-1"] {
            assert!(OsVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn r_in_5_identification_numbers_are_normalised() {
        let a = IdentificationNumber::parse("abc-123").unwrap();
        assert_eq!(a.as_str(), "ABC-123");
        assert!(IdentificationNumber::parse("").is_err());
        assert!(IdentificationNumber::parse("a b").is_err());
        assert!(IdentificationNumber::parse(&"1".repeat(65)).is_err());
    }
}
