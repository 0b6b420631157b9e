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

//!
//! One idea per file: [`keys`] and [`extras`] name the wire keys;
//! [`ComponentName`], [`PackageDownload`], [`BundleValue`], [`AdminExtras`]
//! and [`WifiNetwork`] are the payload's parts; the payload itself, its two
//! wire forms (QR JSON, NFC Properties) and the raw decoder both forms share
//! each have their own file.

mod admin_extras;
mod bundle;
mod component;
mod decode;
mod download;
pub mod extras;
pub mod keys;
mod nfc;
mod payload;
mod qr;
mod redact;
mod wifi;

pub use admin_extras::{AdminExtras, AgentConnection};
pub use bundle::BundleValue;
pub use component::ComponentName;
pub(crate) use component::is_package_name;
pub use download::{PackageChecksum, PackageDownload};
pub use payload::ProvisioningPayload;
pub use wifi::{WifiNetwork, WifiSecurity};

#[cfg(test)]
mod tests;
