//! Signing profiles as CMS SignedData (attached content, SHA-256, the
//! signer's chain included), the form devices and `openssl cms -verify` read.

use std::fmt;
use std::time::SystemTime;

use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNING_TIME};
use const_oid::db::rfc5912::ID_SHA_256;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use p256::ecdsa::signature::{self, Keypair, Signer};
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, EncodePublicKey, SignatureAlgorithmIdentifier};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::{Attribute, AttributeValue};
use x509_cert::time::Time;

use crate::error::{AppleError, Result};

enum SigningKey {
    Rsa(rsa::pkcs1v15::SigningKey<sha2::Sha256>),
    P256(P256Signer),
}

/// A P-256 key that signs through `mdm-certs` (OpenSSL with RFC 6979
/// nonces: the same bytes `p256` would sign, about three times faster),
/// in the shape the CMS builder asks of a signer.
struct P256Signer {
    key: mdm_certs::PrivateKey,
    public: p256::ecdsa::VerifyingKey,
}

impl Keypair for P256Signer {
    type VerifyingKey = p256::ecdsa::VerifyingKey;

    fn verifying_key(&self) -> Self::VerifyingKey {
        self.public
    }
}

impl SignatureAlgorithmIdentifier for P256Signer {
    type Params = der::AnyRef<'static>;

    const SIGNATURE_ALGORITHM_IDENTIFIER: spki::AlgorithmIdentifier<Self::Params> =
        <p256::ecdsa::VerifyingKey as SignatureAlgorithmIdentifier>::SIGNATURE_ALGORITHM_IDENTIFIER;
}

impl Signer<p256::ecdsa::DerSignature> for P256Signer {
    fn try_sign(&self, message: &[u8]) -> signature::Result<p256::ecdsa::DerSignature> {
        let der = self
            .key
            .sign(message)
            .map_err(signature::Error::from_source)?;
        p256::ecdsa::DerSignature::try_from(der.as_slice())
    }
}

/// Signs profiles: a certificate chain (leaf first, DER) and the leaf's
/// private key (PKCS#8 DER, RSA or ECDSA P-256).
///
/// The key never leaves this value: `Debug` shows only the chain's subjects,
/// and the underlying key types zeroise their memory on drop.
pub struct ProfileSigner {
    chain: Vec<Certificate>,
    key: SigningKey,
}

impl fmt::Debug for ProfileSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subjects: Vec<String> = self
            .chain
            .iter()
            .map(|c| c.tbs_certificate().subject().to_string())
            .collect();
        let kind = match self.key {
            SigningKey::Rsa(_) => "RSA",
            SigningKey::P256(_) => "ECDSA P-256",
        };
        f.debug_struct("ProfileSigner")
            .field("chain", &subjects)
            .field("key", &kind)
            .finish()
    }
}

impl ProfileSigner {
    /// Loads a signer.
    ///
    /// # Errors
    /// [`AppleError::InvalidCertificate`] for a chain entry that is not DER
    /// X.509 or an empty chain, [`AppleError::InvalidPrivateKey`] for a key
    /// that is neither RSA nor P-256 PKCS#8, and
    /// [`AppleError::KeyCertificateMismatch`] when the key is not the leaf's.
    pub fn new<C: AsRef<[u8]>>(chain_der: &[C], private_key_pkcs8_der: &[u8]) -> Result<Self> {
        let chain = chain_der
            .iter()
            .enumerate()
            .map(|(i, der)| {
                Certificate::from_der(der.as_ref()).map_err(|e| AppleError::InvalidCertificate {
                    what: format!("signer chain entry {i}"),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let leaf = chain
            .first()
            .ok_or_else(|| AppleError::InvalidCertificate {
                what: "signer chain".into(),
                reason: "empty: the signer certificate comes first".into(),
            })?;
        use rsa::pkcs8::DecodePrivateKey;
        let (key, public_der) =
            if let Ok(k) = rsa::PrivateKey::from_pkcs8_der(private_key_pkcs8_der) {
                let public = k.to_public_key().to_public_key_der().map_err(|e| {
                    AppleError::InvalidPrivateKey {
                        reason: format!("RSA public key: {e}"),
                    }
                })?;
                (
                    SigningKey::Rsa(rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k)),
                    public,
                )
            } else if let Ok(key) = mdm_certs::PrivateKey::from_pkcs8_der(private_key_pkcs8_der)
                && key.algorithm() == mdm_certs::KeyAlgorithm::EcdsaP256
            {
                let invalid = |e: &dyn fmt::Display| AppleError::InvalidPrivateKey {
                    reason: format!("P-256 public key: {e}"),
                };
                let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(key.public_key_raw())
                    .map_err(|e| invalid(&e))?;
                let public_der = public.to_public_key_der().map_err(|e| invalid(&e))?;
                (SigningKey::P256(P256Signer { key, public }), public_der)
            } else {
                return Err(AppleError::InvalidPrivateKey {
                    reason: "not a PKCS#8 RSA or ECDSA P-256 private key".into(),
                });
            };
        let leaf_spki = leaf
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| AppleError::InvalidCertificate {
                what: "signer certificate".into(),
                reason: e.to_string(),
            })?;
        if leaf_spki != public_der.as_bytes() {
            return Err(AppleError::KeyCertificateMismatch {
                subject: leaf.tbs_certificate().subject().to_string(),
            });
        }
        Ok(Self { chain, key })
    }

    /// The signer certificate's subject.
    pub fn subject(&self) -> String {
        self.chain
            .first()
            .map(|c| c.tbs_certificate().subject().to_string())
            .unwrap_or_default()
    }

    /// Signs `content` (attached, SHA-256) with a `signingTime` of `now`;
    /// returns the DER `ContentInfo`. Signing is deterministic: RSA PKCS#1
    /// v1.5 and RFC 6979 ECDSA need no randomness.
    ///
    /// # Errors
    /// [`AppleError::CmsEncoding`] if the CMS structure cannot be built.
    pub fn sign(&self, content: &[u8], now: OffsetDateTime) -> Result<Vec<u8>> {
        self.sign_cms(content, false, now)
    }

    /// Signs `content` **detached** (the content is not embedded): the form
    /// of the `Mdm-Signature` header a device with `SignMessage` sends over
    /// each request body (base64 of this DER). Simulated devices use it;
    /// servers check it with [`crate::verify_detached_signature`].
    ///
    /// # Errors
    /// [`AppleError::CmsEncoding`] if the CMS structure cannot be built.
    pub fn sign_detached(&self, content: &[u8], now: OffsetDateTime) -> Result<Vec<u8>> {
        self.sign_cms(content, true, now)
    }

    fn sign_cms(&self, content: &[u8], detached: bool, now: OffsetDateTime) -> Result<Vec<u8>> {
        let enc = |e: &dyn fmt::Display| AppleError::CmsEncoding {
            reason: e.to_string(),
        };
        let leaf = self.chain.first().ok_or_else(|| AppleError::CmsEncoding {
            reason: "no signer".into(),
        })?;
        let econtent = if detached {
            EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: None,
            }
        } else {
            let octets = OctetString::new(content).map_err(|e| enc(&e))?;
            EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: Some(Any::encode_from(&octets).map_err(|e| enc(&e))?),
            }
        };
        let external_digest = detached.then(|| sha2::Sha256::digest(content));
        let external = external_digest.as_deref();
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.tbs_certificate().issuer().clone(),
            serial_number: leaf.tbs_certificate().serial_number().clone(),
        });
        let digest = AlgorithmIdentifierOwned {
            oid: ID_SHA_256,
            parameters: None,
        };
        let mut signer_info = SignerInfoBuilder::new(sid, digest.clone(), &econtent, external)
            .map_err(|e| enc(&e))?;
        signer_info
            .add_signed_attribute(signing_time(now)?)
            .map_err(|e| enc(&e))?;

        let mut builder = SignedDataBuilder::new(&econtent);
        builder.add_digest_algorithm(digest).map_err(|e| enc(&e))?;
        for cert in &self.chain {
            builder
                .add_certificate(CertificateChoices::Certificate(cert.clone()))
                .map_err(|e| enc(&e))?;
        }
        match &self.key {
            SigningKey::Rsa(k) => {
                builder
                    .add_signer_info::<_, rsa::pkcs1v15::Signature>(signer_info, k)
                    .map_err(|e| enc(&e))?;
            }
            SigningKey::P256(k) => {
                builder
                    .add_signer_info::<_, p256::ecdsa::DerSignature>(signer_info, k)
                    .map_err(|e| enc(&e))?;
            }
        }
        let content_info: ContentInfo = builder.build().map_err(|e| enc(&e))?;
        content_info.to_der().map_err(|e| enc(&e))
    }
}

/// The `signingTime` attribute (UTCTime until 2049, as RFC 5652 asks).
fn signing_time(now: OffsetDateTime) -> Result<Attribute> {
    let enc = |e: der::Error| AppleError::CmsEncoding {
        reason: format!("signingTime: {e}"),
    };
    let time = Time::try_from(SystemTime::from(now)).map_err(enc)?;
    let value = AttributeValue::from_der(&time.to_der().map_err(enc)?).map_err(enc)?;
    let mut values = SetOfVec::new();
    values.insert(value).map_err(enc)?;
    Ok(Attribute {
        oid: ID_SIGNING_TIME,
        values,
    })
}
