//! The response side of each command, read from an `Acknowledged` report.

use super::RequestType;
use crate::error::{AppleError, Result};
use crate::fields::Fields;
use crate::message::{CommandReport, ErrorChainItem};
use crate::value::{PlistDictionary, PlistValue};

fn check_type(report: &CommandReport, expected: RequestType) -> Result<()> {
    match &report.request_type {
        Some(found) if *found != expected => Err(AppleError::ResponseTypeMismatch {
            expected: expected.as_str().to_owned(),
            found: found.as_str().to_owned(),
        }),
        _ => Ok(()),
    }
}

/// `DeviceInformation` response: `QueryResponses`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInformationResponse {
    /// Every attribute the device answered, as sent.
    pub query_responses: PlistDictionary,
}

impl DeviceInformationResponse {
    /// Reads the response.
    ///
    /// # Errors
    /// Missing or wrong-typed `QueryResponses`, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::DeviceInformation)?;
        let f = Fields::new(&report.response, "DeviceInformation response");
        let q = f
            .opt_dict("QueryResponses")?
            .ok_or(AppleError::MissingField {
                message: "DeviceInformation response",
                key: "QueryResponses",
            })?;
        Ok(Self {
            query_responses: q.clone(),
        })
    }

    /// A string attribute (`UDID`, `DeviceName`, `OSVersion`, `SerialNumber`, …).
    pub fn string(&self, key: &str) -> Option<&str> {
        self.query_responses
            .get(key)
            .and_then(PlistValue::as_string)
    }

    /// A boolean attribute (`IsSupervised`, …).
    pub fn boolean(&self, key: &str) -> Option<bool> {
        self.query_responses
            .get(key)
            .and_then(PlistValue::as_boolean)
    }

    /// A numeric attribute (`DeviceCapacity`, `BatteryLevel`, …) as f64.
    #[allow(clippy::cast_precision_loss)]
    pub fn number(&self, key: &str) -> Option<f64> {
        let v = self.query_responses.get(key)?;
        v.as_real()
            .or_else(|| v.as_signed_integer().map(|i| i as f64))
    }
}

/// `SecurityInfo` response: the typed subset most servers act on, plus the
/// whole dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityInfoResponse {
    /// `HardwareEncryptionCaps` (1 block-level, 2 file-level, 3 both).
    pub hardware_encryption_caps: Option<i64>,
    /// `PasscodePresent`.
    pub passcode_present: Option<bool>,
    /// `PasscodeCompliant`.
    pub passcode_compliant: Option<bool>,
    /// `PasscodeCompliantWithProfiles`.
    pub passcode_compliant_with_profiles: Option<bool>,
    /// The whole `SecurityInfo` dictionary.
    pub all: PlistDictionary,
}

impl SecurityInfoResponse {
    /// Reads the response.
    ///
    /// # Errors
    /// Missing or wrong-typed keys, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::SecurityInfo)?;
        let f = Fields::new(&report.response, "SecurityInfo response");
        let d = f
            .opt_dict("SecurityInfo")?
            .ok_or(AppleError::MissingField {
                message: "SecurityInfo response",
                key: "SecurityInfo",
            })?;
        let s = Fields::new(d, "SecurityInfo");
        Ok(Self {
            hardware_encryption_caps: s.opt_int("HardwareEncryptionCaps")?,
            passcode_present: s.opt_bool("PasscodePresent")?,
            passcode_compliant: s.opt_bool("PasscodeCompliant")?,
            passcode_compliant_with_profiles: s.opt_bool("PasscodeCompliantWithProfiles")?,
            all: d.clone(),
        })
    }
}

/// A payload inside an installed profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPayload {
    /// `PayloadType`.
    pub payload_type: String,
    /// `PayloadIdentifier`.
    pub identifier: String,
    /// `PayloadUUID`.
    pub uuid: Option<String>,
    /// `PayloadDisplayName`.
    pub display_name: Option<String>,
}

/// A profile installed on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledProfile {
    /// `PayloadIdentifier`.
    pub identifier: String,
    /// `PayloadUUID`.
    pub uuid: Option<String>,
    /// `PayloadDisplayName`.
    pub display_name: Option<String>,
    /// `PayloadVersion`.
    pub version: Option<i64>,
    /// `IsManaged`: installed by MDM.
    pub is_managed: Option<bool>,
    /// `IsEncrypted`.
    pub is_encrypted: Option<bool>,
    /// `SignerCertificates` (DER).
    pub signer_certificates: Vec<Vec<u8>>,
    /// `PayloadContent`.
    pub payloads: Vec<InstalledPayload>,
}

/// `ProfileList` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileListResponse {
    /// `ProfileList`.
    pub profiles: Vec<InstalledProfile>,
}

impl ProfileListResponse {
    /// Reads the response.
    ///
    /// # Errors
    /// Missing or wrong-typed keys, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::ProfileList)?;
        let f = Fields::new(&report.response, "ProfileList response");
        let mut profiles = Vec::new();
        for d in f.opt_dict_array("ProfileList")? {
            let p = Fields::new(d, "ProfileList item");
            let mut payloads = Vec::new();
            for pd in p.opt_dict_array("PayloadContent")? {
                let pf = Fields::new(pd, "ProfileList payload");
                payloads.push(InstalledPayload {
                    payload_type: pf.req_str("PayloadType")?.to_owned(),
                    identifier: pf.req_str("PayloadIdentifier")?.to_owned(),
                    uuid: pf.opt_string("PayloadUUID")?,
                    display_name: pf.opt_string("PayloadDisplayName")?,
                });
            }
            let signer_certificates = match p.opt_array("SignerCertificates")? {
                None => Vec::new(),
                Some(a) => a
                    .iter()
                    .map(|v| {
                        v.as_data()
                            .map(<[u8]>::to_vec)
                            .ok_or(AppleError::WrongType {
                                message: "ProfileList item",
                                key: "SignerCertificates".into(),
                                expected: "an array of data",
                            })
                    })
                    .collect::<Result<_>>()?,
            };
            profiles.push(InstalledProfile {
                identifier: p.req_str("PayloadIdentifier")?.to_owned(),
                uuid: p.opt_string("PayloadUUID")?,
                display_name: p.opt_string("PayloadDisplayName")?,
                version: p.opt_int("PayloadVersion")?,
                is_managed: p.opt_bool("IsManaged")?,
                is_encrypted: p.opt_bool("IsEncrypted")?,
                signer_certificates,
                payloads,
            });
        }
        Ok(Self { profiles })
    }
}

/// `DeviceLock` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLockResponse {
    /// `MessageResult` (`Success`, `DeviceInLostMode`, `NoPasscodeSet`, `Unknown`), if any.
    pub message_result: Option<String>,
}

impl DeviceLockResponse {
    /// Reads the response.
    ///
    /// # Errors
    /// A wrong-typed key, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::DeviceLock)?;
        let f = Fields::new(&report.response, "DeviceLock response");
        Ok(Self {
            message_result: f.opt_string("MessageResult")?,
        })
    }
}

/// An app installed on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledApplication {
    /// `Identifier` (bundle id).
    pub identifier: String,
    /// `Name`.
    pub name: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `ShortVersion`.
    pub short_version: Option<String>,
    /// `BundleSize` in bytes.
    pub bundle_size: Option<f64>,
    /// `DynamicSize` in bytes.
    pub dynamic_size: Option<f64>,
    /// `IsValidated`.
    pub is_validated: Option<bool>,
    /// `Installing`.
    pub installing: Option<bool>,
}

/// `InstalledApplicationList` response.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledApplicationListResponse {
    /// `InstalledApplicationList`.
    pub applications: Vec<InstalledApplication>,
}

impl InstalledApplicationListResponse {
    /// Reads the response.
    ///
    /// # Errors
    /// Missing or wrong-typed keys, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::InstalledApplicationList)?;
        let f = Fields::new(&report.response, "InstalledApplicationList response");
        let applications = f
            .opt_dict_array("InstalledApplicationList")?
            .into_iter()
            .map(|d| {
                let a = Fields::new(d, "InstalledApplicationList item");
                Ok(InstalledApplication {
                    identifier: a.req_str("Identifier")?.to_owned(),
                    name: a.opt_string("Name")?,
                    version: a.opt_string("Version")?,
                    short_version: a.opt_string("ShortVersion")?,
                    bundle_size: a.opt_number("BundleSize")?,
                    dynamic_size: a.opt_number("DynamicSize")?,
                    is_validated: a.opt_bool("IsValidated")?,
                    installing: a.opt_bool("Installing")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { applications })
    }
}

/// `State` of an app installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppInstallState {
    /// `Queued`.
    Queued,
    /// `PromptingForConsent`.
    PromptingForConsent,
    /// `PromptingForLogin`.
    PromptingForLogin,
    /// `Installing`.
    Installing,
    /// `Managed`: installed and managed.
    Managed,
    /// `Failed`.
    Failed,
    /// Anything else.
    Other(String),
}

impl AppInstallState {
    fn parse(s: &str) -> Self {
        match s {
            "Queued" => Self::Queued,
            "PromptingForConsent" => Self::PromptingForConsent,
            "PromptingForLogin" => Self::PromptingForLogin,
            "Installing" => Self::Installing,
            "Managed" => Self::Managed,
            "Failed" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// `InstallApplication` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallApplicationResponse {
    /// `Identifier`.
    pub identifier: Option<String>,
    /// `State`.
    pub state: Option<AppInstallState>,
    /// `RejectionReason`.
    pub rejection_reason: Option<String>,
}

impl InstallApplicationResponse {
    /// Reads the response.
    ///
    /// # Errors
    /// Wrong-typed keys, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::InstallApplication)?;
        let f = Fields::new(&report.response, "InstallApplication response");
        Ok(Self {
            identifier: f.opt_string("Identifier")?,
            state: f.opt_str("State")?.map(AppInstallState::parse),
            rejection_reason: f.opt_string("RejectionReason")?,
        })
    }
}

/// A certificate installed on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledCertificate {
    /// `CommonName`.
    pub common_name: Option<String>,
    /// `IsIdentity`: has a private key.
    pub is_identity: Option<bool>,
    /// `Data`: the DER certificate.
    pub data: Vec<u8>,
}

/// `CertificateList` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateListResponse {
    /// `CertificateList`.
    pub certificates: Vec<InstalledCertificate>,
}

impl CertificateListResponse {
    /// Reads the response.
    ///
    /// # Errors
    /// Missing or wrong-typed keys, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::CertificateList)?;
        let f = Fields::new(&report.response, "CertificateList response");
        let certificates = f
            .opt_dict_array("CertificateList")?
            .into_iter()
            .map(|d| {
                let c = Fields::new(d, "CertificateList item");
                Ok(InstalledCertificate {
                    common_name: c.opt_string("CommonName")?,
                    is_identity: c.opt_bool("IsIdentity")?,
                    data: c.req_data("Data")?.to_vec(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { certificates })
    }
}

/// The outcome of one item of a `Settings` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingResult {
    /// `Item`, when echoed.
    pub item: Option<String>,
    /// `Status` (`Acknowledged` or `Error`).
    pub status: String,
    /// `ErrorChain`.
    pub error_chain: Vec<ErrorChainItem>,
}

/// `Settings` response: one result per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsResponse {
    /// `Settings`.
    pub results: Vec<SettingResult>,
}

impl SettingsResponse {
    /// Reads the response (an array of per-item results; absent = none reported).
    ///
    /// # Errors
    /// Wrong-typed keys, or a report of another type.
    pub fn from_report(report: &CommandReport) -> Result<Self> {
        check_type(report, RequestType::Settings)?;
        let f = Fields::new(&report.response, "Settings response");
        let results = f
            .opt_dict_array("Settings")?
            .into_iter()
            .map(|d| {
                let s = Fields::new(d, "Settings item");
                Ok(SettingResult {
                    item: s.opt_string("Item")?,
                    status: s.req_str("Status")?.to_owned(),
                    error_chain: s
                        .opt_dict_array("ErrorChain")?
                        .into_iter()
                        .map(ErrorChainItem::read)
                        .collect::<Result<_>>()?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { results })
    }
}

/// A command's typed result.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CommandResult {
    /// `DeviceInformation`.
    DeviceInformation(DeviceInformationResponse),
    /// `SecurityInfo`.
    SecurityInfo(SecurityInfoResponse),
    /// `ProfileList`.
    ProfileList(ProfileListResponse),
    /// `DeviceLock`.
    DeviceLock(DeviceLockResponse),
    /// `InstalledApplicationList`.
    InstalledApplicationList(InstalledApplicationListResponse),
    /// `InstallApplication`.
    InstallApplication(InstallApplicationResponse),
    /// `CertificateList`.
    CertificateList(CertificateListResponse),
    /// `Settings`.
    Settings(SettingsResponse),
    /// A command whose response has no keys (`InstallProfile`, `RemoveProfile`,
    /// `EraseDevice`, `ClearPasscode`, `RestartDevice`, `ShutDownDevice`,
    /// `RemoveApplication`) or a request type this crate does not model.
    Done(RequestType),
}

impl CommandResult {
    /// Reads an `Acknowledged` report as the result of a command of
    /// `request_type` (which the server knows from its queue; the device
    /// does not always echo `RequestType`).
    ///
    /// # Errors
    /// The response type's errors, or [`AppleError::ResponseTypeMismatch`].
    pub fn parse(request_type: &RequestType, report: &CommandReport) -> Result<Self> {
        Ok(match request_type {
            RequestType::DeviceInformation => {
                Self::DeviceInformation(DeviceInformationResponse::from_report(report)?)
            }
            RequestType::SecurityInfo => {
                Self::SecurityInfo(SecurityInfoResponse::from_report(report)?)
            }
            RequestType::ProfileList => {
                Self::ProfileList(ProfileListResponse::from_report(report)?)
            }
            RequestType::DeviceLock => Self::DeviceLock(DeviceLockResponse::from_report(report)?),
            RequestType::InstalledApplicationList => Self::InstalledApplicationList(
                InstalledApplicationListResponse::from_report(report)?,
            ),
            RequestType::InstallApplication => {
                Self::InstallApplication(InstallApplicationResponse::from_report(report)?)
            }
            RequestType::CertificateList => {
                Self::CertificateList(CertificateListResponse::from_report(report)?)
            }
            RequestType::Settings => Self::Settings(SettingsResponse::from_report(report)?),
            other => {
                check_type(report, other.clone())?;
                Self::Done(other.clone())
            }
        })
    }
}
