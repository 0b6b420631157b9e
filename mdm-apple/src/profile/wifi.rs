//! Wi-Fi payload (`com.apple.wifi.managed`).

use std::fmt;

use crate::error::{AppleError, Result};
use crate::fields::DictWriter;

/// `EncryptionType` of a Wi-Fi network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WifiEncryption {
    /// `None`: open network.
    None,
    /// `WEP`.
    Wep,
    /// `WPA` (WPA/WPA2/WPA3 personal).
    Wpa,
    /// `WPA2`.
    Wpa2,
    /// `WPA3`.
    Wpa3,
    /// `Any`: whatever the network offers (device default).
    Any,
}

impl WifiEncryption {
    /// The string written to the profile.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Wep => "WEP",
            Self::Wpa => "WPA",
            Self::Wpa2 => "WPA2",
            Self::Wpa3 => "WPA3",
            Self::Any => "Any",
        }
    }
}

/// A Wi-Fi payload (`com.apple.wifi.managed`): one network with a
/// pre-shared key (or open). The password is a secret: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct WifiPayload {
    /// `SSID_STR`.
    pub ssid: String,
    /// `HIDDEN_NETWORK`.
    pub hidden_network: bool,
    /// `AutoJoin`.
    pub auto_join: bool,
    /// `EncryptionType`.
    pub encryption: WifiEncryption,
    /// `Password`: the pre-shared key.
    pub password: Option<String>,
}

impl WifiPayload {
    /// A WPA/WPA2/WPA3 personal network.
    pub fn wpa(ssid: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            ssid: ssid.into(),
            hidden_network: false,
            auto_join: true,
            encryption: WifiEncryption::Wpa,
            password: Some(password.into()),
        }
    }

    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.wifi.managed";

    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |key, value: String, reason| AppleError::InvalidValue {
            payload: Self::PAYLOAD_TYPE.into(),
            key,
            value,
            reason,
        };
        if self.ssid.is_empty() || self.ssid.len() > 32 {
            return Err(invalid(
                "SSID_STR",
                self.ssid.clone(),
                "must be 1 to 32 bytes",
            ));
        }
        match (self.encryption, &self.password) {
            (WifiEncryption::None, Some(_)) => Err(invalid(
                "Password",
                "<redacted>".into(),
                "an open network takes no password",
            )),
            (WifiEncryption::Wpa | WifiEncryption::Wpa2 | WifiEncryption::Wpa3, Some(p))
                if p.len() < 8 || p.len() > 63 =>
            {
                Err(invalid(
                    "Password",
                    "<redacted>".into(),
                    "a WPA passphrase must be 8 to 63 bytes",
                ))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        w.put("SSID_STR", self.ssid.as_str())
            .put("HIDDEN_NETWORK", self.hidden_network)
            .put("AutoJoin", self.auto_join)
            .put("EncryptionType", self.encryption.as_str())
            .opt("Password", self.password.clone());
    }
}

impl fmt::Debug for WifiPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WifiPayload")
            .field("ssid", &self.ssid)
            .field("hidden_network", &self.hidden_network)
            .field("auto_join", &self.auto_join)
            .field("encryption", &self.encryption)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wifi_rules() {
        assert!(
            WifiPayload::wpa("Office", "correct horse")
                .validate()
                .is_ok()
        );
        assert!(WifiPayload::wpa("Office", "short").validate().is_err());
        assert!(WifiPayload::wpa("", "correct horse").validate().is_err());
        let mut open = WifiPayload::wpa("Guest", "correct horse");
        open.encryption = WifiEncryption::None;
        assert!(open.validate().is_err());
        open.password = None;
        assert!(open.validate().is_ok());
        assert!(!format!("{:?}", WifiPayload::wpa("a", "correct horse")).contains("horse"));
    }
}
