//! CMS SignedData for SCEP: signing a pkiMessage, checking one, and the
//! degenerate certificates-only form (GetCACert, the issued certificate).

use core::fmt;

use cms_02::cert::CertificateChoices;
use cms_02::cert::IssuerAndSerialNumber;
use cms_02::cert::x509::Certificate as X509;
use cms_02::cert::x509::attr::{Attribute, Attributes};
use cms_02::cert::x509::der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use cms_02::cert::x509::der::{Decode as _, Encode as _};
use cms_02::cert::x509::spki::AlgorithmIdentifierOwned;
use cms_02::content_info::{CmsVersion, ContentInfo};
use cms_02::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use time::OffsetDateTime;

use super::message::ScepDigest;
use super::{ID_DATA, ID_SIGNED_DATA, RSA_ENCRYPTION, malformed};
use crate::certificate::Certificate;
use crate::error::{CertError, Result};
use crate::identity::CertifiedKey;
use crate::rsa_key::{RsaKey, RsaPublicKey};

const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");

pub(super) fn der_error(
    what: &'static str,
) -> impl Fn(cms_02::cert::x509::der::Error) -> CertError {
    move |e| CertError::Signing {
        artifact: what,
        reason: e.to_string(),
    }
}

/// An RSA certificate with its key, as SCEP needs on both sides: the CA or
/// RA signs `CertRep`s and decrypts requests with it; a device signs its
/// requests with it and receives its certificate encrypted to it.
///
/// The key is the [`crate::PrivateKey`]'s RSA key (the `rsa` crate's, or
/// OpenSSL's with the `openssl` feature); it is never printed.
pub struct ScepSigner {
    certificate: Certificate,
    x509: X509,
    key: RsaKey,
}

impl fmt::Debug for ScepSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScepSigner")
            .field("certificate", &self.certificate.info().subject)
            .finish_non_exhaustive()
    }
}

impl ScepSigner {
    /// A signer from a certificate and its RSA key (2048 bits or more).
    pub fn new(certified: &CertifiedKey) -> Result<Self> {
        let setup = |reason: String| CertError::ScepSetup { reason };
        if !certified.certificate.matches_key(&certified.key) {
            return Err(CertError::KeyDoesNotMatchCertificate {
                subject: certified.certificate.info().subject.clone(),
            });
        }
        let key = certified
            .key
            .rsa_key()
            .map(RsaKey::duplicate)
            .ok_or_else(|| {
                setup(format!(
                    "`{}` has a {} key; SCEP key transport needs RSA",
                    certified.certificate.info().subject,
                    certified.key.algorithm()
                ))
            })?;
        let x509 = X509::from_der(certified.certificate.der())
            .map_err(|e| setup(format!("the certificate does not parse: {e}")))?;
        Ok(Self {
            certificate: certified.certificate.clone(),
            x509,
            key,
        })
    }

    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub(super) fn x509(&self) -> &X509 {
        &self.x509
    }

    pub(super) fn rsa(&self) -> &RsaKey {
        &self.key
    }

    /// The raw RSA private-key operation the protocol spends its time in
    /// (the PKCS #1 v1.5 signature of `hashed`, a `digest` hash), exposed
    /// so a bench can measure the limit a SCEP issuance is held to. It is
    /// blinded, from a source other than the caller's RNG (see the crate's
    /// `openssl` feature), and the same bytes on both engines.
    pub fn sign_digest(&self, digest: ScepDigest, hashed: &[u8]) -> Result<Vec<u8>> {
        self.key.sign_digest(digest.pkcs1(), hashed)
    }

    /// The key size in bits.
    pub fn key_bits(&self) -> usize {
        self.key.size() * 8
    }
}

pub(super) fn issuer_and_serial(cert: &X509) -> IssuerAndSerialNumber {
    IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    }
}

pub(super) fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(der_error("SCEP attribute"))?;
    Ok(Attribute { oid, values })
}

fn utc_time(now: OffsetDateTime) -> Result<Any> {
    let secs = u64::try_from(now.unix_timestamp()).map_err(|_| CertError::Signing {
        artifact: "signingTime",
        reason: "a time before 1970".into(),
    })?;
    let t = UtcTime::from_unix_duration(core::time::Duration::from_secs(secs))
        .map_err(der_error("signingTime"))?;
    Any::encode_from(&t).map_err(der_error("signingTime"))
}

/// Signs `content` (carried as `id-data`, absent when `None`) with
/// `signer`, its signed attributes being `attrs` plus contentType,
/// messageDigest and signingTime; the signer's certificate goes with it.
pub(super) fn sign(
    signer: &ScepSigner,
    digest: ScepDigest,
    content: Option<&[u8]>,
    attrs: Vec<Attribute>,
    now: OffsetDateTime,
) -> Result<Vec<u8>> {
    let err = der_error("SCEP SignedData");
    let hashed_content = digest.hash(content.unwrap_or_default());
    let mut signed_attrs = Attributes::new();
    let data_oid = Any::encode_from(&ID_DATA).map_err(&err)?;
    let md = Any::encode_from(&OctetString::new(hashed_content).map_err(&err)?).map_err(&err)?;
    for attr in [
        attribute(CONTENT_TYPE, data_oid)?,
        attribute(MESSAGE_DIGEST, md)?,
        attribute(SIGNING_TIME, utc_time(now)?)?,
    ]
    .into_iter()
    .chain(attrs)
    {
        signed_attrs.insert(attr).map_err(&err)?;
    }
    let to_sign = signed_attrs.to_der().map_err(&err)?;
    let signature = signer.sign_digest(digest, &digest.hash(&to_sign))?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(issuer_and_serial(signer.x509())),
        digest_alg: digest.algorithm_identifier(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature).map_err(&err)?,
        unsigned_attrs: None,
    };
    let econtent = match content {
        Some(bytes) => {
            Some(Any::encode_from(&OctetString::new(bytes).map_err(&err)?).map_err(&err)?)
        }
        None => None,
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(digest.algorithm_identifier())
        .map_err(&err)?;
    let mut certificates = SetOfVec::new();
    certificates
        .insert(CertificateChoices::Certificate(signer.x509().clone()))
        .map_err(&err)?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info).map_err(&err)?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent,
        },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    content_info(ID_SIGNED_DATA, &signed)
}

pub(super) fn content_info<T: cms_02::cert::x509::der::Encode>(
    content_type: ObjectIdentifier,
    content: &T,
) -> Result<Vec<u8>> {
    let err = der_error("CMS ContentInfo");
    ContentInfo {
        content_type,
        content: Any::from_der(&content.to_der().map_err(&err)?).map_err(&err)?,
    }
    .to_der()
    .map_err(&err)
}

/// A degenerate certificates-only SignedData (RFC 8894 §3.4): no content,
/// no signers, `certificates` in DER set order.
pub(super) fn certificates_only(certificates: &[&[u8]]) -> Result<Vec<u8>> {
    let err = der_error("certificates-only SignedData");
    let mut set = SetOfVec::new();
    for der in certificates {
        let cert = X509::from_der(der).map_err(&err)?;
        set.insert(CertificateChoices::Certificate(cert))
            .map_err(&err)?;
    }
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(set)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    content_info(ID_SIGNED_DATA, &signed)
}

/// Reads a ContentInfo holding a SignedData.
pub(super) fn read_signed_data(der: &[u8]) -> Result<SignedData> {
    let info = ContentInfo::from_der(der)
        .map_err(|e| malformed(format!("not a DER CMS ContentInfo: {e}")))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(malformed(format!(
            "the content type is {}, not signedData (1.2.840.113549.1.7.2)",
            info.content_type
        )));
    }
    info.content
        .decode_as::<SignedData>()
        .map_err(|e| malformed(format!("the SignedData does not parse: {e}")))
}

/// The certificates of a certificates-only SignedData, as DER, in order.
pub(super) fn read_certificates(signed: &SignedData) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if let Some(set) = &signed.certificates {
        for choice in set.0.iter() {
            if let CertificateChoices::Certificate(cert) = choice {
                out.push(
                    cert.to_der()
                        .map_err(|e| malformed(format!("a certificate does not encode: {e}")))?,
                );
            }
        }
    }
    Ok(out)
}

/// The signer of `info` among `signed`'s certificates.
pub(super) fn find_signer<'a>(signed: &'a SignedData, info: &SignerInfo) -> Option<&'a X509> {
    let set = signed.certificates.as_ref()?;
    set.0.iter().find_map(|choice| match choice {
        CertificateChoices::Certificate(cert) => match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => (ias.issuer
                == cert.tbs_certificate.issuer
                && ias.serial_number == cert.tbs_certificate.serial_number)
                .then_some(cert),
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                let found = cert
                    .tbs_certificate
                    .extensions
                    .as_ref()?
                    .iter()
                    .find(|ext| ext.extn_id.to_string() == "2.5.29.14")?;
                let inner = OctetString::from_der(found.extn_value.as_bytes()).ok()?;
                (inner.as_bytes() == ski.0.as_bytes()).then_some(cert)
            }
        },
        CertificateChoices::Other(_) => None,
    })
}

/// Checks `signature` over `signed_attrs_der` with the signer's RSA `key`.
pub(super) fn verify_rsa(
    key: &RsaPublicKey,
    digest: ScepDigest,
    signed_attrs_der: &[u8],
    signature: &[u8],
) -> Result<()> {
    if key.verify(digest.pkcs1(), &digest.hash(signed_attrs_der), signature) {
        Ok(())
    } else {
        Err(CertError::ScepBadMessageCheck {
            reason: "the signature does not verify with the signer certificate's key".into(),
        })
    }
}

/// The DER of `signed_attrs` as signed (a SET OF, RFC 5652 §5.4), and the
/// messageDigest and signingTime found in them.
pub(super) struct SignedAttrsView {
    pub der: Vec<u8>,
    pub message_digest: Option<Vec<u8>>,
    pub signing_time: Option<OffsetDateTime>,
    pub content_type_is_data: bool,
}

pub(super) fn view_signed_attrs(attrs: &Attributes) -> Result<SignedAttrsView> {
    let der = attrs
        .to_der()
        .map_err(|e| malformed(format!("the signed attributes do not encode: {e}")))?;
    let mut view = SignedAttrsView {
        der,
        message_digest: None,
        signing_time: None,
        content_type_is_data: false,
    };
    for attr in attrs.iter() {
        let Some(value) = attr.values.iter().next() else {
            continue;
        };
        if attr.oid == MESSAGE_DIGEST {
            view.message_digest = value
                .decode_as::<OctetString>()
                .ok()
                .map(OctetString::into_bytes);
        } else if attr.oid == SIGNING_TIME {
            view.signing_time = value
                .decode_as::<UtcTime>()
                .ok()
                .and_then(|t| i64::try_from(t.to_unix_duration().as_secs()).ok())
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
        } else if attr.oid == CONTENT_TYPE {
            view.content_type_is_data = value.decode_as::<ObjectIdentifier>().ok() == Some(ID_DATA);
        }
    }
    Ok(view)
}
