//! The enrollment decision: who may enroll what, and why not (R-IN-3, R-IN-4, R-IN-5).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{IdentificationNumber, OsVersion, Platform};

/// How the agent (Android) or the profile (Apple) got onto the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallSource {
    /// A standalone installation package built by the server, address embedded (R-AN-1 a).
    StandalonePackage,
    /// A plain APK from the web site or a store; the user typed the server address (R-AN-1 b).
    PlainApk,
    /// Installed through Samsung KNOX Mobile Enrollment: cannot be managed (R-IN-4).
    KnoxMobileEnrollment,
    /// Installed by another EMM/MDM product: cannot be managed (R-IN-4).
    ThirdPartyEmm,
    /// An Apple MDM enrollment profile (iOS, iPadOS).
    EnrollmentProfile,
}

impl InstallSource {
    /// Whether a device installed this way can be managed by us (R-IN-4).
    #[must_use]
    pub fn is_manageable(self) -> bool {
        self.refusal().is_none()
    }

    /// Why a device installed this way cannot be managed by us (R-IN-4):
    /// KNOX Mobile Enrollment or another EMM; `None` for every other source.
    /// The one statement of the rule, for the model and the agent's endpoint.
    #[must_use]
    pub fn refusal(self) -> Option<Refusal> {
        match self {
            InstallSource::KnoxMobileEnrollment => Some(Refusal::InstalledThroughKnox),
            InstallSource::ThirdPartyEmm => Some(Refusal::InstalledThroughThirdPartyEmm),
            InstallSource::StandalonePackage
            | InstallSource::PlainApk
            | InstallSource::EnrollmentProfile => None,
        }
    }

    /// Whether the source is one an Android agent can have.
    #[must_use]
    pub fn is_android_agent(self) -> bool {
        !matches!(self, InstallSource::EnrollmentProfile)
    }
}

/// What a device says about itself when it opens an invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentRequest {
    /// The detected platform.
    pub platform: Platform,
    /// The OS version.
    pub os_version: OsVersion,
    /// The hardware model.
    pub model: String,
    /// The device identification number, when the device reports one (R-IN-5).
    pub identification_number: Option<IdentificationNumber>,
    /// How the agent or profile was installed.
    pub install_source: InstallSource,
}

/// Why an enrollment was refused. Each reason is specific, so a console can
/// tell the user what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Refusal {
    /// No invitation has this token.
    UnknownInvitation,
    /// The invitation already enrolled a device; a second device needs a second invitation (R-IN-1).
    InvitationAlreadyUsed,
    /// The invitation expired before it was used.
    InvitationExpired,
    /// The administrator revoked the invitation.
    InvitationRevoked,
    /// iOS/iPadOS enrollment needs the workspace's APNs certificate, and there is none (R-IN-3).
    NoApnsCertificate,
    /// The workspace's APNs certificate has expired (R-IN-3).
    ApnsCertificateExpired,
    /// The workspace's APNs certificate is not valid yet (R-IN-3).
    ApnsCertificateNotYetValid,
    /// The agent was installed through KNOX Mobile Enrollment; remedy: reinstall it (R-IN-4).
    InstalledThroughKnox,
    /// The agent was installed through a third-party EMM; remedy: reinstall it (R-IN-4).
    InstalledThroughThirdPartyEmm,
    /// The install source does not fit the platform (e.g. an APK on an iPhone).
    InstallSourceMismatch,
    /// The device's identification number is registered to another user (R-IN-5).
    RegisteredToAnotherUser,
    /// The workspace requires registration and this identification number is not registered (R-IN-5).
    DeviceNotRegistered,
    /// The workspace requires registration and the device reported no identification number.
    IdentificationNumberMissing,
    /// The invited user no longer exists or the invitation is inconsistent.
    UserUnavailable,
}

impl Refusal {
    /// What the person in front of the device should do about it.
    #[must_use]
    pub fn remedy(self) -> &'static str {
        match self {
            Refusal::UnknownInvitation
            | Refusal::InvitationAlreadyUsed
            | Refusal::InvitationExpired
            | Refusal::InvitationRevoked
            | Refusal::UserUnavailable => "ask your administrator for a new invitation",
            Refusal::NoApnsCertificate
            | Refusal::ApnsCertificateExpired
            | Refusal::ApnsCertificateNotYetValid => {
                "your administrator must upload a valid APNs certificate before iOS devices can enroll"
            }
            Refusal::InstalledThroughKnox | Refusal::InstalledThroughThirdPartyEmm => {
                "remove the agent and reinstall it from the invitation link"
            }
            Refusal::InstallSourceMismatch => "open the invitation link on the device to enroll",
            Refusal::RegisteredToAnotherUser
            | Refusal::DeviceNotRegistered
            | Refusal::IdentificationNumberMissing => {
                "ask your administrator to register this device for you"
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Refusal::UnknownInvitation => "the invitation is unknown",
            Refusal::InvitationAlreadyUsed => "the invitation was already used by another device",
            Refusal::InvitationExpired => "the invitation has expired",
            Refusal::InvitationRevoked => "the invitation was revoked",
            Refusal::NoApnsCertificate => "the workspace has no APNs certificate",
            Refusal::ApnsCertificateExpired => "the workspace's APNs certificate has expired",
            Refusal::ApnsCertificateNotYetValid => {
                "the workspace's APNs certificate is not valid yet"
            }
            Refusal::InstalledThroughKnox => {
                "the agent was installed through KNOX Mobile Enrollment and cannot be managed"
            }
            Refusal::InstalledThroughThirdPartyEmm => {
                "the agent was installed through a third-party EMM and cannot be managed"
            }
            Refusal::InstallSourceMismatch => "the install source does not fit the platform",
            Refusal::RegisteredToAnotherUser => "the device is registered to another user",
            Refusal::DeviceNotRegistered => "the device is not registered",
            Refusal::IdentificationNumberMissing => {
                "the device did not report its identification number"
            }
            Refusal::UserUnavailable => "the invited user is not available",
        };
        write!(f, "{text}; {}", self.remedy())
    }
}

/// The positive outcome of [`Workspace::decide_enrollment`](crate::Workspace::decide_enrollment):
/// which enrollment the device gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentRoute {
    /// Enroll through the Android agent.
    Android,
    /// Enroll through the Apple MDM profile (iOS or iPadOS).
    Apple(Platform),
}
