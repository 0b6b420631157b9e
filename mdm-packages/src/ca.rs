//! The server CA certificate a package carries, so the agent can
//! authenticate the management server on first contact (seed 003 §7).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{PackagesError, Result};
use crate::product::Sha256Digest;

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// An X.509 certificate in DER form, taken from PEM or DER bytes (as
/// `mdm-certs` hands them out).
///
/// Only the outer DER structure is checked here (one complete SEQUENCE with
/// nothing after it); the certificate's meaning belongs to `mdm-certs`.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCertificate {
    der: Vec<u8>,
}

impl CaCertificate {
    /// Accepts a PEM `CERTIFICATE` block or raw DER.
    ///
    /// # Errors
    /// [`PackagesError::CaCertificate`] when the bytes are neither.
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
    /// [`PackagesError::CaCertificate`] when there is no such block or its
    /// base64 or DER is broken.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let bad = |problem: &str| PackagesError::CaCertificate {
            problem: problem.to_owned(),
        };
        let text = std::str::from_utf8(pem).map_err(|_| bad("PEM text is not UTF-8"))?;
        let start = text
            .find(PEM_BEGIN)
            .ok_or_else(|| bad("no `-----BEGIN CERTIFICATE-----` line"))?;
        let body_and_rest = text.get(start + PEM_BEGIN.len()..).unwrap_or_default();
        let end = body_and_rest
            .find(PEM_END)
            .ok_or_else(|| bad("no `-----END CERTIFICATE-----` line"))?;
        let body: String = body_and_rest
            .get(..end)
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| bad(&format!("PEM body is not base64: {e}")))?;
        Self::from_der(&der)
    }

    /// Accepts DER bytes holding exactly one ASN.1 SEQUENCE.
    ///
    /// # Errors
    /// [`PackagesError::CaCertificate`] when the outer structure is broken.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let bad = |problem: String| PackagesError::CaCertificate { problem };
        let (tag, rest) = der
            .split_first()
            .ok_or_else(|| bad("is empty".to_owned()))?;
        if *tag != 0x30 {
            return Err(bad(format!(
                "DER starts with tag 0x{tag:02x}, not a SEQUENCE"
            )));
        }
        let (len_byte, rest) = rest
            .split_first()
            .ok_or_else(|| bad("DER ends before its length".to_owned()))?;
        let (content_len, rest) = if *len_byte < 0x80 {
            (usize::from(*len_byte), rest)
        } else {
            let n = usize::from(len_byte & 0x7f);
            if n == 0 || n > 4 {
                return Err(bad("DER length uses an unsupported form".to_owned()));
            }
            let (len_bytes, rest) = rest
                .split_at_checked(n)
                .ok_or_else(|| bad("DER ends inside its length".to_owned()))?;
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, rest)
        };
        if rest.len() != content_len {
            return Err(bad(format!(
                "DER SEQUENCE says {content_len} bytes of content, {} follow",
                rest.len()
            )));
        }
        Ok(Self { der: der.to_vec() })
    }

    /// The certificate's DER bytes.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as one PEM block (64-character lines, `\n` endings).
    #[must_use]
    pub fn to_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.der);
        let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
        out.push_str(PEM_BEGIN);
        out.push('\n');
        let mut rest = b64.as_str();
        while !rest.is_empty() {
            let (line, tail) = rest.split_at(rest.len().min(64));
            out.push_str(line);
            out.push('\n');
            rest = tail;
        }
        out.push_str(PEM_END);
        out.push('\n');
        out
    }

    /// SHA-256 of the DER: the fingerprint an agent pins.
    #[must_use]
    pub fn sha256_fingerprint(&self) -> Sha256Digest {
        Sha256Digest::of(&self.der)
    }
}

impl fmt::Debug for CaCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaCertificate(sha256 {})", self.sha256_fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal, structurally valid SEQUENCE (not a real certificate; the
    /// package tests use a real one made by openssl).
    const TINY: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x05];

    #[test]
    fn pem_and_der_agree() {
        let der = CaCertificate::from_der(TINY).unwrap();
        let pem = CaCertificate::from_pem(der.to_pem().as_bytes()).unwrap();
        assert_eq!(der, pem);
        assert_eq!(CaCertificate::from_pem_or_der(TINY).unwrap(), der);
        assert_eq!(
            CaCertificate::from_pem_or_der(der.to_pem().as_bytes()).unwrap(),
            der
        );
    }

    #[test]
    fn long_form_lengths() {
        let mut der = vec![0x30, 0x82, 0x01, 0x00];
        der.extend(std::iter::repeat_n(0u8, 256));
        assert_eq!(CaCertificate::from_der(&der).unwrap().der().len(), 260);
        let pem = CaCertificate::from_der(&der).unwrap().to_pem();
        assert!(pem.lines().all(|l| l.len() <= 64));
    }

    #[test]
    fn refuses_broken_input() {
        for bad in [
            &b""[..],
            &[0x31, 0x00],
            &[0x30],
            &[0x30, 0x05, 0x00],
            &[0x30, 0x00, 0x00],
            &[0x30, 0x80],
            &[0x30, 0x82, 0x01],
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nMAA=\n",
            b"hello",
        ] {
            assert!(CaCertificate::from_pem_or_der(bad).is_err(), "{bad:?}");
        }
    }
}
