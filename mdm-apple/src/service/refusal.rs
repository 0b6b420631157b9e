//! How a refused request is audited and answered: each error the service
//! returns has a model [`AppleRefusal`] (written to the audit log) and a
//! 400-class HTTP status — never 401, on which Apple devices unenroll.

use mdm_model::AppleRefusal;

use crate::error::AppleError;

/// The audit reason of a refused request; `None` for failures that are not
/// the device's doing (the store) or that the model already audited.
pub fn refusal_of(error: &AppleError) -> Option<AppleRefusal> {
    use AppleError as E;
    Some(match error {
        E::UnknownMessageType { .. } | E::UnknownMessage => AppleRefusal::UnknownMessageType,
        E::MissingField { key: "UDID", .. } => AppleRefusal::MissingDeviceId,
        E::TopicMismatch { .. } | E::InvalidTopic { .. } => AppleRefusal::ForeignTopic,
        E::NoIdentity | E::MalformedIdentityHeader { .. } => AppleRefusal::NoIdentity,
        E::BadSignature { .. }
        | E::MalformedCms { .. }
        | E::CmsLimit { .. }
        | E::CmsAttributeCount { .. }
        | E::UnsupportedAlgorithm { .. } => AppleRefusal::BadSignature,
        E::UntrustedSigner { .. }
        | E::InvalidCertificate { .. }
        | E::KeyUsageForbids { .. }
        | E::WeakRsaKey { .. } => AppleRefusal::UntrustedIdentity,
        E::CertificateNotValidAt { .. } => AppleRefusal::IdentityNotValid,
        E::IdentityMismatch { .. } | E::DeviceMismatch { .. } | E::ReportFromOtherDevice { .. } => {
            AppleRefusal::IdentityMismatch
        }
        E::UnknownIdentity { .. } => AppleRefusal::UnknownIdentity,
        E::NotEnrolled { .. } | E::CheckinOutOfOrder { .. } | E::Model { .. } => {
            AppleRefusal::NotEnrolled
        }
        E::UnsupportedCheckin { .. } => AppleRefusal::Unsupported,
        E::Store { .. } => return None,
        _ => AppleRefusal::MalformedMessage,
    })
}

/// The HTTP status for a refused request: 500 for a store failure, 400
/// for everything a device sent. Never 401.
pub fn status_of(error: &AppleError) -> u16 {
    match error {
        AppleError::Store { .. } => 500,
        AppleError::PlistTooLarge { .. } => 413,
        _ => 400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_refusal_is_answered_401() {
        let errors = [
            AppleError::NoIdentity,
            AppleError::IdentityMismatch { device: "Y".into() },
            AppleError::UnknownIdentity { device: "Y".into() },
            AppleError::UnknownMessage,
            AppleError::Store { reason: "x".into() },
        ];
        for e in &errors {
            assert_ne!(status_of(e), 401, "{e}");
        }
        assert_eq!(refusal_of(&errors[1]), Some(AppleRefusal::IdentityMismatch));
        assert_eq!(refusal_of(&errors[4]), None);
    }
}
