//! Private keys in PEM: every form an admin brings beside a certificate.
//!
//! | label | what | encrypted |
//! | --- | --- | --- |
//! | `PRIVATE KEY` | PKCS#8 (RFC 5208), P-256 or RSA | no |
//! | `ENCRYPTED PRIVATE KEY` | PKCS#8 (RFC 5958), PBES2 or scrypt | by its own scheme, each key-derivation parameter checked first |
//! | `RSA PRIVATE KEY` | PKCS#1 (RFC 8017) | optionally, the old OpenSSL way |
//! | `EC PRIVATE KEY` | SEC1 (RFC 5915), P-256 | optionally, the old OpenSSL way |
//!
//! "The old OpenSSL way" is what OpenSSL 1.x and `openssl rsa -aes256
//! -traditional` write: headers `Proc-Type: 4,ENCRYPTED` and `DEK-Info:
//! <cipher>,<iv in hex>` before the body, the key derived from the password
//! by `EVP_BytesToKey` (MD5, one round, salted with the IV's first 8 bytes).
//! AES-128/192/256-CBC and DES-EDE3-CBC are read; anything else is refused
//! with the command that converts it.

use core::fmt;

use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest as _, Md5};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{CertError, Result};
use crate::key::PrivateKey;
use crate::pem::{self, PemBlock};

/// PBKDF2-HMAC-SHA256 iterations for an encrypted PKCS#8 key (OWASP 2023 figure).
const PBKDF2_ITERATIONS: u32 = 600_000;

/// Whether a PEM label names a private key (of any kind, read here or not).
pub(crate) fn is_private_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

impl PrivateKey {
    /// Reads the first private key in `pem` (other blocks, such as
    /// certificates, are skipped): `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE
    /// KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC1,
    /// P-256), the last two also old-style encrypted (`Proc-Type:
    /// 4,ENCRYPTED`, AES-CBC or DES-EDE3-CBC). An encrypted key needs
    /// `password` ([`CertError::KeyPasswordRequired`], else
    /// [`CertError::KeyPasswordWrong`]); another label ending in `PRIVATE
    /// KEY` is [`CertError::UnsupportedKeyFormat`], another cipher
    /// [`CertError::UnsupportedPemCipher`].
    pub fn from_pem(pem: &str, password: Option<&str>) -> Result<Self> {
        for block in pem::blocks(pem.as_bytes()) {
            let block = block.map_err(|reason| CertError::InvalidPrivateKey {
                reason: format!("bad PEM: {reason}"),
            })?;
            if is_private_key_label(block.label) {
                return read_key_block(&block, password);
            }
        }
        Err(CertError::InvalidPrivateKey {
            reason: "no `-----BEGIN … PRIVATE KEY-----` block in the PEM text".into(),
        })
    }

    /// Reads a PKCS#8 PEM key, what [`Self::to_pkcs8_pem`] writes: `PRIVATE
    /// KEY`, or `ENCRYPTED PRIVATE KEY` with `password`; the first block must
    /// be the key. [`Self::from_pem`] reads the older forms too.
    pub fn from_pkcs8_pem(pem: &str, password: Option<&str>) -> Result<Self> {
        let block = pem::blocks(pem.as_bytes())
            .next()
            .unwrap_or_else(|| Err("no `-----BEGIN PRIVATE KEY-----` line".into()))
            .map_err(|reason| CertError::InvalidPrivateKey {
                reason: format!("bad PEM: {reason}"),
            })?;
        match block.label {
            "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => read_key_block(&block, password),
            other => Err(CertError::UnsupportedKeyFormat {
                label: other.to_owned(),
            }),
        }
    }
}

impl PrivateKey {
    /// Writes the key as PKCS#8 PEM. With a password, as an `ENCRYPTED PRIVATE
    /// KEY` (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC, salt and IV from `rng`).
    pub fn to_pkcs8_pem<R: CryptoRng + ?Sized>(
        &self,
        password: Option<&str>,
        rng: &mut R,
    ) -> Result<Zeroizing<String>> {
        self.to_pkcs8_pem_with_iterations(password, PBKDF2_ITERATIONS, rng)
    }

    /// As [`Self::to_pkcs8_pem`], with `iterations` PBKDF2 rounds (tests use
    /// few; production keeps the default).
    pub(crate) fn to_pkcs8_pem_with_iterations<R: CryptoRng + ?Sized>(
        &self,
        password: Option<&str>,
        iterations: u32,
        rng: &mut R,
    ) -> Result<Zeroizing<String>> {
        let fail = |e: &dyn fmt::Display| CertError::Signing {
            artifact: "PKCS#8 PEM",
            reason: e.to_string(),
        };
        match password {
            None => {
                let doc = pkcs8::SecretDocument::try_from(self.pkcs8_der_secret().as_slice())
                    .map_err(|e| fail(&e))?;
                doc.to_pem("PRIVATE KEY", pkcs8::LineEnding::LF)
                    .map_err(|e| fail(&e))
            }
            Some(password) => {
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                rng.fill_bytes(&mut salt);
                rng.fill_bytes(&mut iv);
                let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                    iterations, &salt, iv,
                )
                .map_err(|e| fail(&e))?;
                let info = pkcs8::PrivateKeyInfoRef::try_from(self.pkcs8_der_secret().as_slice())
                    .map_err(|e| fail(&e))?;
                let doc = info
                    .encrypt_with_params(params, password.as_bytes())
                    .map_err(|e| fail(&e))?;
                doc.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
                    .map_err(|e| fail(&e))
            }
        }
    }
}

/// Reads the key in `block` (a label [`is_private_key_label`] accepts).
pub(crate) fn read_key_block(block: &PemBlock<'_>, password: Option<&str>) -> Result<PrivateKey> {
    let encrypted = match block.header("Proc-Type") {
        None => false,
        Some(value) if value.replace(' ', "") == "4,ENCRYPTED" => true,
        Some(value) => {
            return Err(CertError::InvalidPrivateKey {
                reason: format!(
                    "the PEM header `Proc-Type: {value}` is not `Proc-Type: 4,ENCRYPTED`, the only one accepted"
                ),
            });
        }
    };
    let der = block.contents.as_slice();
    match (block.label, encrypted) {
        ("PRIVATE KEY", false) => PrivateKey::from_pkcs8_der(der),
        ("ENCRYPTED PRIVATE KEY", false) => read_encrypted_pkcs8(der, password),
        ("RSA PRIVATE KEY", false) => PrivateKey::from_pkcs1_der(der),
        ("EC PRIVATE KEY", false) => PrivateKey::from_sec1_der(der),
        (label @ ("RSA PRIVATE KEY" | "EC PRIVATE KEY"), true) => {
            let password = password.ok_or(CertError::KeyPasswordRequired)?;
            let plain = decrypt_legacy(block, password)?;
            let key = if label == "RSA PRIVATE KEY" {
                PrivateKey::from_pkcs1_der(&plain)
            } else {
                PrivateKey::from_sec1_der(&plain)
            };
            // A wrong password can decrypt to padding-valid garbage.
            key.map_err(|_| CertError::KeyPasswordWrong)
        }
        (label, _) => Err(CertError::UnsupportedKeyFormat {
            label: label.to_owned(),
        }),
    }
}

/// An `ENCRYPTED PRIVATE KEY` (PKCS#8 `EncryptedPrivateKeyInfo`).
fn read_encrypted_pkcs8(der: &[u8], password: Option<&str>) -> Result<PrivateKey> {
    let password = password.ok_or(CertError::KeyPasswordRequired)?;
    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der).map_err(|e| {
        CertError::InvalidPrivateKey {
            reason: format!("not a PKCS#8 EncryptedPrivateKeyInfo (RFC 5958): {e}"),
        }
    })?;
    // The file chooses its key-derivation cost: check every parameter
    // (PBKDF2 iterations, scrypt N, r, p) first.
    crate::kdf::pkcs5_request(&info.encryption_algorithm)
        .ok_or_else(|| CertError::InvalidPrivateKey {
            reason: "unsupported key encryption scheme: PBES2 (PBKDF2 or scrypt, with AES-CBC) is read; convert the key with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
        })?
        .check("the private key")?;
    let plain = info
        .decrypt(password.as_bytes())
        .map_err(|_| CertError::KeyPasswordWrong)?;
    // A wrong password can decrypt to padding-valid garbage: that is still a
    // wrong password, not a broken file.
    PrivateKey::from_pkcs8_der(plain.as_bytes()).map_err(|_| CertError::KeyPasswordWrong)
}

/// The ciphers of old-style encrypted PEM read here.
#[derive(Clone, Copy)]
enum LegacyCipher {
    Aes128,
    Aes192,
    Aes256,
    TripleDes,
}

impl LegacyCipher {
    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "AES-128-CBC" => Some(Self::Aes128),
            "AES-192-CBC" => Some(Self::Aes192),
            "AES-256-CBC" => Some(Self::Aes256),
            "DES-EDE3-CBC" => Some(Self::TripleDes),
            _ => None,
        }
    }

    /// (key length, IV length) in bytes.
    fn sizes(self) -> (usize, usize) {
        match self {
            Self::Aes128 => (16, 16),
            Self::Aes192 => (24, 16),
            Self::Aes256 => (32, 16),
            Self::TripleDes => (24, 8),
        }
    }
}

/// The body of an old-style encrypted block, decrypted with `password`.
fn decrypt_legacy(block: &PemBlock<'_>, password: &str) -> Result<Zeroizing<Vec<u8>>> {
    let invalid = |reason: String| CertError::InvalidPrivateKey { reason };
    let dek = block.header("DEK-Info").ok_or_else(|| {
        invalid("`Proc-Type: 4,ENCRYPTED` needs a `DEK-Info: <cipher>,<iv in hex>` header".into())
    })?;
    let (name, iv_hex) = dek.split_once(',').ok_or_else(|| {
        invalid(format!(
            "`DEK-Info: {dek}` is not of the form `<cipher>,<iv in hex>`"
        ))
    })?;
    let cipher =
        LegacyCipher::from_name(name.trim()).ok_or_else(|| CertError::UnsupportedPemCipher {
            cipher: name.trim().to_owned(),
        })?;
    let (key_len, iv_len) = cipher.sizes();
    let iv = hex::decode(iv_hex.trim())
        .ok()
        .filter(|iv| iv.len() == iv_len)
        .ok_or_else(|| {
            invalid(format!(
                "the IV in `DEK-Info: {dek}` must be {iv_len} bytes in hex ({} digits)",
                iv_len * 2
            ))
        })?;
    let key = evp_bytes_to_key(password.as_bytes(), &iv[..8], key_len);
    let body = block.contents.as_slice();
    let plain = match cipher {
        LegacyCipher::Aes128 => cbc_decrypt::<aes::Aes128>(&key, &iv, body),
        LegacyCipher::Aes192 => cbc_decrypt::<aes::Aes192>(&key, &iv, body),
        LegacyCipher::Aes256 => cbc_decrypt::<aes::Aes256>(&key, &iv, body),
        LegacyCipher::TripleDes => cbc_decrypt::<des::TdesEde3>(&key, &iv, body),
    };
    // Bad padding is what a wrong password gives.
    plain.ok_or(CertError::KeyPasswordWrong)
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>>
where
    C: cbc::cipher::BlockCipher + cbc::cipher::BlockDecryptMut + cbc::cipher::KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .ok()
        .map(Zeroizing::new)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round: `D_i = MD5(D_{i-1} ||
/// password || salt)`, concatenated until `len` bytes.
fn evp_bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous = Zeroizing::new(Vec::new());
    while key.len() < len {
        let mut md5 = Md5::new();
        md5.update(previous.as_slice());
        md5.update(password);
        md5.update(salt);
        *previous = md5.finalize().to_vec();
        key.extend_from_slice(&previous);
    }
    key.truncate(len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyAlgorithm;
    use crate::key::test_keys::rng;

    #[test]
    fn encrypted_pem_needs_the_right_password() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(2)).unwrap();
        let pem = key
            .to_pkcs8_pem_with_iterations(Some("correct horse"), 2_000, &mut rng(3))
            .unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert!(matches!(
            PrivateKey::from_pkcs8_pem(&pem, None),
            Err(CertError::KeyPasswordRequired)
        ));
        assert!(matches!(
            PrivateKey::from_pkcs8_pem(&pem, Some("wrong")),
            Err(CertError::KeyPasswordWrong)
        ));
        let (_, doc) = pkcs8::SecretDocument::from_pem(&pem).unwrap();
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes()).unwrap();
        assert_eq!(
            crate::kdf::pkcs5_request(&info.encryption_algorithm),
            Some(crate::kdf::KdfRequest::Pbkdf2 { iterations: 2_000 })
        );
        let back = PrivateKey::from_pkcs8_pem(&pem, Some("correct horse")).unwrap();
        assert_eq!(back.public_key_raw(), key.public_key_raw());
    }

    #[test]
    fn evp_bytes_to_key_is_openssls() {
        // `openssl enc -aes-256-cbc -P -md md5 -pass pass:password -S 0001020304050607`
        let key = evp_bytes_to_key(b"password", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        assert_eq!(
            hex::encode(key.as_slice()),
            "b03096345e805d3aa4392d2e72791dfb13e12d3f61094a3fc347ace86b99ada6"
        );
    }
}
