//! Reading PKCS#12 (RFC 7292) files with every cost bounded before it is paid.
//!
//! The file is parsed in full first: its size, the number of its parts, the
//! presence of a MAC, and the key-derivation parameters of the MAC and of
//! every encrypted part that can be seen without a password are checked
//! ([`crate::kdf`]). Only then is the MAC verified with the password, and
//! the encrypted parts decrypted (parts nested inside an encrypted part are
//! checked the same way before their own decryption).

use cbc::cipher::{BlockCipher, BlockDecryptMut, KeyInit, KeyIvInit as _, block_padding::Pkcs7};
use cms_02::cert::x509::attr::Attributes;
use cms_02::cert::x509::spki::AlgorithmIdentifierOwned;
use cms_02::content_info::ContentInfo;
use cms_02::encrypted_data::EncryptedData;
use hmac_012::Mac as _;
use pkcs5_07::der::asn1::{ContextSpecific, ObjectIdentifier, OctetString};
use pkcs5_07::der::{AnyRef, Decode as _, Encode as _, Tag, Tagged as _};
use pkcs12::cert_type::CertBag;
use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
use pkcs12::mac_data::MacData;
use pkcs12::pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams};
use pkcs12::pfx::Pfx;
use pkcs12::safe_bag::{SafeBag, SafeContents};
use zeroize::Zeroizing;

use crate::certificate::Certificate;
use crate::error::{CertError, Result};
use crate::identity::Pkcs12Contents;
use crate::kdf::{KdfBudget, KdfRequest, pbes2_request};
use crate::key::PrivateKey;

/// The largest PKCS#12 file read (256 KiB): an APNs certificate with its
/// key is about 4 KB, a client identity with a long chain a few tens.
pub const MAX_PKCS12_LEN: usize = 256 * 1024;

/// The most parts (content infos plus bags) one file may hold: OpenSSL
/// writes 2 content infos and one bag per certificate and key.
const MAX_PARTS: usize = 64;

const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const X509_CERT: ObjectIdentifier = pkcs12::PKCS_12_X509_CERT_OID;

/// A bag's `localKeyId` (if any) and what the bag held.
type Found<T> = (Option<Vec<u8>>, T);

/// One PKCS#12 read in progress: the file name, the password, the budget.
struct Reader<'a> {
    source_name: &'a str,
    password: &'a str,
    budget: KdfBudget,
    parts: usize,
    certs: Vec<Found<Certificate>>,
    keys: Vec<Found<Zeroizing<Vec<u8>>>>,
}

/// A decryption the file asks for, parsed but not yet run.
enum Cipher<'a> {
    Pbes2(pkcs5_07::pbes2::Parameters<'a>),
    Pkcs12Pbe {
        scheme: Pkcs12Scheme,
        salt: Vec<u8>,
        iterations: i32,
    },
}

#[derive(Clone, Copy)]
enum Pkcs12Scheme {
    TripleDes,
    Rc2_40,
    Rc2_128,
}

/// Reads `bytes` (see [`crate::Pkcs12::read`]).
pub(crate) fn read(bytes: &[u8], password: &str, source_name: &str) -> Result<Pkcs12Contents> {
    let mut reader = Reader {
        source_name,
        password,
        budget: KdfBudget::new(),
        parts: 0,
        certs: Vec::new(),
        keys: Vec::new(),
    };
    if bytes.len() > MAX_PKCS12_LEN {
        return Err(reader.invalid(format!(
            "{} bytes; a PKCS#12 file is at most {MAX_PKCS12_LEN}",
            bytes.len()
        )));
    }
    let pfx = Pfx::from_der(bytes).map_err(|e| reader.invalid(format!("not a PFX: {e}")))?;
    let mac = pfx.mac_data.as_ref().ok_or(CertError::Pkcs12WithoutMac {
        source_name: source_name.to_owned(),
    })?;
    let auth_safe = reader.data_octets(&pfx.auth_safe)?;
    let safes: Vec<ContentInfo> = Vec::from_der(auth_safe)
        .map_err(|e| reader.invalid(format!("bad authenticated safe: {e}")))?;
    reader.count(safes.len())?;

    // Everything visible without the password is checked before any
    // derivation: the MAC, each encrypted safe, each key bag in a plain safe.
    let mac_iterations = reader.iterations(mac.iterations)?;
    reader.budget.charge(
        KdfRequest::Pkcs12 {
            iterations: mac_iterations,
        },
        source_name,
    )?;
    let mut plain = Vec::new();
    let mut encrypted = Vec::new();
    for safe in &safes {
        if safe.content_type == DATA {
            let bags: SafeContents = SafeContents::from_der(reader.data_octets(safe)?)
                .map_err(|e| reader.invalid(format!("bad safe contents: {e}")))?;
            reader.count(bags.len())?;
            for bag in &bags {
                if let Some(info) = reader.shrouded_key(bag)? {
                    reader.charged_cipher(&info.encryption_algorithm)?;
                }
            }
            plain.push(bags);
        } else if safe.content_type == ENCRYPTED_DATA {
            let data = safe
                .content
                .to_der()
                .and_then(|der| EncryptedData::from_der(&der))
                .map_err(|e| reader.invalid(format!("bad encrypted data: {e}")))?;
            reader.charged_cipher(&data.enc_content_info.content_enc_alg)?;
            encrypted.push(data);
        } else {
            return Err(reader.invalid(format!("unsupported content type {}", safe.content_type)));
        }
    }

    reader.verify_mac(mac, auth_safe)?;

    for bags in &plain {
        reader.take_bags(bags, false)?;
    }
    for data in &encrypted {
        let Some(ciphertext) = data.enc_content_info.encrypted_content.as_ref() else {
            continue;
        };
        let (cipher, _charged) = reader.cipher(&data.enc_content_info.content_enc_alg)?;
        let clear = Zeroizing::new(reader.decrypt(&cipher, ciphertext.as_bytes())?);
        let bags = SafeContents::from_der(&clear)
            .map_err(|e| reader.invalid(format!("bad encrypted safe contents: {e}")))?;
        reader.count(bags.len())?;
        reader.take_bags(&bags, true)?;
    }
    reader.finish()
}

impl Reader<'_> {
    fn invalid(&self, reason: impl Into<String>) -> CertError {
        CertError::InvalidPkcs12 {
            source_name: self.source_name.to_owned(),
            reason: reason.into(),
        }
    }

    fn wrong_password(&self) -> CertError {
        CertError::Pkcs12PasswordWrong {
            source_name: self.source_name.to_owned(),
        }
    }

    fn count(&mut self, more: usize) -> Result<()> {
        self.parts = self.parts.saturating_add(more);
        if self.parts > MAX_PARTS {
            return Err(self.invalid(format!("more than {MAX_PARTS} parts")));
        }
        Ok(())
    }

    fn iterations(&self, count: i32) -> Result<u64> {
        u64::try_from(count)
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| self.invalid(format!("iteration count {count}")))
    }

    /// The octets of a `data` content info.
    fn data_octets<'c>(&self, info: &'c ContentInfo) -> Result<&'c [u8]> {
        if info.content_type != DATA || info.content.tag() != Tag::OctetString {
            return Err(self.invalid("the content is not an OCTET STRING of type data"));
        }
        Ok(info.content.value())
    }

    /// Parses an encryption algorithm: the decryption and the key
    /// derivation it will cost (charged by the caller before running it).
    fn cipher<'c>(&self, alg: &'c AlgorithmIdentifierOwned) -> Result<(Cipher<'c>, KdfRequest)> {
        let params = alg
            .parameters
            .as_ref()
            .ok_or_else(|| self.invalid(format!("{} without parameters", alg.oid)))?;
        if alg.oid == PBES2 {
            let pbes2 = pkcs5_07::pbes2::Parameters::try_from(AnyRef::from(params))
                .map_err(|e| self.invalid(format!("bad PBES2 parameters: {e}")))?;
            let request = pbes2_request(&pbes2)
                .ok_or_else(|| self.invalid("unsupported PBES2 key derivation"))?;
            return Ok((Cipher::Pbes2(pbes2), request));
        }
        let scheme = match alg.oid {
            pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC => Pkcs12Scheme::TripleDes,
            pkcs12::PKCS_12_PBEWITH_SHAAND40_BIT_RC2_CBC => Pkcs12Scheme::Rc2_40,
            pkcs12::PKCS_12_PBE_WITH_SHAAND128_BIT_RC2_CBC => Pkcs12Scheme::Rc2_128,
            other => return Err(self.invalid(format!("unsupported encryption {other}"))),
        };
        let pbe = params
            .decode_as::<Pkcs12PbeParams>()
            .map_err(|e| self.invalid(format!("bad PBE parameters: {e}")))?;
        let iterations = self.iterations(pbe.iterations)?;
        let cipher = Cipher::Pkcs12Pbe {
            scheme,
            salt: pbe.salt.as_bytes().to_vec(),
            iterations: pbe.iterations,
        };
        Ok((cipher, KdfRequest::Pkcs12 { iterations }))
    }

    /// Parses an encryption algorithm and charges its key derivation.
    fn charged_cipher<'c>(&mut self, alg: &'c AlgorithmIdentifierOwned) -> Result<Cipher<'c>> {
        let (cipher, request) = self.cipher(alg)?;
        self.budget.charge(request, self.source_name)?;
        Ok(cipher)
    }

    fn decrypt(&self, cipher: &Cipher<'_>, data: &[u8]) -> Result<Vec<u8>> {
        match cipher {
            Cipher::Pbes2(params) => params
                .decrypt(self.password.as_bytes(), data)
                .map_err(|_| self.wrong_password()),
            Cipher::Pkcs12Pbe {
                scheme,
                salt,
                iterations,
            } => {
                let run = match scheme {
                    Pkcs12Scheme::TripleDes => pbe_decrypt::<des::TdesEde3>,
                    Pkcs12Scheme::Rc2_40 | Pkcs12Scheme::Rc2_128 => pbe_decrypt::<rc2::Rc2>,
                };
                let key_len = match scheme {
                    Pkcs12Scheme::TripleDes => 24,
                    Pkcs12Scheme::Rc2_40 => 5,
                    Pkcs12Scheme::Rc2_128 => 16,
                };
                run(self.password, salt, *iterations, key_len, data)
                    .ok_or_else(|| self.wrong_password())
            }
        }
    }

    fn verify_mac(&self, mac: &MacData, signed: &[u8]) -> Result<()> {
        let salt = mac.mac_salt.as_bytes();
        let expected = mac.mac.digest.as_bytes();
        let ok = match mac.mac.algorithm.oid {
            SHA1 => {
                mac_matches::<sha1_010::Sha1>(self.password, salt, mac.iterations, signed, expected)
            }
            SHA256 => mac_matches::<sha2_010::Sha256>(
                self.password,
                salt,
                mac.iterations,
                signed,
                expected,
            ),
            other => return Err(self.invalid(format!("unsupported MAC digest {other}"))),
        };
        if ok {
            Ok(())
        } else {
            Err(self.wrong_password())
        }
    }

    /// The encrypted key of a `pkcs8ShroudedKeyBag`, if `bag` is one.
    fn shrouded_key(&self, bag: &SafeBag) -> Result<Option<EncryptedPrivateKeyInfo>> {
        if bag.bag_id != pkcs12::PKCS_12_PKCS8_KEY_BAG_OID {
            return Ok(None);
        }
        ContextSpecific::<EncryptedPrivateKeyInfo>::from_der(&bag.bag_value)
            .map(|cs| Some(cs.value))
            .map_err(|e| self.invalid(format!("bad shrouded key bag: {e}")))
    }

    /// Collects the certificates and keys of `bags`. Key bags in a plain
    /// safe were charged for before the MAC was checked; those found inside
    /// an encrypted safe (`nested`) are charged now.
    fn take_bags(&mut self, bags: &[SafeBag], nested: bool) -> Result<()> {
        for bag in bags {
            let local_key_id = local_key_id(bag.bag_attributes.as_ref());
            if let Some(info) = self.shrouded_key(bag)? {
                // A key bag in a plain safe was charged for in the first pass.
                let cipher = if nested {
                    self.charged_cipher(&info.encryption_algorithm)?
                } else {
                    self.cipher(&info.encryption_algorithm)?.0
                };
                let key = self.decrypt(&cipher, info.encrypted_data.as_bytes())?;
                self.keys.push((local_key_id, Zeroizing::new(key)));
            } else if bag.bag_id == pkcs12::PKCS_12_KEY_BAG_OID {
                let key = ContextSpecific::<pkcs5_07::der::Any>::from_der(&bag.bag_value)
                    .and_then(|cs| cs.value.to_der())
                    .map_err(|e| self.invalid(format!("bad key bag: {e}")))?;
                self.keys.push((local_key_id, Zeroizing::new(key)));
            } else if bag.bag_id == pkcs12::PKCS_12_CERT_BAG_OID {
                let cert_bag = ContextSpecific::<CertBag>::from_der(&bag.bag_value)
                    .map_err(|e| self.invalid(format!("bad certificate bag: {e}")))?
                    .value;
                if cert_bag.cert_id != X509_CERT {
                    return Err(
                        self.invalid(format!("unsupported certificate type {}", cert_bag.cert_id))
                    );
                }
                let cert =
                    Certificate::from_der_named(cert_bag.cert_value.as_bytes(), self.source_name)?;
                self.certs.push((local_key_id, cert));
            }
        }
        Ok(())
    }

    /// The end-entity certificate (the one with the first key, by local key
    /// id, else by public key), its key, and the other certificates in file
    /// order.
    fn finish(mut self) -> Result<Pkcs12Contents> {
        let Some((key_id, key_der)) = self.keys.first() else {
            if self.certs.is_empty() {
                return Err(self.invalid("no certificate inside"));
            }
            let certificate = self.certs.remove(0).1;
            let chain = self.certs.into_iter().map(|(_, c)| c).collect();
            return Ok(Pkcs12Contents {
                certificate,
                key: None,
                chain,
            });
        };
        let key = PrivateKey::from_pkcs8_der(key_der).ok();
        let position = self
            .certs
            .iter()
            .position(|(id, _)| key_id.is_some() && id == key_id)
            .or_else(|| {
                let key = key.as_ref()?;
                self.certs.iter().position(|(_, c)| c.matches_key(key))
            })
            .ok_or_else(|| self.invalid("a key without a certificate"))?;
        let certificate = self.certs.remove(position).1;
        if let Some(k) = &key
            && !certificate.matches_key(k)
        {
            return Err(self.invalid("the key does not match the certificate"));
        }
        Ok(Pkcs12Contents {
            certificate,
            key,
            chain: self.certs.into_iter().map(|(_, c)| c).collect(),
        })
    }
}

/// The `localKeyId` bag attribute.
fn local_key_id(attributes: Option<&Attributes>) -> Option<Vec<u8>> {
    attributes?
        .iter()
        .find(|a| a.oid == LOCAL_KEY_ID)?
        .values
        .iter()
        .next()?
        .decode_as::<OctetString>()
        .ok()
        .map(OctetString::into_bytes)
}

/// RFC 7292 appendix B.2 key and IV, then CBC with PKCS#7 padding; `None`
/// when the padding is wrong (a wrong password) or the password has no
/// BMP encoding.
fn pbe_decrypt<C>(
    password: &str,
    salt: &[u8],
    iterations: i32,
    key_len: usize,
    data: &[u8],
) -> Option<Vec<u8>>
where
    C: BlockDecryptMut + BlockCipher + KeyInit,
{
    let kdf = |kind, len| derive_key_utf8::<sha1_010::Sha1>(password, salt, kind, iterations, len);
    let key = Zeroizing::new(kdf(Pkcs12KeyType::EncryptionKey, key_len).ok()?);
    let iv = kdf(Pkcs12KeyType::Iv, 8).ok()?;
    cbc::Decryptor::<C>::new_from_slices(&key, &iv)
        .ok()?
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .ok()
}

/// Whether the RFC 7292 MAC (HMAC keyed by the PKCS#12 KDF) matches.
fn mac_matches<D>(
    password: &str,
    salt: &[u8],
    iterations: i32,
    signed: &[u8],
    expected: &[u8],
) -> bool
where
    D: sha2_010::Digest
        + sha2_010::digest::FixedOutputReset
        + sha2_010::digest::core_api::BlockSizeUser,
{
    let size = <D as sha2_010::Digest>::output_size();
    let Ok(key) = derive_key_utf8::<D>(password, salt, Pkcs12KeyType::Mac, iterations, size) else {
        return false;
    };
    let key = Zeroizing::new(key);
    let Ok(mut mac) = <hmac_012::SimpleHmac<D> as KeyInit>::new_from_slice(&key) else {
        return false;
    };
    mac.update(signed);
    mac.verify_slice(expected).is_ok()
}
