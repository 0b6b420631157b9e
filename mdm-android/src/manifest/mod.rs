//! `AndroidManifest.xml` (source form): the generic manifest ([`model`]:
//! identity, SDK levels, permissions, components, meta-data), its XML
//! ([`xml`]), and our agent's own ([`agent`]).
//!

//! The agent's `AndroidManifest.xml` (source form): identity, SDK levels,
//! permissions and the components seed 003 §5.4 walks the user through
//! granting — all-files access, background location, camera, the device-admin
//! receiver, the accessibility service, notifications — plus the
//! `android.content.APP_RESTRICTIONS` pointer to the managed-configuration
//! schema and the Android 10+/12+ provisioning activities a DPC must offer.

mod agent;
mod model;
mod xml;

pub use agent::AGENT_PERMISSIONS;
pub use model::{
    APP_RESTRICTIONS, AndroidManifest, Application, Component, ComponentKind, IntentFilter,
    MetaData, UsesPermission, UsesSdk,
};
