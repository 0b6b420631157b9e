//! Device → server messages (R-IO-2): check-ins (`MessageType`) and
//! command reports (`Status`). One type per message, nanomdm style; a
//! single [`decode`] dispatches on the keys. Malformed, truncated or
//! wrong-typed plists are typed errors, never panics.

mod checkin;
mod report;
mod tokens;
mod user_channel;

use std::fmt;
use std::ops::Deref;

use crate::error::{AppleError, Result};
use crate::fields::{Fields, RedactedBytes};
use crate::value::parse_dictionary;

pub use checkin::{
    Authenticate, CheckOut, PushMagic, PushToken, TokenUpdate, UnlockToken, UserChannel,
};
pub use report::{CommandReport, CommandStatus, ErrorChainItem};
pub use tokens::{BootstrapToken, GetBootstrapToken, GetToken, SetBootstrapToken};
pub use user_channel::{DeclarativeManagement, UserAuthenticate};

/// Which enrollment a message belongs to: a device enrollment's `UDID`, or
/// a user enrollment's `EnrollmentID`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppleDeviceId {
    /// `UDID`.
    Udid(String),
    /// `EnrollmentID` (user enrollment).
    EnrollmentId(String),
}

impl AppleDeviceId {
    /// The id string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Udid(s) | Self::EnrollmentId(s) => s,
        }
    }

    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        match (f.opt_str("UDID")?, f.opt_str("EnrollmentID")?) {
            (Some(u), _) if !u.is_empty() => Ok(Self::Udid(u.to_owned())),
            (_, Some(e)) if !e.is_empty() => Ok(Self::EnrollmentId(e.to_owned())),
            _ => Err(AppleError::MissingField {
                message: f.message,
                key: "UDID",
            }),
        }
    }

    pub(crate) fn write(&self, w: &mut crate::fields::DictWriter) {
        match self {
            Self::Udid(u) => w.put("UDID", u.as_str()),
            Self::EnrollmentId(e) => w.put("EnrollmentID", e.as_str()),
        };
    }
}

impl std::fmt::Display for AppleDeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed message kept beside the exact bytes the device sent (for
/// audit, webhooks, or re-verifying a signature). `Debug` shows the parsed
/// message (whose secrets redact themselves) and only the length of the
/// raw body, which holds `PushMagic`, `Token` and `UnlockToken` in clear.
#[derive(Clone, PartialEq)]
pub struct Received<T> {
    /// The parsed message.
    pub message: T,
    /// The raw request body.
    pub raw: Vec<u8>,
}

impl<T: fmt::Debug> fmt::Debug for Received<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("message", &self.message)
            .field("raw", &RedactedBytes(self.raw.len()))
            .finish()
    }
}

impl<T> Deref for Received<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.message
    }
}

/// Any message a device PUTs to the server. `Debug` never shows a raw body.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum DeviceMessage {
    /// `Authenticate` check-in.
    Authenticate(Received<Authenticate>),
    /// `TokenUpdate` check-in.
    TokenUpdate(Received<TokenUpdate>),
    /// `CheckOut` check-in.
    CheckOut(Received<CheckOut>),
    /// `UserAuthenticate` check-in (macOS user channel).
    UserAuthenticate(Received<UserAuthenticate>),
    /// `SetBootstrapToken` check-in.
    SetBootstrapToken(Received<SetBootstrapToken>),
    /// `GetBootstrapToken` check-in.
    GetBootstrapToken(Received<GetBootstrapToken>),
    /// `GetToken` check-in.
    GetToken(Received<GetToken>),
    /// `DeclarativeManagement` check-in.
    DeclarativeManagement(Received<DeclarativeManagement>),
    /// A check-in type this crate does not model: data, not an error
    /// (the service refuses it as [`AppleError::UnknownMessageType`]).
    OtherCheckin {
        /// Its `MessageType`.
        message_type: String,
        /// The raw body.
        raw: Vec<u8>,
    },
    /// A command report (`Status` = `Idle`, `Acknowledged`, …).
    Report(Received<CommandReport>),
}

impl fmt::Debug for DeviceMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Authenticate(m) => f.debug_tuple("Authenticate").field(m).finish(),
            Self::TokenUpdate(m) => f.debug_tuple("TokenUpdate").field(m).finish(),
            Self::CheckOut(m) => f.debug_tuple("CheckOut").field(m).finish(),
            Self::UserAuthenticate(m) => f.debug_tuple("UserAuthenticate").field(m).finish(),
            Self::SetBootstrapToken(m) => f.debug_tuple("SetBootstrapToken").field(m).finish(),
            Self::GetBootstrapToken(m) => f.debug_tuple("GetBootstrapToken").field(m).finish(),
            Self::GetToken(m) => f.debug_tuple("GetToken").field(m).finish(),
            Self::DeclarativeManagement(m) => {
                f.debug_tuple("DeclarativeManagement").field(m).finish()
            }
            Self::OtherCheckin { message_type, raw } => f
                .debug_struct("OtherCheckin")
                .field("message_type", message_type)
                .field("raw", &RedactedBytes(raw.len()))
                .finish(),
            Self::Report(m) => f.debug_tuple("Report").field(m).finish(),
        }
    }
}

impl DeviceMessage {
    /// The device the message names (`None` for an unmodelled check-in).
    pub fn device(&self) -> Option<&AppleDeviceId> {
        Some(match self {
            Self::Authenticate(m) => &m.device,
            Self::TokenUpdate(m) => &m.device,
            Self::CheckOut(m) => &m.device,
            Self::UserAuthenticate(m) => &m.device,
            Self::SetBootstrapToken(m) => &m.device,
            Self::GetBootstrapToken(m) => &m.device,
            Self::GetToken(m) => &m.device,
            Self::DeclarativeManagement(m) => &m.device,
            Self::Report(m) => &m.device,
            Self::OtherCheckin { .. } => return None,
        })
    }

    /// The check-in's `MessageType`, or `"command report"`.
    pub fn kind(&self) -> &str {
        match self {
            Self::Authenticate(_) => "Authenticate",
            Self::TokenUpdate(_) => "TokenUpdate",
            Self::CheckOut(_) => "CheckOut",
            Self::UserAuthenticate(_) => "UserAuthenticate",
            Self::SetBootstrapToken(_) => "SetBootstrapToken",
            Self::GetBootstrapToken(_) => "GetBootstrapToken",
            Self::GetToken(_) => "GetToken",
            Self::DeclarativeManagement(_) => "DeclarativeManagement",
            Self::OtherCheckin { message_type, .. } => message_type,
            Self::Report(_) => "command report",
        }
    }
}

/// Decodes a device's request body (XML or binary plist): check-ins by
/// `MessageType`, command reports by `Status`.
///
/// # Errors
/// [`AppleError::MalformedPlist`], [`AppleError::NotADictionary`],
/// [`AppleError::MissingField`], [`AppleError::WrongType`],
/// [`AppleError::InvalidTopic`], [`AppleError::UnknownMessage`].
pub fn decode(bytes: &[u8]) -> Result<DeviceMessage> {
    let dict = parse_dictionary(bytes, "device message")?;
    let raw = || bytes.to_vec();
    if dict.contains_key("MessageType") {
        let f = Fields::new(&dict, "check-in");
        let message_type = f.req_str("MessageType")?;
        Ok(match message_type {
            "Authenticate" => DeviceMessage::Authenticate(Received {
                message: Authenticate::read(&Fields::new(&dict, "Authenticate"))?,
                raw: raw(),
            }),
            "TokenUpdate" => DeviceMessage::TokenUpdate(Received {
                message: TokenUpdate::read(&Fields::new(&dict, "TokenUpdate"))?,
                raw: raw(),
            }),
            "CheckOut" => DeviceMessage::CheckOut(Received {
                message: CheckOut::read(&Fields::new(&dict, "CheckOut"))?,
                raw: raw(),
            }),
            "UserAuthenticate" => DeviceMessage::UserAuthenticate(Received {
                message: UserAuthenticate::read(&Fields::new(&dict, "UserAuthenticate"))?,
                raw: raw(),
            }),
            "SetBootstrapToken" => DeviceMessage::SetBootstrapToken(Received {
                message: SetBootstrapToken::read(&Fields::new(&dict, "SetBootstrapToken"))?,
                raw: raw(),
            }),
            "GetBootstrapToken" => DeviceMessage::GetBootstrapToken(Received {
                message: GetBootstrapToken::read(&Fields::new(&dict, "GetBootstrapToken"))?,
                raw: raw(),
            }),
            "GetToken" => DeviceMessage::GetToken(Received {
                message: GetToken::read(&Fields::new(&dict, "GetToken"))?,
                raw: raw(),
            }),
            "DeclarativeManagement" => DeviceMessage::DeclarativeManagement(Received {
                message: DeclarativeManagement::read(&Fields::new(&dict, "DeclarativeManagement"))?,
                raw: raw(),
            }),
            other => DeviceMessage::OtherCheckin {
                message_type: other.to_owned(),
                raw: raw(),
            },
        })
    } else if dict.contains_key("Status") {
        Ok(DeviceMessage::Report(Received {
            message: CommandReport::read(&Fields::new(&dict, "command report"))?,
            raw: raw(),
        }))
    } else {
        Err(AppleError::UnknownMessage)
    }
}
