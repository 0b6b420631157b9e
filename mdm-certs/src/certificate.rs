//! Issued and parsed certificates, and the facts the console shows about them.

use std::net::IpAddr;

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};

use mdm_model::Sha256Digest;

use crate::error::{CertError, Result};
use crate::expiry::ExpiryStatus;
use crate::name::UID_OID;

/// One subjectAltName entry. In JSON: `{"dns": "mdm.example.com"}`, `{"ip": "192.0.2.1"}`, ….
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubjectAltName {
    /// A `dNSName`.
    Dns(String),
    /// An `iPAddress`.
    Ip(IpAddr),
    /// An `rfc822Name` (e-mail).
    Email(String),
    /// A `uniformResourceIdentifier`.
    Uri(String),
    /// Any other kind, described.
    Other(String),
}

/// The facts about a certificate: what the console shows and what other
/// crates need (R-AP-2). In JSON, dates are RFC 3339 and byte strings hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertificateInfo {
    /// Subject in OpenSSL's one-line form (RFC 4514 order as printed by x509-parser).
    pub subject: String,
    /// The subject's common name, if any.
    pub subject_common_name: Option<String>,
    /// Issuer in one-line form.
    pub issuer: String,
    /// The issuer's common name (the "issuing CA's name" of R-AP-2), else its organisation.
    pub issuer_name: Option<String>,
    /// Serial number, lower-case hex.
    pub serial_hex: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SHA-256 of the DER.
    pub fingerprint: Sha256Digest,
    /// subjectAltName entries, in order.
    pub subject_alt_names: Vec<SubjectAltName>,
    /// The subject's `UID` attribute (Apple's push topic lives here).
    pub uid: Option<String>,
    /// Whether basicConstraints says `CA:TRUE`.
    pub is_ca: bool,
    /// The public key as SubjectPublicKeyInfo DER.
    #[serde(with = "crate::serde_forms::hex_bytes")]
    pub public_key_der: Vec<u8>,
    /// The raw `subjectPublicKey` bits, what key matching compares.
    #[serde(with = "crate::serde_forms::hex_bytes")]
    pub public_key_raw: Vec<u8>,
}

impl CertificateInfo {
    /// Where this certificate stands at `now` (valid, expiring within 30/14/7
    /// days, expired, not yet valid).
    pub fn expiry_status(&self, now: OffsetDateTime) -> ExpiryStatus {
        ExpiryStatus::at(self.not_before, self.not_after, now)
    }

    /// Whether `now` lies within the validity window.
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// A parsed X.509 certificate: its DER bytes and the facts read from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    info: CertificateInfo,
}

impl Certificate {
    /// Parses a DER certificate. Trailing bytes are refused.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        Self::from_der_named(der, "certificate")
    }

    pub(crate) fn from_der_named(der: &[u8], source_name: &str) -> Result<Self> {
        let not_a_cert = |reason: String| CertError::NotACertificate {
            source_name: source_name.to_owned(),
            reason,
        };
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| not_a_cert(e.to_string()))?;
        if !rest.is_empty() {
            return Err(not_a_cert(format!("{} trailing bytes", rest.len())));
        }
        let info = info_of(&cert, der).map_err(not_a_cert)?;
        Ok(Self {
            der: der.to_vec(),
            info,
        })
    }

    /// Parses one PEM `CERTIFICATE` block (the first, if there are several).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let mut all = Self::all_from_pem(pem)?;
        if all.is_empty() {
            return Err(CertError::NotACertificate {
                source_name: "PEM".into(),
                reason: "no CERTIFICATE block".into(),
            });
        }
        Ok(all.swap_remove(0))
    }

    /// Parses every PEM `CERTIFICATE` block in `pem`, in order.
    pub fn all_from_pem(pem: &str) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        for item in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
            let item = item.map_err(|e| CertError::NotACertificate {
                source_name: "PEM".into(),
                reason: e.to_string(),
            })?;
            if item.label == "CERTIFICATE" {
                out.push(Self::from_der(&item.contents)?);
            }
        }
        Ok(out)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM encoding (`-----BEGIN CERTIFICATE-----`, 64-column lines).
    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }

    /// The facts read from the certificate.
    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    /// Whether this certificate's signature verifies with `issuer`'s public key
    /// and its issuer name equals `issuer`'s subject.
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        let (Ok((_, me)), Ok((_, them))) = (
            X509Certificate::from_der(&self.der),
            X509Certificate::from_der(&issuer.der),
        ) else {
            return false;
        };
        me.issuer() == them.subject() && me.verify_signature(Some(them.public_key())).is_ok()
    }

    /// Whether this certificate certifies the public key of `key`.
    pub fn matches_key(&self, key: &crate::PrivateKey) -> bool {
        subtle::ConstantTimeEq::ct_eq(self.info.public_key_raw.as_slice(), key.public_key_raw())
            .into()
    }
}

/// Encodes `der` as PEM with 64-character lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

fn first_attr(
    name: &x509_parser::x509::X509Name<'_>,
    oid: &x509_parser::der_parser::Oid<'_>,
) -> Option<String> {
    name.iter_by_oid(oid)
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

fn info_of(
    cert: &X509Certificate<'_>,
    der: &[u8],
) -> core::result::Result<CertificateInfo, String> {
    use x509_parser::oid_registry::{OID_X509_COMMON_NAME, OID_X509_ORGANIZATION_NAME};
    let uid_oid =
        x509_parser::der_parser::Oid::from(&UID_OID).map_err(|_| "bad UID OID".to_owned())?;
    let mut sans = Vec::new();
    match cert.subject_alternative_name() {
        Ok(Some(ext)) => {
            for name in &ext.value.general_names {
                sans.push(match name {
                    GeneralName::DNSName(d) => SubjectAltName::Dns((*d).to_owned()),
                    GeneralName::RFC822Name(e) => SubjectAltName::Email((*e).to_owned()),
                    GeneralName::URI(u) => SubjectAltName::Uri((*u).to_owned()),
                    GeneralName::IPAddress(bytes) => match bytes.len() {
                        4 => {
                            let mut a = [0u8; 4];
                            a.copy_from_slice(bytes);
                            SubjectAltName::Ip(IpAddr::from(a))
                        }
                        16 => {
                            let mut a = [0u8; 16];
                            a.copy_from_slice(bytes);
                            SubjectAltName::Ip(IpAddr::from(a))
                        }
                        n => SubjectAltName::Other(format!("IP address of {n} bytes")),
                    },
                    other => SubjectAltName::Other(other.to_string()),
                });
            }
        }
        Ok(None) => {}
        Err(e) => return Err(format!("bad subjectAltName: {e}")),
    }
    let is_ca = match cert.basic_constraints() {
        Ok(Some(bc)) => bc.value.ca,
        Ok(None) => false,
        Err(e) => return Err(format!("bad basicConstraints: {e}")),
    };
    let issuer = cert.issuer();
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        subject_common_name: first_attr(cert.subject(), &OID_X509_COMMON_NAME),
        issuer: issuer.to_string(),
        issuer_name: first_attr(issuer, &OID_X509_COMMON_NAME)
            .or_else(|| first_attr(issuer, &OID_X509_ORGANIZATION_NAME)),
        serial_hex: hex::encode(cert.raw_serial()),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        fingerprint: Sha256Digest::of(der),
        subject_alt_names: sans,
        uid: first_attr(cert.subject(), &uid_oid),
        is_ca,
        public_key_der: cert.public_key().raw.to_vec(),
        public_key_raw: cert.public_key().subject_public_key.data.to_vec(),
    })
}
