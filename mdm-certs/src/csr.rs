//! Certificate signing requests: made here (devices, the APNs flow) or read
//! from a device.

use core::fmt;

use rand_core::CryptoRng;
use rustls_pki_types::CertificateSigningRequestDer;
use x509_parser::prelude::FromDer as _;

use crate::certificate::pem_encode;
use crate::error::{CertError, Result};
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::name::SubjectName;

/// A PKCS#10 certificate signing request whose self-signature verified.
///
/// The key stays with whoever made the request; issuing from a `Csr`
/// certifies its public key.
#[derive(Clone)]
pub struct Csr {
    der: Vec<u8>,
    subject: String,
    public_key_raw: Vec<u8>,
    public_key: rcgen::SubjectPublicKeyInfo,
}

impl fmt::Debug for Csr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csr")
            .field("subject", &self.subject)
            .field("der_len", &self.der.len())
            .finish()
    }
}

impl PartialEq for Csr {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Csr {}

impl Csr {
    /// Makes a key of `algorithm` and a CSR for `subject` signed with it.
    pub fn generate<R: CryptoRng + ?Sized>(
        subject: &SubjectName,
        algorithm: KeyAlgorithm,
        rng: &mut R,
    ) -> Result<(PrivateKey, Self)> {
        let key = PrivateKey::generate(algorithm, rng)?;
        let csr = Self::for_key(subject, &key)?;
        Ok((key, csr))
    }

    /// What a device does to ask for its client certificate: a new P-256
    /// key from the caller's RNG and a CSR with `CN=<common_name>`.
    pub fn for_device<R: CryptoRng + ?Sized>(
        common_name: &str,
        rng: &mut R,
    ) -> Result<(PrivateKey, Self)> {
        Self::generate(
            &SubjectName::common_name(common_name)?,
            KeyAlgorithm::EcdsaP256,
            rng,
        )
    }

    /// A CSR for an existing key.
    pub fn for_key(subject: &SubjectName, key: &PrivateKey) -> Result<Self> {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = subject.to_rcgen();
        let csr = params
            .serialize_request(key)
            .map_err(|e| CertError::Signing {
                artifact: "certificate signing request",
                reason: e.to_string(),
            })?;
        // The request was signed just now with `key`: no need to check it.
        Self::parse(csr.der(), false)
    }

    /// Reads a DER CSR and verifies its self-signature. Only requests with a
    /// P-256 or RSA key, signed with SHA-256, are accepted.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        Self::parse(der, true)
    }

    fn parse(der: &[u8], verify: bool) -> Result<Self> {
        let invalid = |reason: String| CertError::InvalidCsr { reason };
        let (rest, parsed) =
            x509_parser::certification_request::X509CertificationRequest::from_der(der)
                .map_err(|e| invalid(e.to_string()))?;
        if !rest.is_empty() {
            return Err(invalid(format!("{} trailing bytes", rest.len())));
        }
        let info = &parsed.certification_request_info;
        let subject = info.subject.to_string();
        let spki_raw = info.subject_pki.raw.to_vec();
        let public_key_raw = info.subject_pki.subject_public_key.data.to_vec();
        if verify {
            // Verifies the self-signature and refuses unsupported extensions.
            rcgen::CertificateSigningRequestParams::from_der(&CertificateSigningRequestDer::from(
                der,
            ))
            .map_err(|e| invalid(e.to_string()))?;
        }
        let public_key =
            rcgen::SubjectPublicKeyInfo::from_der(&spki_raw).map_err(|e| invalid(e.to_string()))?;
        let alg = rcgen::PublicKeyData::algorithm(&public_key);
        if alg != &rcgen::PKCS_ECDSA_P256_SHA256 && alg != &rcgen::PKCS_RSA_SHA256 {
            return Err(invalid(
                "only ECDSA P-256 and RSA keys with SHA-256 signatures are accepted".into(),
            ));
        }
        // Make sure the key rcgen would certify is exactly the key in the request.
        if rcgen::PublicKeyData::subject_public_key_info(&public_key) != spki_raw {
            return Err(invalid(
                "the public key cannot be certified as given: its SubjectPublicKeyInfo must be in the canonical DER form for its algorithm".into(),
            ));
        }
        Ok(Self {
            der: der.to_vec(),
            subject,
            public_key_raw,
            public_key,
        })
    }

    /// Reads a PEM `CERTIFICATE REQUEST` (or `NEW CERTIFICATE REQUEST`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let invalid = |reason: String| CertError::InvalidCsr { reason };
        let (_, item) =
            x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        if item.label != "CERTIFICATE REQUEST" && item.label != "NEW CERTIFICATE REQUEST" {
            return Err(invalid(format!(
                "the PEM label is `{}`; a CSR is `CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`",
                item.label
            )));
        }
        Self::from_der(&item.contents)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM encoding (`CERTIFICATE REQUEST`).
    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE REQUEST", &self.der)
    }

    /// The requested subject, one-line form.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The raw `subjectPublicKey` bits of the requested key.
    pub fn public_key_raw(&self) -> &[u8] {
        &self.public_key_raw
    }

    /// The requested public key as SubjectPublicKeyInfo DER.
    pub fn public_key_der(&self) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(&self.public_key)
    }

    pub(crate) fn public_key(&self) -> &rcgen::SubjectPublicKeyInfo {
        &self.public_key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::test_keys::{rng, rsa2048};
    use crate::name::NameAttribute;

    #[test]
    fn device_csr_roundtrips() {
        let (key, csr) = Csr::for_device("device-0001", &mut rng(1)).unwrap();
        assert_eq!(csr.public_key_raw(), key.public_key_raw());
        assert_eq!(csr.subject(), "CN=device-0001");
        let again = Csr::from_pem(&csr.pem()).unwrap();
        assert_eq!(again, csr);
    }

    #[test]
    fn rsa_csr_roundtrips() {
        let key = rsa2048(0);
        let subject = SubjectName::common_name("x")
            .unwrap()
            .with(NameAttribute::Country, "fr")
            .unwrap();
        let csr = Csr::for_key(&subject, &key).unwrap();
        assert_eq!(csr.subject(), "CN=x, C=FR");
        assert_eq!(csr.public_key_der(), key.public_key_der());
    }

    #[test]
    fn tampered_csr_is_refused() {
        let (_, csr) = Csr::for_device("device-0001", &mut rng(1)).unwrap();
        let mut der = csr.der().to_vec();
        // Flip a byte inside the subject's common name.
        let pos = der.windows(4).position(|w| w == b"0001").unwrap();
        der[pos] ^= 1;
        assert!(matches!(
            Csr::from_der(&der),
            Err(CertError::InvalidCsr { .. })
        ));
        assert!(Csr::from_der(b"").is_err());
        assert!(
            Csr::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }
}
