//! The raw decoder both wire forms share: the keys read into untyped
//! values, then each modelled key taken out, type-checked (JSON) or
//! converted from its string (NFC), and the rest kept in `other`.

use std::collections::BTreeMap;

use super::{
    AdminExtras, BundleValue, ComponentName, PackageChecksum, PackageDownload, ProvisioningPayload,
    WifiNetwork, WifiSecurity, keys,
};
use crate::{AndroidError, Sha256Digest};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Typing {
    /// JSON types are checked.
    Json,
    /// Every value is a string and is converted.
    Nfc,
}

pub(super) enum RawValue {
    Json(BundleValue),
    Extras(BTreeMap<String, BundleValue>),
}

#[derive(Default)]
pub(super) struct RawFields {
    pub(super) values: BTreeMap<String, RawValue>,
}

impl RawFields {
    fn take(&mut self, key: &'static str) -> Option<RawValue> {
        self.values.remove(key)
    }

    fn string(&mut self, key: &'static str) -> Result<Option<String>, AndroidError> {
        match self.take(key) {
            None => Ok(None),
            Some(RawValue::Json(BundleValue::String(s))) => Ok(Some(s)),
            Some(_) => Err(AndroidError::provisioning_value(
                key,
                "expected a JSON string",
            )),
        }
    }

    fn boolean(&mut self, key: &'static str, typing: Typing) -> Result<Option<bool>, AndroidError> {
        match (self.take(key), typing) {
            (None, _) => Ok(None),
            (Some(RawValue::Json(BundleValue::Bool(b))), Typing::Json) => Ok(Some(b)),
            (Some(RawValue::Json(BundleValue::String(s))), Typing::Nfc) => {
                // Boolean.parseBoolean: "true" in any case is true, anything else false.
                Ok(Some(s.eq_ignore_ascii_case("true")))
            }
            (Some(_), _) => Err(AndroidError::provisioning_value(
                key,
                "expected a JSON boolean",
            )),
        }
    }

    fn int(&mut self, key: &'static str, typing: Typing) -> Result<Option<i32>, AndroidError> {
        let out_of_range = || AndroidError::provisioning_value(key, "expected a 32-bit integer");
        match (self.take(key), typing) {
            (None, _) => Ok(None),
            (Some(RawValue::Json(BundleValue::Integer(i))), Typing::Json) => {
                i32::try_from(i).map(Some).map_err(|_| out_of_range())
            }
            (Some(RawValue::Json(BundleValue::String(s))), Typing::Nfc) => s
                .trim()
                .parse::<i32>()
                .map(Some)
                .map_err(|_| out_of_range()),
            (Some(_), _) => Err(out_of_range()),
        }
    }

    fn checksum(&mut self, key: &'static str) -> Result<Option<Sha256Digest>, AndroidError> {
        self.string(key)?
            .map(|text| {
                Sha256Digest::from_base64url(&text)
                    .map_err(|reason| AndroidError::provisioning_value(key, reason))
            })
            .transpose()
    }

    pub(super) fn into_payload(
        mut self,
        typing: Typing,
    ) -> Result<ProvisioningPayload, AndroidError> {
        let component = self.string(keys::ADMIN_COMPONENT_NAME)?.ok_or(
            AndroidError::MissingProvisioningKey {
                key: keys::ADMIN_COMPONENT_NAME,
            },
        )?;
        let mut payload = ProvisioningPayload::new(ComponentName::parse(&component)?);

        let location = self.string(keys::DOWNLOAD_LOCATION)?;
        let package = self.checksum(keys::PACKAGE_CHECKSUM)?;
        let signature = self.checksum(keys::SIGNATURE_CHECKSUM)?;
        let cookie_header = self.string(keys::DOWNLOAD_COOKIE_HEADER)?;
        let minimum_version_code = self.int(keys::MINIMUM_VERSION_CODE, typing)?;
        payload.download = match location {
            Some(location) => {
                let checksum = match (package, signature) {
                    (Some(package), Some(signature)) => {
                        PackageChecksum::Both { package, signature }
                    }
                    (Some(package), None) => PackageChecksum::Package(package),
                    (None, Some(signature)) => PackageChecksum::Signature(signature),
                    (None, None) => {
                        return Err(AndroidError::provisioning_value(
                            keys::DOWNLOAD_LOCATION,
                            "a download needs PACKAGE_CHECKSUM or SIGNATURE_CHECKSUM",
                        ));
                    }
                };
                let mut download = PackageDownload::new(&location, checksum)?;
                download.cookie_header = cookie_header;
                download.minimum_version_code = minimum_version_code;
                Some(download)
            }
            None => {
                let stray = [
                    (keys::PACKAGE_CHECKSUM, package.is_some()),
                    (keys::SIGNATURE_CHECKSUM, signature.is_some()),
                    (keys::DOWNLOAD_COOKIE_HEADER, cookie_header.is_some()),
                    (keys::MINIMUM_VERSION_CODE, minimum_version_code.is_some()),
                ];
                if let Some((key, _)) = stray.iter().find(|(_, present)| *present) {
                    return Err(AndroidError::provisioning_value(
                        *key,
                        "given without a PACKAGE_DOWNLOAD_LOCATION",
                    ));
                }
                None
            }
        };

        payload.admin_extras = match self.take(keys::ADMIN_EXTRAS_BUNDLE) {
            Some(RawValue::Extras(bundle)) => AdminExtras::from_bundle(bundle)?,
            Some(RawValue::Json(_)) => {
                return Err(AndroidError::provisioning_value(
                    keys::ADMIN_EXTRAS_BUNDLE,
                    "expected a JSON object",
                ));
            }
            None => AdminExtras::default(),
        };

        let ssid = self.string(keys::WIFI_SSID)?;
        let hidden = self.boolean(keys::WIFI_HIDDEN, typing)?;
        let security = self.string(keys::WIFI_SECURITY_TYPE)?;
        let password = self.string(keys::WIFI_PASSWORD)?;
        payload.wifi = match ssid {
            Some(ssid) => {
                let security = match security {
                    Some(text) => WifiSecurity::parse(&text)?,
                    // ManagedProvisioning treats a missing type as NONE unless a password is given.
                    None if password.is_some() => WifiSecurity::Wpa,
                    None => WifiSecurity::None,
                };
                Some(WifiNetwork {
                    ssid,
                    hidden: hidden.unwrap_or(false),
                    security,
                    password,
                })
            }
            None => {
                if hidden.is_some() || security.is_some() || password.is_some() {
                    return Err(AndroidError::provisioning_value(
                        keys::WIFI_SSID,
                        "Wi-Fi settings without an SSID",
                    ));
                }
                None
            }
        };
        payload.locale = self.string(keys::LOCALE)?;
        payload.time_zone = self.string(keys::TIME_ZONE)?;
        payload.leave_all_system_apps_enabled =
            self.boolean(keys::LEAVE_ALL_SYSTEM_APPS_ENABLED, typing)?;
        payload.skip_encryption = self.boolean(keys::SKIP_ENCRYPTION, typing)?;
        payload.use_mobile_data = self.boolean(keys::USE_MOBILE_DATA, typing)?;
        for (key, raw) in self.values {
            let value = match raw {
                RawValue::Json(value) => value,
                RawValue::Extras(bundle) => BundleValue::Bundle(bundle),
            };
            payload.other.insert(key, value);
        }
        payload.validate()?;
        Ok(payload)
    }
}
