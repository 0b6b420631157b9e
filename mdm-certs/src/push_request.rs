//! Vendor signing of the customer CSR and the push-certificate request plist
//! that Apple's Push Certificates Portal takes (R-AP-1, R-AP-4).

use core::fmt;

use base64::Engine as _;
use time::{Duration, OffsetDateTime};

use crate::certificate::Certificate;
use crate::csr::Csr;
use crate::error::{CertError, Result};
use crate::key::{KeyAlgorithm, PrivateKey, verify_rsa_sha256};

/// How long a signed request stays usable by default (the flow is meant to
/// be done in one sitting).
pub const DEFAULT_REQUEST_MAX_AGE: Duration = Duration::hours(1);

/// The largest push certificate request read, in bytes of base64 text
/// (64 KiB: a real one, a CSR and a three-certificate chain, is about 8 KB).
pub const MAX_PUSH_REQUEST_LEN: usize = 64 * 1024;

/// The most keys the request's dictionary may hold (it has three).
pub const MAX_PUSH_REQUEST_KEYS: usize = 8;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The vendor's MDM CSR-signing identity: the certificate Apple issued to the
/// MDM vendor, its RSA key, and the chain above it (Apple WWDR G3
/// intermediate, Apple Root CA).
pub struct VendorSigner {
    certificate: Certificate,
    key: PrivateKey,
    chain: Vec<Certificate>,
}

impl fmt::Debug for VendorSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorSigner")
            .field("certificate", &self.certificate.info().subject)
            .field("key", &self.key)
            .field("chain", &self.chain.len())
            .finish()
    }
}

impl VendorSigner {
    /// The vendor identity. The key must be RSA and match `certificate`.
    pub fn new(certificate: Certificate, key: PrivateKey, chain: Vec<Certificate>) -> Result<Self> {
        if key.algorithm() == KeyAlgorithm::EcdsaP256 {
            return Err(CertError::InvalidPrivateKey {
                reason: "the MDM vendor signing key must be RSA (SHA256WithRSA)".into(),
            });
        }
        if !certificate.matches_key(&key) {
            return Err(CertError::KeyDoesNotMatchCertificate {
                subject: certificate.info().subject.clone(),
            });
        }
        Ok(Self {
            certificate,
            key,
            chain,
        })
    }

    /// The vendor certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Signs the customer's CSR (SHA-256 with RSA over its DER) at `now` and
    /// builds the request plist, base64-encoded as the portal takes it.
    pub fn sign_request(&self, csr: &Csr, now: OffsetDateTime) -> Result<PushCertificateRequest> {
        let signature = self.key.sign(csr.der())?;
        let mut chain_pem = self.certificate.pem();
        for c in &self.chain {
            chain_pem.push_str(&c.pem());
        }
        let mut dict = plist::Dictionary::new();
        dict.insert(
            "PushCertRequestCSR".into(),
            plist::Value::String(B64.encode(csr.der())),
        );
        dict.insert(
            "PushCertCertificateChain".into(),
            plist::Value::String(chain_pem),
        );
        dict.insert(
            "PushCertSignature".into(),
            plist::Value::String(B64.encode(&signature)),
        );
        let mut xml = Vec::new();
        plist::Value::Dictionary(dict)
            .to_writer_xml(&mut xml)
            .map_err(|e| CertError::Signing {
                artifact: "push certificate request plist",
                reason: e.to_string(),
            })?;
        Ok(PushCertificateRequest {
            encoded: B64.encode(&xml),
            plist_xml: xml,
            signed_at: now,
        })
    }
}

/// A vendor-signed push certificate request (`PushCertificateRequest.plist`),
/// with the time it was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCertificateRequest {
    plist_xml: Vec<u8>,
    encoded: String,
    signed_at: OffsetDateTime,
}

impl PushCertificateRequest {
    /// When the vendor signed it.
    pub fn signed_at(&self) -> OffsetDateTime {
        self.signed_at
    }

    /// The XML plist (before base64).
    pub fn plist_xml(&self) -> &[u8] {
        &self.plist_xml
    }

    /// The file to upload to the portal (the whole plist, base64-encoded),
    /// refused with [`CertError::RequestExpired`] once it is older than
    /// `max_age` at `now` (R-AP-4).
    pub fn for_upload(&self, now: OffsetDateTime, max_age: Duration) -> Result<&str> {
        if now - self.signed_at > max_age {
            return Err(CertError::RequestExpired {
                signed_at: self.signed_at,
                max_age,
            });
        }
        Ok(&self.encoded)
    }
}

/// A push certificate request as the portal reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPushRequest {
    /// The customer CSR.
    pub csr: Csr,
    /// The vendor certificate followed by its chain.
    pub chain: Vec<Certificate>,
    /// The vendor's signature over the CSR DER.
    pub signature: Vec<u8>,
}

impl DecodedPushRequest {
    /// Reads the base64 request file (whitespace ignored) and checks its
    /// shape: the three string keys, a valid CSR, a parsable chain.
    ///
    /// The file comes from whoever uploads it, so reading is bounded: at
    /// most [`MAX_PUSH_REQUEST_LEN`] bytes
    /// ([`CertError::PushRequestTooLarge`]), an XML plist whose root is one
    /// dictionary of at most [`MAX_PUSH_REQUEST_KEYS`] string values, read
    /// as a stream of events and refused at the first event that does not
    /// fit that shape (a nested array or dictionary is refused where it
    /// starts, however deep it would go).
    pub fn decode(encoded: &str) -> Result<Self> {
        let invalid = |reason: String| CertError::InvalidPushRequest { reason };
        if encoded.len() > MAX_PUSH_REQUEST_LEN {
            return Err(CertError::PushRequestTooLarge {
                length: encoded.len(),
                limit: MAX_PUSH_REQUEST_LEN,
            });
        }
        let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let xml = B64
            .decode(compact)
            .map_err(|e| invalid(format!("not base64: {e}")))?;
        let dict = string_dictionary(&xml)?;
        let get = |k: &str| {
            dict.get(k)
                .map(String::as_str)
                .ok_or_else(|| invalid(format!("missing string `{k}`")))
        };
        let csr_der = B64
            .decode(get("PushCertRequestCSR")?)
            .map_err(|e| invalid(format!("PushCertRequestCSR: {e}")))?;
        let signature = B64
            .decode(get("PushCertSignature")?)
            .map_err(|e| invalid(format!("PushCertSignature: {e}")))?;
        let chain = Certificate::all_from_pem(get("PushCertCertificateChain")?)?;
        if chain.is_empty() {
            return Err(invalid("empty PushCertCertificateChain".into()));
        }
        Ok(Self {
            csr: Csr::from_der(&csr_der)?,
            chain,
            signature,
        })
    }

    /// Whether the signature verifies with the first chain certificate's key
    /// (SHA-256 with RSA over the CSR DER).
    pub fn signature_verifies(&self) -> bool {
        self.chain.first().is_some_and(|v| {
            verify_rsa_sha256(&v.info().public_key_der, self.csr.der(), &self.signature)
        })
    }
}

/// The request plist as its only accepted shape: an XML plist whose root is
/// a dictionary of strings. Read as events, without recursion: the first
/// event out of shape ends the read with an error, so neither depth nor
/// node count can grow with what the input claims.
fn string_dictionary(xml: &[u8]) -> Result<std::collections::BTreeMap<String, String>> {
    use plist::stream::Event;
    let invalid = |reason: String| CertError::InvalidPushRequest { reason };
    let mut events = plist::stream::XmlReader::new(std::io::Cursor::new(xml));
    let mut next = || match events.next() {
        None => Ok(None),
        Some(Ok(event)) => Ok(Some(event)),
        Some(Err(e)) => Err(invalid(format!("not an XML plist: {e}"))),
    };
    if !matches!(next()?, Some(Event::StartDictionary(_))) {
        return Err(invalid("not a dictionary".into()));
    }
    let mut dict = std::collections::BTreeMap::new();
    loop {
        let key = match next()? {
            Some(Event::EndCollection) => break,
            Some(Event::String(key)) => key.into_owned(),
            _ => return Err(invalid("a dictionary key is not a string".into())),
        };
        let Some(Event::String(value)) = next()? else {
            return Err(invalid(format!("`{key}` is not a string")));
        };
        if dict.len() >= MAX_PUSH_REQUEST_KEYS {
            return Err(invalid(format!(
                "more than {MAX_PUSH_REQUEST_KEYS} keys in the dictionary"
            )));
        }
        if dict.insert(key.clone(), value.into_owned()).is_some() {
            return Err(invalid(format!("`{key}` appears twice")));
        }
    }
    if next()?.is_some() {
        return Err(invalid("content after the dictionary".into()));
    }
    Ok(dict)
}
