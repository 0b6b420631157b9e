//! The Android agent's side of mobile device management.
//!
//! An Android device is managed through our agent app. The server builds what
//! the agent needs and speaks its protocol; this crate owns those formats:
//!
//! - **Provisioning** (R-AN-1, R-IN-2): the Android Enterprise QR payload and
//!   its NFC form ([`ProvisioningPayload`]), with the exact
//!   `android.app.extra.PROVISIONING_*` keys and JSON types, carrying the
//!   server address, enrollment token and CA fingerprint in the admin extras.
//! - **Install source** (R-IN-4): what the agent reports about its
//!   installation ([`InstallReport`]) is mapped onto the model's
//!   [`mdm_model::InstallSource`]; KNOX and third-party-EMM installs are
//!   refused with the model's remedy; a plain APK needs a typed
//!   [`mdm_model::ServerAddress`] ([`first_connection_address`]).
//! - **Configuration** (R-PO-1): the device's effective policy from
//!   `mdm-model`, its license and the AMAPI-named Android settings
//!   ([`AndroidDeviceSettings`]) rendered into an [`AgentConfiguration`] with a
//!   [`ContentVersion`] (SHA-256 of its canonical JSON).
//! - **Sync** (R-SY-1, R-DV-1, R-WP-1): typed JSON [`SyncRequest`] /
//!   [`SyncResponse`]; [`AndroidEndpoint::handle_sync`] records the sync in the
//!   model through its own operations and answers with the configuration
//!   only when it changed, the license, pending [`AgentCommand`]s and the next sync time.
//! - **Durable state** (issue #18): command queues and results, agents'
//!   reports and Android settings behind [`AndroidStore`]:
//!   [`MemoryAndroidStore`] by default, `SqlAndroidStore` (features
//!   `sqlite` / `postgres`) in the workspace's database, committed in the
//!   workspace's transaction ([`AndroidEndpoint::with_store`],
//!   [`AndroidEndpoint::companion`]); finished commands pruned by
//!   [`mdm_model::storage::Retention`].
//! - **Registration** (issue #19): an agent holding only its invitation link
//!   learns its device id with the link's token ([`AgentRegistration`]).
//! - **On the wire** (cargo feature `http`, off by default):
//!   `http::sync_router` serves `POST /android/register` and
//!   `POST /android/sync` over a state the server keeps
//!   (`http::AndroidState`), every refusal a 4xx with its reason and an
//!   audit fact.
//! - **Managed configurations**: the `<restrictions>` schema XML
//!   ([`RestrictionSchema`], [`Resources`]) written with quick-xml, parsed,
//!   and used to validate a values bundle; the agent's own schema is
//!   [`agent_restrictions`].
//! - **Manifest**: the agent's `AndroidManifest.xml` ([`AndroidManifest::agent`]).
//!
//! Every function that depends on time takes `now`; nothing here draws
//! randomness. Errors are one enum, [`AndroidError`].
//!
//! # Example
//!
//! ```
//! use mdm_android::{
//!     AgentAuthorization, AgentInfo, AndroidEndpoint, AndroidManifest, ComponentName, DeviceStatus, InstallReport,
//!     ProvisioningPayload, SyncRequest,
//! };
//! use mdm_model::{
//!     EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform, PolicySettings,
//!     ServerAddress, Workspace,
//! };
//! use rand_core::SeedableRng;
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-11-28 09:00 UTC);
//! // The QR payload names the agent's device-admin receiver from its manifest.
//! let manifest = AndroidManifest::agent("io.mdmtoolkit.agent", 10400, "1.4.0")?;
//! let payload = ProvisioningPayload::new(manifest.admin_component()?);
//! let qr = payload.to_qr_json()?;
//! assert_eq!(ProvisioningPayload::parse_qr_json(&qr)?, payload);
//! assert_eq!(ServerAddress::parse("mdm.example.com:13292")?.effective_port(), 13292);
//!
//! // A managed device syncs and receives its configuration once.
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let mut ws = Workspace::new("acme", "ACME Corp", Some("JP"), now)?;
//! ws.add_policy("Default", Workspace::MANAGED, PolicySettings::default(), now)?;
//! let alice = ws.add_user("alice", Some(EmailAddress::parse("alice@acme.example")?), now)?;
//! let invitation = ws.issue_invitation(alice, now, &mut rng)?;
//! let device = ws.enroll(&invitation.token, EnrollmentRequest {
//!     platform: Platform::Android,
//!     os_version: OsVersion::parse("14")?,
//!     model: "Pixel 8".into(),
//!     identification_number: None,
//!     install_source: InstallSource::StandalonePackage,
//! }, now)?;
//! ws.complete_enrollment(device, now)?;
//! ws.move_device(device, Workspace::MANAGED, now)?;
//!
//! let mut endpoint = AndroidEndpoint::default();
//! let mut request = SyncRequest {
//!     device_id: device,
//!     client_certificate_sha256: None,
//!     applied_configuration_version: None,
//!     agent: AgentInfo { version: "1.4.0".into(), install: InstallReport::default() },
//!     os_version: None,
//!     status: DeviceStatus::default(),
//!     command_results: Vec::new(),
//! };
//! // The first sync proves itself with the invitation's token and is given
//! // the agent's credential, which every later sync presents.
//! let first_sync = AgentAuthorization::Invitation(invitation.token.clone());
//! let first = endpoint.handle_sync(&mut ws, &first_sync, &request, now, &mut rng)?;
//! assert_eq!(first.configuration.as_ref().map(|c| c.sync_interval_seconds), Some(6 * 3600));
//! let credential = AgentAuthorization::Bearer(first.agent_credential.ok_or("no credential")?);
//! request.applied_configuration_version = first.configuration_version;
//! let second = endpoint.handle_sync(&mut ws, &credential, &request, now, &mut rng)?;
//! assert!(second.configuration.is_none()); // unchanged: not sent again
//! // Anyone else naming this device is refused (and audited).
//! assert!(endpoint.handle_sync(&mut ws, &first_sync, &request, now, &mut rng).is_err());
//! # let _ = ComponentName::parse("a.b/.C")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod agent_auth;
mod agent_schema;
mod android_xml;
mod configuration;
mod error;
#[cfg(feature = "http")]
pub mod http;
mod install_source;
mod manifest;
mod properties;
mod provisioning;
mod registration;
mod restrictions;
mod store;
mod sync;

pub use agent_auth::AgentAuthorization;
pub use agent_schema::agent_restrictions;
pub use android_xml::ANDROID_NS;
pub use configuration::{
    ActionOnThreat, AgentConfiguration, AndroidDeviceSettings, ApplicationPolicy,
    CONFIGURATION_SCHEMA_VERSION, CameraAccess, ContentVersion, DayOfWeek, DefinitionsSchedule,
    DefinitionsSource, InstallType, LicenseGrant, PasswordQuality, PasswordRequirements,
    PasswordScope, PolicyReference, ProtectionConfiguration, RenderedConfiguration,
    StatusReportingSettings,
};
pub use error::AndroidError;
pub use install_source::{InstallReport, first_connection_address};
pub use manifest::{
    AGENT_PERMISSIONS, APP_RESTRICTIONS, AndroidManifest, Application, Component, ComponentKind,
    IntentFilter, MetaData, UsesPermission, UsesSdk,
};
pub use provisioning::{
    AdminExtras, AgentConnection, BundleValue, ComponentName, PackageChecksum, PackageDownload,
    ProvisioningPayload, WifiNetwork, WifiSecurity, extras as provisioning_extras,
    keys as provisioning_keys,
};
pub use registration::AgentRegistration;
pub use restrictions::{
    MAX_STRING_LEN, ResourceText, ResourceValue, Resources, Restriction, RestrictionSchema,
    RestrictionType,
};
// The shared value types live in the model; imported here for the crate's own paths.
pub(crate) use mdm_model::{ServerAddress, Sha256Digest};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use store::{ANDROID_COMPONENT, SqlAndroidStore};
pub use store::{AgentSyncState, AndroidSnapshot, AndroidStore, MemoryAndroidStore};
pub use sync::{
    AGENT_PACKAGE, AgentCommand, AgentCommandKind, AgentCommandQueue, AgentCommandResult,
    AgentCommandStatus, AgentInfo, AgentLicenseState, AndroidEndpoint, CertificateStatus,
    CompletedAgentCommand, DeviceStatus, LastScan, Location, ScanOutcome, SyncRequest,
    SyncResponse,
};
