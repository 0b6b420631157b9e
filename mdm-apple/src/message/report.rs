//! Command reports: what a device PUTs to `ServerURL` — `Idle` to ask for
//! work, or the outcome of a command with its `CommandUUID`.

use super::{AppleDeviceId, UserChannel};
use crate::command::RequestType;
use crate::error::{AppleError, Result};
use crate::fields::{DictWriter, Fields};
use crate::ids::CommandUuid;
use crate::value::{PlistDictionary, PlistValue, dictionary_to_xml};

/// A report's `Status`. Unknown strings are data (`Other`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommandStatus {
    /// `Idle`: no result, the device asks for the next command.
    Idle,
    /// `Acknowledged`: done; response keys attached.
    Acknowledged,
    /// `Error`: failed; see `ErrorChain`.
    Error,
    /// `CommandFormatError`: the command was malformed.
    CommandFormatError,
    /// `NotNow`: cannot run now; the device will come back.
    NotNow,
    /// Anything else.
    Other(String),
}

impl CommandStatus {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Idle => "Idle",
            Self::Acknowledged => "Acknowledged",
            Self::Error => "Error",
            Self::CommandFormatError => "CommandFormatError",
            Self::NotNow => "NotNow",
            Self::Other(s) => s,
        }
    }

    /// Reads a wire string.
    pub fn parse(s: &str) -> Self {
        match s {
            "Idle" => Self::Idle,
            "Acknowledged" => Self::Acknowledged,
            "Error" => Self::Error,
            "CommandFormatError" => Self::CommandFormatError,
            "NotNow" => Self::NotNow,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether this status ends the command (it leaves the queue).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Acknowledged | Self::Error | Self::CommandFormatError
        )
    }
}

/// One entry of an `ErrorChain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorChainItem {
    /// `ErrorCode`.
    pub error_code: i64,
    /// `ErrorDomain`.
    pub error_domain: String,
    /// `LocalizedDescription`.
    pub localized_description: Option<String>,
    /// `USEnglishDescription`.
    pub us_english_description: Option<String>,
}

impl ErrorChainItem {
    pub(crate) fn read(d: &PlistDictionary) -> Result<Self> {
        let f = Fields::new(d, "ErrorChain item");
        Ok(Self {
            error_code: f.opt_int("ErrorCode")?.ok_or(AppleError::MissingField {
                message: "ErrorChain item",
                key: "ErrorCode",
            })?,
            error_domain: f.req_str("ErrorDomain")?.to_owned(),
            localized_description: f.opt_string("LocalizedDescription")?,
            us_english_description: f.opt_string("USEnglishDescription")?,
        })
    }

    pub(crate) fn to_value(&self) -> PlistValue {
        let mut w = DictWriter::new();
        w.put("ErrorCode", self.error_code)
            .put("ErrorDomain", self.error_domain.as_str())
            .opt("LocalizedDescription", self.localized_description.clone())
            .opt("USEnglishDescription", self.us_english_description.clone());
        w.finish().into()
    }
}

/// Keys of a report that are not response keys.
const ENVELOPE_KEYS: [&str; 10] = [
    "UDID",
    "EnrollmentID",
    "UserID",
    "UserShortName",
    "UserLongName",
    "EnrollmentUserID",
    "Status",
    "CommandUUID",
    "ErrorChain",
    "RequestType",
];

/// A command report. Response keys stay in `response` (top-level keys
/// other than the envelope); read them typed with
/// [`crate::CommandResult::parse`] or a response type's `from_report`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandReport {
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
    /// User-channel keys, when the report is on the user channel.
    pub user: Option<UserChannel>,
    /// `Status`.
    pub status: CommandStatus,
    /// `CommandUUID` (absent only for `Idle`).
    pub command_uuid: Option<CommandUuid>,
    /// `ErrorChain` (with `Error`).
    pub error_chain: Vec<ErrorChainItem>,
    /// `RequestType`, when the device echoes it.
    pub request_type: Option<RequestType>,
    /// Every other top-level key: the command's response.
    pub response: PlistDictionary,
}

impl CommandReport {
    /// An `Idle` report: the device asks for work.
    pub fn idle(device: AppleDeviceId) -> Self {
        Self {
            device,
            user: None,
            status: CommandStatus::Idle,
            command_uuid: None,
            error_chain: Vec::new(),
            request_type: None,
            response: PlistDictionary::new(),
        }
    }

    /// A report on a command, with response keys (empty for most commands).
    pub fn result(
        device: AppleDeviceId,
        uuid: CommandUuid,
        status: CommandStatus,
        response: PlistDictionary,
    ) -> Self {
        Self {
            device,
            user: None,
            status,
            command_uuid: Some(uuid),
            error_chain: Vec::new(),
            request_type: None,
            response,
        }
    }

    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        let status = CommandStatus::parse(f.req_str("Status")?);
        let command_uuid = match f.opt_str("CommandUUID")? {
            Some(u) if !u.is_empty() => Some(CommandUuid::new(u)?),
            _ if status == CommandStatus::Idle => None,
            _ => {
                return Err(AppleError::MissingField {
                    message: f.message,
                    key: "CommandUUID",
                });
            }
        };
        let error_chain = f
            .opt_dict_array("ErrorChain")?
            .into_iter()
            .map(ErrorChainItem::read)
            .collect::<Result<_>>()?;
        let mut response = PlistDictionary::new();
        for (k, v) in f.dict {
            if !ENVELOPE_KEYS.contains(&k) {
                response.insert(k, v.clone());
            }
        }
        Ok(Self {
            device: AppleDeviceId::read(f)?,
            user: UserChannel::read(f)?,
            status,
            command_uuid,
            error_chain,
            request_type: f.opt_str("RequestType")?.map(RequestType::parse),
            response,
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        for (k, v) in &self.response {
            w.put(k, v.clone());
        }
        self.device.write(&mut w);
        if let Some(u) = &self.user {
            u.write(&mut w);
        }
        w.put("Status", self.status.as_str())
            .opt(
                "CommandUUID",
                self.command_uuid.as_ref().map(CommandUuid::as_str),
            )
            .opt(
                "RequestType",
                self.request_type.as_ref().map(RequestType::as_str),
            );
        if !self.error_chain.is_empty() {
            w.put(
                "ErrorChain",
                self.error_chain
                    .iter()
                    .map(ErrorChainItem::to_value)
                    .collect::<Vec<_>>(),
            );
        }
        dictionary_to_xml(&w.finish())
    }
}
