//! The server CA certificate a package carries, so the agent can
//! authenticate the management server on first contact (seed 003 §7).

use std::fmt;

use mdm_certs::Certificate;

use crate::error::{PackagesError, Result};
use mdm_model::Sha256Digest;

/// The certificate authority that issued the server's certificate: a real
/// X.509 certificate (parsed by `mdm-certs`) whose basicConstraints say
/// `CA:TRUE`.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCertificate {
    certificate: Certificate,
}

impl CaCertificate {
    /// Wraps a certificate from `mdm-certs` (e.g. the workspace CA's).
    ///
    /// # Errors
    /// [`PackagesError::CaCertificate`] when it is not a CA certificate.
    pub fn from_certificate(certificate: Certificate) -> Result<Self> {
        if !certificate.info().is_ca {
            return Err(PackagesError::CaCertificate {
                problem: format!(
                    "`{}` is not a CA certificate (basicConstraints lacks CA:TRUE)",
                    certificate.info().subject
                ),
            });
        }
        Ok(Self { certificate })
    }

    /// Accepts a PEM `CERTIFICATE` block or DER bytes.
    ///
    /// # Errors
    /// [`PackagesError::CaCertificate`] when the bytes are neither, or not a
    /// CA certificate.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self> {
        if bytes.first() == Some(&0x30) {
            Self::from_der(bytes)
        } else {
            Self::from_pem(bytes)
        }
    }

    /// Accepts the first PEM `CERTIFICATE` block of `pem`.
    ///
    /// # Errors
    /// [`PackagesError::CaCertificate`] when there is no such block, it does
    /// not parse, or it is not a CA certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(pem).map_err(|_| PackagesError::CaCertificate {
            problem: "PEM text is not UTF-8".to_owned(),
        })?;
        let certificate =
            Certificate::from_pem(text).map_err(|e| PackagesError::CaCertificate {
                problem: e.to_string(),
            })?;
        Self::from_certificate(certificate)
    }

    /// Accepts one DER certificate (no trailing bytes).
    ///
    /// # Errors
    /// [`PackagesError::CaCertificate`] when it does not parse or is not a CA
    /// certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let certificate = Certificate::from_der(der).map_err(|e| PackagesError::CaCertificate {
            problem: e.to_string(),
        })?;
        Self::from_certificate(certificate)
    }

    /// The parsed certificate.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The certificate's DER bytes.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        self.certificate.der()
    }

    /// The certificate as one PEM block.
    #[must_use]
    pub fn to_pem(&self) -> String {
        self.certificate.pem()
    }

    /// SHA-256 of the DER: the fingerprint an agent pins.
    #[must_use]
    pub fn sha256_fingerprint(&self) -> Sha256Digest {
        self.certificate.info().fingerprint
    }
}

impl fmt::Debug for CaCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CaCertificate({}, sha256 {})",
            self.certificate.info().subject,
            self.sha256_fingerprint()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("../tests/fixtures/server-ca-1.pem");
    const LEAF: &str = include_str!("../tests/fixtures/server-leaf.pem");

    #[test]
    fn pem_and_der_agree() {
        let pem = CaCertificate::from_pem(CA.as_bytes()).unwrap();
        let der = CaCertificate::from_der(pem.der()).unwrap();
        assert_eq!(pem, der);
        assert_eq!(CaCertificate::from_pem_or_der(pem.der()).unwrap(), pem);
        assert_eq!(
            CaCertificate::from_pem_or_der(pem.to_pem().as_bytes()).unwrap(),
            pem
        );
        assert_eq!(pem.sha256_fingerprint(), Sha256Digest::of(pem.der()));
        assert!(format!("{pem:?}").contains("Example MDM Server CA 1"));
    }

    #[test]
    fn fingerprint_matches_openssl() {
        // `openssl x509 -in server-ca-1.pem -noout -fingerprint -sha256`
        let out = crate::tools::run_tool(
            "openssl",
            &["x509", "-noout", "-fingerprint", "-sha256"],
            CA.as_bytes(),
        );
        let Some((ok, out, err)) = out else { return };
        assert!(ok, "{err}");
        let hex: String = out
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_ascii_lowercase();
        let ca = CaCertificate::from_pem(CA.as_bytes()).unwrap();
        assert_eq!(ca.sha256_fingerprint().to_hex(), hex);
    }

    #[test]
    fn refuses_leaf_certificates_and_garbage() {
        assert!(matches!(
            CaCertificate::from_pem(LEAF.as_bytes()),
            Err(PackagesError::CaCertificate { problem }) if problem.contains("not a CA")
        ));
        for bad in [
            &b""[..],
            &[0x30, 0x03, 0x02, 0x01, 0x05],
            &[0x30, 0x80],
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            b"hello",
            &[0xff, 0xfe],
        ] {
            assert!(CaCertificate::from_pem_or_der(bad).is_err(), "{bad:?}");
        }
    }
}
