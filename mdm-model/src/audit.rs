//! The audit log: every state change of a workspace, with its time.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    AgentRefusal, AgentRequestRefusal, AppleRefusal, ClientCertificateRefusal, DeviceId,
    DeviceState, GroupId, InvitationId, LicenseId, PolicyId, PushTopic, Refusal, UserId,
};

/// One state change of the workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
pub enum AuditEvent {
    /// A user was added.
    UserAdded {
        /// The user.
        user: UserId,
    },
    /// A user's e-mail address was set or cleared.
    UserEmailChanged {
        /// The user.
        user: UserId,
    },
    /// A group was created.
    GroupCreated {
        /// The group.
        group: GroupId,
    },
    /// An invitation was issued to a user.
    InvitationIssued {
        /// The invitation.
        invitation: InvitationId,
        /// Its user.
        user: UserId,
    },
    /// An invitation was revoked.
    InvitationRevoked {
        /// The invitation.
        invitation: InvitationId,
    },
    /// An enrollment attempt was refused.
    EnrollmentRefused {
        /// The invitation, when the token matched one.
        invitation: Option<InvitationId>,
        /// Why.
        reason: Refusal,
    },
    /// A device record was created by consuming an invitation.
    DeviceEnrolled {
        /// The new device.
        device: DeviceId,
        /// The invitation it consumed.
        invitation: InvitationId,
    },
    /// A device moved from one lifecycle state to another.
    DeviceStateChanged {
        /// The device.
        device: DeviceId,
        /// The state before.
        from: DeviceState,
        /// The state after.
        to: DeviceState,
    },
    /// A device was moved between groups.
    DeviceMoved {
        /// The device.
        device: DeviceId,
        /// The group before.
        from: GroupId,
        /// The group after.
        to: GroupId,
    },
    /// A device applied a new policy version on sync.
    PolicyApplied {
        /// The device.
        device: DeviceId,
        /// The policy.
        policy: PolicyId,
        /// The version applied.
        version: u32,
    },
    /// An Android agent was issued a credential (at its first sync, with
    /// its invitation token), replacing any it had not used yet.
    AgentCredentialIssued {
        /// The device.
        device: DeviceId,
    },
    /// A sync presented no valid proof of being this device's agent.
    AgentAuthenticationFailed {
        /// The device the request claimed to be.
        device: DeviceId,
        /// Why it was refused.
        reason: AgentRefusal,
    },
    /// The Android agent's sync service refused a request (#19).
    AgentRequestRefused {
        /// The device, when the request named one.
        device: Option<DeviceId>,
        /// Why.
        reason: AgentRequestRefusal,
    },
    /// The Apple check-in and command service refused a device request (#17).
    AppleRequestRefused {
        /// The device, when the request could be tied to one.
        device: Option<DeviceId>,
        /// Why.
        reason: AppleRefusal,
    },
    /// The device's client certificate was issued or applied.
    ClientCertificateChanged {
        /// The device.
        device: DeviceId,
    },
    /// A request for a client certificate was refused (R-CL-1).
    ClientCertificateRefused {
        /// The device, when the request could be tied to one.
        device: Option<DeviceId>,
        /// Why.
        reason: ClientCertificateRefusal,
    },
    /// A policy was created.
    PolicyCreated {
        /// The policy.
        policy: PolicyId,
        /// Its group.
        group: GroupId,
    },
    /// A policy's settings changed.
    PolicyUpdated {
        /// The policy.
        policy: PolicyId,
        /// Its new version.
        version: u32,
    },
    /// A policy became the active one of its group.
    PolicyActivated {
        /// The policy.
        policy: PolicyId,
    },
    /// A license was activated by its code.
    LicenseActivated {
        /// The license.
        license: LicenseId,
    },
    /// A license seat was given to a device.
    LicenseDeployed {
        /// The license.
        license: LicenseId,
        /// The device.
        device: DeviceId,
    },
    /// A device gave its license seat back.
    LicenseReleased {
        /// The license.
        license: LicenseId,
        /// The device.
        device: DeviceId,
    },
    /// A device identification number was registered to a user (R-IN-5).
    DeviceRegistered {
        /// The number.
        identification_number: String,
        /// The user.
        user: UserId,
    },
    /// A registration was removed (e.g. after a wipe, R-WP-1).
    DeviceUnregistered {
        /// The number.
        identification_number: String,
    },
    /// APNs answered 410 `Unregistered` for an Apple device's push token:
    /// the device is shown unreachable and is not pushed until it checks
    /// in again (issue #14).
    PushTokenUnregistered {
        /// The device.
        device: DeviceId,
        /// When APNs says the token stopped being valid, if it said.
        #[serde(default, with = "time::serde::rfc3339::option")]
        since: Option<OffsetDateTime>,
    },
    /// The workspace's APNs certificate was set or replaced.
    ApnsCertificateSet {
        /// Its topic.
        topic: PushTopic,
    },
    /// A workspace setting changed.
    SettingChanged {
        /// Which setting.
        setting: String,
    },
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the change happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What changed.
    #[serde(flatten)]
    pub event: AuditEvent,
}
