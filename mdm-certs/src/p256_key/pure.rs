//! The default P-256 signer: the pure-Rust `p256` crate.

use p256::ecdsa::signature::Signer as _;

use crate::error::{CertError, Result};

/// A P-256 signing key held by `p256` (zeroised on drop).
pub(super) struct Signer(p256::ecdsa::SigningKey);

impl Signer {
    /// The signer for `scalar` (checked non-zero and below the order by the
    /// caller) and its uncompressed public point.
    pub(super) fn from_scalar(scalar: &[u8; 32]) -> Result<(Self, Vec<u8>)> {
        let key = p256::ecdsa::SigningKey::from_bytes(&p256::FieldBytes::from(*scalar)).map_err(
            |_| CertError::InvalidPrivateKey {
                reason: "a P-256 private scalar must be non-zero and below the group order".into(),
            },
        )?;
        let point = key.verifying_key().to_sec1_point(false).as_bytes().to_vec();
        Ok((Self(key), point))
    }

    /// Signs SHA-256(`message`) with an RFC 6979 nonce; the signature is DER.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature: p256::ecdsa::DerSignature =
            self.0.try_sign(message).map_err(|e| CertError::Signing {
                artifact: "ECDSA signature",
                reason: e.to_string(),
            })?;
        Ok(signature.as_bytes().to_vec())
    }
}
