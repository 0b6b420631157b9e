//! The check-in messages that make an enrollment: `Authenticate`,
//! `TokenUpdate`, `CheckOut`. Each can be read from a device's plist and
//! built and serialised as a device would send it (for simulators).

use std::fmt;

use subtle::ConstantTimeEq;

use super::AppleDeviceId;
use crate::error::{AppleError, Result};
use crate::fields::{DictWriter, Fields};
use mdm_model::PushTopic;

use crate::ids::read_topic;
use crate::value::dictionary_to_xml;

fn topic(f: &Fields<'_>) -> Result<PushTopic> {
    read_topic(f.req_str("Topic")?)
}

/// The device's APNs token (`Token`), raw bytes; hex-encoded in push URLs.
/// `Debug` shows its length only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PushToken(Vec<u8>);

impl PushToken {
    /// Wraps token bytes (1 to 100 bytes; today's tokens are 32).
    ///
    /// # Errors
    /// [`AppleError::InvalidPushToken`] otherwise.
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        if bytes.is_empty() || bytes.len() > 100 {
            return Err(AppleError::InvalidPushToken { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex, as APNs URLs want it.
    pub fn to_hex(&self) -> String {
        let mut hex = String::with_capacity(2 * self.0.len());
        self.write_hex(&mut hex);
        hex
    }

    /// Appends the lower-case hex to `out` (a push path is built once per
    /// push, so without an intermediate string).
    pub(crate) fn write_hex(&self, out: &mut String) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for &byte in &self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
    }
}

impl fmt::Debug for PushToken {
    /// Shows the length only: with the push certificate, the token is what
    /// lets anyone wake the device.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushToken(<{} bytes redacted>)", self.0.len())
    }
}

/// The `PushMagic` string a push must carry for the device to act on it.
/// Compared in constant time; `Debug` hides it.
#[derive(Clone)]
pub struct PushMagic(String);

impl PushMagic {
    /// Wraps a push magic (non-empty).
    ///
    /// # Errors
    /// [`AppleError::MissingField`] when empty.
    pub fn new(magic: impl Into<String>) -> Result<Self> {
        let magic = magic.into();
        if magic.is_empty() {
            return Err(AppleError::MissingField {
                message: "TokenUpdate",
                key: "PushMagic",
            });
        }
        Ok(Self(magic))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for PushMagic {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}
impl Eq for PushMagic {}

impl fmt::Debug for PushMagic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PushMagic(<redacted>)")
    }
}

/// The `UnlockToken` a device escrows for `ClearPasscode`. A secret:
/// `Debug` hides it, equality is constant-time.
#[derive(Clone)]
pub struct UnlockToken(Vec<u8>);

impl UnlockToken {
    /// Wraps token bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The raw bytes (to put in a `ClearPasscode` command).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for UnlockToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for UnlockToken {}

impl fmt::Debug for UnlockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnlockToken(<{} bytes redacted>)", self.0.len())
    }
}

/// The user-channel keys of a message sent on behalf of a user (macOS
/// user channel, Shared iPad). Absent on the device channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChannel {
    /// `UserID`.
    pub user_id: Option<String>,
    /// `UserShortName`.
    pub user_short_name: Option<String>,
    /// `UserLongName`.
    pub user_long_name: Option<String>,
    /// `EnrollmentUserID` (user enrollment).
    pub enrollment_user_id: Option<String>,
}

impl UserChannel {
    pub(crate) fn read(f: &Fields<'_>) -> Result<Option<Self>> {
        let u = Self {
            user_id: f.opt_string("UserID")?,
            user_short_name: f.opt_string("UserShortName")?,
            user_long_name: f.opt_string("UserLongName")?,
            enrollment_user_id: f.opt_string("EnrollmentUserID")?,
        };
        Ok((u != Self::default()).then_some(u))
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        w.opt("UserID", self.user_id.clone())
            .opt("UserShortName", self.user_short_name.clone())
            .opt("UserLongName", self.user_long_name.clone())
            .opt("EnrollmentUserID", self.enrollment_user_id.clone());
    }
}

/// `Authenticate`: the device installed the MDM payload and introduces
/// itself. The enrollment is not active until the first `TokenUpdate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    /// `Topic`.
    pub topic: PushTopic,
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `OSVersion`.
    pub os_version: Option<String>,
    /// `BuildVersion`.
    pub build_version: Option<String>,
    /// `ProductName` (e.g. `iPad2,5`).
    pub product_name: Option<String>,
    /// `Model` (macOS).
    pub model: Option<String>,
    /// `ModelName` (macOS).
    pub model_name: Option<String>,
    /// `DeviceName` (macOS).
    pub device_name: Option<String>,
    /// `IMEI`.
    pub imei: Option<String>,
    /// `MEID`.
    pub meid: Option<String>,
}

impl Authenticate {
    /// A minimal Authenticate for a device enrollment.
    pub fn new(topic: PushTopic, device: AppleDeviceId) -> Self {
        Self {
            topic,
            device,
            serial_number: None,
            os_version: None,
            build_version: None,
            product_name: None,
            model: None,
            model_name: None,
            device_name: None,
            imei: None,
            meid: None,
        }
    }

    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            topic: topic(f)?,
            device: AppleDeviceId::read(f)?,
            serial_number: f.opt_string("SerialNumber")?,
            os_version: f.opt_string("OSVersion")?,
            build_version: f.opt_string("BuildVersion")?,
            product_name: f.opt_string("ProductName")?,
            model: f.opt_string("Model")?,
            model_name: f.opt_string("ModelName")?,
            device_name: f.opt_string("DeviceName")?,
            imei: f.opt_string("IMEI")?,
            meid: f.opt_string("MEID")?,
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "Authenticate")
            .put("Topic", self.topic.as_str());
        self.device.write(&mut w);
        w.opt("SerialNumber", self.serial_number.clone())
            .opt("OSVersion", self.os_version.clone())
            .opt("BuildVersion", self.build_version.clone())
            .opt("ProductName", self.product_name.clone())
            .opt("Model", self.model.clone())
            .opt("ModelName", self.model_name.clone())
            .opt("DeviceName", self.device_name.clone())
            .opt("IMEI", self.imei.clone())
            .opt("MEID", self.meid.clone());
        dictionary_to_xml(&w.finish())
    }
}

/// `TokenUpdate`: the device's push token, push magic and (for
/// `ClearPasscode`) unlock token. The first one activates the enrollment;
/// later ones replace the stored values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUpdate {
    /// `Topic`.
    pub topic: PushTopic,
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
    /// User-channel keys, when sent for a user.
    pub user: Option<UserChannel>,
    /// `Token`.
    pub token: PushToken,
    /// `PushMagic`.
    pub push_magic: PushMagic,
    /// `UnlockToken`.
    pub unlock_token: Option<UnlockToken>,
    /// `AwaitingConfiguration`: the device waits in Setup Assistant for `DeviceConfigured`.
    pub awaiting_configuration: Option<bool>,
    /// `NotOnConsole` (macOS user channel).
    pub not_on_console: Option<bool>,
}

impl TokenUpdate {
    /// A device-channel TokenUpdate.
    pub fn new(
        topic: PushTopic,
        device: AppleDeviceId,
        token: PushToken,
        push_magic: PushMagic,
    ) -> Self {
        Self {
            topic,
            device,
            user: None,
            token,
            push_magic,
            unlock_token: None,
            awaiting_configuration: None,
            not_on_console: None,
        }
    }

    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            topic: topic(f)?,
            device: AppleDeviceId::read(f)?,
            user: UserChannel::read(f)?,
            token: PushToken::new(f.req_data("Token")?.to_vec())?,
            push_magic: PushMagic::new(f.req_str("PushMagic")?)?,
            unlock_token: f
                .opt_data("UnlockToken")?
                .map(|b| UnlockToken::new(b.to_vec())),
            awaiting_configuration: f.opt_bool("AwaitingConfiguration")?,
            not_on_console: f.opt_bool("NotOnConsole")?,
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "TokenUpdate")
            .put("Topic", self.topic.as_str());
        self.device.write(&mut w);
        if let Some(u) = &self.user {
            u.write(&mut w);
        }
        w.data("Token", self.token.as_bytes())
            .put("PushMagic", self.push_magic.as_str());
        if let Some(u) = &self.unlock_token {
            w.data("UnlockToken", u.as_bytes());
        }
        w.opt("AwaitingConfiguration", self.awaiting_configuration)
            .opt("NotOnConsole", self.not_on_console);
        dictionary_to_xml(&w.finish())
    }
}

/// `CheckOut`: the MDM profile was removed (sent once, best effort, only
/// with `CheckOutWhenRemoved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOut {
    /// `Topic`.
    pub topic: PushTopic,
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
}

impl CheckOut {
    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            topic: topic(f)?,
            device: AppleDeviceId::read(f)?,
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "CheckOut")
            .put("Topic", self.topic.as_str());
        self.device.write(&mut w);
        dictionary_to_xml(&w.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_push_token_error_states_the_rule_it_applies() {
        assert!(PushToken::new(vec![7; 1]).is_ok() && PushToken::new(vec![7; 100]).is_ok());
        for len in [0, 101] {
            let e = PushToken::new(vec![7; len]).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("APNs device token must be 1 to 100 bytes, got {len}")
            );
        }
    }
}
