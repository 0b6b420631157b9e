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

    /// Each switch with its key: the one table that writing and reading use.
    pub(crate) fn switches_mut(&mut self) -> [(&'static str, &mut Option<bool>); 22] {
        [
            ("allowCamera", &mut self.allow_camera),
            ("allowScreenShot", &mut self.allow_screen_shot),
            ("allowAppInstallation", &mut self.allow_app_installation),
            ("allowAppRemoval", &mut self.allow_app_removal),
            ("allowInAppPurchases", &mut self.allow_in_app_purchases),
            ("allowSafari", &mut self.allow_safari),
            ("allowCloudBackup", &mut self.allow_cloud_backup),
            (
                "allowCloudDocumentSync",
                &mut self.allow_cloud_document_sync,
            ),
            ("allowAirDrop", &mut self.allow_air_drop),
            ("allowAssistant", &mut self.allow_assistant),
            ("allowExplicitContent", &mut self.allow_explicit_content),
            (
                "allowUntrustedTLSPrompt",
                &mut self.allow_untrusted_tls_prompt,
            ),
            (
                "allowPasscodeModification",
                &mut self.allow_passcode_modification,
            ),
            (
                "allowEraseContentAndSettings",
                &mut self.allow_erase_content_and_settings,
            ),
            (
                "allowAccountModification",
                &mut self.allow_account_modification,
            ),
            ("allowVPNCreation", &mut self.allow_vpn_creation),
            (
                "allowUIConfigurationProfileInstallation",
                &mut self.allow_ui_configuration_profile_installation,
            ),
            (
                "allowUSBRestrictedMode",
                &mut self.allow_usb_restricted_mode,
            ),
            ("allowFindMyDevice", &mut self.allow_find_my_device),
            ("forceEncryptedBackup", &mut self.force_encrypted_backup),
            ("forceWiFiPowerOn", &mut self.force_wifi_power_on),
            (
                "forceAutomaticDateAndTime",
                &mut self.force_automatic_date_and_time,
            ),
        ]
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        let mut copy = self.clone();
        for (key, value) in copy.switches_mut() {
            w.opt(key, *value);
        }
    }
}
