//! The vocabulary and the rules of mobile device management.
//!
//! `mdm-model` is the bottom of the toolkit: it knows workspaces, users,
//! groups, devices, invitations, policies and licenses, and it enforces the
//! rules the administrator manuals describe — one invitation enrolls exactly
//! one device, iOS enrollment needs a valid APNs certificate, devices land in
//! *Unassigned devices* and get no policy until moved into a managed group,
//! never more licensed devices than seats. It knows nothing of X.509, plists
//! or XML (those are `mdm-certs`, `mdm-apple`, `mdm-android`), has no clock
//! (every operation takes `now`) and no hidden randomness (tokens come from the
//! caller's generator).
//!
//! Integrators keep one [`Workspace`] per tenant; the fleet harness keeps a
//! million devices in one and drives it through the same calls.
//!
//! # Example
//!
//! ```
//! use mdm_model::{
//!     EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform, PolicySettings,
//!     Refusal, SyncReport, Workspace, ModelError,
//! };
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-11-28 09:00 UTC);
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let mut ws = Workspace::new("acme", "ACME Corp", Some("JP"), now)?;
//! let alice = ws.add_user("alice", Some(EmailAddress::parse("alice@acme.example")?), now)?;
//! ws.add_policy("Default", Workspace::MANAGED, PolicySettings::default(), now)?;
//!
//! // One invitation, one device (R-IN-1).
//! let invitation = ws.issue_invitation(alice, now, &mut rng)?;
//! let phone = EnrollmentRequest {
//!     platform: Platform::Android,
//!     os_version: OsVersion::parse("14")?,
//!     model: "Pixel 8".into(),
//!     identification_number: None,
//!     install_source: InstallSource::StandalonePackage,
//! };
//! let device = ws.enroll(&invitation.token, phone.clone(), now)?;
//! assert_eq!(
//!     ws.enroll(&invitation.token, phone, now),
//!     Err(ModelError::EnrollmentRefused(Refusal::InvitationAlreadyUsed)),
//! );
//!
//! // Connected devices land in Unassigned and get no policy (R-GR-1)…
//! ws.complete_enrollment(device, now)?;
//! assert!(ws.record_sync(device, &SyncReport::default(), now)?.policy.is_none());
//! // …until they are moved into a managed group.
//! ws.move_device(device, Workspace::MANAGED, now)?;
//! let outcome = ws.record_sync(device, &SyncReport::default(), now)?;
//! assert_eq!(outcome.policy.map(|p| p.version), Some(1));
//! assert!(ws.check_invariants().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where things live
//! - [`Workspace`] — the aggregate and every operation on it, with the audit log
//!   and [`Workspace::check_invariants`];
//! - [`User`], [`EmailAddress`] — R-US; [`Group`] — R-GR; [`Device`],
//!   [`DeviceState`], [`ProtectionStatus`] — R-DV;
//! - [`Invitation`], [`InvitationToken`] — R-IN-1; [`EnrollmentRequest`],
//!   [`Refusal`], [`EnrollmentRoute`] — R-IN-3…5;
//! - [`Policy`], [`PolicySettings`] — R-PO; [`License`], [`ActivationCode`] — R-LI;
//!   [`SyncReport`], [`SyncOutcome`] — R-SY; [`ApnsCertificateRecord`] — R-WS-1;
//! - saving and loading: [`Workspace::save`], [`Workspace::load`] (module `store`,
//!   the JSON export/import);
//! - durable state (module `storage`, issue #18): [`WorkspaceStore`] with
//!   [`MemoryStore`], `SqliteStore` (feature `sqlite`) and `PostgresStore`
//!   (feature `postgres`); the workspace tracks a [`ChangeSet`] and
//!   [`Workspace::commit_to`] writes it in one transaction.
#![forbid(unsafe_code)]

mod apns;
mod audit;
mod device;
mod digest;
mod enrollment;
mod error;
mod group;
mod ids;
mod invitation;
mod license;
mod policy;
mod push_topic;
mod secret;
mod server_address;
pub mod storage;
pub mod store;
mod user;
mod workspace;

pub use apns::ApnsCertificateRecord;
pub use audit::{AuditEvent, AuditRecord};
pub use device::{
    ClientCertificateState, Device, DeviceState, IdentificationNumber, OsVersion, Platform,
    ProtectionStatus, ScanResult,
};
pub use digest::Sha256Digest;
pub use enrollment::{EnrollmentRequest, EnrollmentRoute, InstallSource, Refusal};
pub use error::ModelError;
pub use group::Group;
pub use ids::{DeviceId, GroupId, InvitationId, LicenseId, PolicyId, UserId};
pub use invitation::{Invitation, InvitationState, IssuedInvitation};
pub use license::{ActivationCode, License};
pub use policy::{
    Policy, PolicySettings, ScanSettings, ThreatAction, UpdateSchedule, UpdateSource,
};
pub use push_topic::{MDM_TOPIC_PREFIX, PushTopic};
pub use secret::{
    AgentCredential, AgentCredentialHash, ForAgent, ForInvitation, InvitationToken, Purpose,
    SecretHash, SecretToken, TOKEN_BYTES, TOKEN_TEXT_LEN, TokenHash,
};
pub use server_address::{ServerAddress, ServerHost};
#[cfg(feature = "postgres")]
pub use storage::PostgresStore;
pub use storage::{MemoryStore, SCHEMA_VERSION, WorkspaceStore};
#[cfg(feature = "sqlite")]
pub use storage::{SqliteOptions, SqliteStore, Synchronous};
pub use user::{EmailAddress, User};
pub use workspace::ChangeSet;
pub use workspace::{
    AgentProof, AgentRefusal, AgentRequestRefusal, AppleRefusal, ClientCertificateRefusal,
    InstructionOutcome, Invariant, InvariantViolation, LicenseProblem, PolicyDelivery, SyncOutcome,
    SyncReport, UserSummary, Workspace, WorkspaceSettings,
};
