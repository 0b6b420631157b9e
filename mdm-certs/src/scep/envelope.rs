//! The encrypted part of a pkiMessage: CMS EnvelopedData with one RSA key
//! transport recipient (RFC 8894 §3.3).

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut as _, BlockEncryptMut as _, KeyIvInit as _};
use cms_02::cert::x509::Certificate as X509;
use cms_02::cert::x509::der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use cms_02::cert::x509::der::{Decode as _, Encode as _};
use cms_02::cert::x509::spki::AlgorithmIdentifierOwned;
use cms_02::content_info::{CmsVersion, ContentInfo};
use cms_02::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::signed::{ScepSigner, content_info, der_error, issuer_and_serial};
use super::{ID_DATA, ID_ENVELOPED_DATA, RSA_ENCRYPTION};
use crate::error::{CertError, Result};
use crate::rsa_key::RsaPublicKey;

const DES_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.7");
const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");
const AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

/// The content cipher of an EnvelopedData. A server answers with the
/// cipher the request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentCipher {
    /// Single DES (56-bit key): weak, read only when
    /// [`super::ScepConfig::allow_single_des`] is on — the one cipher
    /// Debian's `scepclient` 2.1 uses, whatever the server offers.
    DesCbc,
    /// Triple DES (`DES3` in GetCACaps), for older clients.
    DesEde3Cbc,
    /// AES-128-CBC (`AES` in GetCACaps).
    Aes128Cbc,
    /// AES-192-CBC.
    Aes192Cbc,
    /// AES-256-CBC.
    Aes256Cbc,
}

impl ContentCipher {
    fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match *oid {
            DES_CBC => Self::DesCbc,
            DES_EDE3_CBC => Self::DesEde3Cbc,
            AES128_CBC => Self::Aes128Cbc,
            AES192_CBC => Self::Aes192Cbc,
            AES256_CBC => Self::Aes256Cbc,
            _ => return None,
        })
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Self::DesCbc => DES_CBC,
            Self::DesEde3Cbc => DES_EDE3_CBC,
            Self::Aes128Cbc => AES128_CBC,
            Self::Aes192Cbc => AES192_CBC,
            Self::Aes256Cbc => AES256_CBC,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::DesCbc => 8,
            Self::DesEde3Cbc | Self::Aes192Cbc => 24,
            Self::Aes128Cbc => 16,
            Self::Aes256Cbc => 32,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            Self::DesCbc | Self::DesEde3Cbc => 8,
            _ => 16,
        }
    }

    fn encrypt(self, key: &[u8], iv: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let bad = |_| CertError::Signing {
            artifact: "SCEP EnvelopedData",
            reason: "content key or IV of the wrong length".into(),
        };
        Ok(match self {
            Self::DesCbc => cbc::Encryptor::<des::Des>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(plain),
            Self::DesEde3Cbc => cbc::Encryptor::<des::TdesEde3>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(plain),
            Self::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(plain),
            Self::Aes192Cbc => cbc::Encryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(plain),
            Self::Aes256Cbc => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(plain),
        })
    }

    fn decrypt(self, key: &[u8], iv: &[u8], encrypted: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let check = |reason: &str| CertError::ScepBadMessageCheck {
            reason: reason.to_owned(),
        };
        let bad_key = |_| check("the content key or IV has the wrong length for the cipher");
        let plain = match self {
            Self::DesCbc => cbc::Decryptor::<des::Des>::new_from_slices(key, iv)
                .map_err(bad_key)?
                .decrypt_padded_vec_mut::<Pkcs7>(encrypted),
            Self::DesEde3Cbc => cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
                .map_err(bad_key)?
                .decrypt_padded_vec_mut::<Pkcs7>(encrypted),
            Self::Aes128Cbc => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(bad_key)?
                .decrypt_padded_vec_mut::<Pkcs7>(encrypted),
            Self::Aes192Cbc => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(bad_key)?
                .decrypt_padded_vec_mut::<Pkcs7>(encrypted),
            Self::Aes256Cbc => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(bad_key)?
                .decrypt_padded_vec_mut::<Pkcs7>(encrypted),
        };
        plain
            .map(Zeroizing::new)
            .map_err(|_| check("the content does not decrypt (wrong key or corrupted)"))
    }
}

/// Encrypts `content` to the RSA key of `recipient` with `cipher` (a fresh
/// content key and IV from `rng`); returns the ContentInfo DER.
pub(super) fn seal<R: CryptoRng + ?Sized>(
    content: &[u8],
    recipient: &X509,
    cipher: ContentCipher,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let err = der_error("SCEP EnvelopedData");
    let spki = recipient
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(&err)?;
    let public =
        RsaPublicKey::from_spki_der(&spki).ok_or_else(|| CertError::ScepUnsupportedAlgorithm {
            algorithm: format!(
                "a recipient key of type {} (SCEP needs RSA)",
                recipient
                    .tbs_certificate
                    .subject_public_key_info
                    .algorithm
                    .oid
            ),
        })?;
    seal_to(content, recipient, &public, cipher, rng)
}

/// [`seal`] to `recipient`'s key read already (`public`).
pub(super) fn seal_to<R: CryptoRng + ?Sized>(
    content: &[u8],
    recipient: &X509,
    public: &RsaPublicKey,
    cipher: ContentCipher,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let err = der_error("SCEP EnvelopedData");
    let mut key = Zeroizing::new(vec![0u8; cipher.key_len()]);
    rng.fill_bytes(&mut key);
    let mut iv = vec![0u8; cipher.iv_len()];
    rng.fill_bytes(&mut iv);
    let encrypted = cipher.encrypt(&key, &iv, content)?;
    let enc_key = public.encrypt(&key, rng)?;
    let ktri = KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(recipient)),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        enc_key: OctetString::new(enc_key).map_err(&err)?,
    };
    let mut recipients = SetOfVec::new();
    recipients.insert(RecipientInfo::Ktri(ktri)).map_err(&err)?;
    let enveloped = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos(recipients),
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(
                    Any::encode_from(&OctetString::new(iv).map_err(&err)?).map_err(&err)?,
                ),
            },
            encrypted_content: Some(OctetString::new(encrypted).map_err(&err)?),
        },
        unprotected_attrs: None,
    };
    content_info(ID_ENVELOPED_DATA, &enveloped)
}

/// Go's PKCS #7 (micromdm's `scepclient`, among others) writes the
/// `encryptedContent [0] IMPLICIT OCTET STRING` in the BER constructed form
/// (a `[0]` holding OCTET STRING chunks), which `der` rightly refuses as
/// DER. This re-encodes that one field in its primitive DER form, the
/// chunks joined; everything else is copied as read.
fn primitive_encrypted_content(enveloped: &Any) -> cms_02::cert::x509::der::Result<Vec<u8>> {
    use cms_02::cert::x509::der::{Reader as _, SliceReader, Tag, TagNumber, Tagged as _};
    fn fields(value: &[u8]) -> cms_02::cert::x509::der::Result<Vec<Any>> {
        let mut reader = SliceReader::new(value)?;
        let mut out = Vec::new();
        while !reader.is_finished() {
            out.push(Any::decode(&mut reader)?);
        }
        Ok(out)
    }
    let constructed_0 = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    };
    let mut outer = fields(enveloped.value())?;
    for field in &mut outer {
        if field.tag() != Tag::Sequence {
            continue;
        }
        let mut inner = fields(field.value())?;
        if let Some(last) = inner.last_mut().filter(|a| a.tag() == constructed_0) {
            let mut joined = Vec::new();
            for chunk in fields(last.value())? {
                joined.extend_from_slice(chunk.decode_as::<OctetString>()?.as_bytes());
            }
            *last = Any::new(
                Tag::ContextSpecific {
                    constructed: false,
                    number: TagNumber::N0,
                },
                joined,
            )?;
            *field = Any::from_der(&inner.to_der()?)?;
        }
    }
    outer.to_der()
}

/// Opens the EnvelopedData ContentInfo `der` with `recipient`'s key: the
/// key-transport recipient naming its certificate (or the only one).
/// Single DES is refused unless `allow_single_des`.
pub(super) fn open(
    der: &[u8],
    recipient: &ScepSigner,
    allow_single_des: bool,
) -> Result<(Zeroizing<Vec<u8>>, ContentCipher)> {
    let check = |reason: String| CertError::ScepBadMessageCheck { reason };
    let info = ContentInfo::from_der(der)
        .map_err(|e| check(format!("the signed content is not a CMS ContentInfo: {e}")))?;
    if info.content_type != ID_ENVELOPED_DATA {
        return Err(check(format!(
            "the signed content is {}, not envelopedData",
            info.content_type
        )));
    }
    let enveloped = info
        .content
        .decode_as::<EnvelopedData>()
        .or_else(|_| EnvelopedData::from_der(&primitive_encrypted_content(&info.content)?))
        .map_err(|e| check(format!("the EnvelopedData does not parse: {e}")))?;
    let ours = issuer_and_serial(recipient.x509());
    let ktris: Vec<&KeyTransRecipientInfo> = enveloped
        .recip_infos
        .0
        .iter()
        .filter_map(|ri| match ri {
            RecipientInfo::Ktri(k) => Some(k),
            _ => None,
        })
        .collect();
    let ktri = ktris
        .iter()
        .find(|k| matches!(&k.rid, RecipientIdentifier::IssuerAndSerialNumber(ias) if *ias == ours))
        .or_else(|| {
            if ktris.len() == 1 {
                ktris.first()
            } else {
                None
            }
        })
        .ok_or_else(|| {
            if ktris.is_empty() {
                CertError::ScepUnsupportedAlgorithm {
                    algorithm: "a recipient other than RSA key transport".into(),
                }
            } else {
                check("no recipient is this server's certificate".into())
            }
        })?;
    if ktri.key_enc_alg.oid != RSA_ENCRYPTION {
        return Err(CertError::ScepUnsupportedAlgorithm {
            algorithm: format!("key transport {}", ktri.key_enc_alg.oid),
        });
    }
    let alg = &enveloped.encrypted_content.content_enc_alg;
    let cipher = ContentCipher::from_oid(&alg.oid)
        .filter(|c| allow_single_des || *c != ContentCipher::DesCbc)
        .ok_or_else(|| CertError::ScepUnsupportedAlgorithm {
            algorithm: format!("content cipher {}", alg.oid),
        })?;
    let iv = alg
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .ok_or_else(|| check("the content cipher has no IV".into()))?;
    if iv.as_bytes().len() != cipher.iv_len() {
        return Err(check("the IV has the wrong length for the cipher".into()));
    }
    // PKCS #1 v1.5 with implicit rejection: a wrong key yields a random
    // content key, caught below by the padding check or the CSR's parse.
    let key = recipient
        .rsa()
        .decrypt(ktri.enc_key.as_bytes())
        .map_err(|_| check("the content key does not decrypt".into()))?;
    if key.len() != cipher.key_len() {
        return Err(check(
            "the content key has the wrong length for the cipher".into(),
        ));
    }
    let encrypted = enveloped
        .encrypted_content
        .encrypted_content
        .as_ref()
        .ok_or_else(|| check("the EnvelopedData has no encrypted content".into()))?;
    let plain = cipher.decrypt(&key, iv.as_bytes(), encrypted.as_bytes())?;
    Ok((plain, cipher))
}
