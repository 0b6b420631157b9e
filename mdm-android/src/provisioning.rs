//! Android Enterprise provisioning payloads: the QR code's JSON and the NFC
//! record's Properties text (R-AN-1, R-IN-2).
//!
//! The keys are the `DevicePolicyManager.EXTRA_PROVISIONING_*` constants and
//! the JSON types are those ManagedProvisioning expects (strings, booleans, an
//! int for the minimum version code, an object for the admin extras). The NFC
//! form carries the same keys with every value a string, and the admin extras
//! as a nested Properties text (what `PropertiesProvisioningDataParser` reads).
//! Our agent's connection settings travel in the admin extras under
//! [`extras`] keys.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::restrictions::KeyPath;
use crate::{AndroidError, ServerAddress, Sha256Digest, properties};

/// The `android.app.extra.PROVISIONING_*` keys this crate reads and writes.
pub mod keys {
    /// DeviceAdminReceiver of the agent, `package/class`. Required.
    pub const ADMIN_COMPONENT_NAME: &str =
        "android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME";
    /// Where the agent APK is downloaded from.
    pub const DOWNLOAD_LOCATION: &str =
        "android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION";
    /// HTTP cookie header for the download.
    pub const DOWNLOAD_COOKIE_HEADER: &str =
        "android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_COOKIE_HEADER";
    /// URL-safe base64 SHA-256 of the APK file.
    pub const PACKAGE_CHECKSUM: &str =
        "android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_CHECKSUM";
    /// URL-safe base64 SHA-256 of a signing certificate of the APK.
    pub const SIGNATURE_CHECKSUM: &str =
        "android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM";
    /// Download again when the installed agent is older than this version code.
    pub const MINIMUM_VERSION_CODE: &str =
        "android.app.extra.PROVISIONING_DEVICE_ADMIN_MINIMUM_VERSION_CODE";
    /// The bundle handed to the agent.
    pub const ADMIN_EXTRAS_BUNDLE: &str = "android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE";
    /// Wi-Fi network name.
    pub const WIFI_SSID: &str = "android.app.extra.PROVISIONING_WIFI_SSID";
    /// Whether the network is hidden.
    pub const WIFI_HIDDEN: &str = "android.app.extra.PROVISIONING_WIFI_HIDDEN";
    /// `NONE`, `WPA`, `WEP` or `EAP`.
    pub const WIFI_SECURITY_TYPE: &str = "android.app.extra.PROVISIONING_WIFI_SECURITY_TYPE";
    /// Wi-Fi password.
    pub const WIFI_PASSWORD: &str = "android.app.extra.PROVISIONING_WIFI_PASSWORD";
    /// Locale, `xx_YY`.
    pub const LOCALE: &str = "android.app.extra.PROVISIONING_LOCALE";
    /// Time zone id.
    pub const TIME_ZONE: &str = "android.app.extra.PROVISIONING_TIME_ZONE";
    /// Keep non-essential system apps enabled.
    pub const LEAVE_ALL_SYSTEM_APPS_ENABLED: &str =
        "android.app.extra.PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED";
    /// Skip device encryption.
    pub const SKIP_ENCRYPTION: &str = "android.app.extra.PROVISIONING_SKIP_ENCRYPTION";
    /// Allow provisioning over mobile data.
    pub const USE_MOBILE_DATA: &str = "android.app.extra.PROVISIONING_USE_MOBILE_DATA";

    /// The short NFC aliases ManagedProvisioning also accepts (`a.a.e.*`).
    pub(crate) const SHORT_ALIASES: &[(&str, &str)] = &[
        ("a.a.e.PDACN", ADMIN_COMPONENT_NAME),
        ("a.a.e.PDAPDL", DOWNLOAD_LOCATION),
        ("a.a.e.PDAPDCH", DOWNLOAD_COOKIE_HEADER),
        ("a.a.e.PDAPC", PACKAGE_CHECKSUM),
        ("a.a.e.PDASC", SIGNATURE_CHECKSUM),
        ("a.a.e.PDAMVC", MINIMUM_VERSION_CODE),
        ("a.a.e.PAEB", ADMIN_EXTRAS_BUNDLE),
        ("a.a.e.PWS", WIFI_SSID),
        ("a.a.e.PWH", WIFI_HIDDEN),
        ("a.a.e.PWST", WIFI_SECURITY_TYPE),
        ("a.a.e.PWP", WIFI_PASSWORD),
        ("a.a.e.PL", LOCALE),
        ("a.a.e.PTZ", TIME_ZONE),
        ("a.a.e.PLASAE", LEAVE_ALL_SYSTEM_APPS_ENABLED),
        ("a.a.e.PSE", SKIP_ENCRYPTION),
        ("a.a.e.PUMD", USE_MOBILE_DATA),
    ];
}

/// The keys of our agent's connection settings inside the admin extras bundle.
pub mod extras {
    /// Server host: DNS name or IP literal (IPv6 without brackets).
    pub const SERVER_HOST: &str = "io.mdmtoolkit.agent.SERVER_HOST";
    /// Server port (an int in the QR form).
    pub const SERVER_PORT: &str = "io.mdmtoolkit.agent.SERVER_PORT";
    /// The one-time enrollment token.
    pub const ENROLLMENT_TOKEN: &str = "io.mdmtoolkit.agent.ENROLLMENT_TOKEN";
    /// SHA-256 of the server CA certificate, lower-case hex.
    pub const CA_FINGERPRINT: &str = "io.mdmtoolkit.agent.CA_FINGERPRINT";
}

/// An Android component name, `package/class`, as
/// `ComponentName.unflattenFromString` reads it (a class starting with `.` is
/// relative to the package). Stored with the full class name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComponentName {
    package: String,
    class: String,
}

impl ComponentName {
    /// Builds one from a package name and a class name (full or `.Relative`).
    pub fn new(package: &str, class: &str) -> Result<Self, AndroidError> {
        let input = format!("{package}/{class}");
        let invalid = |reason: &str| {
            AndroidError::provisioning_value(
                keys::ADMIN_COMPONENT_NAME,
                format!("{input:?}: {reason}"),
            )
        };
        if !is_package_name(package) {
            return Err(invalid(
                "the package is not a valid Android package name (dot-separated Java identifiers, at least two)",
            ));
        }
        let class = match class.strip_prefix('.') {
            Some(relative) => format!("{package}.{relative}"),
            None => class.to_owned(),
        };
        if !is_class_name(&class) {
            return Err(invalid("the class is not a valid Java class name"));
        }
        Ok(Self {
            package: package.to_owned(),
            class,
        })
    }

    /// Reads the flattened form `package/class` or `package/.Class`.
    pub fn parse(flattened: &str) -> Result<Self, AndroidError> {
        let (package, class) = flattened.split_once('/').ok_or_else(|| {
            AndroidError::provisioning_value(
                keys::ADMIN_COMPONENT_NAME,
                format!("{flattened:?}: expected package/class"),
            )
        })?;
        Self::new(package, class)
    }

    /// The package name.
    pub fn package(&self) -> &str {
        &self.package
    }

    /// The full class name.
    pub fn class(&self) -> &str {
        &self.class
    }
}

impl fmt::Display for ComponentName {
    /// `ComponentName.flattenToString()`: `package/full.Class`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.package, self.class)
    }
}

fn is_java_identifier(segment: &str) -> bool {
    let mut chars = segment.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// An Android package name: at least two dot-separated segments, each a
/// letter followed by letters, digits or `_` (what `PackageParser` enforces).
pub(crate) fn is_package_name(name: &str) -> bool {
    let mut count = 0;
    for segment in name.split('.') {
        let mut chars = segment.chars();
        if !matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
            || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return false;
        }
        count += 1;
    }
    count >= 2
}

fn is_class_name(name: &str) -> bool {
    !name.is_empty() && name.split('.').all(is_java_identifier)
}

/// How the device checks the downloaded agent APK. ManagedProvisioning needs
/// at least one when it downloads a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageChecksum {
    /// SHA-256 of the APK file (changes with every build).
    Package(Sha256Digest),
    /// SHA-256 of a signing certificate (stable across releases; API 23+).
    Signature(Sha256Digest),
    /// Both.
    Both {
        /// SHA-256 of the APK file.
        package: Sha256Digest,
        /// SHA-256 of a signing certificate.
        signature: Sha256Digest,
    },
}

/// Where the device downloads the agent from during provisioning.
///
/// `Debug` does not show the cookie header (it authenticates the download).
#[derive(Clone, PartialEq, Eq)]
pub struct PackageDownload {
    /// An `https://` URL.
    location: String,
    /// How the download is verified.
    pub checksum: PackageChecksum,
    /// Optional cookie header sent with the download.
    pub cookie_header: Option<String>,
    /// Download even if installed, when the installed version code is lower.
    pub minimum_version_code: Option<i32>,
}

impl fmt::Debug for PackageDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageDownload")
            .field("location", &self.location)
            .field("checksum", &self.checksum)
            .field(
                "cookie_header",
                &self.cookie_header.as_ref().map(|_| Redacted),
            )
            .field("minimum_version_code", &self.minimum_version_code)
            .finish()
    }
}

/// Shown by `Debug` in place of a secret.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Whether a bundle key names a secret (an EAP password or client key,
/// another DPC's enrollment token, a cookie): `Debug` does not show its value.
fn names_secret(key: &str) -> bool {
    const MARKERS: &[&str] = &[
        "PASSWORD",
        "PASSPHRASE",
        "TOKEN",
        "SECRET",
        "COOKIE",
        "USER_CERTIFICATE",
        "PRIVATE",
        "CREDENTIAL",
        "ACTIVATION",
        "PSK",
        "PIN",
    ];
    let upper = key.to_ascii_uppercase();
    MARKERS.iter().any(|marker| upper.contains(marker))
}

/// A bundle as `Debug` shows it: the values of [secret-named](names_secret)
/// keys redacted, at every level.
struct RedactedBundle<'a>(&'a BTreeMap<String, BundleValue>);

impl fmt::Debug for RedactedBundle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Nested<'a>(&'a BTreeMap<String, BundleValue>);
        impl fmt::Debug for Nested<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple("Bundle")
                    .field(&RedactedBundle(self.0))
                    .finish()
            }
        }
        let mut map = f.debug_map();
        for (key, value) in self.0 {
            match value {
                _ if names_secret(key) => map.entry(key, &Redacted),
                BundleValue::Bundle(inner) => map.entry(key, &Nested(inner)),
                other => map.entry(key, other),
            };
        }
        map.finish()
    }
}

impl PackageDownload {
    /// A download from an `https://` URL, checked by `checksum`.
    pub fn new(location: &str, checksum: PackageChecksum) -> Result<Self, AndroidError> {
        validate_https_url(keys::DOWNLOAD_LOCATION, location)?;
        Ok(Self {
            location: location.to_owned(),
            checksum,
            cookie_header: None,
            minimum_version_code: None,
        })
    }

    /// The download URL.
    pub fn location(&self) -> &str {
        &self.location
    }
}

fn validate_https_url(key: &str, url: &str) -> Result<(), AndroidError> {
    let rest = url
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .and_then(|_| url.get(8..))
        .ok_or_else(|| {
            AndroidError::provisioning_value(key, format!("{url:?} is not an https:// URL"))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AndroidError::provisioning_value(
            key,
            format!("{url:?} has no host or holds whitespace"),
        ));
    }
    Ok(())
}

/// A value of a `PersistableBundle` as it appears in provisioning JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum BundleValue {
    /// JSON `true`/`false`.
    Bool(bool),
    /// A JSON integer (int or long).
    Integer(i64),
    /// A JSON number with a fraction.
    Double(f64),
    /// A JSON string.
    String(String),
    /// A JSON array of strings.
    StringArray(Vec<String>),
    /// A nested JSON object.
    Bundle(BTreeMap<String, BundleValue>),
}

impl BundleValue {
    /// Reads a JSON value found at `key` (a path, written out only for an
    /// error: formatting every nested key's full path was quadratic).
    fn from_json(key: &KeyPath<'_>, value: &Value) -> Result<Self, AndroidError> {
        Ok(match value {
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Integer(i),
                None => Self::Double(n.as_f64().ok_or_else(|| {
                    AndroidError::provisioning_value(key.to_string(), "number out of range")
                })?),
            },
            Value::String(s) => Self::String(s.clone()),
            Value::Array(items) => Self::StringArray(
                items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            AndroidError::provisioning_value(
                                key.to_string(),
                                "only arrays of strings are supported",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Self::Bundle(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::from_json(&key.key(k), v)?)))
                    .collect::<Result<_, AndroidError>>()?,
            ),
            Value::Null => {
                return Err(AndroidError::provisioning_value(
                    key.to_string(),
                    "null is not a bundle value",
                ));
            }
        })
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Bool(b) => Value::Bool(*b),
            Self::Integer(i) => Value::from(*i),
            Self::Double(d) => Value::from(*d),
            Self::String(s) => Value::String(s.clone()),
            Self::StringArray(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
            Self::Bundle(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// The NFC (all-strings) form, or `None` for values NFC cannot carry.
    fn to_nfc_string(&self) -> Option<String> {
        match self {
            Self::Bool(b) => Some(b.to_string()),
            Self::Integer(i) => Some(i.to_string()),
            Self::Double(d) => Some(d.to_string()),
            Self::String(s) => Some(s.clone()),
            Self::StringArray(_) | Self::Bundle(_) => None,
        }
    }
}

/// A secret enrollment token. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollmentToken(String);

impl EnrollmentToken {
    /// Wraps a token issued by the model. It must be non-empty printable ASCII.
    pub fn new(token: &str) -> Result<Self, AndroidError> {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AndroidError::provisioning_value(
                extras::ENROLLMENT_TOKEN,
                "the enrollment token must be non-empty printable ASCII",
            ));
        }
        Ok(Self(token.to_owned()))
    }

    /// The token text, to put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EnrollmentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnrollmentToken(<redacted>)")
    }
}

/// What our agent needs to reach and trust the server on first start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConnection {
    /// Server host and port (the port is always written, defaulted if absent).
    pub server: ServerAddress,
    /// The one-time enrollment token.
    pub enrollment_token: EnrollmentToken,
    /// SHA-256 of the server's CA certificate, which the agent pins.
    pub ca_fingerprint: Sha256Digest,
}

/// The admin extras bundle: our agent's connection settings, if present, and
/// any other keys (another DPC's, or future ones), kept as they came.
///
/// `Debug` redacts the token and the values of secret-named other keys.
#[derive(Clone, PartialEq, Default)]
pub struct AdminExtras {
    /// Our agent's settings.
    pub connection: Option<AgentConnection>,
    /// Every other key of the bundle.
    pub other: BTreeMap<String, BundleValue>,
}

impl fmt::Debug for AdminExtras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminExtras")
            .field("connection", &self.connection)
            .field("other", &RedactedBundle(&self.other))
            .finish()
    }
}

impl AdminExtras {
    fn is_empty(&self) -> bool {
        self.connection.is_none() && self.other.is_empty()
    }

    fn to_json(&self) -> Map<String, Value> {
        let mut map: Map<String, Value> = self
            .other
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        if let Some(connection) = &self.connection {
            map.insert(
                extras::SERVER_HOST.into(),
                connection.server.host_string().into(),
            );
            map.insert(
                extras::SERVER_PORT.into(),
                connection.server.effective_port().into(),
            );
            map.insert(
                extras::ENROLLMENT_TOKEN.into(),
                connection.enrollment_token.expose().into(),
            );
            map.insert(
                extras::CA_FINGERPRINT.into(),
                connection.ca_fingerprint.to_hex().into(),
            );
        }
        map
    }

    /// Splits a parsed bundle into our settings (all four keys, or none) and the rest.
    fn from_bundle(mut bundle: BTreeMap<String, BundleValue>) -> Result<Self, AndroidError> {
        let ours = [
            extras::SERVER_HOST,
            extras::SERVER_PORT,
            extras::ENROLLMENT_TOKEN,
            extras::CA_FINGERPRINT,
        ];
        let present = ours.iter().filter(|k| bundle.contains_key(**k)).count();
        if present == 0 {
            return Ok(Self {
                connection: None,
                other: bundle,
            });
        }
        let mut take_string = |key: &'static str| -> Result<String, AndroidError> {
            match bundle.remove(key) {
                Some(BundleValue::String(s)) => Ok(s),
                Some(BundleValue::Integer(i)) if key == extras::SERVER_PORT => Ok(i.to_string()),
                Some(_) => Err(AndroidError::provisioning_value(key, "wrong JSON type")),
                None => Err(AndroidError::provisioning_value(
                    key,
                    "missing; the agent's connection settings must all be present",
                )),
            }
        };
        let host = take_string(extras::SERVER_HOST)?;
        let port = take_string(extras::SERVER_PORT)?;
        let token = take_string(extras::ENROLLMENT_TOKEN)?;
        let fingerprint = take_string(extras::CA_FINGERPRINT)?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let server = ServerAddress::parse(&authority)
            .map_err(|e| AndroidError::provisioning_value(extras::SERVER_HOST, e.to_string()))?;
        let ca_fingerprint = Sha256Digest::from_hex(&fingerprint)
            .map_err(|reason| AndroidError::provisioning_value(extras::CA_FINGERPRINT, reason))?;
        Ok(Self {
            connection: Some(AgentConnection {
                server,
                enrollment_token: EnrollmentToken::new(&token)?,
                ca_fingerprint,
            }),
            other: bundle,
        })
    }
}

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
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Wpa => "WPA",
            Self::Wep => "WEP",
            Self::Eap => "EAP",
        }
    }

    fn parse(text: &str) -> Result<Self, AndroidError> {
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
            validate_https_url(keys::DOWNLOAD_LOCATION, &download.location)?;
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

    /// The QR code's JSON text (keys sorted, compact).
    pub fn to_qr_json(&self) -> Result<String, AndroidError> {
        let map = self.to_json_map()?;
        serde_json::to_string(&Value::Object(map)).map_err(|e| {
            AndroidError::MalformedProvisioning {
                reason: e.to_string(),
            }
        })
    }

    /// The same JSON, indented (for documentation and snapshots).
    pub fn to_qr_json_pretty(&self) -> Result<String, AndroidError> {
        let map = self.to_json_map()?;
        serde_json::to_string_pretty(&Value::Object(map)).map_err(|e| {
            AndroidError::MalformedProvisioning {
                reason: e.to_string(),
            }
        })
    }

    fn to_json_map(&self) -> Result<Map<String, Value>, AndroidError> {
        self.validate()?;
        let mut map: Map<String, Value> = self
            .other
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        for (key, value) in self.typed_entries() {
            let json = match value {
                Entry::Str(s) => Value::String(s),
                Entry::Bool(b) => Value::Bool(b),
                Entry::Int(i) => Value::from(i),
                Entry::Extras => Value::Object(self.admin_extras.to_json()),
            };
            map.insert(key.to_owned(), json);
        }
        Ok(map)
    }

    /// The NFC record's text: `java.util.Properties`, every value a string,
    /// the admin extras as a nested Properties text. Nested bundles and
    /// arrays cannot be carried and are refused, naming the key.
    pub fn to_nfc_properties(&self) -> Result<String, AndroidError> {
        self.validate()?;
        let mut pairs: BTreeMap<String, String> = BTreeMap::new();
        for (key, value) in &self.other {
            let text = value.to_nfc_string().ok_or_else(|| {
                AndroidError::provisioning_value(
                    key.clone(),
                    "NFC cannot carry arrays or nested bundles",
                )
            })?;
            pairs.insert(key.clone(), text);
        }
        for (key, value) in self.typed_entries() {
            let text = match value {
                Entry::Str(s) => s,
                Entry::Bool(b) => b.to_string(),
                Entry::Int(i) => i.to_string(),
                Entry::Extras => {
                    let mut inner: BTreeMap<String, String> = BTreeMap::new();
                    for (k, v) in self.admin_extras.to_json() {
                        let text = match v {
                            Value::String(s) => s,
                            Value::Bool(b) => b.to_string(),
                            Value::Number(n) => n.to_string(),
                            _ => {
                                return Err(AndroidError::provisioning_value(
                                    format!("{}/{k}", keys::ADMIN_EXTRAS_BUNDLE),
                                    "NFC cannot carry arrays or nested bundles",
                                ));
                            }
                        };
                        inner.insert(k, text);
                    }
                    properties::store(inner.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                }
            };
            pairs.insert(key.to_owned(), text);
        }
        Ok(properties::store(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }

    fn typed_entries(&self) -> Vec<(&'static str, Entry)> {
        let mut entries = vec![(
            keys::ADMIN_COMPONENT_NAME,
            Entry::Str(self.admin_component.to_string()),
        )];
        if let Some(download) = &self.download {
            entries.push((
                keys::DOWNLOAD_LOCATION,
                Entry::Str(download.location.clone()),
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

    /// Reads a QR code's JSON. Checks every key we model for its JSON type
    /// and value; keeps unknown keys in [`Self::other`].
    pub fn parse_qr_json(text: &str) -> Result<Self, AndroidError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| AndroidError::MalformedProvisioning {
                reason: format!("not JSON: {e}"),
            })?;
        let Value::Object(object) = value else {
            return Err(AndroidError::MalformedProvisioning {
                reason: "the QR payload is not a JSON object".into(),
            });
        };
        let mut fields = RawFields::default();
        for (key, value) in object {
            let raw = match (key.as_str(), value) {
                (keys::ADMIN_EXTRAS_BUNDLE, Value::Object(map)) => RawValue::Extras(
                    map.iter()
                        .map(|(k, v)| {
                            Ok((
                                k.clone(),
                                BundleValue::from_json(
                                    &KeyPath::Root.key(keys::ADMIN_EXTRAS_BUNDLE).key(k),
                                    v,
                                )?,
                            ))
                        })
                        .collect::<Result<_, AndroidError>>()?,
                ),
                (keys::ADMIN_EXTRAS_BUNDLE, _) => {
                    return Err(AndroidError::provisioning_value(
                        key,
                        "expected a JSON object",
                    ));
                }
                (_, value) => {
                    RawValue::Json(BundleValue::from_json(&KeyPath::Root.key(&key), &value)?)
                }
            };
            fields.values.insert(key, raw);
        }
        fields.into_payload(Typing::Json)
    }

    /// Reads an NFC record's Properties text. Long keys and the short
    /// `a.a.e.*` aliases are accepted; values are parsed from strings the way
    /// ManagedProvisioning does (`true`/`false`, decimal integers).
    pub fn parse_nfc_properties(text: &str) -> Result<Self, AndroidError> {
        let pairs =
            properties::load(text).map_err(|reason| AndroidError::MalformedProvisioning {
                reason: format!("not Properties text: {reason}"),
            })?;
        let mut fields = RawFields::default();
        for (key, value) in pairs {
            let key = keys::SHORT_ALIASES
                .iter()
                .find(|(short, _)| *short == key)
                .map_or(key, |(_, long)| (*long).to_owned());
            let raw = if key == keys::ADMIN_EXTRAS_BUNDLE {
                let inner = properties::load(&value).map_err(|reason| {
                    AndroidError::provisioning_value(keys::ADMIN_EXTRAS_BUNDLE, reason)
                })?;
                RawValue::Extras(
                    inner
                        .into_iter()
                        .map(|(k, v)| (k, BundleValue::String(v)))
                        .collect(),
                )
            } else {
                RawValue::Json(BundleValue::String(value))
            };
            fields.values.insert(key, raw);
        }
        fields.into_payload(Typing::Nfc)
    }
}

enum Entry {
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Typing {
    /// JSON types are checked.
    Json,
    /// Every value is a string and is converted.
    Nfc,
}

enum RawValue {
    Json(BundleValue),
    Extras(BTreeMap<String, BundleValue>),
}

#[derive(Default)]
struct RawFields {
    values: BTreeMap<String, RawValue>,
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

    fn into_payload(mut self, typing: Typing) -> Result<ProvisioningPayload, AndroidError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/android/");

    fn vector(name: &str) -> Option<String> {
        std::fs::read_to_string(format!("{VECTORS}{name}")).ok()
    }

    pub(crate) fn sample_payload() -> ProvisioningPayload {
        let mut payload = ProvisioningPayload::new(
            ComponentName::parse("io.mdmtoolkit.agent/.AdminReceiver").unwrap(),
        );
        let mut download = PackageDownload::new(
            "https://mdm.example.com/agent/mdm-agent-1.4.0.apk",
            PackageChecksum::Package(Sha256Digest::of(b"example apk bytes")),
        )
        .unwrap();
        download.minimum_version_code = Some(10400);
        payload.download = Some(download);
        payload.admin_extras.connection = Some(AgentConnection {
            server: ServerAddress::parse("mdm.example.com:13292").unwrap(),
            enrollment_token: EnrollmentToken::new("tok_3q2+7w").unwrap(),
            ca_fingerprint: Sha256Digest::of(b"example CA certificate"),
        });
        payload.wifi = Some(WifiNetwork {
            ssid: "Corp WiFi".into(),
            hidden: false,
            security: WifiSecurity::Wpa,
            password: Some("p=ss:word#1".into()),
        });
        payload.locale = Some("ja_JP".into());
        payload.time_zone = Some("Asia/Tokyo".into());
        payload.leave_all_system_apps_enabled = Some(true);
        payload
    }

    #[test]
    fn qr_json_has_the_exact_keys_and_types() {
        let payload = sample_payload();
        let json: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
        assert_eq!(
            json[keys::ADMIN_COMPONENT_NAME],
            "io.mdmtoolkit.agent/io.mdmtoolkit.agent.AdminReceiver"
        );
        let checksum = json[keys::PACKAGE_CHECKSUM].as_str().unwrap();
        assert_eq!(checksum.len(), 43, "unpadded");
        assert!(!checksum.contains('='));
        assert_eq!(json[keys::MINIMUM_VERSION_CODE], 10400);
        assert_eq!(json[keys::LEAVE_ALL_SYSTEM_APPS_ENABLED], true);
        assert_eq!(json[keys::WIFI_HIDDEN], false);
        let extras = &json[keys::ADMIN_EXTRAS_BUNDLE];
        assert_eq!(extras[extras::SERVER_HOST], "mdm.example.com");
        assert_eq!(extras[extras::SERVER_PORT], 13292);
        assert_eq!(extras[extras::ENROLLMENT_TOKEN], "tok_3q2+7w");
        assert_eq!(extras[extras::CA_FINGERPRINT].as_str().unwrap().len(), 64);
        assert_eq!(
            ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap(),
            payload
        );
        insta::assert_snapshot!("qr_payload", payload.to_qr_json_pretty().unwrap());
    }

    /// Python's `json` reads our QR text and finds the JSON types
    /// ManagedProvisioning expects for each key.
    #[test]
    fn python_json_agrees_on_the_types() {
        let script = r#"
import json, sys
d = json.loads(sys.stdin.buffer.read().decode('utf-8'))
P = 'android.app.extra.PROVISIONING_'
types = {
    'DEVICE_ADMIN_COMPONENT_NAME': str, 'DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION': str,
    'DEVICE_ADMIN_PACKAGE_CHECKSUM': str, 'DEVICE_ADMIN_MINIMUM_VERSION_CODE': int,
    'ADMIN_EXTRAS_BUNDLE': dict, 'WIFI_SSID': str, 'WIFI_HIDDEN': bool,
    'WIFI_SECURITY_TYPE': str, 'WIFI_PASSWORD': str, 'LOCALE': str, 'TIME_ZONE': str,
    'LEAVE_ALL_SYSTEM_APPS_ENABLED': bool,
}
for k, v in d.items():
    assert k.startswith(P), k
    t = types[k[len(P):]]
    assert type(v) is t, (k, type(v))
import base64
c = d[P + 'DEVICE_ADMIN_PACKAGE_CHECKSUM']
assert len(base64.urlsafe_b64decode(c + '=' * (-len(c) % 4))) == 32
assert type(d[P + 'ADMIN_EXTRAS_BUNDLE']['io.mdmtoolkit.agent.SERVER_PORT']) is int
print(len(d))
"#;
        let qr = sample_payload().to_qr_json().unwrap();
        if let Some(out) = crate::android_xml::python3(script, &qr) {
            assert_eq!(out.trim(), "12");
        }
    }

    #[test]
    fn nfc_form_has_the_same_keys_as_strings() {
        let payload = sample_payload();
        let text = payload.to_nfc_properties().unwrap();
        let pairs = properties::load(&text).unwrap();
        let json: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
        let qr_keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        let nfc_keys: Vec<&String> = pairs.iter().map(|(k, _)| k).collect();
        assert_eq!(qr_keys, nfc_keys);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get(keys::MINIMUM_VERSION_CODE), "10400");
        assert_eq!(get(keys::LEAVE_ALL_SYSTEM_APPS_ENABLED), "true");
        let extras = properties::load(&get(keys::ADMIN_EXTRAS_BUNDLE)).unwrap();
        assert!(extras.contains(&(extras::SERVER_PORT.to_owned(), "13292".to_owned())));
        assert_eq!(
            ProvisioningPayload::parse_nfc_properties(&text).unwrap(),
            payload
        );
        insta::assert_snapshot!("nfc_payload", text);
    }

    #[test]
    fn nfc_accepts_short_aliases() {
        let text =
            "a.a.e.PDACN=io.mdmtoolkit.agent/.AdminReceiver\na.a.e.PLASAE=TRUE\na.a.e.PDAMVC=7\n";
        let parsed = ProvisioningPayload::parse_nfc_properties(text);
        // A minimum version code without a download location is refused, naming the key.
        let error = parsed.unwrap_err().to_string();
        assert!(error.contains(keys::MINIMUM_VERSION_CODE), "{error}");
        let parsed = ProvisioningPayload::parse_nfc_properties(
            "a.a.e.PDACN=io.mdmtoolkit.agent/.AdminReceiver\na.a.e.PLASAE=TRUE\n",
        )
        .unwrap();
        assert_eq!(parsed.leave_all_system_apps_enabled, Some(true));
    }

    #[test]
    fn aosp_readme_example_parses_and_round_trips() {
        let Some(text) = vector("aosp_managedprovisioning_readme_qr.json") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "shared vectors missing in CI"
            );
            return;
        };
        let payload = ProvisioningPayload::parse_qr_json(&text).unwrap();
        assert_eq!(payload.admin_component.package(), "com.afwsamples.testdpc");
        assert_eq!(
            payload.admin_component.class(),
            "com.afwsamples.testdpc.DeviceAdminReceiver"
        );
        let download = payload.download.as_ref().unwrap();
        assert_eq!(
            download.location(),
            "https://testdpc-latest-apk.appspot.com/preview"
        );
        let PackageChecksum::Signature(signature) = download.checksum else {
            panic!("expected a signature checksum");
        };
        assert_eq!(
            signature.to_base64url(),
            "gJD2YwtOiWJHkSMkkIfLRlj-quNqG1fb6v100QmzM9w"
        );
        // Our output has the same keys and JSON types as the AOSP example; only
        // the checksum's padding differs.
        let ours: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
        let theirs: Value = serde_json::from_str(&text).unwrap();
        let ours = ours.as_object().unwrap();
        let theirs = theirs.as_object().unwrap();
        assert_eq!(ours.keys().collect::<Vec<_>>(), {
            let mut k: Vec<_> = theirs.keys().collect();
            k.sort();
            k
        });
        for (key, value) in theirs {
            let mine = &ours[key];
            assert_eq!(
                std::mem::discriminant(mine),
                std::mem::discriminant(value),
                "{key}"
            );
            if key != keys::SIGNATURE_CHECKSUM {
                assert_eq!(mine, value, "{key}");
            }
        }
        assert_eq!(
            ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap(),
            payload
        );
    }

    #[test]
    fn other_vendors_payloads_parse() {
        for name in [
            "intune_amapi_clouddpc_dpc_extras.json",
            "headwind_qr_payload.synthesized.json",
        ] {
            let Some(text) = vector(name) else {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "shared vectors missing in CI"
                );
                return;
            };
            let payload = ProvisioningPayload::parse_qr_json(&text).unwrap();
            assert!(payload.admin_extras.connection.is_none(), "{name}");
            assert!(!payload.admin_extras.other.is_empty(), "{name}");
            let again = ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap();
            assert_eq!(again, payload, "{name}");
        }
        let headwind = ProvisioningPayload::parse_qr_json(
            &vector("headwind_qr_payload.synthesized.json").unwrap_or_default(),
        );
        if let Ok(headwind) = headwind {
            let wifi = headwind.wifi.unwrap();
            assert_eq!(wifi.security, WifiSecurity::Wpa);
            assert_eq!(headwind.skip_encryption, Some(true));
            assert_eq!(
                headwind.download.unwrap().checksum,
                PackageChecksum::Package(Sha256Digest::of(b"example apk bytes"))
            );
        }
    }

    #[test]
    fn refusals_name_the_key() {
        let base = r#""android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"io.mdmtoolkit.agent/.AdminReceiver""#;
        let rows: &[(String, &str)] = &[
            ("[]".into(), "not a JSON object"),
            ("{".into(), "not JSON"),
            ("{}".into(), keys::ADMIN_COMPONENT_NAME),
            (
                r#"{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"nopackage"}"#
                    .into(),
                "package/class",
            ),
            (
                r#"{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"x/.Y"}"#.into(),
                "package name",
            ),
            (
                format!(
                    r#"{{{base},"{}":"https://a.example/x.apk"}}"#,
                    keys::DOWNLOAD_LOCATION
                ),
                "CHECKSUM",
            ),
            (
                format!(
                    r#"{{{base},"{}":"http://a.example/x.apk","{}":"{}"}}"#,
                    keys::DOWNLOAD_LOCATION,
                    keys::PACKAGE_CHECKSUM,
                    Sha256Digest::of(b"").to_base64url()
                ),
                "https://",
            ),
            (
                format!(
                    r#"{{{base},"{}":"https://a.example/x.apk","{}":"{}"}}"#,
                    keys::DOWNLOAD_LOCATION,
                    keys::PACKAGE_CHECKSUM,
                    Sha256Digest::of(b"").to_hex()
                ),
                "hex digest",
            ),
            (
                format!(r#"{{{base},"{}":"true"}}"#, keys::SKIP_ENCRYPTION),
                keys::SKIP_ENCRYPTION,
            ),
            (
                format!(r#"{{{base},"{}":true}}"#, keys::ADMIN_EXTRAS_BUNDLE),
                keys::ADMIN_EXTRAS_BUNDLE,
            ),
            (
                format!(r#"{{{base},"{}":"Japan"}}"#, keys::LOCALE),
                keys::LOCALE,
            ),
            (
                format!(r#"{{{base},"{}":"Asia Tokyo"}}"#, keys::TIME_ZONE),
                keys::TIME_ZONE,
            ),
            (
                format!(
                    r#"{{{base},"{}":"x","{}":"WPA3"}}"#,
                    keys::WIFI_SSID,
                    keys::WIFI_SECURITY_TYPE
                ),
                "WPA3",
            ),
            (
                format!(r#"{{{base},"{}":"secret"}}"#, keys::WIFI_PASSWORD),
                "without an SSID",
            ),
            (
                format!(
                    r#"{{{base},"{}":{{"{}":"mdm.example.com"}}}}"#,
                    keys::ADMIN_EXTRAS_BUNDLE,
                    extras::SERVER_HOST
                ),
                extras::SERVER_PORT,
            ),
        ];
        for (input, needle) in rows {
            let error = ProvisioningPayload::parse_qr_json(input)
                .unwrap_err()
                .to_string();
            assert!(error.contains(needle), "{input}: {error}");
        }
    }

    #[test]
    fn for_agent_carries_the_connection() {
        let sample = sample_payload();
        let payload = ProvisioningPayload::for_agent(
            sample.admin_component.clone(),
            sample.download.clone().unwrap(),
            sample.admin_extras.connection.clone().unwrap(),
        );
        let json: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
        assert_eq!(json[keys::LEAVE_ALL_SYSTEM_APPS_ENABLED], true);
        assert_eq!(
            json[keys::ADMIN_EXTRAS_BUNDLE][extras::SERVER_HOST],
            "mdm.example.com"
        );
        let back = ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap();
        assert_eq!(back.admin_extras.connection, sample.admin_extras.connection);
    }

    #[test]
    fn nfc_refuses_nested_bundles() {
        let mut payload = sample_payload();
        payload
            .admin_extras
            .other
            .insert("nested".into(), BundleValue::Bundle(BTreeMap::new()));
        let error = payload.to_nfc_properties().unwrap_err().to_string();
        assert!(error.contains("nested"), "{error}");
        assert!(payload.to_qr_json().is_ok());
    }

    #[test]
    fn token_and_password_are_redacted_in_debug() {
        let debug = format!("{:?}", sample_payload());
        assert!(!debug.contains("tok_3q2"));
        assert!(!debug.contains("p=ss"));
    }

    proptest! {
        #[test]
        fn qr_parser_never_panics(text in "\\PC{0,300}") {
            let _ = ProvisioningPayload::parse_qr_json(&text);
        }

        #[test]
        fn qr_parser_never_panics_on_json_objects(
            entries in proptest::collection::btree_map(
                prop_oneof![
                    Just(keys::ADMIN_COMPONENT_NAME.to_owned()),
                    Just(keys::DOWNLOAD_LOCATION.to_owned()),
                    Just(keys::PACKAGE_CHECKSUM.to_owned()),
                    Just(keys::ADMIN_EXTRAS_BUNDLE.to_owned()),
                    Just(keys::WIFI_SSID.to_owned()),
                    Just(keys::MINIMUM_VERSION_CODE.to_owned()),
                    "\\PC{0,10}",
                ],
                prop_oneof![
                    any::<bool>().prop_map(Value::from),
                    any::<i64>().prop_map(Value::from),
                    "\\PC{0,40}".prop_map(Value::from),
                    Just(serde_json::json!({"io.mdmtoolkit.agent.SERVER_HOST": "h", "io.mdmtoolkit.agent.SERVER_PORT": 1})),
                ],
                0..6,
            )
        ) {
            let text = serde_json::to_string(&entries).unwrap();
            if let Ok(payload) = ProvisioningPayload::parse_qr_json(&text) {
                let again = ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap();
                prop_assert_eq!(again, payload);
            }
        }

        #[test]
        fn nfc_parser_never_panics(text in "\\PC{0,300}") {
            let _ = ProvisioningPayload::parse_nfc_properties(&text);
        }
    }
}
