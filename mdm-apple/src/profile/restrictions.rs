//! Restrictions payload (`com.apple.applicationaccess`): a typed subset of
//! the most used switches.

use crate::fields::DictWriter;

/// A useful subset of the restrictions. `None` leaves the device default
/// (for `allow*` keys that is "allowed"). Keys marked *supervised* only take
/// effect on supervised devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restrictions {
    /// `allowCamera`.
    pub allow_camera: Option<bool>,
    /// `allowScreenShot`: screenshots and screen recording.
    pub allow_screen_shot: Option<bool>,
    /// `allowAppInstallation` (supervised).
    pub allow_app_installation: Option<bool>,
    /// `allowAppRemoval` (supervised).
    pub allow_app_removal: Option<bool>,
    /// `allowInAppPurchases`.
    pub allow_in_app_purchases: Option<bool>,
    /// `allowSafari` (supervised).
    pub allow_safari: Option<bool>,
    /// `allowCloudBackup`.
    pub allow_cloud_backup: Option<bool>,
    /// `allowCloudDocumentSync`.
    pub allow_cloud_document_sync: Option<bool>,
    /// `allowAirDrop` (supervised).
    pub allow_air_drop: Option<bool>,
    /// `allowAssistant`: Siri.
    pub allow_assistant: Option<bool>,
    /// `allowExplicitContent`.
    pub allow_explicit_content: Option<bool>,
    /// `allowUntrustedTLSPrompt`: let users accept untrusted certificates.
    pub allow_untrusted_tls_prompt: Option<bool>,
    /// `allowPasscodeModification` (supervised).
    pub allow_passcode_modification: Option<bool>,
    /// `allowEraseContentAndSettings` (supervised).
    pub allow_erase_content_and_settings: Option<bool>,
    /// `allowAccountModification` (supervised).
    pub allow_account_modification: Option<bool>,
    /// `allowVPNCreation` (supervised).
    pub allow_vpn_creation: Option<bool>,
    /// `allowUIConfigurationProfileInstallation` (supervised).
    pub allow_ui_configuration_profile_installation: Option<bool>,
    /// `allowUSBRestrictedMode` (supervised).
    pub allow_usb_restricted_mode: Option<bool>,
    /// `allowFindMyDevice`.
    pub allow_find_my_device: Option<bool>,
    /// `forceEncryptedBackup`.
    pub force_encrypted_backup: Option<bool>,
    /// `forceWiFiPowerOn` (supervised).
    pub force_wifi_power_on: Option<bool>,
    /// `forceAutomaticDateAndTime` (supervised).
    pub force_automatic_date_and_time: Option<bool>,
}

impl Restrictions {
    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.applicationaccess";

    pub(crate) fn write(&self, w: &mut DictWriter) {
        let keys: [(&str, Option<bool>); 22] = [
            ("allowCamera", self.allow_camera),
            ("allowScreenShot", self.allow_screen_shot),
            ("allowAppInstallation", self.allow_app_installation),
            ("allowAppRemoval", self.allow_app_removal),
            ("allowInAppPurchases", self.allow_in_app_purchases),
            ("allowSafari", self.allow_safari),
            ("allowCloudBackup", self.allow_cloud_backup),
            ("allowCloudDocumentSync", self.allow_cloud_document_sync),
            ("allowAirDrop", self.allow_air_drop),
            ("allowAssistant", self.allow_assistant),
            ("allowExplicitContent", self.allow_explicit_content),
            ("allowUntrustedTLSPrompt", self.allow_untrusted_tls_prompt),
            (
                "allowPasscodeModification",
                self.allow_passcode_modification,
            ),
            (
                "allowEraseContentAndSettings",
                self.allow_erase_content_and_settings,
            ),
            ("allowAccountModification", self.allow_account_modification),
            ("allowVPNCreation", self.allow_vpn_creation),
            (
                "allowUIConfigurationProfileInstallation",
                self.allow_ui_configuration_profile_installation,
            ),
            ("allowUSBRestrictedMode", self.allow_usb_restricted_mode),
            ("allowFindMyDevice", self.allow_find_my_device),
            ("forceEncryptedBackup", self.force_encrypted_backup),
            ("forceWiFiPowerOn", self.force_wifi_power_on),
            (
                "forceAutomaticDateAndTime",
                self.force_automatic_date_and_time,
            ),
        ];
        for (key, value) in keys {
            w.opt(key, value);
        }
    }
}
