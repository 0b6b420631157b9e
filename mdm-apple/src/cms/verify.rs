//! Reading a signed profile or a detached request signature back: check
//! the CMS signature, that the signer chains to one of the caller's trust
//! anchors at the caller's `now`, and return the content and the signer.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512, RSA_ENCRYPTION,
    SHA_1_WITH_RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION,
    SHA_512_WITH_RSA_ENCRYPTION,
};
use der::asn1::{ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode};
use sha2::Digest;
use spki::DecodePublicKey;
use std::borrow::Cow;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::ber::der_children;
use super::ber_to_der;
use crate::error::{AppleError, Result};
use crate::value::PlistValue;

/// A signed profile whose signature checked out. `Debug` shows the
/// signer and the content's length, not the content (a profile may hold
/// passwords; a device request body holds its `PushMagic`).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedProfile {
    content: Vec<u8>,
    signer: Vec<u8>,
    signer_subject: String,
    certificates: Vec<Vec<u8>>,
    bytes_hashed: usize,
}

impl std::fmt::Debug for VerifiedProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedProfile")
            .field("content", &crate::fields::RedactedBytes(self.content.len()))
            .field("signer_subject", &self.signer_subject)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

impl VerifiedProfile {
    /// The signed content: the profile's plist bytes.
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The content parsed as a plist.
    ///
    /// # Errors
    /// [`AppleError::MalformedPlist`] when the signed content is not a plist.
    pub fn plist(&self) -> Result<PlistValue> {
        crate::value::parse_value(&self.content)
    }

    /// The signer's certificate (DER).
    pub fn signer_der(&self) -> &[u8] {
        &self.signer
    }

    /// The signer's subject (RFC 4514 string).
    pub fn signer_subject(&self) -> &str {
        &self.signer_subject
    }

    /// Every certificate the SignedData carried (DER), in order.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// How many content bytes were digested to check the `messageDigest`
    /// attributes: the content's length once per digest algorithm the
    /// signers use (once for every signature this crate makes), never once
    /// per attribute or per SignerInfo.
    pub fn bytes_hashed(&self) -> usize {
        self.bytes_hashed
    }
}

fn malformed(reason: impl Into<String>) -> AppleError {
    AppleError::MalformedCms {
        reason: reason.into(),
    }
}

/// `ecdsa-with-SHA1` (RFC 3279 §2.2.3), which OpenSSL writes for a P-256
/// signer with `-md sha1`; not in `const_oid`'s database.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// Most `SignerInfo`s one SignedData may carry. A profile or request
/// signature has one; each costs a chain check and a signature check.
pub const MAX_CMS_SIGNERS: usize = 4;

/// Most certificates one SignedData may carry (a signer and its chain
/// need a handful); they are the pool a signer's chain is built from.
pub const MAX_CMS_CERTIFICATES: usize = 16;

/// Most signed attributes one SignerInfo may carry (signers write three
/// to six: contentType, signingTime, messageDigest, capabilities…).
pub const MAX_SIGNED_ATTRIBUTES: usize = 32;

/// Most certificates between a signer and its trust anchor (the signer
/// included, the anchor not).
pub const MAX_CHAIN_DEPTH: usize = 8;

/// Smallest RSA modulus accepted on a signer's chain, in bits.
pub const MIN_RSA_BITS: usize = 2048;

#[derive(Clone, Copy, PartialEq, Eq)]
enum DigestAlg {
    /// Still sent by devices and older tools over request bodies.
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlg {
    fn from_oid(oid: ObjectIdentifier) -> Result<Self> {
        match oid {
            o if o == ID_SHA_1 => Ok(Self::Sha1),
            o if o == ID_SHA_256 => Ok(Self::Sha256),
            o if o == ID_SHA_384 => Ok(Self::Sha384),
            o if o == ID_SHA_512 => Ok(Self::Sha512),
            o => Err(AppleError::UnsupportedAlgorithm {
                field: "digestAlgorithm",
                oid: o.to_string(),
            }),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// The content's digests, each computed at most once however many
/// SignerInfos ask for it.
struct ContentDigests<'a> {
    content: &'a [u8],
    done: Vec<(DigestAlg, Vec<u8>)>,
    bytes_hashed: usize,
}

impl<'a> ContentDigests<'a> {
    fn new(content: &'a [u8]) -> Self {
        Self {
            content,
            done: Vec::new(),
            bytes_hashed: 0,
        }
    }

    fn get(&mut self, alg: DigestAlg) -> &[u8] {
        let index = match self.done.iter().position(|(a, _)| *a == alg) {
            Some(i) => i,
            None => {
                self.bytes_hashed = self.bytes_hashed.saturating_add(self.content.len());
                self.done.push((alg, alg.digest(self.content)));
                self.done.len() - 1
            }
        };
        self.done.get(index).map_or(&[], |(_, d)| d.as_slice())
    }
}

/// Verifies a signed profile (DER, or BER as OpenSSL's streaming mode
/// writes it) and returns its content and signer.
///
/// Checks, for every SignerInfo (at most [`MAX_CMS_SIGNERS`], with at most
/// [`MAX_CMS_CERTIFICATES`] certificates and [`MAX_SIGNED_ATTRIBUTES`]
/// signed attributes, counted before anything is decoded): the signer
/// certificate is in the SignedData (found by issuer and serial number);
/// it chains to one of `anchors` (see below); with signed attributes,
/// there is exactly one `contentType` attribute, id-data, and exactly one
/// `messageDigest`, equal to the digest of the content (computed once),
/// and the signature covers the DER of the signed attributes (as a SET);
/// without them, the signature covers the content. RSA PKCS#1 v1.5
/// (SHA-256/384/512) and ECDSA P-256 with SHA-256 are supported; SHA-1
/// (RSA and ECDSA) only by [`verify_detached_signature`], because devices
/// still sign request bodies with it.
///
/// The chain: the signer is one of `anchors`, or is signed by one, or by a
/// CA certificate of the SignedData that is (at most [`MAX_CHAIN_DEPTH`]
/// certificates in all). Every certificate on it, the anchor included,
/// must be valid at `now`; the signer's key usage, if the certificate has
/// that extension, must allow `digitalSignature`, an issuer's
/// `keyCertSign`; an issuer below the anchor must be a CA; and no RSA key
/// below the anchor may be shorter than [`MIN_RSA_BITS`].
///
/// # Errors
/// [`AppleError::MalformedCms`] for bytes that are not SignedData,
/// [`AppleError::CmsLimit`], [`AppleError::CmsAttributeCount`],
/// [`AppleError::UnsupportedAlgorithm`], [`AppleError::BadSignature`],
/// [`AppleError::UntrustedSigner`], [`AppleError::CertificateNotValidAt`],
/// [`AppleError::KeyUsageForbids`], [`AppleError::WeakRsaKey`],
/// [`AppleError::InvalidCertificate`].
pub fn verify_signed_profile(
    signed: &[u8],
    anchors: &[mdm_certs::Certificate],
    now: OffsetDateTime,
) -> Result<VerifiedProfile> {
    verify_signed_data(signed, None, anchors, now)
}

/// Verifies a **detached** CMS signature over `content` — the
/// `Mdm-Signature` header of a device request (base64-decoded) over the
/// request body — with the same checks as [`verify_signed_profile`]:
/// `anchors` are the CAs that issue device identities. The returned
/// [`VerifiedProfile::content`] is `content` itself.
///
/// # Errors
/// As [`verify_signed_profile`]; also [`AppleError::MalformedCms`] when the
/// signature embeds content (it is not detached).
pub fn verify_detached_signature(
    signature: &[u8],
    content: &[u8],
    anchors: &[mdm_certs::Certificate],
    now: OffsetDateTime,
) -> Result<VerifiedProfile> {
    verify_signed_data(signature, Some(content), anchors, now)
}

fn verify_signed_data(
    signed: &[u8],
    detached: Option<&[u8]>,
    anchors: &[mdm_certs::Certificate],
    now: OffsetDateTime,
) -> Result<VerifiedProfile> {
    let der = ber_to_der(signed)?;
    // Counted on the raw bytes first: decoding sorts every SET OF, so a
    // SignedData with thousands of attributes or certificates costs
    // n log n re-encodings before any check could refuse it.
    let raw_signer_infos = raw_checks(&der)?;
    let ci = ContentInfo::from_der(&der).map_err(|e| malformed(format!("ContentInfo: {e}")))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(malformed(format!(
            "content type {} is not signedData",
            ci.content_type
        )));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| malformed(format!("SignedData: {e}")))?;
    if sd.encap_content_info.econtent_type != ID_DATA {
        return Err(malformed("encapsulated content is not id-data"));
    }
    let embedded: Option<OctetString> = sd
        .encap_content_info
        .econtent
        .as_ref()
        .map(|e| {
            e.decode_as()
                .map_err(|e| malformed(format!("eContent: {e}")))
        })
        .transpose()?;
    let content: &[u8] = match (&embedded, detached) {
        (Some(octets), None) => octets.as_bytes(),
        (None, Some(external)) => external,
        (None, None) => return Err(malformed("detached signature: no content to verify")),
        (Some(_), Some(_)) => {
            return Err(malformed(
                "expected a detached signature, found embedded content",
            ));
        }
    };
    let certs: Vec<&Certificate> = sd
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();

    let mut digests = ContentDigests::new(content);
    let mut first_signer: Option<&Certificate> = None;
    for raw in raw_signer_infos {
        let si = SignerInfo::from_der(raw).map_err(|e| malformed(format!("SignerInfo: {e}")))?;
        let cert = find_signer(&si, &certs)?;
        let digest_alg = DigestAlg::from_oid(si.digest_alg.oid)?;
        if digest_alg == DigestAlg::Sha1 && detached.is_none() {
            // SHA-1 is accepted over device request bodies only, never for
            // a profile that a device will install.
            return Err(AppleError::UnsupportedAlgorithm {
                field: "digestAlgorithm of a signed profile (SHA-1 only for request signatures)",
                oid: si.digest_alg.oid.to_string(),
            });
        }
        let attrs = si
            .signed_attrs
            .as_ref()
            .map(|attrs| SignedAttributes::read(attrs.iter()))
            .transpose()?;
        super::trust::check_chain(cert, &certs, anchors, now)?;
        let signed_bytes = match attrs {
            Some(attrs) => {
                if attrs.content_type != ID_DATA {
                    return Err(AppleError::BadSignature {
                        reason: "contentType attribute is not id-data",
                    });
                }
                let expected = digests.get(digest_alg);
                if !bool::from(attrs.message_digest.as_slice().ct_eq(expected)) {
                    return Err(AppleError::BadSignature {
                        reason: "messageDigest does not match the content",
                    });
                }
                Cow::Owned(raw_signed_attributes(raw)?.ok_or_else(|| {
                    malformed("signed attributes not found in the raw SignerInfo")
                })?)
            }
            None => Cow::Borrowed(content),
        };
        verify_signature(&si, digest_alg, &signed_bytes, cert)?;
        first_signer.get_or_insert(cert);
    }
    let signer = first_signer.ok_or(AppleError::BadSignature {
        reason: "no SignerInfo",
    })?;
    let encode = |c: &Certificate| {
        c.to_der()
            .map_err(|e| malformed(format!("certificate: {e}")))
    };
    Ok(VerifiedProfile {
        content: content.to_vec(),
        signer: encode(signer)?,
        signer_subject: signer.tbs_certificate().subject().to_string(),
        certificates: certs.iter().map(|c| encode(c)).collect::<Result<_>>()?,
        bytes_hashed: digests.bytes_hashed,
    })
}

/// The two signed attributes the verifier reads, each present exactly
/// once with exactly one value (RFC 5652 §5.3, §11.1, §11.2).
struct SignedAttributes {
    content_type: Oid,
    message_digest: Vec<u8>,
}

impl SignedAttributes {
    fn read<'a>(attrs: impl Iterator<Item = &'a x509_cert::attr::Attribute>) -> Result<Self> {
        let (mut content_types, mut digests) = (Vec::new(), Vec::new());
        for attr in attrs {
            if attr.oid == ID_CONTENT_TYPE {
                content_types.push(attr);
            } else if attr.oid == ID_MESSAGE_DIGEST {
                digests.push(attr);
            }
        }
        let single = |found: &[&'a x509_cert::attr::Attribute], attribute: &'static str| {
            let [attr] = found else {
                return Err(AppleError::CmsAttributeCount {
                    attribute,
                    count: found.len(),
                });
            };
            let mut values = attr.values.iter();
            match (values.next(), values.next()) {
                (Some(v), None) => Ok(v),
                _ => Err(AppleError::CmsAttributeCount {
                    attribute,
                    count: attr.values.len(),
                }),
            }
        };
        let content_type: Oid = single(&content_types, "contentType")?
            .decode_as()
            .map_err(|e| malformed(format!("contentType: {e}")))?;
        let message_digest: OctetString = single(&digests, "messageDigest")?
            .decode_as()
            .map_err(|e| malformed(format!("messageDigest: {e}")))?;
        Ok(Self {
            content_type,
            message_digest: message_digest.into_bytes().into_vec(),
        })
    }
}

fn find_signer<'a>(si: &SignerInfo, certs: &[&'a Certificate]) -> Result<&'a Certificate> {
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &si.sid else {
        return Err(AppleError::BadSignature {
            reason: "signer identified by key id, not issuer and serial",
        });
    };
    certs
        .iter()
        .find(|c| {
            c.tbs_certificate().issuer() == &ias.issuer
                && c.tbs_certificate().serial_number() == &ias.serial_number
        })
        .copied()
        .ok_or(AppleError::BadSignature {
            reason: "signer certificate not in the SignedData",
        })
}

/// The DER TLV of an OID (tag, one-byte length, arcs).
fn oid_tlv(oid: ObjectIdentifier) -> Vec<u8> {
    let arcs = oid.as_bytes();
    let mut out = vec![0x06, u8::try_from(arcs.len()).unwrap_or(0)];
    out.extend_from_slice(arcs);
    out
}

/// Counts on the raw DER of a ContentInfo holding SignedData, before it
/// is decoded: at most [`MAX_CMS_CERTIFICATES`] certificates, 1 to
/// [`MAX_CMS_SIGNERS`] SignerInfos, and in each one's signed attributes
/// (when present) exactly one `contentType` and one `messageDigest` among
/// at most [`MAX_SIGNED_ATTRIBUTES`]. Returns the raw SignerInfos, in
/// their original order, so that each signature is checked over the
/// signed attributes exactly as the signer encoded them (decoding a SET
/// re-sorts it).
fn raw_checks(content_info: &[u8]) -> Result<Vec<&[u8]>> {
    let explicit = *der_children(content_info)?
        .get(1)
        .ok_or_else(|| malformed("ContentInfo without content"))?;
    let signed_data = *der_children(explicit)?
        .first()
        .ok_or_else(|| malformed("empty [0] content"))?;
    let fields = der_children(signed_data)?;
    if let Some(certificates) = fields.iter().find(|f| f.first() == Some(&0xa0)) {
        let count = der_children(certificates)?.len();
        if count > MAX_CMS_CERTIFICATES {
            return Err(AppleError::CmsLimit {
                what: "certificates",
                count,
                max: MAX_CMS_CERTIFICATES,
            });
        }
    }
    let set = *fields.last().ok_or_else(|| malformed("empty SignedData"))?;
    let signer_infos = der_children(set)?;
    if signer_infos.is_empty() {
        return Err(AppleError::BadSignature {
            reason: "no SignerInfo",
        });
    }
    if signer_infos.len() > MAX_CMS_SIGNERS {
        return Err(AppleError::CmsLimit {
            what: "SignerInfos",
            count: signer_infos.len(),
            max: MAX_CMS_SIGNERS,
        });
    }
    let (content_type, message_digest) = (oid_tlv(ID_CONTENT_TYPE), oid_tlv(ID_MESSAGE_DIGEST));
    for signer_info in &signer_infos {
        let si_fields = der_children(signer_info)?;
        let Some(attrs) = si_fields.get(3).filter(|f| f.first() == Some(&0xa0)) else {
            continue;
        };
        let attrs = der_children(attrs)?;
        let (mut types, mut digests) = (0usize, 0usize);
        for attr in &attrs {
            match der_children(attr)?.first() {
                Some(oid) if *oid == content_type.as_slice() => types += 1,
                Some(oid) if *oid == message_digest.as_slice() => digests += 1,
                _ => {}
            }
        }
        for (attribute, count) in [("messageDigest", digests), ("contentType", types)] {
            if count != 1 {
                return Err(AppleError::CmsAttributeCount { attribute, count });
            }
        }
        if attrs.len() > MAX_SIGNED_ATTRIBUTES {
            return Err(AppleError::CmsLimit {
                what: "signed attributes",
                count: attrs.len(),
                max: MAX_SIGNED_ATTRIBUTES,
            });
        }
    }
    Ok(signer_infos)
}

/// The signed attributes of a raw SignerInfo, re-tagged from `[0] IMPLICIT`
/// to `SET` (what the signature covers), or `None` when absent.
fn raw_signed_attributes(signer_info: &[u8]) -> Result<Option<Vec<u8>>> {
    let fields = der_children(signer_info)?;
    Ok(fields.get(3).filter(|f| f.first() == Some(&0xa0)).map(|f| {
        let mut v = f.to_vec();
        if let Some(tag) = v.first_mut() {
            *tag = 0x31;
        }
        v
    }))
}

/// Whether ring verifies an RSA PKCS #1 v1.5 `signature` by `cert`'s key
/// over `signed_bytes`: several times faster than the `rsa` crate, which
/// builds its Montgomery form of the modulus for every key it reads, and
/// every device request with an RSA identity pays it. ring takes keys of
/// 2048 to 8192 bits and refuses smaller ones, which the caller then hands
/// to the `rsa` crate (it takes 1024 bits and up).
fn verified_by_ring(
    cert: &Certificate,
    digest_alg: DigestAlg,
    signed_bytes: &[u8],
    signature: &[u8],
) -> bool {
    let Some(public_key) = cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
    else {
        return false;
    };
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match digest_alg {
        DigestAlg::Sha1 => &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        DigestAlg::Sha256 => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        DigestAlg::Sha384 => &ring::signature::RSA_PKCS1_2048_8192_SHA384,
        DigestAlg::Sha512 => &ring::signature::RSA_PKCS1_2048_8192_SHA512,
    };
    algorithm
        .verify(public_key.into(), signed_bytes.into(), signature.into())
        .is_ok()
}

fn verify_signature(
    si: &SignerInfo,
    digest_alg: DigestAlg,
    signed_bytes: &[u8],
    cert: &Certificate,
) -> Result<()> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| malformed(format!("signer public key: {e}")))?;
    let signature = si.signature.as_bytes();
    let sig_oid = si.signature_algorithm.oid;
    let bad = AppleError::BadSignature {
        reason: "signature does not verify with the signer's key",
    };
    if sig_oid == RSA_ENCRYPTION
        || sig_oid == SHA_1_WITH_RSA_ENCRYPTION
        || sig_oid == SHA_256_WITH_RSA_ENCRYPTION
        || sig_oid == SHA_384_WITH_RSA_ENCRYPTION
        || sig_oid == SHA_512_WITH_RSA_ENCRYPTION
    {
        if verified_by_ring(cert, digest_alg, signed_bytes, signature) {
            return Ok(());
        }
        // A key ring does not take, or refused by ring: the `rsa`
        // crate gives the answer (and its reasons), as it always did.
        use rsa::signature::Verifier;
        let key =
            rsa::PublicKey::from_public_key_der(&spki).map_err(|_| AppleError::BadSignature {
                reason: "signer key is not RSA",
            })?;
        let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| bad.clone())?;
        let ok = match digest_alg {
            DigestAlg::Sha1 => {
                rsa::pkcs1v15::VerifyingKey::<sha1::Sha1>::new(key).verify(signed_bytes, &sig)
            }
            DigestAlg::Sha256 => {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key).verify(signed_bytes, &sig)
            }
            DigestAlg::Sha384 => {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key).verify(signed_bytes, &sig)
            }
            DigestAlg::Sha512 => {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key).verify(signed_bytes, &sig)
            }
        };
        ok.map_err(|_| bad)
    } else if sig_oid == ECDSA_WITH_SHA_1 {
        // Devices with a P-256 identity and `-md sha1` tools: the SHA-1
        // digest, verified as a prehash (ring has no ECDSA-SHA-1).
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        if !matches!(digest_alg, DigestAlg::Sha1) {
            return Err(AppleError::UnsupportedAlgorithm {
                field: "digestAlgorithm with ECDSA-SHA1",
                oid: si.digest_alg.oid.to_string(),
            });
        }
        let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).map_err(|_| {
            AppleError::BadSignature {
                reason: "signer key is not ECDSA P-256",
            }
        })?;
        let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| bad.clone())?;
        key.verify_prehash(&DigestAlg::Sha1.digest(signed_bytes), &sig)
            .map_err(|_| bad)
    } else if sig_oid == ECDSA_WITH_SHA_256 {
        if !matches!(digest_alg, DigestAlg::Sha256) {
            return Err(AppleError::UnsupportedAlgorithm {
                field: "digestAlgorithm with ECDSA",
                oid: si.digest_alg.oid.to_string(),
            });
        }
        let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).map_err(|_| {
            AppleError::BadSignature {
                reason: "signer key is not ECDSA P-256",
            }
        })?;
        // `p256` parses and checks the key; `ring`'s constant-time P-256
        // verifies the DER signature, several times faster.
        let point = key.to_sec1_point(false);
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            point.as_bytes(),
        )
        .verify(signed_bytes, signature)
        .map_err(|_| bad)
    } else {
        Err(AppleError::UnsupportedAlgorithm {
            field: "signatureAlgorithm",
            oid: sig_oid.to_string(),
        })
    }
}
