//! What an Apple device's check-ins do to its record (issue #17): the
//! first `TokenUpdate` connects it, and a refused request is audited.
//! The protocol (plists, CMS, HTTP) lives in `mdm-apple`; the rules here.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Workspace;
use crate::{AuditEvent, DeviceId, DeviceState, ModelError};

/// Why the Apple check-in and command service refused a device request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AppleRefusal {
    /// The body is not a device message (not a plist, wrong types, too large).
    MalformedMessage,
    /// A `MessageType` the service does not know.
    UnknownMessageType,
    /// Neither `UDID` nor `EnrollmentID`.
    MissingDeviceId,
    /// A `Topic` that is not the workspace's APNs topic.
    ForeignTopic,
    /// No identity certificate came with the request.
    NoIdentity,
    /// The `Mdm-Signature` does not verify over the body.
    BadSignature,
    /// The identity certificate does not chain to the workspace's device CA.
    UntrustedIdentity,
    /// The identity certificate is expired or not yet valid.
    IdentityNotValid,
    /// The identity certificate is not the one bound to this device at its
    /// `Authenticate`: one device speaking for another.
    IdentityMismatch,
    /// An `Authenticate` whose identity was not issued for any enrollment.
    UnknownIdentity,
    /// A request from a device that has not authenticated (or checked out).
    NotEnrolled,
    /// A check-in type the service decodes but does not serve.
    Unsupported,
}

impl fmt::Display for AppleRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedMessage => "the body is not a well-formed device message",
            Self::UnknownMessageType => "unknown check-in MessageType",
            Self::MissingDeviceId => "no UDID or EnrollmentID",
            Self::ForeignTopic => "the Topic is not this workspace's APNs topic",
            Self::NoIdentity => "no device identity certificate",
            Self::BadSignature => "the Mdm-Signature does not verify",
            Self::UntrustedIdentity => "the identity does not chain to the device CA",
            Self::IdentityNotValid => "the identity certificate is expired or not yet valid",
            Self::IdentityMismatch => "the identity is not the one bound to this device",
            Self::UnknownIdentity => "the identity was not issued for an enrollment",
            Self::NotEnrolled => "the device has not authenticated",
            Self::Unsupported => "a check-in type this server does not serve",
        })
    }
}

impl Workspace {
    /// An Apple device's `TokenUpdate` reached the server: the first one
    /// completes the enrollment (`Enrolling → Connected`, in *Unassigned
    /// devices*, see [`Workspace::complete_enrollment`]); one after a lost
    /// connection restores it; a connected or managed device is unchanged.
    /// Returns whether the device was connected by this call.
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`]; [`ModelError::IllegalTransition`] for a
    /// device that is not Apple or has left management.
    pub fn apple_device_connected(
        &mut self,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<bool, ModelError> {
        let d = self.device(device)?;
        let state = d.state();
        if !d.platform().is_apple() {
            return Err(ModelError::IllegalTransition {
                device,
                state,
                operation: "check in as an Apple device",
            });
        }
        match state {
            DeviceState::Enrolling => self.complete_enrollment(device, now).map(|()| true),
            DeviceState::ConnectionLost => self.restore_connection(device, now).map(|()| true),
            DeviceState::Connected | DeviceState::Managed => Ok(false),
            _ => Err(ModelError::IllegalTransition {
                device,
                state,
                operation: "check in as an Apple device",
            }),
        }
    }

    /// Records in the audit log that the Apple service refused a request,
    /// for `device` when the request could be tied to one.
    pub fn record_apple_refusal(
        &mut self,
        device: Option<DeviceId>,
        reason: AppleRefusal,
        now: OffsetDateTime,
    ) {
        self.log(now, AuditEvent::AppleRequestRefused { device, reason });
    }
}
