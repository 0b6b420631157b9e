//! The one error type of this crate.

use crate::{
    AgentRefusal, DeviceId, DeviceState, GroupId, InvitationId, LicenseId, PolicyId, Refusal,
    UserId,
};

/// Everything that `mdm-model` refuses, each variant saying what was wrong
/// and with which input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// No user has this id in the workspace.
    #[error("unknown user {0}")]
    UnknownUser(UserId),
    /// No group has this id in the workspace.
    #[error("unknown group {0}")]
    UnknownGroup(GroupId),
    /// No device has this id in the workspace.
    #[error("unknown device {0}")]
    UnknownDevice(DeviceId),
    /// No invitation has this id in the workspace.
    #[error("unknown invitation {0}")]
    UnknownInvitation(InvitationId),
    /// No policy has this id in the workspace.
    #[error("unknown policy {0}")]
    UnknownPolicy(PolicyId),
    /// No license has this id in the workspace.
    #[error("unknown license {0}")]
    UnknownLicense(LicenseId),
    /// A name (account, group, policy, …) was empty or too long.
    #[error("invalid {what}: {reason}")]
    InvalidName {
        /// Which name: "account name", "group name", …
        what: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An e-mail address that does not have the form `local@domain`.
    #[error("invalid e-mail address {0:?}")]
    InvalidEmail(String),
    /// Another user already has this account name.
    #[error("account name {0:?} is already taken")]
    DuplicateAccount(String),
    /// Instructions can only be sent to a user with an e-mail address (R-US-1).
    #[error("user {0} has no e-mail address, so no instructions can be sent")]
    UserHasNoEmail(UserId),
    /// An invitation token that is not the encoding this crate produces.
    #[error("malformed {what}: not 43 characters of URL-safe base64")]
    MalformedToken {
        /// Which secret: "invitation token", "agent credential".
        what: &'static str,
    },
    /// The invitation was already consumed, revoked or expired.
    #[error("invitation {invitation} cannot be revoked: it is {state}")]
    InvitationNotPending {
        /// The invitation.
        invitation: InvitationId,
        /// Its current state, in words.
        state: &'static str,
    },
    /// Enrollment was refused; the reason says why (R-IN-1, R-IN-3, R-IN-4, R-IN-5).
    #[error("enrollment refused: {0}")]
    EnrollmentRefused(Refusal),
    /// A lifecycle operation that is not allowed from the device's state (R-DV-2).
    #[error("device {device} cannot {operation} while {state}")]
    IllegalTransition {
        /// The device.
        device: DeviceId,
        /// The operation that was attempted.
        operation: &'static str,
        /// The state the device is in.
        state: DeviceState,
    },
    /// The built-in groups cannot be removed, re-parented or given a policy
    /// where the rules forbid it (R-GR-1).
    #[error("group {group}: {reason}")]
    GroupRule {
        /// The group.
        group: GroupId,
        /// The rule that was broken.
        reason: &'static str,
    },
    /// All seats of the license are taken (R-LI-1).
    #[error("license {license} has no free seat ({seats} seats, all in use)")]
    NoFreeSeat {
        /// The license.
        license: LicenseId,
        /// Its number of seats.
        seats: u32,
    },
    /// The license has expired.
    #[error("license {0} has expired")]
    LicenseExpired(LicenseId),
    /// An activation code that is not of the documented form. The text is
    /// not kept: a mistyped code is still most of a secret.
    #[error("invalid activation code: not four groups of five letters or digits joined by '-'")]
    InvalidActivationCode,
    /// A license with this activation code was already activated, as this
    /// license (the code itself is not repeated).
    #[error("this activation code was already activated, as license {0}")]
    DuplicateActivationCode(LicenseId),
    /// A policy setting out of its allowed range.
    #[error("invalid policy setting {setting}: {reason}")]
    InvalidPolicySetting {
        /// The setting.
        setting: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A device identification number that is empty or has invalid characters.
    #[error("invalid device identification number {0:?}")]
    InvalidIdentificationNumber(String),
    /// The identification number is already registered (R-IN-5).
    #[error("device identification number {0:?} is already registered")]
    AlreadyRegistered(String),
    /// An APNs certificate record that is inconsistent (e.g. its topic).
    #[error("invalid APNs certificate record: {0}")]
    InvalidApnsRecord(&'static str),
    /// The workspace has reached the maximum number of entities of a kind.
    #[error("the workspace cannot hold more than {max} {what}")]
    CapacityExceeded {
        /// Which kind: "devices", "users", …
        what: &'static str,
        /// The maximum.
        max: usize,
    },
    /// A sync that does not prove it comes from the device's agent.
    #[error("the agent of device {device} is not authenticated: {reason}")]
    AgentNotAuthenticated {
        /// The device the request claimed to be.
        device: DeviceId,
        /// Why.
        reason: AgentRefusal,
    },
    /// An APNs push topic that breaks the topic rule.
    #[error("APNs push topic {topic:?} is invalid: it {reason}")]
    InvalidPushTopic {
        /// The topic given (at most 300 characters of it).
        topic: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A server address (FQDN or IP with an optional port) did not validate.
    #[error("server address {input:?} is invalid: {reason}")]
    InvalidServerAddress {
        /// What was given, as typed.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A date computed from `now` and a stored interval does not fit the
    /// calendar (years −9999 to 9999): the interval or `now` is absurd.
    #[error("the {what} after {now} is out of the representable range")]
    TimeOutOfRange {
        /// Which date: "invitation expiry", "next sync", …
        what: &'static str,
        /// The instant it was computed from.
        now: time::OffsetDateTime,
    },
    /// A saved workspace could not be read or written.
    #[error("cannot {operation} workspace file {path}: {message}")]
    Storage {
        /// "read", "write", "rename", …
        operation: &'static str,
        /// The file.
        path: String,
        /// The underlying error, in words.
        message: String,
    },
    /// A saved workspace is not valid JSON of the documented form.
    #[error("corrupted workspace file: {0}")]
    CorruptedFile(String),
    /// The store changed since this handle last loaded or committed (another
    /// writer committed first); nothing was written. Reload and apply the
    /// operation again (issue #18: optimistic concurrency, no lost update).
    #[error(
        "the workspace store {location} was changed by another writer (revision {found}, this handle expected {expected}); reload and retry"
    )]
    StoreConflict {
        /// The store: a file path, a PostgreSQL schema, "memory".
        location: String,
        /// The revision this handle last saw.
        expected: u64,
        /// The revision the store holds.
        found: u64,
    },
    /// The store was written by a newer build (a schema version this build
    /// does not know); it is left untouched.
    #[error(
        "the workspace store {location} has schema version {found}, newer than this build's {supported}; it was not changed"
    )]
    StoreSchemaTooNew {
        /// The store.
        location: String,
        /// The schema version found.
        found: u32,
        /// The newest schema version this build knows.
        supported: u32,
    },
    /// The database holds tables, but not those of a workspace store (another
    /// application's database); it is left untouched.
    #[error("{location} is not a workspace store: {reason}; it was not changed")]
    NotAWorkspaceStore {
        /// The store.
        location: String,
        /// What was found instead.
        reason: String,
    },
    /// The store's file or rows are damaged: unreadable, truncated, or
    /// holding a value the model would refuse.
    #[error("the workspace store {location} is corrupt: {reason}")]
    StoreCorrupt {
        /// The store.
        location: String,
        /// What was wrong, and where.
        reason: String,
    },
    /// A whole workspace can only be imported into an empty store.
    #[error("the workspace store {0} already holds a workspace; import needs an empty store")]
    StoreNotEmpty(String),
    /// The database refused an operation (cannot open, I/O, connection lost).
    #[error("workspace store {backend} {location}: cannot {operation}: {message}")]
    StoreBackend {
        /// "sqlite", "postgres", "memory".
        backend: &'static str,
        /// The store.
        location: String,
        /// What was attempted: "open", "commit", …
        operation: &'static str,
        /// The database's error, in words.
        message: String,
    },
    /// A saved workspace of a format version this build does not know.
    #[error("unsupported workspace format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// The version found in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
}
