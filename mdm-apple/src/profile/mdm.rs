//! The MDM enrollment payload (`com.apple.mdm`) and its access rights.

use std::fmt;

use crate::error::{AppleError, Result};
use crate::fields::DictWriter;
use mdm_model::PushTopic;

use crate::ids::{HttpsUrl, PayloadUuid};

/// The `AccessRights` bit set of an MDM payload: what the server may do on
/// the device. Built from the named constants with `|`; checked when the
/// profile is built (non-zero, 2 needs 1, 128 needs 64, no unknown bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessRights(u32);

impl AccessRights {
    /// 1: inspect installed configuration profiles.
    pub const INSPECT_PROFILES: Self = Self(1);
    /// 2: install and remove configuration profiles (needs 1).
    pub const INSTALL_REMOVE_PROFILES: Self = Self(2);
    /// 4: device lock and passcode removal.
    pub const LOCK_AND_PASSCODE_REMOVAL: Self = Self(4);
    /// 8: device erase.
    pub const ERASE: Self = Self(8);
    /// 16: query device information.
    pub const DEVICE_INFORMATION: Self = Self(16);
    /// 32: query network information.
    pub const NETWORK_INFORMATION: Self = Self(32);
    /// 64: inspect installed provisioning profiles.
    pub const INSPECT_PROVISIONING_PROFILES: Self = Self(64);
    /// 128: install and remove provisioning profiles (needs 64).
    pub const INSTALL_REMOVE_PROVISIONING_PROFILES: Self = Self(128);
    /// 256: inspect installed applications.
    pub const INSPECT_APPS: Self = Self(256);
    /// 512: restriction-related queries.
    pub const RESTRICTION_QUERIES: Self = Self(512);
    /// 1024: security-related queries.
    pub const SECURITY_QUERIES: Self = Self(1024);
    /// 2048: change device settings.
    pub const SETTINGS: Self = Self(2048);
    /// 4096: app management.
    pub const APP_MANAGEMENT: Self = Self(4096);
    /// Every right (8191).
    pub const ALL: Self = Self(8191);

    /// A bit set from a raw integer (validated when the profile is built).
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The raw integer written to the profile.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Checks the schema's bit rules.
    ///
    /// # Errors
    /// [`AppleError::InvalidAccessRights`] naming the broken rule.
    pub fn validate(self) -> Result<()> {
        let reason = if self.0 == 0 {
            Some("must not be 0")
        } else if self.0 & !Self::ALL.0 != 0 {
            Some("must not set bits above 4096 (no right defines them)")
        } else if self.contains(Self::INSTALL_REMOVE_PROFILES)
            && !self.contains(Self::INSPECT_PROFILES)
        {
            Some("2 (install/remove profiles) requires 1 (inspect profiles)")
        } else if self.contains(Self::INSTALL_REMOVE_PROVISIONING_PROFILES)
            && !self.contains(Self::INSPECT_PROVISIONING_PROFILES)
        {
            Some(
                "128 (install/remove provisioning profiles) requires 64 (inspect provisioning profiles)",
            )
        } else {
            None
        };
        match reason {
            Some(reason) => Err(AppleError::InvalidAccessRights {
                bits: self.0,
                reason,
            }),
            None => Ok(()),
        }
    }
}

impl std::ops::BitOr for AccessRights {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Display for AccessRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A `ServerCapabilities` entry of the MDM payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerCapability {
    /// `com.apple.mdm.per-user-connections`: device and user channels (Shared iPad, macOS).
    PerUserConnections,
    /// `com.apple.mdm.bootstraptoken`: the server escrows the macOS bootstrap token.
    BootstrapToken,
    /// `com.apple.mdm.token`: the server answers `GetToken` check-ins.
    Token,
}

impl ServerCapability {
    /// The string written to the profile.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PerUserConnections => "com.apple.mdm.per-user-connections",
            Self::BootstrapToken => "com.apple.mdm.bootstraptoken",
            Self::Token => "com.apple.mdm.token",
        }
    }
}

/// The MDM payload (`com.apple.mdm`, R-IO-1): where the device checks in,
/// which APNs topic wakes it, which identity authenticates it and what the
/// server may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdmPayload {
    /// `ServerURL`: the command ("connect") endpoint.
    pub server_url: HttpsUrl,
    /// `CheckInURL`: the check-in endpoint; `ServerURL` when absent.
    pub check_in_url: Option<HttpsUrl>,
    /// `Topic`: the workspace's APNs topic.
    pub topic: PushTopic,
    /// `IdentityCertificateUUID`: the PKCS#12 or SCEP payload of the same profile.
    pub identity_certificate_uuid: PayloadUuid,
    /// `AccessRights`.
    pub access_rights: AccessRights,
    /// `SignMessage`: devices sign every request (`Mdm-Signature` header).
    pub sign_message: bool,
    /// `CheckOutWhenRemoved`: devices send `CheckOut` when the profile is removed.
    pub check_out_when_removed: bool,
    /// `UseDevelopmentAPNS`: the topic is on the APNs sandbox.
    pub use_development_apns: bool,
    /// `ServerCapabilities` (written sorted, without duplicates).
    pub server_capabilities: Vec<ServerCapability>,
}

impl MdmPayload {
    /// An MDM payload with every access right, signed messages and check-out
    /// on removal — what a typical iOS server enrolls with.
    pub fn new(
        server_url: HttpsUrl,
        topic: PushTopic,
        identity_certificate_uuid: PayloadUuid,
    ) -> Self {
        Self {
            server_url,
            check_in_url: None,
            topic,
            identity_certificate_uuid,
            access_rights: AccessRights::ALL,
            sign_message: true,
            check_out_when_removed: true,
            use_development_apns: false,
            server_capabilities: Vec::new(),
        }
    }

    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.mdm";

    pub(crate) fn validate(&self) -> Result<()> {
        self.access_rights.validate()
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        w.put("ServerURL", self.server_url.as_str())
            .opt(
                "CheckInURL",
                self.check_in_url.as_ref().map(HttpsUrl::as_str),
            )
            .put("Topic", self.topic.as_str())
            .put(
                "IdentityCertificateUUID",
                self.identity_certificate_uuid.as_str(),
            )
            .put("AccessRights", u64::from(self.access_rights.bits()))
            .put("SignMessage", self.sign_message)
            .put("CheckOutWhenRemoved", self.check_out_when_removed);
        if self.use_development_apns {
            w.put("UseDevelopmentAPNS", true);
        }
        if !self.server_capabilities.is_empty() {
            let mut caps = self.server_capabilities.clone();
            caps.sort();
            caps.dedup();
            let caps: Vec<String> = caps.iter().map(|c| c.as_str().to_owned()).collect();
            w.strings("ServerCapabilities", &caps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_right_rules() {
        assert!(AccessRights::ALL.validate().is_ok());
        assert!(AccessRights::from_bits(0).validate().is_err());
        assert!(AccessRights::INSTALL_REMOVE_PROFILES.validate().is_err());
        assert!(
            (AccessRights::INSTALL_REMOVE_PROFILES | AccessRights::INSPECT_PROFILES)
                .validate()
                .is_ok()
        );
        assert!(
            AccessRights::INSTALL_REMOVE_PROVISIONING_PROFILES
                .validate()
                .is_err()
        );
        assert!(
            (AccessRights::INSTALL_REMOVE_PROVISIONING_PROFILES
                | AccessRights::INSPECT_PROVISIONING_PROFILES)
                .validate()
                .is_ok()
        );
        assert!(AccessRights::from_bits(8192).validate().is_err());
        assert_eq!(AccessRights::ALL.bits(), 8191);
    }
}
