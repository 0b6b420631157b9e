//! The provisioning payload: its typed fields, the checks a struct literal
//! could leave undone, and the typed entries both wire forms write.

use std::collections::BTreeMap;
use std::fmt;

use super::download::validate_https_url;
use super::redact::RedactedBundle;
use super::{
    AdminExtras, AgentConnection, BundleValue, ComponentName, PackageChecksum, PackageDownload,
    WifiNetwork, WifiSecurity, keys,
};
use crate::AndroidError;

/// A complete provisioning payload. Build it, then write it with
/// [`ProvisioningPayload::to_qr_json`] or [`ProvisioningPayload::to_nfc_properties`].
///
/// `Debug` shows no secret: not the enrollment token, the Wi-Fi password,
/// the download's cookie, nor the value of a secret-named other key (EAP
/// password, client certificate …).
#[derive(Clone, PartialEq)]
pub struct ProvisioningPayload {
    /// The agent's DeviceAdminReceiver. Required.
    pub admin_component: ComponentName,
    /// Where to download the agent; `None` when it is preinstalled.
    pub download: Option<PackageDownload>,
    /// Data handed to the agent.
    pub admin_extras: AdminExtras,
    /// Network to join first.
    pub wifi: Option<WifiNetwork>,
    /// Device locale, `xx_YY` (`ja_JP`, `ru_RU`, `en_US`).
    pub locale: Option<String>,
    /// Time zone id (`Asia/Tokyo`).
    pub time_zone: Option<String>,
    /// Keep non-essential system apps enabled.
    pub leave_all_system_apps_enabled: Option<bool>,
    /// Skip device encryption.
    pub skip_encryption: Option<bool>,
    /// Allow provisioning over mobile data.
    pub use_mobile_data: Option<bool>,
    /// Any other `PROVISIONING_*` key, kept as it came (organisation name, local time, EAP details …).
    pub other: BTreeMap<String, BundleValue>,
}

impl fmt::Debug for ProvisioningPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProvisioningPayload")
            .field("admin_component", &self.admin_component)
            .field("download", &self.download)
            .field("admin_extras", &self.admin_extras)
            .field("wifi", &self.wifi)
            .field("locale", &self.locale)
            .field("time_zone", &self.time_zone)
            .field(
                "leave_all_system_apps_enabled",
                &self.leave_all_system_apps_enabled,
            )
            .field("skip_encryption", &self.skip_encryption)
            .field("use_mobile_data", &self.use_mobile_data)
            .field("other", &RedactedBundle(&self.other))
            .finish()
    }
}

impl ProvisioningPayload {
    /// A payload with only the required admin component.
    pub fn new(admin_component: ComponentName) -> Self {
        Self {
            admin_component,
            download: None,
            admin_extras: AdminExtras::default(),
            wifi: None,
            locale: None,
            time_zone: None,
            leave_all_system_apps_enabled: None,
            skip_encryption: None,
            use_mobile_data: None,
            other: BTreeMap::new(),
        }
    }

    /// The payload that provisions our agent as device owner: its admin
    /// receiver, where to download it, and the connection settings it needs
    /// on first start. Non-essential system apps stay enabled (as Headwind
    /// and most EMMs do); set the other fields as needed.
    pub fn for_agent(
        admin_component: ComponentName,
        download: PackageDownload,
        connection: AgentConnection,
    ) -> Self {
        let mut payload = Self::new(admin_component);
        payload.download = Some(download);
        payload.admin_extras.connection = Some(connection);
        payload.leave_all_system_apps_enabled = Some(true);
        payload
    }

    /// Checks the parts that a struct literal could leave inconsistent.
    pub fn validate(&self) -> Result<(), AndroidError> {
        if let Some(locale) = &self.locale {
            validate_locale(locale)?;
        }
        if let Some(zone) = &self.time_zone {
            validate_time_zone(zone)?;
        }
        if let Some(wifi) = &self.wifi {
            if wifi.ssid.is_empty() {
                return Err(AndroidError::provisioning_value(
                    keys::WIFI_SSID,
                    "the SSID is empty",
                ));
            }
            if wifi.security == WifiSecurity::None && wifi.password.is_some() {
                return Err(AndroidError::provisioning_value(
                    keys::WIFI_PASSWORD,
                    "an open (NONE) network takes no password",
                ));
            }
        }
        if let Some(download) = &self.download {
            validate_https_url(keys::DOWNLOAD_LOCATION, download.location())?;
        }
        for key in self.other.keys() {
            if MODELLED_KEYS.contains(&key.as_str()) {
                return Err(AndroidError::provisioning_value(
                    key.clone(),
                    "this key has a typed field; set that instead of `other`",
                ));
            }
        }
        Ok(())
    }

    pub(super) fn typed_entries(&self) -> Vec<(&'static str, Entry)> {
        let mut entries = vec![(
            keys::ADMIN_COMPONENT_NAME,
            Entry::Str(self.admin_component.to_string()),
        )];
        if let Some(download) = &self.download {
            entries.push((
                keys::DOWNLOAD_LOCATION,
                Entry::Str(download.location().to_owned()),
            ));
            let (package, signature) = match download.checksum {
                PackageChecksum::Package(p) => (Some(p), None),
                PackageChecksum::Signature(s) => (None, Some(s)),
                PackageChecksum::Both { package, signature } => (Some(package), Some(signature)),
            };
            if let Some(p) = package {
                entries.push((keys::PACKAGE_CHECKSUM, Entry::Str(p.to_base64url())));
            }
            if let Some(s) = signature {
                entries.push((keys::SIGNATURE_CHECKSUM, Entry::Str(s.to_base64url())));
            }
            if let Some(cookie) = &download.cookie_header {
                entries.push((keys::DOWNLOAD_COOKIE_HEADER, Entry::Str(cookie.clone())));
            }
            if let Some(code) = download.minimum_version_code {
                entries.push((keys::MINIMUM_VERSION_CODE, Entry::Int(i64::from(code))));
            }
        }
        if !self.admin_extras.is_empty() {
            entries.push((keys::ADMIN_EXTRAS_BUNDLE, Entry::Extras));
        }
        if let Some(wifi) = &self.wifi {
            entries.push((keys::WIFI_SSID, Entry::Str(wifi.ssid.clone())));
            entries.push((keys::WIFI_HIDDEN, Entry::Bool(wifi.hidden)));
            entries.push((
                keys::WIFI_SECURITY_TYPE,
                Entry::Str(wifi.security.as_str().to_owned()),
            ));
            if let Some(password) = &wifi.password {
                entries.push((keys::WIFI_PASSWORD, Entry::Str(password.clone())));
            }
        }
        if let Some(locale) = &self.locale {
            entries.push((keys::LOCALE, Entry::Str(locale.clone())));
        }
        if let Some(zone) = &self.time_zone {
            entries.push((keys::TIME_ZONE, Entry::Str(zone.clone())));
        }
        for (key, flag) in [
            (
                keys::LEAVE_ALL_SYSTEM_APPS_ENABLED,
                self.leave_all_system_apps_enabled,
            ),
            (keys::SKIP_ENCRYPTION, self.skip_encryption),
            (keys::USE_MOBILE_DATA, self.use_mobile_data),
        ] {
            if let Some(flag) = flag {
                entries.push((key, Entry::Bool(flag)));
            }
        }
        entries
    }
}

pub(super) enum Entry {
    Str(String),
    Bool(bool),
    Int(i64),
    Extras,
}

const MODELLED_KEYS: &[&str] = &[
    keys::ADMIN_COMPONENT_NAME,
    keys::DOWNLOAD_LOCATION,
    keys::DOWNLOAD_COOKIE_HEADER,
    keys::PACKAGE_CHECKSUM,
    keys::SIGNATURE_CHECKSUM,
    keys::MINIMUM_VERSION_CODE,
    keys::ADMIN_EXTRAS_BUNDLE,
    keys::WIFI_SSID,
    keys::WIFI_HIDDEN,
    keys::WIFI_SECURITY_TYPE,
    keys::WIFI_PASSWORD,
    keys::LOCALE,
    keys::TIME_ZONE,
    keys::LEAVE_ALL_SYSTEM_APPS_ENABLED,
    keys::SKIP_ENCRYPTION,
    keys::USE_MOBILE_DATA,
];

/// `xx_YY` or `xx` (ISO 639 language, optional ISO 3166 region), as
/// `StoreUtils.stringToLocale` reads it.
fn validate_locale(locale: &str) -> Result<(), AndroidError> {
    let (language, region) = match locale.split_once(['_', '-']) {
        Some((l, r)) => (l, Some(r)),
        None => (locale, None),
    };
    let language_ok =
        (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| {
        (r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
            || (r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()))
    });
    if language_ok && region_ok {
        Ok(())
    } else {
        Err(AndroidError::provisioning_value(
            keys::LOCALE,
            format!("{locale:?} is not a locale like ja_JP"),
        ))
    }
}

/// An IANA time zone id: `UTC`, `Asia/Tokyo`, `America/Argentina/Buenos_Aires`, `Etc/GMT+9`.
fn validate_time_zone(zone: &str) -> Result<(), AndroidError> {
    let ok = !zone.is_empty()
        && zone.len() <= 64
        && zone.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
        });
    if ok {
        Ok(())
    } else {
        Err(AndroidError::provisioning_value(
            keys::TIME_ZONE,
            format!("{zone:?} is not a time zone id like Asia/Tokyo"),
        ))
    }
}
