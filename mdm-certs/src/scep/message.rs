//! The SCEP pkiMessage (RFC 8894 §3.2): its signed attributes and how a
//! received one is read.

use core::fmt;

use cms_02::cert::x509::Certificate as X509;
use cms_02::cert::x509::attr::Attribute;
use cms_02::cert::x509::der::asn1::{
    Any, Ia5StringRef, ObjectIdentifier, OctetString, PrintableStringRef, Utf8StringRef,
};
use cms_02::cert::x509::der::{Encode as _, Tag, Tagged as _};
use cms_02::cert::x509::spki::AlgorithmIdentifierOwned;
use rand_core::CryptoRng;
use sha2::Digest as _;
use time::OffsetDateTime;

use super::signed::{
    attribute, der_error, find_signer, read_signed_data, verify_rsa, view_signed_attrs,
};
use super::{ID_DATA, RSA_ENCRYPTION, malformed};
use crate::error::{CertError, Result};
use crate::rsa_key::RsaPublicKey;

/// The largest pkiMessage read (64 KiB): a PKCSReq with a 4096-bit key is
/// about 4 KB.
pub const MAX_PKI_MESSAGE_LEN: usize = 64 * 1024;

const MESSAGE_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.2");
const PKI_STATUS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.3");
const FAIL_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.4");
const SENDER_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.5");
const RECIPIENT_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.6");
const TRANSACTION_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.7");

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

/// The digest of a pkiMessage's signature. SHA-256 is what this server
/// asks for (`SHA-256` in GetCACaps); SHA-1 is accepted from older clients
/// (Debian's `scepclient` 2.1 signs with it) and answered in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScepDigest {
    /// SHA-1, for older clients only.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl ScepDigest {
    pub(super) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            SHA1 => Some(Self::Sha1),
            SHA256 => Some(Self::Sha256),
            SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => SHA1,
            Self::Sha256 => SHA256,
            Self::Sha512 => SHA512,
        }
    }

    fn rsa_signature_oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => SHA1_RSA,
            Self::Sha256 => SHA256_RSA,
            Self::Sha512 => SHA512_RSA,
        }
    }

    pub(super) fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// The digest of `data`.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => <sha1_010::Sha1 as sha1_010::Digest>::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    pub(super) fn pkcs1(self) -> crate::rsa_key::Pkcs1Digest {
        match self {
            Self::Sha1 => crate::rsa_key::Pkcs1Digest::Sha1,
            Self::Sha256 => crate::rsa_key::Pkcs1Digest::Sha256,
            Self::Sha512 => crate::rsa_key::Pkcs1Digest::Sha512,
        }
    }
}

/// What a pkiMessage is (the `messageType` attribute).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// 3: the server's answer.
    CertRep,
    /// 17: renew an existing certificate, signed with it.
    RenewalReq,
    /// 19: a first certificate request.
    PkcsReq,
    /// 20: poll for a pending request (`GetCertInitial` / `CertPoll`).
    CertPoll,
    /// 21: fetch a certificate by issuer and serial.
    GetCert,
    /// 22: fetch a CRL.
    GetCrl,
    /// Anything else, as sent.
    Other(String),
}

impl MessageType {
    /// The decimal code carried on the wire.
    pub fn code(&self) -> &str {
        match self {
            Self::CertRep => "3",
            Self::RenewalReq => "17",
            Self::PkcsReq => "19",
            Self::CertPoll => "20",
            Self::GetCert => "21",
            Self::GetCrl => "22",
            Self::Other(s) => s,
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "3" => Self::CertRep,
            "17" => Self::RenewalReq,
            "19" => Self::PkcsReq,
            "20" => Self::CertPoll,
            "21" => Self::GetCert,
            "22" => Self::GetCrl,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A CertRep's `pkiStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PkiStatus {
    /// 0: granted, the certificate is enclosed.
    Success,
    /// 2: refused, see the failInfo.
    Failure,
    /// 3: waiting for approval; poll with GetCertInitial.
    Pending,
    /// Anything else, as sent.
    Other(String),
}

impl PkiStatus {
    fn code(&self) -> &str {
        match self {
            Self::Success => "0",
            Self::Failure => "2",
            Self::Pending => "3",
            Self::Other(s) => s,
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "0" => Self::Success,
            "2" => Self::Failure,
            "3" => Self::Pending,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Why a request failed (the `failInfo` attribute of a CertRep FAILURE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailInfo {
    /// 0: an algorithm the server does not accept.
    BadAlg,
    /// 1: the signature or the encryption does not check out.
    BadMessageCheck,
    /// 2: refused: a wrong, reused or unknown password, a bad CSR, a
    /// message type not served.
    BadRequest,
    /// 3: the signing time (or the password) is out of date.
    BadTime,
    /// 4: no certificate or transaction matches.
    BadCertId,
}

impl FailInfo {
    /// The decimal code on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadAlg => "0",
            Self::BadMessageCheck => "1",
            Self::BadRequest => "2",
            Self::BadTime => "3",
            Self::BadCertId => "4",
        }
    }

    /// The RFC's name, e.g. `badRequest`.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadMessageCheck => "badMessageCheck",
            Self::BadRequest => "badRequest",
            Self::BadTime => "badTime",
            Self::BadCertId => "badCertId",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "0" => Self::BadAlg,
            "1" => Self::BadMessageCheck,
            "2" => Self::BadRequest,
            "3" => Self::BadTime,
            "4" => Self::BadCertId,
            _ => return None,
        })
    }

    /// The failInfo a server answers for `error`.
    pub fn for_error(error: &CertError) -> Self {
        match error {
            CertError::ScepUnsupportedAlgorithm { .. } => Self::BadAlg,
            CertError::ScepBadMessageCheck { .. } => Self::BadMessageCheck,
            CertError::ScepBadTime { .. } | CertError::OtpExpired { .. } => Self::BadTime,
            CertError::ScepUnknownCertificate { .. } => Self::BadCertId,
            _ => Self::BadRequest,
        }
    }
}

impl fmt::Display for FailInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A SCEP `transactionID`: the requester's handle on one enrolment,
/// printable text (usually the hash of its key, hex or base64).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct TransactionId(String);

impl TransactionId {
    /// Longest accepted.
    const MAX_LEN: usize = 256;

    /// A transaction ID from text (1 to 256 printable ASCII characters).
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.is_empty()
            || id.len() > Self::MAX_LEN
            || !id.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(malformed(format!(
                "a transactionID must be 1 to {} printable ASCII characters",
                Self::MAX_LEN
            )));
        }
        Ok(Self(id))
    }

    /// The transaction ID RFC 8894 §3.2.1.1 suggests: the hex SHA-256 of
    /// the requester's public key (SubjectPublicKeyInfo DER).
    pub fn for_public_key(spki_der: &[u8]) -> Self {
        Self(hex::encode_upper(sha2::Sha256::digest(spki_der)))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A sender or recipient nonce: 16 random bytes, drawn from the caller's RNG.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nonce(Vec<u8>);

impl Nonce {
    /// A new nonce from `rng`.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = vec![0u8; 16];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The SCEP attributes a pkiMessage carries besides CMS's own.
#[derive(Debug, Clone)]
pub(super) struct ScepAttributes {
    pub message_type: MessageType,
    pub transaction_id: TransactionId,
    pub sender_nonce: Option<Nonce>,
    pub recipient_nonce: Option<Nonce>,
    pub pki_status: Option<PkiStatus>,
    pub fail_info: Option<FailInfo>,
}

fn printable(value: &str) -> Result<Any> {
    let s = PrintableStringRef::new(value).map_err(der_error("SCEP attribute"))?;
    Any::encode_from(&s).map_err(der_error("SCEP attribute"))
}

fn octets(value: &[u8]) -> Result<Any> {
    let s = OctetString::new(value).map_err(der_error("SCEP attribute"))?;
    Any::encode_from(&s).map_err(der_error("SCEP attribute"))
}

impl ScepAttributes {
    pub fn to_attributes(&self) -> Result<Vec<Attribute>> {
        let mut out = vec![
            attribute(MESSAGE_TYPE, printable(self.message_type.code())?)?,
            attribute(TRANSACTION_ID, printable(self.transaction_id.as_str())?)?,
        ];
        if let Some(n) = &self.sender_nonce {
            out.push(attribute(SENDER_NONCE, octets(n.as_bytes())?)?);
        }
        if let Some(n) = &self.recipient_nonce {
            out.push(attribute(RECIPIENT_NONCE, octets(n.as_bytes())?)?);
        }
        if let Some(s) = &self.pki_status {
            out.push(attribute(PKI_STATUS, printable(s.code())?)?);
        }
        if let Some(f) = self.fail_info {
            out.push(attribute(FAIL_INFO, printable(f.code())?)?);
        }
        Ok(out)
    }
}

/// Text in any of the string types clients use for SCEP's printable
/// attributes (PrintableString per the RFC; IA5String and UTF8String seen).
fn text(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::PrintableString => value
            .decode_as::<PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Ia5String => value
            .decode_as::<Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Utf8String => value
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_owned()),
        _ => None,
    }
}

/// A pkiMessage as received: its SCEP attributes, the signer's
/// certificate, and the encrypted content, before anything is decrypted.
///
/// [`PkiMessage::parse`] reads the structure; [`PkiMessage::verify`]
/// checks the signature and the messageDigest. A server answers a message
/// that parses but does not verify with a CertRep FAILURE
/// (`badMessageCheck`), one that does not parse with HTTP 400.
#[derive(Clone)]
pub struct PkiMessage {
    attrs: ScepAttributes,
    digest: ScepDigest,
    signer: X509,
    signer_der: Vec<u8>,
    certificates: Vec<Vec<u8>>,
    content: Option<Vec<u8>>,
    signed_attrs_der: Vec<u8>,
    signature: Vec<u8>,
    message_digest: Option<Vec<u8>>,
    signing_time: Option<OffsetDateTime>,
    content_type_is_data: bool,
    algorithm_error: Option<String>,
    /// The signer's RSA key, read once (the signature check and the
    /// answer's encryption both need it); `None` inside: not an RSA key.
    signer_key: std::sync::OnceLock<Option<RsaPublicKey>>,
}

impl fmt::Debug for PkiMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkiMessage")
            .field("message_type", &self.attrs.message_type)
            .field("transaction_id", &self.attrs.transaction_id)
            .field("digest", &self.digest)
            .field("content_len", &self.content.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl PkiMessage {
    /// Reads a DER pkiMessage: a ContentInfo with a SignedData, one signer
    /// whose certificate is enclosed, signed attributes with at least
    /// `messageType` and `transactionID`. Anything else is
    /// [`CertError::ScepMalformed`]; no input panics.
    pub fn parse(der: &[u8]) -> Result<Self> {
        if der.len() > MAX_PKI_MESSAGE_LEN {
            return Err(malformed(format!(
                "{} bytes, more than the {MAX_PKI_MESSAGE_LEN} read",
                der.len()
            )));
        }
        let signed = read_signed_data(der)?;
        let mut infos = signed.signer_infos.0.iter();
        let (Some(info), None) = (infos.next(), infos.next()) else {
            return Err(malformed("a pkiMessage has exactly one signer"));
        };
        let signer = find_signer(&signed, info)
            .ok_or_else(|| malformed("the signer's certificate is not enclosed"))?
            .clone();
        let signer_der = signer
            .to_der()
            .map_err(|e| malformed(format!("the signer certificate does not encode: {e}")))?;
        let certificates = super::signed::read_certificates(&signed)?;
        let attrs = info
            .signed_attrs
            .as_ref()
            .ok_or_else(|| malformed("the signer has no signed attributes"))?;
        let view = view_signed_attrs(attrs)?;
        let mut message_type = None;
        let mut transaction_id = None;
        let (mut sender_nonce, mut recipient_nonce, mut pki_status, mut fail_info) =
            (None, None, None, None);
        for attr in attrs.iter() {
            let Some(value) = attr.values.iter().next() else {
                continue;
            };
            let nonce = || {
                value
                    .decode_as::<OctetString>()
                    .ok()
                    .map(|o| Nonce(o.into_bytes()))
            };
            match attr.oid {
                MESSAGE_TYPE => message_type = text(value).map(|s| MessageType::from_code(&s)),
                TRANSACTION_ID => transaction_id = text(value),
                SENDER_NONCE => sender_nonce = nonce(),
                RECIPIENT_NONCE => recipient_nonce = nonce(),
                PKI_STATUS => pki_status = text(value).map(|s| PkiStatus::from_code(&s)),
                FAIL_INFO => fail_info = text(value).and_then(|s| FailInfo::from_code(&s)),
                _ => {}
            }
        }
        let message_type = message_type.ok_or_else(|| malformed("no messageType attribute"))?;
        let transaction_id = TransactionId::new(
            transaction_id.ok_or_else(|| malformed("no transactionID attribute"))?,
        )?;
        let econtent = &signed.encap_content_info;
        let content = match &econtent.econtent {
            None => None,
            Some(any) => Some(
                any.decode_as::<OctetString>()
                    .map_err(|e| malformed(format!("the content is not an OCTET STRING: {e}")))?
                    .into_bytes(),
            ),
        };
        let sig_ok = info.signature_algorithm.oid == RSA_ENCRYPTION;
        let digest = ScepDigest::from_oid(&info.digest_alg.oid);
        let mut algorithm_error = None;
        let digest = match digest {
            Some(d) if sig_ok || info.signature_algorithm.oid == d.rsa_signature_oid() => d,
            Some(d) => {
                algorithm_error = Some(format!(
                    "signature algorithm {}",
                    info.signature_algorithm.oid
                ));
                d
            }
            None => {
                algorithm_error = Some(format!("digest {}", info.digest_alg.oid));
                ScepDigest::Sha256
            }
        };
        if econtent.econtent_type != ID_DATA {
            algorithm_error.get_or_insert(format!("content type {}", econtent.econtent_type));
        }
        Ok(Self {
            attrs: ScepAttributes {
                message_type,
                transaction_id,
                sender_nonce,
                recipient_nonce,
                pki_status,
                fail_info,
            },
            digest,
            signer,
            signer_der,
            certificates,
            content,
            signed_attrs_der: view.der,
            signature: info.signature.as_bytes().to_vec(),
            message_digest: view.message_digest,
            signing_time: view.signing_time,
            content_type_is_data: view.content_type_is_data,
            algorithm_error,
            signer_key: std::sync::OnceLock::new(),
        })
    }

    /// The signer's RSA key, read from its certificate the first time.
    pub(super) fn signer_key(&self) -> Result<&RsaPublicKey> {
        let spki = &self.signer.tbs_certificate.subject_public_key_info;
        self.signer_key
            .get_or_init(|| {
                spki.to_der()
                    .ok()
                    .and_then(|der| RsaPublicKey::from_spki_der(&der))
            })
            .as_ref()
            .ok_or_else(|| CertError::ScepUnsupportedAlgorithm {
                algorithm: format!("a signer key of type {}", spki.algorithm.oid),
            })
    }

    /// Checks the message's algorithms, its signature with the enclosed
    /// signer certificate's RSA key, and that its `messageDigest` is the
    /// digest of its content: [`CertError::ScepUnsupportedAlgorithm`] or
    /// [`CertError::ScepBadMessageCheck`] otherwise.
    pub fn verify(&self) -> Result<()> {
        if let Some(algorithm) = &self.algorithm_error {
            return Err(CertError::ScepUnsupportedAlgorithm {
                algorithm: algorithm.clone(),
            });
        }
        verify_rsa(
            self.signer_key()?,
            self.digest,
            &self.signed_attrs_der,
            &self.signature,
        )?;
        let expected = self
            .digest
            .hash(self.content.as_deref().unwrap_or_default());
        if self.message_digest.as_deref() != Some(expected.as_slice()) {
            return Err(CertError::ScepBadMessageCheck {
                reason: "the messageDigest attribute is not the digest of the content".into(),
            });
        }
        if !self.content_type_is_data {
            return Err(CertError::ScepBadMessageCheck {
                reason: "the contentType attribute is not id-data".into(),
            });
        }
        Ok(())
    }

    /// What the message is.
    pub fn message_type(&self) -> &MessageType {
        &self.attrs.message_type
    }

    /// Its transactionID.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.attrs.transaction_id
    }

    /// Its senderNonce.
    pub fn sender_nonce(&self) -> Option<&Nonce> {
        self.attrs.sender_nonce.as_ref()
    }

    /// Its recipientNonce (in a CertRep: the request's senderNonce).
    pub fn recipient_nonce(&self) -> Option<&Nonce> {
        self.attrs.recipient_nonce.as_ref()
    }

    /// Its pkiStatus (a CertRep's).
    pub fn pki_status(&self) -> Option<&PkiStatus> {
        self.attrs.pki_status.as_ref()
    }

    /// Its failInfo (a CertRep FAILURE's).
    pub fn fail_info(&self) -> Option<FailInfo> {
        self.attrs.fail_info
    }

    /// When the sender says it signed the message.
    pub fn signing_time(&self) -> Option<OffsetDateTime> {
        self.signing_time
    }

    /// The digest the message was signed with.
    pub fn digest(&self) -> ScepDigest {
        self.digest
    }

    /// The signer's certificate (DER).
    pub fn signer_certificate_der(&self) -> &[u8] {
        &self.signer_der
    }

    /// Every certificate enclosed (DER), the signer's among them.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// The signed content: the ContentInfo of an EnvelopedData, or `None`.
    pub fn content(&self) -> Option<&[u8]> {
        self.content.as_deref()
    }

    /// The signer's public key (SubjectPublicKeyInfo DER).
    pub fn signer_public_key(&self) -> Result<Vec<u8>> {
        self.signer
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| malformed(format!("the signer's key does not encode: {e}")))
    }

    pub(super) fn signer(&self) -> &X509 {
        &self.signer
    }
}
