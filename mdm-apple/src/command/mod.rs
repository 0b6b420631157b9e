//! MDM commands (R-IO-2): typed requests that serialise to
//! `{CommandUUID, Command: {RequestType, …}}`, and typed responses read
//! from the device's report.

mod parse;
mod request;
mod response;

use std::fmt;

use crate::error::Result;
use crate::fields::DictWriter;
use crate::ids::CommandUuid;
use crate::value::{PlistDictionary, dictionary_to_xml};

pub use parse::{RawCommand, parse_command};
pub use request::{
    CertificateList, ClearPasscode, Command, DeviceInformation, DeviceLock, EraseDevice,
    InstallApplication, InstallProfile, InstalledApplicationList, ProfileList, RemoveApplication,
    RemoveProfile, RestartDevice, SecurityInfo, Setting, Settings, ShutDownDevice,
};
pub use response::{
    AppInstallState, CertificateListResponse, CommandResult, DeviceInformationResponse,
    DeviceLockResponse, InstallApplicationResponse, InstalledApplication,
    InstalledApplicationListResponse, InstalledCertificate, InstalledPayload, InstalledProfile,
    ProfileListResponse, SecurityInfoResponse, SettingResult, SettingsResponse,
};

/// A command's `RequestType`. Unknown strings from a device are data
/// (`Other`), not an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestType {
    /// `DeviceInformation`.
    DeviceInformation,
    /// `SecurityInfo`.
    SecurityInfo,
    /// `ProfileList`.
    ProfileList,
    /// `InstallProfile`.
    InstallProfile,
    /// `RemoveProfile`.
    RemoveProfile,
    /// `DeviceLock`.
    DeviceLock,
    /// `EraseDevice`.
    EraseDevice,
    /// `ClearPasscode`.
    ClearPasscode,
    /// `RestartDevice`.
    RestartDevice,
    /// `ShutDownDevice`.
    ShutDownDevice,
    /// `InstalledApplicationList`.
    InstalledApplicationList,
    /// `InstallApplication`.
    InstallApplication,
    /// `RemoveApplication`.
    RemoveApplication,
    /// `CertificateList`.
    CertificateList,
    /// `Settings`.
    Settings,
    /// Any other request type.
    Other(String),
}

impl RequestType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::DeviceInformation => "DeviceInformation",
            Self::SecurityInfo => "SecurityInfo",
            Self::ProfileList => "ProfileList",
            Self::InstallProfile => "InstallProfile",
            Self::RemoveProfile => "RemoveProfile",
            Self::DeviceLock => "DeviceLock",
            Self::EraseDevice => "EraseDevice",
            Self::ClearPasscode => "ClearPasscode",
            Self::RestartDevice => "RestartDevice",
            Self::ShutDownDevice => "ShutDownDevice",
            Self::InstalledApplicationList => "InstalledApplicationList",
            Self::InstallApplication => "InstallApplication",
            Self::RemoveApplication => "RemoveApplication",
            Self::CertificateList => "CertificateList",
            Self::Settings => "Settings",
            Self::Other(s) => s,
        }
    }

    /// Reads a wire string.
    pub fn parse(s: &str) -> Self {
        match s {
            "DeviceInformation" => Self::DeviceInformation,
            "SecurityInfo" => Self::SecurityInfo,
            "ProfileList" => Self::ProfileList,
            "InstallProfile" => Self::InstallProfile,
            "RemoveProfile" => Self::RemoveProfile,
            "DeviceLock" => Self::DeviceLock,
            "EraseDevice" => Self::EraseDevice,
            "ClearPasscode" => Self::ClearPasscode,
            "RestartDevice" => Self::RestartDevice,
            "ShutDownDevice" => Self::ShutDownDevice,
            "InstalledApplicationList" => Self::InstalledApplicationList,
            "InstallApplication" => Self::InstallApplication,
            "RemoveApplication" => Self::RemoveApplication,
            "CertificateList" => Self::CertificateList,
            "Settings" => Self::Settings,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A command addressed by its UUID: what the server sends in the body of a
/// "connect" response.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRequest {
    /// `CommandUUID`: how the device's report is matched to this command.
    pub uuid: CommandUuid,
    /// The command.
    pub command: Command,
}

impl CommandRequest {
    /// Pairs a command with its UUID.
    pub fn new(uuid: CommandUuid, command: Command) -> Self {
        Self { uuid, command }
    }

    /// The `{CommandUUID, Command: {RequestType, …}}` dictionary (for a
    /// [`Command::Other`], every top-level key it was read with).
    pub fn to_dictionary(&self) -> PlistDictionary {
        if let Command::Other(raw) = &self.command {
            let mut envelope = raw.envelope().clone();
            envelope.insert("CommandUUID", self.uuid.as_str());
            return envelope;
        }
        let mut inner = DictWriter::new();
        inner.put("RequestType", self.command.request_type().as_str());
        self.command.write(&mut inner);
        let mut outer = DictWriter::new();
        outer
            .put("CommandUUID", self.uuid.as_str())
            .put("Command", inner.finish());
        outer.finish()
    }

    /// The command as an XML plist; a [`Command::Other`] under the
    /// `CommandUUID` it was read with is its bytes as received (XML or
    /// binary), so a command this crate does not model reaches the device
    /// exactly as the client sent it.
    ///
    /// # Errors
    /// [`crate::AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        if let Command::Other(raw) = &self.command
            && let Some(bytes) = raw.bytes_for(&self.uuid)
        {
            return Ok(bytes.to_vec());
        }
        dictionary_to_xml(&self.to_dictionary())
    }
}
