//! A refused request for a client certificate (R-CL-1): the device's
//! one-time password was unknown, used or expired, or its request (a SCEP
//! `PKCSReq`, in `mdm-certs`) could not be accepted. The refusal is audited;
//! the protocol lives in `mdm-certs`, the record here.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Workspace;
use crate::{AuditEvent, DeviceId};

/// Why a request for a client certificate was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientCertificateRefusal {
    /// The one-time password was never issued (or was purged).
    PasswordUnknown,
    /// The one-time password was used already.
    PasswordUsed,
    /// The one-time password expired.
    PasswordExpired,
    /// The one-time password was wrong too often and is locked.
    PasswordLocked,
    /// The request's signature or encryption did not verify.
    BadMessage,
    /// The request was signed too far from the server's clock.
    BadTime,
    /// An algorithm the server does not accept.
    BadAlgorithm,
    /// A renewal for a certificate this CA did not issue, or not valid now.
    UnknownCertificate,
    /// Any other malformed or unacceptable request.
    BadRequest,
}

impl fmt::Display for ClientCertificateRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PasswordUnknown => "the one-time password was not issued",
            Self::PasswordUsed => "the one-time password was used already",
            Self::PasswordExpired => "the one-time password expired",
            Self::PasswordLocked => "the one-time password is locked after wrong attempts",
            Self::BadMessage => "the request does not verify or decrypt",
            Self::BadTime => "the request's signing time is too far from the server's clock",
            Self::BadAlgorithm => "an algorithm the server does not accept",
            Self::UnknownCertificate => {
                "the certificate to renew was not issued here or is not valid"
            }
            Self::BadRequest => "a malformed or unacceptable request",
        })
    }
}

impl Workspace {
    /// Records in the audit log that a request for a client certificate
    /// was refused, for `device` when the request could be tied to one.
    pub fn record_client_certificate_refusal(
        &mut self,
        device: Option<DeviceId>,
        reason: ClientCertificateRefusal,
        now: OffsetDateTime,
    ) {
        self.log(now, AuditEvent::ClientCertificateRefused { device, reason });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_audited_with_its_reason() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let mut ws = Workspace::new("w", "Acme", Some("JP"), now).unwrap();
        let before = ws.audit_log().len();
        ws.record_client_certificate_refusal(None, ClientCertificateRefusal::PasswordUsed, now);
        let last = ws.audit_log().last().unwrap();
        assert_eq!(ws.audit_log().len(), before + 1);
        assert_eq!(
            last.event,
            AuditEvent::ClientCertificateRefused {
                device: None,
                reason: ClientCertificateRefusal::PasswordUsed
            }
        );
    }
}
