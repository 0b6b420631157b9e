//! Certificate payloads: trust anchors and intermediates shipped to the
//! device (`com.apple.security.root`, `com.apple.security.pkcs1`,
//! `com.apple.security.pem`).

use base64::Engine;
use der::Decode;
use x509_cert::Certificate;

use crate::error::{AppleError, Result};
use crate::fields::DictWriter;

/// How a certificate payload carries its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateFormat {
    /// `com.apple.security.root`: a DER root CA the device will trust.
    Root,
    /// `com.apple.security.pkcs1`: a DER certificate (intermediate or leaf).
    Pkcs1,
    /// `com.apple.security.pem`: the same certificate, PEM-encoded.
    Pem,
}

impl CertificateFormat {
    /// The `PayloadType`.
    pub const fn payload_type(self) -> &'static str {
        match self {
            Self::Root => "com.apple.security.root",
            Self::Pkcs1 => "com.apple.security.pkcs1",
            Self::Pem => "com.apple.security.pem",
        }
    }
}

/// A certificate payload: one X.509 certificate, no key. Only constructed
/// from DER that parses as a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePayload {
    der: Vec<u8>,
    format: CertificateFormat,
    subject: String,
    /// `PayloadCertificateFileName`.
    pub file_name: Option<String>,
}

impl CertificatePayload {
    /// Wraps a DER certificate.
    ///
    /// # Errors
    /// [`AppleError::InvalidCertificate`] when `der` is not one X.509 certificate.
    pub fn from_der(der: Vec<u8>, format: CertificateFormat) -> Result<Self> {
        let cert = Certificate::from_der(&der).map_err(|e| AppleError::InvalidCertificate {
            what: format.payload_type().into(),
            reason: e.to_string(),
        })?;
        let subject = cert.tbs_certificate().subject().to_string();
        Ok(Self {
            der,
            format,
            subject,
            file_name: None,
        })
    }

    /// The certificate's DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The payload format.
    pub fn format(&self) -> CertificateFormat {
        self.format
    }

    /// The certificate subject (RFC 4514 string).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        match self.format {
            CertificateFormat::Root | CertificateFormat::Pkcs1 => {
                w.data("PayloadContent", &self.der);
            }
            CertificateFormat::Pem => {
                w.data("PayloadContent", pem_encode(&self.der).as_bytes());
            }
        }
        w.opt("PayloadCertificateFileName", self.file_name.clone());
    }
}

/// PEM with 64-character lines.
pub(crate) fn pem_encode(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
