//! The configuration document the agent receives (R-PO-1, R-SY-1).
//!
//! It is rendered from the device's effective policy in `mdm-model` (sync
//! interval, definitions update source and schedule, scan settings, action on
//! threat, scan after update) and the license the device holds, plus Android
//! device settings named as in the Android Management API (password
//! requirements, camera access, status reporting, applications with install
//! type and managed configuration), which the model does not hold and
//! [`AndroidDeviceSettings`] carries.
//!
//! Field names are camelCase and enum values SCREAMING_SNAKE_CASE, as in AMAPI.
//! The [`ContentVersion`] is the SHA-256 of the document's canonical JSON (the
//! compact serialisation: struct fields in declaration order, map keys
//! sorted), so an unchanged configuration has an unchanged version and is not
//! sent again.
//!
//! # The document
//!
//! ```json
//! {
//!   "schemaVersion": 1,
//!   "policy": { "id": 0, "name": "Default", "version": 1 },   // null while unassigned
//!   "syncIntervalSeconds": 21600,
//!   "protection": {                                            // null while unassigned
//!     "definitionsSource": "VENDOR_SERVERS",                   // | "ADMINISTRATION_SERVER"
//!     "definitionsSchedule": { "type": "DAILY", "time": "08:00" },
//!         // | { "type": "WEEKLY", "day": "MONDAY", "time": "08:00" } | { "type": "OFF" }
//!     "detectAdware": true, "detectAutoDialers": true, "detectRiskware": true,
//!     "scanApps": true,
//!     "actionOnThreat": "QUARANTINE",                          // | "DELETE" | "REPORT"
//!     "scanAfterUpdate": true
//!   },
//!   "license": { "activationCode": "AB12C-DE34F-GH56J-KL78M",
//!                "expiresAt": "2027-11-28T00:00:00Z" },        // null when none is held
//!   "passwordRequirements": { "passwordQuality": "NUMERIC", "passwordMinimumLength": 6,
//!                             "passwordExpirationTimeout": "7776000s" },   // optional
//!   "cameraAccess": "CAMERA_ACCESS_USER_CHOICE",               // optional
//!   "statusReportingSettings": { "applicationReportsEnabled": true, "…": false },
//!   "applications": [ { "packageName": "io.mdmtoolkit.agent",
//!                       "installType": "FORCE_INSTALLED",
//!                       "managedConfiguration": { "sync_interval_minutes": 360 },
//!                       "minimumVersionCode": 10400 } ]        // omitted when empty
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use mdm_model::{
    License, Policy, PolicySettings, ScanSettings, ThreatAction, UpdateSchedule, UpdateSource,
    Workspace,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::provisioning::is_package_name;
use crate::{AndroidError, Resources, RestrictionSchema, Sha256Digest};

/// The version of the document format this crate writes.
pub const CONFIGURATION_SCHEMA_VERSION: u32 = 1;

/// AMAPI `PasswordRequirements.passwordQuality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PasswordQuality {
    /// Any password, but one is required.
    Something,
    /// Digits.
    Numeric,
    /// Digits without repeats or sequences.
    NumericComplex,
    /// Letters.
    Alphabetic,
    /// Letters and digits.
    Alphanumeric,
    /// Letters, digits and symbols.
    Complex,
    /// Android 10+ complexity buckets.
    ComplexityLow,
    /// Android 10+ complexity buckets.
    ComplexityMedium,
    /// Android 10+ complexity buckets.
    ComplexityHigh,
}

/// AMAPI `PasswordRequirements.passwordScope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PasswordScope {
    /// The device's screen lock.
    ScopeDevice,
    /// The work profile's challenge.
    ScopeProfile,
}

/// AMAPI `PasswordRequirements` (the fields our agent enforces).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordRequirements {
    /// Required quality.
    pub password_quality: PasswordQuality,
    /// Minimum length (numeric and alphanumeric qualities).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password_minimum_length: Option<u32>,
    /// Failed attempts before the device is wiped; `None` or 0 never wipes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maximum_failed_passwords_for_wipe: Option<u32>,
    /// Password lifetime, AMAPI duration text such as `"7776000s"`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        with = "amapi_duration"
    )]
    pub password_expiration_timeout: Option<time::Duration>,
    /// Previous passwords that may not be reused.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password_history_length: Option<u32>,
    /// Device or work profile.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password_scope: Option<PasswordScope>,
}

/// AMAPI `Policy.cameraAccess`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CameraAccess {
    /// The user decides.
    CameraAccessUserChoice,
    /// The camera is disabled.
    CameraAccessDisabled,
    /// The camera is available and the user cannot turn it off.
    CameraAccessEnforced,
}

/// AMAPI `StatusReportingSettings` (the booleans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[allow(clippy::struct_excessive_bools)]
pub struct StatusReportingSettings {
    /// Report installed applications.
    pub application_reports_enabled: bool,
    /// Report device settings.
    pub device_settings_enabled: bool,
    /// Report software information.
    pub software_info_enabled: bool,
    /// Report memory events.
    pub memory_info_enabled: bool,
    /// Report network information.
    pub network_info_enabled: bool,
    /// Report displays.
    pub display_info_enabled: bool,
    /// Report power management events.
    pub power_management_events_enabled: bool,
    /// Report hardware status.
    pub hardware_status_enabled: bool,
}

/// AMAPI `ApplicationPolicy.installType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstallType {
    /// Installed automatically; the user may remove it.
    Preinstalled,
    /// Installed automatically; the user cannot remove it.
    ForceInstalled,
    /// Blocked from installation.
    Blocked,
    /// Available to install.
    Available,
    /// Needed before setup completes.
    RequiredForSetup,
    /// Runs as the kiosk.
    Kiosk,
}

/// AMAPI `ApplicationPolicy` (the fields our agent acts on).
///
/// `Debug` names the managed configuration's keys, not its values: an app's
/// `hidden` restrictions carry secrets (API keys, passwords).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationPolicy {
    /// The app's package name.
    pub package_name: String,
    /// How it is installed.
    pub install_type: InstallType,
    /// Its managed configuration, keyed by its restriction keys.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub managed_configuration: Option<serde_json::Map<String, serde_json::Value>>,
    /// Update the app when installed below this version code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub minimum_version_code: Option<i32>,
    /// The app is disabled (data kept).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub disabled: bool,
}

impl fmt::Debug for ApplicationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Keys<'a>(&'a serde_json::Map<String, serde_json::Value>);
        impl fmt::Debug for Keys<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.keys().map(|key| (key, format_args!("<redacted>"))))
                    .finish()
            }
        }
        f.debug_struct("ApplicationPolicy")
            .field("package_name", &self.package_name)
            .field("install_type", &self.install_type)
            .field(
                "managed_configuration",
                &self.managed_configuration.as_ref().map(Keys),
            )
            .field("minimum_version_code", &self.minimum_version_code)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// Android settings of a policy beyond the model's [`PolicySettings`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AndroidDeviceSettings {
    /// Screen-lock requirements.
    pub password_requirements: Option<PasswordRequirements>,
    /// Camera policy.
    pub camera_access: Option<CameraAccess>,
    /// What the agent reports.
    pub status_reporting_settings: Option<StatusReportingSettings>,
    /// Apps to install, block or configure (at most [`Self::MAX_APPLICATIONS`]).
    pub applications: Vec<ApplicationPolicy>,
}

impl AndroidDeviceSettings {
    /// AMAPI's limit on applications per policy.
    pub const MAX_APPLICATIONS: usize = 3000;

    /// Checks package names (valid, unique), the application count and the
    /// password numbers.
    pub fn check(&self) -> Result<(), AndroidError> {
        let invalid = |reason: String| AndroidError::Render { reason };
        if self.applications.len() > Self::MAX_APPLICATIONS {
            return Err(invalid(format!(
                "{} applications; at most {} per policy",
                self.applications.len(),
                Self::MAX_APPLICATIONS
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (index, app) in self.applications.iter().enumerate() {
            if !is_package_name(&app.package_name) {
                return Err(invalid(format!(
                    "applications[{index}].packageName {:?} is not a package name",
                    app.package_name
                )));
            }
            if !seen.insert(app.package_name.as_str()) {
                return Err(invalid(format!(
                    "applications[{index}].packageName {} appears twice",
                    app.package_name
                )));
            }
        }
        if let Some(password) = &self.password_requirements {
            if password.password_minimum_length.is_some_and(|l| l > 64) {
                return Err(invalid("passwordMinimumLength above 64".into()));
            }
            if password
                .password_expiration_timeout
                .is_some_and(|d| d <= time::Duration::ZERO)
            {
                return Err(invalid("passwordExpirationTimeout must be positive".into()));
            }
        }
        Ok(())
    }

    /// Validates each application's managed configuration against its app's
    /// restriction schema, where `schemas` has one (by package name). Errors
    /// name the package and the key.
    pub fn validate_managed_configurations(
        &self,
        schemas: &BTreeMap<String, (RestrictionSchema, Resources)>,
    ) -> Result<(), AndroidError> {
        for app in &self.applications {
            let (Some(values), Some((schema, resources))) =
                (&app.managed_configuration, schemas.get(&app.package_name))
            else {
                continue;
            };
            schema
                .validate_values(&serde_json::Value::Object(values.clone()), resources)
                .map_err(|e| match e {
                    AndroidError::InvalidRestrictionValue { key, reason } => {
                        AndroidError::InvalidRestrictionValue {
                            key: format!("{}:{key}", app.package_name),
                            reason,
                        }
                    }
                    other => other,
                })?;
        }
        Ok(())
    }
}

/// Which policy (and which revision of it) the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReference {
    /// The policy's number in its workspace.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Its version in the model (bumped on every change).
    pub version: u32,
}

/// Day of the week for a weekly definitions update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<time::Weekday> for DayOfWeek {
    fn from(day: time::Weekday) -> Self {
        match day {
            time::Weekday::Monday => Self::Monday,
            time::Weekday::Tuesday => Self::Tuesday,
            time::Weekday::Wednesday => Self::Wednesday,
            time::Weekday::Thursday => Self::Thursday,
            time::Weekday::Friday => Self::Friday,
            time::Weekday::Saturday => Self::Saturday,
            time::Weekday::Sunday => Self::Sunday,
        }
    }
}

/// When definitions are updated: off, daily at a time, weekly on a day at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DefinitionsSchedule {
    /// Only on demand.
    Off,
    /// Every day at `time` (device local time).
    Daily {
        /// `HH:MM`.
        #[serde(with = "time_of_day")]
        time: time::Time,
    },
    /// Every week on `day` at `time` (device local time).
    Weekly {
        /// The day.
        day: DayOfWeek,
        /// `HH:MM`.
        #[serde(with = "time_of_day")]
        time: time::Time,
    },
}

/// Where definitions come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DefinitionsSource {
    /// The vendor's update servers.
    VendorServers,
    /// The administration server.
    AdministrationServer,
}

/// What the agent does with a threat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionOnThreat {
    /// Move to quarantine.
    Quarantine,
    /// Delete.
    Delete,
    /// Only report.
    Report,
}

/// The anti-malware part of the configuration (R-PO-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_excessive_bools)]
pub struct ProtectionConfiguration {
    /// Where definitions come from.
    pub definitions_source: DefinitionsSource,
    /// When they are updated.
    pub definitions_schedule: DefinitionsSchedule,
    /// Scan for adware.
    pub detect_adware: bool,
    /// Scan for auto-dialers.
    pub detect_auto_dialers: bool,
    /// Scan for riskware.
    pub detect_riskware: bool,
    /// Scan installed apps as well as files.
    pub scan_apps: bool,
    /// What to do with a threat.
    pub action_on_threat: ActionOnThreat,
    /// Scan after each definitions update.
    pub scan_after_update: bool,
}

/// A license the device holds (R-LI-1).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseGrant {
    /// The activation code the agent activates with.
    pub activation_code: String,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for LicenseGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LicenseGrant")
            .field("activation_code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl From<&License> for LicenseGrant {
    fn from(license: &License) -> Self {
        Self {
            activation_code: license.code().as_str().to_owned(),
            expires_at: license.expires_at(),
        }
    }
}

/// The document the agent receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentConfiguration {
    /// [`CONFIGURATION_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The policy it came from; `None` for a device in *Unassigned devices*.
    pub policy: Option<PolicyReference>,
    /// Seconds between syncs.
    pub sync_interval_seconds: u32,
    /// Anti-malware settings; `None` without a policy.
    pub protection: Option<ProtectionConfiguration>,
    /// The license the device holds.
    pub license: Option<LicenseGrant>,
    /// AMAPI `passwordRequirements`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password_requirements: Option<PasswordRequirements>,
    /// AMAPI `cameraAccess`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub camera_access: Option<CameraAccess>,
    /// AMAPI `statusReportingSettings`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status_reporting_settings: Option<StatusReportingSettings>,
    /// AMAPI `applications`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub applications: Vec<ApplicationPolicy>,
}

/// SHA-256 of a configuration's canonical JSON; lower-case hex on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentVersion(Sha256Digest);

impl ContentVersion {
    /// The version of a canonical JSON text.
    pub fn of_json(canonical: &[u8]) -> Self {
        Self(Sha256Digest::of(canonical))
    }

    /// Reads the hex form.
    pub fn parse(text: &str) -> Result<Self, AndroidError> {
        Sha256Digest::from_hex(text).map(Self).map_err(|reason| {
            AndroidError::MalformedSyncRequest {
                reason: format!("configuration version {text:?}: {reason}"),
            }
        })
    }
}

impl fmt::Debug for ContentVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentVersion({})", self.0.to_hex())
    }
}

impl fmt::Display for ContentVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl Serialize for ContentVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ContentVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Sha256Digest::deserialize(deserializer).map(Self)
    }
}

/// A rendered configuration with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedConfiguration {
    /// The content version.
    pub version: ContentVersion,
    /// The document (shared, so a cache can hand it to many responses).
    pub document: Arc<AgentConfiguration>,
}

impl AgentConfiguration {
    /// Builds the document from a policy (or none), the license the device
    /// holds, and the policy's Android settings.
    pub fn from_policy(
        policy: Option<&Policy>,
        license: Option<&License>,
        android: Option<&AndroidDeviceSettings>,
    ) -> Result<Self, AndroidError> {
        let interval = policy.map_or(Workspace::DEFAULT_SYNC_INTERVAL, |p| {
            p.settings().sync_interval
        });
        let sync_interval_seconds = u32::try_from(interval.whole_seconds())
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| AndroidError::Render {
                reason: format!("sync interval {interval} does not fit the agent's seconds field"),
            })?;
        // Android settings belong to a policy: without one (a device in
        // *Unassigned devices*, R-GR-1) none apply.
        let android = policy.and(android);
        if let Some(android) = android {
            android.check()?;
        }
        let android = android.cloned().unwrap_or_default();
        Ok(Self {
            schema_version: CONFIGURATION_SCHEMA_VERSION,
            policy: policy.map(|p| PolicyReference {
                id: p.id().get(),
                name: p.name().to_owned(),
                version: p.version(),
            }),
            sync_interval_seconds,
            protection: policy.map(|p| protection(p.settings())),
            license: license.map(LicenseGrant::from),
            password_requirements: android.password_requirements,
            camera_access: android.camera_access,
            status_reporting_settings: android.status_reporting_settings,
            applications: android.applications,
        })
    }

    /// The compact canonical JSON the content version is computed over.
    pub fn canonical_json(&self) -> Result<Vec<u8>, AndroidError> {
        serde_json::to_vec(self).map_err(|e| AndroidError::Render {
            reason: e.to_string(),
        })
    }

    /// Indented JSON, for people and snapshots.
    pub fn to_json_pretty(&self) -> Result<String, AndroidError> {
        serde_json::to_string_pretty(self).map_err(|e| AndroidError::Render {
            reason: e.to_string(),
        })
    }

    /// Reads a document (the agent's side).
    pub fn parse(json: &[u8]) -> Result<Self, AndroidError> {
        serde_json::from_slice(json).map_err(|e| AndroidError::Render {
            reason: format!("configuration JSON: {e}"),
        })
    }

    /// Renders with its content version.
    pub fn rendered(self) -> Result<RenderedConfiguration, AndroidError> {
        let version = ContentVersion::of_json(&self.canonical_json()?);
        Ok(RenderedConfiguration {
            version,
            document: Arc::new(self),
        })
    }
}

fn protection(settings: &PolicySettings) -> ProtectionConfiguration {
    let ScanSettings {
        detect_adware,
        detect_auto_dialers,
        detect_riskware,
        scan_apps,
    } = settings.scan;
    ProtectionConfiguration {
        definitions_source: match settings.update_source {
            UpdateSource::VendorServers => DefinitionsSource::VendorServers,
            UpdateSource::AdministrationServer => DefinitionsSource::AdministrationServer,
        },
        definitions_schedule: match settings.update_schedule {
            UpdateSchedule::Off => DefinitionsSchedule::Off,
            UpdateSchedule::Daily { at } => DefinitionsSchedule::Daily { time: at },
            UpdateSchedule::Weekly { day, at } => DefinitionsSchedule::Weekly {
                day: day.into(),
                time: at,
            },
        },
        detect_adware,
        detect_auto_dialers,
        detect_riskware,
        scan_apps,
        action_on_threat: match settings.threat_action {
            ThreatAction::Quarantine => ActionOnThreat::Quarantine,
            ThreatAction::Delete => ActionOnThreat::Delete,
            ThreatAction::Report => ActionOnThreat::Report,
        },
        scan_after_update: settings.scan_after_update,
    }
}

/// `HH:MM` (or `HH:MM:SS` when the seconds are not zero).
mod time_of_day {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Time;

    pub(super) fn serialize<S: Serializer>(time: &Time, serializer: S) -> Result<S::Ok, S::Error> {
        let text = if time.second() == 0 {
            format!("{:02}:{:02}", time.hour(), time.minute())
        } else {
            format!(
                "{:02}:{:02}:{:02}",
                time.hour(),
                time.minute(),
                time.second()
            )
        };
        serializer.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Time, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let mut parts = text.split(':').map(|p| {
            if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse::<u8>().ok()
            } else {
                None
            }
        });
        let invalid =
            || serde::de::Error::custom(format!("time {text:?} is not HH:MM or HH:MM:SS"));
        let hour = parts.next().flatten().ok_or_else(invalid)?;
        let minute = parts.next().flatten().ok_or_else(invalid)?;
        let second = match parts.next() {
            None => 0,
            Some(s) => s.ok_or_else(invalid)?,
        };
        if parts.next().is_some() {
            return Err(invalid());
        }
        Time::from_hms(hour, minute, second).map_err(|_| invalid())
    }
}

/// AMAPI durations: decimal seconds with an `s` suffix (`"3600s"`).
mod amapi_duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_str(&format!("{}s", d.whole_seconds())),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.map(|t| {
            t.strip_suffix('s')
                .and_then(|n| n.parse::<i64>().ok())
                .map(Duration::seconds)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("duration {t:?} is not like \"3600s\""))
                })
        })
        .transpose()
    }
}
