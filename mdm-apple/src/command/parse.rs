//! Reading a command as an API client (or nanomdm's `/v1/enqueue`) sends
//! it: `{CommandUUID, Command: {RequestType, …}}` becomes a
//! [`CommandRequest`] with a typed [`Command`], or, for a `RequestType`
//! this crate does not model, a [`RawCommand`] kept byte for byte.

use std::fmt;

use super::request::{
    CertificateList, ClearPasscode, Command, DeviceInformation, DeviceLock, EraseDevice,
    InstallApplication, InstallProfile, InstalledApplicationList, ProfileList, RemoveApplication,
    RemoveProfile, RestartDevice, SecurityInfo, Setting, Settings, ShutDownDevice,
};
use super::{CommandRequest, RequestType};
use crate::error::{AppleError, Result};
use crate::fields::Fields;
use crate::ids::{CommandUuid, HttpsUrl};
use crate::value::{PlistDictionary, PlistValue, parse_dictionary};

/// A command of a `RequestType` this crate does not model, as an API
/// client sent it: the bytes it came in, and the `Command` dictionary read
/// from them. [`CommandRequest::to_xml`] hands the bytes out unchanged
/// while the request keeps the `CommandUUID` they carry (a binary plist
/// stays binary); under another UUID it writes the same keys afresh.
///
/// `Debug` shows the request type, the key names and the length, never a
/// value: an unknown command may carry a PIN or a password.
#[derive(Clone, PartialEq)]
pub struct RawCommand {
    request_type: String,
    uuid: CommandUuid,
    envelope: PlistDictionary,
    bytes: Vec<u8>,
}

impl RawCommand {
    /// The `RequestType` string.
    pub fn request_type(&self) -> &str {
        &self.request_type
    }

    /// The `Command` dictionary (`RequestType` included).
    pub fn command(&self) -> Option<&PlistDictionary> {
        self.envelope
            .get("Command")
            .and_then(PlistValue::as_dictionary)
    }

    /// The whole plist as read: `CommandUUID`, `Command` and any other
    /// top-level key the client sent.
    pub fn envelope(&self) -> &PlistDictionary {
        &self.envelope
    }

    /// The bytes the command was read from.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes to deliver when the request's UUID is still `uuid`.
    pub(crate) fn bytes_for(&self, uuid: &CommandUuid) -> Option<&[u8]> {
        (&self.uuid == uuid).then_some(self.bytes.as_slice())
    }
}

impl fmt::Debug for RawCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .command()
            .map(|c| c.keys().collect())
            .unwrap_or_default();
        f.debug_struct("RawCommand")
            .field("request_type", &self.request_type)
            .field("keys", &keys)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Reads a command plist (XML or binary, within [`crate::MAX_PLIST_BYTES`]
/// and [`crate::MAX_PLIST_NODES`]) as an API client sends it for a device:
/// `{CommandUUID, Command: {RequestType, …}}`.
///
/// A `RequestType` this crate models becomes its typed [`Command`], and
/// every key must be one that type holds: a key it would drop (a newer
/// option, a misspelling) refuses the command rather than send the device
/// less than the client asked for. Any other `RequestType` becomes
/// [`Command::Other`], a [`RawCommand`] delivered exactly as received.
/// What [`CommandRequest::to_xml`] writes reads back equal.
///
/// # Errors
/// The plist bounds and [`AppleError::MalformedPlist`];
/// [`AppleError::NotADictionary`]; [`AppleError::MissingField`] for a
/// missing or empty `CommandUUID`, `Command`, `RequestType` or required
/// key; [`AppleError::WrongType`] for a key of the wrong plist type;
/// [`AppleError::InvalidUuid`] for a `CommandUUID` with control
/// characters; [`AppleError::InvalidValue`] or [`AppleError::NotHttps`]
/// for a value out of its range; [`AppleError::UnsupportedCommandKey`] for
/// a key the typed command does not hold.
pub fn parse_command(bytes: &[u8]) -> Result<CommandRequest> {
    let envelope = parse_dictionary(bytes, "command")?;
    let top = Fields::new(&envelope, "command");
    let uuid = CommandUuid::new(non_empty(top, "CommandUUID")?)?;
    let command = top.opt_dict("Command")?.ok_or(AppleError::MissingField {
        message: "command",
        key: "Command",
    })?;
    let request_type = non_empty(Fields::new(command, "Command"), "RequestType")?;
    let Some(typed) = read_typed(request_type, command)? else {
        return Ok(CommandRequest::new(
            uuid.clone(),
            Command::Other(RawCommand {
                request_type: request_type.to_owned(),
                uuid,
                envelope: envelope.clone(),
                bytes: bytes.to_vec(),
            }),
        ));
    };
    only_keys(&envelope, request_type, &["CommandUUID", "Command"])?;
    Ok(CommandRequest::new(uuid, typed))
}

fn non_empty<'a>(f: Fields<'a>, key: &'static str) -> Result<&'a str> {
    match f.req_str(key)? {
        "" => Err(AppleError::MissingField {
            message: f.message,
            key,
        }),
        s => Ok(s),
    }
}

/// Refuses any key of `dict` that is not in `allowed`.
fn only_keys(dict: &PlistDictionary, request_type: &str, allowed: &[&str]) -> Result<()> {
    match dict.keys().find(|k| !allowed.contains(k)) {
        Some(key) => Err(AppleError::UnsupportedCommandKey {
            request_type: request_type.to_owned(),
            key: key.to_owned(),
        }),
        None => Ok(()),
    }
}

fn invalid(
    payload: &str,
    key: &'static str,
    value: impl fmt::Display,
    reason: &'static str,
) -> AppleError {
    AppleError::InvalidValue {
        payload: payload.to_owned(),
        key,
        value: value.to_string(),
        reason,
    }
}

/// The typed command for a `RequestType` this crate models, `None` for
/// another one.
fn read_typed(request_type: &str, c: &PlistDictionary) -> Result<Option<Command>> {
    let (message, keys): (&'static str, &[&str]) = match request_type {
        "DeviceInformation" => ("DeviceInformation", &["Queries"]),
        "SecurityInfo" => ("SecurityInfo", &[]),
        "ProfileList" => ("ProfileList", &["ManagedOnly"]),
        "InstallProfile" => ("InstallProfile", &["Payload"]),
        "RemoveProfile" => ("RemoveProfile", &["Identifier"]),
        "DeviceLock" => ("DeviceLock", &["Message", "PhoneNumber", "PIN"]),
        "EraseDevice" => (
            "EraseDevice",
            &["PreserveDataPlan", "DisallowProximitySetup", "PIN"],
        ),
        "ClearPasscode" => ("ClearPasscode", &["UnlockToken"]),
        "RestartDevice" => ("RestartDevice", &["NotifyUser"]),
        "ShutDownDevice" => ("ShutDownDevice", &[]),
        "InstalledApplicationList" => (
            "InstalledApplicationList",
            &["Identifiers", "ManagedAppsOnly", "Items"],
        ),
        "InstallApplication" => (
            "InstallApplication",
            &[
                "iTunesStoreID",
                "Identifier",
                "ManifestURL",
                "Options",
                "ManagementFlags",
            ],
        ),
        "RemoveApplication" => ("RemoveApplication", &["Identifier"]),
        "CertificateList" => ("CertificateList", &["ManagedOnly"]),
        "Settings" => ("Settings", &["Settings"]),
        _ => return Ok(None),
    };
    let mut allowed = vec!["RequestType"];
    allowed.extend_from_slice(keys);
    only_keys(c, message, &allowed)?;
    let f = Fields::new(c, message);
    let required = |key: &'static str| AppleError::MissingField { message, key };
    let command = match RequestType::parse(request_type) {
        RequestType::DeviceInformation => Command::DeviceInformation(DeviceInformation {
            queries: f
                .opt_strings("Queries")?
                .ok_or_else(|| required("Queries"))?,
        }),
        RequestType::SecurityInfo => Command::SecurityInfo(SecurityInfo),
        RequestType::ProfileList => Command::ProfileList(ProfileList {
            managed_only: f.opt_bool("ManagedOnly")?,
        }),
        RequestType::InstallProfile => Command::InstallProfile(InstallProfile {
            payload: f.req_data("Payload")?.to_vec(),
        }),
        RequestType::RemoveProfile => Command::RemoveProfile(RemoveProfile {
            identifier: non_empty(f, "Identifier")?.to_owned(),
        }),
        RequestType::DeviceLock => Command::DeviceLock(DeviceLock {
            message: f.opt_string("Message")?,
            phone_number: f.opt_string("PhoneNumber")?,
            pin: f.opt_string("PIN")?,
        }),
        RequestType::EraseDevice => Command::EraseDevice(EraseDevice {
            preserve_data_plan: f.opt_bool("PreserveDataPlan")?,
            disallow_proximity_setup: f.opt_bool("DisallowProximitySetup")?,
            pin: f.opt_string("PIN")?,
        }),
        RequestType::ClearPasscode => Command::ClearPasscode(ClearPasscode {
            unlock_token: f.req_data("UnlockToken")?.to_vec(),
        }),
        RequestType::RestartDevice => Command::RestartDevice(RestartDevice {
            notify_user: f.opt_bool("NotifyUser")?,
        }),
        RequestType::ShutDownDevice => Command::ShutDownDevice(ShutDownDevice),
        RequestType::InstalledApplicationList => {
            Command::InstalledApplicationList(InstalledApplicationList {
                identifiers: f.opt_strings("Identifiers")?.unwrap_or_default(),
                managed_apps_only: f.opt_bool("ManagedAppsOnly")?,
                items: f.opt_strings("Items")?.unwrap_or_default(),
            })
        }
        RequestType::InstallApplication => Command::InstallApplication(install_application(f)?),
        RequestType::RemoveApplication => Command::RemoveApplication(RemoveApplication {
            identifier: non_empty(f, "Identifier")?.to_owned(),
        }),
        RequestType::CertificateList => Command::CertificateList(CertificateList {
            managed_only: f.opt_bool("ManagedOnly")?,
        }),
        RequestType::Settings => Command::Settings(Settings {
            settings: f
                .opt_dict_array("Settings")?
                .into_iter()
                .map(setting)
                .collect::<Result<_>>()?,
        }),
        RequestType::Other(_) => return Ok(None),
    };
    Ok(Some(command))
}

fn install_application(f: Fields<'_>) -> Result<InstallApplication> {
    const WHAT: &str = "InstallApplication";
    let management_flags = f.opt_u32("ManagementFlags")?;
    let volume_purchase = match f.opt_dict("Options")? {
        None => None,
        Some(options) => {
            only_keys(options, WHAT, &["PurchaseMethod"])?;
            let method =
                Fields::new(options, "InstallApplication Options").opt_int("PurchaseMethod")?;
            Some(match method {
                None | Some(0) => false,
                Some(1) => true,
                Some(other) => {
                    return Err(invalid(WHAT, "PurchaseMethod", other, "must be 0 or 1"));
                }
            })
        }
    };
    let store_id = match f.dict.get("iTunesStoreID") {
        None => None,
        Some(v) => Some(v.as_unsigned_integer().ok_or(AppleError::WrongType {
            message: WHAT,
            key: "iTunesStoreID".into(),
            expected: "a non-negative integer",
        })?),
    };
    let identifier = f.opt_str("Identifier")?;
    let manifest = f.opt_str("ManifestURL")?;
    match (store_id, identifier, manifest) {
        (Some(itunes_store_id), None, None) => Ok(InstallApplication::StoreId {
            itunes_store_id,
            volume_purchase: volume_purchase.unwrap_or(false),
            management_flags,
        }),
        (None, Some(identifier), None) if !identifier.is_empty() => {
            Ok(InstallApplication::BundleId {
                identifier: identifier.to_owned(),
                volume_purchase: volume_purchase.unwrap_or(false),
                management_flags,
            })
        }
        (None, None, Some(url)) => {
            if volume_purchase.is_some() {
                return Err(AppleError::UnsupportedCommandKey {
                    request_type: WHAT.into(),
                    key: "Options".into(),
                });
            }
            Ok(InstallApplication::Manifest {
                manifest_url: HttpsUrl::new("ManifestURL", url)?,
                management_flags,
            })
        }
        (None, None, None) => Err(AppleError::MissingField {
            message: WHAT,
            key: "iTunesStoreID",
        }),
        _ => Err(invalid(
            WHAT,
            "iTunesStoreID",
            "several",
            "exactly one of iTunesStoreID, Identifier (non-empty) and ManifestURL is required",
        )),
    }
}

fn setting(d: &PlistDictionary) -> Result<Setting> {
    const WHAT: &str = "Settings item";
    let f = Fields::new(d, WHAT);
    let item = non_empty(f, "Item")?;
    let keys: &[&str] = match item {
        "DeviceName" => &["Item", "DeviceName"],
        "HostName" => &["Item", "HostName"],
        "DataRoaming" | "VoiceRoaming" | "PersonalHotspot" | "Bluetooth" => &["Item", "Enabled"],
        "Wallpaper" => &["Item", "Image", "Where"],
        other => {
            return Err(AppleError::UnsupportedCommandKey {
                request_type: "Settings".into(),
                key: format!("Item {other}"),
            });
        }
    };
    only_keys(d, "Settings", keys)?;
    let enabled = || {
        f.opt_bool("Enabled")?.ok_or(AppleError::MissingField {
            message: WHAT,
            key: "Enabled",
        })
    };
    Ok(match item {
        "DeviceName" => Setting::DeviceName(f.req_str("DeviceName")?.to_owned()),
        "HostName" => Setting::HostName(f.req_str("HostName")?.to_owned()),
        "DataRoaming" => Setting::DataRoaming(enabled()?),
        "VoiceRoaming" => Setting::VoiceRoaming(enabled()?),
        "PersonalHotspot" => Setting::PersonalHotspot(enabled()?),
        "Bluetooth" => Setting::Bluetooth(enabled()?),
        _ => {
            let place = f.opt_int("Where")?.ok_or(AppleError::MissingField {
                message: WHAT,
                key: "Where",
            })?;
            Setting::Wallpaper {
                image: f.req_data("Image")?.to_vec(),
                place: u8::try_from(place)
                    .ok()
                    .filter(|p| (1..=3).contains(p))
                    .ok_or_else(|| {
                        invalid("Settings Wallpaper", "Where", place, "must be 1, 2 or 3")
                    })?,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plist(body: &str) -> Vec<u8> {
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">{body}</plist>"#)
            .into_bytes()
    }

    #[test]
    fn missing_and_wrong_keys_are_typed_errors() {
        let no_type =
            plist("<dict><key>CommandUUID</key><string>u</string><key>Command</key><dict/></dict>");
        assert!(matches!(
            parse_command(&no_type),
            Err(AppleError::MissingField {
                key: "RequestType",
                ..
            })
        ));
        let bad_uuid = plist(
            "<dict><key>CommandUUID</key><string>a\u{7}b</string><key>Command</key><dict><key>RequestType</key><string>SecurityInfo</string></dict></dict>",
        );
        assert!(matches!(
            parse_command(&bad_uuid),
            Err(AppleError::InvalidUuid {
                field: "CommandUUID",
                ..
            })
        ));
        let wrong = plist(
            "<dict><key>CommandUUID</key><string>u</string><key>Command</key><dict><key>RequestType</key><string>DeviceLock</string><key>PIN</key><integer>1</integer></dict></dict>",
        );
        assert!(matches!(
            parse_command(&wrong),
            Err(AppleError::WrongType {
                message: "DeviceLock",
                ..
            })
        ));
        let extra = plist(
            "<dict><key>CommandUUID</key><string>u</string><key>Command</key><dict><key>RequestType</key><string>DeviceLock</string><key>Pin</key><string>1</string></dict></dict>",
        );
        assert!(matches!(
            parse_command(&extra),
            Err(AppleError::UnsupportedCommandKey { key, .. }) if key == "Pin"
        ));
    }

    #[test]
    fn raw_commands_keep_their_bytes_and_hide_their_values() {
        let body = plist(
            "<dict><key>CommandUUID</key><string>u-1</string><key>Command</key><dict><key>RequestType</key><string>EnableLostMode</string><key>Message</key><string>secret-note</string></dict></dict>",
        );
        let req = parse_command(&body).unwrap();
        let Command::Other(raw) = &req.command else {
            panic!("not raw: {req:?}");
        };
        assert_eq!(raw.request_type(), "EnableLostMode");
        assert_eq!(
            req.command.request_type(),
            RequestType::Other("EnableLostMode".into())
        );
        assert_eq!(req.to_xml().unwrap(), body);
        assert!(!format!("{req:?}").contains("secret-note"));
    }
}
