//! The Android agent's side of mobile device management.
#![forbid(unsafe_code)]

mod digest;
mod error;
mod properties;
mod provisioning;
mod server_address;

pub use digest::Sha256Digest;
pub use error::AndroidError;
pub use provisioning::{
    AdminExtras, AgentConnection, BundleValue, ComponentName, EnrollmentToken, PackageChecksum,
    PackageDownload, ProvisioningPayload, WifiNetwork, WifiSecurity, extras as provisioning_extras,
    keys as provisioning_keys,
};
pub use server_address::{ServerAddress, ServerHost};
mod android_xml;
mod restrictions;
pub use android_xml::ANDROID_NS;
pub use restrictions::{
    MAX_STRING_LEN, ResourceText, ResourceValue, Resources, Restriction, RestrictionSchema,
    RestrictionType,
};
mod manifest;
pub use manifest::{
    AGENT_PERMISSIONS, APP_RESTRICTIONS, AndroidManifest, Application, Component, ComponentKind,
    IntentFilter, MetaData, UsesPermission, UsesSdk,
};
