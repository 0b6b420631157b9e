//! The Wi-Fi network the device joins to download the agent.

use std::fmt;

use super::keys;
use super::redact::Redacted;
use crate::AndroidError;

/// Wi-Fi security of the provisioning network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WifiSecurity {
    /// An open network.
    None,
    /// WPA/WPA2-PSK.
    Wpa,
    /// WEP.
    Wep,
    /// 802.1X (the EAP details, if any, stay in [`ProvisioningPayload::other`]).
    Eap,
}

impl WifiSecurity {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Wpa => "WPA",
            Self::Wep => "WEP",
            Self::Eap => "EAP",
        }
    }

    pub(super) fn parse(text: &str) -> Result<Self, AndroidError> {
        match text {
            "NONE" => Ok(Self::None),
            "WPA" => Ok(Self::Wpa),
            "WEP" => Ok(Self::Wep),
            "EAP" => Ok(Self::Eap),
            other => Err(AndroidError::provisioning_value(
                keys::WIFI_SECURITY_TYPE,
                format!("{other:?} is not one of NONE, WPA, WEP, EAP"),
            )),
        }
    }
}

/// The Wi-Fi network the device joins to download the agent.
#[derive(Clone, PartialEq, Eq)]
pub struct WifiNetwork {
    /// Network name.
    pub ssid: String,
    /// Whether the SSID is hidden.
    pub hidden: bool,
    /// Security type.
    pub security: WifiSecurity,
    /// Password (not for open networks).
    pub password: Option<String>,
}

impl fmt::Debug for WifiNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WifiNetwork")
            .field("ssid", &self.ssid)
            .field("hidden", &self.hidden)
            .field("security", &self.security)
            .field("password", &self.password.as_ref().map(|_| Redacted))
            .finish()
    }
}
