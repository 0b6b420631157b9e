//! The workspace certificate authority: create, save, load, issue.

use core::fmt;

use rand_core::CryptoRng;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::certificate::Certificate;
use crate::error::{CertError, Result};
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::name::SubjectName;

/// A validity window: `not_before` strictly before `not_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Validity {
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Validity {
    /// A window from `not_before` to `not_after`, both truncated to whole
    /// seconds (what X.509 encodes); refused if it is empty.
    pub fn new(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Result<Self> {
        let whole = |t: OffsetDateTime| t.replace_nanosecond(0).unwrap_or(t);
        let (not_before, not_after) = (whole(not_before), whole(not_after));
        if not_after <= not_before {
            return Err(CertError::InvalidValidity {
                not_before,
                not_after,
            });
        }
        Ok(Self {
            not_before,
            not_after,
        })
    }

    /// A window starting at `start` and lasting `length`.
    pub fn starting(start: OffsetDateTime, length: Duration) -> Result<Self> {
        Self::new(start, start.saturating_add(length))
    }

    /// A window starting at `start` and lasting `days` days.
    pub fn days(start: OffsetDateTime, days: i64) -> Result<Self> {
        Self::starting(start, Duration::days(days))
    }

    /// Start.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }
}

/// The CA certificate and key as PEM text, for saving.
pub struct CaPem {
    /// The CA certificate (`CERTIFICATE`).
    pub certificate_pem: String,
    /// **Secret.** The CA key in PKCS#8 (`PRIVATE KEY` or `ENCRYPTED PRIVATE KEY`).
    pub key_pem: Zeroizing<String>,
}

impl fmt::Debug for CaPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaPem")
            .field("certificate_pem", &self.certificate_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// What kind of leaf is being issued: decides key usages and EKUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeafKind {
    Server,
    Client,
    /// Apple-style push certificate (client auth, issued by the portal stand-in).
    Push,
    /// Vendor MDM CSR-signing certificate (digital signature only).
    Signing,
}

/// The workspace certificate authority (issue 5 §1).
///
/// It issues server, reserve and client certificates with random 128-bit
/// serials drawn from the caller's RNG. Keep it in memory for issuing: the
/// CA certificate is parsed once, and each issuance is one signature.
pub struct CertificateAuthority {
    certificate: Certificate,
    issuer: rcgen::Issuer<'static, PrivateKey>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("subject", &self.certificate.info().subject)
            .field("key", self.issuer.key())
            .finish()
    }
}

pub(crate) fn random_serial<R: CryptoRng + ?Sized>(rng: &mut R) -> rcgen::SerialNumber {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    // Positive (top bit clear) and full length (second-highest bit set): a
    // 16-byte DER INTEGER with 126 random bits.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    rcgen::SerialNumber::from_slice(&bytes)
}

fn signing_error(artifact: &'static str) -> impl Fn(rcgen::Error) -> CertError {
    move |e| CertError::Signing {
        artifact,
        reason: e.to_string(),
    }
}

impl CertificateAuthority {
    /// Creates a self-signed CA with `subject`, `validity` and a new key of
    /// `algorithm` (P-256 by default; RSA 2048/3072/4096 on request).
    pub fn create<R: CryptoRng + ?Sized>(
        subject: &SubjectName,
        validity: Validity,
        algorithm: KeyAlgorithm,
        rng: &mut R,
    ) -> Result<Self> {
        let key = PrivateKey::generate(algorithm, rng)?;
        Self::create_with_key(subject, validity, key, rng)
    }

    /// Creates a self-signed CA around an existing key.
    pub fn create_with_key<R: CryptoRng + ?Sized>(
        subject: &SubjectName,
        validity: Validity,
        key: PrivateKey,
        rng: &mut R,
    ) -> Result<Self> {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = subject.to_rcgen();
        params.not_before = validity.not_before();
        params.not_after = validity.not_after();
        params.serial_number = Some(random_serial(rng));
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&key)
            .map_err(signing_error("CA certificate"))?;
        let certificate = Certificate::from_der(cert.der())?;
        let issuer = rcgen::Issuer::new(params, key);
        Ok(Self {
            certificate,
            issuer,
        })
    }

    /// Loads a CA from its certificate PEM and key PEM (PKCS#8, encrypted
    /// or not, or any older form [`PrivateKey::from_pem`] reads). The key
    /// must match the certificate, which must be a CA.
    pub fn from_pem(certificate_pem: &str, key_pem: &str, password: Option<&str>) -> Result<Self> {
        let certificate = Certificate::from_pem(certificate_pem)?;
        let key = PrivateKey::from_pem(key_pem, password)?;
        Self::from_parts(certificate, key)
    }

    /// Loads a CA from a parsed certificate and its key.
    pub fn from_parts(certificate: Certificate, key: PrivateKey) -> Result<Self> {
        let subject = certificate.info().subject.clone();
        if !certificate.info().is_ca {
            return Err(CertError::NotACertificateAuthority { subject });
        }
        if !certificate.matches_key(&key) {
            return Err(CertError::KeyDoesNotMatchCertificate { subject });
        }
        let der = rustls_pki_der(certificate.der());
        let issuer =
            rcgen::Issuer::from_ca_cert_der(&der, key).map_err(|e| CertError::NotACertificate {
                source_name: subject,
                reason: e.to_string(),
            })?;
        Ok(Self {
            certificate,
            issuer,
        })
    }

    /// Saves the CA as PEM; with a password the key is written encrypted
    /// (PBES2, PBKDF2-SHA256, AES-256-CBC; salt and IV from `rng`).
    pub fn to_pem<R: CryptoRng + ?Sized>(
        &self,
        key_password: Option<&str>,
        rng: &mut R,
    ) -> Result<CaPem> {
        Ok(CaPem {
            certificate_pem: self.certificate.pem(),
            key_pem: self.issuer.key().to_pkcs8_pem(key_password, rng)?,
        })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The CA's private key.
    pub fn key(&self) -> &PrivateKey {
        self.issuer.key()
    }

    /// Issues a leaf for `public_key` (a raw SPKI from a CSR or a key made here).
    pub(crate) fn issue_leaf<R: CryptoRng + ?Sized>(
        &self,
        kind: LeafKind,
        subject: &SubjectName,
        sans: Vec<rcgen::SanType>,
        public_key: &impl rcgen::PublicKeyData,
        validity: Validity,
        rng: &mut R,
    ) -> Result<Certificate> {
        let ca_end = self.certificate.info().not_after;
        if validity.not_after() > ca_end {
            return Err(CertError::OutlivesIssuer {
                requested: validity.not_after(),
                ca_not_after: ca_end,
            });
        }
        let params = leaf_params(kind, subject, sans, validity, rng);
        let cert = params
            .signed_by(public_key, &self.issuer)
            .map_err(signing_error("certificate"))?;
        Certificate::from_der(cert.der())
    }
}

pub(crate) fn rustls_pki_der(der: &[u8]) -> rustls_pki_types::CertificateDer<'_> {
    rustls_pki_types::CertificateDer::from(der)
}

pub(crate) fn leaf_params<R: CryptoRng + ?Sized>(
    kind: LeafKind,
    subject: &SubjectName,
    sans: Vec<rcgen::SanType>,
    validity: Validity,
    rng: &mut R,
) -> rcgen::CertificateParams {
    use rcgen::{ExtendedKeyUsagePurpose as Eku, KeyUsagePurpose as Ku};
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject.to_rcgen();
    params.subject_alt_names = sans;
    params.not_before = validity.not_before();
    params.not_after = validity.not_after();
    params.serial_number = Some(random_serial(rng));
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    match kind {
        LeafKind::Server => {
            params.key_usages = vec![Ku::DigitalSignature, Ku::KeyEncipherment];
            params.extended_key_usages = vec![Eku::ServerAuth];
        }
        LeafKind::Client | LeafKind::Push => {
            params.key_usages = vec![Ku::DigitalSignature, Ku::KeyEncipherment];
            params.extended_key_usages = vec![Eku::ClientAuth];
        }
        LeafKind::Signing => {
            params.key_usages = vec![Ku::DigitalSignature];
        }
    }
    params
}

#[cfg(test)]
pub(crate) fn test_ca() -> CertificateAuthority {
    tests::test_ca()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::key::test_keys::rng;
    use crate::name::NameAttribute;

    pub(super) fn test_ca() -> CertificateAuthority {
        let subject = SubjectName::common_name("Example Workspace CA")
            .unwrap()
            .with(NameAttribute::Organization, "Example")
            .unwrap();
        let validity = Validity::days(datetime!(2026-01-01 0:00 UTC), 3650).unwrap();
        CertificateAuthority::create(&subject, validity, KeyAlgorithm::EcdsaP256, &mut rng(11))
            .unwrap()
    }

    #[test]
    fn ca_is_self_signed_ca() {
        let ca = test_ca();
        let info = ca.certificate().info();
        assert!(info.is_ca);
        assert_eq!(
            info.subject_common_name.as_deref(),
            Some("Example Workspace CA")
        );
        assert_eq!(info.subject, info.issuer);
        assert!(ca.certificate().is_signed_by(ca.certificate()));
        assert_eq!(info.serial_hex.len(), 32);
    }

    #[test]
    fn save_and_load_with_and_without_password() {
        let ca = test_ca();
        let plain = ca.to_pem(None, &mut rng(1)).unwrap();
        let back =
            CertificateAuthority::from_pem(&plain.certificate_pem, &plain.key_pem, None).unwrap();
        assert_eq!(back.certificate().der(), ca.certificate().der());
        // The default 600 000 PBKDF2 rounds are exercised (with OpenSSL) in the
        // integration tests; a few suffice here.
        let enc = CaPem {
            certificate_pem: ca.certificate().pem(),
            key_pem: ca
                .key()
                .to_pkcs8_pem_with_iterations(Some("s3cret pass"), 2_000, &mut rng(2))
                .unwrap(),
        };
        assert!(enc.key_pem.contains("ENCRYPTED PRIVATE KEY"));
        assert!(matches!(
            CertificateAuthority::from_pem(&enc.certificate_pem, &enc.key_pem, None),
            Err(CertError::KeyPasswordRequired)
        ));
        let back =
            CertificateAuthority::from_pem(&enc.certificate_pem, &enc.key_pem, Some("s3cret pass"))
                .unwrap();
        assert!(back.key().public_key_raw() == ca.key().public_key_raw());
        assert!(!format!("{enc:?}").contains("BEGIN ENCRYPTED"));
    }

    #[test]
    fn certificate_info_json_roundtrips() {
        let ca = test_ca();
        let info = ca.certificate().info();
        let json = serde_json::to_value(info).unwrap();
        assert_eq!(json["not_before"], "2026-01-01T00:00:00Z");
        assert_eq!(json["is_ca"], true);
        let back: crate::CertificateInfo = serde_json::from_value(json).unwrap();
        assert_eq!(&back, info);
    }

    #[test]
    fn refuses_foreign_key() {
        let ca = test_ca();
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(99)).unwrap();
        assert!(matches!(
            CertificateAuthority::from_parts(ca.certificate().clone(), other),
            Err(CertError::KeyDoesNotMatchCertificate { .. })
        ));
    }

    #[test]
    fn empty_validity_is_refused() {
        let t = datetime!(2026-01-01 0:00 UTC);
        assert!(matches!(
            Validity::new(t, t),
            Err(CertError::InvalidValidity { .. })
        ));
        let sub = datetime!(2026-01-01 0:00:00.5 UTC);
        assert!(Validity::new(t, sub).is_err());
    }

    #[test]
    fn issued_validity_matches_requested_to_the_second() {
        let ca = test_ca();
        let start = datetime!(2026-02-03 4:05:06.789 UTC);
        let v = Validity::days(start, 10).unwrap();
        let subject = SubjectName::common_name("x").unwrap();
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(5)).unwrap();
        let cert = ca
            .issue_leaf(LeafKind::Client, &subject, Vec::new(), &key, v, &mut rng(6))
            .unwrap();
        assert_eq!(cert.info().not_before, datetime!(2026-02-03 4:05:06 UTC));
        assert_eq!(cert.info().not_before, v.not_before());
        assert_eq!(cert.info().not_after, v.not_after());
    }
}
