//! Whether a CMS signer is someone the caller trusts: a path from the
//! signer's certificate, through CA certificates the SignedData carries, to
//! one of the caller's trust anchors, every certificate valid at the
//! caller's `now`, used as its key usage allows, and with no short RSA key.
//!
//! The pool is small ([`super::MAX_CMS_CERTIFICATES`]) and the path short
//! ([`super::MAX_CHAIN_DEPTH`]); each certificate is used at most once, so
//! a hostile pool costs at most pool × depth signature checks.

use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::Encode;
use rsa::traits::PublicKeyParts;
use spki::DecodePublicKey;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use super::verify::{MAX_CHAIN_DEPTH, MIN_RSA_BITS};
use crate::error::{AppleError, Result};

/// What a certificate on the path is used for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The CMS signer: `digitalSignature`.
    Signer,
    /// An issuer below the anchor: a CA with `keyCertSign`.
    Issuer,
}

fn subject_of(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}

fn invalid(cert: &Certificate, reason: impl Into<String>) -> AppleError {
    AppleError::InvalidCertificate {
        what: format!("CMS certificate {}", subject_of(cert)),
        reason: reason.into(),
    }
}

fn der_of(cert: &Certificate) -> Result<Vec<u8>> {
    cert.to_der().map_err(|e| invalid(cert, e.to_string()))
}

/// A certificate of the SignedData, parsed once by both readers.
struct Candidate<'a> {
    x509: &'a Certificate,
    der: Vec<u8>,
    parsed: mdm_certs::Certificate,
}

impl<'a> Candidate<'a> {
    fn new(x509: &'a Certificate) -> Result<Self> {
        let der = der_of(x509)?;
        let parsed =
            mdm_certs::Certificate::from_der(&der).map_err(|e| invalid(x509, e.to_string()))?;
        Ok(Self { x509, der, parsed })
    }
}

fn check_validity(cert: &mdm_certs::Certificate, now: OffsetDateTime) -> Result<()> {
    let info = cert.info();
    if info.is_valid_at(now) {
        return Ok(());
    }
    Err(AppleError::CertificateNotValidAt {
        subject: info.subject.clone(),
        not_before: info.not_before,
        not_after: info.not_after,
        now,
    })
}

/// Key usage, CA flag and RSA size of a certificate below the anchor.
fn check_use(c: &Candidate<'_>, role: Role, now: OffsetDateTime) -> Result<()> {
    check_validity(&c.parsed, now)?;
    let tbs = c.x509.tbs_certificate();
    let usage = tbs
        .get_extension::<KeyUsage>()
        .map_err(|e| invalid(c.x509, format!("keyUsage: {e}")))?;
    let forbids = |usage: &'static str| AppleError::KeyUsageForbids {
        subject: c.parsed.info().subject.clone(),
        usage,
    };
    match role {
        Role::Signer => {
            if usage.is_some_and(|(_, ku)| !ku.digital_signature()) {
                return Err(forbids("digitalSignature"));
            }
        }
        Role::Issuer => {
            let ca = tbs
                .get_extension::<BasicConstraints>()
                .map_err(|e| invalid(c.x509, format!("basicConstraints: {e}")))?
                .is_some_and(|(_, bc)| bc.ca);
            if !ca {
                return Err(forbids("issuing certificates (it is not a CA)"));
            }
            if usage.is_some_and(|(_, ku)| !ku.key_cert_sign()) {
                return Err(forbids("keyCertSign"));
            }
        }
    }
    let spki = tbs.subject_public_key_info();
    if spki.algorithm.oid == RSA_ENCRYPTION {
        let der = spki
            .to_der()
            .map_err(|e| invalid(c.x509, format!("public key: {e}")))?;
        let key = rsa::PublicKey::from_public_key_der(&der)
            .map_err(|e| invalid(c.x509, format!("RSA public key: {e}")))?;
        let bits = usize::try_from(key.n().bit_width()).unwrap_or(0);
        if bits < MIN_RSA_BITS {
            return Err(AppleError::WeakRsaKey {
                subject: c.parsed.info().subject.clone(),
                bits,
                min: MIN_RSA_BITS,
            });
        }
    }
    Ok(())
}

/// The rule [`MAX_CHAIN_DEPTH`] sets, as the error states it.
const CHAIN_TOO_LONG: &str =
    "a chain to a trust anchor must have at most 8 certificates (MAX_CHAIN_DEPTH), signer included";

/// Checks that `signer` chains to one of `anchors` at `now`, through CA
/// certificates of `pool` (the SignedData's certificates).
pub(crate) fn check_chain(
    signer: &Certificate,
    pool: &[&Certificate],
    anchors: &[mdm_certs::Certificate],
    now: OffsetDateTime,
) -> Result<()> {
    let mut current = Candidate::new(signer)?;
    check_use(&current, Role::Signer, now)?;
    let mut used: Vec<usize> = Vec::new();
    for _ in 0..MAX_CHAIN_DEPTH {
        // The certificate is itself an anchor (a pinned signer), or an
        // anchor issued it.
        if anchors.iter().any(|a| a.der() == current.der.as_slice()) {
            return Ok(());
        }
        if let Some(anchor) = anchors.iter().find(|a| {
            a.info().subject == current.parsed.info().issuer && current.parsed.is_signed_by(a)
        }) {
            return check_validity(anchor, now);
        }
        // Else one of the pool's certificates issued it: the next link.
        let issuer_name = current.x509.tbs_certificate().issuer();
        let mut next = None;
        for (index, candidate) in pool.iter().enumerate() {
            if used.contains(&index)
                || candidate.tbs_certificate().subject() != issuer_name
                || std::ptr::eq(*candidate, current.x509)
            {
                continue;
            }
            let parsed = Candidate::new(candidate)?;
            if current.parsed.is_signed_by(&parsed.parsed) {
                next = Some((index, parsed));
                break;
            }
        }
        let Some((index, issuer)) = next else {
            return Err(AppleError::UntrustedSigner {
                subject: subject_of(signer),
                reason: "no chain to a trust anchor",
            });
        };
        check_use(&issuer, Role::Issuer, now)?;
        used.push(index);
        current = issuer;
    }
    Err(AppleError::UntrustedSigner {
        subject: subject_of(signer),
        reason: CHAIN_TOO_LONG,
    })
}

/// Checks a device identity certificate presented without a signature
/// (the TLS peer certificate, or a trusted proxy's `Client-Cert`): it
/// chains to one of `anchors` at `now`, exactly as a CMS signer would.
pub(crate) fn check_certificate(
    der: &[u8],
    anchors: &[mdm_certs::Certificate],
    now: OffsetDateTime,
) -> Result<()> {
    use der::Decode;
    let cert = Certificate::from_der(der).map_err(|e| AppleError::InvalidCertificate {
        what: "device identity certificate".into(),
        reason: e.to_string(),
    })?;
    check_chain(&cert, &[], anchors, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_error_states_the_depth_in_force() {
        assert!(CHAIN_TOO_LONG.contains(&format!("at most {MAX_CHAIN_DEPTH} certificates")));
    }
}
