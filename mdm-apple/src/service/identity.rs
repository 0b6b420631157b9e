//! How a device proves who it is: the identity certificate that came with
//! its request, checked against the workspace's device CA.
//!
//! Three ways, as nanomdm accepts them: the `Mdm-Signature` header (a
//! detached CMS signature over the body, SHA-256 or SHA-1), a
//! `Client-Cert` header (RFC 9440) set by a TLS-terminating proxy the
//! integrator trusts, or the TLS peer certificate. Whichever way, the
//! certificate must chain to a device CA and be valid at `now`; what the
//! service keeps of it is its SHA-256 fingerprint.

use base64::Engine as _;
use mdm_model::Sha256Digest;
use time::OffsetDateTime;

use crate::cms::{check_certificate, verify_detached_signature};
use crate::error::{AppleError, Result};

/// The identity evidence that came with a request (borrowed from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresentedIdentity<'a> {
    /// The `Mdm-Signature` header, base64-decoded: a detached CMS
    /// SignedData over the body, signed by the identity's key.
    MdmSignature(&'a [u8]),
    /// A certificate (DER) the transport vouches for: the TLS peer
    /// certificate, or a trusted proxy's `Client-Cert` header.
    Certificate(&'a [u8]),
    /// Nothing: the request is refused.
    None,
}

/// A checked identity: the certificate chains to a device CA at `now`
/// and, for a signature, signed this body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// SHA-256 of the certificate's DER.
    pub fingerprint: Sha256Digest,
    /// When the chain check that accepted it holds.
    pub window: CheckedWindow,
}

/// The time window in which a certificate's chain check holds: its own
/// validity, narrowed to the validity of every device CA (so a window never
/// outlives an anchor). Kept with a binding, it lets the service accept
/// the same certificate again without re-verifying the chain (see
/// [`super::AppleService::handle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedWindow {
    /// The earliest instant the check holds.
    pub not_before: OffsetDateTime,
    /// The last instant the check holds.
    pub not_after: OffsetDateTime,
}

impl CheckedWindow {
    /// The window of `der` (already checked) under `device_cas`.
    ///
    /// # Errors
    /// [`AppleError::InvalidCertificate`] when `der` does not parse.
    pub fn of(der: &[u8], device_cas: &[mdm_certs::Certificate]) -> Result<Self> {
        let leaf =
            mdm_certs::Certificate::from_der(der).map_err(|e| AppleError::InvalidCertificate {
                what: "device identity certificate".into(),
                reason: e.to_string(),
            })?;
        let mut window = Self {
            not_before: leaf.info().not_before,
            not_after: leaf.info().not_after,
        };
        for ca in device_cas {
            window.not_before = window.not_before.max(ca.info().not_before);
            window.not_after = window.not_after.min(ca.info().not_after);
        }
        Ok(window)
    }

    /// Whether `now` lies within the window (both ends included).
    pub fn contains(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

impl PresentedIdentity<'_> {
    /// Checks the evidence against `device_cas` at `now`, over `body`.
    ///
    /// # Errors
    /// [`AppleError::NoIdentity`]; for a signature, what
    /// [`crate::verify_detached_signature`] refuses; for a certificate,
    /// [`AppleError::InvalidCertificate`], [`AppleError::UntrustedSigner`],
    /// [`AppleError::CertificateNotValidAt`], [`AppleError::KeyUsageForbids`],
    /// [`AppleError::WeakRsaKey`].
    pub fn verify(
        &self,
        body: &[u8],
        device_cas: &[mdm_certs::Certificate],
        now: OffsetDateTime,
    ) -> Result<VerifiedIdentity> {
        match *self {
            Self::MdmSignature(signature) => {
                let verified = verify_detached_signature(signature, body, device_cas, now)?;
                Ok(VerifiedIdentity {
                    fingerprint: Sha256Digest::of(verified.signer_der()),
                    window: CheckedWindow::of(verified.signer_der(), device_cas)?,
                })
            }
            Self::Certificate(der) => {
                check_certificate(der, device_cas, now)?;
                Ok(VerifiedIdentity {
                    fingerprint: Sha256Digest::of(der),
                    window: CheckedWindow::of(der, device_cas)?,
                })
            }
            Self::None => Err(AppleError::NoIdentity),
        }
    }
}

/// Decodes an `Mdm-Signature` header value (standard base64, whitespace
/// tolerated) into the DER the signature is.
///
/// # Errors
/// [`AppleError::MalformedIdentityHeader`].
pub fn decode_mdm_signature(header: &str) -> Result<Vec<u8>> {
    let compact: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| AppleError::MalformedIdentityHeader {
            header: "Mdm-Signature",
            reason: e.to_string(),
        })
}

/// Decodes an RFC 9440 `Client-Cert` header value: a structured-field byte
/// sequence, `:` base64 of the DER `:`.
///
/// # Errors
/// [`AppleError::MalformedIdentityHeader`].
pub fn decode_client_cert(header: &str) -> Result<Vec<u8>> {
    let malformed = |reason: String| AppleError::MalformedIdentityHeader {
        header: "Client-Cert",
        reason,
    };
    let inner = header
        .trim()
        .strip_prefix(':')
        .and_then(|h| h.strip_suffix(':'))
        .ok_or_else(|| malformed("not a byte sequence (:base64:), RFC 9440 §2.2".into()))?;
    base64::engine::general_purpose::STANDARD
        .decode(inner.as_bytes())
        .map_err(|e| malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_decoding_refuses_what_is_not_base64_or_a_byte_sequence() {
        assert_eq!(decode_client_cert(":AQID:").unwrap(), vec![1, 2, 3]);
        assert_eq!(decode_mdm_signature("AQ\r\n ID").unwrap(), vec![1, 2, 3]);
        for bad in ["AQID", ":AQID", ":**:"] {
            assert!(matches!(
                decode_client_cert(bad),
                Err(AppleError::MalformedIdentityHeader {
                    header: "Client-Cert",
                    ..
                })
            ));
        }
        assert!(decode_mdm_signature("@@").is_err());
    }
}
