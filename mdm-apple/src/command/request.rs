//! The request side of each command: its keys, typed.

use std::fmt;

use super::RequestType;
use crate::fields::{DictWriter, redacted};
use crate::value::PlistValue;

/// `DeviceInformation`: ask for device attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInformation {
    /// `Queries`: attribute names (`UDID`, `DeviceName`, `OSVersion`, …).
    pub queries: Vec<String>,
}

impl DeviceInformation {
    /// The attributes an inventory usually wants.
    pub fn common() -> Self {
        let q = [
            "UDID",
            "DeviceName",
            "OSVersion",
            "BuildVersion",
            "ModelName",
            "Model",
            "ProductName",
            "SerialNumber",
            "DeviceCapacity",
            "AvailableDeviceCapacity",
            "IMEI",
            "MEID",
            "IsSupervised",
            "WiFiMAC",
            "BluetoothMAC",
        ];
        Self {
            queries: q.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// `SecurityInfo`: passcode, encryption and management status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecurityInfo;

/// `ProfileList`: installed configuration profiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileList {
    /// `ManagedOnly`: only profiles installed by MDM.
    pub managed_only: Option<bool>,
}

/// `InstallProfile`: install a (signed and/or encrypted) `.mobileconfig`.
#[derive(Clone, PartialEq, Eq)]
pub struct InstallProfile {
    /// `Payload`: the profile bytes.
    pub payload: Vec<u8>,
}

impl InstallProfile {
    /// Installs `profile` signed by `signer` (the usual way to push a
    /// configuration profile).
    ///
    /// # Errors
    /// Serialisation or signing failures.
    pub fn signed(
        profile: &crate::Profile,
        signer: &crate::ProfileSigner,
        now: time::OffsetDateTime,
    ) -> crate::Result<Self> {
        Ok(Self {
            payload: profile.sign(signer, now)?,
        })
    }

    /// Installs `profile` unsigned (plain XML).
    ///
    /// # Errors
    /// Serialisation failures.
    pub fn unsigned(profile: &crate::Profile) -> crate::Result<Self> {
        Ok(Self {
            payload: profile.to_xml()?,
        })
    }
}

impl fmt::Debug for InstallProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallProfile")
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// `RemoveProfile`: remove the profile with this `PayloadIdentifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveProfile {
    /// `Identifier`.
    pub identifier: String,
}

/// `DeviceLock`: lock the screen now, optionally with a message. `Debug`
/// hides the PIN.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DeviceLock {
    /// `Message` on the Lock screen.
    pub message: Option<String>,
    /// `PhoneNumber` on the Lock screen.
    pub phone_number: Option<String>,
    /// `PIN` (macOS, six characters).
    pub pin: Option<String>,
}

/// `EraseDevice`: wipe the device. `Debug` hides the PIN.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EraseDevice {
    /// `PreserveDataPlan`: keep the eSIM data plan.
    pub preserve_data_plan: Option<bool>,
    /// `DisallowProximitySetup`.
    pub disallow_proximity_setup: Option<bool>,
    /// `PIN` (macOS).
    pub pin: Option<String>,
}

impl fmt::Debug for DeviceLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceLock")
            .field("message", &self.message)
            .field("phone_number", &self.phone_number)
            .field("pin", &redacted(self.pin.as_ref()))
            .finish()
    }
}

impl fmt::Debug for EraseDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EraseDevice")
            .field("preserve_data_plan", &self.preserve_data_plan)
            .field("disallow_proximity_setup", &self.disallow_proximity_setup)
            .field("pin", &redacted(self.pin.as_ref()))
            .finish()
    }
}

/// `ClearPasscode`: remove the passcode using the device's unlock token.
#[derive(Clone, PartialEq, Eq)]
pub struct ClearPasscode {
    /// `UnlockToken` from the device's TokenUpdate.
    pub unlock_token: Vec<u8>,
}

impl ClearPasscode {
    /// Clears the passcode with the unlock token the device escrowed in its
    /// `TokenUpdate` (see [`crate::AppleEnrollment::unlock_token`]).
    pub fn new(unlock_token: &crate::UnlockToken) -> Self {
        Self {
            unlock_token: unlock_token.as_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for ClearPasscode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClearPasscode { unlock_token: <redacted> }")
    }
}

/// `RestartDevice`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestartDevice {
    /// `NotifyUser` (macOS): let the user postpone.
    pub notify_user: Option<bool>,
}

/// `ShutDownDevice`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutDownDevice;

/// `InstalledApplicationList`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstalledApplicationList {
    /// `Identifiers`: only these bundle ids.
    pub identifiers: Vec<String>,
    /// `ManagedAppsOnly`.
    pub managed_apps_only: Option<bool>,
    /// `Items`: only these attributes per app.
    pub items: Vec<String>,
}

/// `InstallApplication`: an App Store app by id, or an enterprise app by manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallApplication {
    /// `iTunesStoreID`.
    StoreId {
        /// The App Store id.
        itunes_store_id: u64,
        /// `Options.PurchaseMethod` = 1 (Volume Purchase assignment) when true.
        volume_purchase: bool,
        /// `ManagementFlags` (1 = remove app when MDM is removed).
        management_flags: Option<u32>,
    },
    /// `Identifier`: a bundle id from the App Store.
    BundleId {
        /// The bundle id.
        identifier: String,
        /// `Options.PurchaseMethod` = 1 when true.
        volume_purchase: bool,
        /// `ManagementFlags`.
        management_flags: Option<u32>,
    },
    /// `ManifestURL`: an enterprise app's manifest (https).
    Manifest {
        /// The manifest URL.
        manifest_url: crate::ids::HttpsUrl,
        /// `ManagementFlags`.
        management_flags: Option<u32>,
    },
}

/// `RemoveApplication`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveApplication {
    /// `Identifier`: bundle id.
    pub identifier: String,
}

/// `CertificateList`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CertificateList {
    /// `ManagedOnly`.
    pub managed_only: Option<bool>,
}

/// One item of a `Settings` command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// `DeviceName`.
    DeviceName(String),
    /// `HostName` (macOS).
    HostName(String),
    /// `DataRoaming` on/off.
    DataRoaming(bool),
    /// `VoiceRoaming` on/off.
    VoiceRoaming(bool),
    /// `PersonalHotspot` on/off.
    PersonalHotspot(bool),
    /// `Bluetooth` on/off.
    Bluetooth(bool),
    /// `Wallpaper`: PNG/JPEG bytes and `Where` (1 lock screen, 2 home, 3 both).
    Wallpaper {
        /// Image bytes.
        image: Vec<u8>,
        /// 1, 2 or 3.
        place: u8,
    },
}

impl Setting {
    fn to_value(&self) -> PlistValue {
        let mut w = DictWriter::new();
        match self {
            Self::DeviceName(n) => w.put("Item", "DeviceName").put("DeviceName", n.as_str()),
            Self::HostName(n) => w.put("Item", "HostName").put("HostName", n.as_str()),
            Self::DataRoaming(b) => w.put("Item", "DataRoaming").put("Enabled", *b),
            Self::VoiceRoaming(b) => w.put("Item", "VoiceRoaming").put("Enabled", *b),
            Self::PersonalHotspot(b) => w.put("Item", "PersonalHotspot").put("Enabled", *b),
            Self::Bluetooth(b) => w.put("Item", "Bluetooth").put("Enabled", *b),
            Self::Wallpaper { image, place } => w
                .put("Item", "Wallpaper")
                .data("Image", image)
                .put("Where", u64::from(*place)),
        };
        w.finish().into()
    }
}

/// `Settings`: change device settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `Settings`: the items, in order.
    pub settings: Vec<Setting>,
}

/// Every command this crate builds, and ([`Command::Other`]) any other
/// command an API client sent, kept as it came.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// `DeviceInformation`.
    DeviceInformation(DeviceInformation),
    /// `SecurityInfo`.
    SecurityInfo(SecurityInfo),
    /// `ProfileList`.
    ProfileList(ProfileList),
    /// `InstallProfile`.
    InstallProfile(InstallProfile),
    /// `RemoveProfile`.
    RemoveProfile(RemoveProfile),
    /// `DeviceLock`.
    DeviceLock(DeviceLock),
    /// `EraseDevice`.
    EraseDevice(EraseDevice),
    /// `ClearPasscode`.
    ClearPasscode(ClearPasscode),
    /// `RestartDevice`.
    RestartDevice(RestartDevice),
    /// `ShutDownDevice`.
    ShutDownDevice(ShutDownDevice),
    /// `InstalledApplicationList`.
    InstalledApplicationList(InstalledApplicationList),
    /// `InstallApplication`.
    InstallApplication(InstallApplication),
    /// `RemoveApplication`.
    RemoveApplication(RemoveApplication),
    /// `CertificateList`.
    CertificateList(CertificateList),
    /// `Settings`.
    Settings(Settings),
    /// A `RequestType` this crate does not model, read by
    /// [`crate::parse_command`] and delivered byte for byte.
    Other(super::RawCommand),
}

impl Command {
    /// The command's `RequestType`.
    pub fn request_type(&self) -> RequestType {
        match self {
            Self::DeviceInformation(_) => RequestType::DeviceInformation,
            Self::SecurityInfo(_) => RequestType::SecurityInfo,
            Self::ProfileList(_) => RequestType::ProfileList,
            Self::InstallProfile(_) => RequestType::InstallProfile,
            Self::RemoveProfile(_) => RequestType::RemoveProfile,
            Self::DeviceLock(_) => RequestType::DeviceLock,
            Self::EraseDevice(_) => RequestType::EraseDevice,
            Self::ClearPasscode(_) => RequestType::ClearPasscode,
            Self::RestartDevice(_) => RequestType::RestartDevice,
            Self::ShutDownDevice(_) => RequestType::ShutDownDevice,
            Self::InstalledApplicationList(_) => RequestType::InstalledApplicationList,
            Self::InstallApplication(_) => RequestType::InstallApplication,
            Self::RemoveApplication(_) => RequestType::RemoveApplication,
            Self::CertificateList(_) => RequestType::CertificateList,
            Self::Settings(_) => RequestType::Settings,
            Self::Other(c) => RequestType::Other(c.request_type().to_owned()),
        }
    }

    /// Writes the request keys (besides `RequestType`).
    pub(crate) fn write(&self, w: &mut DictWriter) {
        match self {
            Self::DeviceInformation(c) => {
                w.strings("Queries", &c.queries);
            }
            Self::SecurityInfo(_) | Self::ShutDownDevice(_) => {}
            Self::ProfileList(c) => {
                w.opt("ManagedOnly", c.managed_only);
            }
            Self::InstallProfile(c) => {
                w.data("Payload", &c.payload);
            }
            Self::RemoveProfile(c) => {
                w.put("Identifier", c.identifier.as_str());
            }
            Self::DeviceLock(c) => {
                w.opt("Message", c.message.clone())
                    .opt("PhoneNumber", c.phone_number.clone())
                    .opt("PIN", c.pin.clone());
            }
            Self::EraseDevice(c) => {
                w.opt("PreserveDataPlan", c.preserve_data_plan)
                    .opt("DisallowProximitySetup", c.disallow_proximity_setup)
                    .opt("PIN", c.pin.clone());
            }
            Self::ClearPasscode(c) => {
                w.data("UnlockToken", &c.unlock_token);
            }
            Self::RestartDevice(c) => {
                w.opt("NotifyUser", c.notify_user);
            }
            Self::InstalledApplicationList(c) => {
                if !c.identifiers.is_empty() {
                    w.strings("Identifiers", &c.identifiers);
                }
                w.opt("ManagedAppsOnly", c.managed_apps_only);
                if !c.items.is_empty() {
                    w.strings("Items", &c.items);
                }
            }
            Self::InstallApplication(c) => {
                let options = |w: &mut DictWriter, vpp: bool| {
                    if vpp {
                        let mut o = DictWriter::new();
                        o.put("PurchaseMethod", 1u64);
                        w.put("Options", o.finish());
                    }
                };
                match c {
                    InstallApplication::StoreId {
                        itunes_store_id,
                        volume_purchase,
                        management_flags,
                    } => {
                        w.put("iTunesStoreID", *itunes_store_id);
                        options(w, *volume_purchase);
                        w.opt("ManagementFlags", management_flags.map(u64::from));
                    }
                    InstallApplication::BundleId {
                        identifier,
                        volume_purchase,
                        management_flags,
                    } => {
                        w.put("Identifier", identifier.as_str());
                        options(w, *volume_purchase);
                        w.opt("ManagementFlags", management_flags.map(u64::from));
                    }
                    InstallApplication::Manifest {
                        manifest_url,
                        management_flags,
                    } => {
                        w.put("ManifestURL", manifest_url.as_str());
                        w.opt("ManagementFlags", management_flags.map(u64::from));
                    }
                }
            }
            Self::RemoveApplication(c) => {
                w.put("Identifier", c.identifier.as_str());
            }
            Self::CertificateList(c) => {
                w.opt("ManagedOnly", c.managed_only);
            }
            Self::Settings(c) => {
                w.put(
                    "Settings",
                    c.settings.iter().map(Setting::to_value).collect::<Vec<_>>(),
                );
            }
            Self::Other(c) => {
                for (key, value) in c.command().into_iter().flatten() {
                    if key != "RequestType" {
                        w.put(key, value.clone());
                    }
                }
            }
        }
    }
}
