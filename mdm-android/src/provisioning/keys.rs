//! The `android.app.extra.PROVISIONING_*` keys this crate reads and writes.

/// DeviceAdminReceiver of the agent, `package/class`. Required.
pub const ADMIN_COMPONENT_NAME: &str = "android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME";
/// Where the agent APK is downloaded from.
pub const DOWNLOAD_LOCATION: &str =
    "android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION";
/// HTTP cookie header for the download.
pub const DOWNLOAD_COOKIE_HEADER: &str =
    "android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_COOKIE_HEADER";
/// URL-safe base64 SHA-256 of the APK file.
pub const PACKAGE_CHECKSUM: &str = "android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_CHECKSUM";
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
